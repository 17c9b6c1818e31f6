package oakley

import (
	"testing"

	"goswan/spec"
)

func TestKEYMATFormula(t *testing.T) {
	for _, h := range []spec.OakleyHash{spec.OakleyMD5, spec.OakleySHA1, spec.OakleySHA2512} {
		p, _ := NewPRF(h)
		d := []byte("SKEYID_d")
		spi, ni, nr := []byte{1, 2, 3, 4}, []byte("nonce-i"), []byte("nonce-r")
		for _, gxy := range [][]byte{nil, []byte("qm-gxy")} {
			proto := []byte{byte(spec.ProtoESP)}
			k1 := p.Sum(d, gxy, proto, spi, ni, nr)
			k2 := p.Sum(d, k1, gxy, proto, spi, ni, nr)
			k3 := p.Sum(d, k2, gxy, proto, spi, ni, nr)
			k4 := p.Sum(d, k3, gxy, proto, spi, ni, nr)
			want := append(append(append(append([]byte{}, k1...), k2...), k3...), k4...)
			for _, n := range []int{1, 16, p.Size(), p.Size() + 1, 40, 64, 3*p.Size() + 1} {
				got := KEYMAT(p, d, gxy, spec.ProtoESP, spi, ni, nr, n)
				if len(got) != n || cap(got) != n {
					t.Fatalf("%v: len %d cap %d, want %d", h, len(got), cap(got), n)
				}
				checkBytes(t, h.String(), got, want[:n])
			}
		}
		if k := KEYMAT(p, d, nil, spec.ProtoAH, nil, nil, nil, 0); len(k) != 0 {
			t.Errorf("length 0 gave %x", k)
		}
	}
}

func TestESPKeyLen(t *testing.T) {
	good := []struct {
		t    spec.TransformID
		bits int
		want int
	}{
		{spec.ESP3DES, 0, 24}, {spec.ESP3DES, 192, 24},
		{spec.ESPAES, 0, 16}, {spec.ESPAES, 128, 16}, {spec.ESPAES, 192, 24}, {spec.ESPAES, 256, 32},
		{spec.ESPAESCTR, 0, 20}, {spec.ESPAESCTR, 256, 36},
		{spec.ESPAESGCM8, 128, 20}, {spec.ESPAESGCM12, 192, 28}, {spec.ESPAESGCM16, 256, 36},
		{spec.ESPAESCCM8, 128, 19}, {spec.ESPAESCCM16, 256, 35},
		{spec.ESPNullAuthAESGMAC, 128, 20},
		{spec.ESPCamellia, 0, 16}, {spec.ESPCamellia, 256, 32},
		{spec.ESPNull, 0, 0},
	}
	for _, tc := range good {
		if got, err := ESPKeyLen(tc.t, tc.bits); err != nil || got != tc.want {
			t.Errorf("ESPKeyLen(%s, %d) = %d, %v; want %d", spec.TransformName(spec.ProtoESP, tc.t), tc.bits, got, err, tc.want)
		}
	}
	bad := []struct {
		t    spec.TransformID
		bits int
	}{
		{spec.ESP3DES, 128}, {spec.ESPAES, 64}, {spec.ESPAES, 512}, {spec.ESPAES, 136}, {spec.ESPAES, -1},
		{spec.ESPAESGCM16, 160}, {spec.ESPAESCTR, 100}, {spec.ESPNull, 128},
		{spec.ESPDES, 0}, {spec.ESPDESIV64, 0}, {spec.ESPBlowfish, 128}, {spec.ESPRC4, 0}, {0, 0}, {255, 128},
	}
	for _, tc := range bad {
		if got, err := ESPKeyLen(tc.t, tc.bits); err == nil {
			t.Errorf("ESPKeyLen(%d, %d) = %d, want error", tc.t, tc.bits, got)
		}
	}
}

func TestAuthKeyLen(t *testing.T) {
	for a, want := range map[spec.AuthAlgorithm]int{
		spec.AuthAlgNone: 0, spec.AuthAlgHMACMD5: 16, spec.AuthAlgHMACSHA1: 20,
		spec.AuthAlgHMACSHA2256: 32, spec.AuthAlgHMACSHA2384: 48, spec.AuthAlgHMACSHA2512: 64,
		spec.AuthAlgAESXCBC: 16, spec.AuthAlgAES128GMAC: 20, spec.AuthAlgAES256GMAC: 36,
	} {
		if got, err := AuthKeyLen(a); err != nil || got != want {
			t.Errorf("AuthKeyLen(%v) = %d, %v; want %d", a, got, err, want)
		}
	}
	for _, a := range []spec.AuthAlgorithm{spec.AuthAlgDESMAC, spec.AuthAlgKPDK, spec.AuthAlgHMACRIPEMD, spec.AuthAlgSigRSA, 99} {
		if _, err := AuthKeyLen(a); err == nil {
			t.Errorf("AuthKeyLen(%v) succeeded", a)
		}
	}
}

func TestAuthHashFormulas(t *testing.T) {
	p, _ := NewPRF(spec.OakleySHA2256)
	k := []byte("key")
	gi, gr, ci, cr, sa, id := []byte("gi"), []byte("gr"), []byte("ci"), []byte("cr"), []byte("sa"), []byte("id")
	checkBytes(t, "HASH_I", HashI(p, k, gi, gr, ci, cr, sa, id), p.Sum(k, []byte("gigrcicrsaid")))
	checkBytes(t, "HASH_R", HashR(p, k, gi, gr, ci, cr, sa, id), p.Sum(k, []byte("grgicrcisaid")))
	mid := []byte{0x12, 0x34, 0x56, 0x78}
	checkBytes(t, "HASH(1)", QuickHash1(p, k, 0x12345678, []byte("rest")), p.Sum(k, mid, []byte("rest")))
	checkBytes(t, "Info HASH(1)", InfoHash(p, k, 0x12345678, []byte("rest")), p.Sum(k, mid, []byte("rest")))
	checkBytes(t, "HASH(2)", QuickHash2(p, k, 0x12345678, []byte("ni"), []byte("rest")), p.Sum(k, mid, []byte("nirest")))
	checkBytes(t, "HASH(3)", QuickHash3(p, k, 0x12345678, []byte("ni"), []byte("nr")), p.Sum(k, []byte{0}, mid, []byte("ninr")))
}
