package oakley

import (
	"bytes"
	"encoding/binary"
	"testing"

	"goswan/spec"
)

func TestNewCipher(t *testing.T) {
	good := []struct {
		id            spec.OakleyEncryption
		bits, key, bs int
	}{
		{spec.Oakley3DESCBC, 0, 24, 8},
		{spec.Oakley3DESCBC, 192, 24, 8},
		{spec.OakleyAESCBC, 128, 16, 16},
		{spec.OakleyAESCBC, 192, 24, 16},
		{spec.OakleyAESCBC, 256, 32, 16},
	}
	for _, tc := range good {
		c, err := NewCipher(tc.id, tc.bits)
		if err != nil || c.ID != tc.id || c.KeyLen != tc.key || c.BlockSize != tc.bs {
			t.Errorf("NewCipher(%v, %d) = %+v, %v", tc.id, tc.bits, c, err)
		}
	}
	bad := []struct {
		id   spec.OakleyEncryption
		bits int
	}{
		{spec.OakleyAESCBC, 0}, // RFC 3602 §5.3: key length is mandatory
		{spec.OakleyAESCBC, 64},
		{spec.OakleyAESCBC, 127},
		{spec.OakleyAESCBC, 129},
		{spec.OakleyAESCBC, 512},
		{spec.OakleyAESCBC, -128},
		{spec.OakleyAESCBC, 1 << 16},
		{spec.Oakley3DESCBC, 128},
		{spec.Oakley3DESCBC, 64},
		{spec.OakleyDESCBC, 0},
		{spec.OakleyBlowfishCBC, 128},
		{spec.OakleyCamelliaCBC, 128},
		{0, 0},
		{65535, 128},
	}
	for _, tc := range bad {
		if c, err := NewCipher(tc.id, tc.bits); err == nil {
			t.Errorf("NewCipher(%v, %d) = %+v, want error", tc.id, tc.bits, c)
		}
	}
}

func TestCipherRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		id   spec.OakleyEncryption
		bits int
	}{{spec.Oakley3DESCBC, 0}, {spec.OakleyAESCBC, 128}, {spec.OakleyAESCBC, 192}, {spec.OakleyAESCBC, 256}} {
		c, err := NewCipher(tc.id, tc.bits)
		if err != nil {
			t.Fatal(err)
		}
		key := bytes.Repeat([]byte{0x5a}, c.KeyLen)
		for i := range key {
			key[i] = byte(i * 13)
		}
		iv := bytes.Repeat([]byte{0xa5}, c.BlockSize)
		for n := 0; n <= 3*c.BlockSize+1; n++ {
			pt := make([]byte, n)
			for i := range pt {
				pt[i] = byte(i + 1)
			}
			orig := append([]byte{}, pt...)
			ct, next := c.Encrypt(key, iv, pt)
			want := (n + c.BlockSize - 1) / c.BlockSize * c.BlockSize
			if n == 0 {
				want = c.BlockSize
			}
			if len(ct) != want {
				t.Fatalf("%v/%d: %d bytes gave %d of ciphertext, want %d", tc.id, tc.bits, n, len(ct), want)
			}
			checkBytes(t, "next IV", next, ct[len(ct)-c.BlockSize:])
			checkBytes(t, "plaintext untouched", pt, orig)
			dec, next2, err := c.Decrypt(key, iv, ct)
			if err != nil {
				t.Fatal(err)
			}
			checkBytes(t, "next IV", next2, next)
			checkBytes(t, "plaintext", dec[:n], pt)
			for _, b := range dec[n:] {
				if b != 0 {
					t.Fatalf("padding %x is not zero", dec[n:])
				}
			}
			// CBC chaining: decrypting with the wrong IV only garbles block 1.
			if n > c.BlockSize {
				bad := append([]byte{}, iv...)
				bad[0] ^= 1
				dec2, _, _ := c.Decrypt(key, bad, ct)
				if Equal(dec2[:c.BlockSize], dec[:c.BlockSize]) || !Equal(dec2[c.BlockSize:], dec[c.BlockSize:]) {
					t.Fatal("IV does not chain as CBC")
				}
			}
		}
		// nextIV is a copy: changing it leaves the ciphertext alone.
		ct, next := c.Encrypt(key, iv, []byte("hello"))
		next[0] ^= 0xff
		if Equal(next, ct[len(ct)-c.BlockSize:]) {
			t.Error("nextIV aliases the ciphertext")
		}
	}
}

// CBC known answer: NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt), first two blocks.
func TestCipherAESKnownAnswer(t *testing.T) {
	c, _ := NewCipher(spec.OakleyAESCBC, 128)
	key := unhex(t, "2b7e151628aed2a6abf7158809cf4f3c")
	iv := unhex(t, "000102030405060708090a0b0c0d0e0f")
	pt := unhex(t, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
	ct, next := c.Encrypt(key, iv, pt)
	checkHex(t, "ciphertext", ct, "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2")
	checkHex(t, "next IV", next, "5086cb9b507219ee95db113a917678b2")
}

func TestDecryptErrors(t *testing.T) {
	aes, _ := NewCipher(spec.OakleyAESCBC, 128)
	des, _ := NewCipher(spec.Oakley3DESCBC, 0)
	k16, k24 := make([]byte, 16), make([]byte, 24)
	iv16, iv8 := make([]byte, 16), make([]byte, 8)
	cases := []struct {
		name        string
		c           Cipher
		key, iv, ct []byte
	}{
		{"empty", aes, k16, iv16, nil},
		{"short", aes, k16, iv16, make([]byte, 15)},
		{"not a multiple", aes, k16, iv16, make([]byte, 33)},
		{"3des not a multiple", des, k24, iv8, make([]byte, 12)},
		{"wrong key length", aes, k24, iv16, make([]byte, 16)},
		{"wrong IV length", aes, k16, iv8, make([]byte, 16)},
		{"zero cipher", Cipher{}, k16, iv16, make([]byte, 16)},
		{"unknown cipher", Cipher{ID: spec.OakleyCASTCBC, KeyLen: 16, BlockSize: 8}, k16, iv8, make([]byte, 16)},
	}
	for _, tc := range cases {
		if pt, next, err := tc.c.Decrypt(tc.key, tc.iv, tc.ct); err == nil || pt != nil || next != nil {
			t.Errorf("%s: Decrypt = %x, %x, %v; want error", tc.name, pt, next, err)
		}
	}
}

func TestEncryptPanicsOnBadKey(t *testing.T) {
	c, _ := NewCipher(spec.OakleyAESCBC, 256)
	defer func() {
		if recover() == nil {
			t.Error("Encrypt with a 16-byte key for AES-256 did not panic")
		}
	}()
	c.Encrypt(make([]byte, 16), make([]byte, 16), []byte("x"))
}

func TestIVs(t *testing.T) {
	p, _ := NewPRF(spec.OakleySHA1)
	gxi, gxr := []byte("g^xi value"), []byte("g^xr value")
	checkBytes(t, "phase 1 IV", Phase1IV(p, gxi, gxr, 16), p.Digest(gxi, gxr)[:16])
	checkBytes(t, "phase 1 IV 3DES", Phase1IV(p, gxi, gxr, 8), p.Digest(gxi, gxr)[:8])
	last := []byte("0123456789abcdef")
	mid := make([]byte, 4)
	binary.BigEndian.PutUint32(mid, 0xdf41c1a2)
	checkBytes(t, "phase 2 IV", Phase2IV(p, last, 0xdf41c1a2, 16), p.Digest(last, mid)[:16])
	if iv := Phase1IV(p, gxi, gxr, 16); cap(iv) != 16 {
		t.Errorf("IV capacity %d", cap(iv))
	}
}

func TestIVPanicsOnBadBlockSize(t *testing.T) {
	p, _ := NewPRF(spec.OakleyMD5)
	for _, bs := range []int{0, -1, 17} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("block size %d did not panic", bs)
				}
			}()
			Phase2IV(p, nil, 1, bs)
		}()
	}
}
