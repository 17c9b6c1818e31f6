package proposal

import (
	"fmt"
	"strconv"
	"strings"

	"goswan/oakley"
	"goswan/spec"
)

// ESPAlg is one ESP algorithm: one ESP transform.
type ESPAlg struct {
	Enc    spec.TransformID
	KeyLen int                // bits; 0 for fixed-size ciphers (3DES)
	Integ  spec.AuthAlgorithm // AuthAlgNone for AEAD
}

// AHAlg is one AH algorithm; the AH transform id follows from Integ
// (AH_MD5, AH_SHA, AH_SHA2_256 ...).
type AHAlg struct {
	Integ spec.AuthAlgorithm
}

// String returns the ipsec.conf spelling: "aes128-sha1", "3des-md5",
// "aes_gcm16_128".
func (a ESPAlg) String() string {
	var enc string
	switch a.Enc {
	case spec.ESP3DES:
		enc = "3des"
	case spec.ESPAES:
		enc = "aes"
		if a.KeyLen != 0 {
			enc += strconv.Itoa(a.KeyLen)
		}
	case spec.ESPAESGCM8, spec.ESPAESGCM12, spec.ESPAESGCM16:
		enc = "aes_gcm" + gcmICV(a.Enc) + "_" + strconv.Itoa(keyLenOr128(a.KeyLen))
	default:
		enc = shortName(spec.TransformName(spec.ProtoESP, a.Enc), "ESP_")
		if a.KeyLen != 0 {
			enc += strconv.Itoa(a.KeyLen)
		}
	}
	if a.Integ == spec.AuthAlgNone {
		return enc
	}
	return enc + "-" + integName(a.Integ)
}

// XfrmName returns the spelling of pluto's status and log lines:
// "AES_CBC_128-HMAC_SHA1_96", "3DES_CBC-HMAC_MD5_96", "AES_GCM_16_128".
func (a ESPAlg) XfrmName() string {
	var enc string
	switch a.Enc {
	case spec.ESP3DES:
		enc = "3DES_CBC"
	case spec.ESPAES:
		enc = "AES_CBC_" + strconv.Itoa(keyLenOr128(a.KeyLen))
	case spec.ESPAESGCM8, spec.ESPAESGCM12, spec.ESPAESGCM16:
		enc = "AES_GCM_" + gcmICV(a.Enc) + "_" + strconv.Itoa(keyLenOr128(a.KeyLen))
	default:
		enc = strings.TrimPrefix(spec.TransformName(spec.ProtoESP, a.Enc), "ESP_")
		if a.KeyLen != 0 {
			enc += "_" + strconv.Itoa(a.KeyLen)
		}
	}
	if a.Integ == spec.AuthAlgNone {
		return enc
	}
	return enc + "-" + integXfrmName(a.Integ)
}

// KeymatLen returns the KEYMAT octets one direction of the SA consumes:
// the cipher's (oakley.ESPKeyLen: key, plus salt for AEAD) then the
// integrity key (oakley.AuthKeyLen).
func (a ESPAlg) KeymatLen() (int, error) {
	e, err := oakley.ESPKeyLen(a.Enc, a.KeyLen)
	if err != nil {
		return 0, err
	}
	i, err := oakley.AuthKeyLen(a.Integ)
	if err != nil {
		return 0, err
	}
	return e + i, nil
}

// AEAD reports whether the cipher authenticates by itself (no integrity
// algorithm).
func (a ESPAlg) AEAD() bool { return spec.ESPIsAEAD(a.Enc) }

// normalize returns a with the key length pluto implies: AES and AES-GCM
// without KEY_LENGTH are 128 bits, 3DES has none.
func (a ESPAlg) normalize() ESPAlg {
	switch {
	case a.Enc == spec.ESP3DES && a.KeyLen == 192:
		a.KeyLen = 0
	case a.KeyLen == 0 && (a.Enc == spec.ESPAES || spec.ESPIsAEAD(a.Enc)):
		a.KeyLen = 128
	}
	return a
}

// check reports why a cannot be used, or nil.
func (a ESPAlg) check() error {
	switch a.Enc {
	case spec.ESP3DES, spec.ESPAES, spec.ESPAESGCM8, spec.ESPAESGCM12, spec.ESPAESGCM16:
	default:
		return fmt.Errorf("%s is not supported", spec.TransformName(spec.ProtoESP, a.Enc))
	}
	if _, err := oakley.ESPKeyLen(a.Enc, a.KeyLen); err != nil {
		return fmt.Errorf("%s", trimOakley(err))
	}
	if spec.ESPIsAEAD(a.Enc) {
		if a.Integ != spec.AuthAlgNone {
			return fmt.Errorf("AEAD cipher %s with integrity %v", spec.TransformName(spec.ProtoESP, a.Enc), a.Integ)
		}
		return nil
	}
	if a.Integ == spec.AuthAlgNone {
		return fmt.Errorf("%s without integrity", spec.TransformName(spec.ProtoESP, a.Enc))
	}
	return checkInteg(a.Integ)
}

// checkInteg accepts the HMAC integrity algorithms.
func checkInteg(i spec.AuthAlgorithm) error {
	if ahTransformID(i) == 0 {
		return fmt.Errorf("%v is not supported", i)
	}
	return nil
}

// String returns the ipsec.conf spelling: "sha1", "sha2_256".
func (a AHAlg) String() string { return integName(a.Integ) }

// XfrmName returns the spelling of pluto's status lines: "HMAC_SHA1_96".
func (a AHAlg) XfrmName() string { return integXfrmName(a.Integ) }

// TransformID returns the AH transform id for Integ (RFC 2407 §4.4.3), 0
// when there is none.
func (a AHAlg) TransformID() spec.TransformID { return ahTransformID(a.Integ) }

// KeymatLen returns the KEYMAT octets one direction of the SA consumes.
func (a AHAlg) KeymatLen() (int, error) { return oakley.AuthKeyLen(a.Integ) }

func ahTransformID(i spec.AuthAlgorithm) spec.TransformID {
	switch i {
	case spec.AuthAlgHMACMD5:
		return spec.AHMD5
	case spec.AuthAlgHMACSHA1:
		return spec.AHSHA
	case spec.AuthAlgHMACSHA2256:
		return spec.AHSHA2_256
	case spec.AuthAlgHMACSHA2384:
		return spec.AHSHA2_384
	case spec.AuthAlgHMACSHA2512:
		return spec.AHSHA2_512
	}
	return 0
}

func integName(i spec.AuthAlgorithm) string {
	switch i {
	case spec.AuthAlgHMACMD5:
		return "md5"
	case spec.AuthAlgHMACSHA1:
		return "sha1"
	case spec.AuthAlgHMACSHA2256:
		return "sha2_256"
	case spec.AuthAlgHMACSHA2384:
		return "sha2_384"
	case spec.AuthAlgHMACSHA2512:
		return "sha2_512"
	}
	return shortName(i.String(), "AUTH_ALGORITHM_")
}

func integXfrmName(i spec.AuthAlgorithm) string {
	switch i {
	case spec.AuthAlgHMACMD5:
		return "HMAC_MD5_96"
	case spec.AuthAlgHMACSHA1:
		return "HMAC_SHA1_96"
	case spec.AuthAlgHMACSHA2256:
		return "HMAC_SHA2_256_128"
	case spec.AuthAlgHMACSHA2384:
		return "HMAC_SHA2_384_192"
	case spec.AuthAlgHMACSHA2512:
		return "HMAC_SHA2_512_256"
	}
	return strings.TrimPrefix(i.String(), "AUTH_ALGORITHM_")
}

func gcmICV(t spec.TransformID) string {
	switch t {
	case spec.ESPAESGCM8:
		return "8"
	case spec.ESPAESGCM12:
		return "12"
	}
	return "16"
}

func keyLenOr128(kl int) int {
	if kl == 0 {
		return 128
	}
	return kl
}

var defaultIntegs = []spec.AuthAlgorithm{spec.AuthAlgHMACSHA2256, spec.AuthAlgHMACSHA1}

// DefaultESP returns pluto's Phase 2 ESP proposal when the connection has
// no esp=: aes128 and aes256 (CBC) each with sha2_256 then sha1, then
// aes_gcm16_128, aes_gcm16_256, then 3des-sha1.
func DefaultESP() []ESPAlg {
	var out []ESPAlg
	for _, kl := range []int{128, 256} {
		for _, i := range defaultIntegs {
			out = append(out, ESPAlg{Enc: spec.ESPAES, KeyLen: kl, Integ: i})
		}
	}
	return append(out,
		ESPAlg{Enc: spec.ESPAESGCM16, KeyLen: 128},
		ESPAlg{Enc: spec.ESPAESGCM16, KeyLen: 256},
		ESPAlg{Enc: spec.ESP3DES, Integ: spec.AuthAlgHMACSHA1})
}

// DefaultAH returns the AH proposal when the connection has no ah=:
// sha2_256, sha1.
func DefaultAH() []AHAlg {
	return []AHAlg{{Integ: spec.AuthAlgHMACSHA2256}, {Integ: spec.AuthAlgHMACSHA1}}
}

// ParseESP parses an esp= (phase2alg=) string; pfsGroup is the group given
// with ";GROUP" or "-GROUP" (GroupNone when there is none). See the package
// documentation for names and expansion. Errors name the offending token.
func ParseESP(s string) (algs []ESPAlg, pfsGroup spec.Group, err error) {
	items, err := splitList(s)
	if err != nil {
		return nil, 0, algError("esp", s, err)
	}
	seen := map[ESPAlg]bool{}
	groupTok := ""
	for _, item := range items {
		as, g, gtok, err := parseESPItem(item)
		if err != nil {
			return nil, 0, algError("esp", s, err)
		}
		if g != spec.GroupNone {
			if pfsGroup != spec.GroupNone && g != pfsGroup {
				return nil, 0, algError("esp", s, fmt.Errorf("conflicting PFS groups %q and %q", groupTok, gtok))
			}
			pfsGroup, groupTok = g, gtok
		}
		for _, a := range as {
			if seen[a] {
				continue
			}
			seen[a] = true
			algs = append(algs, a)
		}
		if len(algs) > MaxAlgs {
			return nil, 0, algError("esp", s, fmt.Errorf("more than %d algorithms", MaxAlgs))
		}
	}
	return algs, pfsGroup, nil
}

func parseESPItem(item string) (algs []ESPAlg, group spec.Group, groupTok string, err error) {
	left, semiGroup, err := splitGroup(item)
	if err != nil {
		return nil, 0, "", err
	}
	toks := strings.Split(left, "-")
	for _, t := range toks {
		if t == "" {
			return nil, 0, "", fmt.Errorf("empty name in %q", item)
		}
	}
	cname := strings.ToLower(toks[0])
	rest := toks[1:]
	var base ESPAlg
	aead := false
	if c, ok := cbcCiphers[cname]; ok {
		base = ESPAlg{Enc: c.esp, KeyLen: c.keyLen}
	} else if c, ok := aeadCiphers[cname]; ok {
		base = ESPAlg{Enc: c.id, KeyLen: c.keyLen}
		aead = true
	} else {
		return nil, 0, "", fmt.Errorf("unknown cipher %q", toks[0])
	}
	integs := defaultIntegs
	if aead {
		integs = []spec.AuthAlgorithm{spec.AuthAlgNone}
	}
	if len(rest) > 0 {
		t := strings.ToLower(rest[0])
		switch i, ok := integAlgs[t]; {
		case ok && aead:
			return nil, 0, "", fmt.Errorf("AEAD cipher %q takes no integrity algorithm, got %q", toks[0], rest[0])
		case ok:
			integs = []spec.AuthAlgorithm{i}
			rest = rest[1:]
		case t == "null" && aead:
			rest = rest[1:]
		case !looksLikeGroup(t):
			return nil, 0, "", fmt.Errorf("unknown integrity algorithm %q", rest[0])
		}
	}
	groupTok = semiGroup
	if len(rest) > 0 {
		if semiGroup != "" {
			return nil, 0, "", fmt.Errorf("two DH groups in %q", item)
		}
		groupTok, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return nil, 0, "", fmt.Errorf("unexpected %q in %q", rest[0], item)
	}
	if groupTok != "" {
		if group, err = parseGroup(groupTok); err != nil {
			return nil, 0, "", err
		}
	}
	for _, i := range integs {
		a := base
		a.Integ = i
		if err := a.check(); err != nil {
			return nil, 0, "", fmt.Errorf("%q: %v", item, err)
		}
		algs = append(algs, a)
	}
	return algs, group, groupTok, nil
}

// ParseAH parses an ah= string: a comma-separated list of integrity names
// ("sha1", "sha2_256,md5"). A PFS group is not accepted here (give it with
// esp= or the connection's pfsgroup).
func ParseAH(s string) ([]AHAlg, error) {
	items, err := splitList(s)
	if err != nil {
		return nil, algError("ah", s, err)
	}
	var out []AHAlg
	seen := map[AHAlg]bool{}
	for _, item := range items {
		if strings.ContainsAny(item, ";-") {
			return nil, algError("ah", s, fmt.Errorf("unexpected %q: ah= takes integrity names only", item))
		}
		i, ok := integAlgs[strings.ToLower(item)]
		if !ok {
			return nil, algError("ah", s, fmt.Errorf("unknown integrity algorithm %q", item))
		}
		a := AHAlg{Integ: i}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if len(out) > MaxAlgs {
		return nil, algError("ah", s, fmt.Errorf("more than %d algorithms", MaxAlgs))
	}
	return out, nil
}
