// Package testpki builds TEST-ONLY X.509 material with crypto/x509 for the
// daemon and interop tests: one RSA CA, end certificates it issues (good,
// expired, revoked), a CRL, laid out as pluto's ipsec.d expects:
//
//	DIR/cacerts/ca.pem    the CA certificate
//	DIR/crls/ca.crl       its CRL (DER), after Revoke
//	DIR/certs/NAME.pem    end certificates
//	DIR/private/NAME.key  their RSA keys (PKCS#1 PEM)
//
// Nothing here is secret: the keys are made for one test run.
package testpki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"goswan/pluto/certs"
)

// PKI is a test CA and what it issued.
type PKI struct {
	Dir    string
	CA     *x509.Certificate
	CAKey  *rsa.PrivateKey
	Bits   int // RSA key size of what Issue makes
	serial int64
	now    time.Time
}

// Leaf is an issued end certificate.
type Leaf struct {
	Name     string
	Cert     *x509.Certificate
	Key      *rsa.PrivateKey
	CertFile string // DIR/certs/NAME.pem
	KeyFile  string // DIR/private/NAME.key
}

// Spec describes an end certificate.
type Spec struct {
	DN      string   // pluto's form: "C=US, O=Test, CN=west"
	DNS     []string // subjectAltName DNS names
	Emails  []string // subjectAltName email addresses
	IPs     []string // subjectAltName IP addresses
	Expired bool     // valid from 2 years ago until yesterday
}

// New makes a CA named caDN (pluto's DN form) under dir, valid from a year
// before now for ten years.
func New(dir, caDN string, now time.Time) (*PKI, error) {
	p := &PKI{Dir: dir, Bits: 2048, now: now}
	for _, d := range []string{"cacerts", "crls", "certs", "private"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	subject, err := certs.ParseDN(caDN)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		RawSubject:            subject,
		SerialNumber:          big.NewInt(1),
		NotBefore:             now.AddDate(-1, 0, 0),
		NotAfter:              now.AddDate(10, 0, 0),
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	if p.CA, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	p.CAKey, p.serial = key, 1
	return p, writePEM(filepath.Join(dir, "cacerts", "ca.pem"), "CERTIFICATE", der)
}

// CAFile is the CA certificate's file.
func (p *PKI) CAFile() string { return filepath.Join(p.Dir, "cacerts", "ca.pem") }

// CRLFile is the CRL's file (DER), written by Revoke.
func (p *PKI) CRLFile() string { return filepath.Join(p.Dir, "crls", "ca.crl") }

// Issue makes an end certificate and its key for s, as files named name.
func (p *PKI) Issue(name string, s Spec) (*Leaf, error) {
	key, err := rsa.GenerateKey(rand.Reader, p.Bits)
	if err != nil {
		return nil, err
	}
	subject, err := certs.ParseDN(s.DN)
	if err != nil {
		return nil, err
	}
	p.serial++
	tmpl := &x509.Certificate{
		RawSubject:     subject,
		SerialNumber:   big.NewInt(p.serial),
		NotBefore:      p.now.AddDate(-1, 0, 0),
		NotAfter:       p.now.AddDate(2, 0, 0),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		DNSNames:       s.DNS,
		EmailAddresses: s.Emails,
	}
	if s.Expired {
		tmpl.NotBefore, tmpl.NotAfter = p.now.AddDate(-2, 0, 0), p.now.AddDate(0, 0, -1)
	}
	for _, ip := range s.IPs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CA, &key.PublicKey, p.CAKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	l := &Leaf{Name: name, Cert: cert, Key: key,
		CertFile: filepath.Join(p.Dir, "certs", name+".pem"),
		KeyFile:  filepath.Join(p.Dir, "private", name+".key")}
	if err := writePEM(l.CertFile, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	return l, writePEM(l.KeyFile, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
}

// Revoke writes the CA's CRL listing the given certificates (revoked a day
// ago, reason keyCompromise), valid for a week. Its number is the time, so
// that a peer that kept an older CRL of a CA of the same name takes it as
// newer.
func (p *PKI) Revoke(leaves ...*Leaf) error {
	var entries []x509.RevocationListEntry
	for _, l := range leaves {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: l.Cert.SerialNumber,
			RevocationTime: p.now.AddDate(0, 0, -1), ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(time.Now().UnixNano()),
		ThisUpdate:                p.now.Add(-time.Hour),
		NextUpdate:                p.now.AddDate(0, 0, 7),
		RevokedCertificateEntries: entries,
	}, p.CA, p.CAKey)
	if err != nil {
		return err
	}
	return os.WriteFile(p.CRLFile(), der, 0o644)
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
