package payloads

// Identification Payload (RFC 2408 §3.8) in the IPsec DOI (RFC 2407 §4.6.2)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Next Payload !   RESERVED    !        Payload Length         !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!   ID Type     !  Protocol ID  !             Port              !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                     Identification Data                       ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Address types have a fixed data length: ID_IPV4_ADDR 4,
// ID_IPV4_ADDR_SUBNET and ID_IPV4_ADDR_RANGE 8, ID_IPV6_ADDR 16,
// ID_IPV6_ADDR_SUBNET and ID_IPV6_ADDR_RANGE 32 (address then mask, or
// first then last address). Another length is INVALID_ID_INFORMATION. The
// other types (FQDN, USER_FQDN, DER_ASN1_DN/GN, KEY_ID, LIST and unknown
// numbers) are kept as they are. IDii_b/IDir_b (RFC 2409 §5) is Body().

import (
	"net/netip"

	"goswan/spec"
)

// ID is the Identification payload.
type ID struct {
	Generic
	IDType     spec.IDType
	ProtocolID uint8 // IP protocol (spec.IPProtoUDP ...), 0 for any
	Port       uint16
	Data       []byte
}

func (*ID) Type() spec.PayloadType { return spec.PayloadID }

// AppendBody implements Payload.
func (p *ID) AppendBody(b []byte) []byte {
	b = append(b, byte(p.IDType), p.ProtocolID)
	b = append16(b, p.Port)
	return append(b, p.Data...)
}

func (p *ID) decode(_ spec.PayloadType, b []byte, off int) error {
	if len(b) < 4 {
		return errorf(spec.PayloadMalformed, spec.PayloadID, off,
			"body of %d octets, need 4 for type, protocol and port", len(b))
	}
	p.IDType = spec.IDType(b[0])
	p.ProtocolID = b[1]
	p.Port = uint16(be16(b[2:]))
	p.Data = b[4:]
	if n := p.IDType.AddrLen(); n >= 0 && len(p.Data) != n {
		return errorf(spec.InvalidIDInformation, spec.PayloadID, off+4,
			"%s data of %d octets, want %d", p.IDType, len(p.Data), n)
	}
	return nil
}

// Addr returns the address of an ID_IPV4_ADDR or ID_IPV6_ADDR.
func (p *ID) Addr() (netip.Addr, bool) {
	switch p.IDType {
	case spec.IDIPv4Addr, spec.IDIPv6Addr:
		if len(p.Data) == p.IDType.AddrLen() {
			a, ok := netip.AddrFromSlice(p.Data)
			return a, ok
		}
	}
	return netip.Addr{}, false
}

// Prefix returns the subnet of an ID_IPV4_ADDR_SUBNET or
// ID_IPV6_ADDR_SUBNET; ok is false when the mask is not contiguous. The
// address is returned as sent (host bits are not cleared).
func (p *ID) Prefix() (netip.Prefix, bool) {
	switch p.IDType {
	case spec.IDIPv4AddrSubnet, spec.IDIPv6AddrSubnet:
	default:
		return netip.Prefix{}, false
	}
	if len(p.Data) != p.IDType.AddrLen() {
		return netip.Prefix{}, false
	}
	half := len(p.Data) / 2
	a, _ := netip.AddrFromSlice(p.Data[:half])
	bits, ones := 0, true
	for _, c := range p.Data[half:] {
		for i := 7; i >= 0; i-- {
			if c&(1<<i) != 0 {
				if !ones {
					return netip.Prefix{}, false
				}
				bits++
			} else {
				ones = false
			}
		}
	}
	return netip.PrefixFrom(a, bits), true
}

// Range returns the bounds of an ID_IPV4_ADDR_RANGE or ID_IPV6_ADDR_RANGE.
func (p *ID) Range() (first, last netip.Addr, ok bool) {
	switch p.IDType {
	case spec.IDIPv4AddrRange, spec.IDIPv6AddrRange:
		if len(p.Data) == p.IDType.AddrLen() {
			half := len(p.Data) / 2
			first, _ = netip.AddrFromSlice(p.Data[:half])
			last, _ = netip.AddrFromSlice(p.Data[half:])
			return first, last, true
		}
	}
	return netip.Addr{}, netip.Addr{}, false
}
