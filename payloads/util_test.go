package payloads

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"goswan/spec"
)

// sample is one hex block of a testdata file.
type sample struct {
	file string
	name string // "frame 3" for messages.hex blocks, the "# name:" value otherwise
	data []byte
}

// loadHex reads a file in the format of the test vectors' messages.hex: a
// message is a run of hex lines; "#" lines and blank lines separate messages.
// The first comment line of a block names it.
func loadHex(tb testing.TB, path string) []sample {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var (
		out  []sample
		name string
		cur  []byte
		hexs bool
	)
	flush := func() {
		if hexs {
			out = append(out, sample{file: filepath.Base(path), name: name, data: cur})
		}
		cur, hexs, name = nil, false, ""
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "#"):
			if hexs {
				flush()
			}
			if name == "" {
				c := strings.TrimSpace(strings.TrimPrefix(line, "#"))
				if n, ok := strings.CutPrefix(c, "name:"); ok {
					name = strings.TrimSpace(n)
				} else if strings.HasPrefix(c, "frame ") {
					name = strings.Join(strings.Fields(c)[:2], " ")
				}
			}
		default:
			b, err := hex.DecodeString(line)
			if err != nil {
				tb.Fatalf("%s: %v", path, err)
			}
			cur = append(cur, b...)
			hexs = true
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// vectorMessages returns the datagrams of all testdata/*.hex vector files.
func vectorMessages(tb testing.TB) []sample {
	tb.Helper()
	files, err := filepath.Glob("testdata/*.hex")
	if err != nil {
		tb.Fatal(err)
	}
	var out []sample
	for _, f := range files {
		if filepath.Base(f) == "plaintext.hex" {
			continue
		}
		out = append(out, loadHex(tb, f)...)
	}
	if len(out) == 0 {
		tb.Fatal("no testdata messages")
	}
	return out
}

func find(tb testing.TB, ss []sample, file, name string) []byte {
	tb.Helper()
	for _, s := range ss {
		if (file == "" || s.file == file) && s.name == name {
			return s.data
		}
	}
	tb.Fatalf("no sample %s %q", file, name)
	return nil
}

func frame(tb testing.TB, vector, name string) []byte {
	tb.Helper()
	return find(tb, loadHex(tb, "testdata/"+vector+".hex"), "", name)
}

func plaintext(tb testing.TB, name string) []byte {
	tb.Helper()
	return find(tb, loadHex(tb, "testdata/plaintext.hex"), "", name)
}

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func chainNames(ps []Payload) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Type().String())
	}
	return strings.Join(s, " ")
}

// wantNotify checks that err is an *Error carrying notification n.
func wantNotify(t *testing.T, err error, n spec.NotifyType) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", n)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *payloads.Error", err, err)
	}
	if e.Notify != n {
		t.Fatalf("notify %s, want %s (%v)", e.Notify, n, err)
	}
	if !strings.HasPrefix(err.Error(), "payloads: ") {
		t.Errorf("error text %q lacks the payloads: prefix", err)
	}
	return e
}

// msg builds a datagram: a header with the given next payload and flags
// (version 1.0, Main Mode, Length computed) followed by body.
func msg(np spec.PayloadType, flags uint8, body ...[]byte) []byte {
	h := Header{
		ICookie:     [8]byte{1, 2, 3, 4, 5, 6, 7, 8},
		RCookie:     [8]byte{9, 10, 11, 12, 13, 14, 15, 16},
		NextPayload: np, Version: Version, Exchange: spec.ExchangeIDProt, Flags: flags,
	}
	b := h.Append(nil)
	for _, x := range body {
		b = append(b, x...)
	}
	h.Length = uint32(len(b))
	h.put(b)
	return b
}

// pl builds a raw payload: generic header (next payload np, computed length)
// and body.
func pl(np spec.PayloadType, body ...[]byte) []byte {
	b := []byte{byte(np), 0, 0, 0}
	for _, x := range body {
		b = append(b, x...)
	}
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	return b
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// roundTrip checks that a decoded message re-encodes to its input.
func roundTrip(t *testing.T, m *Message, in []byte) {
	t.Helper()
	if out := m.Encode(); !bytes.Equal(out, in) {
		t.Fatalf("Encode differs from input\n got %x\nwant %x", out, in)
	}
}
