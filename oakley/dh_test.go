package oakley

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"sync"
	"testing"

	"goswan/spec"
)

var modpIDs = []spec.Group{
	spec.GroupMODP768, spec.GroupMODP1024, spec.GroupMODP1536, spec.GroupMODP2048,
	spec.GroupMODP3072, spec.GroupMODP4096, spec.GroupMODP6144, spec.GroupMODP8192,
}

var ecpIDs = []spec.Group{spec.GroupECP256, spec.GroupECP384, spec.GroupECP521}

// piFixed returns floor(pi * 2^bits), by Machin's formula
// pi = 16 atan(1/5) - 4 atan(1/239), with 64 guard bits.
func piFixed(bits uint) *big.Int {
	one := new(big.Int).Lsh(big.NewInt(1), bits+64)
	atanInv := func(x int64) *big.Int {
		sum := new(big.Int)
		term := new(big.Int).Quo(one, big.NewInt(x))
		x2 := big.NewInt(x * x)
		t := new(big.Int)
		for n := int64(1); term.Sign() != 0; n += 2 {
			t.Quo(term, big.NewInt(n))
			if n%4 == 1 {
				sum.Add(sum, t)
			} else {
				sum.Sub(sum, t)
			}
			term.Quo(term, x2)
		}
		return sum
	}
	a := new(big.Int).Mul(atanInv(5), big.NewInt(16))
	a.Sub(a, new(big.Int).Mul(atanInv(239), big.NewInt(4)))
	return a.Rsh(a, 64)
}

// The MODP primes are p = 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi) + k)
// with the k of RFC 2409 §6.1/§6.2 and RFC 3526 §2-§7.
func TestMODPPrimes(t *testing.T) {
	ks := map[spec.Group]int64{
		spec.GroupMODP768: 149686, spec.GroupMODP1024: 129093, spec.GroupMODP1536: 741804,
		spec.GroupMODP2048: 124476, spec.GroupMODP3072: 1690314, spec.GroupMODP4096: 240904,
		spec.GroupMODP6144: 929484, spec.GroupMODP8192: 4743158,
	}
	for _, id := range modpIDs {
		g, err := GroupByID(id)
		if err != nil {
			t.Fatal(err)
		}
		n := uint(g.PublicLen() * 8)
		p := new(big.Int).Lsh(big.NewInt(1), n)
		p.Sub(p, new(big.Int).Lsh(big.NewInt(1), n-64))
		p.Sub(p, big.NewInt(1))
		f := piFixed(n - 130)
		f.Add(f, big.NewInt(ks[id]))
		p.Add(p, f.Lsh(f, 64))
		if p.Cmp(g.modp.p) != 0 {
			t.Errorf("%v: prime does not match the RFC formula", id)
		}
		// Safe prime check (Baillie-PSW) for the smaller groups; the larger
		// ones are covered by the formula.
		if n <= 2048 {
			q := new(big.Int).Rsh(p, 1)
			if !p.ProbablyPrime(0) || !q.ProbablyPrime(0) {
				t.Errorf("%v: not a safe prime", id)
			}
		}
	}
}

func TestGroupByID(t *testing.T) {
	for _, id := range append(append([]spec.Group{}, modpIDs...), ecpIDs...) {
		g, err := GroupByID(id)
		if err != nil || g.ID != id {
			t.Fatalf("GroupByID(%v) = %v, %v", id, g, err)
		}
		if g2, _ := GroupByID(id); g2 != g {
			t.Errorf("%v: GroupByID returns a new group each time", id)
		}
	}
	for _, id := range []spec.Group{0, spec.GroupEC2N155, spec.GroupEC2N185, spec.GroupMODP1024S160,
		spec.GroupMODP2048S224, spec.GroupMODP2048S256, spec.GroupECP192, spec.GroupBrainpool256,
		spec.GroupCurve25519, 1000} {
		if g, err := GroupByID(id); err == nil {
			t.Errorf("GroupByID(%v) = %v, want error", id, g)
		}
	}
	lens := map[spec.Group][3]int{ // PublicLen, SecretLen, ExponentBits
		spec.GroupMODP768: {96, 96, 256}, spec.GroupMODP1024: {128, 128, 256},
		spec.GroupMODP1536: {192, 192, 256}, spec.GroupMODP2048: {256, 256, 256},
		spec.GroupMODP3072: {384, 384, 320}, spec.GroupMODP4096: {512, 512, 384},
		spec.GroupMODP6144: {768, 768, 448}, spec.GroupMODP8192: {1024, 1024, 512},
		spec.GroupECP256: {64, 32, 0}, spec.GroupECP384: {96, 48, 0}, spec.GroupECP521: {132, 66, 0},
	}
	for id, want := range lens {
		g, _ := GroupByID(id)
		if got := [3]int{g.PublicLen(), g.SecretLen(), g.ExponentBits()}; got != want {
			t.Errorf("%v: lengths %v, want %v", id, got, want)
		}
	}
}

func agree(t *testing.T, g *Group) {
	t.Helper()
	a, err := g.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Group() != g {
		t.Error("Group() mismatch")
	}
	pa, pb := a.Public(), b.Public()
	if len(pa) != g.PublicLen() || len(pb) != g.PublicLen() {
		t.Fatalf("public lengths %d, %d, want %d", len(pa), len(pb), g.PublicLen())
	}
	if Equal(pa, pb) {
		t.Fatal("two keys with the same public value")
	}
	za, err := a.SharedSecret(pb)
	if err != nil {
		t.Fatal(err)
	}
	zb, err := b.SharedSecret(pa)
	if err != nil {
		t.Fatal(err)
	}
	if len(za) != g.SecretLen() {
		t.Fatalf("secret length %d, want %d", len(za), g.SecretLen())
	}
	checkBytes(t, "shared secret", za, zb)
	// Public returns a copy.
	pa[0] ^= 0xff
	if Equal(pa, a.Public()) {
		t.Error("Public returns internal storage")
	}
}

func TestDHAgreement(t *testing.T) {
	for _, id := range append(append([]spec.Group{}, modpIDs...), ecpIDs...) {
		t.Run(id.ShortName(), func(t *testing.T) {
			if testing.Short() && (id == spec.GroupMODP6144 || id == spec.GroupMODP8192) {
				t.Skip("slow table build in -short mode")
			}
			g, _ := GroupByID(id)
			agree(t, g)
		})
	}
}

// The fixed-base exponentiation must agree with big.Int.Exp.
func TestExpGMatchesExp(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	for _, id := range []spec.Group{spec.GroupMODP768, spec.GroupMODP1024, spec.GroupMODP2048, spec.GroupMODP3072} {
		g, _ := GroupByID(id)
		m := g.modp
		for i := range 20 {
			b := make([]byte, m.expBits/8)
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			switch i {
			case 0:
				clear(b)
				b[len(b)-1] = 1 // x = 1
			case 1:
				for j := range b {
					b[j] = 0xff
				}
			case 2:
				clear(b[:len(b)/2]) // short exponent
			}
			x := new(big.Int).SetBytes(b)
			want := new(big.Int).Exp(big.NewInt(2), x, m.p)
			if got := m.expG(x); got.Cmp(want) != 0 {
				t.Fatalf("%v: expG(%x) wrong", id, b)
			}
		}
	}
}

func TestMODPExponentLength(t *testing.T) {
	g, _ := GroupByID(spec.GroupMODP2048)
	for range 10 {
		k, err := g.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		if k.x.BitLen() != 256 {
			t.Fatalf("exponent has %d bits", k.x.BitLen())
		}
	}
}

// Deterministic randomness gives deterministic keys, for MODP and ECP alike.
func TestGenerateKeyUsesReader(t *testing.T) {
	for _, id := range []spec.Group{spec.GroupMODP1024, spec.GroupECP256, spec.GroupECP521} {
		g, _ := GroupByID(id)
		seed := [32]byte{byte(id)}
		k1, err := g.GenerateKey(mrand.NewChaCha8(seed))
		if err != nil {
			t.Fatal(err)
		}
		k2, _ := g.GenerateKey(mrand.NewChaCha8(seed))
		if !Equal(k1.Public(), k2.Public()) {
			t.Errorf("%v: same random stream, different keys", id)
		}
		if _, err := g.GenerateKey(bytes.NewReader([]byte{1, 2, 3})); err == nil {
			t.Errorf("%v: short random source accepted", id)
		}
	}
	// A reader that only yields invalid P-256 scalars (all 0xff > n).
	g, _ := GroupByID(spec.GroupECP256)
	if _, err := g.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{0xff}, 32*64))); err == nil {
		t.Error("ECP GenerateKey accepted scalars above the order")
	}
}

// Public values and secrets are left-padded to the full length.
func TestMODPPadding(t *testing.T) {
	g, _ := GroupByID(spec.GroupMODP2048)
	k, err := g.NewPrivateKey([]byte{8}) // 2^8 = 256
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 256)
	want[254] = 1
	checkBytes(t, "public 2^8", k.Public(), want)
	peer := make([]byte, 256)
	peer[255] = 3 // 3^8 = 6561 = 0x19a1
	z, err := k.SharedSecret(peer)
	if err != nil {
		t.Fatal(err)
	}
	want = make([]byte, 256)
	want[254], want[255] = 0x19, 0xa1
	checkBytes(t, "secret 3^8", z, want)
	for _, bad := range [][]byte{nil, {0}, {1}, g.modp.pMinus1.Bytes(), g.modp.p.Bytes()} {
		if _, err := g.NewPrivateKey(bad); err == nil {
			t.Errorf("NewPrivateKey(%x) accepted", bad)
		}
	}
}

func TestMODPDegenerateKE(t *testing.T) {
	for _, id := range []spec.Group{spec.GroupMODP768, spec.GroupMODP1024, spec.GroupMODP1536, spec.GroupMODP2048} {
		g, _ := GroupByID(id)
		k, err := g.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		n := g.PublicLen()
		pad := func(v *big.Int) []byte { return v.FillBytes(make([]byte, n)) }
		p := g.modp.p
		bad := map[string][]byte{
			"0":            make([]byte, n),
			"1":            pad(big.NewInt(1)),
			"p-1":          pad(new(big.Int).Sub(p, big.NewInt(1))),
			"p":            pad(p),
			"p+1":          pad(new(big.Int).Add(p, big.NewInt(1))),
			"p+2":          pad(new(big.Int).Add(p, big.NewInt(2))),
			"all ones":     bytes.Repeat([]byte{0xff}, n),
			"empty":        nil,
			"one short":    k.Public()[1:],
			"one long":     append([]byte{0}, k.Public()...),
			"unpadded 2":   {2},
			"double width": make([]byte, 2*n),
		}
		for name, v := range bad {
			z, err := k.SharedSecret(v)
			if err == nil || !errors.Is(err, ErrInvalidKE) || z != nil {
				t.Errorf("%v: KE %s: got %x, %v; want ErrInvalidKE", id, name, z, err)
			}
		}
		// The smallest and largest acceptable values.
		for _, v := range []*big.Int{big.NewInt(2), new(big.Int).Sub(p, big.NewInt(2))} {
			if _, err := k.SharedSecret(pad(v)); err != nil {
				t.Errorf("%v: KE %v rejected: %v", id, v, err)
			}
		}
	}
}

func TestECPDegenerateKE(t *testing.T) {
	for _, id := range ecpIDs {
		g, _ := GroupByID(id)
		k, err := g.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		peer, _ := g.GenerateKey(nil)
		good := peer.Public()
		n := g.PublicLen()
		offCurve := append([]byte{}, good...)
		offCurve[n-1] ^= 1 // change y
		xTooBig := append([]byte{}, good...)
		for i := range n / 2 {
			xTooBig[i] = 0xff
		}
		bad := map[string][]byte{
			"all zero (identity encoding)": make([]byte, n),
			"off curve":                    offCurve,
			"coordinate >= p":              xTooBig,
			"empty":                        nil,
			"x only":                       good[:n/2],
			"with 04 prefix":               append([]byte{4}, good...),
			"one short":                    good[1:],
			"compressed":                   append([]byte{2}, good[:n/2]...),
		}
		for name, v := range bad {
			z, err := k.SharedSecret(v)
			if err == nil || !errors.Is(err, ErrInvalidKE) || z != nil {
				t.Errorf("%v: KE %s: got %x, %v; want ErrInvalidKE", id, name, z, err)
			}
		}
		if _, err := k.SharedSecret(good); err != nil {
			t.Errorf("%v: valid point rejected: %v", id, err)
		}
	}
}

// RFC 5903 §8 test vectors: i, g^i, r, g^r and g^ir (x only, §7).
func TestECPRFC5903(t *testing.T) {
	vecs := []struct {
		id                          spec.Group
		i, gix, giy, r, grx, gry, z string
	}{
		{spec.GroupECP256,
			"c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
			"dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
			"5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
			"c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
			"d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
			"56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
			"d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"},
		{spec.GroupECP384,
			"099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
			"667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa",
			"9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
			"41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
			"e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571",
			"dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
			"11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746"},
		{spec.GroupECP521,
			"0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a095aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d4a52",
			"0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbee1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176ced3e",
			"017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10ad8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f9582",
			"0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb151685eb9",
			"00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a219b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9460f",
			"015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0fc56a",
			"01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3ddea"},
	}
	for _, v := range vecs {
		g, _ := GroupByID(v.id)
		ki, err := g.NewPrivateKey(unhex(t, v.i))
		if err != nil {
			t.Fatal(err)
		}
		kr, err := g.NewPrivateKey(unhex(t, v.r))
		if err != nil {
			t.Fatal(err)
		}
		checkHex(t, v.id.ShortName()+" g^i", ki.Public(), v.gix+v.giy)
		checkHex(t, v.id.ShortName()+" g^r", kr.Public(), v.grx+v.gry)
		zi, err := ki.SharedSecret(unhex(t, v.grx+v.gry))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := kr.SharedSecret(unhex(t, v.gix+v.giy))
		if err != nil {
			t.Fatal(err)
		}
		checkHex(t, v.id.ShortName()+" g^ir (i)", zi, v.z)
		checkHex(t, v.id.ShortName()+" g^ir (r)", zr, v.z)
	}
	g, _ := GroupByID(spec.GroupECP256)
	for _, bad := range [][]byte{nil, make([]byte, 32), bytes.Repeat([]byte{0xff}, 32), make([]byte, 31)} {
		if _, err := g.NewPrivateKey(bad); err == nil {
			t.Errorf("NewPrivateKey(%x) accepted", bad)
		}
	}
}

func TestPrivateKeyZero(t *testing.T) {
	for _, id := range []spec.Group{spec.GroupMODP1024, spec.GroupECP256} {
		g, _ := GroupByID(id)
		a, _ := g.GenerateKey(nil)
		b, _ := g.GenerateKey(nil)
		var words []big.Word
		if a.x != nil {
			words = a.x.Bits()
		}
		a.Zero()
		for _, w := range words {
			if w != 0 {
				t.Fatalf("%v: exponent not wiped", id)
			}
		}
		if _, err := a.SharedSecret(b.Public()); err == nil {
			t.Errorf("%v: zeroed key still computes secrets", id)
		}
		a.Zero() // idempotent
	}
}

// GenerateKey may be called concurrently, including the first call that
// builds the fixed-base table.
func TestConcurrentGenerateKey(t *testing.T) {
	g, _ := GroupByID(spec.GroupMODP1536)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			a, err := g.GenerateKey(nil)
			if err != nil {
				errs <- err
				return
			}
			b, _ := g.GenerateKey(nil)
			za, _ := a.SharedSecret(b.Public())
			zb, _ := b.SharedSecret(a.Public())
			if !Equal(za, zb) {
				errs <- fmt.Errorf("secrets differ")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPrecompute(t *testing.T) {
	for _, id := range []spec.Group{spec.GroupMODP1024, spec.GroupECP256} {
		g, _ := GroupByID(id)
		g.Precompute()
		g.Precompute()
		if g.modp != nil && len(g.modp.tab) != g.modp.expBits/baseWindow*15 {
			t.Errorf("%v: table has %d entries", id, len(g.modp.tab))
		}
		agree(t, g)
	}
}
