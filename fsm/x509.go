package fsm

// X.509 certificates in phase 1 (RFC 2408 §3.9-3.10, RFC 2409 §5.1): with
// signature authentication a peer may send its certificate in CERT payloads
// next to its SIG, and ask for ours with CR payloads naming the CAs it
// trusts. Where they travel (as pluto and strongSwan place them):
//
//	Main Mode         MR2: KE, Nr, [CR]   MI3: ID, [CERT], [CR], SIG   MR3: ID, [CERT], SIG
//	Aggressive Mode   AI1: ..., [CR]      AR1: ..., [CERT], [CR], SIG  AI2: [CERT], SIG
//
// The machine only carries the payloads; the Env (CertEnv) decides what to
// ask for and checks what arrives (chain to a loaded CA, revocation, the
// binding of the ID payload to the certificate).

import (
	"crypto/rsa"

	"goswan/payloads"
	"goswan/spec"
)

// SendCert is when we send our certificate (pluto's --sendcert).
type SendCert uint8

const (
	// SendCertIfAsked sends it when the peer sent a CR payload (the default).
	SendCertIfAsked SendCert = iota
	// SendCertAlways sends it whether asked or not (yes, always, forced).
	SendCertAlways
	// SendCertNever never sends it (no, never): the peer must have our key.
	SendCertNever
)

func (s SendCert) String() string {
	switch s {
	case SendCertAlways:
		return "always"
	case SendCertNever:
		return "never"
	}
	return "ifasked"
}

// ParseSendCert reads --sendcert: yes|always|forced, ifasked, no|never
// ("" is ifasked).
func ParseSendCert(s string) (SendCert, bool) {
	switch s {
	case "", "ifasked":
		return SendCertIfAsked, true
	case "yes", "always", "forced":
		return SendCertAlways, true
	case "no", "never":
		return SendCertNever, true
	}
	return 0, false
}

// CertEnv is implemented by an Env that authenticates with X.509
// certificates. The machine calls it only when the Env implements it.
type CertEnv interface {
	// CertRequests returns the CA names (DER distinguished names; an empty
	// one means any CA) to send in CR payloads asking c's peer for its
	// certificate; none when no certificate is wanted.
	CertRequests(c *Conn) [][]byte
	// PeerCert checks the certificates the peer sent (its own first, then
	// any intermediate CAs, DER) for connection c and the peer's ID payload:
	// a chain to a loaded CA, valid now, not revoked, vouching for peer.
	// It returns the key that must verify the peer's signature; the error
	// says which check failed.
	PeerCert(c *Conn, peer ID, certs [][]byte) (*rsa.PublicKey, error)
}

// noteCR records that the peer asked for our certificate.
func (m *Machine) noteCR(st *State, md *Digest) {
	for _, p := range md.Msg.All(spec.PayloadCR) {
		if cr, ok := p.(*payloads.CR); ok {
			m.debug(st, "received a certificate request (%s, %d octets of CA name)", cr.Encoding, len(cr.Authority))
			if cr.Encoding == spec.CertX509Signature {
				st.gotCR = true
			}
		}
	}
}

// certPayloads is what goes before our SIG: our CERT when --sendcert says
// so, then CR payloads when withCR and the Env wants the peer's certificate.
func (m *Machine) certPayloads(st *State, withCR bool) []payloads.Payload {
	var ps []payloads.Payload
	if st.Auth.Base() != spec.AuthRSASig {
		return nil
	}
	c := st.Conn
	if len(c.LocalCert) > 0 && (c.SendCert == SendCertAlways || c.SendCert == SendCertIfAsked && st.gotCR) {
		ps = append(ps, &payloads.Cert{Encoding: spec.CertX509Signature, Data: c.LocalCert})
	}
	if withCR {
		ps = append(ps, m.crPayloads(st)...)
	}
	return ps
}

// crPayloads asks the peer for its certificate (signature authentication
// with an Env that checks certificates).
func (m *Machine) crPayloads(st *State) []payloads.Payload {
	ce, ok := m.env.(CertEnv)
	if !ok || st.Auth.Base() != spec.AuthRSASig {
		return nil
	}
	var ps []payloads.Payload
	for _, ca := range ce.CertRequests(st.Conn) {
		ps = append(ps, &payloads.CR{Encoding: spec.CertX509Signature, Authority: ca})
	}
	return ps
}

// peerCertKey checks the X.509 certificates of md, if any, and returns the
// public key of the peer's; nil (and no error) when none was sent.
func (m *Machine) peerCertKey(st *State, md *Digest) (*rsa.PublicKey, error) {
	var ders [][]byte
	for _, p := range md.Msg.All(spec.PayloadCert) {
		c, ok := p.(*payloads.Cert)
		if !ok {
			continue
		}
		if c.Encoding != spec.CertX509Signature {
			m.log(st, 0, "ignoring certificate payload with encoding %s", c.Encoding)
			continue
		}
		ders = append(ders, c.Data)
	}
	if len(ders) == 0 {
		return nil, nil
	}
	ce, ok := m.env.(CertEnv)
	if !ok {
		m.log(st, 0, "ignoring the peer's certificate: no X.509 support")
		return nil, nil
	}
	key, err := ce.PeerCert(st.Conn, st.PeerID, ders)
	if err != nil {
		return nil, notifyErr(spec.InvalidCertificate, "X.509 certificate of '%s' refused: %v", st.PeerID, err)
	}
	return key, nil
}
