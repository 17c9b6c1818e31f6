package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Store holds what pluto loads from ipsec.d: CA certificates (cacerts),
// CRLs (crls) and the end-entity certificates in use (our --cert, the
// peers'). Loading and clearing take a write lock; Verify, the listings and
// the accessors only read, any number at a time.
type Store struct {
	mu     sync.RWMutex
	cas    []*x509.Certificate // load order
	roots  *x509.CertPool      // the self-signed CAs
	inters *x509.CertPool      // the other CAs
	crls   []*crlEntry
	certs  []*x509.Certificate
	strict bool
}

type crlEntry struct {
	crl     *x509.RevocationList
	signer  *x509.Certificate // the loaded CA the signature was checked with
	revoked map[string]x509.RevocationListEntry
}

// NewStore returns an empty store: no CA is trusted.
func NewStore() *Store {
	return &Store{roots: x509.NewCertPool(), inters: x509.NewCertPool()}
}

// SetStrictCRLPolicy sets pluto's --strictcrlpolicy: when on, Verify
// refuses a certificate whose issuer has no loaded CRL or whose CRL is
// past its nextUpdate; when off (the default) only listed serials are
// refused.
func (s *Store) SetStrictCRLPolicy(strict bool) {
	s.mu.Lock()
	s.strict = strict
	s.mu.Unlock()
}

// LoadCAFile loads the CA certificates of one file: PEM (any number of
// CERTIFICATE blocks) or DER. A certificate whose basicConstraints say it
// is not a CA is refused. Errors name the file.
func (s *Store) LoadCAFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	cs, err := parseCerts(data)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	for _, c := range cs {
		if err := s.AddCA(c); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
	}
	return nil
}

// caExts are the file names LoadCADir and LoadCRLDir read.
var caExts = map[string]bool{".pem": true, ".crt": true, ".der": true, ".cer": true}
var crlExts = map[string]bool{".pem": true, ".crl": true, ".der": true}

// LoadCADir loads every *.pem, *.crt, *.cer and *.der file of dir
// (ipsec.d/cacerts) in name order. A file that fails does not stop the
// others; the error joins one error per failed file. A missing directory
// is an error satisfying errors.Is(err, fs.ErrNotExist).
func (s *Store) LoadCADir(dir string) error {
	return loadDir(dir, caExts, s.LoadCAFile)
}

// LoadCRLDir loads every *.pem, *.crl and *.der file of dir (ipsec.d/crls),
// as LoadCADir does. Load the CA certificates first: a CRL is only kept
// when its signature verifies with a loaded CA.
func (s *Store) LoadCRLDir(dir string) error {
	return loadDir(dir, crlExts, s.LoadCRLFile)
}

func loadDir(dir string, exts map[string]bool, load func(string) error) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if e.IsDir() || !exts[strings.ToLower(filepath.Ext(e.Name()))] {
			continue
		}
		if err := load(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AddCA adds one CA certificate. Self-signed ones are trust anchors; the
// others are intermediate CAs Verify may chain through up to a loaded
// self-signed CA, as pluto requires. A certificate with the same subject
// and key as a loaded one replaces it.
func (s *Store) AddCA(c *x509.Certificate) error {
	if c.BasicConstraintsValid && !c.IsCA {
		return fmt.Errorf("certificate %q is not a CA certificate (basicConstraints CA:FALSE)", dnString(c.RawSubject))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	replaced := false
	for i, old := range s.cas {
		if bytes.Equal(old.Raw, c.Raw) {
			return nil
		}
		if bytes.Equal(old.RawSubject, c.RawSubject) && bytes.Equal(old.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
			s.cas = slices.Clone(s.cas) // readers may hold the old slice
			s.cas[i] = c
			replaced = true
			break
		}
	}
	if !replaced {
		s.cas = append(s.cas, c)
	}
	s.rebuildPools()
	return nil
}

func (s *Store) rebuildPools() {
	s.roots, s.inters = x509.NewCertPool(), x509.NewCertPool()
	for _, c := range s.cas {
		if selfSigned(c) {
			s.roots.AddCert(c)
		} else {
			s.inters.AddCert(c)
		}
	}
}

// selfSigned: same subject and issuer, and the signature verifies with the
// certificate's own key.
func selfSigned(c *x509.Certificate) bool {
	return SameDN(c.RawSubject, c.RawIssuer) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// ClearCAs forgets every CA certificate (whack --rereadcacerts reloads
// them). Loaded CRLs stay.
func (s *Store) ClearCAs() {
	s.mu.Lock()
	s.cas = nil
	s.rebuildPools()
	s.mu.Unlock()
}

// ClearCRLs forgets every CRL (whack --rereadcrls).
func (s *Store) ClearCRLs() {
	s.mu.Lock()
	s.crls = nil
	s.mu.Unlock()
}

// CAs returns the loaded CA certificates in load order.
func (s *Store) CAs() []*x509.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*x509.Certificate(nil), s.cas...)
}

// CARequests returns the DER subject names of the loaded CAs, in load
// order without duplicates: the contents of the CR payloads
// (CERT_X509_SIGNATURE) pluto sends.
func (s *Store) CARequests() [][]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out [][]byte
	seen := map[string]bool{}
	for _, c := range s.cas {
		if !seen[string(c.RawSubject)] {
			seen[string(c.RawSubject)] = true
			out = append(out, append([]byte(nil), c.RawSubject...))
		}
	}
	return out
}

// AddCert records an end-entity certificate in use (ours from --cert, or a
// peer's) for ListCerts. Adding the same certificate twice keeps one.
func (s *Store) AddCert(c *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.certs {
		if bytes.Equal(old.Raw, c.Raw) {
			return
		}
	}
	s.certs = append(s.certs, c)
}

// Certs returns the end-entity certificates recorded with AddCert.
func (s *Store) Certs() []*x509.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*x509.Certificate(nil), s.certs...)
}

// LoadCRLFile loads the CRLs of one file: PEM (X509 CRL blocks) or DER.
// Each must be signed by a loaded CA of the same name; a CRL older
// (thisUpdate) than the one loaded for that CA is ignored, a newer one
// replaces it. Errors name the file.
func (s *Store) LoadCRLFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	crls, err := parseCRLs(data)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	for _, crl := range crls {
		if err := s.AddCRL(crl); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
	}
	return nil
}

// AddCRL adds a parsed CRL after checking its signature with a loaded CA.
func (s *Store) AddCRL(crl *x509.RevocationList) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var signer *x509.Certificate
	var sigErr error
	for _, ca := range s.cas {
		if !SameDN(ca.RawSubject, crl.RawIssuer) {
			continue
		}
		if err := crl.CheckSignatureFrom(ca); err != nil {
			sigErr = err
			continue
		}
		signer = ca
		break
	}
	if signer == nil {
		if sigErr != nil {
			return fmt.Errorf("CRL signature of %q does not verify: %v", dnString(crl.RawIssuer), sigErr)
		}
		return fmt.Errorf("CRL issuer %q is not a loaded CA", dnString(crl.RawIssuer))
	}
	e := &crlEntry{crl: crl, signer: signer, revoked: map[string]x509.RevocationListEntry{}}
	for _, r := range crl.RevokedCertificateEntries {
		if r.SerialNumber != nil {
			e.revoked[r.SerialNumber.String()] = r
		}
	}
	for i, old := range s.crls {
		if sameCA(old.signer, signer) {
			if crl.ThisUpdate.Before(old.crl.ThisUpdate) {
				return nil // pluto: "thisUpdate is not newer - existing crl not replaced"
			}
			s.crls = slices.Clone(s.crls)
			s.crls[i] = e
			return nil
		}
	}
	s.crls = append(s.crls, e)
	return nil
}

func sameCA(a, b *x509.Certificate) bool {
	return bytes.Equal(a.RawSubjectPublicKeyInfo, b.RawSubjectPublicKeyInfo) && SameDN(a.RawSubject, b.RawSubject)
}

// CRLs returns the loaded CRLs.
func (s *Store) CRLs() []*x509.RevocationList {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*x509.RevocationList, len(s.crls))
	for i, e := range s.crls {
		out[i] = e.crl
	}
	return out
}

// LoadCertFile reads our certificate (--cert, leftcert=): the first
// certificate of a PEM file or a DER file. Errors name the file.
func LoadCertFile(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cs, err := parseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return cs[0], nil
}

func isPEM(data []byte) bool { return bytes.Contains(data, []byte("-----BEGIN ")) }

// parseCerts reads one or more certificates, PEM or DER; at least one.
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	if !isPEM(data) {
		cs, err := x509.ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("neither PEM nor a DER certificate: %v", err)
		}
		if len(cs) == 0 {
			return nil, errors.New("empty file")
		}
		return cs, nil
	}
	return pemBlocks(data, "CERTIFICATE", []string{"CERTIFICATE", "X509 CERTIFICATE"}, x509.ParseCertificate)
}

// parseCRLs reads one or more CRLs, PEM or DER.
func parseCRLs(data []byte) ([]*x509.RevocationList, error) {
	if !isPEM(data) {
		crl, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, fmt.Errorf("neither PEM nor a DER CRL: %v", err)
		}
		return []*x509.RevocationList{crl}, nil
	}
	return pemBlocks(data, "X509 CRL", []string{"X509 CRL", "CRL"}, x509.ParseRevocationList)
}

// pemBlocks parses every PEM block of the given types in data with parse;
// other blocks are skipped, and at least one must be there.
func pemBlocks[T any](data []byte, what string, types []string, parse func([]byte) (T, error)) ([]T, error) {
	var out []T
	rest := data
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if !slices.Contains(types, b.Type) {
			continue
		}
		v, err := parse(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %v", n, err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s block in PEM file", what)
	}
	return out, nil
}

// dnString is FormatDN for messages: the hex of the DER when it does not
// parse, as pluto's dntoa.
func dnString(der []byte) string {
	if s, err := FormatDN(der); err == nil {
		return s
	}
	return fmt.Sprintf("0x%X", der)
}
