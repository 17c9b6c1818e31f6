package certs

import (
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"goswan/fsm"
	"goswan/spec"
)

// IDsOf returns the identities certificate c vouches for, in pluto's
// order: its subject DN (ID_DER_ASN1_DN, the DER of the RDNSequence as the
// certificate carries it; left out when the subject is empty), then its
// subjectAltNames: DNS names (ID_FQDN), email addresses (ID_USER_FQDN) and
// IP addresses (ID_IPV4_ADDR, ID_IPV6_ADDR).
func IDsOf(c *x509.Certificate) []fsm.ID {
	if c == nil {
		return nil
	}
	var ids []fsm.ID
	if avas, err := parseRDNs(c.RawSubject); err == nil && len(avas) > 0 {
		ids = append(ids, fsm.ID{Type: spec.IDDerASN1DN, Data: append([]byte(nil), c.RawSubject...)})
	}
	for _, n := range c.DNSNames {
		ids = append(ids, fsm.ID{Type: spec.IDFQDN, Data: []byte(n)})
	}
	for _, e := range c.EmailAddresses {
		ids = append(ids, fsm.ID{Type: spec.IDUserFQDN, Data: []byte(e)})
	}
	for _, ip := range c.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			ids = append(ids, fsm.AddrID(a))
		}
	}
	return ids
}

// Matches reports whether certificate c vouches for id, that is whether id
// is one of IDsOf(c): a DN compared as pluto's same_dn does (SameDN:
// attribute by attribute, values ignoring case and string type), FQDN and
// user@FQDN ignoring case and one trailing dot, addresses octet by octet
// (with the length the ID type requires, CVE-2013-6075).
func Matches(c *x509.Certificate, id fsm.ID) bool {
	if c == nil {
		return false
	}
	switch id.Type {
	case spec.IDDerASN1DN:
		return SameDN(c.RawSubject, id.Data)
	case spec.IDFQDN:
		for _, n := range c.DNSNames {
			if sameName(n, string(id.Data)) {
				return true
			}
		}
	case spec.IDUserFQDN:
		for _, e := range c.EmailAddresses {
			if sameName(e, string(id.Data)) {
				return true
			}
		}
	case spec.IDIPv4Addr, spec.IDIPv6Addr:
		if len(id.Data) != id.Type.AddrLen() {
			return false
		}
		want, _ := netip.AddrFromSlice(id.Data)
		for _, ip := range c.IPAddresses {
			if a, ok := netip.AddrFromSlice(ip); ok && fsm.AddrID(a).Equal(fsm.AddrID(want)) {
				return true
			}
		}
	}
	return false
}

// sameName compares FQDNs and user@FQDNs as pluto's same_id: ignoring case
// and a trailing dot.
func sameName(a, b string) bool {
	return a != "" && strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

// ParseID reads an identity as pluto's atoid does, with distinguished
// names: anything containing '=' is a DN ("C=CH, O=Linux strongSwan,
// CN=west", see ParseDN) and "@~hex" is the DER of a DN in hex; the rest
// (IP address, @FQDN, user@FQDN, @#hex) is fsm.ParseID's.
func ParseID(s string) (fsm.ID, error) {
	switch {
	case strings.HasPrefix(s, "@~"):
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return fsm.ID{}, fmt.Errorf("ID %q: bad hex DER DN", s)
		}
		if _, err := parseRDNs(b); err != nil {
			return fsm.ID{}, fmt.Errorf("ID %q: %v", s, err)
		}
		return fsm.ID{Type: spec.IDDerASN1DN, Data: b}, nil
	case strings.Contains(s, "="):
		der, err := ParseDN(s)
		if err != nil {
			return fsm.ID{}, fmt.Errorf("ID %v", err)
		}
		return fsm.ID{Type: spec.IDDerASN1DN, Data: der}, nil
	}
	return fsm.ParseID(s)
}

// IDString prints an identity as pluto does: a DN in its string form
// ("C=CH, O=Linux strongSwan, CN=west", see FormatDN), any other as
// id.String().
func IDString(id fsm.ID) string {
	if id.Type == spec.IDDerASN1DN {
		if s, err := FormatDN(id.Data); err == nil {
			return s
		}
	}
	return id.String()
}

// The state machine prints and matches DN identities with this package's
// functions (fsm cannot import it: this package imports fsm).
func init() {
	fsm.SetDNFuncs(FormatDN, func(pattern, dn []byte) bool {
		ok, _ := MatchDN(dn, pattern)
		return ok
	})
}
