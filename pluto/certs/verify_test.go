package certs

import (
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	p := getPKI(t)
	rootOnly := storeWith(t, []*x509.Certificate{p.root}, p.rootCRL)
	withInter := storeWith(t, []*x509.Certificate{p.root, p.inter}, p.rootCRL, p.interCRL)
	withOld := storeWith(t, []*x509.Certificate{p.root, p.old})
	tests := []struct {
		name   string
		s      *Store
		leaf   *x509.Certificate
		inters []*x509.Certificate
		now    time.Time
		kind   error  // nil: must verify
		msg    string // the whole message, or "" to skip
		has    string // a part of the message
	}{
		{name: "west by root", s: rootOnly, leaf: p.west},
		{name: "east with the peer's intermediate", s: rootOnly, leaf: p.east, inters: []*x509.Certificate{p.inter}},
		{name: "east with a loaded intermediate", s: withInter, leaf: p.east},
		{name: "west by root, intermediate loaded too", s: withInter, leaf: p.west},
		{name: "the root itself", s: rootOnly, leaf: p.root},
		{name: "east without its intermediate", s: rootOnly, leaf: p.east, kind: ErrUnknownCA,
			msg: `certificate "C=CH, O=Linux strongSwan, CN=east" issuer "C=CH, O=Linux strongSwan, OU=Intermediate, CN=strongSwan Intermediate CA" is not a loaded CA`},
		{name: "revoked by root CRL", s: rootOnly, leaf: p.carol, kind: ErrRevoked,
			msg: `certificate "C=CH, O=Linux strongSwan, CN=carol" is revoked (serial 10:03, on Jun 01 10:00:00 UTC 2026, reason keyCompromise)`},
		{name: "revoked by intermediate CRL", s: withInter, leaf: p.dave, kind: ErrRevoked,
			msg: `certificate "C=CH, O=Linux strongSwan, CN=dave" is revoked (serial 10:04, on Jun 01 09:00:00 UTC 2026)`},
		{name: "revoked, peer sent the intermediate", s: withInter, leaf: p.dave, inters: []*x509.Certificate{p.inter}, kind: ErrRevoked},
		{name: "expired", s: rootOnly, leaf: p.expired, kind: ErrExpired,
			msg: `certificate "C=CH, O=Linux strongSwan, CN=expired" has expired (not after May 01 12:00:00 UTC 2026)`},
		{name: "not yet valid", s: rootOnly, leaf: p.notyet, kind: ErrNotYetValid,
			msg: `certificate "C=CH, O=Linux strongSwan, CN=notyet" is not yet valid (not before Jul 01 12:00:00 UTC 2026)`},
		{name: "good leaf after it expired", s: rootOnly, leaf: p.west, now: testNow.AddDate(3, 0, 0), kind: ErrExpired,
			has: `certificate "C=CH, O=Linux strongSwan, CN=west" has expired`},
		{name: "expired intermediate", s: withOld, leaf: p.frank, kind: ErrExpired,
			has: `certificate "C=CH, O=Linux strongSwan, CN=Old Intermediate CA" has expired`},
		{name: "unknown CA", s: withInter, leaf: p.mallory, kind: ErrUnknownCA,
			msg: `certificate "C=XX, O=Rogue, CN=mallory" issuer "C=XX, O=Rogue, CN=Rogue CA" is not a loaded CA`},
		{name: "unknown CA, peer sent it", s: withInter, leaf: p.mallory, inters: []*x509.Certificate{p.rogue}, kind: ErrUnknownCA,
			msg: `certificate "C=XX, O=Rogue, CN=Rogue CA" issuer "C=XX, O=Rogue, CN=Rogue CA" is not a loaded CA`},
		{name: "forged signature", s: rootOnly, leaf: p.forged, kind: ErrInvalid,
			has: `certificate "C=CH, O=Linux strongSwan, CN=forged": signature of issuer "C=CH, O=Linux strongSwan, CN=strongSwan Root CA" does not verify`},
		{name: "signed by an end certificate", s: rootOnly, leaf: p.eve, inters: []*x509.Certificate{p.west}, kind: ErrInvalid,
			has: `certificate "C=CH, O=Linux strongSwan, CN=eve"`},
		{name: "empty store", s: NewStore(), leaf: p.west, kind: ErrUnknownCA,
			msg: `certificate "C=CH, O=Linux strongSwan, CN=west" issuer "C=CH, O=Linux strongSwan, CN=strongSwan Root CA" is not a loaded CA`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			err := tc.s.Verify(tc.leaf, tc.inters, now)
			if tc.kind == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted it, want %v", tc.kind)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %v", err, tc.kind)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Cert == nil {
				t.Errorf("error %q is not a *VerifyError naming a certificate", err)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("message\n got %s\nwant %s", err, tc.msg)
			}
			if tc.has != "" && !strings.Contains(err.Error(), tc.has) {
				t.Errorf("message %q lacks %q", err, tc.has)
			}
		})
	}
	if err := rootOnly.Verify(nil, nil, testNow); err == nil {
		t.Error("Verify(nil) succeeded")
	}
}

func TestStrictCRLPolicy(t *testing.T) {
	p := getPKI(t)
	s := storeWith(t, []*x509.Certificate{p.root, p.inter}, p.rootCRL)
	if err := s.Verify(p.east, nil, testNow); err != nil {
		t.Fatalf("not strict: %v", err)
	}
	s.SetStrictCRLPolicy(true)
	if err := s.Verify(p.west, nil, testNow); err != nil {
		t.Errorf("strict, root CRL loaded: %v", err)
	}
	err := s.Verify(p.east, nil, testNow)
	if !errors.Is(err, ErrNoCRL) || !strings.Contains(err.Error(), `no CRL of issuer "C=CH, O=Linux strongSwan, OU=Intermediate, CN=strongSwan Intermediate CA"`) {
		t.Errorf("strict, no intermediate CRL: %v", err)
	}
	late := testNow.Add(8 * 24 * time.Hour)
	if err := s.Verify(p.west, nil, late); !errors.Is(err, ErrNoCRL) || !strings.Contains(err.Error(), "out of date") {
		t.Errorf("strict, CRL past nextUpdate: %v", err)
	}
	s.SetStrictCRLPolicy(false)
	if err := s.Verify(p.west, nil, late); err != nil {
		t.Errorf("not strict, CRL past nextUpdate: %v", err)
	}
}

func TestCRLReplacement(t *testing.T) {
	p := getPKI(t)
	// The newer CRL (no entries) wins whatever the load order.
	s := storeWith(t, []*x509.Certificate{p.root}, p.rootCRLNewer, p.rootCRL)
	if err := s.Verify(p.carol, nil, testNow); err != nil {
		t.Errorf("older CRL replaced the newer one: %v", err)
	}
	s = storeWith(t, []*x509.Certificate{p.root}, p.rootCRL, p.rootCRLNewer)
	if err := s.Verify(p.carol, nil, testNow); err != nil {
		t.Errorf("newer CRL did not replace the older one: %v", err)
	}
	if n := len(s.CRLs()); n != 1 {
		t.Errorf("%d CRLs, want 1", n)
	}
	s.ClearCRLs()
	if n := len(s.CRLs()); n != 0 {
		t.Errorf("%d CRLs after ClearCRLs", n)
	}
	s.ClearCAs()
	if err := s.Verify(p.west, nil, testNow); !errors.Is(err, ErrUnknownCA) {
		t.Errorf("after ClearCAs: %v", err)
	}
}

func TestAddCARefusesEndCertificate(t *testing.T) {
	p := getPKI(t)
	err := NewStore().AddCA(p.plain)
	if err == nil || !strings.Contains(err.Error(), `certificate "C=CH, O=Linux strongSwan, CN=plain" is not a CA certificate`) {
		t.Errorf("AddCA(end certificate): %v", err)
	}
}

// TestConcurrentVerify verifies from several goroutines while CAs and CRLs
// are loaded and cleared (run with -race).
func TestConcurrentVerify(t *testing.T) {
	p := getPKI(t)
	s := storeWith(t, []*x509.Certificate{p.root}, p.rootCRL)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if err := s.Verify(p.west, nil, testNow); err != nil && !errors.Is(err, ErrUnknownCA) {
					t.Errorf("Verify: %v", err)
					return
				}
				_ = s.CARequests()
				s.ListCACerts(&strings.Builder{}, testNow)
			}
		}()
	}
	for j := 0; j < 20; j++ {
		_ = s.AddCA(p.inter)
		s.ClearCAs()
		_ = s.AddCA(p.root)
	}
	wg.Wait()
}

// TestAddCAReplaces: a CA with the subject and key of a loaded one replaces
// it (a renewed root); the identical certificate is kept once.
func TestAddCAReplaces(t *testing.T) {
	p := getPKI(t)
	renewed := mkCert(certSpec{dn: "C=CH, O=Linux strongSwan, CN=strongSwan Root CA", serial: 99, ca: true, key: p.rootKey,
		from: testNow.AddDate(-1, 0, 0), to: testNow.AddDate(20, 0, 0)})
	s := storeWith(t, []*x509.Certificate{p.root, p.inter, p.root})
	before := s.CAs()
	if err := s.AddCA(renewed); err != nil {
		t.Fatal(err)
	}
	after := s.CAs()
	if len(before) != 2 || len(after) != 2 || after[0] != renewed || before[0] != p.root {
		t.Fatalf("CAs before %d, after %d; first after is serial %v", len(before), len(after), after[0].SerialNumber)
	}
	if err := s.Verify(p.west, nil, testNow); err != nil {
		t.Errorf("west under the renewed root: %v", err)
	}
	// A self-signed v1 certificate without basicConstraints is accepted as CA.
	v1 := mkCert(certSpec{dn: "CN=legacy root", serial: 5, noBC: true})
	if err := s.AddCA(v1); err != nil {
		t.Errorf("AddCA(no basicConstraints): %v", err)
	}
}
