package payloads

// NAT Original Address Payload (RFC 3947 §5.2; payload type 21, 131 in the
// drafts)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |    RESERVED   |        Payload length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|    ID Type    |    RESERVED   |            RESERVED           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           IPv4 (4 octets) or IPv6 address (16 octets)         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RFC 3947 allows only ID_IPV4_ADDR and ID_IPV6_ADDR. An address type of the
// wrong length is PAYLOAD_MALFORMED; other ID types are kept as they are for
// the daemon to ignore, as pluto does.

import (
	"net/netip"

	"goswan/spec"
)

// NATOA is the NAT-OA payload, RFC or draft number.
type NATOA struct {
	Generic
	// PayloadType is spec.PayloadNATOA (21) or spec.PayloadNATOADraft
	// (131); zero means 21.
	PayloadType spec.PayloadType
	IDType      spec.IDType
	Addr        []byte
	Reserved2   [3]byte // the RESERVED octets after ID Type, as received
}

// Type returns PayloadType, or spec.PayloadNATOA when it is zero.
func (p *NATOA) Type() spec.PayloadType {
	if p.PayloadType == spec.PayloadNone {
		return spec.PayloadNATOA
	}
	return p.PayloadType
}

// AppendBody implements Payload.
func (p *NATOA) AppendBody(b []byte) []byte {
	b = append(b, byte(p.IDType))
	b = append(b, p.Reserved2[:]...)
	return append(b, p.Addr...)
}

// IP returns the original address.
func (p *NATOA) IP() (netip.Addr, bool) {
	switch p.IDType {
	case spec.IDIPv4Addr, spec.IDIPv6Addr:
		if len(p.Addr) == p.IDType.AddrLen() {
			return netip.AddrFromSlice(p.Addr)
		}
	}
	return netip.Addr{}, false
}

func (p *NATOA) decode(t spec.PayloadType, b []byte, off int) error {
	if len(b) < 4 {
		return errorf(spec.PayloadMalformed, t, off, "body of %d octets, need 4", len(b))
	}
	p.PayloadType = t
	p.IDType = spec.IDType(b[0])
	copy(p.Reserved2[:], b[1:4])
	p.Addr = b[4:]
	if n := p.IDType.AddrLen(); n >= 0 && len(p.Addr) != n {
		return errorf(spec.PayloadMalformed, t, off+4,
			"%s address of %d octets, want %d", p.IDType, len(p.Addr), n)
	}
	return nil
}
