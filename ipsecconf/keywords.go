package ipsecconf

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"goswan/fsm/proposal"
	"goswan/whack"
)

// keyword describes one keyword: how its value is checked when it is read.
// Cross-keyword rules are applied when a conn is turned into whack messages.
type keyword struct {
	check   func(string) error
	repeat  bool // may appear more than once in a section (also=)
	ignored bool // accepted for compatibility; no effect
}

var (
	setupKeywords = map[string]*keyword{}
	connKeywords  = map[string]*keyword{}
	endKeywords   = map[string]*keyword{} // after "left" or "right"
)

func lookupKeyword(kind, key string) *keyword {
	switch kind {
	case "config":
		return setupKeywords[key]
	case "conn":
		if k := connKeywords[key]; k != nil {
			return k
		}
		for _, side := range []string{"left", "right"} {
			if base, ok := strings.CutPrefix(key, side); ok {
				return endKeywords[base]
			}
		}
	}
	return nil
}

func def(m map[string]*keyword, names string, check func(string) error) {
	for _, n := range strings.Fields(names) {
		if m[n] != nil {
			panic("ipsecconf: keyword defined twice: " + n)
		}
		m[n] = &keyword{check: check}
	}
}

func ignore(m map[string]*keyword, names string, check func(string) error) {
	def(m, names, check)
	for _, n := range strings.Fields(names) {
		m[n].ignored = true
	}
}

func init() {
	// config setup.
	def(setupKeywords, "plutodebug", checkDebug)
	def(setupKeywords, "interfaces", checkInterfaces)
	def(setupKeywords, "listen", checkIP)
	def(setupKeywords, "ikeport", checkPort) // goswan extension
	def(setupKeywords, "uniqueids", checkYesNo)
	def(setupKeywords, "protostack", words("netkey", "xfrm", "nostack", "none", "auto"))
	def(setupKeywords, "plutoopts", checkAny)
	def(setupKeywords, "nat_traversal", checkYesNo)
	def(setupKeywords, "virtual_private", checkVirtualPrivate)
	def(setupKeywords, "keep_alive", checkDuration)
	def(setupKeywords, "keylog", checkAny)  // goswan extension
	def(setupKeywords, "metrics", checkAny) // goswan extension
	def(setupKeywords, "logfile plutostderrlog", checkAny)
	def(setupKeywords, "secretsfile ipsecdir", checkAny)
	def(setupKeywords, "myid", checkAny)
	def(setupKeywords, "perpeerlog", checkYesNo)
	def(setupKeywords, "perpeerlogdir", checkAny)
	def(setupKeywords, "ikev1-policy", words("accept", "drop", "reject"))
	ignore(setupKeywords, "klipsdebug", checkAny)
	def(setupKeywords, "force_keepalive disable_port_floating", checkYesNo)
	ignore(setupKeywords, "dnssec-enable logtime logappend logip "+
		"plutorestartoncrash hidetos fragicmp", checkYesNo)
	def(setupKeywords, "strictcrlpolicy", checkYesNo)
	ignore(setupKeywords, "oe", words("no", "off"))
	ignore(setupKeywords, "nhelpers crlcheckinterval overridemtu plutowait", checkAny)
	ignore(setupKeywords, "dumpdir syslog plutostderrlogtime", checkAny)

	// conn: per-end keywords (leftX and rightX).
	endKeywords[""] = &keyword{check: checkHost} // left= and right=
	def(endKeywords, "subnet", checkSubnet)
	def(endKeywords, "subnets", checkSubnets)
	def(endKeywords, "subnetwithin", checkSubnet)
	def(endKeywords, "nexthop", checkNextHop)
	def(endKeywords, "id", checkAny)
	def(endKeywords, "rsasigkey rsasigkey2", checkRSASigKey)
	def(endKeywords, "cert ca groups updown", checkAny)
	def(endKeywords, "sendcert", words("yes", "always", "forced", "ifasked", "no", "never"))
	def(endKeywords, "protoport", func(s string) error { _, err := whack.ParseProtoPort(s); return err })
	def(endKeywords, "sourceip", checkIP)
	def(endKeywords, "ikeport", checkPort)
	def(endKeywords, "xauthserver xauthclient modecfgserver modecfgclient", checkYesNo)
	def(endKeywords, "xauthusername username", checkAny)
	def(endKeywords, "addresspool", func(s string) error { _, err := PoolAddress(s); return err })
	ignore(endKeywords, "firewall", checkYesNo)

	// conn: the rest.
	connKeywords["also"] = &keyword{check: checkConnName, repeat: true}
	def(connKeywords, "auto", words("add", "route", "start", "ignore", "ondemand"))
	def(connKeywords, "type", words("tunnel", "transport", "passthrough", "pass", "drop", "reject"))
	def(connKeywords, "authby", words("secret", "rsasig", "secret|rsasig", "rsasig|secret", "never"))
	def(connKeywords, "ike", func(s string) error { _, err := proposal.ParseIKE(s); return err })
	def(connKeywords, "esp phase2alg", checkAlgList)
	def(connKeywords, "phase2", words("esp", "ah"))
	def(connKeywords, "pfs compress rekey aggrmode aggressive forceencaps disablearrivalcheck modecfgpull", checkYesNo)
	def(connKeywords, "pfsgroup", words("modp1024", "modp1536", "modp2048", "modp3072", "modp4096", "modp6144", "modp8192"))
	def(connKeywords, "ikelifetime keylife salifetime lifetime rekeymargin dpddelay dpdtimeout", checkDuration)
	def(connKeywords, "rekeyfuzz", checkPercent)
	def(connKeywords, "keyingtries", checkKeyingTries)
	def(connKeywords, "dpdaction", words("clear", "hold", "restart", "restart_by_peer"))
	def(connKeywords, "keyexchange", words("ike", "ikev1", "ikev2"))
	def(connKeywords, "ikev2", words("no", "never", "permit", "propose", "insist", "yes"))
	def(connKeywords, "encapsulation", words("yes", "no", "auto"))
	def(connKeywords, "connaddrfamily", words("ipv4", "ipv6"))
	def(connKeywords, "metric", checkNumber(0, 1<<30))
	def(connKeywords, "mtu", checkNumber(68, 65535))
	def(connKeywords, "failureshunt", words("none", "passthrough", "drop", "reject"))
	def(connKeywords, "modecfgdns1 modecfgdns2 modecfgwins1 modecfgwins2", checkIP)
	ignore(connKeywords, "sha2_truncbug sha2-truncbug nat_keepalive ikepad nm_configured", checkYesNo)
	ignore(connKeywords, "ike_frag fragmentation", words("yes", "no", "force"))
	ignore(connKeywords, "remote_peer_type", words("cisco", "ietf"))
	ignore(connKeywords, "connalias", checkAny)
}

// Keywords returns the keywords of a section kind ("config" or "conn"; the
// per-end ones as "leftX" and "rightX"), each with whether it is only
// accepted for compatibility (no effect).
func Keywords(kind string) map[string]bool {
	out := map[string]bool{}
	switch kind {
	case "config":
		for k, v := range setupKeywords {
			out[k] = v.ignored
		}
	case "conn":
		for k, v := range connKeywords {
			out[k] = v.ignored
		}
		for k, v := range endKeywords {
			out["left"+k], out["right"+k] = v.ignored, v.ignored
		}
	}
	return out
}

// ---- value checks ----

func checkAny(string) error { return nil }

func words(ws ...string) func(string) error {
	return func(s string) error {
		for _, w := range ws {
			if strings.EqualFold(s, w) {
				return nil
			}
		}
		return fmt.Errorf("not one of %s", strings.Join(ws, ", "))
	}
}

// yesNo reads a boolean: yes/no (also true/false, on/off).
func yesNo(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true", "on":
		return true, nil
	case "no", "false", "off":
		return false, nil
	}
	return false, errors.New("not yes or no")
}

func checkYesNo(s string) error { _, err := yesNo(s); return err }

// parseDuration reads a time: seconds ("3600"), or a number with a unit
// s, m, h or d ("90s", "9m", "1h", "1d").
func parseDuration(s string) (time.Duration, error) {
	num, unit := s, time.Second
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 's':
			num = s[:n-1]
		case 'm':
			num, unit = s[:n-1], time.Minute
		case 'h':
			num, unit = s[:n-1], time.Hour
		case 'd':
			num, unit = s[:n-1], 24*time.Hour
		}
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil || num == "" || num[0] == '+' {
		return 0, errors.New("not a time (seconds, or a number with s, m, h or d: 3600, 90s, 9m, 1h, 1d)")
	}
	d := time.Duration(n) * unit
	if d > 1<<31*time.Second {
		return 0, errors.New("too long")
	}
	return d, nil
}

func checkDuration(s string) error { _, err := parseDuration(s); return err }

func checkNumber(min, max int) func(string) error {
	return func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || s[0] == '+' {
			return errors.New("not a number")
		}
		if n < min || n > max {
			return fmt.Errorf("out of range (%d-%d)", min, max)
		}
		return nil
	}
}

func parsePercent(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || n < 0 || s[0] == '+' || n > 1000000 {
		return 0, errors.New("not a percentage (100%)")
	}
	return n, nil
}

func checkPercent(s string) error { _, err := parsePercent(s); return err }

func parseKeyingTries(s string) (int, error) {
	if s == "%forever" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || s[0] == '+' || n > 1<<20 {
		return 0, errors.New("not a count (a number, 0 or %forever for no limit)")
	}
	return n, nil
}

func checkKeyingTries(s string) error { _, err := parseKeyingTries(s); return err }

func checkPort(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || s[0] == '+' {
		return errors.New("not a port number (1-65535)")
	}
	return nil
}

func checkIP(s string) error {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.IsUnspecified() {
		return errors.New("not an IP address")
	}
	return nil
}

// host keywords of left= and right=; the unsupported ones are refused when
// the conn is turned into whack messages, with the reason.
var hostKeywords = map[string]bool{"%any": true, "%any6": true, "%defaultroute": true,
	"%opportunistic": true, "%opportunisticgroup": true, "%group": true}

func checkHost(s string) error {
	if strings.HasPrefix(s, "%") {
		if !hostKeywords[s] {
			return errors.New("not an IP address, DNS name, %any, %any6 or %defaultroute")
		}
		return nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return errors.New("scoped addresses are not supported")
		}
		return nil
	}
	if strings.Trim(s, "0123456789.") == "" || strings.Contains(s, ":") || !isDNSName(s) {
		return errors.New("not an IP address or a DNS name")
	}
	return nil
}

func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func checkNextHop(s string) error {
	if s == "%direct" || s == "%defaultroute" {
		return nil
	}
	if a, err := netip.ParseAddr(s); err != nil || a.Zone() != "" {
		return errors.New("not an IP address, %direct or %defaultroute")
	}
	return nil
}

// canonSubnet reads "address/bits" (or a bare address: one host) and
// returns the canonical form whack carries.
func canonSubnet(s string) (string, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return "", errors.New("not a subnet (address/bits)")
		}
		return netip.PrefixFrom(a, a.BitLen()).String(), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if strings.HasPrefix(s, "vhost:") || strings.HasPrefix(s, "vnet:") || strings.HasPrefix(s, "%") {
			return "", errors.New("virtual subnets (vhost:, vnet:, %priv) are not supported")
		}
		return "", errors.New("not a subnet (address/bits)")
	}
	if p.Masked() != p {
		return "", fmt.Errorf("host bits set (the subnet is %s)", p.Masked())
	}
	return p.String(), nil
}

func checkSubnet(s string) error { _, err := canonSubnet(s); return err }

// subnetList reads leftsubnets=: "{a b}" or "{a,b}", or a single subnet.
func subnetList(s string) ([]string, error) {
	inner := s
	if strings.HasPrefix(s, "{") {
		inner = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	}
	var out []string
	for _, f := range strings.FieldsFunc(inner, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
		c, err := canonSubnet(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("empty subnet list")
	}
	return out, nil
}

func checkSubnets(s string) error { _, err := subnetList(s); return err }

func checkRSASigKey(s string) error {
	switch {
	case s == "%cert" || s == "%none":
		return nil
	case s == "%dnsondemand" || s == "%dns" || s == "%dnsonload":
		return errors.New("keys from DNS are not supported")
	case strings.HasPrefix(s, "0s"):
		if b, err := base64.StdEncoding.DecodeString(s[2:]); err != nil || len(b) < 3 {
			return errors.New("bad base64 after 0s")
		}
		return nil
	case strings.HasPrefix(s, "0x"):
		if b, err := hex.DecodeString(strings.ReplaceAll(s[2:], "_", "")); err != nil || len(b) < 3 {
			return errors.New("bad hex after 0x")
		}
		return nil
	}
	return errors.New("not 0s<base64>, 0x<hex>, %cert or %none")
}

// checkAlgList is the syntax check of esp=/phase2alg= (whether ESP or AH
// names are meant depends on phase2=, checked later).
func checkAlgList(s string) error {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_;,+!:./", c) >= 0) {
			return fmt.Errorf("unexpected character %q in an algorithm list", c)
		}
	}
	return nil
}

// pluto's debug names, and libreswan's spellings mapped onto them.
var debugWords = map[string]string{
	"none": "none", "all": "all", "raw": "raw", "crypt": "crypt", "parsing": "parsing",
	"emitting": "emitting", "control": "control", "controlmore": "controlmore",
	"lifecycle": "lifecycle", "klips": "klips", "netkey": "klips", "xfrm": "klips", "dns": "dns",
	"oppo": "oppo", "pfkey": "pfkey", "natt": "natt", "nat-t": "natt", "nattraversal": "natt",
	"dpd": "dpd", "x509": "x509", "private": "private",
	// libreswan
	"base": "control", "tmi": "all", "proposal-parsing": "parsing", "cpu-usage": "", "crypt-low": "crypt",
}

func checkDebug(s string) error {
	for _, w := range strings.Fields(s) {
		if _, ok := debugWords[strings.ToLower(w)]; !ok {
			return fmt.Errorf("unknown debug category %q", w)
		}
	}
	return nil
}

func checkInterfaces(s string) error {
	for _, w := range strings.Fields(s) {
		if w == "%defaultroute" || w == "%none" {
			continue
		}
		if virt, phys, ok := strings.Cut(w, "="); ok {
			if virt == "" || phys == "" {
				return fmt.Errorf("%q is not VIRTUAL=PHYSICAL", w)
			}
			continue
		}
		if strings.HasPrefix(w, "%") {
			return fmt.Errorf("%q is not an interface name, %%defaultroute or %%none", w)
		}
	}
	return nil
}

// checkVirtualPrivate: %v4:SUBNET, %v6:SUBNET, excluded with "!".
func checkVirtualPrivate(s string) error {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		rest, ok := strings.CutPrefix(w, "%v4:")
		if !ok {
			rest, ok = strings.CutPrefix(w, "%v6:")
		}
		if !ok {
			return fmt.Errorf("%q is not %%v4:SUBNET or %%v6:SUBNET", w)
		}
		if _, err := netip.ParsePrefix(strings.TrimPrefix(rest, "!")); err != nil {
			return fmt.Errorf("%q: not a subnet", w)
		}
	}
	return nil
}

// PoolAddress reads an addresspool= value: one IPv4 address, written as a
// range of one ("10.9.0.5-10.9.0.5") or a /32 ("10.9.0.5/32"). pluto hands
// out a single address per connection (the peer's client); larger pools
// are refused.
func PoolAddress(s string) (netip.Addr, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() || p.Bits() != 32 {
			return netip.Addr{}, errors.New("not a single IPv4 address (a-a or a/32); larger pools are not supported")
		}
		return p.Addr(), nil
	}
	a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
	b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || !a.Is4() {
		return netip.Addr{}, errors.New("not an IPv4 address range")
	}
	if a != b {
		return netip.Addr{}, errors.New("a pool of more than one address is not supported (give the single address to hand out: a-a)")
	}
	return a, nil
}
