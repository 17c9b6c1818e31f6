package pluto

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"goswan/fsm"
	"goswan/ikedump"
	"goswan/ikedump/capture"
	"goswan/whack"
)

// packetTap records every IKE message the daemons send, in order: a
// capture of the exchange that needs no root.
type packetTap struct {
	mu   sync.Mutex
	pkts []capture.Packet
}

func (p *packetTap) add(b []byte, from, to netip.AddrPort) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pkts = append(p.pkts, capture.Packet{Index: len(p.pkts), Frame: len(p.pkts) + 1, Src: from, Dst: to,
		Data: append([]byte(nil), b...)})
}

// hexFile writes the packets in the messages.hex layout ikedump reads.
func (p *packetTap) hexFile(t *testing.T, path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for i, pk := range p.pkts {
		fmt.Fprintf(&b, "# frame %d  %s -> %s  ike  %d bytes\n", i+1, pk.Src, pk.Dst, len(pk.Data))
		h := hex.EncodeToString(pk.Data)
		for len(h) > 64 {
			b.WriteString(h[:64] + "\n")
			h = h[64:]
		}
		b.WriteString(h + "\n\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tapEnv is the daemon as the machine's Env, with Send recorded. Embedding
// keeps every other method, LogKeys included.
type tapEnv struct {
	*Daemon
	tap *packetTap
}

func (e *tapEnv) Send(b []byte, from, to netip.AddrPort) {
	e.tap.add(b, from, to)
	e.Daemon.Send(b, from, to)
}

// startDaemonWith is startDaemon with the configuration adjusted by edit
// and, when tap is not nil, every sent message recorded.
func startDaemonWith(t *testing.T, ip string, port int, secrets string, tap *packetTap, edit func(*Config)) *testDaemon {
	t.Helper()
	dir := t.TempDir()
	sf := filepath.Join(dir, "ipsec.secrets")
	if err := os.WriteFile(sf, []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	td := &testDaemon{ctlbase: filepath.Join(dir, "pluto"), addr: ip, port: port,
		log: &syncBuffer{}, done: make(chan struct{})}
	cfg := Config{IKEPort: td.port, Ctlbase: td.ctlbase, SecretsFile: sf, Machine: fsm.DefaultConfig,
		Log: NewStderrLogger(td.log), Listen: []netip.Addr{mustAddr(ip)}}
	if edit != nil {
		edit(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tap != nil {
		d.m = fsm.NewMachine(&tapEnv{Daemon: d, tap: tap}, d.cfg.Machine)
	}
	td.d = d
	go func() { d.Run(); close(td.done) }()
	t.Cleanup(func() {
		d.Shutdown()
		select {
		case <-td.done:
		case <-time.After(5 * time.Second):
			t.Error("daemon did not stop")
		}
	})
	return td
}

// keyLogFile is a parsed --keylog file.
type keyLogFile struct {
	ikev1 []string // ICOOKIE,ENCKEY
	esp   [][]string
	gxy   []string
}

var (
	ikev1LineRE = regexp.MustCompile(`^[0-9a-f]{16},[0-9a-f]+$`)
	espLineRE   = regexp.MustCompile(`^"(IPv4|IPv6)","([^"]+)","([^"]+)","0x([0-9a-f]{8})","([^"]+)","0x([0-9a-f]*)","([^"]+)","0x([0-9a-f]*)"$`)
)

func readKeyLog(t *testing.T, path string) keyLogFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kf keyLogFile
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "# ikedump --gxy "):
			kf.gxy = append(kf.gxy, strings.TrimPrefix(l, "# ikedump --gxy "))
		case strings.HasPrefix(l, "#"):
		case ikev1LineRE.MatchString(l):
			kf.ikev1 = append(kf.ikev1, l)
		case espLineRE.MatchString(l):
			kf.esp = append(kf.esp, espLineRE.FindStringSubmatch(l)[1:])
		default:
			t.Errorf("keylog line not understood: %q", l)
		}
	}
	return kf
}

// twoDaemonsWithKeyLog negotiates west-east with PFS (aes128-sha1,
// modp2048) between two daemons; west logs keys and serves metrics, both
// are tapped. The ports are given (0: free ones).
func twoDaemonsWithKeyLog(t *testing.T, westPort, eastPort int) (west, east *testDaemon, tap *packetTap, keylog, transcript string) {
	t.Helper()
	if westPort == 0 {
		westPort = freePort(t, "127.0.0.1")
	}
	if eastPort == 0 {
		eastPort = freePort(t, "127.0.0.2")
	}
	tap = &packetTap{}
	keylog = filepath.Join(t.TempDir(), "keys.log")
	west = startDaemonWith(t, "127.0.0.1", westPort, psk, tap, func(c *Config) {
		c.KeyLog = keylog
		c.Metrics = "127.0.0.1:0"
	})
	east = startDaemonWith(t, "127.0.0.2", eastPort, psk, tap, nil)
	algs := []string{"--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1", "--pfs"}
	addConn(t, west, west, east, algs...)
	addConn(t, east, west, east, algs...)
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 0 {
		t.Fatalf("initiate exit %d:\n%s\nwest log:\n%s\neast log:\n%s", code, out, west.log, east.log)
	}
	checkTranscript(t, out)
	return west, east, tap, keylog, out
}

// TestKeyLogDecryptsOwnExchange: the keylog of our own exchange lets
// ikedump decrypt every message of the recorded packets and verify every
// hash; the Wireshark lines carry the same keys ikedump derives.
func TestKeyLogDecryptsOwnExchange(t *testing.T) {
	west, east, tap, keylog, _ := twoDaemonsWithKeyLog(t, 0, 0)
	fi, err := os.Stat(keylog)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("keylog mode %v, want 0600", fi.Mode().Perm())
	}
	if east.d.keylog != nil {
		t.Error("east has a key log without --keylog")
	}
	kf := readKeyLog(t, keylog)
	if len(kf.ikev1) != 1 || len(kf.esp) != 2 || len(kf.gxy) != 2 {
		t.Fatalf("keylog: %d ikev1 lines, %d esp lines, %d gxy lines (want 1, 2, 2)\n%s",
			len(kf.ikev1), len(kf.esp), len(kf.gxy), mustRead(t, keylog))
	}

	hexPath := filepath.Join(t.TempDir(), "exchange.hex")
	tap.hexFile(t, hexPath)
	pkts, err := capture.ReadFile(hexPath)
	if err != nil {
		t.Fatal(err)
	}
	var gxy [][]byte
	for _, g := range kf.gxy {
		b, err := hex.DecodeString(g)
		if err != nil {
			t.Fatal(err)
		}
		gxy = append(gxy, b)
	}
	r := ikedump.Analyze(pkts, ikedump.Options{PSK: []byte("harness-psk-0123456789"), GXY: gxy})
	if r.Failures != 0 {
		t.Fatalf("ikedump: %d failures:\n%s", r.Failures, strings.Join(r.Steps, "\n"))
	}
	if len(pkts) < 9 {
		t.Fatalf("only %d packets recorded", len(pkts))
	}
	for _, m := range r.Messages {
		if m.Encrypted && !m.Decrypted {
			t.Errorf("message %d not decrypted", m.Index)
		}
	}
	p1 := r.Phase1
	if p1 == nil || p1.HashIOK == nil || !*p1.HashIOK || p1.HashROK == nil || !*p1.HashROK || p1.EncKey == nil {
		t.Fatalf("phase 1 not verified: %+v", p1)
	}
	icky, key, _ := strings.Cut(kf.ikev1[0], ",")
	if icky != p1.ICookie || key != *p1.EncKey {
		t.Errorf("ikev1 line %q, ikedump icookie %s key %s", kf.ikev1[0], p1.ICookie, *p1.EncKey)
	}
	if len(r.Quick) != 1 {
		t.Fatalf("%d quick modes", len(r.Quick))
	}
	q := r.Quick[0]
	for name, ok := range map[string]*bool{"HASH(1)": q.Hash1OK, "HASH(2)": q.Hash2OK, "HASH(3)": q.Hash3OK} {
		if ok == nil || !*ok {
			t.Errorf("%s not verified", name)
		}
	}
	if !q.PFS || q.KeymatI == nil || q.KeymatR == nil {
		t.Fatalf("quick mode: %+v", q)
	}
	// West initiated: its inbound SA (the second ESP line, peer to us) has
	// the SPI west chose, whose KEYMAT is keymat_i.
	out, in := kf.esp[0], kf.esp[1]
	if out[1] != "127.0.0.1" || out[2] != "127.0.0.2" || in[1] != "127.0.0.2" || in[2] != "127.0.0.1" {
		t.Errorf("esp lines addresses: %q %q", out, in)
	}
	if out[4] != "AES-CBC [RFC3602]" || out[6] != "HMAC-SHA-1-96 [RFC2404]" || len(out[5]) != 32 || len(out[7]) != 40 {
		t.Errorf("esp line algorithms/keys: %q", out)
	}
	if in[3] != *q.SPIi || out[3] != *q.SPIr {
		t.Errorf("SPIs: keylog out %s in %s, ikedump spi_i %s spi_r %s", out[3], in[3], *q.SPIi, *q.SPIr)
	}
	if !strings.HasPrefix(*q.KeymatI, in[5]+in[7]) || !strings.HasPrefix(*q.KeymatR, out[5]+out[7]) {
		t.Errorf("ESP keys differ from ikedump's KEYMAT:\nkeylog in  %s%s\nkeymat_i   %s\nkeylog out %s%s\nkeymat_r   %s",
			in[5], in[7], *q.KeymatI, out[5], out[7], *q.KeymatR)
	}
	_ = west
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStatusJSONAndMetrics: whack --status --json is one JSON document of
// schema version 1 describing the connection and both states; the metrics
// endpoint counts the negotiation.
func TestStatusJSONAndMetrics(t *testing.T) {
	west, east, _, _, transcript := twoDaemonsWithKeyLog(t, 0, 0)
	spis := regexp.MustCompile(`ESP=>0x([0-9a-f]{8}) <0x([0-9a-f]{8})`).FindStringSubmatch(transcript)

	var stdout, stderr bytes.Buffer
	code := runWhack(west, &stdout, &stderr, "--status", "--json")
	if code != 0 || stderr.Len() != 0 {
		t.Fatalf("status --json: exit %d, stderr %q", code, stderr.String())
	}
	var doc StatusDoc
	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not a status document: %v\n%s", err, stdout.String())
	}
	if doc.Version != 1 || len(doc.Interfaces) != 1 || doc.Interfaces[0].Address != "127.0.0.1" || doc.Pluto.Kernel != "nostack" {
		t.Errorf("header: %+v %+v", doc.Pluto, doc.Interfaces)
	}
	if len(doc.Connections) != 1 || len(doc.States) != 2 {
		t.Fatalf("%d connections, %d states:\n%s", len(doc.Connections), len(doc.States), stdout.String())
	}
	c := doc.Connections[0]
	if c.Name != "west-east" || !c.Oriented || c.Local.Client != "10.1.0.0/24" || c.Remote.Host != "127.0.0.2" ||
		c.Policy.Auth != "psk" || !c.Policy.Encrypt || !c.Policy.Tunnel || !c.Policy.PFS || c.PFSGroup != "phase1" ||
		c.Routing != "erouted" || c.ErouteOwner != 2 || c.NewestISAKMP != 1 || c.NewestIPsec != 2 ||
		strings.Join(c.IKE, ",") != "aes128-sha1-modp2048" || strings.Join(c.ESP, ",") != "aes128-sha1" ||
		c.Lifetimes.IKESeconds != 3600 || c.DPD != nil {
		t.Errorf("connection: %+v", c)
	}
	p1, p2 := doc.States[0], doc.States[1]
	if p1.Serial != 1 || p1.Kind != "STATE_MAIN_I4" || p1.Phase != 1 || !p1.Established || p1.ISAKMP == nil ||
		p1.ISAKMP.Algorithm != "aes128-sha1-modp2048" || len(p1.ISAKMP.ICookie) != 16 || p1.Timer == nil {
		t.Errorf("ISAKMP state: %+v %+v", p1, p1.ISAKMP)
	}
	if p2.Serial != 2 || p2.Kind != "STATE_QUICK_I2" || p2.Phase != 2 || p2.Parent != 1 || p2.IPsec == nil ||
		p2.IPsec.OutboundSPI != spis[1] || p2.IPsec.InboundSPI != spis[2] || p2.IPsec.Mode != "tunnel" ||
		p2.IPsec.Algorithm != "aes128-sha1" || p2.IPsec.PFSGroup != "modp2048" || p2.IPsec.RemoteClient != "10.2.0.0/24" {
		t.Errorf("IPsec state: %+v %+v", p2, p2.IPsec)
	}
	// Every member is present, null or not.
	var raw map[string]any
	json.Unmarshal(stdout.Bytes(), &raw)
	conn := raw["connections"].([]any)[0].(map[string]any)
	if v, ok := conn["dpd"]; !ok || v != nil {
		t.Errorf("dpd member: %v %v", v, ok)
	}
	st := raw["states"].([]any)[1].(map[string]any)
	if v, ok := st["isakmp"]; !ok || v != nil {
		t.Errorf("isakmp member of a Quick Mode state: %v %v", v, ok)
	}
	// --json alone is refused by whack.
	if code := runWhack(west, &stdout, &stderr, "--json"); code != 1 || !strings.Contains(stderr.String(), "--json requires --status") {
		t.Errorf("--json without --status: exit %d %q", code, stderr.String())
	}

	// Metrics: scrape west.
	if east.d.MetricsAddr() != nil {
		t.Error("east serves metrics without --metrics")
	}
	body := scrape(t, west.d.MetricsAddr().String())
	for _, want := range []string{
		"pluto_up 1",
		"pluto_connections 1",
		`pluto_states{kind="STATE_MAIN_I4"} 1`,
		`pluto_states{kind="STATE_QUICK_I2"} 1`,
		`pluto_states{kind="STATE_MAIN_R3"} 0`,
		"pluto_isakmp_sas 1",
		"pluto_ipsec_sas 1",
		`pluto_negotiations_started_total{phase="isakmp",role="initiator"} 1`,
		`pluto_negotiations_started_total{phase="ipsec",role="initiator"} 1`,
		`pluto_negotiations_established_total{phase="isakmp"} 1`,
		`pluto_negotiations_established_total{phase="ipsec"} 1`,
		`pluto_negotiations_failed_total{reason="retransmit_timeout"} 0`,
		"pluto_retransmits_total 0",
		"# TYPE pluto_negotiations_failed_total counter",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	checkExposition(t, body)
}

func runWhack(td *testDaemon, stdout, stderr *bytes.Buffer, args ...string) int {
	stdout.Reset()
	stderr.Reset()
	m, err := whack.ParseArgs(append([]string{"--ctlbase", td.ctlbase}, args...))
	if err != nil {
		stderr.WriteString(err.Error())
		return 1
	}
	return whack.Send(m, strings.NewReader(""), stdout, stderr)
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// checkExposition checks the text format: HELP and TYPE before the samples
// of each metric, sample lines "name{labels} value".
func checkExposition(t *testing.T, body string) {
	t.Helper()
	sample := regexp.MustCompile(`^([a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+$`)
	typed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		l := sc.Text()
		if f := strings.Fields(l); len(f) >= 4 && f[0] == "#" && f[1] == "TYPE" {
			typed[f[2]] = true
			continue
		}
		if strings.HasPrefix(l, "# HELP ") {
			continue
		}
		m := sample.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("bad exposition line %q", l)
			continue
		}
		if !typed[m[1]] {
			t.Errorf("sample before its TYPE: %q", l)
		}
	}
}

// TestMetricsObserve: the counters follow the log lines' codes.
func TestMetricsObserve(t *testing.T) {
	mt := newMetrics()
	st := &fsm.State{Kind: fsm.StateMainI3}
	for _, l := range []fsm.LogLine{
		{State: st, Code: 10, Text: "STATE_MAIN_I3: retransmission; will wait 20s for response"},
		{State: st, Code: 31, Text: "max number of retransmissions (2) reached STATE_MAIN_I3"},
		{State: st, Code: 3, Text: "STATE_MAIN_I3: received Hash Payload does not match computed value"},
		{State: &fsm.State{Kind: fsm.StateQuickR0}, Code: 3, Text: "STATE_QUICK_R0: no acceptable proposal (ESP)"},
		{State: st, Code: 3, Text: "received notification INVALID_ID_INFORMATION"},
		{State: st, Code: 3, Text: "STATE_MAIN_I3: something odd"},
		{Code: 3, Text: "dropping malformed packet: short"},
		{State: st, Code: 0, Text: "STATE_MAIN_I3: debug", Debug: true},
	} {
		mt.observe(l)
	}
	if mt.retransmits != 1 || mt.failed["retransmit_timeout"] != 1 || mt.failed["authentication"] != 1 ||
		mt.failed["no_proposal"] != 1 || mt.failed["other"] != 1 || mt.notifies["INVALID_ID_INFORMATION"] != 1 {
		t.Errorf("counters: retransmits %d failed %v notifies %v", mt.retransmits, mt.failed, mt.notifies)
	}
	var nilMetrics *metrics
	nilMetrics.observe(fsm.LogLine{Code: 10}) // no --metrics: nothing happens
}

// TestKeyLogFormat: a phase-1 and a phase-2 record as Wireshark wants them;
// AH gets a comment only.
func TestKeyLogFormat(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tmp := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(tmp, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	kl, err := openKeyLog(tmp)
	if err != nil {
		t.Fatal(err)
	}
	kl.close()
	if fi, _ := os.Stat(tmp); fi.Mode().Perm() != 0o600 {
		t.Errorf("existing keylog not made 0600: %v", fi.Mode().Perm())
	}
	rec := fsm.KeyRecord{Phase1: true, ICookie: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, EncKey: []byte{0xaa, 0xbb}, GXY: []byte{0x01, 0x02}}
	got := formatKeyRecord(rec, now)
	if !strings.Contains(got, "\n0102030405060708,aabb\n# ikedump --gxy 0102\n") {
		t.Errorf("phase 1 record:\n%s", got)
	}
	ah := fsm.KeyRecord{IPsec: &fsm.IPsecSA{Proto: 51, OutboundSPI: []byte{1, 2, 3, 4}, InboundSPI: []byte{5, 6, 7, 8},
		Local: netip.MustParseAddrPort("[2001:db8::1]:500"), Remote: netip.MustParseAddrPort("[2001:db8::2]:500")}}
	got = formatKeyRecord(ah, now)
	if strings.Contains(got, `"IPv6"`) || !strings.Contains(got, "# no Wireshark ESP SA entry (not ESP)") {
		t.Errorf("AH record:\n%s", got)
	}
}

// TestKeyLogTshark: with root and tshark, capture our own exchange on the
// loopback interface and let tshark decrypt it with the keylog lines: the
// IKE messages with the ikev1_decryption_table line, an ESP packet made with
// the negotiated keys with the esp_sa lines. ikedump, given the keylog's
// g^xy values, decodes the captured messages too.
func TestKeyLogTshark(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("capturing on loopback needs root")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed")
	}
	if testing.Short() {
		t.Skip("tshark takes seconds")
	}
	westPort, eastPort := freePort(t, "127.0.0.1"), freePort(t, "127.0.0.2")
	dir := t.TempDir()
	pcap := filepath.Join(dir, "lo.pcap")
	// The capture is live once a probe to probePort shows in the file.
	probePort := freePort(t, "127.0.0.1")
	filter := fmt.Sprintf("udp port %d or udp port %d or udp port %d", westPort, eastPort, probePort)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	capCmd := exec.CommandContext(ctx, tshark, "-i", "lo", "-F", "pcap", "-w", pcap, "-f", filter)
	capErr := &syncBuffer{}
	capCmd.Stderr = capErr
	if err := capCmd.Start(); err != nil {
		t.Skipf("tshark: %v", err)
	}
	for i := 0; i < 200 && !strings.Contains(capErr.String(), "Capturing on"); i++ {
		time.Sleep(25 * time.Millisecond)
	}
	live := false
	for i := 0; i < 100 && !live; i++ {
		if c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", probePort)); err == nil {
			c.Write([]byte("probe"))
			c.Close()
		}
		time.Sleep(50 * time.Millisecond)
		fi, err := os.Stat(pcap)
		live = err == nil && fi.Size() > 24
	}
	if !live {
		capCmd.Process.Kill()
		capCmd.Wait()
		t.Skipf("tshark does not capture on lo: %s", capErr.String())
	}
	_, _, _, keylog, _ := twoDaemonsWithKeyLog(t, westPort, eastPort)
	time.Sleep(300 * time.Millisecond)
	capCmd.Process.Signal(os.Interrupt)
	capCmd.Wait()
	kf := readKeyLog(t, keylog)
	if len(kf.ikev1) != 1 || len(kf.esp) != 2 {
		t.Fatalf("keylog: %+v", kf)
	}

	decode := []string{"-d", fmt.Sprintf("udp.port==%d,isakmp", westPort), "-d", fmt.Sprintf("udp.port==%d,isakmp", eastPort)}
	run := func(args ...string) string {
		out, err := exec.CommandContext(ctx, tshark, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	plain := run(append([]string{"-r", pcap, "-V"}, decode...)...)
	dec := run(append([]string{"-r", pcap, "-V", "-o", "uat:ikev1_decryption_table:" + kf.ikev1[0]}, decode...)...)
	// MI3, MR3 and the three Quick Mode messages are encrypted: with the
	// key tshark shows their Hash payloads, without it none.
	if n := strings.Count(plain, "Payload: Hash"); n != 0 {
		t.Errorf("tshark shows %d Hash payloads without the key", n)
	}
	if n := strings.Count(dec, "Payload: Hash"); n < 5 {
		t.Errorf("tshark decrypted %d Hash payloads, want at least 5:\n%s", n, dec)
	}
	if !strings.Contains(dec, "Payload: Identification") {
		t.Errorf("tshark did not decrypt the Main Mode IDs")
	}
	// ikedump on the captured packets (their UDP payloads, as hex: the
	// ports are not IKE's, which ikedump's pcap reader wants).
	payloads := stdoutOf(ctx, t, tshark, "-r", pcap, "-Y", fmt.Sprintf("udp.port==%d && udp.port==%d", westPort, eastPort),
		"-T", "fields", "-e", "udp.payload")
	var hexb strings.Builder
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(payloads), "\n") {
		if l = strings.ReplaceAll(strings.TrimSpace(l), ":", ""); l != "" {
			fmt.Fprintf(&hexb, "# frame %d\n%s\n\n", n+1, l)
			n++
		}
	}
	hexPath := filepath.Join(dir, "lo.hex")
	os.WriteFile(hexPath, []byte(hexb.String()), 0o644)
	pkts, err := capture.ReadFile(hexPath)
	if err != nil || len(pkts) < 9 {
		t.Fatalf("captured IKE messages: %d, %v\n%s", len(pkts), err, payloads)
	}
	var gxy [][]byte
	for _, g := range kf.gxy {
		b, _ := hex.DecodeString(g)
		gxy = append(gxy, b)
	}
	r := ikedump.Analyze(pkts, ikedump.Options{PSK: []byte("harness-psk-0123456789"), GXY: gxy})
	if r.Failures != 0 || len(r.Quick) != 1 || r.Phase1 == nil || r.Phase1.HashIOK == nil || !*r.Phase1.HashIOK {
		t.Errorf("ikedump on the capture: %d failures, %d quick modes\n%s", r.Failures, len(r.Quick), strings.Join(r.Steps, "\n"))
	}

	// ESP: one packet west -> east encrypted with the outbound keys of the
	// keylog; tshark decrypts it and checks its ICV with the esp_sa line.
	out := kf.esp[0]
	espPcap := filepath.Join(dir, "esp.pcap")
	writeESPPcap(t, espPcap, out)
	line := fmt.Sprintf("%q,%q,%q,%q,%q,%q,%q,%q", out[0], out[1], out[2], "0x"+out[3], out[4], "0x"+out[5], out[6], "0x"+out[7])
	esp := run("-r", espPcap, "-V", "-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE",
		"-o", "uat:esp_sa:"+line)
	if !strings.Contains(esp, "Src: 10.1.0.1, Dst: 10.2.0.1") || !strings.Contains(esp, "Echo (ping) request") {
		t.Errorf("tshark did not decrypt the ESP packet:\n%s", esp)
	}
	if strings.Contains(strings.ToLower(esp), "incorrect") {
		t.Errorf("tshark says the ICV is wrong:\n%s", esp)
	}
}

// writeESPPcap writes a raw-IP pcap with one ESP packet (tunnel mode, AES-CBC,
// HMAC-SHA1-96) carrying an ICMP echo from 10.1.0.1 to 10.2.0.1.
func writeESPPcap(t *testing.T, path string, sa []string) {
	t.Helper()
	encKey, _ := hex.DecodeString(sa[5])
	authKey, _ := hex.DecodeString(sa[7])
	spi, _ := hex.DecodeString(sa[3])
	icmp := []byte{8, 0, 0, 0, 0, 1, 0, 1, 'g', 'o', 's', 'w', 'a', 'n'}
	binary.BigEndian.PutUint16(icmp[2:], ipChecksum(icmp))
	inner := ipv4(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.1"), 1, icmp)
	// ESP trailer: padding 1, 2, ..., pad length, next header 4 (IPv4).
	pt := append([]byte(nil), inner...)
	padLen := (16 - (len(pt)+2)%16) % 16
	for i := 1; i <= padLen; i++ {
		pt = append(pt, byte(i))
	}
	pt = append(pt, byte(padLen), 4)
	iv := bytes.Repeat([]byte{0x42}, 16)
	block, err := aes.NewCipher(encKey)
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, pt)
	esp := append(append(append(append([]byte(nil), spi...), 0, 0, 0, 1), iv...), ct...)
	mac := hmac.New(sha1.New, authKey)
	mac.Write(esp)
	esp = append(esp, mac.Sum(nil)[:12]...)
	outer := ipv4(netip.MustParseAddr(sa[1]), netip.MustParseAddr(sa[2]), 50, esp)
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	w(uint32(0xa1b2c3d4))
	w(uint16(2))
	w(uint16(4))
	w(int32(0))
	w(uint32(0))
	w(uint32(65535))
	w(uint32(101)) // LINKTYPE_RAW
	w(uint32(time.Now().Unix()))
	w(uint32(0))
	w(uint32(len(outer)))
	w(uint32(len(outer)))
	b.Write(outer)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ipv4(src, dst netip.Addr, proto byte, payload []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	h[8] = 64
	h[9] = proto
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	binary.BigEndian.PutUint16(h[10:], ipChecksum(h))
	return append(h, payload...)
}

func ipChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// stdoutOf runs a command and returns its standard output only.
func stdoutOf(ctx context.Context, t *testing.T, name string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}
