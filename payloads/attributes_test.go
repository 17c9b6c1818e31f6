package payloads

import (
	"bytes"
	"testing"

	"goswan/spec"
)

func TestAttributesRoundTrip(t *testing.T) {
	// TV enc, TLV life of 4 octets (fits TV, must stay TLV), empty TLV,
	// 9-octet TLV.
	in := unhex(t, "80010007 000c0004 00000e10 00100000 00060009 010203040506070809")
	as, err := DecodeAttributes(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 4 {
		t.Fatalf("%d attributes", len(as))
	}
	if a := as[0]; !a.TV || a.Type != 1 || !bytes.Equal(a.Value, []byte{0, 7}) {
		t.Errorf("TV %+v", a)
	}
	if a := as[1]; a.TV || a.Type != 12 || len(a.Value) != 4 {
		t.Errorf("TLV %+v", a)
	} else if v, ok := a.Uint(); !ok || v != 3600 {
		t.Errorf("Uint %d %v", v, ok)
	}
	if a := as[2]; a.TV || a.Type != 16 || len(a.Value) != 0 {
		t.Errorf("empty TLV %+v", a)
	} else if v, ok := a.Uint(); !ok || v != 0 {
		t.Errorf("empty Uint %d %v", v, ok)
	}
	if _, ok := as[3].Uint(); ok {
		t.Error("9-octet value converted")
	}
	if out := AppendAttributes(nil, as); !bytes.Equal(out, in) {
		t.Errorf("round trip %x", out)
	}
	if a, ok := Lookup(as, 12|spec.AttrTVBit); !ok || a.Type != 12 {
		t.Error("Lookup")
	}
	if _, ok := Lookup(as, 2); ok {
		t.Error("Lookup found a missing class")
	}
	if as, err := DecodeAttributes(nil); as != nil || err != nil {
		t.Error("empty list")
	}
}

func TestAttributeErrors(t *testing.T) {
	for _, in := range []string{
		"80",                // truncated header
		"800100",            // truncated header
		"000c0004 000e10",   // TLV overruns
		"80010007 000c0001", // TLV length 1, no value
		"000cffff 00",       // huge TLV length
	} {
		_, err := DecodeAttributes(unhex(t, in))
		wantNotify(t, err, spec.PayloadMalformed)
	}
	many := bytes.Repeat([]byte{0x80, 1, 0, 1}, MaxAttributes)
	if as, err := DecodeAttributes(many); err != nil || len(as) != MaxAttributes {
		t.Errorf("%d attributes: %v", MaxAttributes, err)
	}
	_, err := DecodeAttributes(append(many, 0x80, 1, 0, 1))
	wantNotify(t, err, spec.PayloadMalformed)
}

func TestAttributeConstructors(t *testing.T) {
	for _, c := range []struct {
		a    Attribute
		want string
	}{
		{NewTV(uint16(spec.OakleyEncryptionAlgorithm), 7), "80010007"},
		{NewTV(0x8001, 7), "80010007"}, // AF bit in the type is ignored
		{NewTLV(uint16(spec.OakleyGroupPrime), []byte{1, 2, 3}), "0006 0003 010203"},
		{NewVariable(uint16(spec.OakleyLifeDuration), 3600), "800c0e10"},
		{NewVariable(uint16(spec.OakleyLifeDuration), 86400), "000c0004 00015180"},
		{NewVariable(uint16(spec.OakleyLifeDuration), 1<<40), "000c0008 0000010000000000"},
	} {
		if got := c.a.Append(nil); !bytes.Equal(got, unhex(t, c.want)) {
			t.Errorf("%+v: %x, want %s", c.a, got, c.want)
		}
	}
	for _, a := range []Attribute{{TV: true, Value: []byte{1}}, {Value: make([]byte, 65536)}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic for %d-octet value", len(a.Value))
				}
			}()
			a.Append(nil)
		}()
	}
}

// TestAttrPadding: libreswan pads a ModeCfg attribute list with zeros to a
// multiple of four octets; the padding is accepted and kept (re-encoding
// gives the same bytes), but not more than three octets of it, and only zeros.
func TestAttrPadding(t *testing.T) {
	// ACK, identifier abfc: INTERNAL_IP4_ADDRESS 10.2.0.0, a 14-octet
	// Cisco attribute, then two zero octets (libreswan 4.10's ACK).
	body := unhex(t, "0400abfc 00010004 0a020000 7004000e 0a090005 ffffffff 000000000000 0000")
	var p Attr
	if err := p.decode(spec.PayloadAttr, body, 0); err != nil {
		t.Fatal(err)
	}
	if p.Pad != 2 || len(p.Attributes) != 2 || p.Attributes[1].Type != 0x7004 || len(p.Attributes[1].Value) != 14 {
		t.Errorf("decoded %+v", p)
	}
	if out := p.AppendBody(nil); !bytes.Equal(out, body) {
		t.Errorf("re-encoded %x, want %x", out, body)
	}
	for _, bad := range []string{"0400abfc 00010004 0a020000 01", "0400abfc 00010004 0a020000 0000000001", "0400abfc 0001"} {
		var q Attr
		if err := q.decode(spec.PayloadAttr, unhex(t, bad), 0); err == nil {
			t.Errorf("%s accepted: %+v", bad, q)
		}
	}
}
