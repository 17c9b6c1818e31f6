package payloads

// Certificate Payload (RFC 2408 §3.9)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Cert Encoding !                                               !
//	+-+-+-+-+-+-+-+-+                                               !
//	~                       Certificate Data                        ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import "goswan/spec"

// Cert is the Certificate payload.
type Cert struct {
	Generic
	Encoding spec.CertEncoding // spec.CertX509Signature for a DER X.509 certificate
	Data     []byte
}

func (*Cert) Type() spec.PayloadType { return spec.PayloadCert }

// AppendBody implements Payload.
func (p *Cert) AppendBody(b []byte) []byte {
	return append(append(b, byte(p.Encoding)), p.Data...)
}

func (p *Cert) decode(_ spec.PayloadType, b []byte, off int) error {
	if len(b) < 1 {
		return errorf(spec.PayloadMalformed, spec.PayloadCert, off, "no certificate encoding octet")
	}
	p.Encoding = spec.CertEncoding(b[0])
	p.Data = b[1:]
	return nil
}
