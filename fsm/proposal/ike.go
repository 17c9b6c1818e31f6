package proposal

import (
	"fmt"
	"strconv"
	"strings"

	"goswan/oakley"
	"goswan/spec"
)

// IKEAlg is one Phase 1 algorithm combination: one KEY_IKE transform.
type IKEAlg struct {
	Enc    spec.OakleyEncryption
	KeyLen int // bits; 0 for fixed-size ciphers (3DES)
	Hash   spec.OakleyHash
	Group  spec.Group
}

// String returns the ipsec.conf spelling: "aes128-sha1-modp2048",
// "3des-md5-modp1024". Zero fields are left out.
func (a IKEAlg) String() string {
	parts := make([]string, 0, 3)
	switch a.Enc {
	case spec.Oakley3DESCBC:
		parts = append(parts, "3des")
	case spec.OakleyAESCBC:
		if a.KeyLen == 0 {
			parts = append(parts, "aes")
		} else {
			parts = append(parts, "aes"+strconv.Itoa(a.KeyLen))
		}
	default:
		s := shortName(a.Enc.String(), "OAKLEY_")
		if a.KeyLen != 0 {
			s += strconv.Itoa(a.KeyLen)
		}
		parts = append(parts, s)
	}
	if a.Hash != 0 {
		parts = append(parts, hashName(a.Hash))
	}
	if a.Group != spec.GroupNone {
		parts = append(parts, a.Group.ShortName())
	}
	return strings.Join(parts, "-")
}

func hashName(h spec.OakleyHash) string {
	switch h {
	case spec.OakleyMD5:
		return "md5"
	case spec.OakleySHA1:
		return "sha1"
	case spec.OakleySHA2256:
		return "sha2_256"
	case spec.OakleySHA2384:
		return "sha2_384"
	case spec.OakleySHA2512:
		return "sha2_512"
	}
	return shortName(h.String(), "OAKLEY_")
}

// normalize returns a with the key length pluto implies: 3DES has none
// (a KEY_LENGTH of 192 is the same algorithm).
func (a IKEAlg) normalize() IKEAlg {
	if a.Enc == spec.Oakley3DESCBC && a.KeyLen == 192 {
		a.KeyLen = 0
	}
	return a
}

// check reports why a cannot be used, or nil.
func (a IKEAlg) check() error {
	if _, err := oakley.NewCipher(a.Enc, a.KeyLen); err != nil {
		return fmt.Errorf("%s", trimOakley(err))
	}
	if _, err := oakley.NewPRF(a.Hash); err != nil {
		return fmt.Errorf("%s", trimOakley(err))
	}
	return checkGroup(a.Group)
}

var (
	defaultIKEHashes = []spec.OakleyHash{spec.OakleySHA2256, spec.OakleySHA1}
	defaultIKEGroups = []spec.Group{spec.GroupMODP2048, spec.GroupMODP1536}
)

// DefaultIKE returns pluto's Phase 1 proposal when the connection has no
// ike=: aes128, aes256, 3des x sha2_256, sha1 x modp2048, modp1536, nested
// in that order (see the package documentation).
func DefaultIKE() []IKEAlg {
	ciphers := []IKEAlg{{Enc: spec.OakleyAESCBC, KeyLen: 128}, {Enc: spec.OakleyAESCBC, KeyLen: 256}, {Enc: spec.Oakley3DESCBC}}
	out := make([]IKEAlg, 0, len(ciphers)*len(defaultIKEHashes)*len(defaultIKEGroups))
	for _, c := range ciphers {
		for _, h := range defaultIKEHashes {
			for _, g := range defaultIKEGroups {
				out = append(out, IKEAlg{Enc: c.Enc, KeyLen: c.KeyLen, Hash: h, Group: g})
			}
		}
	}
	return out
}

// ParseIKE parses an ike= string (see the package documentation for the
// syntax, names and expansion rules). Errors name the offending token:
// `ike string "aes128-shaX": unknown hash "shaX"`.
func ParseIKE(s string) ([]IKEAlg, error) {
	items, err := splitList(s)
	if err != nil {
		return nil, algError("ike", s, err)
	}
	var out []IKEAlg
	seen := map[IKEAlg]bool{}
	for _, item := range items {
		algs, err := parseIKEItem(item)
		if err != nil {
			return nil, algError("ike", s, err)
		}
		for _, a := range algs {
			if seen[a] {
				continue
			}
			seen[a] = true
			out = append(out, a)
		}
		if len(out) > MaxAlgs {
			return nil, algError("ike", s, fmt.Errorf("more than %d algorithms", MaxAlgs))
		}
	}
	return out, nil
}

func parseIKEItem(item string) ([]IKEAlg, error) {
	left, semiGroup, err := splitGroup(item)
	if err != nil {
		return nil, err
	}
	toks := strings.Split(left, "-")
	for _, t := range toks {
		if t == "" {
			return nil, fmt.Errorf("empty name in %q", item)
		}
	}
	c, ok := cbcCiphers[strings.ToLower(toks[0])]
	if !ok {
		if _, aead := aeadCiphers[strings.ToLower(toks[0])]; aead {
			return nil, fmt.Errorf("cipher %q is not available in IKEv1 Phase 1", toks[0])
		}
		return nil, fmt.Errorf("unknown cipher %q", toks[0])
	}
	rest := toks[1:]
	hashes := defaultIKEHashes
	if len(rest) > 0 {
		if h, ok := oakleyHashes[strings.ToLower(rest[0])]; ok {
			hashes = []spec.OakleyHash{h}
			rest = rest[1:]
		} else if !looksLikeGroup(strings.ToLower(rest[0])) {
			return nil, fmt.Errorf("unknown hash %q", rest[0])
		}
	}
	groups := defaultIKEGroups
	groupTok := semiGroup
	if len(rest) > 0 {
		if semiGroup != "" {
			return nil, fmt.Errorf("two DH groups in %q", item)
		}
		groupTok, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unexpected %q in %q", rest[0], item)
	}
	if groupTok != "" {
		g, err := parseGroup(groupTok)
		if err != nil {
			return nil, err
		}
		groups = []spec.Group{g}
	}
	var out []IKEAlg
	for _, h := range hashes {
		for _, g := range groups {
			a := IKEAlg{Enc: c.oakley, KeyLen: c.keyLen, Hash: h, Group: g}
			if err := a.check(); err != nil {
				return nil, fmt.Errorf("%q: %v", item, err)
			}
			out = append(out, a)
		}
	}
	return out, nil
}
