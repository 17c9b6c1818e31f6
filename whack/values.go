package whack

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on numeric values, so that no arithmetic on them can overflow.
const (
	maxSeconds     = 1 << 31 // any duration, in seconds
	maxPercent     = 1000000 // --rekeyfuzz
	maxKeyingTries = 1 << 20
	maxLifetime    = 24 * time.Hour // --ikelifetime and --ipseclifetime (Openswan: 1 day)

	// Defaults pluto applies (Openswan), used by whack's consistency checks.
	DefaultIKELifetime   = time.Hour
	DefaultIPsecLifetime = 8 * time.Hour
	DefaultRekeyMargin   = 9 * time.Minute
	DefaultRekeyFuzz     = 100 // percent
	DefaultKeyingTries   = 3
)

// checkText accepts any non-empty valid UTF-8 text without control
// characters: every string whack carries ends up in pluto's log lines.
func checkText(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q contains a control character", s)
		}
	}
	return nil
}

// checkName checks a connection name: one token, printable, no quotes (pluto
// prints it between double quotes and passes it to the updown script).
func checkName(s string) error {
	if err := checkText(s); err != nil {
		return err
	}
	if strings.ContainsAny(s, " \t\"'\\") {
		return fmt.Errorf("%q: a connection name cannot contain blanks, quotes or backslashes", s)
	}
	if len(s) > 256 {
		return fmt.Errorf("%q is too long (limit 256 bytes)", s)
	}
	return nil
}

// parseNumber parses a decimal number in [min, max].
func parseNumber(s string, min, max int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < min || n > max {
		return 0, fmt.Errorf("%d is out of range (%d-%d)", n, min, max)
	}
	return n, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%d is not a port number (1-65535)", n)
	}
	return n, nil
}

// parseSeconds parses a duration given in seconds, as the manual says
// ("3600"), and also with a unit: "90s", "9m", "1h", "1d", or anything
// time.ParseDuration accepts ("1h30m"). It must be whole seconds, at most
// 2^31 seconds.
func parseSeconds(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a number of seconds (or a duration such as 9m, 1h, 1d)", s)
	var d time.Duration
	if n, err := strconv.ParseUint(s, 10, 63); err == nil {
		if n > maxSeconds {
			return 0, fmt.Errorf("%q is too long (limit %d seconds)", s, maxSeconds)
		}
		return time.Duration(n) * time.Second, nil
	}
	if num, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(num, 10, 63)
		if err != nil {
			return 0, bad
		}
		if n > maxSeconds/86400 {
			return 0, fmt.Errorf("%q is too long (limit %d seconds)", s, maxSeconds)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%q is not a whole number of seconds", s)
	}
	if d > maxSeconds*time.Second {
		return 0, fmt.Errorf("%q is too long (limit %d seconds)", s, maxSeconds)
	}
	return d, nil
}

func checkSeconds(d time.Duration) error {
	if d < 0 || d%time.Second != 0 || d > maxSeconds*time.Second {
		return fmt.Errorf("%v is not a whole number of seconds between 0 and %d", d, maxSeconds)
	}
	return nil
}

// parsePercent parses "100%" or "100".
func parsePercent(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || strings.HasPrefix(s, "+") || n < 0 {
		return 0, fmt.Errorf("%q is not a percentage", s)
	}
	if n > maxPercent {
		return 0, fmt.Errorf("%q is too large (limit %d%%)", s, maxPercent)
	}
	return n, nil
}

// parseKeyingTries parses a count or "%forever" (0: never give up).
func parseKeyingTries(s string) (int, error) {
	if s == "%forever" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") || n < 0 {
		return 0, fmt.Errorf("%q is not a count (a number, 0 or %%forever for no limit)", s)
	}
	if n > maxKeyingTries {
		return 0, fmt.Errorf("%q is too large (limit %d)", s, maxKeyingTries)
	}
	return n, nil
}

// parseIP parses a literal IP address that is not unspecified.
func parseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	if a.IsUnspecified() {
		return netip.Addr{}, fmt.Errorf("%q: 0.0.0.0 or :: is not a valid address here", s)
	}
	return a, nil
}

// Host keywords accepted by --host (Openswan whack).
var hostKeywords = map[string]bool{
	"%any":                true,
	"%defaultroute":       true,
	"%opportunistic":      true,
	"%group":              true,
	"%opportunisticgroup": true,
}

// checkHost accepts an IP address, a %keyword or a DNS name (resolved by pluto).
func checkHost(s string) error {
	if err := checkText(s); err != nil {
		return err
	}
	if strings.HasPrefix(s, "%") {
		if !hostKeywords[s] {
			return fmt.Errorf("%q is not a known keyword (%%any, %%defaultroute, %%opportunistic, %%group, %%opportunisticgroup)", s)
		}
		return nil
	}
	if strings.Contains(s, ":") || isDottedNumeric(s) {
		return checkAddr(s) // 0.0.0.0 and :: are the old spellings of %any
	}
	if !isDNSName(s) {
		return fmt.Errorf("%q is neither an IP address nor a DNS name", s)
	}
	return nil
}

// hostAddr returns the literal address of a --host value, if it is one.
func hostAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

func isDottedNumeric(s string) bool {
	return strings.Trim(s, "0123456789.") == ""
}

func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
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

// checkNextHop accepts an IP address, %direct or %defaultroute.
func checkNextHop(s string) error {
	if s == "%direct" || s == "%defaultroute" {
		return nil
	}
	if strings.HasPrefix(s, "%") {
		return fmt.Errorf("%q is not a known keyword (%%direct, %%defaultroute)", s)
	}
	return checkAddr(s) // 0.0.0.0 is the old spelling of %direct
}

// checkAddr accepts any literal IP address, unspecified included.
func checkAddr(s string) error {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return fmt.Errorf("%q is not an IP address", s)
	}
	return nil
}

// canonSubnet parses "address/bits" (a bare address means a single host)
// and returns its canonical form. Host bits must be zero.
func canonSubnet(s string) (string, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return "", fmt.Errorf("%q is not a subnet (address/bits)", s)
		}
		return netip.PrefixFrom(a, a.BitLen()).String(), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a subnet (address/bits)", s)
	}
	if p.Masked() != p {
		return "", fmt.Errorf("%q has host bits set (the subnet is %s)", s, p.Masked())
	}
	return p.String(), nil
}

// ProtoPort is a decoded --clientprotoport value.
type ProtoPort struct {
	Proto   uint8  // IP protocol number, 0 for any
	Port    uint16 // 0 for any port
	AnyPort bool   // the port was given as %any
}

// protocols are the IP protocol names --clientprotoport knows (no
// /etc/protocols lookup, so whack and pluto agree on every machine).
var protocols = map[string]uint8{
	"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17, "gre": 47,
	"esp": 50, "ah": 51, "icmpv6": 58, "ipv6-icmp": 58, "sctp": 132,
	"udplite": 136,
}

// services are the port names known without /etc/services, so that the
// usual ones mean the same everywhere.
var services = map[string]uint16{
	"ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80, "www": 80,
	"pop3": 110, "ntp": 123, "imap": 143, "snmp": 161, "ldap": 389, "https": 443,
	"isakmp": 500, "l2tp": 1701, "ipsec-nat-t": 4500,
}

// ParseProtoPort decodes a --clientprotoport value "protocol/port": the
// protocol is a number or a name (tcp, udp, icmp, ...), the port a number,
// a service name (the common ones built in, others looked up in
// /etc/services for the protocol's network) or %any. "17/1701", "udp/l2tp", "tcp/http" and "tcp/%any" are valid.
func ParseProtoPort(s string) (ProtoPort, error) {
	proto, port, ok := strings.Cut(s, "/")
	if !ok {
		return ProtoPort{}, fmt.Errorf("%q is not protocol/port (missing /)", s)
	}
	var pp ProtoPort
	if n, err := strconv.ParseUint(proto, 10, 8); err == nil {
		pp.Proto = uint8(n)
	} else if n, ok := protocols[strings.ToLower(proto)]; ok {
		pp.Proto = n
	} else {
		return ProtoPort{}, fmt.Errorf("%q: unknown protocol %q", s, proto)
	}
	switch {
	case port == "%any":
		pp.AnyPort = true
	case port == "":
		return ProtoPort{}, fmt.Errorf("%q: missing port", s)
	default:
		if n, err := strconv.ParseUint(port, 10, 16); err == nil {
			pp.Port = uint16(n)
			break
		}
		if n, ok := services[strings.ToLower(port)]; ok {
			pp.Port = n
			break
		}
		network := "tcp"
		if pp.Proto == 17 {
			network = "udp"
		}
		n, err := net.LookupPort(network, port)
		if err != nil || !isServiceName(port) {
			return ProtoPort{}, fmt.Errorf("%q: unknown port %q", s, port)
		}
		pp.Port = uint16(n)
	}
	return pp, nil
}

func isServiceName(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != ""
}

// oneOf checks s against a list of accepted words.
func oneOf(s string, words ...string) error {
	for _, w := range words {
		if s == w {
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", s, strings.Join(words, ", "))
}

var (
	sendCertWords  = []string{"yes", "always", "forced", "ifasked", "no", "never"}
	dpdActionWords = []string{"clear", "hold", "restart", "restart_by_peer"}
	pfsGroupWords  = []string{"modp1024", "modp1536", "modp2048", "modp3072", "modp4096", "modp6144", "modp8192"}
	familyWords    = []string{"ipv4", "ipv6"}
	shuntWords     = []string{"trap", "pass", "drop", "reject"}
	failWords      = []string{"none", "pass", "drop", "reject"}
)

// checkAlgs does the syntax check of an --ike/--esp list (ipsec.conf
// syntax: "aes128-sha1-modp2048", "3des-md5;modp1024", comma-separated
// proposals); pluto decides which algorithms it knows.
func checkAlgs(s string) error {
	if err := checkText(s); err != nil {
		return err
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_;,+!:./ ", c) >= 0) {
			return fmt.Errorf("%q: unexpected character %q in an algorithm list", s, c)
		}
	}
	return nil
}

// decodeKeyData decodes the ipsec "text data" forms of a key: 0s base64 or
// 0x hex (underscores allowed between digits).
func decodeKeyData(s string) ([]byte, error) {
	switch {
	case strings.HasPrefix(s, "0s"):
		b, err := base64.StdEncoding.DecodeString(s[2:])
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(s[2:])
		}
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("RSA public-key data malformed (bad base64 after 0s)")
		}
		return b, nil
	case strings.HasPrefix(s, "0x"), strings.HasPrefix(s, "0X"):
		b, err := hex.DecodeString(strings.ReplaceAll(s[2:], "_", ""))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("RSA public-key data malformed (bad hex after 0x)")
		}
		return b, nil
	}
	return nil, fmt.Errorf("RSA public-key data malformed (expected 0s<base64> or 0x<hex>)")
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

func familyName(f string) string {
	if f == "ipv6" {
		return "IPv6"
	}
	return "IPv4"
}
