package certs

import (
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"goswan/pluto/secrets"
)

func TestListCerts(t *testing.T) {
	p := getPKI(t)
	s := storeWith(t, []*x509.Certificate{p.root, p.inter}, p.rootCRL, p.interCRL)
	s.AddCert(p.east)
	s.AddCert(p.east)
	var b strings.Builder
	s.ListCerts(&b, []*x509.Certificate{p.west, p.east}, testNow)
	out := b.String()
	wantLines := []string{
		" ",
		"List of X.509 End Certificates:",
		" ",
		"       subject: 'C=CH, O=Linux strongSwan, CN=west'",
		"       issuer:  'C=CH, O=Linux strongSwan, CN=strongSwan Root CA'",
		"       serial:   10:01",
		"       altNames: 'west.example', 'west@example.org', '192.0.2.1'",
		"       validity: not before Jun 01 12:00:00 UTC 2025 ok",
		"                 not after  Jun 01 12:00:00 UTC 2028 ok",
		"       pubkey:   RSA 2048 bits",
		"       keyid:    " + secrets.KeyID(p.west.PublicKey.(*rsa.PublicKey)),
		"       authkey:  " + colonHex(p.root.SubjectKeyId),
		" ",
		"       subject: 'C=CH, O=Linux strongSwan, CN=east'",
		"       issuer:  'C=CH, O=Linux strongSwan, OU=Intermediate, CN=strongSwan Intermediate CA'",
		"       serial:   10:02",
		"       altNames: 'east.example', '192.0.2.2', '2001:db8::2'",
		"       validity: not before Jun 01 12:00:00 UTC 2025 ok",
		"                 not after  Jun 01 12:00:00 UTC 2028 ok",
		"       pubkey:   ECDSA 256 bits",
		"       authkey:  " + colonHex(p.inter.SubjectKeyId),
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("ListCerts:\n%s\nwant:\n%s", out, strings.Join(wantLines, "\n"))
	}

	b.Reset()
	s.ListCerts(&b, []*x509.Certificate{p.expired, p.notyet}, testNow)
	for _, want := range []string{
		"                 not after  May 01 12:00:00 UTC 2026 fatal (expired)",
		"       validity: not before Jul 01 12:00:00 UTC 2026 fatal (not valid yet)",
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("ListCerts lacks %q:\n%s", want, b.String())
		}
	}

	b.Reset()
	NewStore().ListCerts(&b, nil, testNow)
	NewStore().ListCACerts(&b, testNow)
	NewStore().ListCRLs(&b, testNow)
	if b.Len() != 0 {
		t.Errorf("empty listings wrote %q", b.String())
	}
}

func TestListCACertsAndCRLs(t *testing.T) {
	p := getPKI(t)
	s := storeWith(t, []*x509.Certificate{p.root, p.inter}, p.rootCRL, p.interCRL)
	var b strings.Builder
	s.ListCACerts(&b, testNow)
	for _, want := range []string{
		"List of X.509 CA Certificates:",
		"       subject: 'C=CH, O=Linux strongSwan, CN=strongSwan Root CA'\n       issuer:  'C=CH, O=Linux strongSwan, CN=strongSwan Root CA'\n       serial:   01\n",
		"       subject: 'C=CH, O=Linux strongSwan, OU=Intermediate, CN=strongSwan Intermediate CA'",
		"       subjkey:  " + colonHex(p.root.SubjectKeyId),
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("ListCACerts lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	s.ListCRLs(&b, testNow)
	want := " \nList of X.509 CRLs:\n \n" +
		"       issuer:  'C=CH, O=Linux strongSwan, CN=strongSwan Root CA'\n" +
		"       revoked certs: 1\n" +
		"       updates:  this Jun 01 11:00:00 UTC 2026\n" +
		"                 next Jun 08 11:00:00 UTC 2026 warning (expires in 6 days)\n" +
		" \n" +
		"       issuer:  'C=CH, O=Linux strongSwan, OU=Intermediate, CN=strongSwan Intermediate CA'\n" +
		"       revoked certs: 1\n" +
		"       updates:  this Jun 01 11:00:00 UTC 2026\n" +
		"                 next Jun 08 11:00:00 UTC 2026 warning (expires in 6 days)\n"
	if b.String() != want {
		t.Errorf("ListCRLs:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	s.SetStrictCRLPolicy(true)
	s.ListCRLs(&b, testNow.AddDate(0, 1, 0))
	if !strings.Contains(b.String(), "next Jun 08 11:00:00 UTC 2026 fatal (expired)") {
		t.Errorf("strict ListCRLs after nextUpdate:\n%s", b.String())
	}
}

func TestCheckExpiry(t *testing.T) {
	now := testNow
	tests := []struct {
		left   time.Duration
		strict bool
		want   string
	}{
		{60 * 24 * time.Hour, true, "ok"},
		{10 * 24 * time.Hour, true, "warning (expires in 10 days)"},
		{30 * time.Hour, true, "warning (expires in 30 hours)"},
		{90 * time.Minute, true, "warning (expires in 90 minutes)"},
		{61 * time.Second, true, "warning (expires in 61 seconds)"},
		{time.Second, true, "warning (expires in 1 second)"},
		{-time.Second, true, "fatal (expired)"},
		{-time.Second, false, "warning (expired)"},
	}
	for _, tc := range tests {
		if got := checkExpiry(now.Add(tc.left), now, certWarningInterval, tc.strict); got != tc.want {
			t.Errorf("checkExpiry(%v, %v) = %q, want %q", tc.left, tc.strict, got, tc.want)
		}
	}
	if got := checkExpiry(time.Time{}, now, certWarningInterval, true); got != "ok (expires never)" {
		t.Errorf("checkExpiry(zero) = %q", got)
	}
}
