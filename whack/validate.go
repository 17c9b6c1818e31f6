package whack

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Names accepted in Message.Debug, Impair, List and Reread.
var (
	debugNames = []string{"none", "all", "raw", "crypt", "parsing", "emitting", "control",
		"controlmore", "lifecycle", "klips", "dns", "oppo", "oppoinfo", "whackwatch",
		"pfkey", "natt", "x509", "dpd", "private"}
	impairNames = []string{"delay-adns-key-answer", "delay-adns-txt-answer", "bust-mi2",
		"bust-mr2", "sa-fail", "die-oninfo", "jacob-two-two", "major-version-bump",
		"minor-version-bump", "retransmits", "send-bogus-isakmp-flag"}
	listNames = []string{"pubkeys", "certs", "cacerts", "acerts", "aacerts", "ocspcerts",
		"groups", "crls", "ocsp", "events", "checkpubkeys", "all"}
	rereadNames = []string{"secrets", "cacerts", "aacerts", "ocspcerts", "acerts", "crls", "all"}
)

// Validate checks every field of a message (as ReadMessage receives it)
// and the rules that tie fields together: the syntax whack's options
// enforce, the connection form's requirements (--host on both ends, --name,
// an authentication method...), and the commands that need --name. A
// message ParseArgs returns always passes.
func (m *Message) Validate() error {
	if err := m.checkFields(); err != nil {
		return err
	}
	return m.crossCheck()
}

type fieldCheck struct {
	opt   string
	value string
	check func(string) error
}

func (m *Message) checkFields() error {
	str := []fieldCheck{
		{"label", m.Label, checkText},
		{"name", m.Name, checkName},
		{"keyid", m.KeyID, checkText},
		{"myid", m.MyID, checkText},
		{"pubkeyrsa", m.PubKeyRSA, func(s string) error { _, err := decodeKeyData(s); return err }},
		{"crash", m.Crash, ipCheck},
		{"oppohere", m.OppoHere, ipCheck},
		{"oppothere", m.OppoThere, ipCheck},
		{"xauthname", m.XauthName, checkText},
		{"xauthpass", m.XauthPass, checkText},
		{"whackrecord", m.WhackRecord, checkText},
		{"tunnelipv4/--tunnelipv6", m.TunnelAddrFamily, words(familyWords)},
		{"ipv4/--ipv6", m.AddrFamily, words(familyWords)},
		{"initiateontraffic/--pass/--drop/--reject", m.Shunt, words(shuntWords)},
		{"failnone/--failpass/--faildrop/--failreject", m.Fail, words(failWords)},
		{"ike", m.IKE, checkAlgs},
		{"esp", m.ESP, checkAlgs},
		{"pfsgroup", m.PFSGroup, words(pfsGroupWords)},
		{"dpdaction", m.DPDAction, words(dpdActionWords)},
		{"modecfgdns1", m.ModecfgDNS1, ipCheck},
		{"modecfgdns2", m.ModecfgDNS2, ipCheck},
		{"modecfgwins1", m.ModecfgWINS1, ipCheck},
		{"modecfgwins2", m.ModecfgWINS2, ipCheck},
	}
	for _, f := range str {
		if f.value == "" {
			continue
		}
		if err := f.check(f.value); err != nil {
			return fmt.Errorf("--%s: %w", f.opt, err)
		}
	}
	for _, e := range []struct {
		side string
		end  *End
	}{{"left", &m.Left}, {"right", &m.Right}} {
		if err := e.end.check(); err != nil {
			return fmt.Errorf("%s %w", e.side, err)
		}
	}
	for _, d := range []struct {
		opt string
		d   time.Duration
	}{{"ikelifetime", m.IKELifetime}, {"ipseclifetime", m.IPsecLifetime},
		{"dpddelay", m.DPDDelay}, {"dpdtimeout", m.DPDTimeout}} {
		if err := checkSeconds(d.d); err != nil {
			return fmt.Errorf("--%s: %w", d.opt, err)
		}
	}
	if m.RekeyMargin != nil {
		if err := checkSeconds(*m.RekeyMargin); err != nil {
			return fmt.Errorf("--rekeymargin: %w", err)
		}
	}
	ints := []struct {
		opt      string
		v        *int
		min, max int
	}{
		{"rekeyfuzz", m.RekeyFuzz, 0, maxPercent},
		{"keyingtries", m.KeyingTries, 0, maxKeyingTries},
		{"deletestate", &m.DeleteState, 0, maxSeconds},
		{"metric", &m.Metric, 0, maxSeconds},
		{"mtu", &m.MTU, 0, 65535},
	}
	for _, n := range ints {
		if n.v != nil && (*n.v < n.min || *n.v > n.max) {
			return fmt.Errorf("--%s: %d is out of range (%d-%d)", n.opt, *n.v, n.min, n.max)
		}
	}
	lists := []struct {
		what  string
		got   []string
		names []string
	}{
		{"debug option", m.Debug, debugNames},
		{"impair option", m.Impair, impairNames},
		{"list", m.List, listNames},
		{"reread", m.Reread, rereadNames},
	}
	for _, l := range lists {
		for _, s := range l.got {
			if !slices.Contains(l.names, s) {
				return fmt.Errorf("unknown %s %q", l.what, s)
			}
		}
	}
	return nil
}

func (e *End) check() error {
	str := []fieldCheck{
		{"host", e.Host, checkHost},
		{"id", e.ID, checkText},
		{"cert", e.Cert, checkText},
		{"ca", e.CA, checkText},
		{"groups", e.Groups, checkText},
		{"sendcert", e.SendCert, words(sendCertWords)},
		{"nexthop", e.NextHop, checkNextHop},
		{"client", e.Client, canonCheck},
		{"clientwithin", e.ClientWithin, canonCheck},
		{"clientprotoport", e.ClientProtoPort, func(s string) error { _, err := ParseProtoPort(s); return err }},
		{"srcip", e.SrcIP, ipCheck},
		{"updown", e.Updown, checkText},
		{"xauthname (xauthusername=)", e.XauthName, checkText},
		{"addresspool (addresspool=)", e.AddressPool, ipCheck},
	}
	for _, f := range str {
		if f.value == "" {
			continue
		}
		if err := f.check(f.value); err != nil {
			return fmt.Errorf("--%s: %w", f.opt, err)
		}
	}
	if e.IKEPort < 0 || e.IKEPort > 65535 {
		return fmt.Errorf("--ikeport: %d is not a port number (1-65535)", e.IKEPort)
	}
	if e.CertType < 0 || e.CertType > 255 {
		return fmt.Errorf("--certtype: %d is out of range (0-255)", e.CertType)
	}
	if e.Client != "" && e.ClientWithin != "" {
		return errors.New("--client conflicts with --clientwithin")
	}
	return nil
}

func ipCheck(s string) error { _, err := parseIP(s); return err }

// canonCheck accepts only the canonical form, which ParseArgs stores.
func canonCheck(s string) error {
	c, err := canonSubnet(s)
	if err != nil {
		return err
	}
	if c != s {
		return fmt.Errorf("%q is not in canonical form %q", s, c)
	}
	return nil
}

func words(ws []string) func(string) error {
	return func(s string) error { return oneOf(s, ws...) }
}

// crossCheck applies the rules that involve several fields.
func (m *Message) crossCheck() error {
	if !m.HasConnection && m.ConnDesc != (ConnDesc{}) {
		return errors.New("connection description without a connection (--to)")
	}
	for _, c := range []struct {
		set bool
		opt string
	}{{m.Route, "route"}, {m.Unroute, "unroute"}, {m.Initiate, "initiate"},
		{m.Terminate, "terminate"}, {m.Delete, "delete"}} {
		if c.set && m.Name == "" {
			return fmt.Errorf("--%s requires --name", c.opt)
		}
	}
	if m.JSON && !m.Status {
		return errors.New("--json requires --status")
	}
	if (m.AddKey || m.PubKeyRSA != "") && m.KeyID == "" {
		return errors.New("--addkey and --pubkeyrsa require --keyid")
	}
	if (m.OppoHere == "") != (m.OppoThere == "") {
		return errors.New("--oppohere and --oppothere must be used together")
	}
	if m.OppoHere != "" {
		here, _ := netip.ParseAddr(m.OppoHere)
		there, _ := netip.ParseAddr(m.OppoThere)
		if family(here) != family(there) {
			return errors.New("--oppohere and --oppothere must be of the same address family")
		}
		if m.TunnelAddrFamily != "" && family(here) != m.TunnelAddrFamily {
			return fmt.Errorf("--oppohere %s is not an %s address", m.OppoHere, familyName(m.TunnelAddrFamily))
		}
	}
	if m.HasConnection {
		return m.checkConnection()
	}
	return nil
}

func (m *Message) checkConnection() error {
	if m.Name == "" {
		return errors.New("connection description requires --name")
	}
	if m.Left.Host == "" || m.Right.Host == "" {
		return errors.New("connection description requires --host on both ends")
	}
	if isAny(m.Left.Host) && isAny(m.Right.Host) {
		return errors.New("hosts cannot both be %any")
	}
	if err := m.checkFamilies(); err != nil {
		return err
	}
	var lp, rp ProtoPort
	if m.Left.ClientProtoPort != "" {
		lp, _ = ParseProtoPort(m.Left.ClientProtoPort)
	}
	if m.Right.ClientProtoPort != "" {
		rp, _ = ParseProtoPort(m.Right.ClientProtoPort)
	}
	if lp.Proto != rp.Proto {
		return errors.New("the protocol of --clientprotoport must be the same on both ends")
	}

	hasClient := m.Left.Client != "" || m.Left.ClientWithin != "" ||
		m.Right.Client != "" || m.Right.ClientWithin != ""
	if !m.PSK && !m.RSASig {
		// Without authentication this can only be a shunt.
		if m.Shunt == "" || m.Shunt == "trap" {
			return errors.New("a connection needs --psk or --rsasig (or, for a shunt, --pass, --drop or --reject)")
		}
	} else if hasClient && !(m.Encrypt || m.Authenticate || m.Compress || m.PFS) {
		return errors.New("must not specify --client for an ISAKMP-only connection (no --encrypt, --authenticate, --compress or --pfs)")
	}
	if isOppo(m.Left.Host) || isOppo(m.Right.Host) {
		switch {
		case !m.RSASig || m.PSK:
			return errors.New("only --rsasig is supported for opportunism")
		case !m.PFS:
			return errors.New("--pfs is required for opportunism")
		case !m.Encrypt:
			return errors.New("--encrypt is required for opportunism")
		}
	}
	if m.AggrMode && m.IKE == "" {
		return errors.New("--aggrmode requires --ike to set the algorithm")
	}
	if (m.DPDDelay != 0) != (m.DPDTimeout != 0) {
		return errors.New("--dpddelay and --dpdtimeout must be given together")
	}
	return m.checkLifetimes()
}

func isAny(h string) bool { return h == "%any" || h == "0.0.0.0" || h == "::" }

func isOppo(h string) bool { return h == "%opportunistic" || h == "%opportunisticgroup" }

// checkFamilies: the literal addresses of the hosts, next hops and source
// IPs are of one family (--ipv4/--ipv6 if given), and so are the client
// subnets (--tunnelipv4/--tunnelipv6 if given).
func (m *Message) checkFamilies() error {
	type addr struct {
		opt, val string
		fam      string
	}
	var outer, inner []addr
	for _, e := range []*End{&m.Left, &m.Right} {
		for _, f := range []struct{ opt, val string }{{"host", e.Host}, {"nexthop", e.NextHop}, {"srcip", e.SrcIP}} {
			if a, ok := hostAddr(f.val); ok {
				outer = append(outer, addr{f.opt, f.val, family(a)})
			}
		}
		for _, f := range []struct{ opt, val string }{{"client", e.Client}, {"clientwithin", e.ClientWithin}} {
			if p, err := netip.ParsePrefix(f.val); err == nil {
				inner = append(inner, addr{f.opt, f.val, family(p.Addr())})
			}
		}
	}
	check := func(as []addr, want, flag string) error {
		for _, a := range as {
			switch {
			case want != "" && a.fam != want:
				return fmt.Errorf("--%s %s is not an %s address (%s)", a.opt, a.val, familyName(want), flag)
			case want == "" && a.fam != as[0].fam:
				return fmt.Errorf("endpoints clash: --%s %s is %s but --%s %s is %s",
					as[0].opt, as[0].val, familyName(as[0].fam), a.opt, a.val, familyName(a.fam))
			}
		}
		return nil
	}
	if err := check(outer, m.AddrFamily, "--"+m.AddrFamily+" given"); err != nil {
		return err
	}
	return check(inner, m.TunnelAddrFamily, "--tunnel"+m.TunnelAddrFamily+" given")
}

// checkLifetimes applies Openswan whack's rules: a lifetime is at most one
// day and, unless --dontrekey, longer than rekeymargin*(100+rekeyfuzz)/100.
func (m *Message) checkLifetimes() error {
	margin, fuzz := DefaultRekeyMargin, DefaultRekeyFuzz
	if m.RekeyMargin != nil {
		margin = *m.RekeyMargin
	}
	if m.RekeyFuzz != nil {
		fuzz = *m.RekeyFuzz
	}
	ms := int64(margin / time.Second)
	minLife := ms * int64(100+fuzz) / 100
	for _, l := range []struct {
		opt  string
		life time.Duration
		def  time.Duration
	}{{"ikelifetime", m.IKELifetime, DefaultIKELifetime}, {"ipseclifetime", m.IPsecLifetime, DefaultIPsecLifetime}} {
		life := l.life
		if life == 0 {
			life = l.def
		}
		secs := int64(life / time.Second)
		if life > maxLifetime {
			return fmt.Errorf("--%s: %d seconds is more than the maximum %d", l.opt, secs, int64(maxLifetime/time.Second))
		}
		if !m.DontRekey && secs <= minLife {
			return fmt.Errorf("%s (%d seconds) must be greater than rekeymargin*(100+rekeyfuzz)/100 = %d*(100+%d)/100 = %d seconds (or give --dontrekey)",
				l.opt, secs, ms, fuzz, minLife)
		}
	}
	return nil
}
