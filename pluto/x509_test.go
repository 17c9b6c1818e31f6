package pluto

import (
	"strings"
	"testing"
	"time"

	"goswan/pluto/certs/testpki"
)

// The test PKI of the certificate tests: CA "C=US, O=Test, CN=Test CA" issues west, east, a
// revoked and an expired certificate for west's DN; another CA, never
// loaded, issues "untrusted".
type certFixture struct {
	pki, other                          *testpki.PKI
	west, east, revoked, expired, rogue *testpki.Leaf
}

const (
	westDN = "C=US, O=Test, CN=west"
	eastDN = "C=US, O=Test, CN=east"
)

func getCertFixture(t *testing.T) *certFixture {
	t.Helper()
	f, err := func() (*certFixture, error) {
		dir := t.TempDir()
		f := &certFixture{}
		now := time.Now()
		var err error
		if f.pki, err = testpki.New(dir+"/pki", "C=US, O=Test, CN=Test CA", now); err != nil {
			return nil, err
		}
		if f.other, err = testpki.New(dir+"/other", "C=US, O=Rogue, CN=Rogue CA", now); err != nil {
			return nil, err
		}
		for _, x := range []struct {
			p    *testpki.PKI
			dst  **testpki.Leaf
			name string
			s    testpki.Spec
		}{
			{f.pki, &f.west, "west", testpki.Spec{DN: westDN, DNS: []string{"west.example"}, IPs: []string{"127.0.0.1"}}},
			{f.pki, &f.east, "east", testpki.Spec{DN: eastDN, Emails: []string{"east@example.org"}}},
			{f.pki, &f.revoked, "revoked", testpki.Spec{DN: westDN}},
			{f.pki, &f.expired, "expired", testpki.Spec{DN: westDN, Expired: true}},
			{f.other, &f.rogue, "rogue", testpki.Spec{DN: westDN}},
		} {
			if *x.dst, err = x.p.Issue(x.name, x.s); err != nil {
				return nil, err
			}
		}
		return f, f.pki.Revoke(f.revoked)
	}()
	if err != nil {
		t.Fatalf("test PKI: %v", err)
	}
	return f
}

// certPair starts west and east with the PKI's ipsec.d (CA and CRL), west
// authenticating with westLeaf as westID, and adds the west-east
// connection with --rsasig and certificates on both; extraWest goes to
// west's description.
func certPair(t *testing.T, f *certFixture, westLeaf *testpki.Leaf, westID string, extraWest ...string) (west, east *testDaemon) {
	t.Helper()
	ipsecdir := func(c *Config) {
		c.IPsecDir = f.pki.Dir
		c.Machine.RetransmitDelay, c.Machine.HalfOpenTimeout = 100*time.Millisecond, 700*time.Millisecond
	}
	west = startDaemonWith(t, "127.0.0.1", freePort(t, "127.0.0.1"), ": RSA "+westLeaf.KeyFile+"\n", nil, ipsecdir)
	east = startDaemonWith(t, "127.0.0.2", freePort(t, "127.0.0.2"), ": RSA "+f.east.KeyFile+"\n", nil, ipsecdir)
	westEnd := []string{"--host", west.addr, "--ikeport", itoa(west.port), "--client", "10.1.0.0/24", "--id", westID}
	eastEnd := []string{"--host", east.addr, "--ikeport", itoa(east.port), "--client", "10.2.0.0/24", "--id", eastDN}
	common := []string{"--rsasig", "--encrypt", "--tunnel", "--keyingtries", "1"}
	westArgs := append(append(append(append([]string{"--name", "west-east"}, westEnd...), "--cert", westLeaf.CertFile), extraWest...), "--to")
	westArgs = append(append(westArgs, eastEnd...), common...)
	eastArgs := append(append([]string{"--name", "west-east"}, westEnd...), "--to")
	eastArgs = append(append(append(eastArgs, eastEnd...), "--cert", f.east.CertFile), common...)
	if out, code := west.whack(t, westArgs...); code != 0 {
		t.Fatalf("west add: %d %s", code, out)
	}
	if out, code := east.whack(t, eastArgs...); code != 0 {
		t.Fatalf("east add: %d %s", code, out)
	}
	return west, east
}

// TestX509TwoDaemons: Main Mode with certificates from a loaded CA: CR in
// MR2 and MI3 ask for them (--sendcert ifasked, the default), the chain,
// the CRL and the ID binding are checked, the listings show the material.
func TestX509TwoDaemons(t *testing.T) {
	f := getCertFixture(t)
	west, east := certPair(t, f, f.west, westDN)
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 0 {
		t.Fatalf("initiate: %d\n%s\nwest:\n%s\neast:\n%s", code, out, west.log, east.log)
	}
	checkTranscript(t, out)
	for _, x := range []struct {
		d    *testDaemon
		peer string
	}{{east, westDN}, {west, eastDN}} {
		want := "authenticated peer '" + x.peer + "' with a 2048-bit RSA signature (X.509 certificate)"
		if !strings.Contains(x.d.log.String(), want) {
			t.Errorf("no %q in log:\n%s", want, x.d.log)
		}
	}
	if st, _ := west.whack(t, "--status"); !strings.Contains(st, `"west-east":   mycert: '`+westDN+`'; sendcert: ifasked; CAs: 'C=US, O=Test, CN=Test CA'...'%any'`) {
		t.Errorf("west --status:\n%s", st)
	}
	lists, _ := east.whack(t, "--listall")
	for _, want := range []string{"List of X.509 End Certificates:", "subject: '" + westDN + "'",
		"subject: '" + eastDN + "'", "List of X.509 CA Certificates:", "subject: 'C=US, O=Test, CN=Test CA'",
		"List of X.509 CRLs:", "revoked certs: 1"} {
		if !strings.Contains(lists, want) {
			t.Errorf("--listall lacks %q:\n%s", want, lists)
		}
	}
	if out, _ := east.whack(t, "--listcrls"); strings.Contains(out, "End Certificates") || !strings.Contains(out, "List of X.509 CRLs:") {
		t.Errorf("--listcrls:\n%s", out)
	}
	// --rereadcrls with the CRL gone: the listing is empty.
	if out, code := east.whack(t, "--rereadcrls", "--listcrls"); code != 0 || !strings.Contains(out, "List of X.509 CRLs:") {
		t.Errorf("--rereadcrls: %d\n%s", code, out)
	}
}

// TestX509Refused: the responder refuses, with a log line naming the
// reason, a certificate that is revoked, expired, from a CA it did not
// load, or that does not vouch for the ID payload; without a certificate
// (--sendcert never) there is no key at all.
func TestX509Refused(t *testing.T) {
	f := getCertFixture(t)
	cases := []struct {
		name  string
		leaf  *testpki.Leaf
		id    string
		extra []string
		want  string
	}{
		{"revoked", f.revoked, westDN, nil, `certificate "` + westDN + `" is revoked (serial `},
		{"expired", f.expired, westDN, nil, `certificate "` + westDN + `" has expired (not after `},
		{"untrusted-ca", f.rogue, westDN, nil, `issuer "C=US, O=Rogue, CN=Rogue CA" is not a loaded CA`},
		// west claims alice's DN (east expects it) with west's certificate.
		{"id-mismatch", f.west, "C=US, O=Test, CN=alice", nil, `ID 'C=US, O=Test, CN=alice' is neither the subject of certificate "` + westDN + `"`},
		{"sendcert-never", f.west, westDN, []string{"--sendcert", "never"}, "no RSA public key known for '" + westDN + "' and no certificate received"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			west, east := certPair(t, f, tc.leaf, tc.id, tc.extra...)
			out, code := west.whack(t, "--name", "west-east", "--initiate")
			if code == 0 {
				t.Fatalf("established:\n%s\neast:\n%s", out, east.log)
			}
			if !strings.Contains(east.log.String(), tc.want) {
				t.Errorf("east log lacks %q:\n%s", tc.want, east.log)
			}
			if expired := strings.Contains(west.log.String(), "is not valid now"); expired != (tc.leaf == f.expired) {
				t.Errorf("west warned about its certificate's validity: %v\n%s", expired, west.log)
			}
			if st, _ := east.whack(t, "--status"); strings.Contains(st, "STATE_MAIN_R3") {
				t.Errorf("east has an ISAKMP SA:\n%s", st)
			}
		})
	}
}

// TestX509SubjectAltNameID: an ID payload that is one of the certificate's
// subjectAltNames (here an FQDN) is bound to it as well as the DN.
func TestX509SubjectAltNameID(t *testing.T) {
	f := getCertFixture(t)
	west, east := certPair(t, f, f.west, "@west.example")
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 0 {
		t.Fatalf("initiate: %d\n%s\neast:\n%s", code, out, east.log)
	}
	if !strings.Contains(east.log.String(), "authenticated peer '@west.example' with a 2048-bit RSA signature (X.509 certificate)") {
		t.Errorf("east log:\n%s", east.log)
	}
}

// TestX509WildcardID: a peer ID with "*" values (east expects
// "C=US, O=Test, CN=*") accepts any DN that matches, bound to the
// certificate as usual; another O= does not match.
func TestX509WildcardID(t *testing.T) {
	f := getCertFixture(t)
	for _, x := range []struct {
		pattern string
		ok      bool
	}{{"C=US, O=Test, CN=*", true}, {"C=US, O=Other, CN=*", false}} {
		west, east := certPair(t, f, f.west, westDN)
		east.whack(t, "--name", "west-east", "--delete")
		args := []string{"--name", "west-east", "--host", west.addr, "--ikeport", itoa(west.port), "--client", "10.1.0.0/24",
			"--id", x.pattern, "--to", "--host", east.addr, "--ikeport", itoa(east.port), "--client", "10.2.0.0/24",
			"--id", eastDN, "--cert", f.east.CertFile, "--rsasig", "--encrypt", "--tunnel"}
		if out, code := east.whack(t, args...); code != 0 {
			t.Fatalf("east add: %d %s", code, out)
		}
		out, code := west.whack(t, "--name", "west-east", "--initiate")
		if (code == 0) != x.ok {
			t.Fatalf("%s: exit %d\n%s\neast:\n%s", x.pattern, code, out, east.log)
		}
		if !x.ok && !strings.Contains(east.log.String(), "no suitable connection for peer '"+westDN+"'") {
			t.Errorf("%s: east log:\n%s", x.pattern, east.log)
		}
	}
}

// TestX509NoCRWithRawKeys: with the peer's raw key preloaded (whack
// --pubkeyrsa) no CR is sent even though CAs are loaded (pluto's rule), and
// no certificate travels; without the key, the CR asks for one.
func TestX509NoCRWithRawKeys(t *testing.T) {
	f := getCertFixture(t)
	for _, preload := range []bool{true, false} {
		cfg := func(c *Config) {
			c.IPsecDir, c.Debug = f.pki.Dir, DebugControl
			c.Machine.RetransmitDelay, c.Machine.HalfOpenTimeout = 100*time.Millisecond, 700*time.Millisecond
		}
		west := startDaemonWith(t, "127.0.0.1", freePort(t, "127.0.0.1"), ": RSA "+f.west.KeyFile+"\n", nil, cfg)
		east := startDaemonWith(t, "127.0.0.2", freePort(t, "127.0.0.2"), ": RSA "+f.east.KeyFile+"\n", nil, cfg)
		for _, d := range []*testDaemon{west, east} {
			args := []string{"--name", "west-east", "--host", west.addr, "--ikeport", itoa(west.port), "--client", "10.1.0.0/24",
				"--to", "--host", east.addr, "--ikeport", itoa(east.port), "--client", "10.2.0.0/24", "--rsasig", "--encrypt", "--tunnel",
				"--keyingtries", "1"}
			if out, code := d.whack(t, args...); code != 0 {
				t.Fatalf("add: %d %s", code, out)
			}
		}
		if preload {
			west.whack(t, "--keyid", "127.0.0.2", "--pubkeyrsa", pubkeyArg(f.east.Key))
			east.whack(t, "--keyid", "127.0.0.1", "--pubkeyrsa", pubkeyArg(f.west.Key))
		}
		out, code := west.whack(t, "--name", "west-east", "--initiate")
		gotCR := strings.Contains(west.log.String(), "received a certificate request")
		if preload {
			if code != 0 || gotCR {
				t.Errorf("raw keys: exit %d, CR received %v\n%s\nwest:\n%s", code, gotCR, out, west.log)
			}
			continue
		}
		// No key and no --cert: east asks, west has no certificate to send.
		if code == 0 || !gotCR || !strings.Contains(east.log.String(), "no RSA public key known for '127.0.0.1' and no certificate received") {
			t.Errorf("no key: exit %d, CR received %v\nwest:\n%s\neast:\n%s", code, gotCR, west.log, east.log)
		}
	}
}

// TestDNIDRawKeys: DN and KEY_ID identities without certificates: --id
// "C=..., CN=..." and @#hex with raw RSA keys given by whack --keyid in the
// same spelling; --listpubkeys prints the DN.
func TestDNIDRawKeys(t *testing.T) {
	f := getCertFixture(t)
	for _, ids := range [][2]string{{westDN, eastDN}, {"@#0a0b0c", "@#0d0e0f"}} {
		west := startDaemon(t, "127.0.0.1", ": RSA "+f.west.KeyFile+"\n", 100*time.Millisecond)
		east := startDaemon(t, "127.0.0.2", ": RSA "+f.east.KeyFile+"\n", 100*time.Millisecond)
		for _, d := range []*testDaemon{west, east} {
			args := []string{"--name", "west-east", "--host", west.addr, "--ikeport", itoa(west.port), "--id", ids[0],
				"--to", "--host", east.addr, "--ikeport", itoa(east.port), "--id", ids[1], "--rsasig", "--encrypt", "--keyingtries", "1"}
			if out, code := d.whack(t, args...); code != 0 {
				t.Fatalf("add: %d %s", code, out)
			}
		}
		// The peer's public key under its ID (": RSA file" has no ID: ours).
		west.whack(t, "--keyid", ids[1], "--pubkeyrsa", pubkeyArg(f.east.Key))
		east.whack(t, "--keyid", ids[0], "--pubkeyrsa", pubkeyArg(f.west.Key))
		out, code := west.whack(t, "--name", "west-east", "--initiate")
		if code != 0 {
			t.Fatalf("%v: %d\n%s\neast:\n%s", ids, code, out, east.log)
		}
		if !strings.Contains(east.log.String(), "authenticated peer '"+ids[0]+"' with a 2048-bit RSA signature") {
			t.Errorf("east log:\n%s", east.log)
		}
		if l, _ := east.whack(t, "--listpubkeys"); !strings.Contains(l, ", '"+ids[0]+"'") {
			t.Errorf("--listpubkeys:\n%s", l)
		}
	}
}

// TestX509PeerCA: --ca on the peer's end is the CA its certificate must be
// from (and what our CR names): the Test CA passes, another loaded-or-not
// CA name refuses west's certificate.
func TestX509PeerCA(t *testing.T) {
	f := getCertFixture(t)
	for _, x := range []struct {
		ca string
		ok bool
	}{{"C=US, O=Test, CN=Test CA", true}, {"C=US, O=Rogue, CN=Rogue CA", false}} {
		west, east := certPair(t, f, f.west, westDN)
		east.whack(t, "--name", "west-east", "--delete")
		args := []string{"--name", "west-east", "--host", west.addr, "--ikeport", itoa(west.port), "--client", "10.1.0.0/24",
			"--id", westDN, "--ca", x.ca, "--to", "--host", east.addr, "--ikeport", itoa(east.port), "--client", "10.2.0.0/24",
			"--id", eastDN, "--cert", f.east.CertFile, "--rsasig", "--encrypt", "--tunnel"}
		if out, code := east.whack(t, args...); code != 0 {
			t.Fatalf("east add: %d %s", code, out)
		}
		out, code := west.whack(t, "--name", "west-east", "--initiate")
		if (code == 0) != x.ok {
			t.Fatalf("--ca %s: exit %d\n%s\neast:\n%s", x.ca, code, out, east.log)
		}
		if !x.ok && !strings.Contains(east.log.String(), `is not issued by --ca "C=US, O=Rogue, CN=Rogue CA"`) {
			t.Errorf("east log:\n%s", east.log)
		}
		if st, _ := east.whack(t, "--status"); !strings.Contains(st, "...'"+x.ca+"'") {
			t.Errorf("east status lacks the peer's CA:\n%s", st)
		}
	}
}
