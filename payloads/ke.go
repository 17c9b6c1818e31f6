package payloads

// Key Exchange Payload (RFC 2408 §3.7)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                       Key Exchange Data                       ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// For the MODP groups the data is g^x as a big-endian integer padded to the
// length of the prime (RFC 2409 §5, pluto rejects other lengths with
// INVALID_KEY_INFORMATION); that check needs the negotiated group and is the
// daemon's.

import "goswan/spec"

// KE is the Key Exchange payload.
type KE struct {
	Generic
	Data []byte // the public value g^x
}

func (*KE) Type() spec.PayloadType { return spec.PayloadKE }

// AppendBody implements Payload.
func (p *KE) AppendBody(b []byte) []byte { return append(b, p.Data...) }

func (p *KE) decode(_ spec.PayloadType, b []byte, _ int) error {
	p.Data = b
	return nil
}
