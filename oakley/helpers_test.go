package oakley

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// unhex decodes a hex string, ignoring spaces and newlines; it fails the
// test on bad input.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.Join(strings.Fields(s), "")
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// checkHex fails the test when got differs from the hex string want.
func checkHex(t testing.TB, what string, got []byte, want string) {
	t.Helper()
	if g := hex.EncodeToString(got); g != strings.ToLower(strings.Join(strings.Fields(want), "")) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, want)
	}
}

// checkBytes fails the test when got and want differ.
func checkBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !Equal(got, want) {
		t.Errorf("%s:\n got %x\nwant %x", what, got, want)
	}
}

// hexBytes is a []byte that unmarshals from a JSON hex string.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	*h = d
	return err
}

// payload is one generic ISAKMP payload, as walked by walkPayloads.
type payload struct {
	typ  byte   // type of this payload (the previous header's next payload)
	body []byte // without the 4-octet generic header
	end  int    // offset just past this payload
}

// walkPayloads follows a payload chain starting with type first and returns
// its payloads and the chain length (what follows is padding). It is a
// minimal test-only walker; the real parser lives in package payloads.
func walkPayloads(t testing.TB, first byte, b []byte) ([]payload, int) {
	t.Helper()
	var out []payload
	off := 0
	for np := first; np != 0; {
		if off+4 > len(b) {
			t.Fatalf("payload chain runs past the end at %d", off)
		}
		n := int(b[off+2])<<8 | int(b[off+3])
		if n < 4 || off+n > len(b) {
			t.Fatalf("bad payload length %d at %d", n, off)
		}
		out = append(out, payload{typ: np, body: b[off+4 : off+n], end: off + n})
		np = b[off]
		off += n
	}
	return out, off
}

// find returns the first payload of type typ.
func find(t testing.TB, pls []payload, typ byte) payload {
	t.Helper()
	for _, p := range pls {
		if p.typ == typ {
			return p
		}
	}
	t.Fatalf("no payload of type %d", typ)
	return payload{}
}
