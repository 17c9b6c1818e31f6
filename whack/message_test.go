package whack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fullMessage sets every field that is sent (checked by
// TestFullMessageIsFull), consistently enough to pass Validate.
func fullMessage() *Message {
	return &Message{
		Label:         "label",
		Name:          "full",
		HasConnection: true,
		ConnDesc: ConnDesc{
			Left: End{Host: "192.0.2.1", ID: "@west", Cert: "west.pem", CA: "CN=CA", Groups: "g",
				SendCert: "ifasked", CertType: 4, IKEPort: 500, NextHop: "192.0.2.254",
				Client: "10.1.0.0/24", ClientProtoPort: "tcp/http", SrcIP: "10.1.0.1",
				Updown: "ipsec _updown", DNSKeyOnDemand: true, XauthServer: true, ModecfgServer: true},
			Right: End{Host: "192.0.2.2", ClientWithin: "10.2.0.0/16", ClientProtoPort: "6/%any",
				XauthClient: true, ModecfgClient: true, XauthName: "alice", AddressPool: "10.9.0.5"},
			AddrFamily: "ipv4",
			PSK:        true, RSASig: true, Encrypt: true, Authenticate: true, Compress: true,
			Tunnel: true, PFS: true, DisableArrivalCheck: true, DontRekey: true, AggrMode: true,
			ModecfgPull: true, ForceEncaps: true, Shunt: "drop", Fail: "pass",
			IKE: "aes128-sha1-modp2048", ESP: "3des-md5;modp1024", PFSGroup: "modp1536",
			IKELifetime: time.Hour, IPsecLifetime: 8 * time.Hour, RekeyMargin: new(9 * time.Minute),
			RekeyFuzz: new(100), KeyingTries: new(0),
			DPDDelay: 30 * time.Second, DPDTimeout: 120 * time.Second, DPDAction: "hold",
			ModecfgDNS1: "192.0.2.53", ModecfgDNS2: "192.0.2.54", ModecfgWINS1: "192.0.2.55",
			ModecfgWINS2: "192.0.2.56", Metric: 5, MTU: 1400,
		},
		TunnelAddrFamily: "ipv4",
		KeyID:            "@east", AddKey: true, PubKeyRSA: "0sAQOhU4Bu",
		MyID:  "@west",
		Route: true, Unroute: true, Initiate: true, Terminate: true, Delete: true,
		DeleteState: 7, Crash: "192.0.2.9", OppoHere: "10.1.0.1", OppoThere: "10.2.0.1",
		Asynchronous: true, XauthName: "joe", XauthPass: "pw <&>", Listen: true, Unlisten: true,
		List: []string{"pubkeys", "all"}, UTC: true, Reread: []string{"secrets"}, PurgeOCSP: true,
		Status: true, JSON: true, Shutdown: true, Debug: []string{"none", "raw"}, Impair: []string{"bust-mi2"},
		WhackRecord: "/tmp/rec", WhackStopRecord: true,
	}
}

func TestFullMessageIsFull(t *testing.T) {
	m := fullMessage()
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Tag.Get("json") == "-" {
				continue
			}
			fv := v.Field(i)
			switch {
			case f.Type == reflect.TypeFor[End]():
				// Left and Right together set every End field.
			case f.Anonymous:
				walk(fv, path+f.Name+".")
			case fv.IsZero():
				t.Errorf("fullMessage leaves %s%s unset", path, f.Name)
			}
		}
	}
	walk(reflect.ValueOf(m).Elem(), "")
	l, r := reflect.ValueOf(m.Left), reflect.ValueOf(m.Right)
	for i := 0; i < l.NumField(); i++ {
		if l.Field(i).IsZero() && r.Field(i).IsZero() {
			t.Errorf("fullMessage leaves End.%s unset on both ends", l.Type().Field(i).Name)
		}
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, m := range []*Message{fullMessage(), westEastMessage(), {Status: true}, {}} {
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if string(b[:4]) != Magic || int(binary.BigEndian.Uint32(b[4:8])) != len(b)-HeaderSize {
			t.Fatalf("bad framing % x", b[:8])
		}
		var buf bytes.Buffer
		if err := WriteMessage(&buf, m); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), b) {
			t.Fatal("WriteMessage and Marshal differ")
		}
		buf.WriteString("040 answer follows\n")
		got, err := ReadMessage(&buf)
		if err != nil {
			t.Fatalf("ReadMessage: %v\n%s", err, b[8:])
		}
		same(t, m, got)
		if rest := buf.String(); rest != "040 answer follows\n" {
			t.Errorf("ReadMessage consumed bytes after the message; left %q", rest)
		}
	}
}

func TestMarshalLeavesOutLocalFields(t *testing.T) {
	m := &Message{Status: true, Ctlbase: "/secret/path", Help: true, Version: true}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(b[8:]) != `{"status":true}` {
		t.Errorf("body = %s", b[8:])
	}
}

func TestMarshalOversize(t *testing.T) {
	m := &Message{Status: true, Debug: make([]string, MaxMessageSize/4)}
	for i := range m.Debug {
		m.Debug[i] = "raw"
	}
	if _, err := m.Marshal(); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("Marshal of a huge message: %v", err)
	}
}

func frame(magic string, body string) []byte {
	b := []byte(magic)
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

func TestReadMessageRejects(t *testing.T) {
	oversize := []byte(Magic)
	oversize = binary.BigEndian.AppendUint32(oversize, MaxMessageSize+1)
	oversize = append(oversize, bytes.Repeat([]byte(" "), MaxMessageSize+1)...)

	tests := []struct {
		name  string
		input []byte
		is    error
		text  string // exact, or a prefix when it ends in "…"
	}{
		{"empty", nil, ErrRunt, "ignoring runt message from whack (0 bytes, need at least 8)"},
		{"runt", []byte("GSW"), ErrRunt, "ignoring runt message from whack (3 bytes, need at least 8)"},
		{"runt header", []byte("GSW1\x00\x00\x00"), ErrRunt, "ignoring runt message from whack (7 bytes, need at least 8)"},
		{"short body", frame(Magic, `{"status":true}`)[:12], ErrRunt,
			"ignoring runt message from whack (body of 4 bytes, length says 15)"},
		{"bad magic", frame("GSW2", `{}`), ErrBadMagic,
			`ignoring message from whack with bad magic "GSW2"; should be "GSW1"`},
		{"openswan magic", append([]byte{0x6f, 0x68, 0x6b, 0x26}, make([]byte, 100)...), ErrBadMagic,
			`ignoring message from whack with bad magic "ohk&"; should be "GSW1"`},
		{"oversize", oversize, ErrOversize, "ignoring oversize message from whack (65537 bytes, limit 65536)"},
		{"bad JSON", frame(Magic, `{"status":`), ErrMalformed,
			"ignoring malformed message from whack: …"},
		{"not an object", frame(Magic, `[1]`), ErrMalformed,
			"ignoring malformed message from whack: json: …"},
		{"unknown field", frame(Magic, `{"status":true,"bogus":1}`), ErrMalformed,
			`ignoring malformed message from whack: json: unknown field "bogus"`},
		{"trailing data", frame(Magic, `{"status":true}{}`), ErrMalformed,
			"ignoring malformed message from whack: data after the JSON object"},
		{"wrong type", frame(Magic, `{"status":"yes"}`), ErrMalformed,
			"ignoring malformed message from whack: json: …"},
		{"bad field", frame(Magic, `{"connection":true,"name":"c","left":{"host":"192.0.2.1","ikeport":70000},"right":{"host":"%any"},"psk":true}`),
			ErrMalformed, "ignoring malformed message from whack: left --ikeport: 70000 is not a port number (1-65535)"},
		{"bad subnet", frame(Magic, `{"connection":true,"name":"c","left":{"host":"192.0.2.1","client":"10.1.0.1/24"},"right":{"host":"%any"},"psk":true,"encrypt":true}`),
			ErrMalformed, `ignoring malformed message from whack: left --client: "10.1.0.1/24" has host bits set (the subnet is 10.1.0.0/24)`},
		{"connection fields without connection", frame(Magic, `{"psk":true,"status":true}`), ErrMalformed,
			"ignoring malformed message from whack: connection description without a connection (--to)"},
		{"one host", frame(Magic, `{"connection":true,"name":"c","left":{"host":"192.0.2.1"},"psk":true}`), ErrMalformed,
			"ignoring malformed message from whack: connection description requires --host on both ends"},
		{"initiate without name", frame(Magic, `{"initiate":true}`), ErrMalformed,
			"ignoring malformed message from whack: --initiate requires --name"},
		{"unknown debug", frame(Magic, `{"debug":["everything"]}`), ErrMalformed,
			`ignoring malformed message from whack: unknown debug option "everything"`},
		{"negative duration", frame(Magic, `{"connection":true,"name":"c","left":{"host":"192.0.2.1"},"right":{"host":"%any"},"psk":true,"ikelifetime":-1}`),
			ErrMalformed, "ignoring malformed message from whack: --ikelifetime: -1ns is not a whole number of seconds between 0 and 2147483648"},
		{"control character", frame(Magic, `{"name":"a\u0007","initiate":true}`), ErrMalformed,
			`ignoring malformed message from whack: --name: "a\a" contains a control character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadMessage(bytes.NewReader(tt.input))
			if err == nil {
				t.Fatalf("ReadMessage accepted %+v", m)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if prefix, ok := strings.CutSuffix(tt.text, "…"); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("error\n got %q\nwant %q", err, tt.text)
				}
			} else if err.Error() != tt.text {
				t.Errorf("error\n got %q\nwant %q", err, tt.text)
			}
		})
	}
}

// An oversize message is rejected from its header, without reading the body.
func TestReadMessageOversizeReadsOnlyHeader(t *testing.T) {
	hdr := binary.BigEndian.AppendUint32([]byte(Magic), 1<<31)
	r := &countingReader{r: io.MultiReader(bytes.NewReader(hdr), neverEnding{})}
	if _, err := ReadMessage(r); !errors.Is(err, ErrOversize) {
		t.Fatalf("got %v", err)
	}
	if r.n != HeaderSize {
		t.Errorf("read %d bytes, want %d", r.n, HeaderSize)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type neverEnding struct{}

func (neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestReadMessageIOError(t *testing.T) {
	boom := errors.New("boom")
	_, err := ReadMessage(io.MultiReader(bytes.NewReader([]byte("GS")), errReader{boom}))
	if !errors.Is(err, boom) || errors.Is(err, ErrRunt) {
		t.Errorf("got %v, want the I/O error", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestReadAnswer(t *testing.T) {
	r := strings.NewReader("s3cret\r\nnext")
	got, err := ReadAnswer(r)
	if err != nil || got != "s3cret" {
		t.Fatalf("ReadAnswer = %q, %v", got, err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "next" {
		t.Errorf("ReadAnswer consumed too much; left %q", rest)
	}
	if _, err := ReadAnswer(strings.NewReader("no newline")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("unterminated answer: %v", err)
	}
	if _, err := ReadAnswer(strings.NewReader(strings.Repeat("x", MaxAnswer+1) + "\n")); err == nil {
		t.Error("overlong answer accepted")
	}
}

func TestHelpers(t *testing.T) {
	m := &Message{List: []string{"all"}, Reread: []string{"cacerts"}}
	if !m.WantsList("certs") || !m.WantsReread("cacerts") || m.WantsReread("secrets") {
		t.Error("WantsList/WantsReread")
	}
	if (&Message{List: []string{"checkpubkeys"}}).WantsList("pubkeys") != true {
		t.Error("checkpubkeys implies pubkeys")
	}
	if got := (&Message{}).SocketPath(); got != "/var/run/pluto/pluto.ctl" {
		t.Errorf("SocketPath = %q", got)
	}
	if got := (&Message{Ctlbase: "/tmp/x"}).SocketPath(); got != "/tmp/x.ctl" {
		t.Errorf("SocketPath = %q", got)
	}
	key, err := (&Message{PubKeyRSA: "0x01_03ff"}).PubKey()
	if err != nil || !bytes.Equal(key, []byte{1, 3, 0xff}) {
		t.Errorf("PubKey = %x, %v", key, err)
	}
	pp, err := ParseProtoPort("udp/l2tp")
	if err != nil || pp != (ProtoPort{Proto: 17, Port: 1701}) {
		t.Errorf("ParseProtoPort(udp/l2tp) = %+v, %v", pp, err)
	}
	pp, err = ParseProtoPort("tcp/%any")
	if err != nil || pp != (ProtoPort{Proto: 6, AnyPort: true}) {
		t.Errorf("ParseProtoPort(tcp/%%any) = %+v, %v", pp, err)
	}
}

func FuzzReadMessage(f *testing.F) {
	for _, m := range []*Message{fullMessage(), westEastMessage(), {Status: true}, {Name: "x", Initiate: true}} {
		b, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("GSW1"))
	f.Add(frame("GSW2", "{}"))
	f.Add(frame(Magic, `{"status":`))
	f.Add(frame(Magic, `{"left":{"host":"::"},"connection":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMessage(bytes.NewReader(data))
		if err != nil {
			if m != nil {
				t.Fatal("message and error")
			}
			return
		}
		// What pluto accepts, whack could have sent: it survives a round trip.
		b, err := m.Marshal()
		if err != nil {
			if strings.Contains(err.Error(), "too large") {
				return // re-encoding can grow (invalid UTF-8 becomes U+FFFD)
			}
			t.Fatal(err)
		}
		m2, err := ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("re-encoded message rejected: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip differs:\n%+v\n%+v", m, m2)
		}
	})
}
