package payloads

import (
	"bytes"
	"strings"
	"testing"

	"goswan/spec"
)

var nonce16 = bytes.Repeat([]byte{0xab}, 16)

func TestChainLengthErrors(t *testing.T) {
	vid := pl(spec.PayloadNone, []byte("vendor"))
	for _, c := range []struct {
		name string
		body []byte
		n    spec.NotifyType
		off  int
	}{
		{"length 0", []byte{0, 0, 0, 0}, spec.PayloadMalformed, 28},
		{"length 3", []byte{0, 0, 0, 3}, spec.PayloadMalformed, 28},
		{"length past end", []byte{0, 0, 0, 9, 1, 2, 3, 4}, spec.PayloadMalformed, 28},
		{"truncated generic header", []byte{0, 0}, spec.PayloadMalformed, 28},
		{"no payload where one is announced", nil, spec.PayloadMalformed, 28},
		{"second payload past end", cat(pl(spec.PayloadVID, []byte("x")), []byte{0, 0, 0, 200}), spec.PayloadMalformed, 33},
		{"trailing garbage", cat(vid, []byte{0xde, 0xad}), spec.UnequalPayloadLengths, 28 + len(vid)},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := wantNotify(t, decodeErr(msg(spec.PayloadVID, 0, c.body)), c.n)
			if e.Offset != c.off {
				t.Errorf("offset %d, want %d (%v)", e.Offset, c.off, e)
			}
		})
	}
	// The same garbage is padding in a decrypted body.
	ps, pad, err := DecodePayloads(spec.PayloadVID, cat(vid, []byte{0xde, 0xad}), true)
	if err != nil || len(ps) != 1 || !bytes.Equal(pad, []byte{0xde, 0xad}) {
		t.Errorf("%v %x %v", ps, pad, err)
	}
	_, _, err = DecodePayloads(spec.PayloadVID, cat(vid, []byte{0xde, 0xad}), false)
	if e := wantNotify(t, err, spec.UnequalPayloadLengths); e.Offset != len(vid) {
		t.Errorf("DecodePayloads offset %d", e.Offset)
	}
	// SetDecrypted offsets count the header.
	m := &Message{Header: Header{NextPayload: spec.PayloadVID}}
	if e := wantNotify(t, m.SetDecrypted([]byte{0, 0, 0, 3}), spec.PayloadMalformed); e.Offset != 28 {
		t.Errorf("SetDecrypted offset %d", e.Offset)
	}
}

func TestTooManyPayloads(t *testing.T) {
	chain := func(n int) []byte {
		var b []byte
		for i := range n {
			np := spec.PayloadVID
			if i == n-1 {
				np = spec.PayloadNone
			}
			b = append(b, pl(np, []byte{byte(i)})...)
		}
		return b
	}
	b := msg(spec.PayloadVID, 0, chain(MaxPayloads))
	m, err := DecodeMessage(b)
	if err != nil || len(m.Payloads) != MaxPayloads {
		t.Fatalf("%d payloads: %v", MaxPayloads, err)
	}
	roundTrip(t, m, b)
	wantNotify(t, decodeErr(msg(spec.PayloadVID, 0, chain(MaxPayloads+1))), spec.PayloadMalformed)
}

func TestUnknownPayload(t *testing.T) {
	body := cat(
		pl(99, []byte("vendor")),
		pl(spec.PayloadNonce, []byte{1, 2, 3}),
		pl(spec.PayloadNone, nonce16),
	)
	b := msg(spec.PayloadVID, 0, body)
	m, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := chainNames(m.Payloads); got != "VID 99 NONCE" {
		t.Fatalf("chain %q", got)
	}
	u := m.Payloads[1].(*Unknown)
	if u.PayloadType != 99 || !bytes.Equal(u.Data, []byte{1, 2, 3}) || Understood(99) {
		t.Errorf("unknown %+v", u)
	}
	roundTrip(t, m, b)
	e := wantNotify(t, RejectUnknown(m.Payloads), spec.InvalidPayloadType)
	if e.Payload != 99 || e.Offset != 10 {
		t.Errorf("RejectUnknown %+v", e)
	}
	if err := RejectUnknown(m.Payloads[2:]); err != nil {
		t.Error(err)
	}
	// Proposal and Transform at the outer level, fragments: kept, rejected.
	for _, pt := range []spec.PayloadType{spec.PayloadProposal, spec.PayloadTransform, spec.PayloadFragment, 15} {
		m, err := DecodeMessage(msg(pt, 0, pl(spec.PayloadNone, []byte{1, 2, 3, 4, 5, 6, 7, 8})))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Payloads[0].(*Unknown); !ok || Understood(pt) {
			t.Errorf("type %d decoded as %T", pt, m.Payloads[0])
		}
		wantNotify(t, RejectUnknown(m.Payloads), spec.InvalidPayloadType)
	}
}

func TestGenericReserved(t *testing.T) {
	p := pl(spec.PayloadNone, nonce16)
	p[1] = 0x5a
	b := msg(spec.PayloadNonce, 0, p)
	m, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Payloads[0].(*Nonce).Reserved; r != 0x5a {
		t.Errorf("reserved %#x", r)
	}
	roundTrip(t, m, b)
}

func TestErrorText(t *testing.T) {
	err := decodeErr(msg(spec.PayloadNonce, 0, pl(spec.PayloadNone, []byte{1})))
	e := wantNotify(t, err, spec.PayloadMalformed)
	s := err.Error()
	for _, w := range []string{"payloads: ", "NONCE payload", "offset 32", "PAYLOAD_MALFORMED"} {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
	if e.Unwrap() == nil {
		t.Error("no wrapped error")
	}
}

func TestBuildDefaults(t *testing.T) {
	b := Build(Header{Exchange: spec.ExchangeInfo})
	h, _ := ParseHeader(b)
	if len(b) != 28 || h.Version != Version || h.Length != 28 || h.NextPayload != spec.PayloadNone {
		t.Errorf("%+v", h)
	}
	// NAT-D and NAT-OA default to the RFC numbers.
	b = Build(Header{}, &NATD{Hash: []byte{1}}, &NATOA{IDType: spec.IDIPv4Addr, Addr: []byte{1, 2, 3, 4}})
	m, err := DecodeMessage(b)
	if err != nil || chainNames(m.Payloads) != "NAT-D NAT-OA" || m.Header.NextPayload != spec.PayloadNATD ||
		m.Payloads[1].Type() != spec.PayloadNATOA {
		t.Errorf("%v %v", m, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for a payload of type NONE")
		}
	}()
	EncodePayloads([]Payload{&Unknown{}})
}

func TestEncodePanicsOnOversize(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	EncodePayloads([]Payload{&KE{Data: make([]byte, 65532)}})
}

// TestClearPadding: libreswan pads clear messages with zeros to a multiple
// of 4 octets (ikepad); that is accepted, kept in Padding and re-encoded;
// other trailing octets are not.
func TestClearPadding(t *testing.T) {
	vid := pl(spec.PayloadNone, []byte("vendor")) // 28+10: two zeros pad to 40
	b := msg(spec.PayloadVID, 0, vid, []byte{0, 0})
	m, err := DecodeMessage(b)
	if err != nil || len(m.Payloads) != 1 || !bytes.Equal(m.Padding, []byte{0, 0}) || !bytes.Equal(m.Encode(), b) {
		t.Fatalf("padded message: %v %v", m, err)
	}
	for name, pad := range map[string][]byte{
		"not to a multiple of 4": {0},
		"more than 3":            {0, 0, 0, 0, 0, 0},
		"not zero":               {0, 1},
	} {
		b := msg(spec.PayloadVID, 0, vid, pad)
		if e := wantNotify(t, decodeErr(b), spec.UnequalPayloadLengths); e.Offset != 28+len(vid) {
			t.Errorf("%s: offset %d", name, e.Offset)
		}
	}
}
