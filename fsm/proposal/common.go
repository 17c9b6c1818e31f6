package proposal

import (
	"bytes"
	"math"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

// ProposalNumber is the number of the proposal (Phase 1) or of the one
// proposal conjunction (Phase 2) that BuildPhase1SA and BuildPhase2SA emit.
// pluto numbers conjunctions from 0 (Openswan spdb_struct.c, libreswan
// ikev1_spdb_struct.c: "proposal.isap_proposal = pcn"), as the recorded
// libreswan MI1 and QI1 show; RFC 2408 only asks for monotonic numbers.
const ProposalNumber = 0

const (
	// DefaultIKELifetime is the ISAKMP SA lifetime sent when
	// Phase1Policy.Lifetime is 0, and assumed when a peer's transform has
	// no seconds lifetime (pluto's OAKLEY_ISAKMP_SA_LIFETIME_DEFAULT).
	DefaultIKELifetime = time.Hour
	// DefaultIPsecLifetime is the IPsec SA lifetime sent when
	// Phase2Policy.Lifetime is 0, and assumed when a peer's transform has
	// no seconds lifetime (RFC 2407 §4.5: 28800 seconds).
	DefaultIPsecLifetime = 8 * time.Hour
)

// maxWireSeconds is the largest lifetime sent: pluto emits long durations as
// a four-octet TLV.
const maxWireSeconds = math.MaxUint32

// lifetimeSeconds converts a configured lifetime to wire seconds.
func lifetimeSeconds(d, def time.Duration) uint64 {
	if d <= 0 {
		d = def
	}
	s := uint64(d / time.Second)
	if s == 0 {
		s = 1
	}
	return min(s, maxWireSeconds)
}

// lifetime turns proposed seconds (def when absent) into a duration capped
// at maxLifetime (no cap when maxLifetime <= 0).
func lifetime(l *lifeParser, def, maxLifetime time.Duration) time.Duration {
	d := def
	if l.hasSeconds {
		// Clamp before multiplying: a peer may send 2^64-1.
		d = time.Duration(min(l.seconds, uint64(math.MaxInt64/int64(time.Second)))) * time.Second
	}
	if maxLifetime > 0 && d > maxLifetime {
		d = maxLifetime
	}
	return d
}

// lifeParser follows the life type / life duration pairs of one transform,
// the same way for Oakley (classes 11, 12) and IPsec (1, 2) attributes:
// a duration applies to the type right before it, and each type may appear
// once (pluto's seen_durations).
type lifeParser struct {
	pending    uint16 // life type waiting for its duration, 0 for none
	seenType   [3]bool
	seconds    uint64
	hasSeconds bool
}

// typ handles a life type attribute of value v. It returns a fatal reason
// (BAD_PROPOSAL_SYNTAX) or a problem that makes the transform unacceptable.
func (l *lifeParser) typ(v uint16, typeName string) (fatal, problem string) {
	if l.pending != 0 {
		return typeName + " attribute not followed by its duration", ""
	}
	l.pending = v
	switch spec.LifeType(v) {
	case spec.LifeSeconds, spec.LifeKilobytes:
		if l.seenType[v] {
			return "attribute " + typeName + " value " + spec.LifeType(v).String() + " repeated", ""
		}
		l.seenType[v] = true
		return "", ""
	}
	return "", "unknown " + typeName + " " + spec.LifeType(v).String()
}

// duration handles a life duration attribute a.
func (l *lifeParser) duration(a payloads.Attribute, durName, typeName string) (fatal, problem string) {
	if l.pending == 0 {
		return durName + " attribute not preceded by " + typeName + " attribute", ""
	}
	v, ok := a.Uint()
	if !ok {
		v = math.MaxUint64 // longer than eight octets: clamp, as pluto does
	}
	typ := l.pending
	l.pending = 0
	if spec.LifeType(typ) == spec.LifeSeconds {
		l.seconds, l.hasSeconds = v, true
		if v == 0 {
			return "", "zero " + durName
		}
	}
	// Kilobyte lifetimes are accepted and ignored.
	return "", ""
}

// end is called after the last attribute.
func (l *lifeParser) end(typeName string) (fatal string) {
	if l.pending != 0 {
		return typeName + " attribute not followed by its duration"
	}
	return ""
}

// tv returns the value of a TV attribute; ok is false for a TLV one.
func tv(a payloads.Attribute) (uint16, bool) {
	if !a.TV || len(a.Value) != 2 {
		return 0, false
	}
	return uint16(a.Value[0])<<8 | uint16(a.Value[1]), true
}

// checkSAHeader applies the checks common to every SA payload.
func checkSAHeader(sa *payloads.SA) error {
	if sa == nil {
		return errorf(spec.PayloadMalformed, "no SA payload")
	}
	if sa.DOI != spec.DOIIPsec {
		return errorf(spec.DOINotSupported, "Unknown or unsupported DOI %v", sa.DOI)
	}
	if sa.SituationRaw != nil || sa.Situation != spec.SitIdentityOnly {
		return errorf(spec.SituationNotSupported, "unsupported IPsec DOI situation (%v)", sa.Situation)
	}
	if len(sa.Proposals) == 0 {
		return errorf(spec.BadProposalSyntax, "SA payload without proposal")
	}
	return nil
}

// cloneAttrs deep-copies attributes, so that a reply does not alias the
// received datagram.
func cloneAttrs(as []payloads.Attribute) []payloads.Attribute {
	if len(as) == 0 {
		return nil
	}
	out := make([]payloads.Attribute, len(as))
	for i, a := range as {
		out[i] = payloads.Attribute{Type: a.Type, TV: a.TV, Value: bytes.Clone(a.Value)}
	}
	return out
}

// echoProposal returns prop with only transform t (attributes echoed) and
// the given SPI.
func echoProposal(prop *payloads.Proposal, t *payloads.Transform, spi []byte) payloads.Proposal {
	return payloads.Proposal{
		Number:   prop.Number,
		Protocol: prop.Protocol,
		SPI:      bytes.Clone(spi),
		Transforms: []payloads.Transform{{
			Number:     t.Number,
			ID:         t.ID,
			Attributes: cloneAttrs(t.Attributes),
		}},
	}
}

// attrBit returns the bit tracking class c in a seen-set, 0 for classes
// beyond 31 (unknown classes are refused anyway).
func attrBit(c uint16) uint32 {
	if c == 0 || c >= 32 {
		return 0
	}
	return 1 << c
}
