package proposal

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

// Phase1Policy is what a connection offers and accepts in Main Mode (or
// Aggressive Mode): the algorithms (DefaultIKE when empty), the
// authentication method (OAKLEY_PRESHARED_KEY or OAKLEY_RSA_SIG) and the
// ISAKMP SA lifetime to propose (DefaultIKELifetime when 0).
type Phase1Policy struct {
	Algs     []IKEAlg
	Auth     spec.AuthMethod
	Lifetime time.Duration
}

func (p Phase1Policy) algs() []IKEAlg {
	if len(p.Algs) == 0 {
		return DefaultIKE()
	}
	return p.Algs
}

func (p Phase1Policy) accepts(a IKEAlg) bool {
	a = a.normalize()
	for _, b := range p.algs() {
		if b.normalize() == a {
			return true
		}
	}
	return false
}

func (p Phase1Policy) String() string {
	return joinLimited(p.algs()) + " with " + p.Auth.String()
}

// Phase1Choice is the negotiated ISAKMP SA.
type Phase1Choice struct {
	Alg      IKEAlg // 3DES has KeyLen 0
	Auth     spec.AuthMethod
	Lifetime time.Duration
	// Reply is the SA payload a responder sends back: the received
	// proposal with only the chosen transform, whose attributes are echoed
	// as received (RFC 2409 §5). Nil from AcceptPhase1Reply.
	Reply *payloads.SA
}

// BuildPhase1SA builds the SA payload of MI1/AI1: see the package
// documentation for its layout. At most MaxAlgs transforms are emitted.
func BuildPhase1SA(p Phase1Policy) *payloads.SA {
	secs := lifetimeSeconds(p.Lifetime, DefaultIKELifetime)
	algs := p.algs()
	if len(algs) > MaxAlgs {
		algs = algs[:MaxAlgs]
	}
	ts := make([]payloads.Transform, len(algs))
	for i, a := range algs {
		a = a.normalize()
		attrs := make([]payloads.Attribute, 0, 7)
		attrs = append(attrs,
			payloads.NewTV(uint16(spec.OakleyLifeType), uint16(spec.LifeSeconds)),
			payloads.NewVariable(uint16(spec.OakleyLifeDuration), secs),
			payloads.NewTV(uint16(spec.OakleyEncryptionAlgorithm), uint16(a.Enc)),
			payloads.NewTV(uint16(spec.OakleyHashAlgorithm), uint16(a.Hash)),
			payloads.NewTV(uint16(spec.OakleyAuthenticationMethod), uint16(p.Auth)),
			payloads.NewTV(uint16(spec.OakleyGroupDescription), uint16(a.Group)))
		if a.KeyLen != 0 {
			attrs = append(attrs, payloads.NewTV(uint16(spec.OakleyKeyLength), uint16(a.KeyLen)))
		}
		ts[i] = payloads.Transform{Number: uint8(i), ID: spec.KeyIKE, Attributes: attrs}
	}
	return &payloads.SA{
		DOI:       spec.DOIIPsec,
		Situation: spec.SitIdentityOnly,
		Proposals: []payloads.Proposal{{
			Number:     ProposalNumber,
			Protocol:   spec.ProtoISAKMP,
			Transforms: ts,
		}},
	}
}

// oakleyTransform is a decoded KEY_IKE transform.
type oakleyTransform struct {
	num                              uint8
	alg                              IKEAlg
	auth                             spec.AuthMethod
	hasEnc, hasHash, hasAuth, hasGrp bool
	life                             lifeParser
	problem                          string // why it cannot be accepted, "" if it may be
}

// parseOakley decodes the attributes of a KEY_IKE transform. The error is
// BAD_PROPOSAL_SYNTAX for defects that fail the whole SA payload.
func parseOakley(t *payloads.Transform) (oakleyTransform, error) {
	ot := oakleyTransform{num: t.Number}
	var seen uint32
	setProblem := func(s string) {
		if ot.problem == "" {
			ot.problem = s
		}
	}
	for _, a := range t.Attributes {
		class := spec.OakleyAttr(a.Type)
		if bit := attrBit(a.Type); bit != 0 {
			if seen&bit != 0 {
				return ot, errorf(spec.BadProposalSyntax, "repeated %v attribute in Oakley Transform %d", class, t.Number)
			}
			seen |= bit
		}
		if class == spec.OakleyLifeDuration {
			fatal, problem := ot.life.duration(a, "OAKLEY_LIFE_DURATION", "OAKLEY_LIFE_TYPE")
			if fatal != "" {
				return ot, errorf(spec.BadProposalSyntax, "%s in Oakley Transform %d", fatal, t.Number)
			}
			if problem != "" {
				setProblem(problem)
			}
			// A second pair (of the other life type) may follow.
			seen &^= attrBit(uint16(spec.OakleyLifeType)) | attrBit(uint16(spec.OakleyLifeDuration))
			continue
		}
		v, isTV := tv(a)
		if !isTV {
			// pluto: "unsupported OAKLEY attribute"; the attribute is
			// present all the same.
			setProblem(fmt.Sprintf("%v attribute in TLV form", class))
			switch class {
			case spec.OakleyEncryptionAlgorithm:
				ot.hasEnc = true
			case spec.OakleyHashAlgorithm:
				ot.hasHash = true
			case spec.OakleyAuthenticationMethod:
				ot.hasAuth = true
			case spec.OakleyGroupDescription:
				ot.hasGrp = true
			}
			continue
		}
		switch class {
		case spec.OakleyEncryptionAlgorithm:
			ot.alg.Enc, ot.hasEnc = spec.OakleyEncryption(v), true
		case spec.OakleyHashAlgorithm:
			ot.alg.Hash, ot.hasHash = spec.OakleyHash(v), true
		case spec.OakleyAuthenticationMethod:
			ot.auth, ot.hasAuth = spec.AuthMethod(v), true
		case spec.OakleyGroupDescription:
			ot.alg.Group, ot.hasGrp = spec.Group(v), true
		case spec.OakleyKeyLength:
			ot.alg.KeyLen = int(v)
		case spec.OakleyLifeType:
			fatal, problem := ot.life.typ(v, "OAKLEY_LIFE_TYPE")
			if fatal != "" {
				return ot, errorf(spec.BadProposalSyntax, "%s in Oakley Transform %d", fatal, t.Number)
			}
			if problem != "" {
				setProblem(problem)
			}
		default:
			// OAKLEY_PRF, custom groups (type, prime, generators,
			// curves, order), field size and unknown classes.
			setProblem(fmt.Sprintf("unsupported attribute %v", class))
		}
	}
	if fatal := ot.life.end("OAKLEY_LIFE_TYPE"); fatal != "" {
		return ot, errorf(spec.BadProposalSyntax, "%s in Oakley Transform %d", fatal, t.Number)
	}
	var missing []string
	for _, m := range []struct {
		has  bool
		attr spec.OakleyAttr
	}{
		{ot.hasEnc, spec.OakleyEncryptionAlgorithm}, {ot.hasHash, spec.OakleyHashAlgorithm},
		{ot.hasAuth, spec.OakleyAuthenticationMethod}, {ot.hasGrp, spec.OakleyGroupDescription},
	} {
		if !m.has {
			missing = append(missing, m.attr.String())
		}
	}
	if missing != nil {
		return ot, errorf(spec.BadProposalSyntax, "missing mandatory attribute(s) %s in Oakley Transform %d",
			strings.Join(missing, "+"), t.Number)
	}
	return ot, nil
}

// describe formats the transform for logs:
// "OAKLEY_AES_CBC/256 OAKLEY_SHA2_512 OAKLEY_GROUP_MODP4096 OAKLEY_PRESHARED_KEY".
func (ot *oakleyTransform) describe() string {
	s := ot.alg.Enc.String()
	if ot.alg.KeyLen != 0 {
		s += "/" + strconv.Itoa(ot.alg.KeyLen)
	}
	return s + " " + ot.alg.Hash.String() + " " + ot.alg.Group.String() + " " + ot.auth.String()
}

// accept checks the transform against p. It returns why it is not
// acceptable ("" with ok false: the algorithms are simply not in p).
func (ot *oakleyTransform) accept(p Phase1Policy) (why string, ok bool) {
	if ot.problem != "" {
		return ot.problem, false
	}
	if ot.auth.Base() != ot.auth && ot.auth != p.Auth {
		if p.Auth.Base() != p.Auth {
			return fmt.Sprintf("authentication %v, we use %v", ot.auth, p.Auth), false
		}
		return fmt.Sprintf("%v (XAUTH/hybrid) is not supported on this connection", ot.auth), false
	}
	if ot.auth != p.Auth {
		return fmt.Sprintf("authentication %v, we use %v", ot.auth, p.Auth), false
	}
	if err := ot.alg.check(); err != nil {
		return err.Error(), false
	}
	return "", p.accepts(ot.alg)
}

// SelectPhase1 is the Main Mode responder's choice (MI1 -> MR1): the first
// acceptable KEY_IKE transform in the peer's order. See the package
// documentation for what is acceptable and which defects fail the payload.
// Errors are *Error.
func SelectPhase1(sa *payloads.SA, p Phase1Policy, maxLifetime time.Duration) (Phase1Choice, error) {
	if err := checkSAHeader(sa); err != nil {
		return Phase1Choice{}, err
	}
	var offered offerList
	for pi := range sa.Proposals {
		prop := &sa.Proposals[pi]
		if prop.Protocol != spec.ProtoISAKMP {
			offered.add(fmt.Sprintf("proposal %d for %v (skipped)", prop.Number, prop.Protocol))
			continue
		}
		for ti := range prop.Transforms {
			t := &prop.Transforms[ti]
			if t.ID != spec.KeyIKE {
				offered.add(fmt.Sprintf("%s (skipped)", spec.TransformName(spec.ProtoISAKMP, t.ID)))
				continue
			}
			ot, err := parseOakley(t)
			if err != nil {
				return Phase1Choice{}, err
			}
			why, ok := ot.accept(p)
			if !ok {
				offered.add(withWhy(ot.describe(), why))
				continue
			}
			return Phase1Choice{
				Alg:      ot.alg.normalize(),
				Auth:     ot.auth,
				Lifetime: lifetime(&ot.life, DefaultIKELifetime, maxLifetime),
				Reply: &payloads.SA{
					DOI:       spec.DOIIPsec,
					Situation: spec.SitIdentityOnly,
					Proposals: []payloads.Proposal{echoProposal(prop, t, nil)},
				},
			}, nil
		}
	}
	return Phase1Choice{}, errorf(spec.NoProposalChosen,
		"no acceptable Oakley Transform: peer offered %s; we accept %s", &offered, p)
}

// AcceptPhase1Reply is the Main Mode initiator's check of MR1: one
// proposal with one KEY_IKE transform that is acceptable under p, that is
// one we offered. Errors are *Error.
func AcceptPhase1Reply(sa *payloads.SA, p Phase1Policy, maxLifetime time.Duration) (Phase1Choice, error) {
	if err := checkSAHeader(sa); err != nil {
		return Phase1Choice{}, err
	}
	if len(sa.Proposals) != 1 {
		return Phase1Choice{}, errorf(spec.BadProposalSyntax,
			"Proposal Payload must be alone in Oakley SA; found %d proposals", len(sa.Proposals))
	}
	prop := &sa.Proposals[0]
	if prop.Protocol != spec.ProtoISAKMP {
		return Phase1Choice{}, errorf(spec.InvalidProtocolID,
			"unexpected Protocol ID (%v) found in Oakley Proposal", prop.Protocol)
	}
	if len(prop.Transforms) != 1 {
		return Phase1Choice{}, errorf(spec.BadProposalSyntax,
			"a single Transform is required in a selecting Oakley Proposal; found %d", len(prop.Transforms))
	}
	t := &prop.Transforms[0]
	if t.ID != spec.KeyIKE {
		return Phase1Choice{}, errorf(spec.InvalidTransformID,
			"expected KEY_IKE but found %s in Oakley Transform", spec.TransformName(spec.ProtoISAKMP, t.ID))
	}
	ot, err := parseOakley(t)
	if err != nil {
		return Phase1Choice{}, err
	}
	if why, ok := ot.accept(p); !ok {
		return Phase1Choice{}, errorf(spec.NoProposalChosen,
			"peer chose %s, which we did not offer; we offered %s", withWhy(ot.describe(), why), p)
	}
	return Phase1Choice{
		Alg:      ot.alg.normalize(),
		Auth:     ot.auth,
		Lifetime: lifetime(&ot.life, DefaultIKELifetime, maxLifetime),
	}, nil
}

func withWhy(desc, why string) string {
	if why == "" {
		return desc
	}
	return desc + " (" + why + ")"
}

// Groups returns the distinct DH groups of algs in order. Aggressive Mode
// needs exactly one: its first message carries the KE payload.
func Groups(algs []IKEAlg) []spec.Group {
	var gs []spec.Group
	for _, a := range algs {
		if !slices.Contains(gs, a.Group) {
			gs = append(gs, a.Group)
		}
	}
	return gs
}
