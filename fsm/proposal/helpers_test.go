package proposal

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"goswan/payloads"
	"goswan/spec"
)

var (
	recordedOnce sync.Once
	recorded     map[string][]byte
	recordedErr  error
)

// loadRecorded reads testdata/recorded.txt: "NAME HEX" lines.
func loadRecorded(t testing.TB) map[string][]byte {
	t.Helper()
	recordedOnce.Do(func() {
		f, err := os.Open("testdata/recorded.txt")
		if err != nil {
			recordedErr = err
			return
		}
		defer f.Close()
		recorded = map[string][]byte{}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			name, h, ok := strings.Cut(line, " ")
			if !ok {
				recordedErr = errors.New("bad line " + line)
				return
			}
			b, err := hex.DecodeString(strings.TrimSpace(h))
			if err != nil {
				recordedErr = err
				return
			}
			recorded[name] = b
		}
		recordedErr = sc.Err()
	})
	if recordedErr != nil {
		t.Fatalf("testdata/recorded.txt: %v", recordedErr)
	}
	return recorded
}

func rec(t testing.TB, name string) []byte {
	t.Helper()
	b, ok := loadRecorded(t)[name]
	if !ok {
		t.Fatalf("no recorded message %q", name)
	}
	return bytes.Clone(b)
}

// mmSA returns the SA payload of a recorded Main Mode datagram.
func mmSA(t testing.TB, name string) *payloads.SA {
	t.Helper()
	m, err := payloads.DecodeMessage(rec(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sa, ok := m.Find(spec.PayloadSA).(*payloads.SA)
	if !ok {
		t.Fatalf("%s: no SA payload", name)
	}
	return sa
}

// qmSA returns the SA payload of a recorded decrypted Quick Mode body.
func qmSA(t testing.TB, name string) *payloads.SA {
	t.Helper()
	ps, _, err := payloads.DecodePayloads(spec.PayloadHash, rec(t, name), true)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, p := range ps {
		if sa, ok := p.(*payloads.SA); ok {
			return sa
		}
	}
	t.Fatalf("%s: no SA payload", name)
	return nil
}

// body encodes sa and returns its body (no generic header).
func body(sa *payloads.SA) []byte {
	return payloads.EncodePayloads([]payloads.Payload{sa})[spec.GenericHeaderLen:]
}

// decodeSABody decodes an SA payload body; ok is false when the payloads
// decoder refuses it.
func decodeSABody(b []byte) (*payloads.SA, bool) {
	if len(b)+spec.GenericHeaderLen > 0xffff {
		return nil, false
	}
	raw := make([]byte, spec.GenericHeaderLen, spec.GenericHeaderLen+len(b))
	raw[2], raw[3] = byte((len(b)+4)>>8), byte(len(b)+4)
	raw = append(raw, b...)
	ps, _, err := payloads.DecodePayloads(spec.PayloadSA, raw, false)
	if err != nil {
		return nil, false
	}
	return ps[0].(*payloads.SA), true
}

// roundTrip encodes and decodes sa.
func roundTrip(t testing.TB, sa *payloads.SA) *payloads.SA {
	t.Helper()
	out, ok := decodeSABody(body(sa))
	if !ok {
		t.Fatalf("built SA does not decode: %x", body(sa))
	}
	return out
}

// notify returns the notification of a *Error, failing otherwise.
func notify(t testing.TB, err error) spec.NotifyType {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *Error", err, err)
	}
	return e.Notify
}

// wantNotify fails unless err is a *Error with notification n, and returns
// its reason.
func wantNotify(t testing.TB, err error, n spec.NotifyType) string {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", n)
	}
	if got := notify(t, err); got != n {
		t.Fatalf("error %q: notify %v, want %v", err, got, n)
	}
	if !strings.HasPrefix(err.Error(), "proposal: ") {
		t.Fatalf("error %q lacks the package prefix", err)
	}
	return err.(*Error).Reason
}

func mustIKE(t testing.TB, s string) []IKEAlg {
	t.Helper()
	a, err := ParseIKE(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustESP(t testing.TB, s string) ([]ESPAlg, spec.Group) {
	t.Helper()
	a, g, err := ParseESP(s)
	if err != nil {
		t.Fatal(err)
	}
	return a, g
}

func attrClasses(as []payloads.Attribute) []uint16 {
	out := make([]uint16, len(as))
	for i, a := range as {
		out[i] = a.Type
	}
	return out
}

func tvAttr(class, v uint16) payloads.Attribute { return payloads.NewTV(class, v) }

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
