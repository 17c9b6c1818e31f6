package payloads

// Attribute Payload, type 14, for ModeCfg and XAUTH
// (draft-ietf-ipsec-isakmp-mode-cfg-05 §3.2, draft-beaulieu-ike-xauth-02)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!     Type      !   RESERVED    !           Identifier          !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                           Attributes                          ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The attributes use the data attribute format of RFC 2408 §3.3 (see
// attributes.go); a malformed list is PAYLOAD_MALFORMED.

import "goswan/spec"

// ModeCfg message types (the Type field).
const (
	ModeCfgRequest = 1 // ISAKMP_CFG_REQUEST
	ModeCfgReply   = 2 // ISAKMP_CFG_REPLY
	ModeCfgSet     = 3 // ISAKMP_CFG_SET
	ModeCfgAck     = 4 // ISAKMP_CFG_ACK
)

// Attr is the ModeCfg/XAUTH attribute payload.
type Attr struct {
	Generic
	Kind       uint8 // ModeCfgRequest, ModeCfgReply, ModeCfgSet or ModeCfgAck
	Identifier uint16
	Attributes []Attribute
	Reserved2  uint8 // the RESERVED octet after Type, as received
	// Pad is the zero padding after the attributes, as received: libreswan
	// pads the list to a multiple of four octets (up to three zeros that
	// do not make an attribute header).
	Pad int
}

func (*Attr) Type() spec.PayloadType { return spec.PayloadAttr }

// AppendBody implements Payload.
func (p *Attr) AppendBody(b []byte) []byte {
	b = append(b, p.Kind, p.Reserved2)
	b = append16(b, p.Identifier)
	b = AppendAttributes(b, p.Attributes)
	return append(b, make([]byte, p.Pad)...)
}

func (p *Attr) decode(_ spec.PayloadType, b []byte, off int) error {
	if len(b) < 4 {
		return errorf(spec.PayloadMalformed, spec.PayloadAttr, off, "body of %d octets, need 4", len(b))
	}
	p.Kind = b[0]
	p.Reserved2 = b[1]
	p.Identifier = uint16(be16(b[2:]))
	body := b[4:]
	as, err := decodeAttributes(body, off+4, spec.PayloadAttr, spec.PayloadMalformed)
	for pad := 1; err != nil && pad <= 3 && pad <= len(body) && body[len(body)-pad] == 0; pad++ {
		if as2, err2 := decodeAttributes(body[:len(body)-pad], off+4, spec.PayloadAttr, spec.PayloadMalformed); err2 == nil {
			as, err, p.Pad = as2, nil, pad
		}
	}
	if err != nil {
		return err
	}
	p.Attributes = as
	return nil
}
