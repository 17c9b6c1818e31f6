package pluto

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"goswan/fsm"
	"goswan/pluto/certs"
	"goswan/spec"
	"goswan/whack"
)

// X.509 in the daemon: the CA certificates of IPSECDIR/cacerts and the CRLs
// of IPSECDIR/crls (read at start, whack --rereadcacerts/--rereadcrls/
// --rereadall), each end's --cert and --ca, and the fsm.CertEnv the state
// machine asks for CR contents and to check the certificates peers send.

// loadCACerts (re)reads IPSECDIR/cacerts; a missing directory is no error.
func (d *Daemon) loadCACerts() error {
	if d.cfg.IPsecDir == "" {
		return nil
	}
	d.certs.ClearCAs()
	dir := filepath.Join(d.cfg.IPsecDir, "cacerts")
	err := d.certs.LoadCADir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	d.log.Logf("loaded %d CA certificates from %s", len(d.certs.CAs()), dir)
	if err != nil {
		return fmt.Errorf("loading CA certificates: %v", err)
	}
	return nil
}

// loadCRLs (re)reads IPSECDIR/crls (after the CAs: a CRL must verify with one).
func (d *Daemon) loadCRLs() error {
	if d.cfg.IPsecDir == "" {
		return nil
	}
	d.certs.ClearCRLs()
	dir := filepath.Join(d.cfg.IPsecDir, "crls")
	err := d.certs.LoadCRLDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	d.log.Logf("loaded %d CRLs from %s", len(d.certs.CRLs()), dir)
	if err != nil {
		return fmt.Errorf("loading CRLs: %v", err)
	}
	return nil
}

// endCerts reads the --cert of both ends and the --ca of the peer's end
// and sets what follows from them in c: our certificate and --sendcert,
// and the IDs the certificates imply when --id is not given (their
// subject DN, as pluto does).
func (d *Daemon) endCerts(c *Connection) error {
	fc := &c.Conn
	c.thisCert, c.thatCert, c.thatCA = nil, nil, nil
	fc.LocalCert = nil
	var ok bool
	if fc.SendCert, ok = fsm.ParseSendCert(c.This.SendCert); !ok {
		return fmt.Errorf("--sendcert %q: not one of yes, always, forced, ifasked, no, never", c.This.SendCert)
	}
	var err error
	if c.This.Cert != "" {
		if c.thisCert, err = d.loadEndCert(c.This.Cert); err != nil {
			return fmt.Errorf("--cert (this end): %v", err)
		}
		fc.LocalCert = c.thisCert.Raw
		if fc.LocalID.Type == 0 {
			fc.LocalID = fsm.ID{Type: spec.IDDerASN1DN, Data: c.thisCert.RawSubject}
		}
	}
	if c.That.Cert != "" {
		if c.thatCert, err = d.loadEndCert(c.That.Cert); err != nil {
			return fmt.Errorf("--cert (that end): %v", err)
		}
		if fc.RemoteID.Type == 0 {
			fc.RemoteID = fsm.ID{Type: spec.IDDerASN1DN, Data: c.thatCert.RawSubject}
		}
	}
	if ca := c.That.CA; ca != "" && ca != "%any" {
		if ca == "%same" {
			if c.thisCert == nil {
				return errors.New("--ca %same (that end): this end has no --cert")
			}
			c.thatCA = c.thisCert.RawIssuer
		} else if c.thatCA, err = certs.ParseDN(ca); err != nil {
			return fmt.Errorf("--ca (that end): %v", err)
		}
	}
	return nil
}

// loadEndCert reads a --cert file: as given, or relative to IPSECDIR/certs.
func (d *Daemon) loadEndCert(path string) (*x509.Certificate, error) {
	if !filepath.IsAbs(path) && d.cfg.IPsecDir != "" {
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(d.cfg.IPsecDir, "certs", path)
		}
	}
	cert, err := certs.LoadCertFile(path)
	if err != nil {
		return nil, err
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%s: the certificate's key is not RSA", path)
	}
	if now := d.cfg.Now(); now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		d.log.Logf("warning: certificate %q of %s is not valid now (%s to %s): peers will refuse it",
			certs.IDString(fsm.ID{Type: spec.IDDerASN1DN, Data: cert.RawSubject}), path,
			cert.NotBefore.UTC().Format(time.DateTime), cert.NotAfter.UTC().Format(time.DateTime))
	}
	d.certs.AddCert(cert)
	return cert, nil
}

// certKey is our private key for a certificate: the RSA key of
// ipsec.secrets whose public half is the certificate's (pluto finds it so,
// whatever ID the entry names).
func (d *Daemon) certKey(cert *x509.Certificate) (*rsa.PrivateKey, bool) {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || d.secrets == nil {
		return nil, false
	}
	for _, s := range d.secrets.Secrets() {
		if s.RSA != nil && s.RSA.PublicKey.Equal(pub) {
			return s.RSA, true
		}
	}
	return nil, false
}

// CertRequests implements fsm.CertEnv: the CA the connection asks the
// peer's certificate to be from (--ca of that end), else every loaded CA;
// nothing when a key for the peer is preloaded (whack --pubkeyrsa or that
// end's --cert) or no CA is loaded (pluto's rule for sending CR).
func (d *Daemon) CertRequests(c *fsm.Conn) [][]byte {
	conn := d.connOfConn(c)
	if conn == nil {
		return nil
	}
	if conn.thatCA != nil {
		return [][]byte{conn.thatCA}
	}
	peer := c.RemoteID
	if peer.Type == 0 {
		peer = fsm.AddrID(c.Remote.Addr())
	}
	if conn.thatCert != nil || len(d.pubkeys[peer.String()]) > 0 {
		return nil
	}
	return d.certs.CARequests()
}

// PeerCert implements fsm.CertEnv: the peer's certificate (the first of
// ders; the others are intermediates) must chain to a loaded CA (and to
// --ca of that end when given), be valid now and not revoked by a loaded
// CRL, and vouch for the peer's ID: a DN ID is its subject, any other ID
// one of its subjectAltNames.
func (d *Daemon) PeerCert(c *fsm.Conn, peer fsm.ID, ders [][]byte) (*rsa.PublicKey, error) {
	var chain []*x509.Certificate
	for i, der := range ders {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", i+1, err)
		}
		chain = append(chain, cert)
	}
	leaf := chain[0]
	subject := certs.IDString(fsm.ID{Type: spec.IDDerASN1DN, Data: leaf.RawSubject})
	d.log.Logf("received certificate %q (issuer %q)", subject,
		certs.IDString(fsm.ID{Type: spec.IDDerASN1DN, Data: leaf.RawIssuer}))
	if err := d.certs.Verify(leaf, chain[1:], d.cfg.Now()); err != nil {
		return nil, err
	}
	if conn := d.connOfConn(c); conn != nil && conn.thatCA != nil && !issuedBy(chain, conn.thatCA) {
		return nil, fmt.Errorf("certificate %q is not issued by --ca %q", subject,
			certs.IDString(fsm.ID{Type: spec.IDDerASN1DN, Data: conn.thatCA}))
	}
	if !certs.Matches(leaf, peer) {
		return nil, fmt.Errorf("ID '%s' is neither the subject of certificate %q nor one of its subjectAltNames", certs.IDString(peer), subject)
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("certificate %q has no RSA key", subject)
	}
	d.certs.AddCert(leaf)
	return pub, nil
}

// issuedBy reports whether a certificate of chain was issued by the CA
// named ca ("*" wildcards allowed, as pluto's trusted_ca).
func issuedBy(chain []*x509.Certificate, ca []byte) bool {
	for _, c := range chain {
		if ok, _ := certs.MatchDN(c.RawIssuer, ca); ok {
			return true
		}
	}
	return false
}

// connOfConn is the connection (or instance) behind an fsm.Conn.
func (d *Daemon) connOfConn(c *fsm.Conn) *Connection {
	if c == nil {
		return nil
	}
	if c.Instance == "" {
		if conn := d.conns[c.Name]; conn != nil && &conn.Conn == c {
			return conn
		}
	}
	for _, conn := range d.instances {
		if &conn.Conn == c {
			return conn
		}
	}
	if conn := d.connByKey(connKey(c)); conn != nil {
		return conn
	}
	return d.conns[c.Name]
}

// listCerts writes whack --listcerts, --listcacerts and --listcrls (and
// all three for --listall): lines of the certs package's listings.
func (d *Daemon) listCerts(w *whackConn, what string) {
	var b bytes.Buffer
	now := d.cfg.Now()
	switch what {
	case "certs":
		d.certs.ListCerts(&b, nil, now)
	case "cacerts":
		d.certs.ListCACerts(&b, now)
	case "crls":
		d.certs.ListCRLs(&b, now)
	}
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if b.Len() > 0 {
			w.line(whack.RCComment, l)
		}
	}
}

// certStatus is the --status line of a connection with certificates:
// "mycert: 'C=US, O=Test, CN=west'; sendcert: ifasked; CAs: 'C=US, O=Test, CN=Test CA'...'%any'"
// (our certificate's issuer, then the CA the peer's must be from); "" for
// a connection without.
func certStatus(c *Connection) string {
	if c.thisCert == nil && c.thatCert == nil && c.thatCA == nil {
		return ""
	}
	dn := func(der []byte) string {
		if der == nil {
			return "%any"
		}
		return certs.IDString(fsm.ID{Type: spec.IDDerASN1DN, Data: der})
	}
	mine, myCA := "%none", "%any"
	if c.thisCert != nil {
		mine, myCA = dn(c.thisCert.RawSubject), dn(c.thisCert.RawIssuer)
	}
	return fmt.Sprintf("mycert: '%s'; sendcert: %s; CAs: '%s'...'%s'", mine, c.Conn.SendCert, myCA, dn(c.thatCA))
}
