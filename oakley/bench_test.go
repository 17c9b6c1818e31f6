package oakley

import (
	"crypto/rand"
	"math/big"
	"testing"

	"goswan/spec"
)

func BenchmarkDH(b *testing.B) {
	for _, id := range []spec.Group{spec.GroupMODP1024, spec.GroupMODP1536, spec.GroupMODP2048, spec.GroupMODP3072,
		spec.GroupECP256, spec.GroupECP384, spec.GroupECP521} {
		g, _ := GroupByID(id)
		peer, err := g.GenerateKey(nil) // also builds the fixed-base table
		if err != nil {
			b.Fatal(err)
		}
		b.Run(id.ShortName()+"/GenerateKey", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.GenerateKey(rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
		})
		k, _ := g.GenerateKey(nil)
		pub := peer.Public()
		b.Run(id.ShortName()+"/SharedSecret", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.SharedSecret(pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMODPBase compares the fixed-base table with plain big.Int.Exp for
// computing g^x with a 256-bit exponent in modp2048.
func BenchmarkMODPBase(b *testing.B) {
	g, _ := GroupByID(spec.GroupMODP2048)
	k, _ := g.GenerateKey(nil)
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			g.modp.expG(k.x)
		}
	})
	b.Run("big.Exp", func(b *testing.B) {
		two := big.NewInt(2)
		for b.Loop() {
			new(big.Int).Exp(two, k.x, g.modp.p)
		}
	})
}

func BenchmarkPRF(b *testing.B) {
	key := make([]byte, 20)
	data := make([]byte, 64)
	for _, h := range []spec.OakleyHash{spec.OakleySHA1, spec.OakleySHA2256} {
		p, _ := NewPRF(h)
		b.Run(h.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				p.Sum(key, data)
			}
		})
	}
}

func BenchmarkKeySet(b *testing.B) {
	p, _ := NewPRF(spec.OakleySHA1)
	gxy := make([]byte, 256) // modp2048
	rand.Read(gxy)
	ni, nr := make([]byte, 32), make([]byte, 32)
	ci, cr := make([]byte, 8), make([]byte, 8)
	psk := []byte("harness-psk-0123456789")
	b.ReportAllocs()
	for b.Loop() {
		skeyid := SKEYIDPSK(p, psk, ni, nr)
		ks := DeriveKeySet(p, skeyid, gxy, ci, cr)
		ks.Zero()
	}
}

func BenchmarkKEYMAT(b *testing.B) {
	d := make([]byte, 20)
	spi := []byte{0xc7, 0x4f, 0x86, 0x0b}
	ni, nr := make([]byte, 32), make([]byte, 32)
	for _, tc := range []struct {
		name string
		hash spec.OakleyHash
		gxy  []byte
		n    int
	}{
		{"sha1-aes128-sha1", spec.OakleySHA1, nil, 16 + 20},
		{"sha1-aes256-sha256-pfs2048", spec.OakleySHA1, make([]byte, 256), 32 + 32},
		{"sha256-aes256gcm16", spec.OakleySHA2256, nil, 36},
	} {
		p, _ := NewPRF(tc.hash)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				KEYMAT(p, d, tc.gxy, spec.ProtoESP, spi, ni, nr, tc.n)
			}
		})
	}
}

// BenchmarkHandshake is the crypto one side performs for a PSK Main Mode
// plus Quick Mode without PFS (AES-128, SHA1, modp2048): one key pair, one
// shared secret, the phase 1 keys, IVs and hashes, six CBC operations, the
// three Quick Mode hashes and KEYMAT for both SAs. Message parsing and I/O
// are not included.
func BenchmarkHandshake(b *testing.B) {
	p, _ := NewPRF(spec.OakleySHA1)
	g, _ := GroupByID(spec.GroupMODP2048)
	c, _ := NewCipher(spec.OakleyAESCBC, 128)
	peer, _ := g.GenerateKey(nil)
	peerPub := peer.Public()
	ni, nr := make([]byte, 32), make([]byte, 32)
	ci, cr := make([]byte, 8), make([]byte, 8)
	sa, id := make([]byte, 52), make([]byte, 8)
	psk := []byte("harness-psk-0123456789")
	body := make([]byte, 150)
	b.ReportAllocs()
	for b.Loop() {
		k, _ := g.GenerateKey(rand.Reader)
		gxy, err := k.SharedSecret(peerPub)
		if err != nil {
			b.Fatal(err)
		}
		pub := k.Public()
		ks := DeriveKeySet(p, SKEYIDPSK(p, psk, ni, nr), gxy, ci, cr)
		key := EncryptionKey(p, ks.E, c.KeyLen)
		iv := Phase1IV(p, pub, peerPub, c.BlockSize)
		hi := HashI(p, ks.SKEYID, pub, peerPub, ci, cr, sa, id)
		_ = HashR(p, ks.SKEYID, pub, peerPub, ci, cr, sa, id)
		ct, iv := c.Encrypt(key, iv, hi)
		_, iv, _ = c.Decrypt(key, iv, ct)
		qiv := Phase2IV(p, iv, 0xdf41c1a2, c.BlockSize)
		_ = QuickHash1(p, ks.A, 0xdf41c1a2, body)
		ct, qiv = c.Encrypt(key, qiv, body)
		_ = QuickHash2(p, ks.A, 0xdf41c1a2, ni, body)
		_, qiv, _ = c.Decrypt(key, qiv, ct)
		_ = QuickHash3(p, ks.A, 0xdf41c1a2, ni, nr)
		ct, qiv = c.Encrypt(key, qiv, body[:24])
		_, _, _ = c.Decrypt(key, qiv, ct)
		KEYMAT(p, ks.D, nil, spec.ProtoESP, ci[:4], ni, nr, 36)
		KEYMAT(p, ks.D, nil, spec.ProtoESP, cr[:4], ni, nr, 36)
	}
}
