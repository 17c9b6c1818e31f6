// PRF and hash of the negotiated Oakley hash algorithm (RFC 2409 §5: "prf"
// is the HMAC version of the negotiated hash, RFC 2104; RFC 4868 for the
// SHA-2 family in IKE).

package oakley

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"

	"goswan/spec"
)

// PRF is the pseudo-random function of an IKE SA: HMAC keyed with the
// negotiated Oakley hash (RFC 2409 §5: without an OAKLEY_PRF attribute, which
// pluto and strongSwan never negotiate, the prf is the HMAC of the hash). The zero
// value is not usable; obtain one with [NewPRF]. A PRF is a small value and is
// safe for concurrent use.
type PRF struct {
	id   spec.OakleyHash
	new  func() hash.Hash
	size int
}

// NewPRF returns the PRF for Oakley hash h: MD5, SHA1, SHA2-256, SHA2-384 or
// SHA2-512. Other values (Tiger, unknown numbers) are an error.
func NewPRF(h spec.OakleyHash) (PRF, error) {
	switch h {
	case spec.OakleyMD5:
		return PRF{id: h, new: md5.New, size: md5.Size}, nil
	case spec.OakleySHA1:
		return PRF{id: h, new: sha1.New, size: sha1.Size}, nil
	case spec.OakleySHA2256:
		return PRF{id: h, new: sha256.New, size: sha256.Size}, nil
	case spec.OakleySHA2384:
		return PRF{id: h, new: sha512.New384, size: sha512.Size384}, nil
	case spec.OakleySHA2512:
		return PRF{id: h, new: sha512.New, size: sha512.Size}, nil
	}
	return PRF{}, fmt.Errorf("oakley: unsupported hash algorithm %v", h)
}

// Size returns the output length of the PRF (and of the hash) in bytes.
func (p PRF) Size() int { return p.size }

// Hash returns the Oakley hash algorithm the PRF is built on.
func (p PRF) Hash() spec.OakleyHash { return p.id }

// mac returns an HMAC keyed with key. Callers that compute several blocks
// under one key reuse it with Reset, which restores the keyed state.
func (p PRF) mac(key []byte) hash.Hash { return hmac.New(p.new, key) }

// Sum returns prf(key, data[0] | data[1] | ...) (RFC 2409 §5, RFC 2104).
func (p PRF) Sum(key []byte, data ...[]byte) []byte {
	m := p.mac(key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(make([]byte, 0, p.size))
}

// Digest returns the plain (un-keyed) hash of data[0] | data[1] | ..., as
// used for the phase 1 and phase 2 IVs (RFC 2409 Appendix B).
func (p PRF) Digest(data ...[]byte) []byte {
	h := p.new()
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(make([]byte, 0, p.size))
}

// Equal reports whether a and b hold the same bytes, in time that depends
// only on their lengths (subtle.ConstantTimeCompare). Slices of different
// lengths are never equal. Use it for every comparison involving a hash,
// signature or key.
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}
