package proposal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

// Phase2Policy is what a connection offers and accepts in Quick Mode.
type Phase2Policy struct {
	ESP      []ESPAlg // non-empty for --encrypt
	AH       []AHAlg  // non-empty for --authenticate
	Compress bool     // offer IPComp (DEFLATE) alongside
	// Mode is EncapTunnel or EncapTransport; 0 means tunnel (pluto's
	// default type=tunnel).
	Mode spec.EncapsulationMode
	// PFSGroup is the Quick Mode DH group, GroupNone without PFS. With
	// pfs=yes and no explicit group the daemon passes the Phase 1 group.
	PFSGroup spec.Group
	// Lifetime is the IPsec SA lifetime to propose (DefaultIPsecLifetime
	// when 0).
	Lifetime time.Duration
	// UDPEncap: a NAT was detected, ESP and AH use the UDP-encapsulated
	// modes of RFC 3947 (3, 4) or of the drafts (61443, 61444), and only
	// those are accepted. The state machine sets it per ISAKMP SA.
	UDPEncap UDPEncap
}

// UDPEncap is the NAT-T encapsulation family of a Quick Mode.
type UDPEncap uint8

const (
	UDPEncapNone  UDPEncap = iota
	UDPEncapRFC            // RFC 3947: 3 tunnel, 4 transport
	UDPEncapDraft          // draft-ietf-ipsec-nat-t-ike-02/03: 61443, 61444
)

func (p Phase2Policy) mode() spec.EncapsulationMode {
	if p.Mode == 0 {
		return spec.EncapTunnel
	}
	return p.Mode
}

// wireMode is the ENCAPSULATION_MODE value proposed for ESP and AH.
func (p Phase2Policy) wireMode() spec.EncapsulationMode {
	m := p.mode()
	switch p.UDPEncap {
	case UDPEncapRFC:
		if m == spec.EncapTransport {
			return spec.EncapUDPTransport
		}
		return spec.EncapUDPTunnel
	case UDPEncapDraft:
		if m == spec.EncapTransport {
			return spec.EncapUDPTransportDraft
		}
		return spec.EncapUDPTunnelDraft
	}
	return m
}

func (p Phase2Policy) acceptsESP(a ESPAlg) bool {
	a = a.normalize()
	for _, b := range p.ESP {
		if b.normalize() == a {
			return true
		}
	}
	return false
}

func (p Phase2Policy) acceptsAH(a AHAlg) bool {
	for _, b := range p.AH {
		if b == a {
			return true
		}
	}
	return false
}

// String summarises the policy for reasons: "ESP aes128-sha1; tunnel; no PFS".
func (p Phase2Policy) String() string {
	var parts []string
	if len(p.ESP) > 0 {
		parts = append(parts, "ESP "+joinLimited(p.ESP))
	}
	if len(p.AH) > 0 {
		parts = append(parts, "AH "+joinLimited(p.AH))
	}
	if len(parts) == 0 {
		parts = append(parts, "neither ESP nor AH")
	}
	if p.Compress {
		parts = append(parts, "IPComp")
	}
	parts = append(parts, strings.ToLower(strings.TrimPrefix(p.mode().String(), "ENCAPSULATION_MODE_")))
	if p.PFSGroup == spec.GroupNone {
		parts = append(parts, "no PFS")
	} else {
		parts = append(parts, "PFS "+p.PFSGroup.ShortName())
	}
	return strings.Join(parts, "; ")
}

// Phase2Choice is the negotiated IPsec SA bundle.
type Phase2Choice struct {
	ESP    *ESPAlg // nil without ESP
	AH     *AHAlg  // nil without AH
	IPComp bool    // IPCOMP_DEFLATE
	// The SPIs (and 2-octet CPI) in the peer's proposals: where the peer
	// receives, that is our outbound SAs.
	PeerESPSPI, PeerAHSPI, PeerCPI []byte
	Mode                           spec.EncapsulationMode // tunnel or transport
	// UDPEncap: the chosen mode is UDP-encapsulated (NAT-T, RFC 3948).
	UDPEncap bool
	PFSGroup spec.Group // GroupNone without PFS
	Lifetime time.Duration
	// Reply is the SA payload a responder sends back: the chosen bundle
	// (AH, ESP, IPComp), each proposal with our SPI/CPI and the chosen
	// transform echoed as received. Nil from AcceptPhase2Reply.
	Reply *payloads.SA
}

// BuildPhase2SA builds the SA payload of QI1: see the package
// documentation for its layout. espSPI and ahSPI are the 4-octet SPIs we
// receive on (used when p.ESP, p.AH are non-empty), cpi our 2-octet CPI
// (used when p.Compress). At most MaxAlgs transforms per protocol are
// emitted.
func BuildPhase2SA(p Phase2Policy, espSPI, ahSPI []byte, cpi []byte) *payloads.SA {
	mode, wire := p.mode(), p.wireMode()
	secs := lifetimeSeconds(p.Lifetime, DefaultIPsecLifetime)
	common := func(ipcomp bool) []payloads.Attribute {
		as := make([]payloads.Attribute, 0, 6)
		if !ipcomp && p.PFSGroup != spec.GroupNone {
			as = append(as, payloads.NewTV(uint16(spec.IPsecGroupDescription), uint16(p.PFSGroup)))
		}
		// IPComp defaults to transport mode: pluto only says tunnel.
		switch {
		case !ipcomp:
			as = append(as, payloads.NewTV(uint16(spec.IPsecEncapsulationMode), uint16(wire)))
		case mode == spec.EncapTunnel:
			as = append(as, payloads.NewTV(uint16(spec.IPsecEncapsulationMode), uint16(mode)))
		}
		return append(as,
			payloads.NewTV(uint16(spec.IPsecSALifeType), uint16(spec.LifeSeconds)),
			payloads.NewVariable(uint16(spec.IPsecSALifeDuration), secs))
	}
	sa := &payloads.SA{DOI: spec.DOIIPsec, Situation: spec.SitIdentityOnly}
	if len(p.AH) > 0 {
		algs := p.AH[:min(len(p.AH), MaxAlgs)]
		ts := make([]payloads.Transform, len(algs))
		for i, a := range algs {
			as := append(common(false), payloads.NewTV(uint16(spec.IPsecAuthAlgorithm), uint16(a.Integ)))
			ts[i] = payloads.Transform{Number: uint8(i), ID: a.TransformID(), Attributes: as}
		}
		sa.Proposals = append(sa.Proposals, payloads.Proposal{
			Number: ProposalNumber, Protocol: spec.ProtoAH, SPI: bytes.Clone(ahSPI), Transforms: ts})
	}
	if len(p.ESP) > 0 {
		algs := p.ESP[:min(len(p.ESP), MaxAlgs)]
		ts := make([]payloads.Transform, len(algs))
		for i, a := range algs {
			a = a.normalize()
			as := common(false)
			if a.Integ != spec.AuthAlgNone {
				as = append(as, payloads.NewTV(uint16(spec.IPsecAuthAlgorithm), uint16(a.Integ)))
			}
			if a.KeyLen != 0 {
				as = append(as, payloads.NewTV(uint16(spec.IPsecKeyLength), uint16(a.KeyLen)))
			}
			ts[i] = payloads.Transform{Number: uint8(i), ID: a.Enc, Attributes: as}
		}
		sa.Proposals = append(sa.Proposals, payloads.Proposal{
			Number: ProposalNumber, Protocol: spec.ProtoESP, SPI: bytes.Clone(espSPI), Transforms: ts})
	}
	if p.Compress {
		sa.Proposals = append(sa.Proposals, payloads.Proposal{
			Number: ProposalNumber, Protocol: spec.ProtoIPComp, SPI: bytes.Clone(cpi),
			Transforms: []payloads.Transform{{Number: 0, ID: spec.IPCompDeflate, Attributes: common(true)}},
		})
	}
	return sa
}

// ipsecTransform is a decoded ESP, AH or IPComp transform.
type ipsecTransform struct {
	t        *payloads.Transform
	proto    spec.ProtocolID
	group    spec.Group // GroupNone when absent
	hasGroup bool
	mode     spec.EncapsulationMode
	auth     spec.AuthAlgorithm
	hasAuth  bool
	keyLen   int
	life     lifeParser
	problem  string
}

// parseIPsec decodes the attributes of a Phase 2 transform. The error is
// BAD_PROPOSAL_SYNTAX for defects that fail the whole SA payload.
func parseIPsec(proto spec.ProtocolID, t *payloads.Transform) (ipsecTransform, error) {
	it := ipsecTransform{t: t, proto: proto}
	var seen uint32
	hasMode := false
	setProblem := func(s string) {
		if it.problem == "" {
			it.problem = s
		}
	}
	syntax := func(format string, args ...any) error {
		return errorf(spec.BadProposalSyntax, "%s in %v Transform %d", fmt.Sprintf(format, args...), proto, t.Number)
	}
	for _, a := range t.Attributes {
		class := spec.IPsecAttr(a.Type)
		if bit := attrBit(a.Type); bit != 0 {
			if seen&bit != 0 {
				return it, syntax("repeated %v attribute", class)
			}
			seen |= bit
		}
		if class == spec.IPsecSALifeDuration {
			fatal, problem := it.life.duration(a, "SA_LIFE_DURATION", "SA_LIFE_TYPE")
			if fatal != "" {
				return it, syntax("%s", fatal)
			}
			if problem != "" {
				setProblem(problem)
			}
			seen &^= attrBit(uint16(spec.IPsecSALifeType)) | attrBit(uint16(spec.IPsecSALifeDuration))
			continue
		}
		v, isTV := tv(a)
		if !isTV {
			// Present, but unusable.
			setProblem(fmt.Sprintf("%v attribute in TLV form", class))
			switch class {
			case spec.IPsecEncapsulationMode:
				hasMode = true
			case spec.IPsecAuthAlgorithm:
				it.hasAuth = true
			}
			continue
		}
		switch class {
		case spec.IPsecSALifeType:
			fatal, problem := it.life.typ(v, "SA_LIFE_TYPE")
			if fatal != "" {
				return it, syntax("%s", fatal)
			}
			if problem != "" {
				setProblem(problem)
			}
		case spec.IPsecGroupDescription:
			it.group, it.hasGroup = spec.Group(v), true
			if v == 0 {
				setProblem("GROUP_DESCRIPTION 0")
			}
		case spec.IPsecEncapsulationMode:
			it.mode, hasMode = spec.EncapsulationMode(v), true
		case spec.IPsecAuthAlgorithm:
			it.auth, it.hasAuth = spec.AuthAlgorithm(v), true
			if proto == spec.ProtoIPComp {
				setProblem(fmt.Sprintf("%v inappropriate for IPCOMP", class))
			}
		case spec.IPsecKeyLength:
			it.keyLen = int(v)
			if proto == spec.ProtoIPComp {
				setProblem(fmt.Sprintf("%v inappropriate for IPCOMP", class))
			}
		default:
			// KEY_ROUNDS, compression dictionary/private algorithm,
			// ECN_TUNNEL, ESN and unknown classes.
			setProblem(fmt.Sprintf("unsupported IPsec attribute %v", class))
		}
	}
	if fatal := it.life.end("SA_LIFE_TYPE"); fatal != "" {
		return it, syntax("%s", fatal)
	}
	switch proto {
	case spec.ProtoIPComp:
		if !hasMode {
			// draft-shacham-ippcp-rfc2393bis-05 §4.1: transport.
			it.mode = spec.EncapTransport
		}
	case spec.ProtoAH:
		if !it.hasAuth {
			return it, syntax("AUTH_ALGORITHM attribute missing")
		}
		want := ahTransformID(it.auth)
		if want == 0 {
			setProblem(fmt.Sprintf("%v is not supported", it.auth))
		} else if want != t.ID {
			return it, syntax("%v attribute inappropriate in %s Transform",
				it.auth, spec.TransformName(spec.ProtoAH, t.ID))
		}
		fallthrough
	default:
		if !hasMode {
			return it, syntax("ENCAPSULATION_MODE missing")
		}
	}
	return it, nil
}

// describe formats the transform for logs:
// "ESP_AES/256+AUTH_ALGORITHM_HMAC_SHA2_512 ENCAPSULATION_MODE_TUNNEL".
func (it *ipsecTransform) describe() string {
	s := spec.TransformName(it.proto, it.t.ID)
	if it.keyLen != 0 {
		s += "/" + strconv.Itoa(it.keyLen)
	}
	if it.hasAuth && it.proto == spec.ProtoESP {
		s += "+" + it.auth.String()
	}
	s += " " + it.mode.String()
	if it.hasGroup {
		s += " " + it.group.String()
	}
	return s
}

func (it *ipsecTransform) common(p Phase2Policy) string {
	if it.problem != "" {
		return it.problem
	}
	if it.proto == spec.ProtoIPComp {
		return ""
	}
	base, udp := it.mode.Base()
	switch {
	case udp && p.UDPEncap == UDPEncapNone:
		return fmt.Sprintf("%v: UDP encapsulation (NAT-T), but no NAT was detected", it.mode)
	case !udp && p.UDPEncap != UDPEncapNone:
		return fmt.Sprintf("%v, but a NAT was detected: we want %v", it.mode, p.wireMode())
	case base != p.mode():
		return fmt.Sprintf("%v, we want %v", it.mode, p.wireMode())
	}
	return ""
}

// acceptESP checks an ESP transform against p; why as for oakleyTransform.accept.
func (it *ipsecTransform) acceptESP(p Phase2Policy) (alg ESPAlg, why string, ok bool) {
	if why := it.common(p); why != "" {
		return alg, why, false
	}
	alg = ESPAlg{Enc: it.t.ID, KeyLen: it.keyLen, Integ: it.auth}
	if spec.ESPIsAEAD(alg.Enc) && it.hasAuth {
		return alg, fmt.Sprintf("AEAD transform with %v", it.auth), false
	}
	if !spec.ESPIsAEAD(alg.Enc) && !it.hasAuth {
		return alg, "no AUTH_ALGORITHM", false
	}
	alg = alg.normalize()
	if err := alg.check(); err != nil {
		return alg, err.Error(), false
	}
	return alg, "", p.acceptsESP(alg)
}

func (it *ipsecTransform) acceptAH(p Phase2Policy) (alg AHAlg, why string, ok bool) {
	if why := it.common(p); why != "" {
		return alg, why, false
	}
	alg = AHAlg{Integ: it.auth}
	return alg, "", p.acceptsAH(alg)
}

func (it *ipsecTransform) acceptIPComp() (why string, ok bool) {
	if it.problem != "" {
		return it.problem, false
	}
	if it.t.ID != spec.IPCompDeflate {
		return spec.TransformName(spec.ProtoIPComp, it.t.ID) + " is not supported", false
	}
	return "", true
}

// member is one proposal of a bundle with its decoded transforms.
type member struct {
	prop *payloads.Proposal
	ts   []ipsecTransform
	spi  []byte // SPI, or the 2-octet CPI for IPComp
	// wellKnown: the CPI is the well-known IPCOMP_DEFLATE number.
	wellKnown bool
}

// bundle is a conjunction of proposals with one number (RFC 2408 §4.2).
type bundle struct {
	number          uint8
	esp, ah, ipcomp *member
}

// parseBundles applies the payload-wide checks of Phase 2 and decodes every
// transform. With reply, each proposal must carry exactly one transform.
func parseBundles(sa *payloads.SA, reply bool) ([]bundle, spec.Group, error) {
	if err := checkSAHeader(sa); err != nil {
		return nil, 0, err
	}
	var (
		bundles  []bundle
		group    spec.Group
		groupSet bool
	)
	for pi := range sa.Proposals {
		prop := &sa.Proposals[pi]
		m := &member{prop: prop}
		wellKnownCPI := spec.TransformID(0)
		switch prop.Protocol {
		case spec.ProtoAH, spec.ProtoESP:
			if len(prop.SPI) != 4 {
				return nil, 0, errorf(spec.InvalidSPI, "IPsec Proposal with improper SPI size (%d)", len(prop.SPI))
			}
			if spi := binary.BigEndian.Uint32(prop.SPI); spi < 0x100 {
				return nil, 0, errorf(spec.InvalidSPI, "IPsec Proposal contains invalid SPI (0x%x)", spi)
			}
			m.spi = prop.SPI
		case spec.ProtoIPComp:
			var cpi uint16
			switch len(prop.SPI) {
			case 2:
				cpi = binary.BigEndian.Uint16(prop.SPI)
			case 4: // a CPI in the low octets of an SPI-sized field
				if prop.SPI[0] != 0 || prop.SPI[1] != 0 {
					return nil, 0, errorf(spec.InvalidSPI, "IPCOMP Proposal with CPI filler 0x%x not zero", prop.SPI[:2])
				}
				cpi = binary.BigEndian.Uint16(prop.SPI[2:])
			default:
				return nil, 0, errorf(spec.InvalidSPI, "IPsec Proposal with improper CPI size (%d)", len(prop.SPI))
			}
			switch {
			case cpi == uint16(spec.IPCompDeflate):
				wellKnownCPI = spec.IPCompDeflate
				m.wellKnown = true
			case cpi < 0x100 || cpi > 0xefff:
				return nil, 0, errorf(spec.InvalidSPI, "IPsec Proposal contains CPI from non-negotiated range (0x%x)", cpi)
			}
			m.spi = binary.BigEndian.AppendUint16(nil, cpi)
		default:
			return nil, 0, errorf(spec.InvalidProtocolID, "unexpected Protocol ID (%v) in IPsec Proposal", prop.Protocol)
		}
		if reply && len(prop.Transforms) != 1 {
			return nil, 0, errorf(spec.BadProposalSyntax,
				"a single Transform is required in a selecting IPsec Proposal; found %d", len(prop.Transforms))
		}
		for ti := range prop.Transforms {
			it, err := parseIPsec(prop.Protocol, &prop.Transforms[ti])
			if err != nil {
				return nil, 0, err
			}
			if wellKnownCPI != 0 && it.t.ID != wellKnownCPI {
				return nil, 0, errorf(spec.BadProposalSyntax, "IPCOMP well-known CPI disagrees with transform %s",
					spec.TransformName(spec.ProtoIPComp, it.t.ID))
			}
			// All transforms share one PFS group (one KE payload);
			// IPComp transforms usually have none.
			if it.proto != spec.ProtoIPComp || it.hasGroup {
				if groupSet && it.group != group {
					return nil, 0, errorf(spec.BadProposalSyntax,
						"GROUP_DESCRIPTION inconsistent: %v and %v in one IPsec SA", group, it.group)
				}
				group, groupSet = it.group, true
			}
			m.ts = append(m.ts, it)
		}
		if len(bundles) == 0 || bundles[len(bundles)-1].number != prop.Number {
			bundles = append(bundles, bundle{number: prop.Number})
		}
		if len(prop.Transforms) == 0 {
			continue // pluto: "IPsec Proposal contains no Transforms (skipped)"
		}
		b := &bundles[len(bundles)-1]
		slot := map[spec.ProtocolID]**member{spec.ProtoAH: &b.ah, spec.ProtoESP: &b.esp, spec.ProtoIPComp: &b.ipcomp}[prop.Protocol]
		if *slot != nil {
			return nil, 0, errorf(spec.BadProposalSyntax, "IPsec SA contains two simultaneous %v Proposals", prop.Protocol)
		}
		*slot = m
	}
	for i := range bundles {
		b := &bundles[i]
		if b.ipcomp != nil && b.esp == nil && b.ah == nil && b.ipcomp.wellKnown {
			return nil, 0, errorf(spec.BadProposalSyntax, "illegal proposal: bare IPCOMP used with well-known CPI")
		}
	}
	return bundles, group, nil
}

// checkPFS applies the responder's PFS policy to the group every transform
// proposes.
func checkPFS(group spec.Group, p Phase2Policy) error {
	switch {
	case p.PFSGroup != spec.GroupNone && group == spec.GroupNone:
		return errorf(spec.NoProposalChosen, "we require PFS (%v) but the peer proposed no GROUP_DESCRIPTION", p.PFSGroup)
	case p.PFSGroup != spec.GroupNone && group != p.PFSGroup:
		return errorf(spec.NoProposalChosen, "peer proposed PFS group %v, we require %v", group, p.PFSGroup)
	case group != spec.GroupNone:
		if err := checkGroup(group); err != nil {
			return errorf(spec.NoProposalChosen, "peer proposed PFS group %v: %v", group, err)
		}
	}
	return nil
}

// choose evaluates one bundle: the first acceptable transform of each
// member and whether the bundle covers the policy. It fills c (except
// Reply) and returns the chosen transforms, or why not.
func (b *bundle) choose(p Phase2Policy, maxLifetime time.Duration, haveCPI bool, offered *offerList) (c Phase2Choice, esp, ah, ipcomp *ipsecTransform, ok bool) {
	refuse := func(why string) {
		offered.add(fmt.Sprintf("proposal %d: %s", b.number, why))
	}
	for _, chk := range []struct {
		m    *member
		want bool
		name string
	}{{b.esp, len(p.ESP) > 0, "ESP"}, {b.ah, len(p.AH) > 0, "AH"}} {
		switch {
		case chk.want && chk.m == nil:
			refuse("no " + chk.name + " (we require it)")
			return c, nil, nil, nil, false
		case !chk.want && chk.m != nil:
			refuse(chk.name + " (our policy has none)")
			return c, nil, nil, nil, false
		}
	}
	if b.ipcomp != nil && !haveCPI {
		refuse("IPComp (compression is not available)")
		return c, nil, nil, nil, false
	}
	life := time.Duration(1<<63 - 1)
	use := func(it *ipsecTransform) {
		life = min(life, lifetime(&it.life, DefaultIPsecLifetime, maxLifetime))
	}
	if b.esp != nil {
		for i := range b.esp.ts {
			it := &b.esp.ts[i]
			alg, why, ok := it.acceptESP(p)
			if ok {
				esp, c.ESP = it, &alg
				break
			}
			offered.add(withWhy(it.describe(), why))
		}
		if esp == nil {
			return c, nil, nil, nil, false
		}
		use(esp)
		c.PeerESPSPI = bytes.Clone(b.esp.spi)
	}
	if b.ah != nil {
		for i := range b.ah.ts {
			it := &b.ah.ts[i]
			alg, why, ok := it.acceptAH(p)
			if ok {
				ah, c.AH = it, &alg
				break
			}
			offered.add(withWhy(it.describe(), why))
		}
		if ah == nil {
			return c, nil, nil, nil, false
		}
		use(ah)
		c.PeerAHSPI = bytes.Clone(b.ah.spi)
	}
	if b.ipcomp != nil {
		for i := range b.ipcomp.ts {
			it := &b.ipcomp.ts[i]
			why, ok := it.acceptIPComp()
			if ok {
				ipcomp = it
				break
			}
			offered.add(withWhy(it.describe(), why))
		}
		if ipcomp == nil {
			return c, nil, nil, nil, false
		}
		use(ipcomp)
		c.IPComp = true
		c.PeerCPI = bytes.Clone(b.ipcomp.spi)
	}
	c.Mode = p.mode()
	c.UDPEncap = p.UDPEncap != UDPEncapNone
	c.Lifetime = life
	return c, esp, ah, ipcomp, true
}

// SelectPhase2 is the Quick Mode responder's choice (QI1 -> QR1): the first
// bundle (proposals sharing a number) whose every member has an acceptable
// transform and which covers p. ourESPSPI and ourAHSPI (4 octets) and
// ourCPI (2 octets; nil when compression is impossible) go into Reply.
// See the package documentation for the rules. Errors are *Error.
func SelectPhase2(sa *payloads.SA, p Phase2Policy, maxLifetime time.Duration, ourESPSPI, ourAHSPI, ourCPI []byte) (Phase2Choice, error) {
	bundles, group, err := parseBundles(sa, false)
	if err != nil {
		return Phase2Choice{}, err
	}
	if err := checkPFS(group, p); err != nil {
		return Phase2Choice{}, err
	}
	var offered offerList
	for i := range bundles {
		b := &bundles[i]
		c, esp, ah, ipcomp, ok := b.choose(p, maxLifetime, ourCPI != nil, &offered)
		if !ok {
			continue
		}
		c.PFSGroup = group
		reply := &payloads.SA{DOI: spec.DOIIPsec, Situation: spec.SitIdentityOnly}
		if ah != nil {
			if len(ourAHSPI) != 4 {
				return Phase2Choice{}, errorf(spec.NoProposalChosen, "internal error: no AH SPI of 4 octets to answer with")
			}
			reply.Proposals = append(reply.Proposals, echoProposal(b.ah.prop, ah.t, ourAHSPI))
		}
		if esp != nil {
			if len(ourESPSPI) != 4 {
				return Phase2Choice{}, errorf(spec.NoProposalChosen, "internal error: no ESP SPI of 4 octets to answer with")
			}
			reply.Proposals = append(reply.Proposals, echoProposal(b.esp.prop, esp.t, ourESPSPI))
		}
		if ipcomp != nil {
			if len(ourCPI) != 2 && len(ourCPI) != 4 {
				return Phase2Choice{}, errorf(spec.NoProposalChosen, "internal error: CPI of %d octets", len(ourCPI))
			}
			reply.Proposals = append(reply.Proposals, echoProposal(b.ipcomp.prop, ipcomp.t, ourCPI))
		}
		c.Reply = reply
		return c, nil
	}
	return Phase2Choice{}, errorf(spec.NoProposalChosen,
		"no acceptable Proposal in IPsec SA: peer offered %s; we accept %s", &offered, p)
}

// AcceptPhase2Reply is the Quick Mode initiator's check of QR1: a bundle
// with one transform per protocol, acceptable under p, with the protocols
// we asked for (IPComp may be dropped, never added) and our PFS group.
// Of several bundles the first acceptable one is taken (pluto's
// parse_ipsec_sa_body; strongSwan sends its choice with IPComp, then
// without). Errors are *Error.
func AcceptPhase2Reply(sa *payloads.SA, p Phase2Policy, maxLifetime time.Duration) (Phase2Choice, error) {
	bundles, group, err := parseBundles(sa, true)
	if err != nil {
		return Phase2Choice{}, err
	}
	if len(bundles) == 0 {
		return Phase2Choice{}, errorf(spec.BadProposalSyntax, "IPsec SA reply holds no proposal")
	}
	if group != p.PFSGroup {
		return Phase2Choice{}, errorf(spec.NoProposalChosen, "peer answered with PFS group %v, we proposed %v", group, p.PFSGroup)
	}
	var offered offerList
	for i := range bundles {
		b := &bundles[i]
		if b.ipcomp != nil && !p.Compress {
			offered.add(fmt.Sprintf("proposal %d: IPComp, which we did not propose", b.number))
			continue
		}
		if c, _, _, _, ok := b.choose(p, maxLifetime, true, &offered); ok {
			c.PFSGroup = group
			return c, nil
		}
	}
	return Phase2Choice{}, errorf(spec.NoProposalChosen,
		"peer chose %s, which we did not offer; we offered %s", &offered, p)
}
