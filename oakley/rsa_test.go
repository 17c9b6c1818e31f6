package oakley

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"sync"
	"testing"

	"goswan/spec"
)

var (
	rsaKeyOnce sync.Once
	rsaKey     *rsa.PrivateKey
)

func testRSAKey(t testing.TB) *rsa.PrivateKey {
	rsaKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rsaKey = k
	})
	return rsaKey
}

func TestSignVerifyHash(t *testing.T) {
	priv := testRSAKey(t)
	pub := &priv.PublicKey
	for _, h := range []spec.OakleyHash{spec.OakleyMD5, spec.OakleySHA1, spec.OakleySHA2256, spec.OakleySHA2512} {
		p, _ := NewPRF(h)
		hash := p.Sum([]byte("SKEYID"), []byte("g^xi | g^xr | ..."))
		sig, err := SignHash(priv, hash)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != pub.Size() {
			t.Fatalf("signature is %d bytes, modulus %d", len(sig), pub.Size())
		}
		if err := VerifyHash(pub, hash, sig); err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		// Any flipped bit, in the signature or in the hash, fails.
		for _, bit := range []int{0, 7, 8 * len(sig) / 2, 8*len(sig) - 1} {
			bad := append([]byte{}, sig...)
			bad[bit/8] ^= 1 << (bit % 8)
			if VerifyHash(pub, hash, bad) == nil {
				t.Errorf("%v: signature with bit %d flipped verifies", h, bit)
			}
		}
		badHash := append([]byte{}, hash...)
		badHash[len(badHash)-1] ^= 1
		if VerifyHash(pub, badHash, sig) == nil {
			t.Errorf("%v: signature verifies a different hash", h)
		}
		// Length must be exactly the modulus length: no leading zero
		// tolerated, no truncation.
		if VerifyHash(pub, hash, append([]byte{0}, sig...)) == nil {
			t.Error("signature with a leading zero octet verifies")
		}
		if VerifyHash(pub, hash, sig[1:]) == nil || VerifyHash(pub, hash, nil) == nil {
			t.Error("short signature verifies")
		}
	}
}

// A signature whose padded block holds a DigestInfo (what SignPKCS1v15 does
// with crypto.SHA1) is not an IKEv1 signature of the raw hash.
func TestVerifyHashRejectsDigestInfo(t *testing.T) {
	priv := testRSAKey(t)
	h := sha1.Sum([]byte("message"))
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA1, h[:])
	if err != nil {
		t.Fatal(err)
	}
	if VerifyHash(&priv.PublicKey, h[:], sig) == nil {
		t.Error("DigestInfo signature accepted")
	}
	// And the raw-hash signature is not a valid DigestInfo signature.
	raw, _ := SignHash(priv, h[:])
	if rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA1, h[:], raw) == nil {
		t.Error("raw signature verifies as DigestInfo")
	}
}

func TestRSAErrors(t *testing.T) {
	if _, err := SignHash(nil, []byte("x")); err == nil {
		t.Error("SignHash(nil) succeeded")
	}
	if err := VerifyHash(nil, []byte("x"), []byte("y")); err == nil {
		t.Error("VerifyHash(nil) succeeded")
	}
	if err := VerifyHash(&rsa.PublicKey{}, []byte("x"), []byte("y")); err == nil {
		t.Error("VerifyHash(empty key) succeeded")
	}
	// A hash too long for the modulus cannot be signed.
	priv := testRSAKey(t)
	if _, err := SignHash(priv, make([]byte, priv.Size())); err == nil {
		t.Error("oversized hash signed")
	}
}
