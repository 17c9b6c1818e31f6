package payloads

// NAT-Discovery Payload (RFC 3947 §3.2; payload type 20, 130 in the drafts)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |    RESERVED   |        Payload length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                 HASH of the address and port                  ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// HASH = HASH(CKY-I | CKY-R | IP | Port) with the negotiated hash.

import "goswan/spec"

// NATD is the NAT-D payload, RFC or draft number.
type NATD struct {
	Generic
	// PayloadType is spec.PayloadNATD (20) or spec.PayloadNATDDraft
	// (130); zero means 20.
	PayloadType spec.PayloadType
	Hash        []byte
}

// Type returns PayloadType, or spec.PayloadNATD when it is zero.
func (p *NATD) Type() spec.PayloadType {
	if p.PayloadType == spec.PayloadNone {
		return spec.PayloadNATD
	}
	return p.PayloadType
}

// AppendBody implements Payload.
func (p *NATD) AppendBody(b []byte) []byte { return append(b, p.Hash...) }

func (p *NATD) decode(t spec.PayloadType, b []byte, _ int) error {
	p.PayloadType = t
	p.Hash = b
	return nil
}
