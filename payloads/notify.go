package payloads

// Notification Payload (RFC 2408 §3.14)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!              Domain of Interpretation  (DOI)                  !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Protocol-ID  !   SPI Size    !      Notify Message Type      !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                Security Parameter Index (SPI)                 ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                       Notification Data                       ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The SPI must fit in the payload (PAYLOAD_MALFORMED); its size is not
// checked against the protocol: ISAKMP notifications carry 0 or 16 octets
// (the cookie pair, as in INITIAL_CONTACT or R_U_THERE), and deciding what
// to make of an odd size is the daemon's business. Notification Data is the
// rest (the DPD sequence number for R_U_THERE, RFC 3706 §5).

import "goswan/spec"

// Notify is the Notification payload.
type Notify struct {
	Generic
	DOI        spec.DOI
	Protocol   spec.ProtocolID
	SPI        []byte // nil when the SPI size is 0
	NotifyType spec.NotifyType
	Data       []byte
}

func (*Notify) Type() spec.PayloadType { return spec.PayloadN }

// AppendBody implements Payload. It panics if the SPI exceeds 255 octets.
func (p *Notify) AppendBody(b []byte) []byte {
	if len(p.SPI) > 0xff {
		panic("payloads: notification SPI longer than 255 octets")
	}
	b = append32(b, uint32(p.DOI))
	b = append(b, byte(p.Protocol), byte(len(p.SPI)))
	b = append16(b, uint16(p.NotifyType))
	b = append(b, p.SPI...)
	return append(b, p.Data...)
}

func (p *Notify) decode(_ spec.PayloadType, b []byte, off int) error {
	if len(b) < 8 {
		return errorf(spec.PayloadMalformed, spec.PayloadN, off,
			"body of %d octets, need 8", len(b))
	}
	p.DOI = spec.DOI(be32(b))
	p.Protocol = spec.ProtocolID(b[4])
	n := int(b[5])
	p.NotifyType = spec.NotifyType(be16(b[6:]))
	if n > len(b)-8 {
		return errorf(spec.PayloadMalformed, spec.PayloadN, off+5,
			"SPI of %d octets overruns the %d octets left", n, len(b)-8)
	}
	if n > 0 {
		p.SPI = b[8 : 8+n]
	}
	p.Data = b[8+n:]
	return nil
}
