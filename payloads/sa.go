package payloads

// Security Association Payload (RFC 2408 §3.4)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!              Domain of Interpretation  (DOI)                  !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                           Situation                           ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// followed by one or more Proposal substructures. In the IPsec DOI (RFC 2407
// §4.6.1) the Situation is a four-octet bitmap; with SIT_SECRECY or
// SIT_INTEGRITY set, labeled-domain fields follow it.
//
// Proposal Payload (RFC 2408 §3.5)
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Proposal #   !  Protocol-Id  !    SPI Size   !# of Transforms!
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                        SPI (variable)                         !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Next Payload is 2 (another proposal follows) or 0 (last); the length
// covers the SPI and the transforms that follow.
//
// Transform Payload (RFC 2408 §3.6)
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Transform #  !  Transform-Id !           RESERVED2           !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                        SA Attributes                          ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Next Payload is 3 (another transform follows) or 0 (last).
//
// Decoding errors inside the proposals are BAD_PROPOSAL_SYNTAX (what pluto
// answers), except an SPI size that the protocol does not allow, which is
// INVALID_SPI: ISAKMP 0..16 octets (RFC 2408 §3.5), AH and ESP 4, IPComp 2
// or 4 (RFC 2407 §4.4.1; a CPI may be sent in an SPI-sized field). Proposals
// with zero transforms are accepted (pluto skips them).

import (
	"goswan/spec"
)

// SA is the Security Association payload.
type SA struct {
	Generic
	DOI       spec.DOI
	Situation spec.Situation // first four octets of the situation
	// SituationRaw is nil in the normal case. When the situation cannot be
	// delimited (a DOI other than IPsec, or an IPsec situation with
	// SIT_SECRECY or SIT_INTEGRITY and their labeled-domain fields) it
	// holds everything after the DOI, Proposals is nil, and the daemon
	// answers DOI_NOT_SUPPORTED or SITUATION_NOT_SUPPORTED as pluto does.
	// When non-nil, encoding writes DOI and SituationRaw only.
	SituationRaw []byte
	Proposals    []Proposal
}

// Proposal is a Proposal substructure of an SA payload.
type Proposal struct {
	Number     uint8
	Protocol   spec.ProtocolID
	SPI        []byte // nil when the SPI size is 0
	Transforms []Transform
	Reserved   uint8 // RESERVED octet, as received
}

// Transform is a Transform substructure of a proposal.
type Transform struct {
	Number     uint8
	ID         spec.TransformID
	Attributes []Attribute
	Reserved   uint8  // RESERVED octet, as received
	Reserved2  uint16 // RESERVED2, as received
}

func (*SA) Type() spec.PayloadType { return spec.PayloadSA }

// Lookup returns the first attribute of the given class.
func (t *Transform) Lookup(class uint16) (Attribute, bool) { return Lookup(t.Attributes, class) }

// AppendBody implements Payload. It panics if a proposal has more than 255
// transforms or SPI octets, or a substructure exceeds 65535 octets.
func (s *SA) AppendBody(b []byte) []byte {
	b = append32(b, uint32(s.DOI))
	if s.SituationRaw != nil {
		return append(b, s.SituationRaw...)
	}
	b = append32(b, uint32(s.Situation))
	for i := range s.Proposals {
		b = s.Proposals[i].append(b, i == len(s.Proposals)-1)
	}
	return b
}

func (p *Proposal) append(b []byte, last bool) []byte {
	if len(p.SPI) > 0xff || len(p.Transforms) > 0xff {
		panic("payloads: proposal with more than 255 SPI octets or transforms")
	}
	np := spec.PayloadProposal
	if last {
		np = spec.PayloadNone
	}
	start := len(b)
	b = append(b, byte(np), p.Reserved, 0, 0,
		p.Number, byte(p.Protocol), byte(len(p.SPI)), byte(len(p.Transforms)))
	b = append(b, p.SPI...)
	for i := range p.Transforms {
		b = p.Transforms[i].append(b, i == len(p.Transforms)-1)
	}
	putLen(b, start, start+2, "proposal")
	return b
}

func (t *Transform) append(b []byte, last bool) []byte {
	np := spec.PayloadTransform
	if last {
		np = spec.PayloadNone
	}
	start := len(b)
	b = append(b, byte(np), t.Reserved, 0, 0, t.Number, byte(t.ID))
	b = append16(b, t.Reserved2)
	b = AppendAttributes(b, t.Attributes)
	putLen(b, start, start+2, "transform")
	return b
}

func (s *SA) decode(_ spec.PayloadType, b []byte, off int) error {
	if len(b) < 8 {
		return errorf(spec.PayloadMalformed, spec.PayloadSA, off,
			"body of %d octets, need 8 for DOI and situation", len(b))
	}
	s.DOI = spec.DOI(be32(b))
	s.Situation = spec.Situation(be32(b[4:]))
	if s.DOI != spec.DOIIPsec || s.Situation&(spec.SitSecrecy|spec.SitIntegrity) != 0 {
		s.SituationRaw = b[4:]
		return nil
	}
	var a saArena
	if err := walkProposals(b[8:], off+8, &a); err != nil {
		return err
	}
	a.props = make([]Proposal, a.np)
	if a.nt > 0 {
		a.trans = make([]Transform, a.nt)
	}
	if a.na > 0 {
		a.attrs = make([]Attribute, a.na)
	}
	a.np, a.nt, a.na = 0, 0, 0
	walkProposals(b[8:], off+8, &a) // cannot fail: same input
	s.Proposals = a.props
	return nil
}

// saArena backs all proposals, transforms and attributes of one SA with
// three slices. In the counting pass the slices are nil and np, nt, na
// count; in the filling pass they index the next free element.
type saArena struct {
	props      []Proposal
	trans      []Transform
	attrs      []Attribute
	np, nt, na int
}

func (a *saArena) filling() bool { return a.props != nil }

func badProposal(off int, format string, args ...any) error {
	return errorf(spec.BadProposalSyntax, spec.PayloadSA, off, format, args...)
}

// spiSizeOK reports whether protocol p allows an SPI of n octets.
func spiSizeOK(p spec.ProtocolID, n int) bool {
	switch p {
	case spec.ProtoISAKMP:
		return n <= 16
	case spec.ProtoAH, spec.ProtoESP:
		return n == 4
	case spec.ProtoIPComp:
		return n == 2 || n == 4
	}
	return true // unknown protocol: the daemon answers INVALID_PROTOCOL_ID
}

// walkProposals walks the proposals that must fill b exactly, following
// their Next Payload fields.
func walkProposals(b []byte, off int, a *saArena) error {
	if len(b) == 0 {
		return badProposal(off, "no proposal")
	}
	for {
		if a.np == MaxProposals {
			return badProposal(off, "more than %d proposals", MaxProposals)
		}
		if len(b) < 8 {
			return badProposal(off, "truncated proposal header: %d octets left", len(b))
		}
		pnp := spec.PayloadType(b[0])
		plen := be16(b[2:])
		if pnp != spec.PayloadNone && pnp != spec.PayloadProposal {
			return badProposal(off, "proposal next payload %d, want 0 or 2", uint8(pnp))
		}
		if plen < 8 || plen > len(b) {
			return badProposal(off, "proposal length %d not within 8..%d", plen, len(b))
		}
		p := b[:plen]
		proto := spec.ProtocolID(p[5])
		spiSize := int(p[6])
		ntrans := int(p[7])
		if !spiSizeOK(proto, spiSize) {
			return errorf(spec.InvalidSPI, spec.PayloadSA, off+6,
				"SPI size %d not allowed for %s", spiSize, proto)
		}
		if 8+spiSize > plen {
			return badProposal(off+6, "SPI of %d octets overruns proposal of %d", spiSize, plen)
		}
		firstT := a.nt
		if err := walkTransforms(p[8+spiSize:], off+8+spiSize, ntrans, a); err != nil {
			return err
		}
		if a.filling() {
			pr := &a.props[a.np]
			*pr = Proposal{Number: p[4], Protocol: proto, Reserved: p[1]}
			if spiSize > 0 {
				pr.SPI = p[8 : 8+spiSize]
			}
			if a.nt > firstT {
				pr.Transforms = a.trans[firstT:a.nt:a.nt]
			}
		}
		a.np++
		b = b[plen:]
		off += plen
		if pnp == spec.PayloadNone {
			break
		}
	}
	if len(b) != 0 {
		return badProposal(off, "%d octets after the last proposal", len(b))
	}
	return nil
}

// walkTransforms walks the transforms that must fill b exactly; want is the
// proposal's "# of Transforms".
func walkTransforms(b []byte, off, want int, a *saArena) error {
	got := 0
	for len(b) > 0 {
		if a.nt == MaxTransforms {
			return badProposal(off, "more than %d transforms", MaxTransforms)
		}
		if len(b) < 8 {
			return badProposal(off, "truncated transform header: %d octets left", len(b))
		}
		tnp := spec.PayloadType(b[0])
		tlen := be16(b[2:])
		if tnp != spec.PayloadNone && tnp != spec.PayloadTransform {
			return badProposal(off, "transform next payload %d, want 0 or 3", uint8(tnp))
		}
		if tlen < 8 || tlen > len(b) {
			return badProposal(off, "transform length %d not within 8..%d", tlen, len(b))
		}
		var dst []Attribute
		if a.filling() {
			dst = a.attrs[a.na:]
		}
		na, err := walkAttributes(b[8:tlen], off+8, dst, spec.PayloadSA, spec.BadProposalSyntax)
		if err != nil {
			return err
		}
		if a.filling() {
			t := &a.trans[a.nt]
			*t = Transform{Number: b[4], ID: spec.TransformID(b[5]), Reserved: b[1], Reserved2: uint16(be16(b[6:]))}
			if na > 0 {
				t.Attributes = a.attrs[a.na : a.na+na : a.na+na]
			}
		}
		a.na += na
		a.nt++
		got++
		b = b[tlen:]
		off += tlen
		if tnp == spec.PayloadNone {
			if len(b) != 0 {
				return badProposal(off, "%d octets after the last transform", len(b))
			}
			break
		}
		if len(b) == 0 {
			return badProposal(off, "transform announces another transform but the proposal ends")
		}
	}
	if got != want {
		return badProposal(off, "proposal announces %d transforms, holds %d", want, got)
	}
	return nil
}
