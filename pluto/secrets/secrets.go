package secrets

import (
	"crypto/hmac"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// Kind is the kind of a secret: what follows the ":" of an entry.
type Kind int

const (
	PSK   Kind = iota + 1 // a pre-shared key: ["PSK"] "quoted" or 0x/0s/0t data
	RSA                   // an RSA private key: RSA { ... } or RSA file
	XAUTH                 // an XAUTH password: XAUTH "password"
)

// String returns the ipsec.secrets keyword of the kind.
func (k Kind) String() string {
	switch k {
	case PSK:
		return "PSK"
	case RSA:
		return "RSA"
	case XAUTH:
		return "XAUTH"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Secret is one entry of ipsec.secrets.
//
// Printing a Secret with any fmt verb, logging it with log/slog or
// marshalling it to JSON yields a redacted description (the indices, the
// kind, the length of a PSK or the size and key id of an RSA key, and the
// file and line) and never the secret itself. The PSK and RSA fields are of
// course still readable: do not print them. fmt cannot call methods on
// values in unexported struct fields: keep a *Secret there, which %v prints
// as an address (a Secret value would be dumped, and so would a *Secret if
// the enclosing struct is printed with a verb other than %v).
type Secret struct {
	Kind Kind
	// IDs are the indices before the ":", in file order, canonicalised: IP
	// addresses in netip canonical form, "%any" for %any, %any6, 0.0.0.0
	// and ::, DNs without their quotes, everything else as written. An
	// entry without indices matches any pair of IDs.
	IDs []string
	PSK []byte          // the pre-shared key (PSK) or password (XAUTH)
	RSA *rsa.PrivateKey // the private key (RSA), validated and precomputed
	// File and Line locate the entry: the file it was read from (include
	// paths joined to the including file's directory) and the line of its
	// first token.
	File string
	Line int

	ids []ident // IDs, parsed for matching
}

// String describes the secret without disclosing it, for example
// `/etc/ipsec.secrets:3: 192.0.2.1 192.0.2.2 : PSK "..." (22 bytes)` or
// `@west : RSA {...} (2048 bits, keyid AwEAAcR4d)`.
func (s Secret) String() string {
	var b strings.Builder
	if s.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", s.File, s.Line)
	}
	for _, id := range s.IDs {
		if strings.ContainsAny(id, " \t=\"'") {
			b.WriteString(strconv.Quote(id))
		} else {
			b.WriteString(id)
		}
		b.WriteByte(' ')
	}
	b.WriteString(": ")
	switch s.Kind {
	case PSK, XAUTH:
		fmt.Fprintf(&b, "%s \"...\" (%d bytes)", s.Kind, len(s.PSK))
	case RSA:
		if s.RSA == nil || s.RSA.N == nil {
			b.WriteString("RSA {...} (no key)")
		} else {
			fmt.Fprintf(&b, "RSA {...} (%d bits, keyid %s)", s.RSA.N.BitLen(), KeyID(&s.RSA.PublicKey))
		}
	default:
		fmt.Fprintf(&b, "%s (...)", s.Kind)
	}
	return b.String()
}

// Format makes every fmt verb (%v, %+v, %#v, %s, %x, %q ...) print the
// redacted String.
func (s Secret) Format(f fmt.State, verb rune) {
	str := s.String()
	if verb == 'q' {
		str = strconv.Quote(str)
	}
	io.WriteString(f, str)
}

// LogValue makes log/slog print the redacted String.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the redacted String, never the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// KeyID returns the FreeS/WAN key id of an RSA public key: the first nine
// characters of the base64 RFC 3110 encoding that leftrsasigkey=0s… carries.
func KeyID(pub *rsa.PublicKey) string {
	id := base64.StdEncoding.EncodeToString(RFC3110(pub))
	if len(id) > 9 {
		id = id[:9]
	}
	return id
}

// RFC3110 encodes an RSA public key as the RFC 3110 §2 key blob (exponent
// length, exponent, modulus) used by leftrsasigkey=0s… and pluto's key ids.
func RFC3110(pub *rsa.PublicKey) []byte {
	if pub == nil || pub.N == nil {
		return nil
	}
	e := bigEndian(uint64(pub.E))
	var out []byte
	if len(e) < 256 {
		out = append(out, byte(len(e)))
	} else {
		out = append(out, 0, byte(len(e)>>8), byte(len(e)))
	}
	out = append(out, e...)
	return append(out, pub.N.Bytes()...)
}

func bigEndian(v uint64) []byte {
	var b []byte
	for v > 0 {
		b = append([]byte{byte(v)}, b...)
		v >>= 8
	}
	return b
}

// Store holds the secrets of one ipsec.secrets file and its includes, in
// file order. It is immutable after Load or Parse and safe for concurrent
// lookups.
type Store struct {
	secrets []*Secret
}

// Secrets returns all secrets in file order (includes expanded in place).
func (s *Store) Secrets() []*Secret { return append([]*Secret(nil), s.secrets...) }

// Len returns the number of secrets.
func (s *Store) Len() int { return len(s.secrets) }

// String describes the store without disclosing any secret.
func (s Store) String() string { return fmt.Sprintf("secrets.Store(%d secrets)", len(s.secrets)) }

// Format makes every fmt verb print String: fmt must never walk the store.
func (s Store) Format(f fmt.State, verb rune) { io.WriteString(f, s.String()) }

// LogValue makes log/slog print String.
func (s Store) LogValue() slog.Value { return slog.StringValue(s.String()) }

// ErrNotFound is returned by Find when no entry matches.
var ErrNotFound = errors.New("secrets: no matching secret")

// AmbiguousError is returned by Find when the most specific matching entries
// disagree about the secret. pluto logs "multiple ipsec.secrets entries
// with distinct secrets match endpoints" and uses one of them; we refuse.
type AmbiguousError struct {
	Kind          Kind
	Local, Remote string
	Entries       []*Secret // the equally specific entries, in file order
}

func (e *AmbiguousError) Error() string {
	var locs []string
	for _, s := range e.Entries {
		locs = append(locs, fmt.Sprintf("%s:%d", s.File, s.Line))
	}
	return fmt.Sprintf("secrets: multiple ipsec.secrets entries with distinct %s secrets match %s %s equally well: %s",
		e.Kind, orAny(e.Local), orAny(e.Remote), strings.Join(locs, ", "))
}

func orAny(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// PSK returns the pre-shared key for the pair of IDs (see Find).
func (s *Store) PSK(local, remote string) ([]byte, bool) {
	sec, err := s.Find(PSK, local, remote)
	if err != nil {
		return nil, false
	}
	return append([]byte(nil), sec.PSK...), true
}

// RSAKey returns our RSA private key for the local ID (see Find): the local
// ID alone is enough, and an entry with no index is the default key.
func (s *Store) RSAKey(local string) (*rsa.PrivateKey, bool) {
	sec, err := s.Find(RSA, local, "")
	if err != nil {
		return nil, false
	}
	return sec.RSA, true
}

// XAUTH returns the XAUTH password of user, written "@user" or "user" in
// either the file or the argument.
func (s *Store) XAUTH(user string) ([]byte, bool) {
	sec, err := s.Find(XAUTH, user, "")
	if err != nil {
		return nil, false
	}
	return append([]byte(nil), sec.PSK...), true
}

// Find returns the most specific entry of the kind for our ID local and the
// peer's ID remote ("" when unknown), after pluto's osw_find_secret_by_id:
//
//   - An entry with no index matches any pair (the default).
//   - An entry with one index matches when it equals local; the peer is not
//     considered.
//   - An entry with several indices matches when local equals one of them and
//     remote equals another. For RSA and XAUTH (asymmetric: the indices are
//     all names of ours) local alone is enough.
//   - An entry that matches remote but not local never matches.
//   - %any (also written %any6, 0.0.0.0, ::) is a wildcard that equals any
//     ID, IPv4, IPv6 or name, but an index that equals an ID exactly is more
//     specific. This is how a Road Warrior, whose address no entry names,
//     falls back to "192.0.2.1 %any". One index never stands for both ends,
//     so "192.0.2.1 %any" does not match a pair that lacks 192.0.2.1.
//
// Specificity, most significant first: the number of IDs matched exactly
// (local and remote); local matched exactly; then pluto's order of match
// kinds: both IDs matched, local matched by a one-index entry, local matched
// by a several-index entry (RSA, XAUTH), no index. So for local A and remote
// B: "A B" > "A %any" > "A" > "A C" (RSA) > "%any B" > "%any %any" > "%any"
// > "%any C" (RSA) > no index.
//
// Equally specific best entries must hold the same secret (for RSA the same
// public key), otherwise Find returns an *AmbiguousError (pluto logs and
// picks one). No match returns ErrNotFound.
//
// local and remote are IDs in canonical form: "192.0.2.1", "2001:db8::1",
// "@fqdn", "user@fqdn" or a DN "C=CH, O=Example, CN=host"; they are
// canonicalised again, so "2001:DB8::1" and "@FQDN." work too.
func (s *Store) Find(kind Kind, local, remote string) (*Secret, error) {
	var me, him *ident
	if id, err := parseID(local, false); err == nil {
		me = &id
	}
	if id, err := parseID(remote, false); err == nil {
		him = &id
	}
	asym := kind == RSA || kind == XAUTH
	xauth := kind == XAUTH
	best := -1
	var tied []*Secret
	for _, sec := range s.secrets {
		if sec.Kind != kind {
			continue
		}
		score, ok := sec.score(me, him, asym, xauth)
		if !ok || score < best {
			continue
		}
		if score > best {
			best, tied = score, tied[:0]
		}
		tied = append(tied, sec)
	}
	if len(tied) == 0 {
		return nil, ErrNotFound
	}
	for _, other := range tied[1:] {
		if !sameSecret(tied[0], other) {
			return nil, &AmbiguousError{Kind: kind, Local: local, Remote: remote, Entries: append([]*Secret(nil), tied...)}
		}
	}
	return tied[0], nil
}

// Match classes, pluto's match_default / match_me / match_him bits in the
// order pluto ranks them.
const (
	classDefault   = 0 // no index
	classMeOnly    = 1 // several indices, only ours matched (RSA only)
	classPeerAny   = 2 // one index, ours; the peer is not considered
	classBothMatch = 3 // ours and the peer's each match an index
)

// score rates how specifically sec matches the pair; ok is false when it
// does not match at all. Our ID and the peer's must be matched by different
// indices, so that one %any cannot stand for both ends (an entry
// "192.0.2.1 %any" is about 192.0.2.1, not about any pair).
func (sec *Secret) score(me, him *ident, asym, xauth bool) (score int, ok bool) {
	if len(sec.ids) == 0 {
		return classDefault, true
	}
	// The first two exact and the first two wildcard candidates of each end
	// are enough to find the best pair of distinct indices.
	type cand struct{ idx, exact int }
	var meC, himC []cand
	var meN, himN [2]int // candidates kept per quality (wild, exact)
	add := func(cs *[]cand, n *[2]int, idx, exact int) {
		if n[exact] < 2 {
			n[exact]++
			*cs = append(*cs, cand{idx, exact})
		}
	}
	for i, id := range sec.ids {
		if id.kind == idAny {
			if me != nil {
				add(&meC, &meN, i, 0)
			}
			if him != nil {
				add(&himC, &himN, i, 0)
			}
			continue
		}
		if me != nil && id.equal(*me, xauth) {
			add(&meC, &meN, i, 1)
		}
		if him != nil && id.equal(*him, xauth) {
			add(&himC, &himN, i, 1)
		}
	}
	best := -1
	for _, m := range meC {
		switch {
		case len(sec.ids) == 1:
			best = max(best, m.exact*110+classPeerAny)
		case asym:
			best = max(best, m.exact*110+classMeOnly)
		}
		for _, h := range himC {
			if h.idx != m.idx {
				// exact matches ×100, ours exact ×10, then the class
				best = max(best, (m.exact+h.exact)*100+m.exact*10+classBothMatch)
			}
		}
	}
	return best, best >= 0
}

// sameSecret reports whether two entries hold the same secret, comparing
// pre-shared keys in constant time and RSA keys by their public half (as
// pluto does).
func sameSecret(a, b *Secret) bool {
	switch a.Kind {
	case RSA:
		if a.RSA == nil || b.RSA == nil {
			return a.RSA == b.RSA
		}
		return a.RSA.PublicKey.Equal(&b.RSA.PublicKey)
	default:
		return hmac.Equal(a.PSK, b.PSK)
	}
}
