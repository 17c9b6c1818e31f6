package ikedump

import (
	"bytes"
	"crypto/rsa"
	"encoding/hex"
	"strings"
	"testing"

	"goswan/ikedump/capture"
	"goswan/testvectors"
)

// optionsFor returns the keying inputs that the recorded logs hold for v.
func optionsFor(t *testing.T, v *testvectors.Vector) Options {
	t.Helper()
	opts := Options{GXY: [][]byte{v.Expect.GXY}}
	if v.Auth == "psk" {
		opts.PSK = v.PSK
	} else {
		keys, err := v.PublicKeys()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			opts.PubKeys = append(opts.PubKeys, k)
		}
	}
	for _, q := range v.Expect.QM {
		if q.GXY != nil {
			opts.GXY = append(opts.GXY, q.GXY)
		}
	}
	return opts
}

func packetsOf(v *testvectors.Vector) []capture.Packet {
	var pkts []capture.Packet
	for i, m := range v.Messages {
		pkts = append(pkts, capture.Packet{Index: i, Frame: m.Frame, Src: m.Src, Dst: m.Dst, Data: m.Data})
	}
	return pkts
}

func eqHex(t *testing.T, name string, got *string, want []byte) {
	t.Helper()
	if want == nil {
		return
	}
	if got == nil {
		t.Errorf("%s: not computed, want %x", name, want)
		return
	}
	if *got != hex.EncodeToString(want) {
		t.Errorf("%s = %s, want %x", name, *got, want)
	}
}

func isTrue(t *testing.T, name string, b *bool) {
	t.Helper()
	if b == nil || !*b {
		t.Errorf("%s: not verified (%v)", name, b)
	}
}

// TestRecordedVectors derives every key of every recorded exchange from the
// recorded inputs and compares with what strongSwan logged.
func TestRecordedVectors(t *testing.T) {
	vs, err := testvectors.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			r := Analyze(packetsOf(v), optionsFor(t, v))
			if !r.OK() {
				t.Fatalf("analysis failed:\n%s", strings.Join(r.Steps, "\n"))
			}
			for _, m := range r.Messages {
				if !m.ReencodeEqual || m.Error != "" {
					t.Errorf("message %d: reencode %v error %q", m.Index, m.ReencodeEqual, m.Error)
				}
				if m.Encrypted && !m.Decrypted {
					t.Errorf("message %d (%s): not decrypted", m.Index, m.Exchange)
				}
				if m.Exchange == "INFO" && m.Encrypted {
					isTrue(t, "Informational HASH", m.HashOK)
				}
			}
			p := r.Phase1
			if p == nil {
				t.Fatal("no phase 1")
			}
			e := v.Expect
			if e.SKEYID == nil || e.EncKey == nil || e.IV == nil || e.HashI == nil || len(e.QM) == 0 ||
				e.QM[0].EncKeyIR == nil || e.QM[0].IntegKeyRI == nil {
				t.Fatalf("vector lacks recorded values to compare with: %+v", e)
			}
			eqHex(t, "SKEYID", p.SKEYID, e.SKEYID)
			eqHex(t, "SKEYID_d", p.SKEYIDd, e.SKEYIDd)
			eqHex(t, "SKEYID_a", p.SKEYIDa, e.SKEYIDa)
			eqHex(t, "SKEYID_e", p.SKEYIDe, e.SKEYIDe)
			eqHex(t, "enc key", p.EncKey, e.EncKey)
			eqHex(t, "IV", p.IV, e.IV)
			isTrue(t, "HASH_I", p.HashIOK)
			isTrue(t, "HASH_R", p.HashROK)
			if len(r.Quick) != len(e.QM) {
				t.Fatalf("%d Quick Modes, want %d", len(r.Quick), len(e.QM))
			}
			for i, q := range r.Quick {
				eq := e.QM[i]
				isTrue(t, "HASH(1)", q.Hash1OK)
				isTrue(t, "HASH(2)", q.Hash2OK)
				isTrue(t, "HASH(3)", q.Hash3OK)
				eqHex(t, "spi_i", q.SPIi, eq.SPIi)
				eqHex(t, "spi_r", q.SPIr, eq.SPIr)
				if q.KeymatI == nil || q.KeymatR == nil {
					t.Fatal("KEYMAT not derived")
				}
				// keymat_i keys the SA whose SPI the initiator chose: responder -> initiator.
				wantI := append(append([]byte(nil), eq.EncKeyRI...), eq.IntegKeyRI...)
				wantR := append(append([]byte(nil), eq.EncKeyIR...), eq.IntegKeyIR...)
				eqHex(t, "keymat_i", q.KeymatI, wantI)
				eqHex(t, "keymat_r", q.KeymatR, wantR)
			}
		})
	}
}

// TestWrongPSK: a wrong pre-shared key must show up as a HASH_I failure.
func TestWrongPSK(t *testing.T) {
	v, err := testvectors.Load("ss-ss-aes128-sha1-modp2048")
	if err != nil {
		t.Fatal(err)
	}
	opts := optionsFor(t, v)
	opts.PSK = []byte("not-the-psk")
	r := Analyze(packetsOf(v), opts)
	if r.OK() {
		t.Fatal("analysis with a wrong PSK succeeded")
	}
	if r.Phase1.HashIOK == nil || *r.Phase1.HashIOK {
		t.Errorf("hash_i_ok = %v, want false", r.Phase1.HashIOK)
	}
	first := firstFailure(r)
	if !strings.Contains(first, "HASH_I mismatch") || !strings.Contains(first, "PSK") {
		t.Errorf("first failure %q does not name HASH_I and the PSK", first)
	}
}

// TestTamperedQuickMode: a flipped ciphertext bit in QM2 must fail HASH(2)
// or its decryption, never pass silently.
func TestTamperedQuickMode(t *testing.T) {
	v, err := testvectors.Load("ss-ss-aes128-sha1-modp2048")
	if err != nil {
		t.Fatal(err)
	}
	pkts := packetsOf(v)
	quick := 0
	for i := range pkts {
		if pkts[i].Data[18] != 32 { // exchange type QUICK
			continue
		}
		if quick++; quick == 2 {
			d := bytes.Clone(pkts[i].Data)
			d[len(d)-20] ^= 0x40 // garbles one plaintext block, flips a bit in the next
			pkts[i].Data = d
		}
	}
	r := Analyze(pkts, optionsFor(t, v))
	if r.OK() {
		t.Fatalf("tampered capture verified:\n%s", strings.Join(r.Steps, "\n"))
	}
}

// TestNoKeys: without keys the capture still decodes; nothing is invented.
func TestNoKeys(t *testing.T) {
	v, err := testvectors.Load("ss-lsw-3des-md5-modp1536-pfs")
	if err != nil {
		t.Fatal(err)
	}
	r := Analyze(packetsOf(v), Options{})
	if !r.OK() {
		t.Fatalf("decode-only analysis failed:\n%s", strings.Join(r.Steps, "\n"))
	}
	if r.Phase1 == nil || r.Phase1.SKEYID != nil || r.Phase1.HashIOK != nil {
		t.Errorf("phase1 without keys: %+v", r.Phase1)
	}
	for _, m := range r.Messages {
		if m.Decrypted {
			t.Errorf("message %d decrypted without keys", m.Index)
		}
	}
}

// TestRSAWithoutKeys: signature exchanges derive keys from g^xy alone; the
// signature results are null without --pubkey.
func TestRSAWithoutKeys(t *testing.T) {
	v, err := testvectors.Load("lsw-ss-rsasig-aes128-sha1-modp2048")
	if err != nil {
		t.Fatal(err)
	}
	opts := optionsFor(t, v)
	opts.PubKeys = nil
	r := Analyze(packetsOf(v), opts)
	if !r.OK() {
		t.Fatalf("analysis failed:\n%s", strings.Join(r.Steps, "\n"))
	}
	if r.Phase1.HashIOK != nil || r.Phase1.HashROK != nil {
		t.Errorf("signature results without keys: %v %v", r.Phase1.HashIOK, r.Phase1.HashROK)
	}
	// With the wrong key the signature must fail.
	keys, _ := v.PublicKeys()
	var west *rsa.PublicKey
	for name, k := range keys {
		if name == "west" {
			west = k
		}
	}
	opts.PubKeys = []*rsa.PublicKey{west}
	r = Analyze(packetsOf(v), opts)
	if r.OK() {
		t.Error("both signatures verified with only the initiator's key")
	}
}

func firstFailure(r *Report) string {
	for _, s := range r.Steps {
		if strings.HasPrefix(s, "FAILED") {
			return s
		}
	}
	return ""
}

// TestGarbage: random bytes and truncated messages are reported, not fatal.
func TestGarbage(t *testing.T) {
	pkts := []capture.Packet{
		{Data: []byte{1, 2, 3}},
		{Data: make([]byte, 28)},
		{Data: bytes.Repeat([]byte{0xff}, 100)},
	}
	r := Analyze(pkts, Options{PSK: []byte("x"), GXY: [][]byte{{1}}})
	if r.OK() || len(r.Messages) != 3 {
		t.Fatalf("garbage accepted: %+v", r.Messages)
	}
	for _, m := range r.Messages {
		if m.Error == "" {
			t.Errorf("message %d: no error", m.Index)
		}
	}
}
