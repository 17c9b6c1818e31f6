package oakley

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"testing"

	"goswan/spec"
)

// HMAC known answers through PRF.Sum: RFC 2202 §2 (HMAC-MD5) and §3
// (HMAC-SHA-1), RFC 4231 §4.2, §4.3, §4.4, §4.7 (HMAC-SHA-2).
func TestPRFKnownAnswers(t *testing.T) {
	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	const big = "Test Using Larger Than Block-Size Key - Hash Key First"
	tests := []struct {
		name string
		hash spec.OakleyHash
		key  []byte
		data []byte
		want string
	}{
		{"RFC2202 MD5 1", spec.OakleyMD5, rep(0x0b, 16), []byte("Hi There"), "9294727a3638bb1c13f48ef8158bfc9d"},
		{"RFC2202 MD5 2", spec.OakleyMD5, []byte("Jefe"), []byte("what do ya want for nothing?"), "750c783e6ab0b503eaa86e310a5db738"},
		{"RFC2202 MD5 3", spec.OakleyMD5, rep(0xaa, 16), rep(0xdd, 50), "56be34521d144c88dbb8c733f0e8b3f6"},
		{"RFC2202 MD5 6", spec.OakleyMD5, rep(0xaa, 80), []byte(big), "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
		{"RFC2202 SHA1 1", spec.OakleySHA1, rep(0x0b, 20), []byte("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"},
		{"RFC2202 SHA1 2", spec.OakleySHA1, []byte("Jefe"), []byte("what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{"RFC2202 SHA1 3", spec.OakleySHA1, rep(0xaa, 20), rep(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
		{"RFC2202 SHA1 6", spec.OakleySHA1, rep(0xaa, 80), []byte(big), "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
		{"RFC4231 SHA256 1", spec.OakleySHA2256, rep(0x0b, 20), []byte("Hi There"),
			"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"RFC4231 SHA256 2", spec.OakleySHA2256, []byte("Jefe"), []byte("what do ya want for nothing?"),
			"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"RFC4231 SHA256 3", spec.OakleySHA2256, rep(0xaa, 20), rep(0xdd, 50),
			"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{"RFC4231 SHA256 6", spec.OakleySHA2256, rep(0xaa, 131), []byte("Test Using Larger Than Block-Size Key - Hash Key First"),
			"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{"RFC4231 SHA384 1", spec.OakleySHA2384, rep(0x0b, 20), []byte("Hi There"),
			"afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
		{"RFC4231 SHA384 2", spec.OakleySHA2384, []byte("Jefe"), []byte("what do ya want for nothing?"),
			"af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
		{"RFC4231 SHA512 1", spec.OakleySHA2512, rep(0x0b, 20), []byte("Hi There"),
			"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
		{"RFC4231 SHA512 2", spec.OakleySHA2512, []byte("Jefe"), []byte("what do ya want for nothing?"),
			"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPRF(tc.hash)
			if err != nil {
				t.Fatal(err)
			}
			if p.Hash() != tc.hash {
				t.Errorf("Hash() = %v", p.Hash())
			}
			got := p.Sum(tc.key, tc.data)
			if len(got) != p.Size() {
				t.Errorf("len %d, Size %d", len(got), p.Size())
			}
			checkHex(t, "Sum", got, tc.want)
			// The data may be split anywhere.
			h := len(tc.data) / 3
			checkHex(t, "Sum split", p.Sum(tc.key, tc.data[:h], nil, tc.data[h:]), tc.want)
		})
	}
}

func TestPRFSizesAndErrors(t *testing.T) {
	for h, size := range map[spec.OakleyHash]int{
		spec.OakleyMD5: 16, spec.OakleySHA1: 20, spec.OakleySHA2256: 32, spec.OakleySHA2384: 48, spec.OakleySHA2512: 64,
	} {
		p, err := NewPRF(h)
		if err != nil || p.Size() != size {
			t.Errorf("%v: size %d err %v", h, p.Size(), err)
		}
	}
	for _, h := range []spec.OakleyHash{0, spec.OakleyTiger, 7, 65001} {
		if _, err := NewPRF(h); err == nil {
			t.Errorf("NewPRF(%v) succeeded", h)
		}
	}
}

func TestDigest(t *testing.T) {
	p, _ := NewPRF(spec.OakleyMD5)
	want := md5.Sum([]byte("abcdef"))
	checkBytes(t, "md5", p.Digest([]byte("abc"), []byte("def")), want[:])
	p, _ = NewPRF(spec.OakleySHA2256)
	want2 := sha256.Sum256(nil)
	checkBytes(t, "sha256 empty", p.Digest(), want2[:])
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "", true}, {"a", "a", true}, {"a", "b", false}, {"ab", "a", false}, {"", "a", false},
	} {
		if got := Equal([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
	if !Equal(nil, []byte{}) {
		t.Error("nil and empty should be equal")
	}
}
