package proposal

import (
	"slices"
	"strings"
	"testing"

	"goswan/spec"
)

func strs[T interface{ String() string }](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	return out
}

func TestParseIKE(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"aes128-sha1-modp2048", []string{"aes128-sha1-modp2048"}},
		{"3des-md5;modp1024", []string{"3des-md5-modp1024"}},
		{"aes128-sha1;modp2048", []string{"aes128-sha1-modp2048"}},
		{"aes256-sha2_256", []string{"aes256-sha2_256-modp2048", "aes256-sha2_256-modp1536"}},
		{"aes-sha1", []string{"aes128-sha1-modp2048", "aes128-sha1-modp1536"}},
		{"aes128-sha2_256-ecp256,3des-sha1-modp1536", []string{"aes128-sha2_256-ecp256", "3des-sha1-modp1536"}},
		{"aes128", []string{"aes128-sha2_256-modp2048", "aes128-sha2_256-modp1536", "aes128-sha1-modp2048", "aes128-sha1-modp1536"}},
		{"aes-modp3072", []string{"aes128-sha2_256-modp3072", "aes128-sha1-modp3072"}},
		{"AES128-SHA-DH14", []string{"aes128-sha1-modp2048"}},
		{"aes_cbc_256-sha512-dh21", []string{"aes256-sha2_512-ecp521"}},
		{"aes192-sha384;ecp_384", []string{"aes192-sha2_384-ecp384"}},
		{"3des-md5-dh2, 3des-md5;modp1024 ,aes128-sha2-modp8192", []string{"3des-md5-modp1024", "aes128-sha2_256-modp8192"}},
		{"3des_cbc-sha1-modp4096,aes_128-sha1-modp6144", []string{"3des-sha1-modp4096", "aes128-sha1-modp6144"}},
	}
	for _, c := range cases {
		got, err := ParseIKE(c.in)
		if err != nil {
			t.Errorf("ParseIKE(%q): %v", c.in, err)
			continue
		}
		if !slices.Equal(strs(got), c.want) {
			t.Errorf("ParseIKE(%q) = %q, want %q", c.in, strs(got), c.want)
		}
		for _, a := range got {
			if err := a.check(); err != nil {
				t.Errorf("ParseIKE(%q) gave unusable %v: %v", c.in, a, err)
			}
			if a.Enc == spec.Oakley3DESCBC && a.KeyLen != 0 {
				t.Errorf("3DES with key length %d", a.KeyLen)
			}
		}
	}
}

func TestParseIKEErrors(t *testing.T) {
	exact := map[string]string{
		"aes128-shaX": `ike string "aes128-shaX": unknown hash "shaX"`,
		"blowfish":    `ike string "blowfish": unknown cipher "blowfish"`,
	}
	for in, want := range exact {
		_, err := ParseIKE(in)
		if err == nil || err.Error() != want {
			t.Errorf("ParseIKE(%q) error %v, want %q", in, err, want)
		}
	}
	// Each error must name the offending token.
	cases := []struct{ in, token string }{
		{"aes128-sha1-modpX", `"modpX"`},
		{"aes128-sha1-modp768", `"modp768"`},
		{"aes128-sha1;dh1", `"dh1"`},
		{"3des-sha1;dh22", `"dh22"`},
		{"aes128-sha1-curve25519", `"curve25519"`},
		{"aes512-sha1", `"aes512"`},
		{"des-md5", `"des"`},
		{"aes128-sha1-modp2048-x", `"x"`},
		{"aes128-sha1-modp2048;modp1024", "two DH groups"},
		{"aes128-sha1;modp2048;modp1024", `";"`},
		{"aes128-sha1;", "missing DH group"},
		{"aes128--sha1", "empty name"},
		{"aes_gcm16_128-sha1", `"aes_gcm16_128"`},
		{"", "no algorithm"},
		{"  ", "no algorithm"},
		{"aes128,,3des", "empty algorithm"},
		{"aes128,", "empty algorithm"},
		{"aes128-tiger", `"tiger"`},
	}
	for _, c := range cases {
		_, err := ParseIKE(c.in)
		if err == nil {
			t.Errorf("ParseIKE(%q) accepted", c.in)
			continue
		}
		if !strings.HasPrefix(err.Error(), `ike string "`+c.in+`": `) || !strings.Contains(err.Error(), c.token) {
			t.Errorf("ParseIKE(%q) error %q does not name %s", c.in, err, c.token)
		}
	}
	if _, err := ParseIKE("aes128-sha1-modp768"); err == nil || !strings.Contains(err.Error(), "too weak") {
		t.Errorf("modp768: %v", err)
	}
	// More than MaxAlgs algorithms.
	var many []string
	for _, c := range []string{"aes128", "aes192", "aes256", "3des"} {
		for _, h := range []string{"md5", "sha1", "sha2_256", "sha2_384", "sha2_512"} {
			for _, g := range []string{"modp1024", "modp1536", "modp2048", "modp3072"} {
				many = append(many, c+"-"+h+"-"+g)
			}
		}
	}
	if _, err := ParseIKE(strings.Join(many, ",")); err == nil || !strings.Contains(err.Error(), "more than 64") {
		t.Errorf("ParseIKE(%d items) error %v, want too many", len(many), err)
	}
	if got := mustIKE(t, strings.Join(many[:MaxAlgs], ",")); len(got) != MaxAlgs {
		t.Errorf("ParseIKE(%d items) = %d algorithms", MaxAlgs, len(got))
	}
}

func TestDefaultIKE(t *testing.T) {
	want := []string{
		"aes128-sha2_256-modp2048", "aes128-sha2_256-modp1536", "aes128-sha1-modp2048", "aes128-sha1-modp1536",
		"aes256-sha2_256-modp2048", "aes256-sha2_256-modp1536", "aes256-sha1-modp2048", "aes256-sha1-modp1536",
		"3des-sha2_256-modp2048", "3des-sha2_256-modp1536", "3des-sha1-modp2048", "3des-sha1-modp1536",
	}
	got := DefaultIKE()
	if !slices.Equal(strs(got), want) {
		t.Fatalf("DefaultIKE() = %q\nwant %q", strs(got), want)
	}
	for _, a := range got {
		if err := a.check(); err != nil {
			t.Errorf("%v: %v", a, err)
		}
	}
	// The default is what a missing hash and group expand to.
	parsed := mustIKE(t, "aes128,aes256,3des")
	if !slices.Equal(parsed, got) {
		t.Errorf("ParseIKE(\"aes128,aes256,3des\") = %q, want DefaultIKE", strs(parsed))
	}
	if g := Groups(got); !slices.Equal(g, []spec.Group{spec.GroupMODP2048, spec.GroupMODP1536}) {
		t.Errorf("Groups = %v", g)
	}
}

func TestParseESP(t *testing.T) {
	cases := []struct {
		in    string
		want  []string
		group spec.Group
	}{
		{"aes128-sha1", []string{"aes128-sha1"}, 0},
		{"3des-md5;modp1024", []string{"3des-md5"}, spec.GroupMODP1024},
		{"aes256-sha2_256", []string{"aes256-sha2_256"}, 0},
		{"aes_gcm16_128", []string{"aes_gcm16_128"}, 0},
		{"aes_gcm16_256", []string{"aes_gcm16_256"}, 0},
		{"aes-sha1", []string{"aes128-sha1"}, 0},
		{"aes128-sha2_256,3des-sha1", []string{"aes128-sha2_256", "3des-sha1"}, 0},
		{"aes128", []string{"aes128-sha2_256", "aes128-sha1"}, 0},
		{"aes128-sha1-modp2048", []string{"aes128-sha1"}, spec.GroupMODP2048},
		{"3des-md5-modp1536,aes128-sha1;modp1536", []string{"3des-md5", "aes128-sha1"}, spec.GroupMODP1536},
		{"aes128gcm16,aes256gcm8", []string{"aes_gcm16_128", "aes_gcm8_256"}, 0},
		{"aes_gcm-null;dh19", []string{"aes_gcm16_128"}, spec.GroupECP256},
		{"aes_gcm12_192", []string{"aes_gcm12_192"}, 0},
		{"AES256-SHA2_512, aes256-sha2_384", []string{"aes256-sha2_512", "aes256-sha2_384"}, 0},
		{"aes128-sha1,aes128-sha1", []string{"aes128-sha1"}, 0},
	}
	for _, c := range cases {
		got, g, err := ParseESP(c.in)
		if err != nil {
			t.Errorf("ParseESP(%q): %v", c.in, err)
			continue
		}
		if !slices.Equal(strs(got), c.want) || g != c.group {
			t.Errorf("ParseESP(%q) = %q, %v; want %q, %v", c.in, strs(got), g, c.want, c.group)
		}
		for _, a := range got {
			if err := a.check(); err != nil {
				t.Errorf("ParseESP(%q) gave unusable %v: %v", c.in, a, err)
			}
			if a.AEAD() != (a.Integ == spec.AuthAlgNone) {
				t.Errorf("%v: AEAD %v with integrity %v", a, a.AEAD(), a.Integ)
			}
		}
	}
}

func TestParseESPErrors(t *testing.T) {
	cases := []struct{ in, token string }{
		{"aes128-shaX", `unknown integrity algorithm "shaX"`},
		{"foo-sha1", `unknown cipher "foo"`},
		{"aes_gcm16_128-sha1", `"sha1"`},
		{"aes128-sha1;modp1024,3des-md5;modp2048", `conflicting PFS groups "modp1024" and "modp2048"`},
		{"aes128-sha1;modp768", `"modp768"`},
		{"aes128-sha1-modp2048;modp2048", "two DH groups"},
		{"aes128-sha1-modp2048-x", `"x"`},
		{"aes512-sha1", `"aes512"`},
		{"aes128-null", `"null"`},
		{"", "no algorithm"},
		{"aes128-sha1,", "empty algorithm"},
	}
	for _, c := range cases {
		_, _, err := ParseESP(c.in)
		if err == nil {
			t.Errorf("ParseESP(%q) accepted", c.in)
			continue
		}
		if !strings.HasPrefix(err.Error(), `esp string "`+c.in+`": `) || !strings.Contains(err.Error(), c.token) {
			t.Errorf("ParseESP(%q) error %q does not name %s", c.in, err, c.token)
		}
	}
}

func TestParseAH(t *testing.T) {
	got, err := ParseAH("sha1, SHA2_256,md5,sha1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(strs(got), []string{"sha1", "sha2_256", "md5"}) {
		t.Errorf("ParseAH = %q", strs(got))
	}
	ids := []spec.TransformID{spec.AHSHA, spec.AHSHA2_256, spec.AHMD5}
	for i, a := range got {
		if a.TransformID() != ids[i] {
			t.Errorf("%v: transform id %v", a, a.TransformID())
		}
	}
	for _, c := range []struct{ in, token string }{
		{"sha1,shaX", `"shaX"`}, {"aes128", `"aes128"`}, {"sha1;modp1024", `"sha1;modp1024"`}, {"", "no algorithm"},
	} {
		if _, err := ParseAH(c.in); err == nil || !strings.Contains(err.Error(), c.token) {
			t.Errorf("ParseAH(%q) error %v, want it to name %s", c.in, err, c.token)
		}
	}
	if d := strs(DefaultAH()); !slices.Equal(d, []string{"sha2_256", "sha1"}) {
		t.Errorf("DefaultAH = %q", d)
	}
}

func TestDefaultESP(t *testing.T) {
	want := []string{"aes128-sha2_256", "aes128-sha1", "aes256-sha2_256", "aes256-sha1", "aes_gcm16_128", "aes_gcm16_256", "3des-sha1"}
	got := DefaultESP()
	if !slices.Equal(strs(got), want) {
		t.Fatalf("DefaultESP() = %q, want %q", strs(got), want)
	}
	for _, a := range got {
		if err := a.check(); err != nil {
			t.Errorf("%v: %v", a, err)
		}
	}
}

func TestESPNames(t *testing.T) {
	cases := []struct {
		s         string
		xfrm      string
		keymatLen int
	}{
		{"aes128-sha1", "AES_CBC_128-HMAC_SHA1_96", 16 + 20}, // the recorded KEYMAT is 36 octets
		{"3des-md5", "3DES_CBC-HMAC_MD5_96", 24 + 16},
		{"aes256-sha2_256", "AES_CBC_256-HMAC_SHA2_256_128", 32 + 32},
		{"aes192-sha2_384", "AES_CBC_192-HMAC_SHA2_384_192", 24 + 48},
		{"aes128-sha2_512", "AES_CBC_128-HMAC_SHA2_512_256", 16 + 64},
		{"aes_gcm16_128", "AES_GCM_16_128", 16 + 4},
		{"aes_gcm8_256", "AES_GCM_8_256", 32 + 4},
	}
	for _, c := range cases {
		algs, _ := mustESP(t, c.s)
		a := algs[0]
		if a.String() != c.s || a.XfrmName() != c.xfrm {
			t.Errorf("%s: String %q XfrmName %q, want %q", c.s, a.String(), a.XfrmName(), c.xfrm)
		}
		if n, err := a.KeymatLen(); err != nil || n != c.keymatLen {
			t.Errorf("%s: KeymatLen %d, %v; want %d", c.s, n, err, c.keymatLen)
		}
	}
	if n, err := (AHAlg{Integ: spec.AuthAlgHMACSHA1}).KeymatLen(); n != 20 || err != nil {
		t.Errorf("AH sha1 KeymatLen %d %v", n, err)
	}
	if x := (AHAlg{Integ: spec.AuthAlgHMACSHA2256}).XfrmName(); x != "HMAC_SHA2_256_128" {
		t.Errorf("AH XfrmName %q", x)
	}
	if _, err := (ESPAlg{Enc: spec.ESPBlowfish, Integ: spec.AuthAlgHMACSHA1}).KeymatLen(); err == nil {
		t.Error("KeymatLen of Blowfish succeeded")
	}
	// Strings of values the parser never produces must not be empty.
	for _, a := range []IKEAlg{{Enc: spec.OakleyCamelliaCBC, KeyLen: 128, Hash: spec.OakleyTiger, Group: 99}, {Enc: spec.OakleyAESCBC}} {
		if a.String() == "" {
			t.Errorf("empty String for %#v", a)
		}
	}
	if s := (IKEAlg{Enc: spec.OakleyAESCBC}).String(); s != "aes" {
		t.Errorf("String = %q", s)
	}
}
