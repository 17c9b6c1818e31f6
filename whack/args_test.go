package whack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// same fails the test with both values as JSON (plus the local fields)
// when they differ.
func same(t *testing.T, want, got *Message) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	show := func(m *Message) string {
		if m == nil {
			return "nil"
		}
		b, _ := json.MarshalIndent(m, "", "  ")
		return string(b) + "\nctlbase=" + m.Ctlbase + " help=" + boolStr(m.Help) + " version=" + boolStr(m.Version)
	}
	t.Errorf("message differs\nwant: %s\n got: %s", show(want), show(got))
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// westEast is the manual's connection form with both ends, subnets and the
// options of the CONTRACT (PSK tunnel with PFS, ike/esp lists, lifetimes).
var westEast = []string{
	"--name", "west-east",
	"--host", "192.0.2.1", "--id", "@west", "--client", "10.1.0.0/24", "--nexthop", "192.0.2.254", "--ikeport", "500",
	"--to",
	"--host", "192.0.2.2", "--id", "@east", "--client", "10.2.0.0/24", "--updown", "ipsec _updown",
	"--psk", "--encrypt", "--tunnel", "--pfs",
	"--ike", "aes128-sha1-modp2048", "--esp", "3des-md5;modp1024",
	"--ikelifetime", "3600", "--ipseclifetime", "28800", "--keyingtries", "%forever",
}

func westEastMessage() *Message {
	return &Message{
		Name:          "west-east",
		HasConnection: true,
		ConnDesc: ConnDesc{
			Left:  End{Host: "192.0.2.1", ID: "@west", Client: "10.1.0.0/24", NextHop: "192.0.2.254", IKEPort: 500},
			Right: End{Host: "192.0.2.2", ID: "@east", Client: "10.2.0.0/24", Updown: "ipsec _updown"},
			PSK:   true, Encrypt: true, Tunnel: true, PFS: true,
			IKE: "aes128-sha1-modp2048", ESP: "3des-md5;modp1024",
			IKELifetime: time.Hour, IPsecLifetime: 8 * time.Hour,
			KeyingTries: new(0),
		},
	}
}

func TestParseArgs(t *testing.T) {
	optsFile := writeFile(t, "west.opts", `# the west end
--name west-east   # trailing comment
--host 192.0.2.1 --client 10.1.0.0/24
	--to --host 192.0.2.2 --client 10.2.0.0/24
--ca "C=CH, O=Example, CN=Example CA"
# a comment line
--psk --encrypt
`)
	nested := writeFile(t, "outer.opts", "--optionsfrom "+optsFile+" --tunnel\n")

	tests := []struct {
		name string
		args []string
		want *Message
	}{
		{"connection", westEast, westEastMessage()},
		{"connection with = syntax", []string{
			"--name=west-east", "--host=192.0.2.1", "--id=@west", "--client=10.1.0.0/24",
			"--nexthop=192.0.2.254", "--ikeport=500", "--to", "--host=192.0.2.2", "--id=@east",
			"--client=10.2.0.0/24", "--updown=ipsec _updown", "--psk", "--encrypt", "--tunnel", "--pfs",
			"--ike=aes128-sha1-modp2048", "--esp=3des-md5;modp1024", "--ikelifetime=1h",
			"--ipseclifetime=8h", "--keyingtries=0",
		}, westEastMessage()},
		{"connection options anywhere", []string{
			"--psk", "--name", "c", "--host", "192.0.2.1", "--encrypt", "--to", "--pfs", "--host", "%any",
		}, &Message{Name: "c", HasConnection: true, ConnDesc: ConnDesc{
			Left: End{Host: "192.0.2.1"}, Right: End{Host: "%any"}, PSK: true, Encrypt: true, PFS: true}}},
		{"durations and rekeying", []string{
			"--name", "c", "--host", "h1.example.org", "--to", "--host", "%defaultroute", "--rsasig",
			"--ikelifetime", "1d", "--ipseclifetime", "90m", "--rekeymargin", "9m", "--rekeyfuzz", "50%",
			"--keyingtries", "5", "--dpddelay", "30", "--dpdtimeout", "2m", "--dpdaction", "restart",
		}, &Message{Name: "c", HasConnection: true, ConnDesc: ConnDesc{
			Left: End{Host: "h1.example.org"}, Right: End{Host: "%defaultroute"}, RSASig: true,
			IKELifetime: 24 * time.Hour, IPsecLifetime: 90 * time.Minute,
			RekeyMargin: new(9 * time.Minute), RekeyFuzz: new(50), KeyingTries: new(5),
			DPDDelay: 30 * time.Second, DPDTimeout: 2 * time.Minute, DPDAction: "restart"}}},
		{"zero margin and fuzz are kept", []string{
			"--name", "c", "--host", "192.0.2.1", "--to", "--host", "192.0.2.2", "--psk",
			"--rekeymargin", "0", "--rekeyfuzz", "0",
		}, &Message{Name: "c", HasConnection: true, ConnDesc: ConnDesc{
			Left: End{Host: "192.0.2.1"}, Right: End{Host: "192.0.2.2"}, PSK: true,
			RekeyMargin: new(time.Duration(0)), RekeyFuzz: new(0)}}},
		{"shunt without authentication", []string{
			"--name", "clear", "--host", "192.0.2.1", "--client", "10.1.0.0/24", "--to",
			"--host", "%any", "--client", "0.0.0.0/0", "--pass", "--failnone",
		}, &Message{Name: "clear", HasConnection: true, ConnDesc: ConnDesc{
			Left: End{Host: "192.0.2.1", Client: "10.1.0.0/24"}, Right: End{Host: "%any", Client: "0.0.0.0/0"},
			Shunt: "pass", Fail: "none"}}},
		{"ipv6, subnets canonical, protoport, certificates", []string{
			"--name", "v6", "--ipv6", "--tunnelipv4", "--host", "2001:db8::1", "--client", "10.1.0.1",
			"--clientprotoport", "udp/l2tp", "--cert", "west.pem", "--sendcert", "always", "--srcip", "2001:db8::1",
			"--to", "--host", "2001:db8::2", "--clientwithin", "10.2.0.0/16", "--clientprotoport", "17/%any",
			"--ca", "%same", "--rsasig", "--encrypt", "--aggrmode", "--ike", "aes128-sha1;modp2048",
			"--pfsgroup", "modp2048", "--forceencaps", "--dontrekey", "--disablearrivalcheck",
			"--compress", "--authenticate", "--metric", "10", "--mtu", "1400", "--initiateontraffic", "--failreject",
		}, &Message{Name: "v6", HasConnection: true, TunnelAddrFamily: "ipv4", ConnDesc: ConnDesc{
			AddrFamily: "ipv6",
			Left: End{Host: "2001:db8::1", Client: "10.1.0.1/32", ClientProtoPort: "udp/l2tp",
				Cert: "west.pem", SendCert: "always", SrcIP: "2001:db8::1"},
			Right:  End{Host: "2001:db8::2", ClientWithin: "10.2.0.0/16", ClientProtoPort: "17/%any", CA: "%same"},
			RSASig: true, Encrypt: true, AggrMode: true, IKE: "aes128-sha1;modp2048", PFSGroup: "modp2048",
			ForceEncaps: true, DontRekey: true, DisableArrivalCheck: true, Compress: true, Authenticate: true,
			Metric: 10, MTU: 1400, Shunt: "trap", Fail: "reject"}}},
		{"xauth and modecfg", []string{
			"--name", "rw", "--host", "192.0.2.1", "--xauthserver", "--modecfgserver", "--to",
			"--host", "%any", "--xauthclient", "--modeconfigclient", "--dnskeyondemand", "--groups", "g1",
			"--certtype", "4", "--psk", "--modecfgpull", "--modecfgdns1", "192.0.2.53",
			"--modecfgdns2", "192.0.2.54", "--modecfgwins1", "192.0.2.55", "--modecfgwins2", "192.0.2.56",
		}, &Message{Name: "rw", HasConnection: true, ConnDesc: ConnDesc{
			Left: End{Host: "192.0.2.1", XauthServer: true, ModecfgServer: true},
			Right: End{Host: "%any", XauthClient: true, ModecfgClient: true, DNSKeyOnDemand: true,
				Groups: "g1", CertType: 4},
			PSK: true, ModecfgPull: true, ModecfgDNS1: "192.0.2.53", ModecfgDNS2: "192.0.2.54",
			ModecfgWINS1: "192.0.2.55", ModecfgWINS2: "192.0.2.56"}}},
		{"initiate", []string{"--initiate", "--name", "x"}, &Message{Name: "x", Initiate: true}},
		{"initiate with xauth, asynchronous", []string{
			"--name", "x", "--initiate", "--asynchronous", "--xauthuser", "joe", "--xauthpass", "secret",
		}, &Message{Name: "x", Initiate: true, Asynchronous: true, XauthName: "joe", XauthPass: "secret"}},
		{"terminate", []string{"--terminate", "--name", "x"}, &Message{Name: "x", Terminate: true}},
		{"route", []string{"--route", "--name", "x"}, &Message{Name: "x", Route: true}},
		{"unroute", []string{"--name", "x", "--unroute"}, &Message{Name: "x", Unroute: true}},
		{"delete", []string{"--name", "x", "--delete"}, &Message{Name: "x", Delete: true}},
		{"status", []string{"--status"}, &Message{Status: true}},
		{"status json", []string{"--status", "--json"}, &Message{Status: true, JSON: true}},
		{"deletestate", []string{"--deletestate", "5"}, &Message{DeleteState: 5}},
		{"shutdown", []string{"--shutdown"}, &Message{Shutdown: true}},
		{"listen", []string{"--listen"}, &Message{Listen: true}},
		{"unlisten", []string{"--unlisten"}, &Message{Unlisten: true}},
		{"rereadsecrets", []string{"--rereadsecrets"}, &Message{Reread: []string{"secrets"}}},
		{"rereads", []string{"--rereadcacerts", "--rereadall"}, &Message{Reread: []string{"cacerts", "all"}}},
		{"lists", []string{"--utc", "--listpubkeys", "--checkpubkeys", "--listall", "--listevents"},
			&Message{UTC: true, List: []string{"pubkeys", "checkpubkeys", "all", "events"}}},
		{"purgeocsp", []string{"--purgeocsp"}, &Message{PurgeOCSP: true}},
		{"crash", []string{"--crash", "192.0.2.9"}, &Message{Crash: "192.0.2.9"}},
		{"myid", []string{"--myid", "@west"}, &Message{MyID: "@west"}},
		{"key", []string{"--keyid", "@east", "--addkey", "--pubkeyrsa", "0sAQOhU4Bu"},
			&Message{KeyID: "@east", AddKey: true, PubKeyRSA: "0sAQOhU4Bu"}},
		{"key hex", []string{"--keyid", "192.0.2.2", "--pubkeyrsa", "0x0103_ab"},
			&Message{KeyID: "192.0.2.2", PubKeyRSA: "0x0103_ab"}},
		{"oppo", []string{"--tunnelipv4", "--oppohere", "10.1.0.1", "--oppothere", "10.2.0.1"},
			&Message{TunnelAddrFamily: "ipv4", OppoHere: "10.1.0.1", OppoThere: "10.2.0.1"}},
		{"global debug", []string{"--debug-none", "--debug-raw", "--debug-netkey", "--debug-nat-t", "--debug-raw", "--impair-bust-mi2"},
			&Message{Debug: []string{"none", "raw", "klips", "natt", "raw"}, Impair: []string{"bust-mi2"}}},
		{"connection debug", []string{"--name", "x", "--debug-all"}, &Message{Name: "x", Debug: []string{"all"}}},
		{"whackrecord", []string{"--whackrecord", "/tmp/rec", "--whackstoprecord"},
			&Message{WhackRecord: "/tmp/rec", WhackStopRecord: true}},
		{"optionsfrom with comments", []string{"--optionsfrom", optsFile}, &Message{
			Name: "west-east", HasConnection: true, ConnDesc: ConnDesc{
				Left:  End{Host: "192.0.2.1", Client: "10.1.0.0/24"},
				Right: End{Host: "192.0.2.2", Client: "10.2.0.0/24", CA: "C=CH, O=Example, CN=Example CA"},
				PSK:   true, Encrypt: true}}},
		{"optionsfrom nested, then more options", []string{"--optionsfrom", nested, "--ikeport", "4500"}, &Message{
			Name: "west-east", HasConnection: true, ConnDesc: ConnDesc{
				Left: End{Host: "192.0.2.1", Client: "10.1.0.0/24"},
				Right: End{Host: "192.0.2.2", Client: "10.2.0.0/24", CA: "C=CH, O=Example, CN=Example CA",
					IKEPort: 4500},
				PSK: true, Encrypt: true, Tunnel: true}}},
		{"label and ctlbase", []string{"--label", "ipsec auto --up x", "--ctlbase", "/tmp/p", "--status"},
			&Message{Label: "ipsec auto --up x", Ctlbase: "/tmp/p", Status: true}},
		{"help stops parsing", []string{"--help", "--bogus"}, &Message{Help: true}},
		{"version", []string{"--version"}, &Message{Version: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs(tt.args)
			if err != nil {
				t.Fatalf("ParseArgs(%q): %v", tt.args, err)
			}
			same(t, tt.want, got)
			if got.Help || got.Version {
				return
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	self := filepath.Join(t.TempDir(), "self.opts")
	if err := os.WriteFile(self, []byte("--optionsfrom "+self+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unterminated := writeFile(t, "bad.opts", "--name x\n--id 'oops\n")
	badInFile := writeFile(t, "bad2.opts", "--status --ikeport x\n")
	conn := func(extra ...string) []string {
		return append([]string{"--name", "c", "--host", "192.0.2.1", "--to", "--host", "192.0.2.2", "--psk"}, extra...)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad ikeport", conn("--ikeport", "abc"), `whack: --ikeport: "abc" is not a port number`},
		{"ikeport out of range", conn("--ikeport", "70000"), `whack: --ikeport: 70000 is not a port number (1-65535)`},
		{"ikeport zero", conn("--ikeport", "0"), `whack: --ikeport: 0 is not a port number (1-65535)`},
		{"to twice", conn("--to"), `whack: --to given twice`},
		{"unknown option", []string{"--status", "--bogus"}, `whack: unknown option --bogus`},
		{"unknown option with value", []string{"--bogus=1"}, `whack: unknown option --bogus`},
		{"short option", []string{"-s"}, `whack: unknown option -s`},
		{"stray argument", []string{"--status", "foo"}, `whack: unexpected argument "foo"`},
		{"no host after --to", []string{"--name", "c", "--host", "192.0.2.1", "--to", "--psk"},
			`whack: connection description requires --host on both ends`},
		{"no host before --to", []string{"--name", "c", "--id", "@west", "--to", "--host", "192.0.2.2", "--psk"},
			`whack: connection description requires --host on both ends`},
		{"no --to", []string{"--name", "c", "--host", "192.0.2.1", "--psk"},
			`whack: connection description option --host given without --to`},
		{"policy without --to", []string{"--name", "c", "--psk", "--initiate"},
			`whack: connection description option --psk given without --to`},
		{"tunnelipv4 without oppo", []string{"--tunnelipv4", "--status"},
			`whack: connection description option --tunnelipv4 given without --to`},
		{"connection without name", []string{"--host", "192.0.2.1", "--to", "--host", "192.0.2.2", "--psk"},
			`whack: connection description requires --name`},
		{"both any", []string{"--name", "c", "--host", "%any", "--to", "--host", "%any", "--psk"},
			`whack: hosts cannot both be %any`},
		{"no authentication", []string{"--name", "c", "--host", "192.0.2.1", "--to", "--host", "192.0.2.2"},
			`whack: a connection needs --psk or --rsasig (or, for a shunt, --pass, --drop or --reject)`},
		{"isakmp-only with clients", conn("--client", "10.2.0.0/24"),
			`whack: must not specify --client for an ISAKMP-only connection (no --encrypt, --authenticate, --compress or --pfs)`},
		{"missing argument", []string{"--name"}, `whack: --name requires an argument`},
		{"option as argument", []string{"--name", "--initiate"}, `whack: --name requires an argument`},
		{"empty argument", []string{"--name=", "--initiate"}, `whack: --name requires a non-empty argument`},
		{"flag with value", []string{"--status=yes"}, `whack: --status takes no argument`},
		{"duplicate", []string{"--status", "--status"}, `whack: --status given twice`},
		{"json without status", []string{"--json", "--listen"}, `whack: --json requires --status`},
		{"duplicate alias", []string{"--name", "x", "--initiate", "--xauthname", "a", "--xauthuser", "b"},
			`whack: --xauthuser given twice`},
		{"duplicate end option", conn("--host", "192.0.2.3"), `whack: --host given twice`},
		{"shunt conflict", conn("--pass", "--drop"), `whack: --drop conflicts with --pass`},
		{"fail conflict", conn("--failpass", "--failpass"), `whack: --failpass given twice`},
		{"family conflict", []string{"--ipv4", "--ipv6"}, `whack: --ipv6 conflicts with --ipv4`},
		{"client and clientwithin", conn("--encrypt", "--client", "10.0.0.0/8", "--clientwithin", "10.0.0.0/8"),
			`whack: --clientwithin conflicts with --client`},
		{"bad subnet", conn("--encrypt", "--client", "10.0.0/8"), `whack: --client: "10.0.0/8" is not a subnet (address/bits)`},
		{"host bits", conn("--encrypt", "--client", "10.1.0.1/24"),
			`whack: --client: "10.1.0.1/24" has host bits set (the subnet is 10.1.0.0/24)`},
		{"bad host", conn("--nexthop", "%bogus"), `whack: --nexthop: "%bogus" is not a known keyword (%direct, %defaultroute)`},
		{"bad host keyword", []string{"--host", "%foo"},
			`whack: --host: "%foo" is not a known keyword (%any, %defaultroute, %opportunistic, %group, %opportunisticgroup)`},
		{"bad host name", []string{"--host", "a b"}, `whack: --host: "a b" is neither an IP address nor a DNS name`},
		{"bad host address", []string{"--host", "192.0.2.300"}, `whack: --host: "192.0.2.300" is not an IP address`},
		{"bad protoport", conn("--clientprotoport", "tcp"), `whack: --clientprotoport: "tcp" is not protocol/port (missing /)`},
		{"bad protocol", conn("--clientprotoport", "foo/80"), `whack: --clientprotoport: "foo/80": unknown protocol "foo"`},
		{"bad service", conn("--clientprotoport", "tcp/nosuchservice"), `whack: --clientprotoport: "tcp/nosuchservice": unknown port "nosuchservice"`},
		{"protocol mismatch", conn("--clientprotoport", "tcp/80"),
			`whack: the protocol of --clientprotoport must be the same on both ends`},
		{"bad lifetime", conn("--ikelifetime", "soon"),
			`whack: --ikelifetime: "soon" is not a number of seconds (or a duration such as 9m, 1h, 1d)`},
		{"fractional lifetime", conn("--ikelifetime", "1.5s"), `whack: --ikelifetime: "1.5s" is not a whole number of seconds`},
		{"zero lifetime", conn("--ipseclifetime", "0"), `whack: --ipseclifetime: "0": must be more than 0 seconds`},
		{"lifetime too long", conn("--ikelifetime", "100000"), `whack: --ikelifetime: 100000 seconds is more than the maximum 86400`},
		{"lifetime below margin", conn("--ikelifetime", "600"),
			`whack: ikelifetime (600 seconds) must be greater than rekeymargin*(100+rekeyfuzz)/100 = 540*(100+100)/100 = 1080 seconds (or give --dontrekey)`},
		{"bad fuzz", conn("--rekeyfuzz", "lots"), `whack: --rekeyfuzz: "lots" is not a percentage`},
		{"bad keyingtries", conn("--keyingtries", "-1"), `whack: --keyingtries: "-1" is not a count (a number, 0 or %forever for no limit)`},
		{"bad pfsgroup", conn("--pfsgroup", "modp768"),
			`whack: --pfsgroup: "modp768" is not one of modp1024, modp1536, modp2048, modp3072, modp4096, modp6144, modp8192`},
		{"bad dpdaction", conn("--dpdaction", "panic"), `whack: --dpdaction: "panic" is not one of clear, hold, restart, restart_by_peer`},
		{"dpd half", conn("--dpddelay", "30"), `whack: --dpddelay and --dpdtimeout must be given together`},
		{"bad sendcert", conn("--sendcert", "maybe"), `whack: --sendcert: "maybe" is not one of yes, always, forced, ifasked, no, never`},
		{"bad ike", conn("--ike", "aes<128>"), `whack: --ike: "aes<128>": unexpected character '<' in an algorithm list`},
		{"aggrmode without ike", conn("--aggrmode"), `whack: --aggrmode requires --ike to set the algorithm`},
		{"family clash", []string{"--name", "c", "--host", "192.0.2.1", "--to", "--host", "2001:db8::2", "--psk"},
			`whack: endpoints clash: --host 192.0.2.1 is IPv4 but --host 2001:db8::2 is IPv6`},
		{"family given", []string{"--name", "c", "--ipv6", "--host", "192.0.2.1", "--to", "--host", "2001:db8::2", "--psk"},
			`whack: --host 192.0.2.1 is not an IPv6 address (--ipv6 given)`},
		{"opportunism needs rsasig", []string{"--name", "c", "--host", "192.0.2.1", "--to", "--host", "%opportunistic", "--psk"},
			`whack: only --rsasig is supported for opportunism`},
		{"initiate without name", []string{"--initiate"}, `whack: --initiate requires --name`},
		{"route without name", []string{"--route"}, `whack: --route requires --name`},
		{"delete without name", []string{"--delete"}, `whack: --delete requires --name`},
		{"no reason for name", []string{"--name", "x", "--status"}, `whack: no reason for --name`},
		{"no action", []string{}, `whack: no action specified; try --help for hints`},
		{"utc alone", []string{"--utc"}, `whack: no action specified; try --help for hints`},
		{"deletestate zero", []string{"--deletestate", "0"}, `whack: --deletestate: "0" is not a state number (1 or more)`},
		{"deletestate word", []string{"--deletestate", "five"}, `whack: --deletestate: "five" is not a state number (1 or more)`},
		{"bad crash", []string{"--crash", "nowhere"}, `whack: --crash: "nowhere" is not an IP address`},
		{"crash any", []string{"--crash", "0.0.0.0"}, `whack: --crash: "0.0.0.0": 0.0.0.0 or :: is not a valid address here`},
		{"oppohere alone", []string{"--oppohere", "10.1.0.1"}, `whack: --oppohere and --oppothere must be used together`},
		{"addkey without keyid", []string{"--addkey", "--pubkeyrsa", "0sAQOh"}, `whack: --addkey and --pubkeyrsa require --keyid`},
		{"bad key", []string{"--keyid", "@e", "--pubkeyrsa", "AQOh"},
			`whack: --pubkeyrsa: RSA public-key data malformed (expected 0s<base64> or 0x<hex>)`},
		{"control character", []string{"--myid", "a\nb"}, `whack: --myid: "a\nb" contains a control character`},
		{"bad name", []string{"--name", `a"b`, "--initiate"},
			`whack: --name: "a\"b": a connection name cannot contain blanks, quotes or backslashes`},
		{"ctlbase too long", []string{"--ctlbase", "/" + strings.Repeat("x", 110), "--status"},
			`whack: --ctlbase: "/` + strings.Repeat("x", 110) + `": /` + strings.Repeat("x", 110) + `.ctl is too long for a Unix socket path`},
		{"label prefix", []string{"--status", "--bogus", "--label", "ipsec auto"}, `whack: ipsec auto: unknown option --bogus`},
		{"label prefix, = form", []string{"--label=up x", "--initiate"}, `whack: up x: --initiate requires --name`},
		{"optionsfrom missing", []string{"--optionsfrom", "/nonexistent/opts"},
			`whack: --optionsfrom /nonexistent/opts: open /nonexistent/opts: no such file or directory`},
		{"optionsfrom loop", []string{"--optionsfrom", self}, `whack: --optionsfrom ` + self + `: nested too deeply (limit 10)`},
		{"optionsfrom quote", []string{"--optionsfrom", unterminated},
			`whack: --optionsfrom ` + unterminated + `: line 2: unterminated ' quote`},
		{"error inside optionsfrom", []string{"--optionsfrom", badInFile}, `whack: --ikeport: "x" is not a port number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseArgs(tt.args)
			if err == nil {
				t.Fatalf("ParseArgs(%q) = %+v, want error %q", tt.args, m, tt.want)
			}
			if _, ok := err.(*UsageError); !ok {
				t.Errorf("error is %T, want *UsageError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseArgs(%q)\n got error %q\nwant error %q", tt.args, err, tt.want)
			}
		})
	}
}

// Every option in the usage text is known to the parser, and every option
// the parser knows appears in the usage text (aliases aside).
func TestUsageListsEveryOption(t *testing.T) {
	mentioned := map[string]bool{}
	for _, f := range strings.FieldsFunc(usage, func(r rune) bool { return strings.ContainsRune(" []()|\\\n", r) }) {
		if name, ok := strings.CutPrefix(f, "--"); ok {
			mentioned[name] = true
			if optionMap[name] == nil {
				t.Errorf("usage mentions unknown option %s", f)
			}
		}
	}
	for _, o := range optionList {
		if !mentioned[o.name] {
			t.Errorf("usage does not mention --%s", o.name)
		}
	}
}

func TestSplitWords(t *testing.T) {
	got, err := splitWords("a b\t'c d'\"e f\"g #x y\n# z\n  h#i\n''")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b", "c de fg", "h#i", ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splitWords = %q, want %q", got, want)
	}
}
