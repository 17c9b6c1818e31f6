package interop

// X.509 interop: our pluto with certificates from a test CA this file
// makes (crypto/x509, pluto/certs/testpki) against strongSwan (swanctl
// x509/, x509ca/, x509crl/, private/), libreswan (an NSS database with the
// CA trusted CT,,, the CRL and its own certificate and key from PKCS#12)
// and a second goswan pluto, both roles; then certificates that are revoked
// or expired, refused by us and by the peer.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"goswan/pluto/certs/testpki"
)

const caDN = "C=US, O=Test, CN=Interop CA"

func sideDN(side string) string { return "C=US, O=Test, CN=" + side }

// interopPKI is the CA with good certificates for west and east and, for
// west's DN, a revoked and an expired one (the CRL lists the revoked).
type interopPKI struct {
	p               *testpki.PKI
	leaves          map[string]*testpki.Leaf // west, east, west-revoked, west-expired
	p12             map[string]string        // PKCS#12 of each leaf (libreswan)
	dir             string
	caFile, crlFile string
}

func newInteropPKI(t *testing.T) *interopPKI {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	p, err := testpki.New(dir, caDN, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	x := &interopPKI{p: p, dir: dir, leaves: map[string]*testpki.Leaf{}, p12: map[string]string{},
		caFile: p.CAFile(), crlFile: p.CRLFile()}
	for _, c := range []struct {
		name string
		spec testpki.Spec
	}{
		{"west", testpki.Spec{DN: sideDN("west")}}, {"east", testpki.Spec{DN: sideDN("east")}},
		{"west-revoked", testpki.Spec{DN: sideDN("west")}}, {"west-expired", testpki.Spec{DN: sideDN("west"), Expired: true}},
	} {
		name, spec := c.name, c.spec
		if x.leaves[name], err = p.Issue(name, spec); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name+".p12")
		out, err := exec.Command("openssl", "pkcs12", "-export", "-inkey", x.leaves[name].KeyFile,
			"-in", x.leaves[name].CertFile, "-name", name, "-passout", "pass:", "-out", f).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl pkcs12: %v %s", err, out)
		}
		x.p12[name] = f
	}
	if err := p.Revoke(x.leaves["west-revoked"]); err != nil {
		t.Fatal(err)
	}
	return x
}

// certCase is one X.509 scenario: which certificate each side presents
// (by leaf name) and, for refusals, who refuses and the log line.
type certCase struct {
	name     string
	ourLeaf  string
	peerLeaf string
	refuser  string // "" (established), "us" or "peer"
	want     *regexp.Regexp
	aggr     bool // Aggressive Mode
}

// certScenario prepares s for X.509 with the PKI: our plutos load the CA
// and CRL (--ipsecdir) and authenticate with their leaf; the peer is set up
// before and after it starts.
func (x *interopPKI) certScenario(s *scenario, c certCase) {
	s.plutoArgs = []string{"--ipsecdir", x.dir, "--debug-control"}
	leafOf := func(side string) *testpki.Leaf {
		if side == s.ourNS {
			return x.leaves[c.ourLeaf]
		}
		return x.leaves[c.peerLeaf]
	}
	s.configFn = func(o *ours, self, selfIP, selfNet, peer, peerIP, peerNet string) error {
		leaf := leafOf(self)
		if err := os.WriteFile(filepath.Join(o.dir, "ipsec.secrets"), []byte(": RSA "+leaf.KeyFile+"\n"), 0o600); err != nil {
			return err
		}
		args := []string{"--name", "west-east", "--host", selfIP, "--client", selfNet, "--id", sideDN(self), "--cert", leaf.CertFile,
			"--to", "--host", peerIP, "--client", peerNet, "--id", sideDN(peer), "--tunnel", "--rsasig", "--encrypt", "--keyingtries", "1"}
		if s.aggr {
			args = append(args, "--aggrmode")
		}
		for _, a := range [][]string{{"--rereadsecrets"}, append(args, s.p.ours...)} {
			if out, code := o.whack(a...); code != 0 {
				return fmt.Errorf("whack %v on %s: exit %d %s", a[:2], self, code, out)
			}
		}
		return nil
	}
	dir := func() string { return filepath.Join(peersDir, "run", s.name) }
	switch s.peer {
	case "lsw":
		// The NSS database exists before lsw.sh starts (it then skips
		// initnss): our CA trusted for peers, the CRL, the peer's key.
		s.beforePeer = func() error {
			s.name = s.peerNS + "-lsw"
			nss := filepath.Join(dir(), "nss")
			os.RemoveAll(nss)
			if err := os.MkdirAll(nss, 0o700); err != nil {
				return err
			}
			db := "sql:" + nss
			for _, cmd := range [][]string{
				{"certutil", "-N", "-d", db, "--empty-password"},
				{"pk12util", "-i", x.p12[c.peerLeaf], "-d", db, "-W", "", "-K", ""},
				{"certutil", "-A", "-d", db, "-n", "interop-ca", "-t", "CT,,", "-a", "-i", x.caFile},
				{"crlutil", "-I", "-d", db, "-i", x.crlFile},
			} {
				if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
					return fmt.Errorf("%v: %v %s", cmd, err, out)
				}
			}
			return nil
		}
		s.afterPeer = func() error {
			f := filepath.Join(dir(), "ipsec.conf")
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			conf := strings.Replace(string(b), "authby=secret", "authby=rsasig", 1)
			conf = regexp.MustCompile(`(?m)^\tleftid=.*$`).ReplaceAllString(conf,
				fmt.Sprintf("\tleftid=%q\n\tleftcert=%s\n\tleftsendcert=always", sideDN(s.peerNS), c.peerLeaf))
			// rightca makes libreswan send a CR in MR2 (and our --sendcert
			// ifasked answer it).
			conf = regexp.MustCompile(`(?m)^\trightid=.*$`).ReplaceAllString(conf, fmt.Sprintf("\trightid=%q\n\trightca=%%same", sideDN(s.ourNS)))
			if err := os.WriteFile(f, []byte(conf), 0o644); err != nil {
				return err
			}
			if out, err := runScript(s.t, s.env(), "lsw.sh", "ipsec", s.name, "auto", "--config", f, "--replace", "west-east"); err != nil {
				return fmt.Errorf("auto --replace: %v %s", err, out)
			}
			return nil
		}
	case "ss":
		// ss.sh start loads whatever swanctl/ holds: remove an earlier
		// run's CA and CRL (same names, other keys) first.
		s.beforePeer = func() error {
			s.name = s.peerNS + "-ss"
			for _, d := range []string{"x509", "x509ca", "x509crl", "private"} {
				if err := os.RemoveAll(filepath.Join(dir(), "swanctl", d)); err != nil {
					return err
				}
			}
			return nil
		}
		s.afterPeer = func() error {
			sw := filepath.Join(dir(), "swanctl")
			leaf := x.leaves[c.peerLeaf]
			for _, cp := range []struct{ from, to string }{
				{leaf.CertFile, "x509/local.pem"}, {leaf.KeyFile, "private/local.key"},
				{x.caFile, "x509ca/ca.pem"}, {x.crlFile, "x509crl/ca.crl"},
			} {
				b, err := os.ReadFile(cp.from)
				if err != nil {
					return err
				}
				os.MkdirAll(filepath.Dir(filepath.Join(sw, cp.to)), 0o700)
				if err := os.WriteFile(filepath.Join(sw, cp.to), b, 0o600); err != nil {
					return err
				}
			}
			f := filepath.Join(sw, "swanctl.conf")
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			conf := string(b)
			conf = regexp.MustCompile(`(?s)local \{.*?\n        \}`).ReplaceAllString(conf,
				fmt.Sprintf("local {\n            auth = pubkey\n            certs = local.pem\n            id = \"%s\"\n        }", sideDN(s.peerNS)))
			conf = regexp.MustCompile(`(?s)remote \{.*?\n        \}`).ReplaceAllString(conf,
				fmt.Sprintf("remote {\n            auth = pubkey\n            id = \"%s\"\n        }", sideDN(s.ourNS)))
			if err := os.WriteFile(f, []byte(conf), 0o600); err != nil {
				return err
			}
			out, err := runScript(s.t, s.env(), "ss.sh", "swanctl", s.name, "--load-all", "--noprompt")
			if err != nil {
				return fmt.Errorf("swanctl --load-all: %v %s", err, out)
			}
			if !strings.Contains(out, "x509crl/ca.crl'") || !strings.Contains(out, "x509ca/ca.pem'") || strings.Contains(out, "is not newer") {
				return fmt.Errorf("swanctl did not load the CA and the CRL:\n%s", out)
			}
			return nil
		}
	}
}

// peerLog is the log of the peer instance (or of the "ours" peer).
func (s *scenario) peerLog() string {
	if s.peer == "ours" {
		return s.peerUs.log.String()
	}
	f := "charon.log"
	if s.peer == "lsw" {
		f = "pluto.log"
	}
	b, _ := os.ReadFile(filepath.Join(peersDir, "run", s.name, f))
	return string(b)
}

// TestInteropCerts: certificates in Main Mode against each peer, both
// roles, Main and Aggressive Mode, and the refusals of revoked and expired
// certificates.
func TestInteropCerts(t *testing.T) {
	setup(t)
	x := newInteropPKI(t)
	mx := &matrix{rows: map[string]string{}}
	defer mx.report(t)
	good := certCase{name: "x509", ourLeaf: "west", peerLeaf: "east"}
	type run struct {
		peer, role string
		c          certCase
	}
	var runs []run
	aggr := good
	aggr.name, aggr.aggr = "x509-aggressive", true
	for _, c := range []certCase{good, aggr} {
		for _, peer := range append(peers(), "ours") {
			for _, role := range []string{"initiator", "responder"} {
				c := c
				if role == "responder" {
					c.ourLeaf, c.peerLeaf = "east", "west"
				}
				runs = append(runs, run{peer, role, c})
			}
		}
	}
	for _, peer := range peers() {
		// The peer (in west, initiating) presents a revoked or expired
		// certificate: we refuse it. We present one: the peer refuses it.
		// (libreswan will not load an expired certificate of its own.)
		runs = append(runs,
			run{peer, "responder", certCase{name: "x509-refuse-revoked", ourLeaf: "east", peerLeaf: "west-revoked", refuser: "us",
				want: regexp.MustCompile(`certificate "C=US, O=Test, CN=west" is revoked \(serial [0-9a-f:]+`)}},
			run{peer, "initiator", certCase{name: "x509-peer-refuses-revoked", ourLeaf: "west-revoked", peerLeaf: "east", refuser: "peer",
				want: regexp.MustCompile(`certificate was revoked|Certificate has been revoked`)}},
			run{peer, "initiator", certCase{name: "x509-peer-refuses-expired", ourLeaf: "west-expired", peerLeaf: "east", refuser: "peer",
				want: regexp.MustCompile(`subject certificate invalid \(valid from|Certificate has expired`)}},
		)
		if peer == "ss" {
			runs = append(runs, run{peer, "responder", certCase{name: "x509-refuse-expired", ourLeaf: "east", peerLeaf: "west-expired", refuser: "us",
				want: regexp.MustCompile(`certificate "C=US, O=Test, CN=west" has expired \(not after `)}})
		}
	}
	for _, r := range runs {
		key := fmt.Sprintf("%-4s %-10s %s", r.peer, r.role, r.c.name)
		mx.run(t, key, r.peer+"/"+r.role+"/"+r.c.name, func(t *testing.T) {
			s := &scenario{t: t, peer: r.peer, ourRole: r.role, p: proposals[0], aggr: r.c.aggr}
			x.certScenario(s, r.c)
			defer s.stop()
			defer func() {
				if s.peer == "lsw" && s.name != "" {
					os.RemoveAll(filepath.Join(peersDir, "run", s.name, "nss")) // the next lsw.sh start makes a fresh one
				}
			}()
			if err := s.start(); err != nil {
				t.Fatal(err)
			}
			if r.c.refuser != "" {
				checkRefused(t, s, r.c)
				return
			}
			out, in, err := s.establish()
			if err != nil {
				t.Fatalf("%v\npeer log:\n%s", err, lastLines(s.peerLog(), 25))
			}
			pin, pout, raw := s.peerSPIs()
			if pin != out || pout != in {
				t.Fatalf("SPIs differ: ours out %s in %s, peer in %q out %q\n%s", out, in, pin, pout, raw)
			}
			want := fmt.Sprintf("authenticated peer '%s' with a 2048-bit RSA signature (X.509 certificate)", sideDN(s.peerNS))
			if !strings.Contains(s.us.log.String(), want) {
				t.Errorf("our log lacks %q:\n%s", want, s.us.log)
			}
			if st, _ := s.us.whack("--status"); r.c.aggr != strings.Contains(st, "STATE_AGGR_") {
				t.Errorf("aggressive=%v, our status:\n%s", r.c.aggr, st)
			}
		})
	}
}

// checkRefused starts the negotiation and waits (at most 8 s) for the
// refuser's log line; then neither end may have an ISAKMP SA.
func checkRefused(t *testing.T, s *scenario, c certCase) {
	t.Helper()
	go func() {
		if s.ourRole == "initiator" {
			s.us.whack("--name", "west-east", "--initiate", "--asynchronous")
			return
		}
		switch s.peer {
		case "ss":
			runScript(s.t, []string{"TIMEOUT=6"}, "ss.sh", "initiate", s.name, "net")
		case "lsw":
			run(s.t, nil, 8*time.Second, "lsw.sh", "up", s.name)
		}
	}()
	logOf := func() string {
		if c.refuser == "us" {
			return s.us.log.String()
		}
		return s.peerLog()
	}
	deadline := time.Now().Add(8 * time.Second)
	for !c.want.MatchString(logOf()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the %s log:\n%s\nour log:\n%s", c.want, c.refuser, lastLines(logOf(), 30), lastLines(s.us.log.String(), 15))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.refuser == "peer" {
		// The peer says why, encrypted with the keys of the unfinished SA.
		deadline := time.Now().Add(3 * time.Second)
		for !strings.Contains(s.us.log.String(), "before the ISAKMP SA is established") {
			if time.Now().After(deadline) {
				t.Errorf("the peer's notification is not in our log:\n%s", lastLines(s.us.log.String(), 15))
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if st, _ := s.us.whack("--status"); regexp.MustCompile(`STATE_MAIN_(I4|R3)`).MatchString(st) {
		t.Errorf("we have an ISAKMP SA:\n%s", st)
	}
}
