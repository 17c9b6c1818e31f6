package oakley

import (
	"errors"
	"testing"

	"goswan/spec"
)

// FuzzSharedSecret feeds arbitrary peer KE data to every group: it must never
// panic, and every failure must wrap ErrInvalidKE.
func FuzzSharedSecret(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(make([]byte, 64))
	f.Add(make([]byte, 128))
	keys := map[spec.Group]*PrivateKey{}
	for _, id := range []spec.Group{spec.GroupMODP768, spec.GroupMODP1024, spec.GroupECP256, spec.GroupECP384} {
		g, _ := GroupByID(id)
		k, err := g.GenerateKey(nil)
		if err != nil {
			f.Fatal(err)
		}
		keys[id] = k
		f.Add(k.Public())
	}
	f.Fuzz(func(t *testing.T, peer []byte) {
		for id, k := range keys {
			z, err := k.SharedSecret(peer)
			if err != nil {
				if !errors.Is(err, ErrInvalidKE) {
					t.Fatalf("%v: error %v does not wrap ErrInvalidKE", id, err)
				}
				continue
			}
			if len(z) != k.Group().SecretLen() {
				t.Fatalf("%v: secret of %d bytes", id, len(z))
			}
		}
	})
}

// FuzzDecrypt: arbitrary ciphertext never panics Decrypt.
func FuzzDecrypt(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add(make([]byte, 16), make([]byte, 32))
	f.Add(make([]byte, 8), make([]byte, 24))
	aes, _ := NewCipher(spec.OakleyAESCBC, 128)
	des, _ := NewCipher(spec.Oakley3DESCBC, 0)
	f.Fuzz(func(t *testing.T, iv, ct []byte) {
		for _, c := range []Cipher{aes, des} {
			pt, next, err := c.Decrypt(make([]byte, c.KeyLen), iv, ct)
			if err == nil && (len(pt) != len(ct) || len(next) != c.BlockSize) {
				t.Fatalf("%v: %d bytes of plaintext, %d of IV", c.ID, len(pt), len(next))
			}
		}
	})
}
