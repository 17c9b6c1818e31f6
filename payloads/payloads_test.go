package payloads

import (
	"bytes"
	"testing"

	"goswan/spec"
)

// Tests of the small payloads: NONCE, N, D, NAT-OA, ATTR, CERT, CR, and the
// opaque ones.

func TestNonceLength(t *testing.T) {
	for _, n := range []int{spec.MinNonce, 32, spec.MaxNonce} {
		p, err := decodeOne(t, spec.PayloadNonce, make([]byte, n))
		if err != nil || len(p.(*Nonce).Data) != n {
			t.Errorf("%d octets: %v", n, err)
		}
	}
	for _, n := range []int{0, spec.MinNonce - 1, spec.MaxNonce + 1} {
		_, err := decodeOne(t, spec.PayloadNonce, make([]byte, n))
		wantNotify(t, err, spec.PayloadMalformed)
	}
}

func TestNotify(t *testing.T) {
	// R_U_THERE with the cookie pair as SPI and a sequence number.
	body := unhex(t, "00000001 01 10 8d28 0102030405060708090a0b0c0d0e0f10 0000abcd")
	p, err := decodeOne(t, spec.PayloadN, body)
	if err != nil {
		t.Fatal(err)
	}
	n := p.(*Notify)
	if n.DOI != spec.DOIIPsec || n.Protocol != spec.ProtoISAKMP || n.NotifyType != spec.RUThere ||
		len(n.SPI) != 16 || !bytes.Equal(n.Data, []byte{0, 0, 0xab, 0xcd}) {
		t.Errorf("%+v", n)
	}
	// No SPI, no data.
	p, err = decodeOne(t, spec.PayloadN, unhex(t, "00000001 03 00 000e"))
	if err != nil || p.(*Notify).SPI != nil || p.(*Notify).NotifyType != spec.NoProposalChosen {
		t.Errorf("%+v %v", p, err)
	}
	for _, b := range []string{"00000001 01 10", "00000001 01 10 6002 0102"} {
		_, err := decodeOne(t, spec.PayloadN, unhex(t, b))
		wantNotify(t, err, spec.PayloadMalformed)
	}
}

func TestDelete(t *testing.T) {
	p, err := decodeOne(t, spec.PayloadD, unhex(t, "00000001 03 04 0002 c74f860b 01020304"))
	if err != nil {
		t.Fatal(err)
	}
	d := p.(*Delete)
	if d.Protocol != spec.ProtoESP || d.SPISize != 4 || len(d.SPIs) != 2 || !bytes.Equal(d.SPIs[1], []byte{1, 2, 3, 4}) {
		t.Errorf("%+v", d)
	}
	// Zero SPIs with a size: kept for the round trip.
	if p, err := decodeOne(t, spec.PayloadD, unhex(t, "00000001 03 04 0000")); err != nil || p.(*Delete).SPIs != nil {
		t.Errorf("%+v %v", p, err)
	}
	// Size 0 with a count: structurally consistent, allowed up to the cap.
	if _, err := decodeOne(t, spec.PayloadD, unhex(t, "00000001 03 00 0100")); err != nil {
		t.Error(err)
	}
	for _, b := range []string{
		"00000001 03 04",                  // short
		"00000001 03 04 0002 c74f860b",    // one SPI missing
		"00000001 03 04 0001 c74f860b 00", // trailing octet
		"00000001 03 00 0101",             // MaxDeleteSPIs+1 empty SPIs
		"00000001 01 10 ffff",             // huge count
	} {
		_, err := decodeOne(t, spec.PayloadD, unhex(t, b))
		wantNotify(t, err, spec.PayloadMalformed)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for a short SPI")
		}
	}()
	(&Delete{SPISize: 4, SPIs: [][]byte{{1}}}).AppendBody(nil)
}

func TestNATOA(t *testing.T) {
	for _, c := range []struct {
		pt   spec.PayloadType
		body string
		ip   string
	}{
		{spec.PayloadNATOA, "01 000000 c0a80001", "192.168.0.1"},
		{spec.PayloadNATOADraft, "05 000000 20010db8000000000000000000000001", "2001:db8::1"},
		{spec.PayloadNATOA, "02 000000 6e6f", ""}, // FQDN: kept, no IP
	} {
		p, err := decodeOne(t, c.pt, unhex(t, c.body))
		if err != nil {
			t.Fatal(err)
		}
		oa := p.(*NATOA)
		ip, ok := oa.IP()
		if oa.Type() != c.pt || (c.ip == "") == ok || (ok && ip.String() != c.ip) {
			t.Errorf("%s: %+v %v", c.body, oa, ip)
		}
	}
	p, err := decodeOne(t, spec.PayloadNATOA, unhex(t, "01 abcdef c0a80001"))
	if err != nil || p.(*NATOA).Reserved2 != [3]byte{0xab, 0xcd, 0xef} {
		t.Errorf("reserved %+v %v", p, err)
	}
	for _, b := range []string{"01 0000", "01 000000 c0a800", "05 000000 c0a80001"} {
		_, err := decodeOne(t, spec.PayloadNATOA, unhex(t, b))
		wantNotify(t, err, spec.PayloadMalformed)
	}
}

func TestNATDDraft(t *testing.T) {
	p, err := decodeOne(t, spec.PayloadNATDDraft, []byte{1, 2, 3})
	if err != nil || p.Type() != spec.PayloadNATDDraft || !bytes.Equal(p.(*NATD).Hash, []byte{1, 2, 3}) {
		t.Errorf("%+v %v", p, err)
	}
}

func TestAttrPayload(t *testing.T) {
	// XAUTH request: XAUTH_TYPE (TV), XAUTH_USER_NAME and PASSWORD (empty TLV).
	body := unhex(t, "01 00 1234 c0880000 408a0000 408b0000")
	p, err := decodeOne(t, spec.PayloadAttr, body)
	if err != nil {
		t.Fatal(err)
	}
	a := p.(*Attr)
	if a.Kind != ModeCfgRequest || a.Identifier != 0x1234 || len(a.Attributes) != 3 ||
		!a.Attributes[0].TV || a.Attributes[0].Type != 0x4088 || a.Attributes[1].TV || a.Attributes[1].Type != 0x408a {
		t.Errorf("%+v", a)
	}
	// Reply with an IPv4 address, reserved octet kept.
	p, err = decodeOne(t, spec.PayloadAttr, unhex(t, "02 7f 0001 0001 0004 0a000001"))
	if err != nil || p.(*Attr).Reserved2 != 0x7f || !bytes.Equal(p.(*Attr).Attributes[0].Value, []byte{10, 0, 0, 1}) {
		t.Errorf("%+v %v", p, err)
	}
	if p, err := decodeOne(t, spec.PayloadAttr, unhex(t, "04 00 0001")); err != nil || p.(*Attr).Attributes != nil {
		t.Errorf("ack without attributes: %+v %v", p, err)
	}
	for _, b := range []string{"01 00 12", "01 00 1234 0001 0008 0a000001"} {
		_, err := decodeOne(t, spec.PayloadAttr, unhex(t, b))
		wantNotify(t, err, spec.PayloadMalformed)
	}
}

func TestCertAndCR(t *testing.T) {
	p, err := decodeOne(t, spec.PayloadCert, unhex(t, "04 308201"))
	if c := p.(*Cert); err != nil || c.Encoding != spec.CertX509Signature || !bytes.Equal(c.Data, []byte{0x30, 0x82, 0x01}) {
		t.Errorf("%+v %v", p, err)
	}
	p, err = decodeOne(t, spec.PayloadCR, unhex(t, "04"))
	if c := p.(*CR); err != nil || c.Encoding != spec.CertX509Signature || len(c.Authority) != 0 {
		t.Errorf("%+v %v", p, err)
	}
	for _, pt := range []spec.PayloadType{spec.PayloadCert, spec.PayloadCR} {
		_, err := decodeOne(t, pt, nil)
		wantNotify(t, err, spec.PayloadMalformed)
	}
}

func TestOpaquePayloads(t *testing.T) {
	for _, pt := range []spec.PayloadType{spec.PayloadKE, spec.PayloadHash, spec.PayloadSig, spec.PayloadVID} {
		for _, body := range [][]byte{nil, {1, 2, 3}} {
			p, err := decodeOne(t, pt, body)
			if err != nil || p.Type() != pt || !bytes.Equal(p.Body(), body) || len(p.Raw()) != 4+len(body) {
				t.Errorf("%s %x: %+v %v", pt, body, p, err)
			}
		}
	}
}

// TestAllTypesBuild builds one payload of each type, decodes the result and
// checks it re-encodes identically and that decoding yields the same types.
func TestAllTypesBuild(t *testing.T) {
	ps := []Payload{
		&SA{DOI: spec.DOIIPsec, Situation: spec.SitIdentityOnly, Proposals: []Proposal{{Number: 1, Protocol: spec.ProtoISAKMP,
			Transforms: []Transform{{Number: 1, ID: spec.KeyIKE, Attributes: []Attribute{NewTV(1, 7)}}}}}},
		&KE{Data: []byte{1, 2}},
		&ID{IDType: spec.IDFQDN, Data: []byte("east")},
		&Cert{Encoding: spec.CertX509Signature, Data: []byte{0x30}},
		&CR{Encoding: spec.CertX509Signature},
		&Hash{Data: make([]byte, 20)},
		&Sig{Data: make([]byte, 32)},
		&Nonce{Data: make([]byte, 16)},
		&Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPI: make([]byte, 16), NotifyType: spec.InitialContact},
		&Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3, 4}}},
		&VendorID{Data: []byte("OE")},
		&Attr{Kind: ModeCfgSet, Identifier: 7, Attributes: []Attribute{NewTLV(1, []byte{10, 0, 0, 1})}},
		&NATD{PayloadType: spec.PayloadNATDDraft, Hash: make([]byte, 20)},
		&NATOA{PayloadType: spec.PayloadNATOA, IDType: spec.IDIPv4Addr, Addr: []byte{10, 0, 0, 1}},
		&Unknown{PayloadType: 200, Data: []byte{9}},
	}
	b := Build(Header{Exchange: spec.ExchangeAggressive}, ps...)
	m, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if chainNames(m.Payloads) != chainNames(ps) {
		t.Errorf("chain %s, want %s", chainNames(m.Payloads), chainNames(ps))
	}
	roundTrip(t, m, b)
	for i, p := range m.Payloads {
		if !bytes.Equal(p.Raw(), ps[i].Raw()) {
			t.Errorf("payload %d: Raw differs", i)
		}
		if _, ok := p.(decoder); !ok {
			t.Errorf("%T is not a decoder", p)
		}
	}
	if (&Message{}).Body() != nil || (&Message{Raw: b, Header: Header{Length: 5}}).Body() == nil {
		t.Error("Body bounds")
	}
}
