package secrets

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkKey verifies that got is want and usable for signing.
func checkKey(t *testing.T, what string, got, want *rsa.PrivateKey) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Fatalf("%s: wrong key", what)
	}
	if got.Precomputed.Dp == nil || got.Precomputed.Qinv == nil {
		t.Errorf("%s: key not precomputed", what)
	}
	h := sha1.Sum([]byte("hash"))
	sig, err := rsa.SignPKCS1v15(nil, got, crypto.SHA1, h[:])
	if err != nil {
		t.Fatalf("%s: sign: %v", what, err)
	}
	if err := rsa.VerifyPKCS1v15(&want.PublicKey, crypto.SHA1, h[:], sig); err != nil {
		t.Errorf("%s: verify: %v", what, err)
	}
}

// The RSA { } block format, from keys generated here (ipsec newhostkey
// style: 0s base64, and 0x hex).
func TestRSABlock(t *testing.T) {
	k0, k1 := testKey(t, 0), testKey(t, 1)
	text := "# generated\n" + rsaBlock(k0, "@west 192.0.2.1 ", false) + rsaBlock(k1, "", true)
	st := mustParse(t, text)
	if st.Len() != 2 {
		t.Fatalf("Len = %d", st.Len())
	}
	s0, s1 := st.Secrets()[0], st.Secrets()[1]
	if s0.Kind != RSA || s0.Line != 2 || strings.Join(s0.IDs, " ") != "@west 192.0.2.1" || s1.Line != 18 || len(s1.IDs) != 0 {
		t.Errorf("secrets: %v / %v", s0, s1)
	}
	checkKey(t, "0s block", s0.RSA, k0)
	checkKey(t, "0x block", s1.RSA, k1)
	if k, ok := st.RSAKey("@west"); !ok || !k.Equal(k0) {
		t.Error("RSAKey(@west)")
	}
	if k, ok := st.RSAKey("192.0.2.1"); !ok || !k.Equal(k0) {
		t.Error("RSAKey(192.0.2.1)")
	}
	if k, ok := st.RSAKey("@east"); !ok || !k.Equal(k1) {
		t.Error("RSAKey(@east) is not the default key")
	}

	// Variations pluto accepts: lower-case names, no colon, a separate
	// colon, the brace on its own line, values on the next line.
	variant := rsaBlock(k0, "@west", false)
	variant = strings.Replace(variant, "RSA\t{", "rsa\n\t{", 1)
	variant = strings.Replace(variant, "Modulus:", "modulus", 1)
	variant = strings.Replace(variant, "PublicExponent:", "PUBLICEXPONENT :", 1)
	variant = strings.Replace(variant, "Prime1: ", "Prime1:\n\t\t", 1)
	checkKey(t, "variant", mustParse(t, variant).Secrets()[0].RSA, k0)
}

// RSA key files: the recorded libreswan west key (PKCS#8 PEM), and PKCS#1 /
// PKCS#8, PEM / DER files of a generated key; relative to IPsecDir/private or
// absolute; quoted names; passphrases.
func TestRSAFile(t *testing.T) {
	k1 := testKey(t, 1)
	dir := t.TempDir()
	ipsecd := filepath.Join(dir, "ipsec.d")
	pkcs1 := x509.MarshalPKCS1PrivateKey(k1)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"ipsec.d/private/west.key":   westKeyPEM(t),
		"ipsec.d/private/k1.pem":     string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1})),
		"ipsec.d/private/k1.der":     string(pkcs1),
		"ipsec.d/private/k1 p8.der":  string(pkcs8),
		"elsewhere/k1-with-text.pem": "Bag Attributes\n    friendlyName: k1\n" + string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		"ipsec.secrets": `
192.0.2.1 @west : RSA west.key
@k1pem : RSA "k1.pem" "an ignored passphrase"
@k1der : rsa k1.der %prompt
@k1p8 : RSA 'k1 p8.der'
@k1text : RSA ` + filepath.Join(dir, "elsewhere/k1-with-text.pem") + `
`,
	})
	st, err := Load(filepath.Join(dir, "ipsec.secrets"), Options{IPsecDir: ipsecd})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"@k1pem", "@k1der", "@k1p8", "@k1text"} {
		k, ok := st.RSAKey(id)
		if !ok {
			t.Fatalf("RSAKey(%s) not found", id)
		}
		checkKey(t, id, k, k1)
	}

	// The recorded west key is the one whose public half libreswan put in
	// leftrsasigkey= (west.rsasigkey).
	west, ok := st.RSAKey("192.0.2.1")
	if !ok {
		t.Fatal("west key not found")
	}
	if k, _ := st.RSAKey("@west"); k != west {
		t.Error("@west and 192.0.2.1 give different keys")
	}
	sigkey, err := os.ReadFile("testdata/west.rsasigkey")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := "0s"+base64.StdEncoding.EncodeToString(RFC3110(&west.PublicKey)), strings.TrimSpace(string(sigkey)); got != want {
		t.Errorf("west public key\n got %s\nwant %s", got, want)
	}
	if got := KeyID(&west.PublicKey); got != "AwEAAcR4d" {
		t.Errorf("KeyID = %s", got)
	}
	if s := st.Secrets()[0].String(); !strings.HasSuffix(s, ":2: 192.0.2.1 @west : RSA {...} (2048 bits, keyid AwEAAcR4d)") {
		t.Errorf("String = %s", s)
	}
}

func TestRSAFileErrors(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	west := westKeyPEM(t)
	files := memFS{
		"/etc/ipsec.d/private/legacy-enc.pem": strings.Replace(strings.Replace(west, "BEGIN PRIVATE KEY-----\n", "BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n", 1), "END PRIVATE KEY", "END RSA PRIVATE KEY", 1),
		"/etc/ipsec.d/private/pkcs8-enc.pem":  "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----\n",
		"/etc/ipsec.d/private/ec.der":         string(ecDER),
		"/etc/ipsec.d/private/ec.pem":         string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})),
		"/etc/ipsec.d/private/cert.pem":       "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"/etc/ipsec.d/private/broken.pem":     "-----BEGIN PRIVATE KEY-----\nnot base64\n",
		"/etc/ipsec.d/private/garbage.pem":    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	}
	for _, tc := range []struct{ file, want string }{
		{"legacy-enc.pem", "is encrypted"},
		{"pkcs8-enc.pem %prompt", "is encrypted"},
		{"ec.der", "neither a PEM nor a DER RSA private key"},
		{"ec.pem", "not an RSA key (*ecdsa.PrivateKey)"},
		{"cert.pem", `PEM block "CERTIFICATE" is not an RSA private key`},
		{"broken.pem", "malformed PEM"},
		{"garbage.pem", "malformed PKCS#8 private key"},
		{"nope.pem", "/etc/ipsec.d/private/nope.pem: open: file does not exist"},
	} {
		files["/etc/ipsec.secrets"] = "# c\n@west : RSA " + tc.file + "\n"
		_, err := parseMem(t, files)
		pe := asParseError(t, err)
		if pe.Line != 2 || !strings.Contains(pe.Msg, tc.want) {
			t.Errorf("%s: %v, want %q", tc.file, err, tc.want)
		}
		if strings.Contains(tc.want, "encrypted") && !errors.Is(err, ErrEncryptedKey) {
			t.Errorf("%s: %v is not ErrEncryptedKey", tc.file, err)
		}
	}
}
