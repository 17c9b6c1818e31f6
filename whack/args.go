package whack

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// UsageError is a problem whack finds in its arguments (exit status 1).
type UsageError struct {
	Label string // --label, if given
	Msg   string
}

func (e *UsageError) Error() string {
	if e.Label != "" {
		return "whack: " + e.Label + ": " + e.Msg
	}
	return "whack: " + e.Msg
}

type optKind int

const (
	flagOpt  optKind = iota // no argument
	valueOpt                // one argument
)

type optClass int

const (
	metaClass  optClass = iota // --help, --version, --optionsfrom, --label: handled by the parser
	cmdClass                   // commands and their options: not repeated
	endClass                   // end description: applies to the current end, not repeated per end
	connClass                  // connection description: not repeated
	debugClass                 // --debug-*, --impair-*: may repeat
)

type option struct {
	name  string // canonical name
	kind  optKind
	class optClass
	group string // options of a group exclude each other (and themselves)
	set   func(p *parser, v string) error
}

var (
	optionList []*option
	optionMap  = map[string]*option{} // by every name, aliases included
)

func def(names string, kind optKind, class optClass, group string, set func(p *parser, v string) error) {
	ns := strings.Fields(names)
	o := &option{name: ns[0], kind: kind, class: class, group: group, set: set}
	optionList = append(optionList, o)
	for _, n := range ns {
		if optionMap[n] != nil {
			panic("whack: BUG: option defined twice: " + n)
		}
		optionMap[n] = o
	}
}

// Shorthands for defining options.
func flag(names string, class optClass, set func(m *Message)) {
	def(names, flagOpt, class, "", func(p *parser, _ string) error { set(p.m); return nil })
}

func endFlag(names string, set func(e *End)) {
	def(names, flagOpt, endClass, "", func(p *parser, _ string) error { set(p.end); return nil })
}

func text(names string, class optClass, field func(m *Message) *string) {
	def(names, valueOpt, class, "", func(p *parser, v string) error {
		if err := checkText(v); err != nil {
			return err
		}
		*field(p.m) = v
		return nil
	})
}

func endValue(names, group string, check func(string) (string, error), field func(e *End) *string) {
	def(names, valueOpt, endClass, group, func(p *parser, v string) error {
		v, err := check(v)
		if err != nil {
			return err
		}
		*field(p.end) = v
		return nil
	})
}

func asIs(check func(string) error) func(string) (string, error) {
	return func(s string) (string, error) {
		if err := checkText(s); err != nil {
			return "", err
		}
		return s, check(s)
	}
}

func noCheck(string) error { return nil }

func choice(names string, class optClass, group string, field func(m *Message) *string, value string) {
	def(names, flagOpt, class, group, func(p *parser, _ string) error { *field(p.m) = value; return nil })
}

func seconds(names string, field func(m *Message) *time.Duration) {
	def(names, valueOpt, connClass, "", func(p *parser, v string) error {
		d, err := parseSeconds(v)
		if err != nil {
			return err
		}
		if d == 0 {
			return fmt.Errorf("%q: must be more than 0 seconds", v)
		}
		*field(p.m) = d
		return nil
	})
}

func addrOpt(names string, class optClass, field func(m *Message) *string) {
	def(names, valueOpt, class, "", func(p *parser, v string) error {
		if _, err := parseIP(v); err != nil {
			return err
		}
		*field(p.m) = v
		return nil
	})
}

func init() {
	// Meta options: see parser.parse.
	for _, n := range []string{"help", "version"} {
		def(n, flagOpt, metaClass, "", nil)
	}
	for _, n := range []string{"optionsfrom", "label"} {
		def(n, valueOpt, metaClass, "", nil)
	}

	def("ctlbase", valueOpt, cmdClass, "", func(p *parser, v string) error {
		if err := checkText(v); err != nil {
			return err
		}
		if len(v)+len(".ctl") >= 108 {
			return fmt.Errorf("%q: %s.ctl is too long for a Unix socket path", v, v)
		}
		p.m.Ctlbase = v
		return nil
	})
	def("name", valueOpt, cmdClass, "", func(p *parser, v string) error {
		if err := checkName(v); err != nil {
			return err
		}
		p.m.Name = v
		return nil
	})

	// Public key and myid forms.
	text("keyid", cmdClass, func(m *Message) *string { return &m.KeyID })
	flag("addkey", cmdClass, func(m *Message) { m.AddKey = true })
	def("pubkeyrsa", valueOpt, cmdClass, "", func(p *parser, v string) error {
		if _, err := decodeKeyData(v); err != nil {
			return err
		}
		p.m.PubKeyRSA = v
		return nil
	})
	text("myid", cmdClass, func(m *Message) *string { return &m.MyID })

	// Commands.
	flag("route", cmdClass, func(m *Message) { m.Route = true })
	flag("unroute", cmdClass, func(m *Message) { m.Unroute = true })
	flag("initiate", cmdClass, func(m *Message) { m.Initiate = true })
	flag("terminate", cmdClass, func(m *Message) { m.Terminate = true })
	flag("delete", cmdClass, func(m *Message) { m.Delete = true })
	def("deletestate", valueOpt, cmdClass, "", func(p *parser, v string) error {
		n, err := parseNumber(v, 1, maxSeconds)
		if err != nil {
			return fmt.Errorf("%q is not a state number (1 or more)", v)
		}
		p.m.DeleteState = n
		return nil
	})
	addrOpt("crash", cmdClass, func(m *Message) *string { return &m.Crash })
	addrOpt("oppohere", cmdClass, func(m *Message) *string { return &m.OppoHere })
	addrOpt("oppothere", cmdClass, func(m *Message) *string { return &m.OppoThere })
	flag("asynchronous", cmdClass, func(m *Message) { m.Asynchronous = true })
	text("xauthname xauthuser", cmdClass, func(m *Message) *string { return &m.XauthName })
	text("xauthpass", cmdClass, func(m *Message) *string { return &m.XauthPass })
	flag("listen", cmdClass, func(m *Message) { m.Listen = true })
	flag("unlisten", cmdClass, func(m *Message) { m.Unlisten = true })
	flag("purgeocsp", cmdClass, func(m *Message) { m.PurgeOCSP = true })
	flag("status", cmdClass, func(m *Message) { m.Status = true })
	flag("json", cmdClass, func(m *Message) { m.JSON = true })
	flag("shutdown", cmdClass, func(m *Message) { m.Shutdown = true })
	text("whackrecord", cmdClass, func(m *Message) *string { return &m.WhackRecord })
	flag("whackstoprecord", cmdClass, func(m *Message) { m.WhackStopRecord = true })

	// Lists and rereads.
	flag("utc", cmdClass, func(m *Message) { m.UTC = true })
	for _, l := range listNames {
		name := "list" + l
		if l == "checkpubkeys" {
			name = l
		}
		flag(name, cmdClass, func(m *Message) { m.List = append(m.List, l) })
	}
	for _, r := range rereadNames {
		flag("reread"+r, cmdClass, func(m *Message) { m.Reread = append(m.Reread, r) })
	}

	// End description.
	endValue("host", "", asIs(checkHost), func(e *End) *string { return &e.Host })
	endValue("id", "", asIs(noCheck), func(e *End) *string { return &e.ID })
	endValue("cert", "", asIs(noCheck), func(e *End) *string { return &e.Cert })
	endValue("ca", "", asIs(noCheck), func(e *End) *string { return &e.CA })
	endValue("groups", "", asIs(noCheck), func(e *End) *string { return &e.Groups })
	endValue("sendcert", "", asIs(words(sendCertWords)), func(e *End) *string { return &e.SendCert })
	def("certtype", valueOpt, endClass, "", func(p *parser, v string) error {
		n, err := parseNumber(v, 0, 255)
		if err != nil {
			return err
		}
		p.end.CertType = n
		return nil
	})
	def("ikeport", valueOpt, endClass, "", func(p *parser, v string) error {
		n, err := parsePort(v)
		if err != nil {
			return err
		}
		p.end.IKEPort = n
		return nil
	})
	endValue("nexthop", "", asIs(checkNextHop), func(e *End) *string { return &e.NextHop })
	endValue("client", "client", canonSubnet, func(e *End) *string { return &e.Client })
	endValue("clientwithin", "client", canonSubnet, func(e *End) *string { return &e.ClientWithin })
	endValue("clientprotoport", "", asIs(func(s string) error { _, err := ParseProtoPort(s); return err }),
		func(e *End) *string { return &e.ClientProtoPort })
	endValue("srcip", "", asIs(ipCheck), func(e *End) *string { return &e.SrcIP })
	endValue("updown", "", asIs(noCheck), func(e *End) *string { return &e.Updown })
	endFlag("dnskeyondemand", func(e *End) { e.DNSKeyOnDemand = true })
	endFlag("xauthserver xauth", func(e *End) { e.XauthServer = true })
	endFlag("xauthclient", func(e *End) { e.XauthClient = true })
	endFlag("modecfgserver modeconfigserver", func(e *End) { e.ModecfgServer = true })
	endFlag("modecfgclient modeconfigclient", func(e *End) { e.ModecfgClient = true })

	// Connection description.
	def("to", flagOpt, connClass, "", func(p *parser, _ string) error {
		p.seenTo = true
		p.end = &p.m.Right
		p.endIdx = 1
		return nil
	})
	choice("ipv4", connClass, "af", func(m *Message) *string { return &m.AddrFamily }, "ipv4")
	choice("ipv6", connClass, "af", func(m *Message) *string { return &m.AddrFamily }, "ipv6")
	// --tunnelipv4/6 also go with --oppohere/--oppothere: see parser.finish.
	choice("tunnelipv4", cmdClass, "taf", func(m *Message) *string { return &m.TunnelAddrFamily }, "ipv4")
	choice("tunnelipv6", cmdClass, "taf", func(m *Message) *string { return &m.TunnelAddrFamily }, "ipv6")
	flag("psk", connClass, func(m *Message) { m.PSK = true })
	flag("rsasig", connClass, func(m *Message) { m.RSASig = true })
	flag("encrypt", connClass, func(m *Message) { m.Encrypt = true })
	flag("authenticate", connClass, func(m *Message) { m.Authenticate = true })
	flag("compress", connClass, func(m *Message) { m.Compress = true })
	flag("tunnel", connClass, func(m *Message) { m.Tunnel = true })
	flag("pfs", connClass, func(m *Message) { m.PFS = true })
	flag("disablearrivalcheck", connClass, func(m *Message) { m.DisableArrivalCheck = true })
	flag("dontrekey", connClass, func(m *Message) { m.DontRekey = true })
	flag("aggrmode", connClass, func(m *Message) { m.AggrMode = true })
	flag("modecfgpull", connClass, func(m *Message) { m.ModecfgPull = true })
	flag("forceencaps", connClass, func(m *Message) { m.ForceEncaps = true })
	for _, s := range [][2]string{{"initiateontraffic", "trap"}, {"pass", "pass"}, {"drop", "drop"}, {"reject", "reject"}} {
		choice(s[0], connClass, "shunt", func(m *Message) *string { return &m.Shunt }, s[1])
	}
	for _, v := range failWords {
		choice("fail"+v, connClass, "fail", func(m *Message) *string { return &m.Fail }, v)
	}
	def("ike ikealg", valueOpt, connClass, "", func(p *parser, v string) error {
		if err := checkAlgs(v); err != nil {
			return err
		}
		p.m.IKE = v
		return nil
	})
	def("esp", valueOpt, connClass, "", func(p *parser, v string) error {
		if err := checkAlgs(v); err != nil {
			return err
		}
		p.m.ESP = v
		return nil
	})
	def("pfsgroup", valueOpt, connClass, "", func(p *parser, v string) error {
		if err := oneOf(v, pfsGroupWords...); err != nil {
			return err
		}
		p.m.PFSGroup = v
		return nil
	})
	seconds("ikelifetime", func(m *Message) *time.Duration { return &m.IKELifetime })
	seconds("ipseclifetime", func(m *Message) *time.Duration { return &m.IPsecLifetime })
	def("rekeymargin", valueOpt, connClass, "", func(p *parser, v string) error {
		d, err := parseSeconds(v)
		if err != nil {
			return err
		}
		p.m.RekeyMargin = &d
		return nil
	})
	def("rekeyfuzz", valueOpt, connClass, "", func(p *parser, v string) error {
		n, err := parsePercent(v)
		if err != nil {
			return err
		}
		p.m.RekeyFuzz = &n
		return nil
	})
	def("keyingtries", valueOpt, connClass, "", func(p *parser, v string) error {
		n, err := parseKeyingTries(v)
		if err != nil {
			return err
		}
		p.m.KeyingTries = &n
		return nil
	})
	seconds("dpddelay", func(m *Message) *time.Duration { return &m.DPDDelay })
	seconds("dpdtimeout", func(m *Message) *time.Duration { return &m.DPDTimeout })
	def("dpdaction", valueOpt, connClass, "", func(p *parser, v string) error {
		if err := oneOf(v, dpdActionWords...); err != nil {
			return err
		}
		p.m.DPDAction = v
		return nil
	})
	addrOpt("modecfgdns1", connClass, func(m *Message) *string { return &m.ModecfgDNS1 })
	addrOpt("modecfgdns2", connClass, func(m *Message) *string { return &m.ModecfgDNS2 })
	addrOpt("modecfgwins1", connClass, func(m *Message) *string { return &m.ModecfgWINS1 })
	addrOpt("modecfgwins2", connClass, func(m *Message) *string { return &m.ModecfgWINS2 })
	def("metric", valueOpt, connClass, "", func(p *parser, v string) error {
		n, err := parseNumber(v, 0, maxSeconds)
		if err != nil {
			return err
		}
		p.m.Metric = n
		return nil
	})
	def("mtu", valueOpt, connClass, "", func(p *parser, v string) error {
		n, err := parseNumber(v, 68, 65535)
		if err != nil {
			return err
		}
		p.m.MTU = n
		return nil
	})

	// Debugging and impairments.
	debugAliases := map[string]string{"netkey": "klips", "xfrm": "klips",
		"nat-t": "natt", "nat_t": "natt", "nattraversal": "natt"}
	for _, d := range debugNames {
		names := "debug-" + d
		for alias, to := range debugAliases {
			if to == d {
				names += " debug-" + alias
			}
		}
		def(names, flagOpt, debugClass, "", func(p *parser, _ string) error {
			p.m.Debug = append(p.m.Debug, d)
			return nil
		})
	}
	for _, i := range impairNames {
		def("impair-"+i, flagOpt, debugClass, "", func(p *parser, _ string) error {
			p.m.Impair = append(p.m.Impair, i)
			return nil
		})
	}
}

// Limits on --optionsfrom.
const (
	maxOptionsDepth = 10
	maxOptionsFile  = 1 << 20
	maxArgs         = 10000
)

type parser struct {
	m       *Message
	end     *End
	endIdx  int
	seenTo  bool
	seen    map[string]string    // option or group → the option name as typed
	endSeen [2]map[string]string // the same, per end
	firstCD string               // first connection description option
	tafOpt  string               // --tunnelipv4/6 as typed
	label   string
	nargs   int
	done    bool // --help or --version
}

// ParseArgs parses whack's command line (without the program name) into a
// message, following the manual's syntax: long options "--name value" or
// "--name=value" in any order; the end options (--host --id --cert --ca
// --groups --sendcert --certtype --ikeport --nexthop --client --clientwithin
// --clientprotoport --srcip --updown --dnskeyondemand --xauthserver
// --xauthclient --modecfgserver --modecfgclient) describe the left end
// before --to and the right end after it; --optionsfrom FILE inserts the
// whitespace-separated words of FILE ('#' starts a comment, quotes group
// words) at that point. Errors are *UsageError.
//
// With --help or --version, parsing stops there and the message has Help
// or Version set.
func ParseArgs(args []string) (*Message, error) {
	p := &parser{
		m:    &Message{},
		seen: map[string]string{},
	}
	p.endSeen[0], p.endSeen[1] = map[string]string{}, map[string]string{}
	p.end = &p.m.Left
	p.label = prescanLabel(args)
	err := p.parse(args, 0)
	if err == nil && !p.done {
		err = p.finish()
	}
	if err != nil {
		return nil, &UsageError{Label: p.label, Msg: err.Error()}
	}
	return p.m, nil
}

// prescanLabel finds --label among the arguments, so that errors found
// before it is parsed carry it too.
func prescanLabel(args []string) string {
	label := ""
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--label="); ok {
			label = v
		} else if a == "--label" && i+1 < len(args) {
			label = args[i+1]
		}
	}
	return label
}

func (p *parser) parse(args []string, depth int) error {
	for i := 0; i < len(args) && !p.done; i++ {
		a := args[i]
		p.nargs++
		if p.nargs > maxArgs {
			return fmt.Errorf("too many arguments (limit %d)", maxArgs)
		}
		if !strings.HasPrefix(a, "--") || a == "--" {
			if strings.HasPrefix(a, "-") && a != "-" {
				return fmt.Errorf("unknown option %s", a)
			}
			return fmt.Errorf("unexpected argument %q", a)
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		o := optionMap[name]
		if o == nil {
			return fmt.Errorf("unknown option --%s", name)
		}
		switch o.kind {
		case flagOpt:
			if hasVal {
				return fmt.Errorf("--%s takes no argument", name)
			}
		case valueOpt:
			if !hasVal {
				if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
					return fmt.Errorf("--%s requires an argument", name)
				}
				i++
				val = args[i]
			}
			if val == "" {
				return fmt.Errorf("--%s requires a non-empty argument", name)
			}
		}
		switch o.name {
		case "help":
			p.m.Help, p.done = true, true
			continue
		case "version":
			p.m.Version, p.done = true, true
			continue
		case "label":
			if err := checkText(val); err != nil {
				return fmt.Errorf("--label: %w", err)
			}
			p.label, p.m.Label = val, val
			continue
		case "optionsfrom":
			if depth >= maxOptionsDepth {
				return fmt.Errorf("--optionsfrom %s: nested too deeply (limit %d)", val, maxOptionsDepth)
			}
			words, err := readOptionsFile(val)
			if err != nil {
				return fmt.Errorf("--optionsfrom %s: %w", val, err)
			}
			if err := p.parse(words, depth+1); err != nil {
				return err
			}
			continue
		}
		if err := p.note(o, name); err != nil {
			return err
		}
		if err := o.set(p, val); err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
	}
	return nil
}

// note records the option, rejecting repeats and conflicts.
func (p *parser) note(o *option, typed string) error {
	if o.class == debugClass {
		return nil
	}
	seen := p.seen
	if o.class == endClass {
		seen = p.endSeen[p.endIdx]
	}
	key := o.name
	if o.group != "" {
		key = "group:" + o.group
	}
	if prev, ok := seen[key]; ok {
		if optionMap[prev] == o {
			return fmt.Errorf("--%s given twice", typed)
		}
		return fmt.Errorf("--%s conflicts with --%s", typed, prev)
	}
	seen[key] = typed
	if (o.class == endClass || o.class == connClass) && p.firstCD == "" {
		p.firstCD = typed
	}
	if o.group == "taf" {
		p.tafOpt = typed
	}
	return nil
}

func (p *parser) finish() error {
	m := p.m
	if (m.OppoHere == "") != (m.OppoThere == "") {
		return errors.New("--oppohere and --oppothere must be used together")
	}
	if p.tafOpt != "" && m.OppoHere == "" && p.firstCD == "" {
		p.firstCD = p.tafOpt // without --oppohere, --tunnelipv4/6 describe a connection
	}
	if p.firstCD != "" && !p.seenTo {
		return fmt.Errorf("connection description option --%s given without --to", p.firstCD)
	}
	m.HasConnection = p.seenTo
	if err := m.crossCheck(); err != nil {
		return err
	}
	usesName := m.Route || m.Unroute || m.Initiate || m.Terminate || m.Delete || m.HasConnection
	if m.Name != "" && !usesName && !m.HasDebug() {
		return errors.New("no reason for --name")
	}
	if !m.hasAction() {
		return errors.New("no action specified; try --help for hints")
	}
	return nil
}

func (m *Message) hasAction() bool {
	return m.HasConnection || m.KeyID != "" || m.MyID != "" || m.Delete || m.DeleteState != 0 ||
		m.Initiate || m.OppoHere != "" || m.Terminate || m.Route || m.Unroute ||
		m.Listen || m.Unlisten || len(m.List) > 0 || m.PurgeOCSP || len(m.Reread) > 0 ||
		m.Crash != "" || m.Status || m.HasDebug() || m.Shutdown ||
		m.WhackRecord != "" || m.WhackStopRecord
}

// readOptionsFile splits a --optionsfrom file into words: blanks separate
// words, '#' at the start of a word comments out the rest of the line, and
// '...' or "..." quote blanks (no escapes).
func readOptionsFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxOptionsFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxOptionsFile {
		return nil, fmt.Errorf("file larger than %d bytes", maxOptionsFile)
	}
	return splitWords(string(b))
}

func splitWords(s string) ([]string, error) {
	var words []string
	line := 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		}
		var w strings.Builder
		for i < len(s) && !strings.ContainsRune(" \t\r\n\f\v", rune(s[i])) {
			if q := s[i]; q == '"' || q == '\'' {
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					return nil, fmt.Errorf("line %d: unterminated %c quote", line, q)
				}
				w.WriteString(s[i+1 : i+1+end])
				line += strings.Count(s[i+1:i+1+end], "\n")
				i += end + 2
				continue
			}
			w.WriteByte(s[i])
			i++
		}
		words = append(words, w.String())
	}
	return words, nil
}
