// Package spec holds the IKEv1 vocabulary: every number that appears on the
// wire, as a typed constant with the name that RFCs and pluto print for it.
//
// Sources: RFC 2408 (ISAKMP), RFC 2407 (IPsec DOI), RFC 2409 (IKE) Appendix A,
// RFC 3526 and RFC 5903 (groups), RFC 3947 (NAT-T), RFC 3706 (DPD) and the
// IANA "Internet Key Exchange (IKE) Attributes" and "Magic Numbers for ISAKMP
// Protocol" registries. Each block below cites the section it comes from.
//
// Only specification constants live here; implementation tunables (timeouts,
// limits) belong to the packages that use them.
package spec

import "strconv"

// nameTable maps wire values to printed names. Unknown values print as
// FAMILY(n) so that a log line never hides the number that was received.
type nameTable map[uint32]string

func (t nameTable) name(v uint32, family string) string {
	if s, ok := t[v]; ok {
		return s
	}
	return family + "(" + strconv.FormatUint(uint64(v), 10) + ")"
}

// lookup returns the value whose name is s.
func (t nameTable) lookup(s string) (uint32, bool) {
	for v, n := range t {
		if n == s {
			return v, true
		}
	}
	return 0, false
}
