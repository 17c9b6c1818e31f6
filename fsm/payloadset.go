package fsm

import (
	"strings"

	"goswan/spec"
)

// PayloadSet is a set of payload types, one bit per type number.
type PayloadSet [4]uint64

// Payloads returns the set of the given types.
func Payloads(ts ...spec.PayloadType) PayloadSet {
	var s PayloadSet
	for _, t := range ts {
		s.Add(t)
	}
	return s
}

func (s *PayloadSet) Add(t spec.PayloadType)     { s[t>>6] |= 1 << (t & 63) }
func (s PayloadSet) Has(t spec.PayloadType) bool { return s[t>>6]&(1<<(t&63)) != 0 }
func (s PayloadSet) Union(o PayloadSet) PayloadSet {
	return PayloadSet{s[0] | o[0], s[1] | o[1], s[2] | o[2], s[3] | o[3]}
}
func (s PayloadSet) Empty() bool { return s == PayloadSet{} }
func (s PayloadSet) Minus(o PayloadSet) PayloadSet {
	return PayloadSet{s[0] &^ o[0], s[1] &^ o[1], s[2] &^ o[2], s[3] &^ o[3]}
}

// Types lists the members in numeric order.
func (s PayloadSet) Types() []spec.PayloadType {
	var ts []spec.PayloadType
	for i := 0; i < 256; i++ {
		if s.Has(spec.PayloadType(i)) {
			ts = append(ts, spec.PayloadType(i))
		}
	}
	return ts
}

// String lists the members by name: "KE NONCE".
func (s PayloadSet) String() string {
	var names []string
	for _, t := range s.Types() {
		names = append(names, t.String())
	}
	return strings.Join(names, " ")
}
