package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"
	"strings"
	"time"

	"goswan/pluto/secrets"
)

// Warning intervals of pluto's listings (CA_CERT_WARNING_INTERVAL,
// CRL_WARNING_INTERVAL).
const (
	certWarningInterval = 30 * 24 * time.Hour
	crlWarningInterval  = 7 * 24 * time.Hour
)

// ListCerts writes whack --listcerts: the given certificates, then those
// recorded with AddCert, each once. Lines carry no whack status code (the
// daemon adds "000 "); nothing is written when there is no certificate.
//
//	List of X.509 End Certificates:
//
//	       subject: 'C=CH, O=Linux strongSwan, CN=west'
//	       issuer:  'C=CH, O=Linux strongSwan, CN=strongSwan Root CA'
//	       serial:   01:2c
//	       altNames: 'west.example', 'west@example.org', '192.0.2.1'
//	       validity: not before Jan 01 00:00:00 UTC 2025 ok
//	                 not after  Jan 01 00:00:00 UTC 2030 ok
//	       pubkey:   RSA 2048 bits
//	       keyid:    AwEAAc5Oa
//	       subjkey:  4f:...
//	       authkey:  9a:...
func (s *Store) ListCerts(w io.Writer, certs []*x509.Certificate, now time.Time) {
	all := append([]*x509.Certificate(nil), certs...)
	for _, c := range s.Certs() {
		dup := false
		for _, o := range all {
			if o != nil && bytes.Equal(o.Raw, c.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			all = append(all, c)
		}
	}
	listCerts(w, "X.509 End Certificates", all, now)
}

// ListCACerts writes whack --listcacerts: the loaded CA certificates, in
// ListCerts' layout.
func (s *Store) ListCACerts(w io.Writer, now time.Time) {
	listCerts(w, "X.509 CA Certificates", s.CAs(), now)
}

func listCerts(w io.Writer, caption string, certs []*x509.Certificate, now time.Time) {
	first := true
	for _, c := range certs {
		if c == nil {
			continue
		}
		if first {
			fmt.Fprintf(w, " \nList of %s:\n \n", caption)
			first = false
		} else {
			fmt.Fprintf(w, " \n")
		}
		fmt.Fprintf(w, "       subject: '%s'\n", dnString(c.RawSubject))
		fmt.Fprintf(w, "       issuer:  '%s'\n", dnString(c.RawIssuer))
		fmt.Fprintf(w, "       serial:   %s\n", serialString(c))
		if alt := altNames(c); alt != "" {
			fmt.Fprintf(w, "       altNames: %s\n", alt)
		}
		nb := "ok"
		if now.Before(c.NotBefore) {
			nb = "fatal (not valid yet)"
		}
		fmt.Fprintf(w, "       validity: not before %s %s\n", timetoa(c.NotBefore), nb)
		fmt.Fprintf(w, "                 not after  %s %s\n", timetoa(c.NotAfter), checkExpiry(c.NotAfter, now, certWarningInterval, true))
		fmt.Fprintf(w, "       pubkey:   %s\n", pubkeyString(c))
		if k, ok := c.PublicKey.(*rsa.PublicKey); ok {
			fmt.Fprintf(w, "       keyid:    %s\n", secrets.KeyID(k))
		}
		if len(c.SubjectKeyId) > 0 {
			fmt.Fprintf(w, "       subjkey:  %s\n", colonHex(c.SubjectKeyId))
		}
		if len(c.AuthorityKeyId) > 0 {
			fmt.Fprintf(w, "       authkey:  %s\n", colonHex(c.AuthorityKeyId))
		}
	}
}

// ListCRLs writes whack --listcrls:
//
//	List of X.509 CRLs:
//
//	       issuer:  'C=CH, O=Linux strongSwan, CN=strongSwan Root CA'
//	       revoked certs: 1
//	       updates:  this Jan 01 00:00:00 UTC 2025
//	                 next Feb 01 00:00:00 UTC 2025 ok
func (s *Store) ListCRLs(w io.Writer, now time.Time) {
	s.mu.RLock()
	crls, strict := s.crls, s.strict
	s.mu.RUnlock()
	for i, e := range crls {
		if i == 0 {
			fmt.Fprintf(w, " \nList of X.509 CRLs:\n \n")
		} else {
			fmt.Fprintf(w, " \n")
		}
		fmt.Fprintf(w, "       issuer:  '%s'\n", dnString(e.crl.RawIssuer))
		fmt.Fprintf(w, "       revoked certs: %d\n", len(e.crl.RevokedCertificateEntries))
		fmt.Fprintf(w, "       updates:  this %s\n", timetoa(e.crl.ThisUpdate))
		fmt.Fprintf(w, "                 next %s %s\n", timetoa(e.crl.NextUpdate), checkExpiry(e.crl.NextUpdate, now, crlWarningInterval, strict))
	}
}

// timetoa prints a time as pluto's timetoa with --utc: "Jan 02 15:04:05 UTC 2006".
func timetoa(t time.Time) string {
	if t.IsZero() {
		return "--- -- --:--:-- UTC ----"
	}
	return t.UTC().Format("Jan 02 15:04:05 UTC 2006")
}

// checkExpiry is pluto's check_expiry: "ok", "warning (expires in 3
// days)" within the warning interval, "fatal (expired)" or "warning
// (expired)" after.
func checkExpiry(t, now time.Time, warn time.Duration, strict bool) string {
	if t.IsZero() {
		return "ok (expires never)"
	}
	left := t.Sub(now)
	if left < 0 {
		if strict {
			return "fatal (expired)"
		}
		return "warning (expired)"
	}
	if left > warn {
		return "ok"
	}
	n, unit := int64(left/time.Second), "second"
	switch {
	case n > 172800:
		n, unit = n/86400, "day"
	case n > 7200:
		n, unit = n/3600, "hour"
	case n > 120:
		n, unit = n/60, "minute"
	}
	plural := "s"
	if n == 1 {
		plural = ""
	}
	return fmt.Sprintf("warning (expires in %d %s%s)", n, unit, plural)
}

func pubkeyString(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case *ecdsa.PublicKey:
		return fmt.Sprintf("ECDSA %d bits", k.Curve.Params().BitSize)
	case ed25519.PublicKey:
		return "ED25519 256 bits"
	}
	return c.PublicKeyAlgorithm.String()
}

// serialString prints a serial number as pluto: hex octets separated by ':'.
func serialString(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return "(none)"
	}
	b := c.SerialNumber.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	if c.SerialNumber.Sign() < 0 {
		return "-" + colonHex(b)
	}
	return colonHex(b)
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, ":")
}

func altNames(c *x509.Certificate) string {
	var parts []string
	for _, n := range c.DNSNames {
		parts = append(parts, "'"+n+"'")
	}
	for _, e := range c.EmailAddresses {
		parts = append(parts, "'"+e+"'")
	}
	for _, ip := range c.IPAddresses {
		parts = append(parts, "'"+ip.String()+"'")
	}
	return strings.Join(parts, ", ")
}
