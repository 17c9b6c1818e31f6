// Diffie-Hellman groups of IKEv1: the MODP groups of RFC 2409 §6 and
// RFC 3526, and the ECP groups of RFC 5903 §3 with the key exchange data
// format of RFC 5903 §7 (x | y without a point-format octet; the shared
// secret is the x coordinate only).

package oakley

import (
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/bits"
	"sync"

	"goswan/spec"
)

// ErrInvalidKE is wrapped by every error caused by bad key exchange data from
// the peer: wrong length, a degenerate MODP value or an invalid curve point.
// Pluto answers such a KE payload with INVALID_KEY_INFORMATION.
var ErrInvalidKE = errors.New("oakley: invalid key exchange data")

// Group is a Diffie-Hellman group. Groups are created once; [GroupByID]
// returns shared pointers that are safe for concurrent use.
type Group struct {
	ID spec.Group

	size  int        // prime length (MODP) or coordinate length (ECP), bytes
	modp  *modpGroup // nil for ECP groups
	curve ecdh.Curve // nil for MODP groups
}

// modpGroup holds the parameters of a MODP group with generator 2.
type modpGroup struct {
	p       *big.Int
	pMinus1 *big.Int
	expBits int // private exponent length, see exponentBits

	tabOnce sync.Once
	tab     []big.Int // fixed-base table for g^x, see baseTable
}

// exponentBits is the private exponent length used for each MODP group.
//
// A full-length exponent (as long as p) costs up to 8 times more than
// needed. Generic attacks on a short exponent (Pollard's lambda) take about
// 2^(bits/2) steps, so an exponent of twice the symmetric strength of the
// group keeps that strength (RFC 3526 §8 and RFC 7919 §5.2 give the strength
// estimates; NIST SP 800-56A likewise asks for at least twice the security
// strength). The values below are
// that rule rounded up to a multiple of 64 and never below 256 bits, above
// the minimum exponent sizes RFC 7919 §5.2 lists (225 bits for 2048, 275 for
// 3072, 325 for 4096, 375 for 6144, 400 for 8192). strongSwan makes the
// same kind of choice when "dh_exponent_ansi_x9_42 = no" (its default is a
// full-length exponent). The top bit of the exponent is always set, so every
// exponent has exactly this length (one bit of entropy spent for more uniform
// timing).
var exponentBits = map[int]int{
	768:  256,
	1024: 256,
	1536: 256,
	2048: 256,
	3072: 320,
	4096: 384,
	6144: 448,
	8192: 512,
}

var groups = func() map[spec.Group]*Group {
	m := map[spec.Group]*Group{}
	for id, bits := range map[spec.Group]int{
		spec.GroupMODP768: 768, spec.GroupMODP1024: 1024, spec.GroupMODP1536: 1536,
		spec.GroupMODP2048: 2048, spec.GroupMODP3072: 3072, spec.GroupMODP4096: 4096,
		spec.GroupMODP6144: 6144, spec.GroupMODP8192: 8192,
	} {
		p, ok := new(big.Int).SetString(modpPrimes[bits], 16)
		if !ok || p.BitLen() != bits {
			panic("oakley: BUG: bad MODP prime table") // static data, caught by tests
		}
		m[id] = &Group{ID: id, size: bits / 8, modp: &modpGroup{
			p:       p,
			pMinus1: new(big.Int).Sub(p, big.NewInt(1)),
			expBits: exponentBits[bits],
		}}
	}
	m[spec.GroupECP256] = &Group{ID: spec.GroupECP256, size: 32, curve: ecdh.P256()}
	m[spec.GroupECP384] = &Group{ID: spec.GroupECP384, size: 48, curve: ecdh.P384()}
	m[spec.GroupECP521] = &Group{ID: spec.GroupECP521, size: 66, curve: ecdh.P521()}
	return m
}()

// GroupByID returns the group with IANA number id: MODP 1 (768 bits), 2, 5,
// 14, 15, 16, 17, 18 (RFC 2409 §6, RFC 3526; generator 2) or ECP 19, 20, 21
// (RFC 5903). Other groups, including the RFC 5114 groups 22-24 that pluto
// refuses, are an error.
func GroupByID(id spec.Group) (*Group, error) {
	if g, ok := groups[id]; ok {
		return g, nil
	}
	return nil, fmt.Errorf("oakley: unsupported Diffie-Hellman group %v", id)
}

// PublicLen returns the length of the KE payload data: the prime length for
// MODP groups, and twice the coordinate length (x | y, RFC 5903 §7) for ECP.
func (g *Group) PublicLen() int {
	if g.curve != nil {
		return 2 * g.size
	}
	return g.size
}

// SecretLen returns the length of g^xy: the prime length for MODP groups, and
// the coordinate length for ECP groups (x only, RFC 5903 §7).
func (g *Group) SecretLen() int { return g.size }

// Precompute builds the fixed-base table a MODP group uses to generate keys
// (see baseTable in dh.go), so that the first GenerateKey does not pay for
// it. It is optional, idempotent and safe for concurrent use; it does nothing
// for ECP groups. A daemon may call it at startup for its configured groups.
func (g *Group) Precompute() {
	if g.modp != nil {
		g.modp.baseTable()
	}
}

// ExponentBits returns the private exponent length used for a MODP group (a
// documented choice, see the exponentBits table in dh.go), or 0 for ECP
// groups, whose scalars are uniform in [1, n-1].
func (g *Group) ExponentBits() int {
	if g.modp == nil {
		return 0
	}
	return g.modp.expBits
}

// PrivateKey is a Diffie-Hellman private value with its public value. It is
// immutable until Zero and safe for concurrent use.
type PrivateKey struct {
	group *Group
	x     *big.Int         // MODP exponent
	ec    *ecdh.PrivateKey // ECP scalar
	pub   []byte
}

// GenerateKey returns a fresh private value, drawing randomness from rand
// (crypto/rand.Reader when rand is nil).
//
// For MODP groups the exponent is ExponentBits long with its top bit set. For
// ECP groups the scalar is drawn from rand by rejection sampling, so tests can
// make it deterministic (crypto/ecdh's own GenerateKey ignores its reader
// since Go 1.26).
func (g *Group) GenerateKey(rand io.Reader) (*PrivateKey, error) {
	if rand == nil {
		rand = cryptoRand
	}
	if g.curve != nil {
		buf := make([]byte, g.size)
		defer clear(buf)
		for range 64 {
			if _, err := io.ReadFull(rand, buf); err != nil {
				return nil, fmt.Errorf("oakley: reading random: %w", err)
			}
			if g.ID == spec.GroupECP521 {
				buf[0] &= 0x01 // 521 bits in 66 bytes
			}
			k, err := g.curve.NewPrivateKey(buf)
			if err != nil {
				continue // zero or not below the order: draw again
			}
			return g.ecKey(k), nil
		}
		return nil, errors.New("oakley: random source keeps producing invalid scalars")
	}
	buf := make([]byte, g.modp.expBits/8)
	defer clear(buf)
	if _, err := io.ReadFull(rand, buf); err != nil {
		return nil, fmt.Errorf("oakley: reading random: %w", err)
	}
	buf[0] |= 0x80
	x := new(big.Int).SetBytes(buf)
	return &PrivateKey{group: g, x: x, pub: g.modp.expG(x).FillBytes(make([]byte, g.size))}, nil
}

// cryptoRand is the default randomness source.
var cryptoRand io.Reader = rand.Reader

// NewPrivateKey returns the private key with the given private value, for
// known-answer tests and for callers that manage their own randomness. For
// MODP groups x is a big-endian exponent with 1 < x < p-1; for ECP groups it
// is the big-endian scalar of exactly SecretLen bytes, in [1, n-1].
func (g *Group) NewPrivateKey(x []byte) (*PrivateKey, error) {
	if g.curve != nil {
		k, err := g.curve.NewPrivateKey(x)
		if err != nil {
			return nil, fmt.Errorf("oakley: invalid %v private key: %w", g.ID, err)
		}
		return g.ecKey(k), nil
	}
	e := new(big.Int).SetBytes(x)
	if e.Cmp(big.NewInt(1)) <= 0 || e.Cmp(g.modp.pMinus1) >= 0 {
		return nil, fmt.Errorf("oakley: invalid %v private exponent", g.ID)
	}
	y := new(big.Int).Exp(big.NewInt(2), e, g.modp.p)
	return &PrivateKey{group: g, x: e, pub: y.FillBytes(make([]byte, g.size))}, nil
}

func (g *Group) ecKey(k *ecdh.PrivateKey) *PrivateKey {
	// Bytes is 0x04 | x | y (SEC 1 uncompressed); IKEv1 sends x | y.
	return &PrivateKey{group: g, ec: k, pub: k.PublicKey().Bytes()[1:]}
}

// Group returns the group of k.
func (k *PrivateKey) Group() *Group { return k.group }

// Public returns the KE payload data: exactly PublicLen bytes, big-endian
// and left-padded with zeros (RFC 2409 §5, RFC 5903 §7). The caller owns the
// returned slice.
func (k *PrivateKey) Public() []byte {
	return append([]byte(nil), k.pub...)
}

// SharedSecret computes g^xy from the peer's KE payload data. The result is
// exactly SecretLen bytes, left-padded with zeros (as pluto and strongSwan
// hash it into SKEYID).
//
// The peer value is validated; failures wrap [ErrInvalidKE]:
//   - its length must be PublicLen;
//   - MODP: 1 < y < p-1, which rules out the values that force g^xy into
//     {0, 1, p-1} (the CVE-2015-3240 lesson); with a safe prime every other
//     y has order q or 2q;
//   - ECP: the point must lie on the curve and not be the identity, checked
//     by crypto/ecdh.
func (k *PrivateKey) SharedSecret(peer []byte) ([]byte, error) {
	g := k.group
	if len(peer) != g.PublicLen() {
		return nil, fmt.Errorf("%w: %v public value is %d bytes, want %d", ErrInvalidKE, g.ID, len(peer), g.PublicLen())
	}
	if g.curve != nil {
		if k.ec == nil {
			return nil, errors.New("oakley: private key has been zeroed")
		}
		pt := make([]byte, 1+len(peer))
		pt[0] = 4 // uncompressed point
		copy(pt[1:], peer)
		pub, err := g.curve.NewPublicKey(pt)
		if err != nil {
			return nil, fmt.Errorf("%w: %v point: %v", ErrInvalidKE, g.ID, err)
		}
		z, err := k.ec.ECDH(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: %v: %v", ErrInvalidKE, g.ID, err)
		}
		return z, nil
	}
	if k.x == nil || k.x.Sign() == 0 {
		return nil, errors.New("oakley: private key has been zeroed")
	}
	y := new(big.Int).SetBytes(peer)
	if y.Cmp(bigOne) <= 0 || y.Cmp(g.modp.pMinus1) >= 0 {
		return nil, fmt.Errorf("%w: %v public value out of range (1, p-1)", ErrInvalidKE, g.ID)
	}
	z := y.Exp(y, k.x, g.modp.p)
	if z.Cmp(bigOne) <= 0 { // unreachable for 1 < y < p-1 and x < q; kept as a guard
		return nil, fmt.Errorf("%w: %v degenerate shared secret", ErrInvalidKE, g.ID)
	}
	out := z.FillBytes(make([]byte, g.size))
	clear(z.Bits())
	return out, nil
}

// Zero overwrites the private exponent of a MODP key and drops the reference
// to an ECP key (crypto/ecdh offers no way to wipe it); k is unusable
// afterwards. Go cannot guarantee zeroization; see the package documentation.
func (k *PrivateKey) Zero() {
	if k.x != nil {
		clear(k.x.Bits())
		k.x.SetInt64(0)
	}
	k.ec = nil
}

var bigOne = big.NewInt(1)

// baseWindow is the window width, in bits, of the fixed-base table.
const baseWindow = 4

// baseTable returns the fixed-base table of the group, building it on first
// use: entry [i*15 + d-1] is 2^(d * 16^i) mod p for d in 1..15 and
// i < expBits/4. With it g^x costs at most expBits/4 modular multiplications
// instead of expBits squarings plus expBits/4 multiplications: about 2.8
// times faster for modp2048 (see BenchmarkMODPBase). The price is
// 15*expBits/4 stored values: about 0.27 MiB for modp2048 (built in about
// 2 ms), 2 MiB for modp8192 (about 60 ms).
func (m *modpGroup) baseTable() []big.Int {
	m.tabOnce.Do(func() {
		rows := m.expBits / baseWindow
		tab := make([]big.Int, rows*15)
		base := big.NewInt(2)
		t, q := new(big.Int), new(big.Int)
		for i := range rows {
			row := tab[i*15 : (i+1)*15]
			row[0].Set(base)
			for d := 1; d < 15; d++ {
				t.Mul(&row[d-1], base)
				q.QuoRem(t, m.p, &row[d])
			}
			t.Mul(&row[14], base) // base^16
			q.QuoRem(t, m.p, base)
		}
		m.tab = tab
	})
	return m.tab
}

// expG returns 2^x mod p for 0 < x < 2^expBits using the fixed-base table.
// Like math/big in general it is not constant time; the exponents are
// ephemeral (used for one public value and one shared secret).
func (m *modpGroup) expG(x *big.Int) *big.Int {
	tab := m.baseTable()
	acc := big.NewInt(1)
	t, q := new(big.Int), new(big.Int)
	words := x.Bits()
	const perWord = bits.UintSize / baseWindow // digits per big.Word
	for i := range m.expBits / baseWindow {
		w := i / perWord
		if w >= len(words) {
			break
		}
		d := (uint(words[w]) >> (uint(i%perWord) * baseWindow)) & (1<<baseWindow - 1)
		if d == 0 {
			continue
		}
		t.Mul(acc, &tab[i*15+int(d)-1])
		q.QuoRem(t, m.p, acc)
	}
	clear(t.Bits())
	return acc
}
