package oakley

import (
	"testing"

	"goswan/spec"
)

// IKEv1 KDF vectors of the NIST CAVP / ACVP "kdf-components ikev1" test
// (SHA-1, pre-shared key and digital signature variants).
func TestKDFNIST(t *testing.T) {
	p, err := NewPRF(spec.OakleySHA1)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("PSK", func(t *testing.T) {
		ckyI, ckyR := unhex(t, "83d374c30b3b5082"), unhex(t, "5afc0da06c728029")
		ni, nr := unhex(t, "b9a2d0e922dc66dd"), unhex(t, "2130166863b5ddef")
		gxy := unhex(t, "739003ba2c11c982946c65e26acf661fbf8ebb78011a9fead79efa12fe3e71cc")
		psk := unhex(t, "75")
		skeyid := SKEYIDPSK(p, psk, ni, nr)
		checkHex(t, "SKEYID", skeyid, "62b04d112877e442fc3282fc37c076997718a0b9")
		ks := DeriveKeySet(p, skeyid, gxy, ckyI, ckyR)
		checkHex(t, "SKEYID", ks.SKEYID, "62b04d112877e442fc3282fc37c076997718a0b9")
		checkHex(t, "SKEYID_d", ks.D, "369e5aad1bdb5faf6a3d929d500cdc236710a9ab")
		checkHex(t, "SKEYID_a", ks.A, "588e957d8d790d093b3a39f121473473af78e9bb")
		checkHex(t, "SKEYID_e", ks.E, "cd74b0c048219db81384d3fda8f6cda51e398a2b")
	})
	t.Run("DSA", func(t *testing.T) {
		ckyI, ckyR := unhex(t, "8c3bcd3a69831d7f"), unhex(t, "d2d9a7ff4fbe95a7")
		ni, nr := unhex(t, "69a62284195f1680"), unhex(t, "80c94ba25c8abda5")
		gxy := unhex(t, "8ba4cbc73c0187301dc19a975823854dbd641c597f637f8d053a83b9514673eb")
		skeyid := SKEYIDSig(p, ni, nr, gxy)
		checkHex(t, "SKEYID", skeyid, "707197817fb2d90cf54d1842606bdea59b9f4823")
		ks := DeriveKeySet(p, skeyid, gxy, ckyI, ckyR)
		checkHex(t, "SKEYID_d", ks.D, "384be709a8a5e63c3ed160cfe3921c4b37d5b32d")
		checkHex(t, "SKEYID_a", ks.A, "48b327575abe3adba0f279849e289022a13e2b47")
		checkHex(t, "SKEYID_e", ks.E, "a4a415c8e0c38c0da847c356cc61c24df8025560")
	})
}

// DeriveKeySet must match the RFC 2409 §5 formulas computed with Sum, for
// every hash, and its slices must not overlap.
func TestDeriveKeySetFormula(t *testing.T) {
	skeyid := []byte("0123456789abcdefghij")
	gxy := make([]byte, 256)
	for i := range gxy {
		gxy[i] = byte(i * 7)
	}
	ci, cr := []byte("cookie-i"), []byte("cookie-r")
	for _, h := range []spec.OakleyHash{spec.OakleyMD5, spec.OakleySHA1, spec.OakleySHA2256, spec.OakleySHA2384, spec.OakleySHA2512} {
		p, _ := NewPRF(h)
		ks := DeriveKeySet(p, skeyid, gxy, ci, cr)
		d := p.Sum(skeyid, gxy, ci, cr, []byte{0})
		a := p.Sum(skeyid, d, gxy, ci, cr, []byte{1})
		e := p.Sum(skeyid, a, gxy, ci, cr, []byte{2})
		checkBytes(t, h.String()+" SKEYID", ks.SKEYID, skeyid)
		checkBytes(t, h.String()+" d", ks.D, d)
		checkBytes(t, h.String()+" a", ks.A, a)
		checkBytes(t, h.String()+" e", ks.E, e)
		for _, s := range [][]byte{ks.SKEYID, ks.D, ks.A, ks.E} {
			if cap(s) != len(s) {
				t.Errorf("%v: slice capacity %d > length %d", h, cap(s), len(s))
			}
		}
		ks.SKEYID[0] ^= 1 // our copy, not the caller's
		if skeyid[0] != '0' {
			t.Fatal("DeriveKeySet aliases its skeyid argument")
		}
		e0 := ks.E
		ks.Zero()
		if ks.E != nil || ks.D != nil {
			t.Error("Zero left slices")
		}
		for _, b := range e0 {
			if b != 0 {
				t.Fatal("Zero did not overwrite SKEYID_e")
			}
		}
	}
}

func TestSKEYIDFormulas(t *testing.T) {
	p, _ := NewPRF(spec.OakleySHA2256)
	ni, nr, gxy, psk := []byte("nonce-i"), []byte("nonce-r-"), []byte("gxy"), []byte("secret")
	checkBytes(t, "psk", SKEYIDPSK(p, psk, ni, nr), p.Sum(psk, []byte("nonce-inonce-r-")))
	checkBytes(t, "sig", SKEYIDSig(p, ni, nr, gxy), p.Sum([]byte("nonce-inonce-r-"), gxy))
}

// EncryptionKey: truncation when SKEYID_e is long enough, RFC 2409
// Appendix B expansion otherwise.
func TestEncryptionKey(t *testing.T) {
	p, _ := NewPRF(spec.OakleyMD5)
	e := []byte("0123456789abcdef") // 16 bytes, MD5-sized
	checkBytes(t, "truncate", EncryptionKey(p, e, 16), e)
	checkBytes(t, "truncate short", EncryptionKey(p, e, 8), e[:8])
	k1 := p.Sum(e, []byte{0})
	k2 := p.Sum(e, k1)
	k3 := p.Sum(e, k2)
	want := append(append(append([]byte{}, k1...), k2...), k3...)
	for _, n := range []int{17, 24, 32, 33, 48} {
		checkBytes(t, "expand", EncryptionKey(p, e, n), want[:n])
	}
	if k := EncryptionKey(p, e, 0); len(k) != 0 {
		t.Errorf("keyLen 0 gave %x", k)
	}
	// The result never aliases SKEYID_e.
	k := EncryptionKey(p, e, 16)
	k[0] ^= 1
	if e[0] != '0' {
		t.Error("EncryptionKey aliases SKEYID_e")
	}
}
