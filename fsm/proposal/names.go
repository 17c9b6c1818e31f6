package proposal

import (
	"fmt"
	"strconv"
	"strings"

	"goswan/oakley"
	"goswan/spec"
)

// MaxAlgs is the largest number of algorithms an algorithm string may
// expand to, and the most transforms BuildPhase1SA and BuildPhase2SA emit
// per proposal (the rest are dropped).
const MaxAlgs = 64

// cbcCipher is a parsed CBC cipher name: Oakley and ESP ids, key length in
// bits (0 for 3DES).
type cbcCipher struct {
	oakley spec.OakleyEncryption
	esp    spec.TransformID
	keyLen int
}

// cbcCiphers maps every accepted spelling of a CBC cipher.
var cbcCiphers = func() map[string]cbcCipher {
	m := map[string]cbcCipher{
		"3des":     {spec.Oakley3DESCBC, spec.ESP3DES, 0},
		"3des_cbc": {spec.Oakley3DESCBC, spec.ESP3DES, 0},
	}
	aes := func(kl int) cbcCipher { return cbcCipher{spec.OakleyAESCBC, spec.ESPAES, kl} }
	m["aes"] = aes(128)
	m["aes_cbc"] = aes(128)
	for _, kl := range []int{128, 192, 256} {
		n := strconv.Itoa(kl)
		for _, s := range []string{"aes" + n, "aes_" + n, "aes_cbc" + n, "aes_cbc_" + n} {
			m[s] = aes(kl)
		}
	}
	return m
}()

// aeadCipher is a parsed ESP AEAD cipher name.
type aeadCipher struct {
	id     spec.TransformID
	keyLen int
}

var aeadCiphers = func() map[string]aeadCipher {
	m := map[string]aeadCipher{"aes_gcm": {spec.ESPAESGCM16, 128}}
	for _, icv := range []struct {
		n  string
		id spec.TransformID
	}{{"8", spec.ESPAESGCM8}, {"12", spec.ESPAESGCM12}, {"16", spec.ESPAESGCM16}} {
		m["aes_gcm"+icv.n] = aeadCipher{icv.id, 128}
		m["aes_gcm_"+icv.n] = aeadCipher{icv.id, 128}
		for _, kl := range []int{128, 192, 256} {
			k := strconv.Itoa(kl)
			for _, s := range []string{
				"aes_gcm" + icv.n + "_" + k, "aes_gcm_" + icv.n + "_" + k, // libreswan
				"aes" + k + "gcm" + icv.n, // strongSwan
			} {
				m[s] = aeadCipher{icv.id, kl}
			}
		}
	}
	return m
}()

var oakleyHashes = map[string]spec.OakleyHash{
	"md5":  spec.OakleyMD5,
	"sha1": spec.OakleySHA1, "sha": spec.OakleySHA1,
	"sha2_256": spec.OakleySHA2256, "sha256": spec.OakleySHA2256, "sha2": spec.OakleySHA2256,
	"sha2_384": spec.OakleySHA2384, "sha384": spec.OakleySHA2384,
	"sha2_512": spec.OakleySHA2512, "sha512": spec.OakleySHA2512,
}

var integAlgs = map[string]spec.AuthAlgorithm{
	"md5": spec.AuthAlgHMACMD5, "hmac_md5": spec.AuthAlgHMACMD5, "md5_96": spec.AuthAlgHMACMD5,
	"sha1": spec.AuthAlgHMACSHA1, "sha": spec.AuthAlgHMACSHA1, "hmac_sha1": spec.AuthAlgHMACSHA1,
	"sha1_96":  spec.AuthAlgHMACSHA1,
	"sha2_256": spec.AuthAlgHMACSHA2256, "sha256": spec.AuthAlgHMACSHA2256, "sha2": spec.AuthAlgHMACSHA2256,
	"sha2_256_128": spec.AuthAlgHMACSHA2256, "hmac_sha2_256": spec.AuthAlgHMACSHA2256,
	"sha2_384": spec.AuthAlgHMACSHA2384, "sha384": spec.AuthAlgHMACSHA2384,
	"sha2_384_192": spec.AuthAlgHMACSHA2384, "hmac_sha2_384": spec.AuthAlgHMACSHA2384,
	"sha2_512": spec.AuthAlgHMACSHA2512, "sha512": spec.AuthAlgHMACSHA2512,
	"sha2_512_256": spec.AuthAlgHMACSHA2512, "hmac_sha2_512": spec.AuthAlgHMACSHA2512,
}

var groupNames = map[string]spec.Group{
	"modp768": spec.GroupMODP768, "modp1024": spec.GroupMODP1024, "modp1536": spec.GroupMODP1536,
	"modp2048": spec.GroupMODP2048, "modp3072": spec.GroupMODP3072, "modp4096": spec.GroupMODP4096,
	"modp6144": spec.GroupMODP6144, "modp8192": spec.GroupMODP8192,
	"ecp256": spec.GroupECP256, "ecp_256": spec.GroupECP256,
	"ecp384": spec.GroupECP384, "ecp_384": spec.GroupECP384,
	"ecp521": spec.GroupECP521, "ecp_521": spec.GroupECP521,
	"curve25519": spec.GroupCurve25519, "x25519": spec.GroupCurve25519,
}

// looksLikeGroup reports whether an unrecognised token was meant as a DH
// group, so that the error calls it a group rather than a hash.
func looksLikeGroup(s string) bool {
	for _, p := range []string{"modp", "ecp", "dh", "curve", "x25519", "brainpool"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// parseGroup resolves a DH group name ("modp2048", "dh14", "ecp256") and
// checks that it is usable: not MODP768, supported by oakley.
func parseGroup(tok string) (spec.Group, error) {
	s := strings.ToLower(tok)
	g, ok := groupNames[s]
	if !ok && strings.HasPrefix(s, "dh") {
		if n, err := strconv.ParseUint(s[2:], 10, 16); err == nil && n > 0 {
			g, ok = spec.Group(n), true
		}
	}
	if !ok {
		return 0, fmt.Errorf("unknown DH group %q", tok)
	}
	if err := checkGroup(g); err != nil {
		return 0, fmt.Errorf("DH group %q: %s", tok, err)
	}
	return g, nil
}

// checkGroup reports why group g cannot be used, or nil.
func checkGroup(g spec.Group) error {
	if g == spec.GroupMODP768 {
		return fmt.Errorf("%v is too weak", g)
	}
	if _, err := oakley.GroupByID(g); err != nil {
		return fmt.Errorf("%v is not supported", g)
	}
	return nil
}

// algString formats an algorithm-string error: `ike string "S": detail`.
func algError(kind, s string, err error) error {
	return fmt.Errorf("%s string %q: %v", kind, s, err)
}

// splitList splits an algorithm string at commas, trimming blanks; an empty
// element is an error.
func splitList(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("no algorithm")
	}
	items := strings.Split(s, ",")
	for i, it := range items {
		items[i] = strings.TrimSpace(it)
		if items[i] == "" {
			return nil, fmt.Errorf("empty algorithm in list")
		}
	}
	return items, nil
}

// splitGroup splits "X;GROUP" into X and GROUP ("" when absent).
func splitGroup(item string) (left, group string, err error) {
	left, group, found := strings.Cut(item, ";")
	if !found {
		return item, "", nil
	}
	left, group = strings.TrimSpace(left), strings.TrimSpace(group)
	if strings.Contains(group, ";") {
		return "", "", fmt.Errorf("more than one %q in %q", ";", item)
	}
	if group == "" {
		return "", "", fmt.Errorf("missing DH group after %q in %q", ";", item)
	}
	return left, group, nil
}

// shortOakleyName lower-cases a spec name and drops its family prefix, for
// String methods on values that have no ipsec.conf spelling.
func shortName(s, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s, prefix))
}
