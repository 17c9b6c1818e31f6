package payloads

// Nonce Payload (RFC 2408 §3.13)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                            Nonce Data                         ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RFC 2409 §5: "The length of nonce payload MUST be between 8 and 256 bytes
// inclusive"; pluto answers PAYLOAD_MALFORMED otherwise, and so does the
// decoder.

import "goswan/spec"

// Nonce is the Nonce payload: Ni_b or Nr_b.
type Nonce struct {
	Generic
	Data []byte
}

func (*Nonce) Type() spec.PayloadType { return spec.PayloadNonce }

// AppendBody implements Payload.
func (p *Nonce) AppendBody(b []byte) []byte { return append(b, p.Data...) }

func (p *Nonce) decode(_ spec.PayloadType, b []byte, off int) error {
	if len(b) < spec.MinNonce || len(b) > spec.MaxNonce {
		return errorf(spec.PayloadMalformed, spec.PayloadNonce, off,
			"nonce of %d octets, want %d..%d", len(b), spec.MinNonce, spec.MaxNonce)
	}
	p.Data = b
	return nil
}
