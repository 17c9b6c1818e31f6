package fsm

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

// certEnv adds CertEnv to a testEnv: it asks for certificates of one CA
// name and accepts any certificate that parses (the daemon's checks are
// tested in package pluto), or refuses them all with fail.
type certEnv struct {
	*testEnv
	ca   []byte
	fail error
	got  [][]byte // the peer certificates PeerCert was given
}

func (e *certEnv) CertRequests(c *Conn) [][]byte { return [][]byte{e.ca} }
func (e *certEnv) PeerCert(c *Conn, peer ID, certs [][]byte) (*rsa.PublicKey, error) {
	e.got = append(e.got, certs[0])
	if e.fail != nil {
		return nil, e.fail
	}
	cert, err := x509.ParseCertificate(certs[0])
	if err != nil {
		return nil, err
	}
	return cert.PublicKey.(*rsa.PublicKey), nil
}

func selfSigned(t *testing.T, k *rsa.PrivateKey, cn string) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// certPairSetup makes a signature-authenticated pair where each end has a
// certificate and no raw key of the peer; withCertEnv says which ends
// implement CertEnv.
func certPairSetup(t *testing.T, aggr bool, westSend, eastSend SendCert, westCE, eastCE bool) (*testNet, *testEnv, *testEnv, *certEnv, *certEnv) {
	wk, ek := testRSAKeys(t)
	n, west, east := newPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
	wcert, ecert := selfSigned(t, wk, "west"), selfSigned(t, ek, "east")
	for _, x := range []struct {
		e    *testEnv
		k    *rsa.PrivateKey
		cert []byte
		send SendCert
	}{{west, wk, wcert, westSend}, {east, ek, ecert, eastSend}} {
		for _, c := range x.e.conns {
			c.Auth, c.P1.Auth, c.AggrMode = spec.AuthRSASig, spec.AuthRSASig, aggr
			c.LocalCert, c.SendCert = x.cert, x.send
		}
		x.e.psk, x.e.rsaKey = nil, x.k
	}
	var wce, ece *certEnv
	if westCE {
		wce = &certEnv{testEnv: west, ca: []byte("west's CA")}
		west.m = NewMachine(wce, DefaultConfig)
	}
	if eastCE {
		ece = &certEnv{testEnv: east, ca: []byte("east's CA")}
		east.m = NewMachine(ece, DefaultConfig)
	}
	return n, west, east, wce, ece
}

// crIn reports whether the cleartext message b carries a CR naming ca.
func crIn(t *testing.T, b []byte, ca string) bool {
	msg, err := payloads.DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range msg.All(spec.PayloadCR) {
		if cr := p.(*payloads.CR); cr.Encoding == spec.CertX509Signature && string(cr.Authority) == ca {
			return true
		}
	}
	return false
}

// TestX509MainMode: with --sendcert ifasked on both ends, east's CR in MR2
// makes west send its certificate in MI3, west's CR there makes east send
// its own in MR3, and each end authenticates the other with the key of the
// certificate it received.
func TestX509MainMode(t *testing.T) {
	n, west, east, wce, ece := certPairSetup(t, false, SendCertIfAsked, SendCertIfAsked, true, true)
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Fatalf("west: %s\n%s\neast:\n%s", got, west.allLines(), east.allLines())
	}
	if len(n.trace) < 6 || !crIn(t, n.trace[3].b, "east's CA") || crIn(t, n.trace[2].b, "west's CA") {
		t.Errorf("east's CR is not in MR2 alone")
	}
	if len(ece.got) != 1 || !bytes.Equal(ece.got[0], west.conns[0].LocalCert) ||
		len(wce.got) != 1 || !bytes.Equal(wce.got[0], east.conns[0].LocalCert) {
		t.Errorf("certificates received: east %d, west %d", len(ece.got), len(wce.got))
	}
	for _, e := range []*testEnv{west, east} {
		if !e.anyLine("with a 2048-bit RSA signature (X.509 certificate)") {
			t.Errorf("no certificate authentication logged:\n%s", e.allLines())
		}
	}
}

// TestX509SendCert: --sendcert never and ifasked without a CR send no
// certificate (the peer has no key: refused); always sends it unasked; a
// peer without X.509 support ignores the certificate and uses its raw keys;
// a certificate the Env refuses fails with INVALID_CERTIFICATE.
func TestX509SendCert(t *testing.T) {
	wk, _ := testRSAKeys(t)
	t.Run("never", func(t *testing.T) {
		n, west, east, _, ece := certPairSetup(t, false, SendCertNever, SendCertIfAsked, true, true)
		west.m.Initiate(n.now, west.conns[0], "w")
		n.pump(t)
		n.afterAll(t)
		if len(ece.got) != 0 || countStates(east.m, isISAKMP) != 0 {
			t.Errorf("east got %d certificates, states %s", len(ece.got), stateSummary(east.m))
		}
		if !east.anyLine("no RSA public key known for '192.0.2.1' and no certificate received") {
			t.Errorf("east:\n%s", east.allLines())
		}
	})
	t.Run("always-to-plain-peer", func(t *testing.T) {
		// east has no CertEnv: it sends no CR, yet west (always) sends its
		// certificate; east ignores it and verifies with its raw key.
		n, west, east, wce, _ := certPairSetup(t, false, SendCertAlways, SendCertNever, true, false)
		east.peerKeys = []*rsa.PublicKey{&wk.PublicKey}
		wce.fail = errors.New("not expected")
		_, ek := testRSAKeys(t)
		west.peerKeys = []*rsa.PublicKey{&ek.PublicKey}
		west.m.Initiate(n.now, west.conns[0], "w")
		n.pump(t)
		if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
			t.Fatalf("east: %s\n%s", got, east.allLines())
		}
		if !east.anyLine("ignoring the peer's certificate: no X.509 support") || len(wce.got) != 0 {
			t.Errorf("east:\n%s", east.allLines())
		}
	})
	t.Run("refused", func(t *testing.T) {
		n, west, east, _, ece := certPairSetup(t, false, SendCertIfAsked, SendCertIfAsked, true, true)
		ece.fail = errors.New(`certificate "CN=west" is revoked`)
		west.m.Initiate(n.now, west.conns[0], "w")
		n.pump(t)
		n.afterAll(t)
		if countStates(east.m, isISAKMP) != 0 || countStates(west.m, isISAKMP) != 0 {
			t.Errorf("established: %s / %s", stateSummary(west.m), stateSummary(east.m))
		}
		if !east.anyLine(`X.509 certificate of '192.0.2.1' refused: certificate "CN=west" is revoked`) {
			t.Errorf("east:\n%s", east.allLines())
		}
	})
}

// TestX509Aggressive: Aggressive Mode carries CR in AI1 and AR1 and the
// certificates next to SIG_R and SIG_I.
func TestX509Aggressive(t *testing.T) {
	n, west, east, wce, ece := certPairSetup(t, true, SendCertIfAsked, SendCertIfAsked, true, true)
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if got := stateSummary(east.m); got != "#1 STATE_AGGR_R2, #2 STATE_QUICK_R2" {
		t.Fatalf("east: %s\n%s\nwest:\n%s", got, east.allLines(), west.allLines())
	}
	if !crIn(t, n.trace[0].b, "west's CA") || !crIn(t, n.trace[1].b, "east's CA") {
		t.Errorf("CR missing from AI1 or AR1")
	}
	if len(ece.got) != 1 || len(wce.got) != 1 {
		t.Errorf("certificates received: east %d, west %d", len(ece.got), len(wce.got))
	}
}

// TestDNMatchHook: without package certs DN identities compare octet by
// octet; an installed matcher (certs installs pluto's match_dn) decides.
func TestDNMatchHook(t *testing.T) {
	a := ID{Type: spec.IDDerASN1DN, Data: []byte{0x30, 0x00}}
	b := ID{Type: spec.IDDerASN1DN, Data: []byte{0x30, 0x01}}
	saved := dnFuncs
	defer func() { dnFuncs = saved }()
	dnFuncs.match = nil
	if a.Matches(b) || !a.Matches(a) {
		t.Error("octet comparison")
	}
	dnFuncs.match = func(p, d []byte) bool { return true }
	if !a.Matches(b) || a.Matches(ID{Type: spec.IDFQDN, Data: a.Data}) {
		t.Error("hook not used for DNs only")
	}
}
