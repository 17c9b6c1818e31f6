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
	classLifeType = uint16(spec.OakleyLifeType)
	classLifeDur  = uint16(spec.OakleyLifeDuration)
	classEnc      = uint16(spec.OakleyEncryptionAlgorithm)
	classHash     = uint16(spec.OakleyHashAlgorithm)
	classAuth     = uint16(spec.OakleyAuthenticationMethod)
	classGroup    = uint16(spec.OakleyGroupDescription)
	classKeyLen   = uint16(spec.OakleyKeyLength)
)

func pskPolicy(t testing.TB, ike string) Phase1Policy {
	return Phase1Policy{Algs: mustIKE(t, ike), Auth: spec.AuthPSK, Lifetime: time.Hour}
}

// oakleyTransformOf builds a KEY_IKE transform from attributes.
func oakleySA(props ...payloads.Proposal) *payloads.SA {
	return &payloads.SA{DOI: spec.DOIIPsec, Situation: spec.SitIdentityOnly, Proposals: props}
}

func isakmpProp(num uint8, ts ...payloads.Transform) payloads.Proposal {
	return payloads.Proposal{Number: num, Protocol: spec.ProtoISAKMP, Transforms: ts}
}

func keyIKE(num uint8, as ...payloads.Attribute) payloads.Transform {
	return payloads.Transform{Number: num, ID: spec.KeyIKE, Attributes: as}
}

// oakleyAttrs returns the attributes of enc/keylen-hash-group with auth and
// a lifetime in seconds (none when 0).
func oakleyAttrs(enc spec.OakleyEncryption, keyLen int, hash spec.OakleyHash, group spec.Group, auth spec.AuthMethod, secs uint64) []payloads.Attribute {
	as := []payloads.Attribute{
		tvAttr(classEnc, uint16(enc)), tvAttr(classHash, uint16(hash)),
		tvAttr(classAuth, uint16(auth)), tvAttr(classGroup, uint16(group)),
	}
	if keyLen != 0 {
		as = append(as, tvAttr(classKeyLen, uint16(keyLen)))
	}
	if secs != 0 {
		as = append(as, tvAttr(classLifeType, 1), payloads.NewVariable(classLifeDur, secs))
	}
	return as
}

// The SA payload built for libreswan's configuration (ike=aes128-sha1;modp2048,
// authby=secret, ikelifetime=1h) is byte for byte the one libreswan sent.
func TestBuildPhase1SALibreswanBytes(t *testing.T) {
	want := mmSA(t, "mm1-lsw").Body()
	got := body(BuildPhase1SA(pskPolicy(t, "aes128-sha1;modp2048")))
	if !bytes.Equal(got, want) {
		t.Fatalf("BuildPhase1SA:\n got %x\nwant %x", got, want)
	}
	// The same with RSA signatures.
	p := pskPolicy(t, "aes128-sha1-modp2048")
	p.Auth = spec.AuthRSASig
	if got, want := body(BuildPhase1SA(p)), mmSA(t, "mm1-lsw-rsa").Body(); !bytes.Equal(got, want) {
		t.Fatalf("BuildPhase1SA rsasig:\n got %x\nwant %x", got, want)
	}
}

// With 3h the transform has libreswan's attribute order and encodings; the
// duration is still TV. Beyond 16 bits it becomes a 4-octet TLV.
func TestBuildPhase1SALifetimes(t *testing.T) {
	recorded := mmSA(t, "mm1-lsw").Proposals[0].Transforms[0].Attributes
	p := pskPolicy(t, "aes128-sha1-modp2048")
	p.Lifetime = 3 * time.Hour
	got := BuildPhase1SA(p).Proposals[0].Transforms[0].Attributes
	if !slices.Equal(attrClasses(got), attrClasses(recorded)) {
		t.Fatalf("attribute order %v, libreswan %v", attrClasses(got), attrClasses(recorded))
	}
	for i := range got {
		want := recorded[i]
		if got[i].Type == classLifeDur {
			want = payloads.NewTV(classLifeDur, 10800)
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("attribute %d: %+v, want %+v", i, got[i], want)
		}
	}
	p.Lifetime = 24 * time.Hour
	dur, _ := payloads.Lookup(BuildPhase1SA(p).Proposals[0].Transforms[0].Attributes, classLifeDur)
	if dur.TV || !bytes.Equal(dur.Value, []byte{0, 1, 0x51, 0x80}) {
		t.Errorf("24h duration %+v, want TLV 00015180", dur)
	}
	p.Lifetime = 0
	dur, _ = payloads.Lookup(BuildPhase1SA(p).Proposals[0].Transforms[0].Attributes, classLifeDur)
	if v, _ := dur.Uint(); v != 3600 {
		t.Errorf("default lifetime %d s", v)
	}
}

func TestBuildPhase1SARoundTrip(t *testing.T) {
	p := Phase1Policy{Auth: spec.AuthRSASig} // DefaultIKE
	sa := BuildPhase1SA(p)
	got := roundTrip(t, sa)
	if got.DOI != spec.DOIIPsec || got.Situation != spec.SitIdentityOnly || len(got.Proposals) != 1 {
		t.Fatalf("decoded %+v", got)
	}
	prop := got.Proposals[0]
	if prop.Number != ProposalNumber || prop.Protocol != spec.ProtoISAKMP || prop.SPI != nil || len(prop.Transforms) != 12 {
		t.Fatalf("proposal %d %v spi %x with %d transforms", prop.Number, prop.Protocol, prop.SPI, len(prop.Transforms))
	}
	for i, tr := range prop.Transforms {
		if tr.Number != uint8(i) || tr.ID != spec.KeyIKE {
			t.Errorf("transform %d: number %d id %d", i, tr.Number, tr.ID)
		}
		if !reflect.DeepEqual(tr.Attributes, sa.Proposals[0].Transforms[i].Attributes) {
			t.Errorf("transform %d attributes differ after round trip", i)
		}
		a := DefaultIKE()[i]
		wantClasses := []uint16{classLifeType, classLifeDur, classEnc, classHash, classAuth, classGroup}
		if a.KeyLen != 0 {
			wantClasses = append(wantClasses, classKeyLen)
		}
		if !slices.Equal(attrClasses(tr.Attributes), wantClasses) {
			t.Errorf("transform %d (%v) classes %v", i, a, attrClasses(tr.Attributes))
		}
	}
	// A responder with the same policy takes the first transform and the
	// initiator accepts the reply.
	c, err := SelectPhase1(got, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Alg != DefaultIKE()[0] || c.Auth != spec.AuthRSASig || c.Lifetime != time.Hour {
		t.Errorf("SelectPhase1 = %+v", c)
	}
	r, err := AcceptPhase1Reply(roundTrip(t, c.Reply), p, 0)
	if err != nil || r.Alg != c.Alg || r.Lifetime != c.Lifetime || r.Reply != nil {
		t.Errorf("AcceptPhase1Reply = %+v, %v", r, err)
	}
}

func TestSelectPhase1Recorded(t *testing.T) {
	cases := []struct {
		sa       string
		ike      string
		auth     spec.AuthMethod
		want     string
		lifetime time.Duration
	}{
		{"mm1-lsw", "aes128-sha1-modp2048", spec.AuthPSK, "aes128-sha1-modp2048", time.Hour},
		{"mm1-lsw-rsa", "aes128-sha1-modp2048", spec.AuthRSASig, "aes128-sha1-modp2048", time.Hour},
		{"mm1-ss", "aes128-sha1-modp2048", spec.AuthPSK, "aes128-sha1-modp2048", 15840 * time.Second},
		{"mm1-ss-3des1024", "3des-md5;modp1024", spec.AuthPSK, "3des-md5-modp1024", 15840 * time.Second},
		{"mm1-ss-3des1536", "3des-md5-modp1536", spec.AuthPSK, "3des-md5-modp1536", 15840 * time.Second},
		// A wider policy still selects the offered transform.
		{"mm1-ss", "", spec.AuthPSK, "aes128-sha1-modp2048", 15840 * time.Second},
		{"mm1-ss-3des1536", "aes256,3des-md5", spec.AuthPSK, "3des-md5-modp1536", 15840 * time.Second},
	}
	for _, c := range cases {
		p := Phase1Policy{Auth: c.auth}
		if c.ike != "" {
			p.Algs = mustIKE(t, c.ike)
		} else if c.want != "" {
			p.Algs = append(DefaultIKE(), mustIKE(t, c.want)...)
		}
		sa := mmSA(t, c.sa)
		got, err := SelectPhase1(sa, p, 24*time.Hour)
		if err != nil {
			t.Errorf("%s/%s: %v", c.sa, c.ike, err)
			continue
		}
		if got.Alg.String() != c.want || got.Auth != c.auth || got.Lifetime != c.lifetime {
			t.Errorf("%s/%s: %v %v %v", c.sa, c.ike, got.Alg, got.Auth, got.Lifetime)
		}
		// The reply echoes the offered proposal (it has one transform).
		if r := body(got.Reply); !bytes.Equal(r, sa.Body()) {
			t.Errorf("%s: reply %x, want the offer %x", c.sa, r, sa.Body())
		}
	}
}

// libreswan, responding to strongSwan's MI1, sent exactly what SelectPhase1
// builds.
func TestSelectPhase1ReplyLikeLibreswan(t *testing.T) {
	c, err := SelectPhase1(mmSA(t, "mm1-ss-3des1536"), pskPolicy(t, "3des-md5;modp1536"), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := body(c.Reply), mmSA(t, "mm2-lsw-3des1536").Body(); !bytes.Equal(got, want) {
		t.Errorf("reply\n got %x\nwant %x (libreswan)", got, want)
	}
}

func TestSelectPhase1NoProposalChosen(t *testing.T) {
	reason := wantNotify(t, func() error {
		_, err := SelectPhase1(mmSA(t, "mm1-lsw"), pskPolicy(t, "aes256-sha2_512-modp4096"), 0)
		return err
	}(), spec.NoProposalChosen)
	for _, s := range []string{"no acceptable Oakley Transform",
		"OAKLEY_AES_CBC/128 OAKLEY_SHA1 OAKLEY_GROUP_MODP2048 OAKLEY_PRESHARED_KEY",
		"we accept aes256-sha2_512-modp4096 with OAKLEY_PRESHARED_KEY"} {
		if !strings.Contains(reason, s) {
			t.Errorf("reason %q lacks %q", reason, s)
		}
	}
	// Right algorithms, wrong authentication method.
	reason = wantNotify(t, func() error {
		_, err := SelectPhase1(mmSA(t, "mm1-lsw-rsa"), pskPolicy(t, "aes128-sha1-modp2048"), 0)
		return err
	}(), spec.NoProposalChosen)
	if !strings.Contains(reason, "authentication OAKLEY_RSA_SIG, we use OAKLEY_PRESHARED_KEY") {
		t.Errorf("reason %q", reason)
	}
	_, err := SelectPhase1(mmSA(t, "mm1-ss-3des1024"), pskPolicy(t, "3des-md5-modp1536"), 0)
	wantNotify(t, err, spec.NoProposalChosen)
}

func TestSelectPhase1Lifetime(t *testing.T) {
	p := pskPolicy(t, "aes128-sha1-modp2048")
	mk := func(extra ...payloads.Attribute) *payloads.SA {
		as := append(oakleyAttrs(spec.OakleyAESCBC, 128, spec.OakleySHA1, spec.GroupMODP2048, spec.AuthPSK, 0), extra...)
		return oakleySA(isakmpProp(1, keyIKE(1, as...)))
	}
	lt := func(v uint16) payloads.Attribute { return tvAttr(classLifeType, v) }
	cases := []struct {
		name  string
		sa    *payloads.SA
		max   time.Duration
		want  time.Duration
		notif spec.NotifyType
	}{
		{"shortened", mmSA(t, "mm1-lsw"), 30 * time.Minute, 30 * time.Minute, 0},
		{"no cap", mmSA(t, "mm1-ss"), 0, 15840 * time.Second, 0},
		{"below cap", mmSA(t, "mm1-lsw"), 8 * time.Hour, time.Hour, 0},
		{"absent: default", mk(), 8 * time.Hour, DefaultIKELifetime, 0},
		{"kilobytes ignored", mk(lt(2), payloads.NewVariable(classLifeDur, 100000)), 0, DefaultIKELifetime, 0},
		{"both pairs", mk(lt(2), tvAttr(classLifeDur, 5000), lt(1), tvAttr(classLifeDur, 600)), 0, 10 * time.Minute, 0},
		{"4-octet TLV", mk(lt(1), payloads.NewVariable(classLifeDur, 86400)), 0, 24 * time.Hour, 0},
		{"huge TLV capped", mk(lt(1), payloads.NewTLV(classLifeDur, bytes.Repeat([]byte{0xff}, 12))), 2 * time.Hour, 2 * time.Hour, 0},
		{"8-octet max", mk(lt(1), payloads.NewVariable(classLifeDur, 1<<64-1)), time.Hour, time.Hour, 0},
		{"zero seconds", mk(lt(1), tvAttr(classLifeDur, 0)), 0, 0, spec.NoProposalChosen},
		{"unknown life type", mk(lt(3), tvAttr(classLifeDur, 10)), 0, 0, spec.NoProposalChosen},
		{"duration first", mk(tvAttr(classLifeDur, 10), lt(1)), 0, 0, spec.BadProposalSyntax},
		{"type alone", mk(lt(1)), 0, 0, spec.BadProposalSyntax},
		{"type twice", mk(lt(1), lt(2), tvAttr(classLifeDur, 10)), 0, 0, spec.BadProposalSyntax},
		{"same type twice", mk(lt(1), tvAttr(classLifeDur, 10), lt(1), tvAttr(classLifeDur, 10)), 0, 0, spec.BadProposalSyntax},
	}
	for _, c := range cases {
		got, err := SelectPhase1(c.sa, p, c.max)
		if c.notif != 0 {
			if err == nil {
				t.Errorf("%s: accepted", c.name)
			} else if n := notify(t, err); n != c.notif {
				t.Errorf("%s: %v, want %v", c.name, err, c.notif)
			}
			continue
		}
		if err != nil || got.Lifetime != c.want {
			t.Errorf("%s: lifetime %v, %v; want %v", c.name, got.Lifetime, err, c.want)
		}
	}
}

func TestSelectPhase1KeyLength(t *testing.T) {
	p := pskPolicy(t, "aes128-sha1-modp2048,aes256-sha1-modp2048,3des-sha1-modp2048")
	one := func(enc spec.OakleyEncryption, kl int) *payloads.SA {
		return oakleySA(isakmpProp(1, keyIKE(1, oakleyAttrs(enc, kl, spec.OakleySHA1, spec.GroupMODP2048, spec.AuthPSK, 3600)...)))
	}
	for _, c := range []struct {
		enc    spec.OakleyEncryption
		kl     int
		ok     bool
		reason string
	}{
		{spec.OakleyAESCBC, 0, false, "requires a key length"},
		{spec.OakleyAESCBC, 100, false, "invalid key length 100"},
		{spec.OakleyAESCBC, 192, false, ""}, // valid, not in the policy
		{spec.OakleyAESCBC, 256, true, ""},
		{spec.Oakley3DESCBC, 0, true, ""},
		{spec.Oakley3DESCBC, 192, true, ""},
		{spec.Oakley3DESCBC, 128, false, "invalid key length 128"},
		{spec.Oakley3DESCBC, 256, false, "invalid key length 256"},
		{spec.OakleyDESCBC, 0, false, "unsupported encryption"},
		{spec.OakleyCamelliaCBC, 128, false, "unsupported encryption"},
	} {
		got, err := SelectPhase1(one(c.enc, c.kl), p, 0)
		if c.ok {
			if err != nil {
				t.Errorf("%v/%d: %v", c.enc, c.kl, err)
			} else if got.Alg.Enc == spec.Oakley3DESCBC && got.Alg.KeyLen != 0 {
				t.Errorf("3DES chosen with key length %d", got.Alg.KeyLen)
			}
			continue
		}
		reason := wantNotify(t, err, spec.NoProposalChosen)
		if !strings.Contains(reason, c.reason) {
			t.Errorf("%v/%d: reason %q lacks %q", c.enc, c.kl, reason, c.reason)
		}
	}
}

// Proposals and transforms are taken in the peer's order: the first
// acceptable transform of the first proposal that has one.
func TestSelectPhase1FirstAcceptable(t *testing.T) {
	p := pskPolicy(t, "aes128-sha1-modp2048,3des-md5-modp1536")
	aes256 := keyIKE(1, oakleyAttrs(spec.OakleyAESCBC, 256, spec.OakleySHA1, spec.GroupMODP2048, spec.AuthPSK, 3600)...)
	tdes := keyIKE(2, oakleyAttrs(spec.Oakley3DESCBC, 0, spec.OakleyMD5, spec.GroupMODP1536, spec.AuthPSK, 3600)...)
	aes128 := keyIKE(3, oakleyAttrs(spec.OakleyAESCBC, 128, spec.OakleySHA1, spec.GroupMODP2048, spec.AuthPSK, 3600)...)
	esp := payloads.Proposal{Number: 1, Protocol: spec.ProtoESP, SPI: []byte{1, 2, 3, 4}, Transforms: []payloads.Transform{aes128}}
	notIKE := aes128
	notIKE.ID = 2

	cases := []struct {
		name     string
		sa       *payloads.SA
		wantProp uint8
		wantT    uint8
	}{
		{"transform order", oakleySA(isakmpProp(1, aes256, tdes, aes128)), 1, 2},
		{"proposal order", oakleySA(isakmpProp(1, aes256), isakmpProp(2, aes128, tdes)), 2, 3},
		{"non-ISAKMP proposal skipped", oakleySA(esp, isakmpProp(2, tdes)), 2, 2},
		{"non-KEY_IKE transform skipped", oakleySA(isakmpProp(1, notIKE, tdes)), 1, 2},
	}
	for _, c := range cases {
		got, err := SelectPhase1(roundTrip(t, c.sa), p, 0)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		r := got.Reply.Proposals
		if len(r) != 1 || len(r[0].Transforms) != 1 || r[0].Number != c.wantProp || r[0].Transforms[0].Number != c.wantT {
			t.Errorf("%s: reply %+v", c.name, r)
		}
	}
	_, err := SelectPhase1(oakleySA(esp), p, 0)
	if reason := wantNotify(t, err, spec.NoProposalChosen); !strings.Contains(reason, "skipped") {
		t.Errorf("reason %q", reason)
	}
}

func TestSelectPhase1Refusals(t *testing.T) {
	p := pskPolicy(t, "aes128-sha1-modp2048")
	good := oakleyAttrs(spec.OakleyAESCBC, 128, spec.OakleySHA1, spec.GroupMODP2048, spec.AuthPSK, 3600)
	with := func(as ...payloads.Attribute) *payloads.SA {
		return oakleySA(isakmpProp(1, keyIKE(1, append(slices.Clone(good), as...)...)))
	}
	without := func(class uint16) *payloads.SA {
		var as []payloads.Attribute
		for _, a := range good {
			if a.Type != class {
				as = append(as, a)
			}
		}
		return oakleySA(isakmpProp(1, keyIKE(1, as...)))
	}
	replace := func(class, v uint16) *payloads.SA {
		as := slices.Clone(good)
		for i := range as {
			if as[i].Type == class {
				as[i] = tvAttr(class, v)
			}
		}
		return oakleySA(isakmpProp(1, keyIKE(1, as...)))
	}
	cases := []struct {
		name   string
		sa     *payloads.SA
		notif  spec.NotifyType
		reason string
	}{
		{"duplicate hash", with(tvAttr(classHash, 2)), spec.BadProposalSyntax, "repeated OAKLEY_HASH_ALGORITHM"},
		{"duplicate key length", with(tvAttr(classKeyLen, 128)), spec.BadProposalSyntax, "repeated OAKLEY_KEY_LENGTH"},
		{"missing group", without(classGroup), spec.BadProposalSyntax, "missing mandatory attribute(s) OAKLEY_GROUP_DESCRIPTION"},
		{"missing auth", without(classAuth), spec.BadProposalSyntax, "OAKLEY_AUTHENTICATION_METHOD"},
		{"PRF", with(tvAttr(uint16(spec.OakleyPRF), 1)), spec.NoProposalChosen, "unsupported attribute OAKLEY_PRF"},
		{"group type", with(tvAttr(uint16(spec.OakleyGroupType), 1)), spec.NoProposalChosen, "OAKLEY_GROUP_TYPE"},
		{"group prime", with(payloads.NewTLV(uint16(spec.OakleyGroupPrime), []byte{0xff, 0xff})), spec.NoProposalChosen, "OAKLEY_GROUP_PRIME"},
		{"unknown class", with(tvAttr(16383, 1)), spec.NoProposalChosen, "unsupported attribute"},
		{"TLV hash", replaceTLV(good, classHash), spec.NoProposalChosen, "TLV form"},
		{"XAUTH", replace(classAuth, uint16(spec.AuthXAuthInitPSK)), spec.NoProposalChosen, "XAUTH"},
		{"hybrid", replace(classAuth, uint16(spec.AuthHybridInitRSA)), spec.NoProposalChosen, "XAUTH/hybrid"},
		{"modp768", replace(classGroup, uint16(spec.GroupMODP768)), spec.NoProposalChosen, "too weak"},
		{"group 22", replace(classGroup, 22), spec.NoProposalChosen, "not supported"},
		{"tiger", replace(classHash, uint16(spec.OakleyTiger)), spec.NoProposalChosen, "unsupported hash"},
	}
	for _, c := range cases {
		_, err := SelectPhase1(c.sa, p, 0)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if reason := wantNotify(t, err, c.notif); !strings.Contains(reason, c.reason) {
			t.Errorf("%s: reason %q lacks %q", c.name, reason, c.reason)
		}
	}

	// Payload-level checks.
	sa := mmSA(t, "mm1-lsw")
	bad := *sa
	bad.DOI = spec.DOIISAKMP
	_, err := SelectPhase1(&bad, p, 0)
	wantNotify(t, err, spec.DOINotSupported)
	bad = *sa
	bad.Situation = spec.SitSecrecy
	_, err = SelectPhase1(&bad, p, 0)
	wantNotify(t, err, spec.SituationNotSupported)
	// A decoded SA with another DOI keeps its situation raw.
	b := slices.Clone(sa.Body())
	b[3] = 2
	other, ok := decodeSABody(b)
	if !ok {
		t.Fatal("DOI 2 SA does not decode")
	}
	_, err = SelectPhase1(other, p, 0)
	wantNotify(t, err, spec.DOINotSupported)
	b = slices.Clone(sa.Body())
	b[7] = 3 // SIT_IDENTITY_ONLY|SIT_SECRECY: labeled-domain fields would follow
	if other, ok = decodeSABody(b); ok {
		_, err = SelectPhase1(other, p, 0)
		wantNotify(t, err, spec.SituationNotSupported)
	}
	_, err = SelectPhase1(nil, p, 0)
	wantNotify(t, err, spec.PayloadMalformed)
	_, err = SelectPhase1(oakleySA(), p, 0)
	wantNotify(t, err, spec.BadProposalSyntax)
}

func replaceTLV(as []payloads.Attribute, class uint16) *payloads.SA {
	as = slices.Clone(as)
	for i := range as {
		if as[i].Type == class {
			as[i] = payloads.NewTLV(class, as[i].Value)
		}
	}
	return oakleySA(isakmpProp(1, keyIKE(1, as...)))
}

func TestAcceptPhase1Reply(t *testing.T) {
	// strongSwan answers libreswan's proposal 0 / transform 0 with proposal
	// 1 / transform 1 and its own attribute order.
	c, err := AcceptPhase1Reply(mmSA(t, "mm2-ss-to-lsw"), pskPolicy(t, "aes128-sha1;modp2048"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Alg.String() != "aes128-sha1-modp2048" || c.Auth != spec.AuthPSK || c.Lifetime != time.Hour || c.Reply != nil {
		t.Errorf("AcceptPhase1Reply = %+v", c)
	}
	c, err = AcceptPhase1Reply(mmSA(t, "mm2-lsw-3des1536"), pskPolicy(t, "3des-md5-modp1536"), 4*time.Hour)
	if err != nil || c.Alg.String() != "3des-md5-modp1536" || c.Lifetime != 4*time.Hour {
		t.Errorf("AcceptPhase1Reply(libreswan) = %+v, %v", c, err)
	}
	if _, err := AcceptPhase1Reply(mmSA(t, "mm2-ss"), pskPolicy(t, "aes128-sha1-modp2048"), 0); err != nil {
		t.Error(err)
	}
	// Not what we offered.
	_, err = AcceptPhase1Reply(mmSA(t, "mm2-ss"), pskPolicy(t, "aes256-sha1-modp2048"), 0)
	if reason := wantNotify(t, err, spec.NoProposalChosen); !strings.Contains(reason, "we offered aes256-sha1-modp2048") {
		t.Errorf("reason %q", reason)
	}
	// An offer (two transforms, two proposals) is not a reply.
	p := pskPolicy(t, "aes128-sha1-modp2048,3des-md5-modp1536")
	_, err = AcceptPhase1Reply(roundTrip(t, BuildPhase1SA(p)), p, 0)
	wantNotify(t, err, spec.BadProposalSyntax)
	one := BuildPhase1SA(pskPolicy(t, "aes128-sha1-modp2048"))
	two := oakleySA(one.Proposals[0], one.Proposals[0])
	_, err = AcceptPhase1Reply(two, p, 0)
	wantNotify(t, err, spec.BadProposalSyntax)
	esp := oakleySA(one.Proposals[0])
	esp.Proposals[0].Protocol = spec.ProtoESP
	_, err = AcceptPhase1Reply(esp, p, 0)
	wantNotify(t, err, spec.InvalidProtocolID)
	notIKE := BuildPhase1SA(pskPolicy(t, "aes128-sha1-modp2048"))
	notIKE.Proposals[0].Transforms[0].ID = 3
	_, err = AcceptPhase1Reply(notIKE, p, 0)
	wantNotify(t, err, spec.InvalidTransformID)
	_, err = AcceptPhase1Reply(nil, p, 0)
	wantNotify(t, err, spec.PayloadMalformed)
}
