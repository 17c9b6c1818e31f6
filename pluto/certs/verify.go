package certs

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// MaxCAPathLen is pluto's MAX_CA_PATH_LEN: at most this many CA
// certificates above the end certificate.
const MaxCAPathLen = 7

// The kinds of Verify failures, for errors.Is.
var (
	ErrExpired     = errors.New("certificate has expired")
	ErrNotYetValid = errors.New("certificate is not yet valid")
	ErrRevoked     = errors.New("certificate is revoked")
	ErrUnknownCA   = errors.New("issuer is not a loaded CA")
	ErrNoCRL       = errors.New("no current CRL (strictcrlpolicy)")
	ErrInvalid     = errors.New("invalid certificate chain")
)

// VerifyError is a Verify failure: the certificate at fault, the kind
// (one of the Err* values, for errors.Is) and a message naming the
// certificate by its subject DN.
type VerifyError struct {
	Cert *x509.Certificate
	Kind error
	Msg  string
}

func (e *VerifyError) Error() string { return e.Msg }
func (e *VerifyError) Unwrap() error { return e.Kind }

func verifyErr(c *x509.Certificate, kind error, format string, a ...any) *VerifyError {
	return &VerifyError{Cert: c, Kind: kind, Msg: fmt.Sprintf(format, a...)}
}

// Verify checks leaf as pluto's verify_x509cert does: it must chain,
// through the intermediates the peer sent and the loaded non-root CAs, to
// a loaded self-signed CA (any extended key usage), every certificate of
// the chain must be valid at now, and none but the root may be listed in
// a loaded CRL of its issuer. Errors are *VerifyError:
//
//	certificate "C=CH, O=Acme, CN=west" has expired (not after Jan 01 00:00:00 UTC 2025)
//	certificate "C=CH, O=Acme, CN=west" is revoked (serial 02, on ... UTC 2025, reason keyCompromise)
//	certificate "C=CH, O=Acme, CN=west" issuer "C=CH, O=Other, CN=CA" is not a loaded CA
func (s *Store) Verify(leaf *x509.Certificate, intermediates []*x509.Certificate, now time.Time) error {
	if leaf == nil {
		return &VerifyError{Kind: ErrInvalid, Msg: "no certificate"}
	}
	if err := checkTime(leaf, now); err != nil {
		return err
	}
	s.mu.RLock()
	roots, inters := s.roots, s.inters.Clone()
	cas, crls, strict := s.cas, s.crls, s.strict
	s.mu.RUnlock()
	for _, c := range intermediates {
		if c != nil {
			inters.AddCert(c)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inters,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return explain(leaf, intermediates, cas, now, err)
	}
	var first error
	for _, chain := range chains {
		err := checkChain(chain, crls, now, strict)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func checkTime(c *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(c.NotBefore):
		return verifyErr(c, ErrNotYetValid, "certificate %q is not yet valid (not before %s)", dnString(c.RawSubject), timetoa(c.NotBefore))
	case now.After(c.NotAfter):
		return verifyErr(c, ErrExpired, "certificate %q has expired (not after %s)", dnString(c.RawSubject), timetoa(c.NotAfter))
	}
	return nil
}

// checkChain applies pluto's path length limit and the CRLs to a chain
// crypto/x509 built (leaf first, root last).
func checkChain(chain []*x509.Certificate, crls []*crlEntry, now time.Time, strict bool) error {
	if len(chain) > MaxCAPathLen+1 {
		return verifyErr(chain[0], ErrInvalid, "certificate %q: maximum CA path length of %d levels exceeded", dnString(chain[0].RawSubject), MaxCAPathLen)
	}
	for i := 0; i+1 < len(chain); i++ {
		c, issuer := chain[i], chain[i+1]
		var crl *crlEntry
		for _, e := range crls {
			if sameCA(e.signer, issuer) {
				crl = e
				break
			}
		}
		if crl == nil {
			if strict {
				return verifyErr(c, ErrNoCRL, "certificate %q: no CRL of issuer %q is loaded (strictcrlpolicy)", dnString(c.RawSubject), dnString(issuer.RawSubject))
			}
			continue
		}
		if strict && !crl.crl.NextUpdate.IsZero() && now.After(crl.crl.NextUpdate) {
			return verifyErr(c, ErrNoCRL, "certificate %q: the CRL of issuer %q is out of date (next update %s; strictcrlpolicy)", dnString(c.RawSubject), dnString(issuer.RawSubject), timetoa(crl.crl.NextUpdate))
		}
		if r, ok := crl.revoked[c.SerialNumber.String()]; ok {
			why := ""
			if r.ReasonCode != 0 {
				why = ", reason " + reasonName(r.ReasonCode)
			}
			return verifyErr(c, ErrRevoked, "certificate %q is revoked (serial %s, on %s%s)", dnString(c.RawSubject), serialString(c), timetoa(r.RevocationTime), why)
		}
	}
	return nil
}

// explain turns a crypto/x509 failure into a message naming the
// certificate at fault, given the intermediates the peer sent and the
// loaded CAs.
func explain(leaf *x509.Certificate, peer, cas []*x509.Certificate, now time.Time, err error) error {
	known := append(append([]*x509.Certificate(nil), peer...), cas...)
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) && ci.Cert != nil {
		if ci.Reason == x509.Expired {
			if e := checkTime(ci.Cert, now); e != nil {
				return e
			}
		}
		if ci.Reason == x509.NotAuthorizedToSign {
			return verifyErr(ci.Cert, ErrInvalid, "certificate %q is not a CA and cannot sign certificates", dnString(ci.Cert.RawSubject))
		}
		return verifyErr(ci.Cert, ErrInvalid, "certificate %q: %v", dnString(ci.Cert.RawSubject), err)
	}
	// Walk up from the leaf as pluto does to find the link that breaks.
	cur := leaf
	for depth := 0; depth <= MaxCAPathLen; depth++ {
		var parent *x509.Certificate
		var sigErr error
		for _, k := range known {
			if k == nil || !SameDN(k.RawSubject, cur.RawIssuer) {
				continue
			}
			if e := cur.CheckSignatureFrom(k); e != nil {
				sigErr = e
				continue
			}
			parent = k
			break
		}
		if parent == nil {
			if sigErr != nil {
				return verifyErr(cur, ErrInvalid, "certificate %q: signature of issuer %q does not verify: %v", dnString(cur.RawSubject), dnString(cur.RawIssuer), sigErr)
			}
			return verifyErr(cur, ErrUnknownCA, "certificate %q issuer %q is not a loaded CA", dnString(cur.RawSubject), dnString(cur.RawIssuer))
		}
		if e := checkTime(parent, now); e != nil {
			return e
		}
		if selfSigned(parent) {
			if !slices.ContainsFunc(cas, func(c *x509.Certificate) bool { return bytes.Equal(c.Raw, parent.Raw) }) {
				return verifyErr(parent, ErrUnknownCA, "certificate %q issuer %q is not a loaded CA", dnString(parent.RawSubject), dnString(parent.RawIssuer))
			}
			break
		}
		cur = parent
	}
	return verifyErr(leaf, ErrInvalid, "certificate %q: no valid chain to a loaded CA: %v", dnString(leaf.RawSubject), err)
}

// reasonName names a CRL reason code (RFC 5280 §5.3.1).
func reasonName(code int) string {
	names := map[int]string{
		0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged",
		4: "superseded", 5: "cessationOfOperation", 6: "certificateHold",
		8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise",
	}
	if n, ok := names[code]; ok {
		return n
	}
	return fmt.Sprintf("%d", code)
}
