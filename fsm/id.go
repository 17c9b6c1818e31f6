package fsm

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"goswan/spec"
)

// ID is an IKE identity as carried in an ID payload (RFC 2407 §4.6.2):
// the type and the identification data.
type ID struct {
	Type spec.IDType
	Data []byte
}

// ParseID reads an identity in pluto's spelling: an IP address, "@fqdn",
// "user@fqdn", or "@#hex" for a KEY_ID.
func ParseID(s string) (ID, error) {
	switch {
	case s == "":
		return ID{}, errors.New("empty ID")
	case strings.HasPrefix(s, "@#"):
		b, err := decodeHex(s[2:])
		if err != nil {
			return ID{}, fmt.Errorf("ID %q: %v", s, err)
		}
		return ID{Type: spec.IDKeyID, Data: b}, nil
	case strings.HasPrefix(s, "@"):
		return ID{Type: spec.IDFQDN, Data: []byte(s[1:])}, nil
	case strings.Contains(s, "@"):
		return ID{Type: spec.IDUserFQDN, Data: []byte(s)}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ID{}, fmt.Errorf("ID %q is neither an IP address, @FQDN nor user@FQDN", s)
	}
	return AddrID(a), nil
}

// AddrID is the ID_IPV4_ADDR or ID_IPV6_ADDR identity of a.
func AddrID(a netip.Addr) ID {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return ID{Type: spec.IDIPv4Addr, Data: b[:]}
	}
	b := a.As16()
	return ID{Type: spec.IDIPv6Addr, Data: b[:]}
}

// String prints the identity as pluto does: "192.0.2.1", "@east", "user@host".
func (id ID) String() string {
	switch id.Type {
	case spec.IDIPv4Addr, spec.IDIPv6Addr:
		if a, ok := netip.AddrFromSlice(id.Data); ok {
			return a.String()
		}
	case spec.IDFQDN:
		return "@" + string(id.Data)
	case spec.IDUserFQDN:
		return string(id.Data)
	case spec.IDKeyID:
		return fmt.Sprintf("@#%x", id.Data)
	case spec.IDDerASN1DN:
		if dnFuncs.format != nil {
			if s, err := dnFuncs.format(id.Data); err == nil {
				return s
			}
		}
	}
	return fmt.Sprintf("%s:%x", id.Type, id.Data)
}

// Equal reports whether two identities are the same (type and data).
func (id ID) Equal(o ID) bool { return id.Type == o.Type && string(id.Data) == string(o.Data) }

// Matches reports whether the peer's identity got is the one id asks for:
// Equal, except that distinguished names compare as pluto's match_dn
// (attribute by attribute, ignoring case and string type, "*" in id
// matching any value) once package certs has installed its DN functions.
func (id ID) Matches(got ID) bool {
	if id.Type == spec.IDDerASN1DN && got.Type == spec.IDDerASN1DN && dnFuncs.match != nil {
		return dnFuncs.match(id.Data, got.Data)
	}
	return id.Equal(got)
}

// dnFuncs are the distinguished-name functions of package certs (which
// imports fsm, so it installs them: SetDNFuncs). Without them DNs print as
// hex and compare octet by octet.
var dnFuncs struct {
	format func(der []byte) (string, error)
	match  func(pattern, dn []byte) bool
}

// SetDNFuncs installs how DNs print (ID.String) and match (ID.Matches).
func SetDNFuncs(format func(der []byte) (string, error), match func(pattern, dn []byte) bool) {
	dnFuncs.format, dnFuncs.match = format, match
}

func decodeHex(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errors.New("odd number of hex digits")
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		hi, lo := unhex(s[2*i]), unhex(s[2*i+1])
		if hi < 0 || lo < 0 {
			return nil, errors.New("bad hex digit")
		}
		b[i] = byte(hi<<4 | lo)
	}
	return b, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Client is the traffic selector of one end of a Quick Mode: a subnet and
// an optional protocol and port (RFC 2407 §4.6.2).
type Client struct {
	Net   netip.Prefix
	Proto uint8
	Port  uint16
}

// IDPayload encodes c as an ID payload body: ID_IPV4_ADDR(_SUBNET) or IPv6.
func (c Client) IDPayload() ID {
	a := c.Net.Addr().Unmap()
	bits := c.Net.Bits()
	if a.Is4() {
		b := a.As4()
		if bits == 32 {
			return ID{Type: spec.IDIPv4Addr, Data: b[:]}
		}
		m := netip.PrefixFrom(a, bits)
		mask := prefixMask(4, m.Bits())
		return ID{Type: spec.IDIPv4AddrSubnet, Data: append(b[:], mask...)}
	}
	b := a.As16()
	if bits == 128 {
		return ID{Type: spec.IDIPv6Addr, Data: b[:]}
	}
	return ID{Type: spec.IDIPv6AddrSubnet, Data: append(b[:], prefixMask(16, bits)...)}
}

func prefixMask(n, bits int) []byte {
	m := make([]byte, n)
	for i := 0; i < bits; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return m
}

// ClientFromID decodes a Quick Mode ID payload into a Client. Address
// ranges are accepted only when they are exactly a subnet (CVE-2023-38711:
// every ID type is handled, none crashes).
func ClientFromID(t spec.IDType, data []byte, proto uint8, port uint16) (Client, error) {
	if n := t.AddrLen(); n < 0 || len(data) != n {
		return Client{}, fmt.Errorf("%s with %d octets is not a usable traffic selector", t, len(data))
	}
	switch t {
	case spec.IDIPv4Addr, spec.IDIPv6Addr:
		a, _ := netip.AddrFromSlice(data)
		return Client{Net: netip.PrefixFrom(a, a.BitLen()), Proto: proto, Port: port}, nil
	case spec.IDIPv4AddrSubnet, spec.IDIPv6AddrSubnet:
		half := len(data) / 2
		a, _ := netip.AddrFromSlice(data[:half])
		bits, ok := maskBits(data[half:])
		if !ok {
			return Client{}, fmt.Errorf("%s has a non-contiguous mask", t)
		}
		return Client{Net: netip.PrefixFrom(a, bits).Masked(), Proto: proto, Port: port}, nil
	case spec.IDIPv4AddrRange, spec.IDIPv6AddrRange:
		half := len(data) / 2
		lo, _ := netip.AddrFromSlice(data[:half])
		hi, _ := netip.AddrFromSlice(data[half:])
		for bits := lo.BitLen(); bits >= 0; bits-- {
			p := netip.PrefixFrom(lo, bits)
			if p.Masked().Addr() == lo && lastAddr(p) == hi {
				return Client{Net: p, Proto: proto, Port: port}, nil
			}
		}
		return Client{}, fmt.Errorf("%s %s-%s is not a subnet", t, lo, hi)
	}
	return Client{}, fmt.Errorf("%s is not a traffic selector", t)
}

func maskBits(m []byte) (int, bool) {
	bits, seenZero := 0, false
	for _, b := range m {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) != 0 {
				if seenZero {
					return 0, false
				}
				bits++
			} else {
				seenZero = true
			}
		}
	}
	return bits, true
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// String prints c as pluto does: "10.1.0.0/24" (with ":proto/port" when set).
func (c Client) String() string {
	s := c.Net.String()
	if c.Proto != 0 || c.Port != 0 {
		s += fmt.Sprintf(":%d/%d", c.Proto, c.Port)
	}
	return s
}
