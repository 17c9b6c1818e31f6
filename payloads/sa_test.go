package payloads

import (
	"bytes"
	"testing"

	"goswan/spec"
)

// Hand-built SA substructures.

func transformB(np spec.PayloadType, num uint8, id spec.TransformID, attrs ...[]byte) []byte {
	b := []byte{byte(np), 0, 0, 0, num, byte(id), 0, 0}
	for _, a := range attrs {
		b = append(b, a...)
	}
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	return b
}

func proposalB(np spec.PayloadType, num uint8, proto spec.ProtocolID, spi []byte, ntrans int, trans ...[]byte) []byte {
	b := []byte{byte(np), 0, 0, 0, num, byte(proto), byte(len(spi)), byte(ntrans)}
	b = append(b, spi...)
	for _, t := range trans {
		b = append(b, t...)
	}
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	return b
}

func saBody(props ...[]byte) []byte {
	return cat(append([][]byte{{0, 0, 0, 1, 0, 0, 0, 1}}, props...)...)
}

var tvAES = []byte{0x80, 0x01, 0x00, 0x07}

func ikeProposal() []byte {
	return proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 1, transformB(spec.PayloadNone, 1, spec.KeyIKE, tvAES))
}

func decodeSA(t *testing.T, body []byte) (*SA, error) {
	t.Helper()
	b := msg(spec.PayloadSA, 0, pl(spec.PayloadNone, body))
	m, err := DecodeMessage(b)
	if err != nil {
		return nil, err
	}
	roundTrip(t, m, b)
	return m.Payloads[0].(*SA), nil
}

func TestSAValid(t *testing.T) {
	esp := func(np spec.PayloadType, num uint8) []byte {
		return proposalB(np, num, spec.ProtoESP, []byte{0xc7, 0x4f, 0x86, 0x0b}, 2,
			transformB(spec.PayloadTransform, 1, spec.ESPAES, tvAES, []byte{0x00, 0x02, 0x00, 0x04, 0, 0, 0x0e, 0x10}),
			transformB(spec.PayloadNone, 2, spec.ESP3DES))
	}
	ipcomp := proposalB(spec.PayloadNone, 1, spec.ProtoIPComp, []byte{0x00, 0x02}, 1, transformB(spec.PayloadNone, 1, spec.IPCompDeflate))
	sa, err := decodeSA(t, saBody(esp(spec.PayloadProposal, 1), ipcomp))
	if err != nil {
		t.Fatal(err)
	}
	if len(sa.Proposals) != 2 {
		t.Fatalf("%d proposals", len(sa.Proposals))
	}
	p := sa.Proposals[0]
	if len(p.Transforms) != 2 || len(p.Transforms[0].Attributes) != 2 || p.Transforms[1].Attributes != nil {
		t.Fatalf("proposal %+v", p)
	}
	life := p.Transforms[0].Attributes[1]
	if v, ok := life.Uint(); life.TV || len(life.Value) != 4 || !ok || v != 3600 {
		t.Errorf("TLV life %+v", life)
	}
	// The arena slices are capped: appending to one transform's
	// attributes must not overwrite the next one's.
	p.Transforms[0].Attributes = append(p.Transforms[0].Attributes, NewTV(1, 1))
	if len(sa.Proposals[1].Transforms) != 1 || sa.Proposals[1].Transforms[0].ID != spec.IPCompDeflate {
		t.Error("append clobbered the next proposal")
	}
	// IPComp CPI in a four-octet field, ISAKMP SPI of 0 and 16 octets,
	// a proposal without transforms, an unknown protocol with any SPI.
	for _, body := range [][]byte{
		saBody(proposalB(spec.PayloadNone, 1, spec.ProtoIPComp, []byte{0, 0, 0, 2}, 1, transformB(spec.PayloadNone, 1, spec.IPCompDeflate))),
		saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, make([]byte, 16), 1, transformB(spec.PayloadNone, 1, spec.KeyIKE))),
		saBody(proposalB(spec.PayloadNone, 1, spec.ProtoESP, []byte{1, 2, 3, 4}, 0)),
		saBody(proposalB(spec.PayloadNone, 1, 77, []byte{1, 2, 3}, 0)),
	} {
		if _, err := decodeSA(t, body); err != nil {
			t.Errorf("%x: %v", body, err)
		}
	}
}

func TestSAErrors(t *testing.T) {
	spi := []byte{1, 2, 3, 4}
	tr := transformB(spec.PayloadNone, 1, spec.KeyIKE, tvAES)
	longProp := ikeProposal()
	longProp[3] += 4 // proposal length past the SA
	shortProp := ikeProposal()
	shortProp[3] = 7
	shortTrans := ikeProposal()
	shortTrans[8+3] = 7 // transform length < 8
	overTrans := ikeProposal()
	overTrans[8+3] += 4 // transform length past the proposal
	badTLV := proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 1,
		transformB(spec.PayloadNone, 1, spec.KeyIKE, []byte{0x00, 0x0c, 0x00, 0x08, 1, 2, 3, 4}))
	truncAttr := proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 1,
		transformB(spec.PayloadNone, 1, spec.KeyIKE, tvAES, []byte{0x80}))
	var manyProps [][]byte
	for i := range MaxProposals + 1 {
		np := spec.PayloadProposal
		if i == MaxProposals {
			np = spec.PayloadNone
		}
		manyProps = append(manyProps, proposalB(np, uint8(i), spec.ProtoESP, spi, 0))
	}
	var manyAttrs [][]byte
	for range MaxAttributes + 1 {
		manyAttrs = append(manyAttrs, tvAES)
	}
	for _, c := range []struct {
		name string
		body []byte
		n    spec.NotifyType
	}{
		{"body too short", []byte{0, 0, 0, 1, 0, 0, 0}, spec.PayloadMalformed},
		{"no proposal", saBody(), spec.BadProposalSyntax},
		{"truncated proposal header", saBody([]byte{0, 0, 0, 8, 1, 1}), spec.BadProposalSyntax},
		{"proposal length past SA", saBody(longProp), spec.BadProposalSyntax},
		{"proposal length < 8", saBody(shortProp), spec.BadProposalSyntax},
		{"octets after last proposal", saBody(ikeProposal(), []byte{0, 0, 0, 0}), spec.BadProposalSyntax},
		{"proposal announces another, none", saBody(proposalB(spec.PayloadProposal, 1, spec.ProtoISAKMP, nil, 1, tr)), spec.BadProposalSyntax},
		{"proposal next payload 3", saBody(proposalB(spec.PayloadTransform, 1, spec.ProtoISAKMP, nil, 1, tr), ikeProposal()), spec.BadProposalSyntax},
		{"proposal next payload 1", saBody(proposalB(spec.PayloadSA, 1, spec.ProtoISAKMP, nil, 1, tr)), spec.BadProposalSyntax},
		{"transform next payload 2", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 2,
			transformB(spec.PayloadProposal, 1, spec.KeyIKE), tr)), spec.BadProposalSyntax},
		{"transform count too high", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 2, tr)), spec.BadProposalSyntax},
		{"transform count too low", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 1,
			transformB(spec.PayloadTransform, 1, spec.KeyIKE), tr)), spec.BadProposalSyntax},
		{"transform count 0 with transforms", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 0, tr)), spec.BadProposalSyntax},
		{"transform announces another, none", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 1,
			transformB(spec.PayloadTransform, 1, spec.KeyIKE))), spec.BadProposalSyntax},
		{"octets after last transform", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 1, tr, []byte{0, 0})), spec.BadProposalSyntax},
		{"truncated transform header", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 1, []byte{0, 0, 0, 8})), spec.BadProposalSyntax},
		{"transform length < 8", saBody(shortTrans), spec.BadProposalSyntax},
		{"transform length past proposal", saBody(overTrans), spec.BadProposalSyntax},
		{"TLV length past transform", saBody(badTLV), spec.BadProposalSyntax},
		{"truncated attribute", saBody(truncAttr), spec.BadProposalSyntax},
		{"too many proposals", saBody(manyProps...), spec.BadProposalSyntax},
		{"too many attributes", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, nil, 1,
			transformB(spec.PayloadNone, 1, spec.KeyIKE, manyAttrs...))), spec.BadProposalSyntax},
		{"ESP SPI size 3", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoESP, []byte{1, 2, 3}, 0)), spec.InvalidSPI},
		{"AH SPI size 0", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoAH, nil, 0)), spec.InvalidSPI},
		{"IPComp SPI size 3", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoIPComp, []byte{1, 2, 3}, 0)), spec.InvalidSPI},
		{"ISAKMP SPI size 17", saBody(proposalB(spec.PayloadNone, 1, spec.ProtoISAKMP, make([]byte, 17), 0)), spec.InvalidSPI},
		{"SPI overruns proposal", saBody([]byte{0, 0, 0, 8, 1, byte(spec.ProtoESP), 4, 0}), spec.BadProposalSyntax},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeSA(t, c.body)
			e := wantNotify(t, err, c.n)
			if e.Payload != spec.PayloadSA {
				t.Errorf("payload %s", e.Payload)
			}
		})
	}
}

func TestTooManyTransforms(t *testing.T) {
	var props [][]byte
	n := 0
	for i := range 3 {
		var trs [][]byte
		for j := range 100 {
			np := spec.PayloadTransform
			if j == 99 {
				np = spec.PayloadNone
			}
			trs = append(trs, transformB(np, uint8(j), spec.KeyIKE))
			n++
		}
		np := spec.PayloadProposal
		if i == 2 {
			np = spec.PayloadNone
		}
		props = append(props, proposalB(np, uint8(i), spec.ProtoISAKMP, nil, 100, trs...))
	}
	_, err := decodeSA(t, saBody(props...))
	wantNotify(t, err, spec.BadProposalSyntax)
	if _, err := decodeSA(t, saBody(props[:2]...)); err == nil {
		t.Error("200 transforms with a dangling proposal chain accepted")
	}
	props[1][0] = 0
	if sa, err := decodeSA(t, saBody(props[:2]...)); err != nil || len(sa.Proposals[1].Transforms) != 100 {
		t.Errorf("200 transforms: %v", err)
	}
}

func TestSAOpaqueSituation(t *testing.T) {
	for _, body := range [][]byte{
		cat([]byte{0, 0, 0, 2, 0, 0, 0, 1}, ikeProposal()),                                     // unknown DOI
		cat([]byte{0, 0, 0, 0, 0, 0, 0, 1}, ikeProposal()),                                     // ISAKMP DOI
		cat([]byte{0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 9, 0, 4, 0, 0, 1, 2, 3, 4}, ikeProposal()), // SIT_SECRECY
	} {
		sa, err := decodeSA(t, body)
		if err != nil {
			t.Fatal(err)
		}
		if sa.Proposals != nil || !bytes.Equal(sa.SituationRaw, body[4:]) || uint32(sa.Situation) != be32(body[4:]) {
			t.Errorf("%+v", sa)
		}
	}
}

func TestSAReserved(t *testing.T) {
	p := ikeProposal()
	p[1] = 0x11                       // proposal RESERVED
	p[9] = 0x22                       // transform RESERVED
	p[14], p[15] = 0x33, 0x44         // transform RESERVED2
	sa, err := decodeSA(t, saBody(p)) // decodeSA checks the round trip
	if err != nil {
		t.Fatal(err)
	}
	pr := sa.Proposals[0]
	if pr.Reserved != 0x11 || pr.Transforms[0].Reserved != 0x22 || pr.Transforms[0].Reserved2 != 0x3344 {
		t.Errorf("%+v", pr)
	}
}

func TestSAEncodePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	sa := &SA{DOI: spec.DOIIPsec, Proposals: []Proposal{{Transforms: make([]Transform, 256)}}}
	sa.AppendBody(nil)
}
