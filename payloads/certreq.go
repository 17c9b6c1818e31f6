package payloads

// Certificate Request Payload (RFC 2408 §3.10)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Cert. Type   !                                               !
//	+-+-+-+-+-+-+-+-+                                               !
//	~                    Certificate Authority                      ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The authority (a DER distinguished name for X.509) may be empty: "any CA".

import "goswan/spec"

// CR is the Certificate Request payload.
type CR struct {
	Generic
	Encoding  spec.CertEncoding
	Authority []byte
}

func (*CR) Type() spec.PayloadType { return spec.PayloadCR }

// AppendBody implements Payload.
func (p *CR) AppendBody(b []byte) []byte {
	return append(append(b, byte(p.Encoding)), p.Authority...)
}

func (p *CR) decode(_ spec.PayloadType, b []byte, off int) error {
	if len(b) < 1 {
		return errorf(spec.PayloadMalformed, spec.PayloadCR, off, "no certificate type octet")
	}
	p.Encoding = spec.CertEncoding(b[0])
	p.Authority = b[1:]
	return nil
}
