package certs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCADirAndCRLDir(t *testing.T) {
	p := getPKI(t)
	cadir, crldir := t.TempDir(), t.TempDir()
	writeFile(t, cadir, "root.pem", pemOf("CERTIFICATE", p.root.Raw))
	writeFile(t, cadir, "inter.der", p.inter.Raw)
	writeFile(t, cadir, "bundle.crt", pemOf("CERTIFICATE", p.inter.Raw, p.old.Raw)) // inter again: kept once
	writeFile(t, cadir, "README.txt", []byte("not a certificate"))
	if err := os.Mkdir(filepath.Join(cadir, "sub.pem"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, crldir, "root.crl", p.rootCRL)
	writeFile(t, crldir, "inter.pem", pemOf("X509 CRL", p.interCRL))
	writeFile(t, crldir, "notes.txt", []byte("ignored"))

	s := NewStore()
	if err := s.LoadCADir(cadir); err != nil {
		t.Fatalf("LoadCADir: %v", err)
	}
	if err := s.LoadCRLDir(crldir); err != nil {
		t.Fatalf("LoadCRLDir: %v", err)
	}
	if n := len(s.CAs()); n != 3 {
		t.Errorf("%d CAs loaded, want 3 (root, inter, old)", n)
	}
	if n := len(s.CRLs()); n != 2 {
		t.Errorf("%d CRLs loaded, want 2", n)
	}
	// Directory order: bundle.crt (inter, old), inter.der (same inter), root.pem.
	var names []string
	for _, der := range s.CARequests() {
		names = append(names, dnString(der))
	}
	want := []string{
		"C=CH, O=Linux strongSwan, OU=Intermediate, CN=strongSwan Intermediate CA",
		"C=CH, O=Linux strongSwan, CN=Old Intermediate CA",
		"C=CH, O=Linux strongSwan, CN=strongSwan Root CA",
	}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("CARequests = %q, want %q", names, want)
	}
	if err := s.Verify(p.east, nil, testNow); err != nil {
		t.Errorf("east: %v", err)
	}
	if err := s.Verify(p.dave, nil, testNow); !errors.Is(err, ErrRevoked) {
		t.Errorf("dave: %v", err)
	}
	if err := s.Verify(p.carol, nil, testNow); !errors.Is(err, ErrRevoked) {
		t.Errorf("carol: %v", err)
	}
}

func TestLoadDirErrors(t *testing.T) {
	p := getPKI(t)
	cadir := t.TempDir()
	writeFile(t, cadir, "a-root.pem", pemOf("CERTIFICATE", p.root.Raw))
	writeFile(t, cadir, "b-garbage.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	writeFile(t, cadir, "c-key.pem", pemOf("PRIVATE KEY", []byte{1, 2, 3}))
	writeFile(t, cadir, "d-endcert.crt", p.plain.Raw)
	writeFile(t, cadir, "e-junk.der", []byte{0x30, 0x03, 1, 2, 3})
	writeFile(t, cadir, "f-inter.der", p.inter.Raw)
	s := NewStore()
	err := s.LoadCADir(cadir)
	if err == nil {
		t.Fatal("LoadCADir succeeded with bad files")
	}
	for _, f := range []string{"b-garbage.pem", "c-key.pem", "d-endcert.crt", "e-junk.der"} {
		if !strings.Contains(err.Error(), filepath.Join(cadir, f)+": ") {
			t.Errorf("error does not name %s:\n%v", f, err)
		}
	}
	for _, has := range []string{"no CERTIFICATE block", "is not a CA certificate", "neither PEM nor a DER certificate"} {
		if !strings.Contains(err.Error(), has) {
			t.Errorf("error lacks %q:\n%v", has, err)
		}
	}
	if n := len(s.CAs()); n != 2 {
		t.Errorf("%d CAs loaded beside the bad files, want 2", n)
	}

	crldir := t.TempDir()
	writeFile(t, crldir, "a-rogue.crl", p.rogueCRL)
	writeFile(t, crldir, "b-forged.pem", pemOf("X509 CRL", p.forgedCRL))
	writeFile(t, crldir, "c-junk.crl", []byte("junk"))
	writeFile(t, crldir, "d-root.der", p.rootCRL)
	err = s.LoadCRLDir(crldir)
	if err == nil {
		t.Fatal("LoadCRLDir succeeded with bad files")
	}
	for _, has := range []string{
		filepath.Join(crldir, "a-rogue.crl") + `: CRL issuer "C=XX, O=Rogue, CN=Rogue CA" is not a loaded CA`,
		filepath.Join(crldir, "b-forged.pem") + `: CRL signature of "C=CH, O=Linux strongSwan, CN=strongSwan Root CA" does not verify`,
		filepath.Join(crldir, "c-junk.crl") + ": neither PEM nor a DER CRL",
	} {
		if !strings.Contains(err.Error(), has) {
			t.Errorf("error lacks %q:\n%v", has, err)
		}
	}
	if n := len(s.CRLs()); n != 1 {
		t.Errorf("%d CRLs loaded, want 1", n)
	}
	if err := s.Verify(p.west, nil, testNow); err != nil {
		t.Errorf("west revoked by the forged CRL? %v", err)
	}

	missing := filepath.Join(t.TempDir(), "nope")
	if err := s.LoadCADir(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadCADir(missing) = %v", err)
	}
	if err := s.LoadCRLDir(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadCRLDir(missing) = %v", err)
	}
	if err := s.LoadCAFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadCAFile(missing) = %v", err)
	}
	if err := s.LoadCRLFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadCRLFile(missing) = %v", err)
	}
	empty := writeFile(t, t.TempDir(), "empty.pem", pemOf("CERTIFICATE", p.root.Raw))
	if err := s.LoadCRLFile(empty); err == nil || !strings.Contains(err.Error(), "empty.pem: no X509 CRL block") {
		t.Errorf("LoadCRLFile(no CRL) = %v", err)
	}
}

func TestLoadCertFile(t *testing.T) {
	p := getPKI(t)
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"west.pem": pemOf("CERTIFICATE", p.west.Raw, p.root.Raw),
		"west.der": p.west.Raw,
		"west.crt": append([]byte("leading text\n"), pemOf("CERTIFICATE", p.west.Raw)...),
	} {
		c, err := LoadCertFile(writeFile(t, dir, name, data))
		if err != nil || !bytes.Equal(c.Raw, p.west.Raw) {
			t.Errorf("LoadCertFile(%s) = %v", name, err)
		}
	}
	bad := writeFile(t, dir, "bad.pem", []byte("garbage"))
	if _, err := LoadCertFile(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": ") {
		t.Errorf("LoadCertFile(garbage) = %v", err)
	}
	if _, err := LoadCertFile(filepath.Join(dir, "missing.pem")); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("LoadCertFile(missing) = %v", err)
	}
}
