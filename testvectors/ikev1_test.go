package testvectors

// A deliberately small, independent IKEv1 (RFC 2409) key schedule, used only
// to check that the recorded values are consistent with each other and with
// the messages, and that every label is mapped to the right field.

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash"
	"strings"
	"testing"
)

// suite describes the negotiated algorithms (the same for IKE and ESP in
// every recorded vector).
type suite struct {
	hash     func() hash.Hash
	prfLen   int // also the ESP integrity key length (HMAC-MD5-96 16, HMAC-SHA1-96 20)
	keyLen   int
	blockLen int
	block    func([]byte) (cipher.Block, error)
	dhLen    int
}

func suiteOf(t *testing.T, v *Vector) suite {
	t.Helper()
	parts := strings.Split(v.Params["proposals"], "-")
	if len(parts) != 3 {
		t.Fatalf("proposals=%q", v.Params["proposals"])
	}
	var s suite
	switch parts[0] {
	case "aes128":
		s.keyLen, s.blockLen, s.block = 16, aes.BlockSize, aes.NewCipher
	case "3des":
		s.keyLen, s.blockLen, s.block = 24, des.BlockSize, des.NewTripleDESCipher
	default:
		t.Fatalf("cipher %q", parts[0])
	}
	switch parts[1] {
	case "md5":
		s.hash, s.prfLen = md5.New, md5.Size
	case "sha1":
		s.hash, s.prfLen = sha1.New, sha1.Size
	default:
		t.Fatalf("hash %q", parts[1])
	}
	switch parts[2] {
	case "modp1024":
		s.dhLen = 128
	case "modp1536":
		s.dhLen = 192
	case "modp2048":
		s.dhLen = 256
	default:
		t.Fatalf("group %q", parts[2])
	}
	return s
}

func (s suite) prf(key []byte, data ...[]byte) []byte {
	m := hmac.New(s.hash, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func (s suite) digest(data ...[]byte) []byte {
	h := s.hash()
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

// expand is RFC 2409 Appendix B (phase-1 key) and §5.5 (KEYMAT):
// K1 = prf(key, seed0 | seed), Kn = prf(key, Kn-1 | seed).
func (s suite) expand(key, seed []byte, n int, firstChain []byte) []byte {
	var out, k []byte
	k = firstChain
	for len(out) < n {
		k = s.prf(key, k, seed)
		out = append(out, k...)
	}
	return out[:n]
}

// payload is one payload of a plaintext chain.
type payload struct {
	typ        uint8
	body       []byte
	start, end int // offsets of the whole payload in the walked buffer
}

// walk follows a payload chain that starts with type first at b[0]; it
// returns the payloads and the end of the chain (what follows is padding).
func walk(first uint8, b []byte) ([]payload, int, error) {
	var ps []payload
	next, off := first, 0
	for next != 0 {
		if off+4 > len(b) {
			return nil, 0, fmt.Errorf("chain overruns at offset %d", off)
		}
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n < 4 || off+n > len(b) {
			return nil, 0, fmt.Errorf("payload %d at %d: bad length %d", next, off, n)
		}
		ps = append(ps, payload{typ: next, body: b[off+4 : off+n], start: off, end: off + n})
		next, off = b[off], off+n
	}
	return ps, off, nil
}

func find(ps []payload, typ uint8) *payload {
	for i := range ps {
		if ps[i].typ == typ {
			return &ps[i]
		}
	}
	return nil
}

// decrypt CBC-decrypts the body of an encrypted message with iv and returns
// the plaintext and the IV for the next message in the chain.
func (s suite) decrypt(t *testing.T, key, iv, msg []byte) (pt, next []byte) {
	t.Helper()
	ct := msg[hdrLen:]
	if len(ct) == 0 || len(ct)%s.blockLen != 0 {
		t.Fatalf("ciphertext of %d octets", len(ct))
	}
	blk, err := s.block(key)
	if err != nil {
		t.Fatal(err)
	}
	pt = make([]byte, len(ct))
	cipher.NewCBCDecrypter(blk, iv).CryptBlocks(pt, ct)
	return pt, bytes.Clone(ct[len(ct)-s.blockLen:])
}

// Payload types (RFC 2408 §3.1).
const (
	ptSA    = 1
	ptKE    = 4
	ptID    = 5
	ptHash  = 8
	ptSig   = 9
	ptNonce = 10
)

// phase1 re-derives the phase-1 keys and decrypts Main Mode messages 5 and
// 6; it returns the phase-1 IV that seeds the Quick Mode IVs.
func checkPhase1(t *testing.T, v *Vector, s suite) (p1IV []byte) {
	t.Helper()
	e := v.Expect
	nonces := append(bytes.Clone(e.Ni), e.Nr...)
	var skeyid []byte
	if v.Auth == "psk" {
		skeyid = s.prf(v.PSK, nonces) // RFC 2409 §5: pre-shared keys
	} else {
		skeyid = s.prf(nonces, e.GXY) // signatures
	}
	eq(t, "SKEYID", skeyid, e.SKEYID)
	cookies := append(bytes.Clone(e.CkyI), e.CkyR...)
	d := s.prf(skeyid, e.GXY, cookies, []byte{0})
	a := s.prf(skeyid, d, e.GXY, cookies, []byte{1})
	ee := s.prf(skeyid, a, e.GXY, cookies, []byte{2})
	eq(t, "SKEYID_d", d, e.SKEYIDd)
	eq(t, "SKEYID_a", a, e.SKEYIDa)
	eq(t, "SKEYID_e", ee, e.SKEYIDe)
	enc := ee
	if len(enc) < s.keyLen {
		enc = s.expand(ee, nil, s.keyLen, []byte{0}) // Appendix B: K1 = prf(SKEYID_e, 0)
	}
	eq(t, "encryption key", enc[:s.keyLen], e.EncKey)
	eq(t, "initial IV", s.digest(e.GXi, e.GXr)[:s.blockLen], e.IV)

	// SAi_b: the body of the SA payload of message 1.
	b1, err := payloadBodies(v.Messages[0].Data)
	if err != nil || b1[ptSA] == nil {
		t.Fatalf("message 1: no SA payload (%v)", err)
	}
	sai := b1[ptSA]

	// Main Mode messages 5 and 6: the first two encrypted ID_PROT messages.
	var mm []Message
	for _, m := range v.Messages {
		if m.Data[18] == exchIDProt && m.Data[19]&flagEncrypted != 0 {
			mm = append(mm, m)
		}
	}
	if len(mm) != 2 {
		t.Fatalf("%d encrypted Main Mode messages, want 2", len(mm))
	}
	iv := e.IV
	var keys map[string]*rsa.PublicKey
	if v.Auth == "rsa" {
		if keys, err = v.PublicKeys(); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range mm {
		var pt []byte
		pt, iv = s.decrypt(t, e.EncKey, iv, m.Data)
		ps, _, err := walk(m.Data[16], pt)
		if err != nil {
			t.Fatalf("MM%d: %v", 5+i, err)
		}
		id := find(ps, ptID)
		if id == nil {
			t.Fatalf("MM%d: no ID payload", 5+i)
		}
		var want, computed []byte
		if i == 0 {
			want = e.HashI
			computed = s.prf(skeyid, e.GXi, e.GXr, e.CkyI, e.CkyR, sai, id.body)
		} else {
			want = e.HashR
			computed = s.prf(skeyid, e.GXr, e.GXi, e.CkyR, e.CkyI, sai, id.body)
		}
		eq(t, fmt.Sprintf("HASH_%c recomputed", "IR"[i]), computed, want)
		if v.Auth == "psk" {
			h := find(ps, ptHash)
			if h == nil {
				t.Fatalf("MM%d: no HASH payload", 5+i)
			}
			eq(t, fmt.Sprintf("MM%d HASH payload", 5+i), h.body, want)
		} else {
			sig := find(ps, ptSig)
			if sig == nil {
				t.Fatalf("MM%d: no SIG payload", 5+i)
			}
			host := v.hostOf(m.Src.Addr())
			if keys[host] == nil {
				t.Fatalf("MM%d: no public key for %q (%v)", 5+i, host, m.Src)
			}
			// RFC 2409 §5.1: PKCS #1 type 1 over the bare HASH, no DigestInfo.
			if err := rsa.VerifyPKCS1v15(keys[host], crypto.Hash(0), want, sig.body); err != nil {
				t.Errorf("MM%d: signature by %s over HASH_%c: %v", 5+i, host, "IR"[i], err)
			}
		}
	}
	return iv
}

// checkQuick decrypts the Quick Mode messages and checks HASH(1..3), the
// SPIs in the SA payloads, the KEYMAT seeds and KEYMAT.
func checkQuick(t *testing.T, v *Vector, s suite, p1IV []byte) {
	t.Helper()
	e := v.Expect
	for qi, q := range e.QM {
		mid := binary.BigEndian.AppendUint32(nil, q.MsgID)
		var qm []Message
		for _, m := range v.Messages {
			if m.Data[18] == exchQuick && bytes.Equal(m.Data[20:24], mid) {
				qm = append(qm, m)
			}
		}
		if len(qm) != 3 {
			t.Fatalf("QM %d: %d messages, want 3", qi, len(qm))
		}
		iv := s.digest(p1IV, mid)[:s.blockLen] // RFC 2409 Appendix B
		var pts [3][]payload
		var rest [3][]byte
		for i, m := range qm {
			var pt []byte
			pt, iv = s.decrypt(t, e.EncKey, iv, m.Data)
			ps, end, err := walk(m.Data[16], pt)
			if err != nil {
				t.Fatalf("QM%d: %v", i+1, err)
			}
			if len(ps) == 0 || ps[0].typ != ptHash {
				t.Fatalf("QM%d: does not start with HASH", i+1)
			}
			pts[i], rest[i] = ps, pt[ps[0].end:end]
		}
		ni, nr := find(pts[0], ptNonce), find(pts[1], ptNonce)
		if ni == nil || nr == nil {
			t.Fatal("QM1/QM2 without nonce")
		}
		eq(t, "QM1 HASH(1) payload", pts[0][0].body, q.Hash1)
		eq(t, "QM2 HASH(2) payload", pts[1][0].body, q.Hash2)
		eq(t, "QM3 HASH(3) payload", pts[2][0].body, q.Hash3)
		eq(t, "HASH(1) recomputed", s.prf(e.SKEYIDa, mid, rest[0]), q.Hash1)
		eq(t, "HASH(2) recomputed", s.prf(e.SKEYIDa, mid, ni.body, rest[1]), q.Hash2)
		eq(t, "HASH(3) recomputed", s.prf(e.SKEYIDa, []byte{0}, mid, ni.body, nr.body), q.Hash3)

		for i, want := range []bool{v.PFS, v.PFS, false} {
			if got := find(pts[i], ptKE) != nil; got != want {
				t.Errorf("QM%d has KE: %v, want %v (PFS %v)", i+1, got, want, v.PFS)
			}
		}

		// The SPI in each side's proposal is the one that side chose.
		for i, want := range [][]byte{q.SPIi, q.SPIr} {
			sa := find(pts[i], ptSA)
			if sa == nil || len(sa.body) < 16 {
				t.Fatalf("QM%d: no SA payload", i+1)
			}
			prop := sa.body[8:] // after DOI and situation
			spiSize := int(prop[6])
			if prop[5] != q.Protocol || len(prop) < 8+spiSize {
				t.Fatalf("QM%d: proposal protocol %d, SPI size %d", i+1, prop[5], spiSize)
			}
			eq(t, fmt.Sprintf("QM%d proposal SPI", i+1), prop[8:8+spiSize], want)
		}

		// KEYMAT = prf+(SKEYID_d, [g^xy |] protocol | SPI | Ni_b | Nr_b).
		for _, dir := range []struct {
			name       string
			spi        []byte
			seed       []byte
			enc, integ []byte
		}{
			{"initiator->responder", q.SPIr, q.SeedIR, q.EncKeyIR, q.IntegKeyIR},
			{"responder->initiator", q.SPIi, q.SeedRI, q.EncKeyRI, q.IntegKeyRI},
		} {
			seed := append(bytes.Clone(q.GXY), q.Protocol)
			seed = append(seed, dir.spi...)
			seed = append(seed, ni.body...)
			seed = append(seed, nr.body...)
			eq(t, "KEYMAT seed "+dir.name, seed, dir.seed)
			km := s.expand(e.SKEYIDd, seed, s.keyLen+s.prfLen, nil)
			eq(t, "ESP encryption key "+dir.name, km[:s.keyLen], dir.enc)
			eq(t, "ESP integrity key "+dir.name, km[s.keyLen:], dir.integ)
		}
	}
}

func eq(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if want == nil {
		t.Errorf("%s: expected value is nil", what)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %x\nwant %x", what, got, want)
	}
}
