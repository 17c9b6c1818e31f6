package certs

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"goswan/pluto/secrets"
	"goswan/spec"
)

// The interop harness certificates (../shared/peers/keys/{west,east}.crt,
// copied to testdata): self-signed RSA 2048 CA certificates "CN=west" and
// "CN=east" without subjectAltName.
func TestHarnessCertificates(t *testing.T) {
	for _, name := range []string{"west", "east"} {
		t.Run(name, func(t *testing.T) {
			c, err := LoadCertFile("testdata/" + name + ".crt")
			if err != nil {
				t.Fatal(err)
			}
			dn, err := FormatDN(c.RawSubject)
			if err != nil || dn != "CN="+name {
				t.Errorf("subject = %q, %v", dn, err)
			}
			if iss, _ := FormatDN(c.RawIssuer); iss != "CN="+name {
				t.Errorf("issuer = %q", iss)
			}
			ids := IDsOf(c)
			if len(ids) != 1 || ids[0].Type != spec.IDDerASN1DN || IDString(ids[0]) != "CN="+name {
				t.Errorf("IDsOf = %v", ids)
			}
			for _, s := range []string{"CN=" + name, "cn=" + strings.ToUpper(name), " CN = " + name + " "} {
				if !Matches(c, mustID(t, s)) {
					t.Errorf("Matches(%q) = false", s)
				}
			}
			other := map[string]string{"west": "east", "east": "west"}[name]
			for _, s := range []string{"CN=" + other, "@" + name, "C=CH, CN=" + name} {
				if Matches(c, mustID(t, s)) {
					t.Errorf("Matches(%q) = true", s)
				}
			}
			// ParseDN builds the same DER the certificate carries.
			if der, _ := ParseDN("CN=" + name); !SameDN(der, c.RawSubject) {
				t.Errorf("ParseDN(CN=%s) = %x, certificate has %x", name, der, c.RawSubject)
			}

			now := c.NotBefore.Add(time.Hour)
			s := NewStore()
			if err := s.LoadCAFile("testdata/" + name + ".crt"); err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(c, nil, now); err != nil {
				t.Errorf("Verify with itself loaded as CA: %v", err)
			}
			peer, err := LoadCertFile("testdata/" + other + ".crt")
			if err != nil {
				t.Fatal(err)
			}
			err = s.Verify(peer, nil, now)
			want := `certificate "CN=` + other + `" issuer "CN=` + other + `" is not a loaded CA`
			if !errors.Is(err, ErrUnknownCA) || err.Error() != want {
				t.Errorf("Verify(%s) = %v, want %s", other, err, want)
			}
			if err := s.Verify(c, nil, c.NotBefore.Add(-time.Hour)); !errors.Is(err, ErrNotYetValid) {
				t.Errorf("Verify before notBefore: %v", err)
			}

			var b strings.Builder
			s.ListCerts(&b, []*x509.Certificate{c}, now)
			keyid := secrets.KeyID(c.PublicKey.(*rsa.PublicKey))
			for _, want := range []string{
				"       subject: 'CN=" + name + "'\n",
				"       issuer:  'CN=" + name + "'\n",
				"       pubkey:   RSA 2048 bits\n",
				"       keyid:    " + keyid + "\n",
			} {
				if !strings.Contains(b.String(), want) {
					t.Errorf("ListCerts lacks %q:\n%s", want, b.String())
				}
			}
			// The key id is the one of the harness's leftrsasigkey.
			if sig, err := os.ReadFile("../../../shared/peers/keys/" + name + ".rsasigkey"); err == nil {
				if !strings.HasPrefix(strings.TrimSpace(string(sig)), "0s"+keyid) {
					t.Errorf("keyid %s is not the start of %s.rsasigkey", keyid, name)
				}
			}
			if reqs := s.CARequests(); len(reqs) != 1 || !SameDN(reqs[0], c.RawSubject) {
				t.Errorf("CARequests = %x", reqs)
			}
		})
	}
}
