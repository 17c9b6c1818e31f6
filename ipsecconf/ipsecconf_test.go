package ipsecconf

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"goswan/whack"
)

// fakeResolver answers %defaultroute and DNS names without the system.
type fakeResolver struct{}

func (fakeResolver) DefaultRoute(v6 bool) (Route, error) {
	if v6 {
		return Route{}, errors.New("no IPv6 default route")
	}
	return Route{Addr: netip.MustParseAddr("198.51.100.77"), Gateway: netip.MustParseAddr("198.51.100.1"), Interface: "eth7"}, nil
}

func (fakeResolver) LookupHost(name string, v6 bool) (netip.Addr, error) {
	if name == "gw.example.net" && !v6 {
		return netip.MustParseAddr("203.0.113.5"), nil
	}
	return netip.Addr{}, fmt.Errorf("cannot resolve: no such host")
}

func load(t *testing.T, path string) *Config {
	t.Helper()
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return cfg
}

func messages(t *testing.T, cfg *Config, name string) []*whack.Message {
	t.Helper()
	c := cfg.Conn(name)
	if c == nil {
		t.Fatalf("no conn %q in %s", name, cfg.File)
	}
	ms, err := c.Messages(fakeResolver{})
	if err != nil {
		t.Fatalf("conn %s: %v", name, err)
	}
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			t.Errorf("conn %s: message does not validate: %v", name, err)
		}
	}
	return ms
}

func connNames(cfg *Config) []string {
	var n []string
	for _, c := range cfg.Conns {
		n = append(n, c.Name+"="+c.Auto())
	}
	return n
}

func TestSiteToSitePSK(t *testing.T) {
	cfg := load(t, "testdata/site-to-site-psk.conf")
	ms := messages(t, cfg, "headoffice-branch")
	if len(ms) != 1 {
		t.Fatalf("%d messages", len(ms))
	}
	m := ms[0]
	want := whack.ConnDesc{
		Left: whack.End{Host: "198.51.100.10", ID: "@head.example.com", NextHop: "198.51.100.1", Client: "10.10.0.0/16"},
		Right: whack.End{Host: "203.0.113.20", ID: "@branch.example.com", NextHop: "198.51.100.1", // %defaultroute: the gateway
			Client: "10.20.0.0/24"},
		PSK: true, Encrypt: true, Tunnel: true, PFS: true,
		IKE: "aes256-sha1;modp2048", ESP: "aes256-sha1",
		IKELifetime: 8 * time.Hour, IPsecLifetime: time.Hour,
		DPDDelay: 10 * time.Second, DPDTimeout: time.Minute, DPDAction: "restart",
	}
	got := m.ConnDesc
	if *got.RekeyMargin != 3*time.Minute || *got.RekeyFuzz != 50 || *got.KeyingTries != 0 {
		t.Errorf("rekeying: %v %v %v", *got.RekeyMargin, *got.RekeyFuzz, *got.KeyingTries)
	}
	got.RekeyMargin, got.RekeyFuzz, got.KeyingTries = nil, nil, nil
	if got != want {
		t.Errorf("connection:\n got %+v\nwant %+v", got, want)
	}
	if m.Name != "headoffice-branch" || !m.HasConnection || !m.Delete {
		t.Errorf("message: %+v", m)
	}
	if c := cfg.Conn("headoffice-branch"); c.Auto() != "start" {
		t.Errorf("auto %s", c.Auto())
	}
	o, err := cfg.Setup.PlutoOptions(fakeResolver{})
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := []string{"--use-netkey", "--uniqueids", "--debug-control", "--debug-parsing", "--interface", "eth7"}
	if !slices.Equal(o.Args, wantArgs) || len(o.Warnings) != 0 {
		t.Errorf("pluto options %q (warnings %q), want %q", o.Args, o.Warnings, wantArgs)
	}
}

func TestRoadWarrior(t *testing.T) {
	cfg := load(t, "testdata/roadwarrior.conf")
	if got := connNames(cfg); !slices.Equal(got, []string{"roadwarriors=add", "roadwarrior-v6=ignore"}) {
		t.Errorf("conns %q", got)
	}
	m := messages(t, cfg, "roadwarriors")[0]
	d := m.ConnDesc
	if d.Right.Host != "%any" || d.Right.ID != "@roadwarrior.example.org" || d.Left.Client != "10.1.0.0/24" ||
		!d.PSK || d.RSASig || *d.KeyingTries != 3 || !d.DontRekey || d.IKE != "3des-sha1;modp1024,aes128-sha1;modp1024" ||
		d.IPsecLifetime != 8*time.Hour || d.DPDDelay != 30*time.Second || d.DPDTimeout != 120*time.Second || d.DPDAction != "clear" {
		t.Errorf("roadwarriors: %+v", d)
	}
	v6 := messages(t, cfg, "roadwarrior-v6")[0]
	if v6.Right.Host != "%any" || v6.AddrFamily != "ipv6" || v6.Tunnel || !v6.PSK {
		t.Errorf("roadwarrior-v6: %+v", v6.ConnDesc)
	}
	o, _ := cfg.Setup.PlutoOptions(fakeResolver{})
	if !slices.Equal(o.Args, []string{"--use-nostack"}) || len(o.Warnings) != 1 || !strings.Contains(o.Warnings[0], "virtual_private") {
		t.Errorf("pluto options %q warnings %q", o.Args, o.Warnings)
	}
}

// TestSeedTransport: the seed's IPv6 transport example, with its include
// of no_oe.conf (here relative).
func TestSeedTransport(t *testing.T) {
	cfg := load(t, "testdata/transport.conf")
	if len(cfg.Files) != 2 {
		t.Errorf("files %q", cfg.Files)
	}
	if got := connNames(cfg); len(got) != 7 || got[6] != "ipv6-p1-p2=add" {
		t.Errorf("conns %q", got)
	}
	m := messages(t, cfg, "ipv6-p1-p2")[0]
	if m.Left.Host != "2001:db8:1:1::1" || m.Right.Host != "2001:db8:2:2::2" || m.AddrFamily != "ipv6" ||
		m.Tunnel || !m.Encrypt || !m.PSK || m.Compress || m.ESP != "aes128-sha1" || m.IKE != "aes128-sha-modp1024" || !m.PFS {
		t.Errorf("ipv6-p1-p2: %+v", m.ConnDesc)
	}
	// The policy-group stubs have no ends: they load, but cannot be added.
	if _, err := cfg.Conn("clear").Messages(fakeResolver{}); err == nil || !strings.Contains(err.Error(), `examples/no_oe.conf:17: conn "clear": left= is not set`) {
		t.Errorf("conn clear: %v", err)
	}
}

func TestRSASig(t *testing.T) {
	cfg := load(t, "testdata/rsasig.conf")
	ms := messages(t, cfg, "west-east-rsa")
	if len(ms) != 3 {
		t.Fatalf("%d messages", len(ms))
	}
	if !ms[0].RSASig || ms[0].PSK || ms[0].Left.ID != "@west.example.com" {
		t.Errorf("connection: %+v", ms[0].ConnDesc)
	}
	lk, rk := ms[1], ms[2]
	if lk.KeyID != "@west.example.com" || rk.KeyID != "192.0.2.2" || lk.AddKey || lk.HasConnection ||
		!strings.HasPrefix(lk.PubKeyRSA, "0sAwEAAcR4") || !strings.HasPrefix(rk.PubKeyRSA, "0sAwEAAYtE") {
		t.Errorf("key messages: %+v %+v", lk, rk)
	}
	if b, err := lk.PubKey(); err != nil || len(b) != 260 {
		t.Errorf("left key: %d bytes, %v", len(b), err)
	}
	if cfg.Conn("west-east-rsa").Auto() != "route" {
		t.Error("auto")
	}
}

func TestCert(t *testing.T) {
	cfg := load(t, "testdata/cert.conf")
	ms := messages(t, cfg, "corp-vpn")
	if len(ms) != 1 { // rightrsasigkey=%cert sends no key
		t.Fatalf("%d messages", len(ms))
	}
	d := ms[0].ConnDesc
	if d.Left.Cert != "gateway.pem" || d.Left.ID != "C=DE, O=Example, CN=gateway.example.com" || d.Left.SendCert != "always" ||
		d.Right.CA != "C=DE, O=Example, CN=Example Root CA" || d.Right.ID != "%fromcert" || !d.RSASig || d.Tunnel ||
		d.Left.Updown != "/usr/local/lib/ipsec/updown-corp" || d.Left.ClientProtoPort != "udp/l2tp" || d.Right.ClientProtoPort != "udp/l2tp" {
		t.Errorf("corp-vpn: %+v", d)
	}
	o, _ := cfg.Setup.PlutoOptions(fakeResolver{})
	if o.Args[0] != "--use-auto" {
		t.Errorf("protostack=auto: %q", o.Args)
	}
}

// TestIncludeAlsoDefault: include with wildcards (one matching nothing),
// also= chains across files (several also= in one conn), %default, auto
// not inherited through also=, rightsubnets= instances.
func TestIncludeAlsoDefault(t *testing.T) {
	cfg := load(t, "testdata/main.conf")
	if len(cfg.Files) != 3 {
		t.Errorf("files %q", cfg.Files)
	}
	if got := connNames(cfg); !slices.Equal(got, []string{"branch-a=add", "branch-a-pfs=start", "branch-b=route", "b-ends=ignore", "base-psk=ignore"}) {
		t.Errorf("conns %q", got)
	}
	a := messages(t, cfg, "branch-a")[0]
	if a.Left.Host != "192.0.2.1" || a.Right.Host != "192.0.2.11" || a.Left.Client != "10.1.0.0/24" || a.Right.Client != "10.11.0.0/24" ||
		!a.PSK || a.PFS || a.IKELifetime != 2*time.Hour || a.ESP != "aes128-sha1" {
		t.Errorf("branch-a: %+v", a.ConnDesc)
	}
	pfs := messages(t, cfg, "branch-a-pfs")[0]
	if !pfs.PFS || pfs.ESP != "aes256-sha2_256" || pfs.Right.Client != "10.11.0.0/24" || pfs.Name != "branch-a-pfs" {
		t.Errorf("branch-a-pfs: %+v", pfs.ConnDesc)
	}
	b := cfg.Conn("branch-b")
	if got := b.Names(); !slices.Equal(got, []string{"branch-b/0x1", "branch-b/0x2"}) {
		t.Errorf("branch-b instances %q", got)
	}
	bm := messages(t, cfg, "branch-b")
	if len(bm) != 2 || bm[0].Right.Client != "10.12.0.0/24" || bm[1].Right.Client != "10.13.0.0/24" ||
		bm[1].Right.ID != "@branch-b" || bm[1].IKELifetime != 30*time.Minute || bm[1].Left.Client != "10.1.0.0/24" {
		t.Errorf("branch-b: %+v", bm)
	}
	v, _ := b.Get("ike")
	if !strings.HasSuffix(v.Pos.String(), "main.conf:23") {
		t.Errorf("ike= of branch-b comes from %s", v.Pos)
	}
	o, _ := cfg.Setup.PlutoOptions(fakeResolver{})
	want := []string{"--use-nostack", "--uniqueids", "--debug-none", "--listen", "192.0.2.1", "--keylog", "/var/log/pluto-keys.log"}
	if !slices.Equal(o.Args, want) {
		t.Errorf("pluto options %q, want %q", o.Args, want)
	}
}

// TestTestvectorConfigs: the libreswan configs of the recorded vectors load
// unchanged and give the connection they describe.
func TestTestvectorConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/testvectors/*.conf")
	if len(files) != 3 {
		t.Fatalf("%d testvector configs", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".conf")
		if orig, err := os.ReadFile(filepath.Join("..", "..", "shared", "testvectors", name, "config", "west-ipsec.conf")); err == nil {
			if mine, _ := os.ReadFile(f); string(mine) != string(orig) {
				t.Errorf("%s differs from the recorded config", f)
			}
		}
		cfg := load(t, f)
		o, err := cfg.Setup.PlutoOptions(fakeResolver{})
		if err != nil || !slices.Contains(o.Args, "--debug-all") || !slices.Contains(o.Args, "--debug-private") || slices.Contains(o.Args, "--uniqueids") {
			t.Errorf("%s: pluto options %q %v", name, o.Args, err)
		}
		ms := messages(t, cfg, "west-east")
		m := ms[0]
		if cfg.Conn("west-east").Auto() != "add" || m.Left.Host != "192.0.2.1" || m.Right.Client != "10.2.0.0/24" ||
			m.Left.ID != "192.0.2.1" || !m.DontRekey || *m.KeyingTries != 1 || m.IKELifetime != time.Hour ||
			m.IPsecLifetime != time.Hour || m.AggrMode || m.ForceEncaps || !m.Tunnel || !m.Encrypt {
			t.Errorf("%s: %+v", name, m.ConnDesc)
		}
		switch {
		case strings.Contains(name, "rsasig"):
			if !m.RSASig || m.PSK || len(ms) != 3 || ms[1].KeyID != "192.0.2.1" || ms[2].KeyID != "192.0.2.2" {
				t.Errorf("%s: %d messages, %+v", name, len(ms), m.ConnDesc)
			}
		case strings.Contains(name, "pfs"):
			if !m.PSK || !m.PFS || m.ESP != "3des-md5;modp1536" || m.IKE != "3des-md5;modp1536" {
				t.Errorf("%s: %+v", name, m.ConnDesc)
			}
		default:
			if !m.PSK || m.PFS || m.IKE != "aes128-sha1;modp2048" || len(ms) != 1 {
				t.Errorf("%s: %+v", name, m.ConnDesc)
			}
		}
	}
}

// TestResolve: %defaultroute and DNS names are resolved when the conn is
// converted; Load does not resolve (it checks what it can).
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "ipsec.conf")
	os.WriteFile(f, []byte("conn dr\n\tleft=%defaultroute\n\tright=gw.example.net\n\tauthby=secret\n\tauto=add\n"+
		"conn bad\n\tleft=%defaultroute\n\tright=nowhere.example.net\n\tauthby=secret\n\tconnaddrfamily=ipv6\n\tauto=add\n"), 0o644)
	cfg := load(t, f)
	m := messages(t, cfg, "dr")[0]
	if m.Left.Host != "198.51.100.77" || m.Left.NextHop != "198.51.100.1" || m.Right.Host != "203.0.113.5" {
		t.Errorf("resolved: %+v", m.ConnDesc)
	}
	_, err := cfg.Conn("bad").Messages(fakeResolver{})
	if err == nil || !strings.Contains(err.Error(), `ipsec.conf:7: conn "bad": left=%defaultroute: no IPv6 default route`) {
		t.Errorf("bad: %v", err)
	}
}

// TestErrors: each kind of error names file, line, section and keyword.
func TestErrors(t *testing.T) {
	good := "conn west-east\n\tleft=192.0.2.1\n\tright=192.0.2.2\n\tauthby=secret\n\tauto=add\n"
	for _, tc := range []struct {
		name, conf, want string
		files            map[string]string
	}{
		{"unknown keyword", "conn west-east\n\tleft=192.0.2.1\n\tlefsubnet=10.0.0.0/8\n",
			`ipsec.conf:3: conn "west-east": unknown keyword "lefsubnet"`, nil},
		{"unknown setup keyword", "config setup\n\tplutodbug=all\n", `ipsec.conf:2: config setup: unknown keyword "plutodbug"`, nil},
		{"bad authby", good + "\tphase2=esp\nconn x\n\tauthby=psk\n", `ipsec.conf:8: conn "x": bad value authby="psk": not one of secret, rsasig`, nil},
		{"bad subnet", "conn a\n\tleftsubnet=10.1.0.1/24\n", `ipsec.conf:2: conn "a": bad value leftsubnet="10.1.0.1/24": host bits set (the subnet is 10.1.0.0/24)`, nil},
		{"bad duration", "conn a\n\tikelifetime=1w\n", `ipsec.conf:2: conn "a": bad value ikelifetime="1w": not a time`, nil},
		{"bad yes/no", "conn a\n\tpfs=maybe\n", `ipsec.conf:2: conn "a": bad value pfs="maybe": not yes or no`, nil},
		{"bad host", "conn a\n\tleft=%foo\n", `ipsec.conf:2: conn "a": bad value left="%foo"`, nil},
		{"bad keyingtries", "conn a\n\tkeyingtries=-1\n", `bad value keyingtries="-1"`, nil},
		{"bad ike", "conn a\n\tike=aes128-shaX\n", `ipsec.conf:2: conn "a": bad value ike="aes128-shaX": `, nil},
		{"bad esp", good + "\tesp=blowfish999-foo\n", `ipsec.conf:6: conn "west-east": bad value esp="blowfish999-foo"`, nil},
		{"bad plutodebug", "config setup\n\tplutodebug=\"all wrong\"\n", `ipsec.conf:2: config setup: bad value plutodebug="all wrong": unknown debug category "wrong"`, nil},
		{"dangling also", good + "\talso=nothere\n", `ipsec.conf:6: conn "west-east": also=nothere: no conn "nothere"`, nil},
		{"also loop", "conn a\n\talso=b\nconn b\n\talso=a\n", `ipsec.conf:2: conn "a": also=b: loop`, nil},
		{"also in default", "conn %default\n\talso=x\n", `ipsec.conf:2: conn "%default": conn %default may not contain also=`, nil},
		{"bad section", "connection west\n\tleft=1.2.3.4\n", `ipsec.conf:1: bad section "connection west"`, nil},
		{"bad config section", "config foo\n", `ipsec.conf:1: bad section "config foo"`, nil},
		{"ca section", "ca corp\n\tcacert=x.pem\n", `ipsec.conf:1: bad section "ca corp"`, nil},
		{"conn without name", "conn\n", `ipsec.conf:1: bad section "conn"`, nil},
		{"duplicate conn", good + good, `ipsec.conf:6: duplicate conn "west-east" (first at `, nil},
		{"duplicate keyword", "conn a\n\tleft=192.0.2.1\n\tleft=192.0.2.3\n", `ipsec.conf:3: conn "a": duplicate keyword "left" (first at `, nil},
		{"duplicate default", "conn %default\n\tpfs=no\nconn %default\n\tpfs=yes\n", `ipsec.conf:4: conn "%default": keyword "pfs" already has a default`, nil},
		{"second setup", "config setup\nconfig setup\n", `ipsec.conf:2: second config setup section`, nil},
		{"unindented keyword", "conn a\nleft=192.0.2.1\n", `ipsec.conf:2: keyword "left" must be indented`, nil},
		{"outside section", "\tleft=192.0.2.1\n", `ipsec.conf:1: indented line "left=192.0.2.1" outside a section`, nil},
		{"not keyword=value", "conn a\n\tleft 192.0.2.1\n", `ipsec.conf:2: conn "a": "left 192.0.2.1" is not keyword=value`, nil},
		{"unterminated quote", "conn a\n\tleftid=\"@west\n", `ipsec.conf:2: conn "a": unterminated quoted string`, nil},
		{"unquoted blanks", "config setup\n\tplutodebug=all crypt\n", `ipsec.conf:2: config setup: plutodebug=all crypt: a value with blanks must be quoted`, nil},
		{"version", "version 3.0\n", `ipsec.conf:1: unsupported version line "version 3.0"`, nil},
		{"ikev2 insist", good + "\tikev2=insist\n", `ipsec.conf:6: conn "west-east": ikev2=insist: goswan speaks IKEv1 only`, nil},
		{"keyexchange ikev2", good + "\tkeyexchange=ikev2\n", `ipsec.conf:6: conn "west-east": keyexchange=ikev2: goswan speaks IKEv1 only`, nil},
		{"ikev1-policy drop", "config setup\n\tikev1-policy=drop\n", `ipsec.conf:2: config setup: ikev1-policy=drop: goswan speaks IKEv1 only`, nil},
		{"missing right", "conn a\n\tleft=192.0.2.1\n\tauthby=secret\n\tauto=add\n", `ipsec.conf:1: conn "a": right= is not set`, nil},
		{"authby never", good + "\tauthby=never\n", `duplicate keyword "authby"`, nil},
		{"authby never tunnel", "conn a\n\tleft=192.0.2.1\n\tright=192.0.2.2\n\tauthby=never\n\tauto=add\n",
			`ipsec.conf:4: conn "a": authby=never is only for type=passthrough, drop or reject`, nil},
		{"dns key", good + "\trightrsasigkey=%dnsondemand\n", `ipsec.conf:6: conn "west-east": bad value rightrsasigkey="%dnsondemand": keys from DNS are not supported`, nil},
		{"opportunistic", "conn a\n\tleft=%opportunistic\n\tright=192.0.2.2\n\tauto=add\n", `ipsec.conf:2: conn "a": left=%opportunistic: opportunistic encryption is not supported`, nil},
		{"subnet and subnets", good + "\tleftsubnet=10.0.0.0/8\n\tleftsubnets={10.1.0.0/16}\n", `ipsec.conf:7: conn "west-east": leftsubnet= and leftsubnets= cannot both be given`, nil},
		{"lifetime vs margin", good + "\tikelifetime=5m\n", `ipsec.conf:1: conn "west-east": whack refuses the connection: ikelifetime (300 seconds) must be greater than rekeymargin`, nil},
		{"esp aliases", good + "\tesp=aes128-sha1\n\tphase2alg=3des-md5\n", `ipsec.conf:7: conn "west-east": phase2alg=3des-md5 conflicts with esp=aes128-sha1`, nil},
		{"missing include", "include nothere.conf\n", `ipsec.conf:1: include `, nil},
		{"include loop", "include ipsec.conf\n", `nested more than 10 deep`, nil},
		{"error in included file", "include sub.conf\n", `sub.conf:2: conn "s": unknown keyword "bogus"`, map[string]string{"sub.conf": "conn s\n\tbogus=1\n"}},
		{"rsasigkey without id on %any", "conn a\n\tleft=192.0.2.1\n\tright=%any\n\trightrsasigkey=0sAwEAAQ==\n\tauto=add\n",
			`ipsec.conf:4: conn "a": rightrsasigkey needs rightid= when right= is not an address`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := filepath.Join(dir, "ipsec.conf")
			os.WriteFile(f, []byte(tc.conf), 0o644)
			for n, c := range tc.files {
				os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644)
			}
			_, err := Load(f)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain\n%s", err, tc.want)
			}
			var el ErrorList
			if !errors.As(err, &el) || len(el) == 0 || el[0].Pos.Line == 0 && !strings.Contains(tc.name, "include") {
				t.Errorf("not a located ErrorList: %#v", err)
			}
		})
	}
}

// TestErrorKeyword: errors carry the keyword for programs.
func TestErrorKeyword(t *testing.T) {
	f := filepath.Join(t.TempDir(), "ipsec.conf")
	os.WriteFile(f, []byte("conn a\n\tlefsubnet=10.0.0.0/8\n\tpfs=maybe\n"), 0o644)
	_, err := Load(f)
	var el ErrorList
	if !errors.As(err, &el) || len(el) != 2 || el[0].Keyword != "lefsubnet" || el[1].Keyword != "pfs" || el[0].Pos.Line != 2 {
		t.Fatalf("%#v", err)
	}
}

// TestShuntTypes: passthrough/drop/reject give whack's shunt options and
// no authentication.
func TestShuntTypes(t *testing.T) {
	f := filepath.Join(t.TempDir(), "ipsec.conf")
	os.WriteFile(f, []byte("conn %default\n\tleft=192.0.2.1\n\tright=192.0.2.2\n\tleftsubnet=10.1.0.0/24\n\trightsubnet=10.2.0.0/24\n\tauthby=never\n"+
		"conn p\n\ttype=passthrough\n\tauto=route\nconn d\n\ttype=drop\n\tauto=route\nconn r\n\ttype=reject\n\tauto=route\n"+
		"conn ah\n\tauthby=secret\n\tphase2=ah\n\tesp=sha1\n\tfailureshunt=passthrough\n\tauto=add\n"), 0o644)
	cfg := load(t, f)
	for name, shunt := range map[string]string{"p": "pass", "d": "drop", "r": "reject"} {
		m := messages(t, cfg, name)[0]
		if m.Shunt != shunt || m.PSK || m.RSASig || m.Encrypt || m.Tunnel {
			t.Errorf("%s: %+v", name, m.ConnDesc)
		}
	}
	ah := messages(t, cfg, "ah")[0]
	if !ah.Authenticate || ah.Encrypt || ah.ESP != "sha1" || ah.Fail != "pass" {
		t.Errorf("ah: %+v", ah.ConnDesc)
	}
}

// TestKeywordsDocumented: every keyword of the tables appears in the
// package documentation (doc.go).
func TestKeywordsDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"config", "conn"} {
		for k := range Keywords(kind) {
			k = strings.TrimPrefix(k, "right")
			if strings.HasPrefix(k, "left") || k == "" {
				k = "left" + strings.TrimPrefix(k, "left")
			}
			if !strings.Contains(string(doc), k) {
				t.Errorf("%s keyword %q is not in doc.go", kind, k)
			}
		}
	}
}

// TestNATTSetup: config setup's NAT-T keywords become pluto's options.
func TestNATTSetup(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		setup string
		want  []string
		err   string
	}{
		{"nat_traversal=yes\n\tkeep_alive=30\n\tforce_keepalive=yes", []string{"--nat_traversal", "--force_keepalive", "--keep_alive", "30"}, ""},
		{"nat_traversal=yes\n\tdisable_port_floating=yes\n\tkeep_alive=2m", []string{"--nat_traversal", "--disable_port_floating", "--keep_alive", "120"}, ""},
		{"nat_traversal=no", nil, ""},
		{"strictcrlpolicy=yes\n\tipsecdir=/etc/ipsec.d", []string{"--ipsecdir", "/etc/ipsec.d", "--strictcrlpolicy"}, ""},
		{"strictcrlpolicy=no", nil, ""},
		{"keep_alive=0", nil, "keep_alive"},
	} {
		path := filepath.Join(dir, "ipsec.conf")
		os.WriteFile(path, []byte("config setup\n\tprotostack=netkey\n\tuniqueids=no\n\t"+c.setup+"\n"), 0o644)
		cfg, err := Load(path)
		if err != nil {
			t.Fatalf("%q: %v", c.setup, err)
		}
		o, err := cfg.Setup.PlutoOptions(fakeResolver{})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one naming %s", c.setup, err, c.err)
			}
			continue
		}
		if want := append([]string{"--use-netkey"}, c.want...); err != nil || !slices.Equal(o.Args, want) {
			t.Errorf("%q: %q (%v), want %q", c.setup, o.Args, err, want)
		}
	}
}

// TestXAuthModeCfgKeywords: a libreswan XAUTH/ModeCfg server and client
// load: the flags, modecfgpull and DNS, the one-address pool as the
// client's subnet, the client's user name; a larger pool is refused.
func TestXAuthModeCfgKeywords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ipsec.conf")
	conf := "conn server\n\tauthby=secret\n\tleft=192.0.2.2\n\tleftsubnet=10.2.0.0/24\n\tleftxauthserver=yes\n\tleftmodecfgserver=yes\n" +
		"\tright=192.0.2.1\n\trightxauthclient=yes\n\trightmodecfgclient=yes\n\trightaddresspool=10.9.0.5-10.9.0.5\n" +
		"\tmodecfgpull=yes\n\tmodecfgdns1=10.2.0.53\n\tauto=add\n" +
		"conn client\n\tauthby=secret\n\tleft=192.0.2.1\n\tleftxauthclient=yes\n\tleftmodecfgclient=yes\n\tleftusername=alice\n" +
		"\tright=192.0.2.2\n\trightsubnet=10.2.0.0/24\n\trightxauthserver=yes\n\trightmodecfgserver=yes\n\tauto=add\n"
	os.WriteFile(path, []byte(conf), 0o644)
	cfg := load(t, path)
	s := messages(t, cfg, "server")[0].ConnDesc
	if !s.Left.XauthServer || !s.Left.ModecfgServer || !s.Right.XauthClient || !s.Right.ModecfgClient ||
		s.Right.Client != "10.9.0.5/32" || !s.ModecfgPull || s.ModecfgDNS1 != "10.2.0.53" {
		t.Errorf("server: %+v", s)
	}
	c := messages(t, cfg, "client")[0].ConnDesc
	if c.Left.XauthName != "alice" || c.Left.Client != "" || !c.Left.XauthClient || c.Right.Client != "10.2.0.0/24" {
		t.Errorf("client: %+v", c)
	}
	os.WriteFile(path, []byte("conn x\n\tleft=192.0.2.1\n\tright=192.0.2.2\n\trightaddresspool=10.9.0.5-10.9.0.9\n"), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), `rightaddresspool="10.9.0.5-10.9.0.9": a pool of more than one address is not supported`) {
		t.Errorf("larger pool: %v", err)
	}
}
