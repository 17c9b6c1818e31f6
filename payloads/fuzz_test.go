package payloads

import (
	"bytes"
	"testing"

	"goswan/spec"
)

// FuzzDecodeMessage: DecodeMessage never panics; what it accepts re-encodes
// to the same bytes and decodes again. Encrypted messages are also fed
// their own body as "plaintext" to exercise SetDecrypted.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range vectorMessages(f) {
		f.Add(s.data)
	}
	for _, s := range loadHex(f, "testdata/plaintext.hex") {
		f.Add(msg(spec.PayloadHash, 0, s.data))
		f.Add(msg(spec.PayloadID, spec.FlagEncryption, s.data))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		out := m.Encode()
		if !bytes.Equal(out, b) {
			t.Fatalf("Encode differs\n got %x\nwant %x", out, b)
		}
		if _, err := DecodeMessage(out); err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		for _, p := range m.Payloads {
			if !bytes.Equal(p.Body(), p.Raw()[4:]) {
				t.Fatal("Body is not Raw[4:]")
			}
		}
		if len(m.Payloads) > 0 {
			span := PayloadSpan(m.Payloads, 0)
			if !bytes.Equal(span, b[spec.HeaderLen:len(b)-len(m.Padding)]) || &span[0] != &b[spec.HeaderLen] {
				t.Fatal("PayloadSpan is not the body (without its padding)")
			}
		}
		_ = RejectUnknown(m.Payloads)
		if m.Header.Encrypted() {
			if err := m.SetDecrypted(m.Body()); err != nil {
				return
			}
			if out := m.Encode(); !bytes.Equal(out, b) {
				t.Fatalf("decrypted Encode differs\n got %x\nwant %x", out, b)
			}
		}
	})
}

// FuzzDecodePayloads: a decrypted body (padding allowed) re-encodes to the
// same bytes.
func FuzzDecodePayloads(f *testing.F) {
	first := map[string]spec.PayloadType{"mm5": spec.PayloadID, "mm6": spec.PayloadID, "rsasig-mm6": spec.PayloadID}
	for _, s := range loadHex(f, "testdata/plaintext.hex") {
		t, ok := first[s.name]
		if !ok {
			t = spec.PayloadHash
		}
		f.Add(uint8(t), s.data)
	}
	for _, s := range vectorMessages(f) {
		if s.data[19]&spec.FlagEncryption == 0 {
			f.Add(s.data[16], s.data[spec.HeaderLen:])
		}
	}
	f.Fuzz(func(t *testing.T, first uint8, body []byte) {
		ps, pad, err := DecodePayloads(spec.PayloadType(first), body, true)
		if err != nil {
			return
		}
		if len(ps) > 0 && ps[0].Type() != spec.PayloadType(first) {
			t.Fatalf("first payload %s, want %d", ps[0].Type(), first)
		}
		if out := cat(EncodePayloads(ps), pad); !bytes.Equal(out, body) {
			t.Fatalf("round trip differs\n got %x\nwant %x", out, body)
		}
		if _, _, err := DecodePayloads(spec.PayloadType(first), body, false); (err == nil) != (len(pad) == 0) {
			t.Fatalf("without padding: err %v, padding %d octets", err, len(pad))
		}
	})
}

// FuzzAttributes: the attribute-list decoder round-trips exactly.
func FuzzAttributes(f *testing.F) {
	for _, s := range vectorMessages(f) {
		m, err := DecodeMessage(s.data)
		if err != nil || m.Payloads == nil {
			continue
		}
		if sa, ok := m.Find(spec.PayloadSA).(*SA); ok {
			for _, p := range sa.Proposals {
				for _, tr := range p.Transforms {
					f.Add(AppendAttributes(nil, tr.Attributes))
				}
			}
		}
	}
	f.Add([]byte{0x00, 0x0c, 0x00, 0x04, 0, 0, 0x0e, 0x10})
	f.Add([]byte{0x40, 0x8a, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		as, err := DecodeAttributes(b)
		if err != nil {
			return
		}
		if len(as) > MaxAttributes {
			t.Fatalf("%d attributes", len(as))
		}
		if out := AppendAttributes(nil, as); !bytes.Equal(out, b) {
			t.Fatalf("round trip differs\n got %x\nwant %x", out, b)
		}
		for _, a := range as {
			if a.TV && len(a.Value) != 2 || a.Type&spec.AttrTVBit != 0 {
				t.Fatalf("attribute %+v", a)
			}
		}
	})
}
