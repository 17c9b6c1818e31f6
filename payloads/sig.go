package payloads

// Signature Payload (RFC 2408 §3.12)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                         Signature Data                        ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// SIG_I/SIG_R of signature authentication (RFC 2409 §5.1): for RSA, the
// PKCS#1 v1.5 signature of HASH_I/HASH_R without DigestInfo.

import "goswan/spec"

// Sig is the Signature payload.
type Sig struct {
	Generic
	Data []byte
}

func (*Sig) Type() spec.PayloadType { return spec.PayloadSig }

// AppendBody implements Payload.
func (p *Sig) AppendBody(b []byte) []byte { return append(b, p.Data...) }

func (p *Sig) decode(_ spec.PayloadType, b []byte, _ int) error {
	p.Data = b
	return nil
}
