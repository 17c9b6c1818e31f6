package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The test PKI, built once with crypto/x509:
//
//	root  "C=CH, O=Linux strongSwan, CN=strongSwan Root CA"  (self-signed)
//	├── inter "C=CH, O=Linux strongSwan, OU=Intermediate, CN=strongSwan Intermediate CA"
//	│   ├── east  (SAN east.example, 192.0.2.2, 2001:db8::2)
//	│   └── dave  (revoked by inter's CRL)
//	├── old   "C=CH, O=Linux strongSwan, CN=Old Intermediate CA" (expired)
//	│   └── frank
//	├── west  RSA 2048 (SAN west.example, west@example.org, 192.0.2.1)
//	│   └── eve   (west is no CA)
//	├── carol (revoked by root's CRL, keyCompromise)
//	├── expired, notyet
//	rogue "C=XX, O=Rogue, CN=Rogue CA" (never loaded)
//	├── mallory
//	└── forged: issuer name of root, signed by rogue's key
type testPKI struct {
	now                                                           time.Time
	root, inter, old, rogue                                       *x509.Certificate
	rootKey, interKey, rogueKey                                   crypto.Signer
	west, east, carol, dave, frank, eve, expired, notyet, mallory *x509.Certificate
	forged, plain                                                 *x509.Certificate
	rootCRL, interCRL, rootCRLNewer, rogueCRL, forgedCRL          []byte // DER
}

var (
	pkiOnce sync.Once
	pkiVal  *testPKI
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func getPKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() { pkiVal = buildPKI() })
	if pkiVal == nil {
		t.Fatal("building the test PKI failed")
	}
	return pkiVal
}

type certSpec struct {
	dn        string
	serial    int64
	ca        bool
	noBC      bool // no basicConstraints extension at all
	from, to  time.Time
	dns       []string
	emails    []string
	ips       []string
	key       crypto.Signer
	parent    *x509.Certificate
	parentKey crypto.Signer
}

func ecKey() crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func mkCert(s certSpec) *x509.Certificate {
	der, err := ParseDN(s.dn)
	if err != nil {
		panic(err)
	}
	if s.key == nil {
		s.key = ecKey()
	}
	if s.from.IsZero() {
		s.from = testNow.AddDate(-1, 0, 0)
	}
	if s.to.IsZero() {
		s.to = testNow.AddDate(2, 0, 0)
	}
	tmpl := &x509.Certificate{
		RawSubject:            der,
		SerialNumber:          big.NewInt(s.serial),
		NotBefore:             s.from,
		NotAfter:              s.to,
		BasicConstraintsValid: !s.noBC,
		IsCA:                  s.ca,
		DNSNames:              s.dns,
		EmailAddresses:        s.emails,
	}
	for _, ip := range s.ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	if s.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	parent, parentKey := s.parent, s.parentKey
	if parent == nil {
		parent, parentKey = tmpl, s.key
	}
	raw, err := x509.CreateCertificate(rand.Reader, tmpl, parent, s.key.Public(), parentKey)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(raw)
	if err != nil {
		panic(err)
	}
	return c
}

func mkCRL(issuer *x509.Certificate, key crypto.Signer, this time.Time, revoked ...x509.RevocationListEntry) []byte {
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(this.Unix()),
		ThisUpdate:                this,
		NextUpdate:                this.Add(7 * 24 * time.Hour),
		RevokedCertificateEntries: revoked,
	}, issuer, key)
	if err != nil {
		panic(err)
	}
	return der
}

func buildPKI() *testPKI {
	p := &testPKI{now: testNow}
	p.rootKey, p.interKey, p.rogueKey = ecKey(), ecKey(), ecKey()
	p.root = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=strongSwan Root CA", serial: 1, ca: true, key: p.rootKey,
		from: testNow.AddDate(-5, 0, 0), to: testNow.AddDate(10, 0, 0)})
	p.inter = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, OU=Intermediate, CN=strongSwan Intermediate CA", serial: 2, ca: true,
		key: p.interKey, parent: p.root, parentKey: p.rootKey})
	oldKey := ecKey()
	p.old = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=Old Intermediate CA", serial: 3, ca: true, key: oldKey,
		from: testNow.AddDate(-3, 0, 0), to: testNow.AddDate(0, 0, -1), parent: p.root, parentKey: p.rootKey})
	p.rogue = mkCert(certSpec{dn: "C=XX, O=Rogue, CN=Rogue CA", serial: 1, ca: true, key: p.rogueKey})

	westKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	p.west = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=west", serial: 0x1001, key: westKey,
		dns: []string{"west.example"}, emails: []string{"west@example.org"}, ips: []string{"192.0.2.1"},
		parent: p.root, parentKey: p.rootKey})
	p.east = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=east", serial: 0x1002,
		dns: []string{"east.example"}, ips: []string{"192.0.2.2", "2001:db8::2"},
		parent: p.inter, parentKey: p.interKey})
	p.carol = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=carol", serial: 0x1003, parent: p.root, parentKey: p.rootKey})
	p.dave = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=dave", serial: 0x1004, parent: p.inter, parentKey: p.interKey})
	p.frank = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=frank", serial: 0x1005, parent: p.old, parentKey: oldKey,
		from: testNow.AddDate(-2, 0, 0), to: testNow.AddDate(1, 0, 0)})
	p.eve = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=eve", serial: 0x1006, parent: p.west, parentKey: westKey})
	p.expired = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=expired", serial: 0x1007,
		from: testNow.AddDate(-2, 0, 0), to: testNow.AddDate(0, -1, 0), parent: p.root, parentKey: p.rootKey})
	p.notyet = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=notyet", serial: 0x1008,
		from: testNow.AddDate(0, 1, 0), to: testNow.AddDate(1, 0, 0), parent: p.root, parentKey: p.rootKey})
	p.mallory = mkCert(certSpec{dn: "C=XX, O=Rogue, CN=mallory", serial: 0x1009, parent: p.rogue, parentKey: p.rogueKey})
	// forged claims the root as issuer but is signed with rogue's key.
	fakeRoot := *p.root
	fakeRoot.PublicKey = p.rogueKey.Public()
	p.forged = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=forged", serial: 0x100a, parent: &fakeRoot, parentKey: p.rogueKey})
	p.plain = mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=plain", serial: 0x100b})

	p.rootCRL = mkCRL(p.root, p.rootKey, testNow.Add(-time.Hour), x509.RevocationListEntry{
		SerialNumber: p.carol.SerialNumber, RevocationTime: testNow.Add(-2 * time.Hour), ReasonCode: 1})
	p.rootCRLNewer = mkCRL(p.root, p.rootKey, testNow.Add(-time.Minute))
	p.interCRL = mkCRL(p.inter, p.interKey, testNow.Add(-time.Hour), x509.RevocationListEntry{
		SerialNumber: p.dave.SerialNumber, RevocationTime: testNow.Add(-3 * time.Hour)})
	p.rogueCRL = mkCRL(p.rogue, p.rogueKey, testNow.Add(-time.Hour))
	p.forgedCRL = mkCRL(&fakeRoot, p.rogueKey, testNow.Add(-time.Hour), x509.RevocationListEntry{
		SerialNumber: p.west.SerialNumber, RevocationTime: testNow.Add(-time.Hour)})
	return p
}

func pemOf(typ string, ders ...[]byte) []byte {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	return out
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// storeWith returns a store holding the given CAs and CRLs (DER).
func storeWith(t *testing.T, cas []*x509.Certificate, crls ...[]byte) *Store {
	t.Helper()
	s := NewStore()
	for _, c := range cas {
		if err := s.AddCA(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range crls {
		crl, err := x509.ParseRevocationList(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddCRL(crl); err != nil {
			t.Fatal(err)
		}
	}
	return s
}
