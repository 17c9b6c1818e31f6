package proposal

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

var (
	pLifeType = uint16(spec.IPsecSALifeType)
	pLifeDur  = uint16(spec.IPsecSALifeDuration)
	pGroup    = uint16(spec.IPsecGroupDescription)
	pMode     = uint16(spec.IPsecEncapsulationMode)
	pAuth     = uint16(spec.IPsecAuthAlgorithm)
	pKeyLen   = uint16(spec.IPsecKeyLength)
)

var (
	ourESP = []byte{0xaa, 0xbb, 0xcc, 0xdd}
	ourAH  = []byte{0x11, 0x22, 0x33, 0x44}
	ourCPI = []byte{0x12, 0x34}
)

func espPolicy(t testing.TB, esp string) Phase2Policy {
	algs, g := mustESP(t, esp)
	return Phase2Policy{ESP: algs, Mode: spec.EncapTunnel, PFSGroup: g, Lifetime: time.Hour}
}

// The SA payload built for libreswan's configuration (esp=aes128-sha1,
// pfs=no, type=tunnel, salifetime=1h) is byte for byte the one libreswan
// sent in QI1, given its SPI.
func TestBuildPhase2SALibreswanBytes(t *testing.T) {
	want := qmSA(t, "qm1-lsw")
	got := body(BuildPhase2SA(espPolicy(t, "aes128-sha1"), want.Proposals[0].SPI, nil, nil))
	if !bytes.Equal(got, want.Body()) {
		t.Fatalf("BuildPhase2SA:\n got %x\nwant %x", got, want.Body())
	}
}

func TestBuildPhase2SALayout(t *testing.T) {
	ah, _ := ParseAH("sha2_256,sha1")
	esp, _ := mustESP(t, "aes256-sha2_256,aes_gcm16_128,3des-md5")
	p := Phase2Policy{ESP: esp, AH: ah, Compress: true, Mode: spec.EncapTransport, PFSGroup: spec.GroupMODP1536, Lifetime: 24 * time.Hour}
	sa := BuildPhase2SA(p, ourESP, ourAH, ourCPI)
	got := roundTrip(t, sa)
	if !reflect.DeepEqual(got.Proposals, sa.Proposals) {
		t.Errorf("round trip changed the proposals:\n%+v\n%+v", got.Proposals, sa.Proposals)
	}
	var protos []spec.ProtocolID
	for _, pr := range got.Proposals {
		protos = append(protos, pr.Protocol)
		if pr.Number != ProposalNumber {
			t.Errorf("%v proposal number %d", pr.Protocol, pr.Number)
		}
		for i, tr := range pr.Transforms {
			if tr.Number != uint8(i) {
				t.Errorf("%v transform %d numbered %d", pr.Protocol, i, tr.Number)
			}
		}
	}
	if !slices.Equal(protos, []spec.ProtocolID{spec.ProtoAH, spec.ProtoESP, spec.ProtoIPComp}) {
		t.Fatalf("protocols %v", protos)
	}
	ahP, espP, ipc := got.Proposals[0], got.Proposals[1], got.Proposals[2]
	if !bytes.Equal(ahP.SPI, ourAH) || !bytes.Equal(espP.SPI, ourESP) || !bytes.Equal(ipc.SPI, ourCPI) {
		t.Errorf("SPIs %x %x %x", ahP.SPI, espP.SPI, ipc.SPI)
	}
	wantIDs := []spec.TransformID{spec.ESPAES, spec.ESPAESGCM16, spec.ESP3DES}
	wantClasses := [][]uint16{
		{pGroup, pMode, pLifeType, pLifeDur, pAuth, pKeyLen},
		{pGroup, pMode, pLifeType, pLifeDur, pKeyLen}, // AEAD: no AUTH_ALGORITHM
		{pGroup, pMode, pLifeType, pLifeDur, pAuth},
	}
	for i, tr := range espP.Transforms {
		if tr.ID != wantIDs[i] || !slices.Equal(attrClasses(tr.Attributes), wantClasses[i]) {
			t.Errorf("ESP transform %d: %v %v", i, tr.ID, attrClasses(tr.Attributes))
		}
		if g, _ := payloads.Lookup(tr.Attributes, pGroup); !reflect.DeepEqual(g, tvAttr(pGroup, 5)) {
			t.Errorf("group attribute %+v", g)
		}
		if m, _ := payloads.Lookup(tr.Attributes, pMode); !reflect.DeepEqual(m, tvAttr(pMode, 2)) {
			t.Errorf("mode attribute %+v", m)
		}
		if d, _ := payloads.Lookup(tr.Attributes, pLifeDur); d.TV || !bytes.Equal(d.Value, []byte{0, 1, 0x51, 0x80}) {
			t.Errorf("24h duration %+v", d)
		}
	}
	if kl, _ := payloads.Lookup(espP.Transforms[1].Attributes, pKeyLen); !reflect.DeepEqual(kl, tvAttr(pKeyLen, 128)) {
		t.Errorf("GCM key length %+v", kl)
	}
	for i, tr := range ahP.Transforms {
		if tr.ID != []spec.TransformID{spec.AHSHA2_256, spec.AHSHA}[i] ||
			!slices.Equal(attrClasses(tr.Attributes), []uint16{pGroup, pMode, pLifeType, pLifeDur, pAuth}) {
			t.Errorf("AH transform %d: %v %v", i, tr.ID, attrClasses(tr.Attributes))
		}
	}
	if len(ipc.Transforms) != 1 || ipc.Transforms[0].ID != spec.IPCompDeflate ||
		!slices.Equal(attrClasses(ipc.Transforms[0].Attributes), []uint16{pLifeType, pLifeDur}) {
		t.Errorf("IPComp transport %+v", ipc)
	}
	p.Mode = spec.EncapTunnel
	p.PFSGroup = spec.GroupNone
	ipc = BuildPhase2SA(p, ourESP, ourAH, ourCPI).Proposals[2]
	if !slices.Equal(attrClasses(ipc.Transforms[0].Attributes), []uint16{pMode, pLifeType, pLifeDur}) {
		t.Errorf("IPComp tunnel %v", attrClasses(ipc.Transforms[0].Attributes))
	}
	// The policy accepts its own offer, AH+ESP+IPComp in one bundle.
	p = Phase2Policy{ESP: esp, AH: ah, Compress: true, Mode: spec.EncapTransport, PFSGroup: spec.GroupMODP1536}
	c, err := SelectPhase2(roundTrip(t, BuildPhase2SA(p, ourESP, ourAH, ourCPI)), p, 0, []byte{9, 9, 9, 9}, []byte{8, 8, 8, 8}, []byte{0x45, 0x67})
	if err != nil {
		t.Fatal(err)
	}
	if c.ESP.String() != "aes256-sha2_256" || c.AH.String() != "sha2_256" || !c.IPComp || c.Mode != spec.EncapTransport ||
		c.PFSGroup != spec.GroupMODP1536 || c.Lifetime != DefaultIPsecLifetime ||
		!bytes.Equal(c.PeerESPSPI, ourESP) || !bytes.Equal(c.PeerAHSPI, ourAH) || !bytes.Equal(c.PeerCPI, ourCPI) {
		t.Errorf("SelectPhase2 = %+v", c)
	}
	var rp []spec.ProtocolID
	for _, pr := range c.Reply.Proposals {
		rp = append(rp, pr.Protocol)
	}
	if !slices.Equal(rp, protos) || !bytes.Equal(c.Reply.Proposals[0].SPI, []byte{8, 8, 8, 8}) ||
		!bytes.Equal(c.Reply.Proposals[1].SPI, []byte{9, 9, 9, 9}) || !bytes.Equal(c.Reply.Proposals[2].SPI, []byte{0x45, 0x67}) {
		t.Errorf("reply %+v", c.Reply.Proposals)
	}
	r, err := AcceptPhase2Reply(roundTrip(t, c.Reply), p, 0)
	if err != nil || *r.ESP != *c.ESP || *r.AH != *c.AH || !r.IPComp || !bytes.Equal(r.PeerESPSPI, []byte{9, 9, 9, 9}) || !bytes.Equal(r.PeerCPI, []byte{0x45, 0x67}) {
		t.Errorf("AcceptPhase2Reply = %+v, %v", r, err)
	}
}

func TestSelectPhase2Recorded(t *testing.T) {
	cases := []struct {
		qm        string
		esp       string
		pfs       spec.Group
		want      string
		wantGroup spec.Group
		peerSPI   string
		lifetime  time.Duration
	}{
		{"qm1-lsw", "aes128-sha1", 0, "aes128-sha1", 0, "2ef8423c", time.Hour},
		{"qm1-ss", "aes128-sha1", 0, "aes128-sha1", 0, "c74f860b", 3960 * time.Second},
		{"qm1-ss", "", 0, "aes128-sha1", 0, "c74f860b", 3960 * time.Second}, // default ESP + aes128-sha1
		{"qm1-ss-pfs1024", "3des-md5;modp1024", spec.GroupMODP1024, "3des-md5", spec.GroupMODP1024, "c5588b86", 3960 * time.Second},
		{"qm1-ss-pfs1536", "3des-md5;modp1536", spec.GroupMODP1536, "3des-md5", spec.GroupMODP1536, "cce4ea67", 3960 * time.Second},
		// pfs=no still accepts PFS, with the peer's group.
		{"qm1-ss-pfs1024", "3des-md5", 0, "3des-md5", spec.GroupMODP1024, "c5588b86", 3960 * time.Second},
	}
	for _, c := range cases {
		p := Phase2Policy{Mode: spec.EncapTunnel, PFSGroup: c.pfs}
		if c.esp != "" {
			p.ESP, _ = mustESP(t, c.esp)
		} else {
			p.ESP = append(DefaultESP(), ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
		}
		sa := qmSA(t, c.qm)
		got, err := SelectPhase2(sa, p, 8*time.Hour, ourESP, nil, nil)
		if err != nil {
			t.Errorf("%s/%s: %v", c.qm, c.esp, err)
			continue
		}
		if got.ESP == nil || got.ESP.String() != c.want || got.AH != nil || got.IPComp || got.PFSGroup != c.wantGroup ||
			got.Mode != spec.EncapTunnel || got.Lifetime != c.lifetime || !bytes.Equal(got.PeerESPSPI, mustHex(c.peerSPI)) {
			t.Errorf("%s/%s: %+v", c.qm, c.esp, got)
		}
		// The reply is the offer (one proposal, one transform) with our SPI.
		want := roundTrip(t, sa)
		want.Proposals[0].SPI = ourESP
		if r := body(got.Reply); !bytes.Equal(r, body(want)) {
			t.Errorf("%s: reply %x\nwant %x", c.qm, r, body(want))
		}
	}
}

// libreswan, responding to strongSwan's QI1 with PFS, sent exactly what
// SelectPhase2 builds (given libreswan's SPI).
func TestSelectPhase2ReplyLikeLibreswan(t *testing.T) {
	lsw := qmSA(t, "qm2-lsw-pfs1536")
	c, err := SelectPhase2(qmSA(t, "qm1-ss-pfs1536"), espPolicy(t, "3des-md5;modp1536"), 0, lsw.Proposals[0].SPI, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := body(c.Reply); !bytes.Equal(got, lsw.Body()) {
		t.Errorf("reply\n got %x\nwant %x (libreswan)", got, lsw.Body())
	}
}

func TestAcceptPhase2Reply(t *testing.T) {
	cases := []struct {
		qm, esp  string
		want     string
		peerSPI  string
		lifetime time.Duration
	}{
		// strongSwan renumbers libreswan's proposal 0 to 1 and reorders
		// the attributes.
		{"qm2-ss-to-lsw", "aes128-sha1", "aes128-sha1", "c2991091", time.Hour},
		{"qm2-ss", "aes128-sha1", "aes128-sha1", "cc0166dd", 3960 * time.Second},
		{"qm2-ss-pfs1024", "3des-md5;modp1024", "3des-md5", "ca78d25f", 3960 * time.Second},
		{"qm2-lsw-pfs1536", "3des-md5;modp1536", "3des-md5", "ad2e987a", 3960 * time.Second},
	}
	for _, c := range cases {
		got, err := AcceptPhase2Reply(qmSA(t, c.qm), espPolicy(t, c.esp), 0)
		if err != nil {
			t.Errorf("%s: %v", c.qm, err)
			continue
		}
		if got.ESP.String() != c.want || !bytes.Equal(got.PeerESPSPI, mustHex(c.peerSPI)) || got.Lifetime != c.lifetime || got.Reply != nil {
			t.Errorf("%s: %+v", c.qm, got)
		}
	}
	// PFS must be what we proposed, both ways.
	_, err := AcceptPhase2Reply(qmSA(t, "qm2-lsw-pfs1536"), espPolicy(t, "3des-md5"), 0)
	if reason := wantNotify(t, err, spec.NoProposalChosen); !strings.Contains(reason, "PFS group OAKLEY_GROUP_MODP1536") {
		t.Errorf("reason %q", reason)
	}
	_, err = AcceptPhase2Reply(qmSA(t, "qm2-ss"), espPolicy(t, "aes128-sha1;modp2048"), 0)
	wantNotify(t, err, spec.NoProposalChosen)
	_, err = AcceptPhase2Reply(qmSA(t, "qm2-ss-pfs1024"), espPolicy(t, "3des-md5;modp1536"), 0)
	wantNotify(t, err, spec.NoProposalChosen)
	// Not what we offered.
	_, err = AcceptPhase2Reply(qmSA(t, "qm2-ss"), espPolicy(t, "aes256-sha1"), 0)
	if reason := wantNotify(t, err, spec.NoProposalChosen); !strings.Contains(reason, "ESP_AES/128+AUTH_ALGORITHM_HMAC_SHA1") {
		t.Errorf("reason %q", reason)
	}
	// We asked for AH too.
	p := espPolicy(t, "aes128-sha1")
	p.AH = DefaultAH()
	_, err = AcceptPhase2Reply(qmSA(t, "qm2-ss"), p, 0)
	wantNotify(t, err, spec.NoProposalChosen)
	// An offer with several transforms is not a reply.
	p = espPolicy(t, "aes128-sha1,3des-md5")
	_, err = AcceptPhase2Reply(roundTrip(t, BuildPhase2SA(p, ourESP, nil, nil)), p, 0)
	wantNotify(t, err, spec.BadProposalSyntax)
	// Two bundles: the first acceptable one wins, as in pluto.
	one := BuildPhase2SA(espPolicy(t, "aes128-sha1"), ourESP, nil, nil)
	two := *one
	second := one.Proposals[0]
	second.Number = 1
	second.SPI = []byte{0xaa, 0xbb, 0xcc, 0xdd}
	two.Proposals = []payloads.Proposal{one.Proposals[0], second}
	if c, err := AcceptPhase2Reply(&two, espPolicy(t, "aes128-sha1"), 0); err != nil || string(c.PeerESPSPI) != string(ourESP) {
		t.Errorf("two bundles: %+v %v", c, err)
	}
	if c, err := AcceptPhase2Reply(&two, espPolicy(t, "aes256-sha1"), 0); err == nil {
		t.Errorf("two unacceptable bundles accepted: %+v", c)
	}
	// IPComp we did not ask for.
	pc := espPolicy(t, "aes128-sha1")
	pc.Compress = true
	withIPComp := BuildPhase2SA(pc, ourESP, nil, ourCPI)
	_, err = AcceptPhase2Reply(withIPComp, espPolicy(t, "aes128-sha1"), 0)
	wantNotify(t, err, spec.NoProposalChosen)
	if c, err := AcceptPhase2Reply(withIPComp, pc, 0); err != nil || !c.IPComp {
		t.Errorf("with IPComp: %+v %v", c, err)
	}
	// strongSwan's answer to an IPComp offer: ESP and IPComp as proposal
	// 1, then ESP alone as proposal 2. With --compress the first is ours;
	// without, the second.
	ss := *withIPComp
	espAlone := withIPComp.Proposals[0]
	espAlone.Number = withIPComp.Proposals[0].Number + 1
	espAlone.SPI = []byte{0xaa, 0xbb, 0xcc, 0xdd}
	ss.Proposals = append(append([]payloads.Proposal(nil), withIPComp.Proposals...), espAlone)
	if c, err := AcceptPhase2Reply(roundTrip(t, &ss), pc, 0); err != nil || !c.IPComp || string(c.PeerCPI) != string(ourCPI) ||
		string(c.PeerESPSPI) != string(ourESP) {
		t.Errorf("strongSwan's IPComp answer: %+v %v", c, err)
	}
	if c, err := AcceptPhase2Reply(roundTrip(t, &ss), espPolicy(t, "aes128-sha1"), 0); err != nil || c.IPComp ||
		string(c.PeerESPSPI) != "\xaa\xbb\xcc\xdd" {
		t.Errorf("strongSwan's IPComp answer without --compress: %+v %v", c, err)
	}
	// The peer may drop IPComp.
	if c, err := AcceptPhase2Reply(one, pc, 0); err != nil || c.IPComp {
		t.Errorf("IPComp dropped: %+v %v", c, err)
	}
}

// esp builds an ESP proposal with transforms.
func espProp(num uint8, spi []byte, ts ...payloads.Transform) payloads.Proposal {
	return payloads.Proposal{Number: num, Protocol: spec.ProtoESP, SPI: spi, Transforms: ts}
}

func ipsecT(num uint8, id spec.TransformID, as ...payloads.Attribute) payloads.Transform {
	return payloads.Transform{Number: num, ID: id, Attributes: as}
}

func qmSAOf(props ...payloads.Proposal) *payloads.SA {
	return &payloads.SA{DOI: spec.DOIIPsec, Situation: spec.SitIdentityOnly, Proposals: props}
}

// aesSHA1 returns ESP aes128-sha1 attributes with the given mode and extras.
func aesSHA1(mode spec.EncapsulationMode, extra ...payloads.Attribute) []payloads.Attribute {
	return append([]payloads.Attribute{tvAttr(pMode, uint16(mode)), tvAttr(pAuth, 2), tvAttr(pKeyLen, 128)}, extra...)
}

func TestSelectPhase2Mismatches(t *testing.T) {
	tunnel := espPolicy(t, "aes128-sha1")
	transport := tunnel
	transport.Mode = spec.EncapTransport
	pfs2048 := espPolicy(t, "aes128-sha1;modp2048")
	spi := []byte{1, 2, 3, 4}
	sel := func(sa *payloads.SA, p Phase2Policy) (Phase2Choice, error) {
		return SelectPhase2(sa, p, 0, ourESP, ourAH, ourCPI)
	}
	cases := []struct {
		name   string
		sa     *payloads.SA
		p      Phase2Policy
		notif  spec.NotifyType
		reason string
	}{
		{"mode", qmSA(t, "qm1-ss"), transport, spec.NoProposalChosen, "ENCAPSULATION_MODE_TUNNEL, we want ENCAPSULATION_MODE_TRANSPORT"},
		{"PFS required", qmSA(t, "qm1-ss"), pfs2048, spec.NoProposalChosen, "proposed no GROUP_DESCRIPTION"},
		{"PFS group", qmSA(t, "qm1-ss-pfs1024"), func() Phase2Policy { p := espPolicy(t, "3des-md5;modp2048"); return p }(),
			spec.NoProposalChosen, "peer proposed PFS group OAKLEY_GROUP_MODP1024, we require OAKLEY_GROUP_MODP2048"},
		{"PFS modp768", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1, tvAttr(pGroup, 1))...))), tunnel,
			spec.NoProposalChosen, "too weak"},
		{"algorithm", qmSA(t, "qm1-lsw"), espPolicy(t, "aes256-sha2_256"), spec.NoProposalChosen,
			"peer offered ESP_AES/128+AUTH_ALGORITHM_HMAC_SHA1 ENCAPSULATION_MODE_TUNNEL; we accept ESP aes256-sha2_256; tunnel; no PFS"},
		{"UDP tunnel", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(spec.EncapUDPTunnel)...))), tunnel,
			spec.NoProposalChosen, "NAT-T"},
		{"UDP draft", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(spec.EncapUDPTunnelDraft)...))), tunnel,
			spec.NoProposalChosen, "NAT-T"},
		{"SPI 0xff", qmSAOf(espProp(1, []byte{0, 0, 0, 0xff}, ipsecT(1, spec.ESPAES, aesSHA1(1)...))), tunnel,
			spec.InvalidSPI, "invalid SPI (0xff)"},
		{"SPI 0", qmSAOf(espProp(1, []byte{0, 0, 0, 0}, ipsecT(1, spec.ESPAES, aesSHA1(1)...))), tunnel,
			spec.InvalidSPI, "invalid SPI"},
		{"SPI size", qmSAOf(espProp(1, []byte{1, 2, 3}, ipsecT(1, spec.ESPAES, aesSHA1(1)...))), tunnel,
			spec.InvalidSPI, "SPI size"},
		{"no mode", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, tvAttr(pAuth, 2)))), tunnel,
			spec.BadProposalSyntax, "ENCAPSULATION_MODE missing"},
		{"duplicate", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1, tvAttr(pAuth, 2))...))), tunnel,
			spec.BadProposalSyntax, "repeated AUTH_ALGORITHM"},
		{"duration first", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1, tvAttr(pLifeDur, 5), tvAttr(pLifeType, 1))...))), tunnel,
			spec.BadProposalSyntax, "SA_LIFE_DURATION attribute not preceded"},
		{"inconsistent groups", qmSAOf(espProp(1, spi,
			ipsecT(1, spec.ESPAES, aesSHA1(1, tvAttr(pGroup, 14))...), ipsecT(2, spec.ESPAES, aesSHA1(1, tvAttr(pGroup, 5))...))), tunnel,
			spec.BadProposalSyntax, "GROUP_DESCRIPTION inconsistent"},
		{"group and none", qmSAOf(espProp(1, spi,
			ipsecT(1, spec.ESPAES, aesSHA1(1, tvAttr(pGroup, 14))...), ipsecT(2, spec.ESPAES, aesSHA1(1)...))), tunnel,
			spec.BadProposalSyntax, "GROUP_DESCRIPTION inconsistent"},
		{"ESP without auth", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, tvAttr(pMode, 1), tvAttr(pKeyLen, 128)))), tunnel,
			spec.NoProposalChosen, "no AUTH_ALGORITHM"},
		{"AEAD with integrity", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAESGCM16, tvAttr(pMode, 1), tvAttr(pAuth, 2), tvAttr(pKeyLen, 128)))),
			Phase2Policy{ESP: []ESPAlg{{Enc: spec.ESPAESGCM16, KeyLen: 128}}}, spec.NoProposalChosen, "AEAD transform with AUTH_ALGORITHM_HMAC_SHA1"},
		{"3DES key length", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESP3DES, tvAttr(pMode, 1), tvAttr(pAuth, 1), tvAttr(pKeyLen, 128)))),
			espPolicy(t, "3des-md5"), spec.NoProposalChosen, "invalid key length 128"},
		{"ESN", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1, tvAttr(uint16(spec.IPsecESN), 1))...))), tunnel,
			spec.NoProposalChosen, "unsupported IPsec attribute ESN"},
		{"DES", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPDES, tvAttr(pMode, 1), tvAttr(pAuth, 2)))), tunnel,
			spec.NoProposalChosen, "ESP_DES is not supported"},
		{"ISAKMP in QM", qmSAOf(payloads.Proposal{Number: 1, Protocol: spec.ProtoISAKMP, Transforms: []payloads.Transform{keyIKE(1)}}), tunnel,
			spec.InvalidProtocolID, "PROTO_ISAKMP"},
		{"two ESP in a bundle", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1)...)), espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1)...))),
			tunnel, spec.BadProposalSyntax, "two simultaneous PROTO_IPSEC_ESP"},
		{"AH not in policy", qmSAOf(ahProp(1, spi, ahT(1, spec.AHSHA, 2))), tunnel, spec.NoProposalChosen, "no ESP (we require it)"},
		{"ESP not in policy", qmSA(t, "qm1-ss"), Phase2Policy{AH: DefaultAH()}, spec.NoProposalChosen, "ESP (our policy has none)"},
		{"AH auth missing", qmSAOf(ahProp(1, spi, ipsecT(1, spec.AHSHA, tvAttr(pMode, 1)))), Phase2Policy{AH: DefaultAH()},
			spec.BadProposalSyntax, "AUTH_ALGORITHM attribute missing"},
		{"AH auth mismatch", qmSAOf(ahProp(1, spi, ahT(1, spec.AHMD5, 2))), Phase2Policy{AH: DefaultAH()},
			spec.BadProposalSyntax, "inappropriate in AH_MD5"},
		{"no transforms", qmSAOf(espProp(1, spi)), tunnel, spec.NoProposalChosen, "no ESP"},
	}
	for _, c := range cases {
		_, err := sel(c.sa, c.p)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if reason := wantNotify(t, err, c.notif); !strings.Contains(reason, c.reason) {
			t.Errorf("%s: reason %q lacks %q", c.name, reason, c.reason)
		}
	}
	// The decoded QM1 SA with its SPI lowered.
	sa := qmSA(t, "qm1-ss")
	sa.Proposals[0].SPI = []byte{0, 0, 0, 0x80}
	_, err := sel(sa, tunnel)
	wantNotify(t, err, spec.InvalidSPI)
	// AEAD without integrity is accepted; the policy's own offer has none.
	gcm := espPolicy(t, "aes_gcm16_256")
	c, err := sel(roundTrip(t, BuildPhase2SA(gcm, ourESP, nil, nil)), gcm)
	if err != nil || c.ESP.String() != "aes_gcm16_256" || c.ESP.Integ != spec.AuthAlgNone {
		t.Errorf("AEAD: %+v %v", c, err)
	}
	// AES without KEY_LENGTH is AES-128 (pluto).
	c, err = sel(qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, tvAttr(pMode, 1), tvAttr(pAuth, 2)))), tunnel)
	if err != nil || c.ESP.KeyLen != 128 {
		t.Errorf("AES without key length: %+v %v", c, err)
	}
}

func ahProp(num uint8, spi []byte, ts ...payloads.Transform) payloads.Proposal {
	return payloads.Proposal{Number: num, Protocol: spec.ProtoAH, SPI: spi, Transforms: ts}
}

func ahT(num uint8, id spec.TransformID, auth uint16) payloads.Transform {
	return ipsecT(num, id, tvAttr(pMode, 1), tvAttr(pAuth, auth))
}

func ipcompProp(num uint8, cpi []byte, ts ...payloads.Transform) payloads.Proposal {
	return payloads.Proposal{Number: num, Protocol: spec.ProtoIPComp, SPI: cpi, Transforms: ts}
}

func TestSelectPhase2Bundles(t *testing.T) {
	spi := []byte{1, 2, 3, 4}
	esp := espProp(2, spi, ipsecT(1, spec.ESP3DES, tvAttr(pMode, 1), tvAttr(pAuth, 1)), ipsecT(2, spec.ESPAES, aesSHA1(1)...))
	deflate := ipsecT(1, spec.IPCompDeflate, tvAttr(pMode, 1))
	sa := qmSAOf(
		ahProp(1, spi, ahT(1, spec.AHSHA, 2)),           // bundle 1: AH only
		esp, ipcompProp(2, []byte{0x40, 0x00}, deflate), // bundle 2: ESP + IPComp
		espProp(3, []byte{5, 6, 7, 8}, ipsecT(1, spec.ESPAES, aesSHA1(1)...)), // bundle 3: ESP
	)
	p := espPolicy(t, "aes128-sha1")
	c, err := SelectPhase2(roundTrip(t, sa), p, 0, ourESP, ourAH, ourCPI)
	if err != nil {
		t.Fatal(err)
	}
	// compress=no still accepts compression (pluto).
	if !c.IPComp || c.ESP.String() != "aes128-sha1" || c.AH != nil || !bytes.Equal(c.PeerCPI, []byte{0x40, 0}) || !bytes.Equal(c.PeerESPSPI, spi) {
		t.Errorf("choice %+v", c)
	}
	r := c.Reply.Proposals
	if len(r) != 2 || r[0].Number != 2 || r[0].Protocol != spec.ProtoESP || r[0].Transforms[0].Number != 2 || !bytes.Equal(r[0].SPI, ourESP) ||
		r[1].Protocol != spec.ProtoIPComp || !bytes.Equal(r[1].SPI, ourCPI) {
		t.Errorf("reply %+v", r)
	}
	// Without a CPI (no compression possible) the IPComp bundle is skipped.
	c, err = SelectPhase2(roundTrip(t, sa), p, 0, ourESP, ourAH, nil)
	if err != nil || c.IPComp || !bytes.Equal(c.PeerESPSPI, []byte{5, 6, 7, 8}) || c.Reply.Proposals[0].Number != 3 {
		t.Errorf("without CPI: %+v %v", c, err)
	}
	// AH+ESP policy: only an AH+ESP bundle will do.
	pah := p
	pah.AH = []AHAlg{{Integ: spec.AuthAlgHMACSHA1}}
	_, err = SelectPhase2(roundTrip(t, sa), pah, 0, ourESP, ourAH, ourCPI)
	wantNotify(t, err, spec.NoProposalChosen)
	both := qmSAOf(ahProp(1, []byte{9, 9, 9, 9}, ahT(1, spec.AHSHA, 2)), espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1)...)))
	c, err = SelectPhase2(roundTrip(t, both), pah, 0, ourESP, ourAH, nil)
	if err != nil || c.AH == nil || c.ESP == nil || !bytes.Equal(c.PeerAHSPI, []byte{9, 9, 9, 9}) {
		t.Fatalf("AH+ESP: %+v %v", c, err)
	}
	if r := c.Reply.Proposals; len(r) != 2 || r[0].Protocol != spec.ProtoAH || !bytes.Equal(r[0].SPI, ourAH) || !bytes.Equal(r[1].SPI, ourESP) {
		t.Errorf("AH+ESP reply %+v", r)
	}
	// CPI forms.
	for _, cc := range []struct {
		name  string
		cpi   []byte
		id    spec.TransformID
		notif spec.NotifyType
	}{
		{"4-octet CPI", []byte{0, 0, 0x40, 0}, spec.IPCompDeflate, 0},
		{"well-known CPI", []byte{0, 2}, spec.IPCompDeflate, 0},
		{"CPI filler", []byte{1, 0, 0x40, 0}, spec.IPCompDeflate, spec.InvalidSPI},
		{"reserved CPI", []byte{0, 5}, spec.IPCompDeflate, spec.InvalidSPI},
		{"private CPI", []byte{0xf0, 0}, spec.IPCompDeflate, spec.InvalidSPI},
		{"CPI size", []byte{0, 0x40, 0}, spec.IPCompDeflate, spec.InvalidSPI},
		{"well-known CPI, other transform", []byte{0, 2}, spec.IPCompLZS, spec.BadProposalSyntax},
		{"LZS", []byte{0x40, 0}, spec.IPCompLZS, spec.NoProposalChosen},
	} {
		sa := qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1)...)), ipcompProp(1, cc.cpi, ipsecT(1, cc.id)))
		c, err := SelectPhase2(sa, p, 0, ourESP, nil, ourCPI)
		if cc.notif == 0 {
			if err != nil || !c.IPComp || !bytes.Equal(c.PeerCPI, cc.cpi[len(cc.cpi)-2:]) {
				t.Errorf("%s: %+v %v", cc.name, c, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", cc.name)
		} else if n := notify(t, err); n != cc.notif {
			t.Errorf("%s: %v, want %v", cc.name, err, cc.notif)
		}
	}
	bare := qmSAOf(ipcompProp(1, []byte{0, 2}, ipsecT(1, spec.IPCompDeflate)))
	_, err = SelectPhase2(bare, p, 0, ourESP, nil, ourCPI)
	wantNotify(t, err, spec.BadProposalSyntax)
	// Internal errors: the chosen bundle needs an SPI we did not pass.
	_, err = SelectPhase2(qmSA(t, "qm1-ss"), p, 0, nil, nil, nil)
	wantNotify(t, err, spec.NoProposalChosen)
}

func TestSelectPhase2Lifetime(t *testing.T) {
	spi := []byte{1, 2, 3, 4}
	p := espPolicy(t, "aes128-sha1")
	life := func(as ...payloads.Attribute) *payloads.SA {
		return qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1, as...)...)))
	}
	lt := func(v uint16) payloads.Attribute { return tvAttr(pLifeType, v) }
	cases := []struct {
		name string
		sa   *payloads.SA
		max  time.Duration
		want time.Duration
	}{
		{"recorded, capped", qmSA(t, "qm1-ss"), time.Hour, time.Hour},
		{"recorded", qmSA(t, "qm1-ss"), 8 * time.Hour, 3960 * time.Second},
		{"absent", life(), 0, DefaultIPsecLifetime},
		{"absent, capped", life(), time.Hour, time.Hour},
		{"kilobytes only", life(lt(2), payloads.NewVariable(pLifeDur, 4608000)), 0, DefaultIPsecLifetime},
		{"kilobytes and seconds", life(lt(2), payloads.NewVariable(pLifeDur, 4608000), lt(1), tvAttr(pLifeDur, 1200)), 0, 20 * time.Minute},
		{"TLV seconds", life(lt(1), payloads.NewVariable(pLifeDur, 100000)), 0, 100000 * time.Second},
		// With IPComp the smaller lifetime of the bundle wins.
		{"bundle minimum", qmSAOf(espProp(1, spi, ipsecT(1, spec.ESPAES, aesSHA1(1, lt(1), tvAttr(pLifeDur, 3000))...)),
			ipcompProp(1, []byte{0x40, 0}, ipsecT(1, spec.IPCompDeflate, lt(1), tvAttr(pLifeDur, 600)))), 0, 10 * time.Minute},
	}
	for _, c := range cases {
		got, err := SelectPhase2(c.sa, p, c.max, ourESP, nil, ourCPI)
		if err != nil || got.Lifetime != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got.Lifetime, err, c.want)
		}
	}
	_, err := SelectPhase2(life(lt(1), tvAttr(pLifeDur, 0)), p, 0, ourESP, nil, nil)
	wantNotify(t, err, spec.NoProposalChosen)
	_, err = SelectPhase2(life(lt(1)), p, 0, ourESP, nil, nil)
	wantNotify(t, err, spec.BadProposalSyntax)
	_, err = SelectPhase2(life(lt(1), tvAttr(pLifeDur, 1), lt(1), tvAttr(pLifeDur, 1)), p, 0, ourESP, nil, nil)
	wantNotify(t, err, spec.BadProposalSyntax)
}

func TestPhase2PolicyString(t *testing.T) {
	p := Phase2Policy{ESP: DefaultESP()[:2], AH: DefaultAH()[:1], Compress: true, Mode: spec.EncapTransport, PFSGroup: spec.GroupMODP2048}
	if s := p.String(); s != "ESP aes128-sha2_256, aes128-sha1; AH sha2_256; IPComp; transport; PFS modp2048" {
		t.Errorf("String = %q", s)
	}
	if s := (Phase2Policy{}).String(); s != "neither ESP nor AH; tunnel; no PFS" {
		t.Errorf("String = %q", s)
	}
}

// TestPhase2UDPEncap: with a NAT detected, QI1 proposes the
// UDP-encapsulated mode of the negotiated NAT-T family, the responder
// accepts only those (of either family) for its own base mode, and the
// choice says UDPEncap; without a NAT, UDP modes are refused.
func TestPhase2UDPEncap(t *testing.T) {
	spi := []byte{0xc0, 0, 1, 2}
	sel := func(sa *payloads.SA, p Phase2Policy) (Phase2Choice, error) {
		return SelectPhase2(roundTrip(t, sa), p, 0, []byte{0xd0, 0, 0, 1}, []byte{0xd0, 0, 0, 2}, nil)
	}
	for _, c := range []struct {
		encap UDPEncap
		mode  spec.EncapsulationMode
		wire  spec.EncapsulationMode
	}{
		{UDPEncapRFC, spec.EncapTunnel, spec.EncapUDPTunnel},
		{UDPEncapRFC, spec.EncapTransport, spec.EncapUDPTransport},
		{UDPEncapDraft, spec.EncapTunnel, spec.EncapUDPTunnelDraft},
		{UDPEncapDraft, spec.EncapTransport, spec.EncapUDPTransportDraft},
	} {
		p := espPolicy(t, "aes128-sha1")
		p.Mode, p.UDPEncap = c.mode, c.encap
		sa := BuildPhase2SA(p, spi, nil, nil)
		var got uint64
		for _, a := range sa.Proposals[0].Transforms[0].Attributes {
			if spec.IPsecAttr(a.Type) == spec.IPsecEncapsulationMode {
				got, _ = a.Uint()
			}
		}
		if spec.EncapsulationMode(got) != c.wire {
			t.Errorf("%v/%v: proposed %v, want %v", c.encap, c.mode, spec.EncapsulationMode(got), c.wire)
		}
		ch, err := sel(sa, p)
		if err != nil || !ch.UDPEncap || ch.Mode != c.mode {
			t.Errorf("%v/%v: select %+v, %v", c.encap, c.mode, ch.Mode, err)
		}
		// The other family's number for the same mode is accepted too.
		other := p
		other.UDPEncap = UDPEncapRFC + UDPEncapDraft - c.encap
		if ch, err := sel(BuildPhase2SA(other, spi, nil, nil), p); err != nil || !ch.UDPEncap {
			t.Errorf("%v/%v: other family refused: %v", c.encap, c.mode, err)
		}
		// Without a NAT: refused, and a plain mode is refused with a NAT.
		plain := p
		plain.UDPEncap = UDPEncapNone
		if _, err := sel(sa, plain); err == nil || !strings.Contains(err.Error(), "no NAT was detected") {
			t.Errorf("%v/%v without NAT: %v", c.encap, c.mode, err)
		}
		if _, err := sel(BuildPhase2SA(plain, spi, nil, nil), p); err == nil || !strings.Contains(err.Error(), "a NAT was detected") {
			t.Errorf("%v/%v plain mode through a NAT: %v", c.encap, c.mode, err)
		}
		// The wrong base mode is refused.
		wrong := p
		wrong.Mode = spec.EncapTunnel + spec.EncapTransport - c.mode
		if _, err := sel(BuildPhase2SA(wrong, spi, nil, nil), p); err == nil {
			t.Errorf("%v/%v: other base mode accepted", c.encap, c.mode)
		}
	}
}
