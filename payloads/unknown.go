package payloads

// Payload of a type this package does not decode (RFC 2408 §3.2 generic
// header plus an opaque body)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                             Data                              ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Includes Proposal (2) and Transform (3) met at the outer level, SAK (15),
// the IKEv1 fragment payload (132) and private-use numbers. See RejectUnknown
// for the daemon's policy.

import "goswan/spec"

// Unknown is a payload kept as raw bytes.
type Unknown struct {
	Generic
	PayloadType spec.PayloadType // must not be PayloadNone when encoding
	Data        []byte
}

func (p *Unknown) Type() spec.PayloadType { return p.PayloadType }

// AppendBody implements Payload.
func (p *Unknown) AppendBody(b []byte) []byte { return append(b, p.Data...) }

func (p *Unknown) decode(t spec.PayloadType, b []byte, _ int) error {
	p.PayloadType = t
	p.Data = b
	return nil
}
