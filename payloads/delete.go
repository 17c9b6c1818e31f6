package payloads

// Delete Payload (RFC 2408 §3.15)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!              Domain of Interpretation  (DOI)                  !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Protocol-Id  !   SPI Size    !           # of SPIs           !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~               Security Parameter Index(es) (SPI)              ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The SPIs must fill the payload exactly (SPI Size × # of SPIs octets) and
// number at most MaxDeleteSPIs (PAYLOAD_MALFORMED otherwise). Whether the
// SPI size suits the protocol (16 for ISAKMP, 4 for AH/ESP) is the daemon's
// check; pluto ignores a Delete with a wrong size rather than rejecting the
// message.

import "goswan/spec"

// Delete is the Delete payload.
type Delete struct {
	Generic
	DOI      spec.DOI
	Protocol spec.ProtocolID
	SPISize  uint8
	SPIs     [][]byte // each SPISize octets
}

func (*Delete) Type() spec.PayloadType { return spec.PayloadD }

// AppendBody implements Payload. It panics if an SPI is not SPISize octets
// long or there are more than 65535 SPIs.
func (p *Delete) AppendBody(b []byte) []byte {
	if len(p.SPIs) > 0xffff {
		panic("payloads: more than 65535 SPIs in a Delete payload")
	}
	b = append32(b, uint32(p.DOI))
	b = append(b, byte(p.Protocol), p.SPISize)
	b = append16(b, uint16(len(p.SPIs)))
	for _, spi := range p.SPIs {
		if len(spi) != int(p.SPISize) {
			panic("payloads: Delete SPI length differs from SPISize")
		}
		b = append(b, spi...)
	}
	return b
}

func (p *Delete) decode(_ spec.PayloadType, b []byte, off int) error {
	if len(b) < 8 {
		return errorf(spec.PayloadMalformed, spec.PayloadD, off,
			"body of %d octets, need 8", len(b))
	}
	p.DOI = spec.DOI(be32(b))
	p.Protocol = spec.ProtocolID(b[4])
	p.SPISize = b[5]
	n := be16(b[6:])
	if n > MaxDeleteSPIs {
		return errorf(spec.PayloadMalformed, spec.PayloadD, off+6,
			"%d SPIs, at most %d accepted", n, MaxDeleteSPIs)
	}
	size := int(p.SPISize)
	if n*size != len(b)-8 {
		return errorf(spec.PayloadMalformed, spec.PayloadD, off+8,
			"%d SPIs of %d octets need %d octets, payload has %d", n, size, n*size, len(b)-8)
	}
	if n == 0 {
		return nil
	}
	p.SPIs = make([][]byte, n)
	for i := range p.SPIs {
		p.SPIs[i] = b[8+i*size : 8+(i+1)*size]
	}
	return nil
}
