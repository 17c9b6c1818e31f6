package routing

// The updown script: pluto runs a connection's --updown command (our end's)
// through /bin/sh at each routing event, with the verb and a description of
// the connection in PLUTO_* environment variables, as FreeS/WAN and
// Openswan do. The verbs, with -host when our end has no client subnet and
// -client when it has (-host-v6, -client-v6 for IPv6):
//
//	prepare   before the first route (whack --route, or the first SA)
//	route     the peer's client is to be routed (whack --route, or the first SA)
//	up        an IPsec SA pair is installed
//	down      an IPsec SA pair is deleted
//	unroute   the route is to go (whack --unroute, or the last SA of an unrouted connection)
//
// Values that a peer chooses (its ID) or that come from configuration are
// stripped of shell metacharacters before they reach the environment
// (libreswan's remove_metachar, CVE-2010-3308): scripts expand them unquoted.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"goswan/fsm"
)

// The updown verbs (without the -host/-client suffix).
const (
	VerbPrepare = "prepare"
	VerbRoute   = "route"
	VerbUp      = "up"
	VerbDown    = "down"
	VerbUnroute = "unroute"
)

// UpdownVersion is PLUTO_VERSION: the interface version of the FreeS/WAN
// updown scripts (ipsec _updown checks it).
const UpdownVersion = "1.1"

// UpdownTimeout bounds one run of an updown command (pluto waits for it,
// as Openswan does).
var UpdownTimeout = 30 * time.Second

// Updown is one call of the updown script: the verb and what the script is
// told about the connection and the SA.
type Updown struct {
	Verb      string // VerbPrepare ... VerbUnroute
	Conn      string // PLUTO_CONNECTION
	Interface string // PLUTO_INTERFACE: the device of our IKE address
	NextHop   netip.Addr
	Me        netip.Addr // our IKE address
	MyID      string
	MyClient  fsm.Client // our client; our host (/32, /128) without a subnet
	// MySourceIP is --srcip (PLUTO_MY_SOURCEIP, only when set).
	MySourceIP netip.Addr
	Peer       netip.Addr
	PeerID     string
	PeerClient fsm.Client
	PeerCA     string
	Stack      string // PLUTO_STACK: the kernel's name
	Policy     string // PLUTO_CONN_POLICY: "PSK+ENCRYPT+TUNNEL+PFS+UP"
	ReqID      uint32 // PLUTO_SA_REQID (0: not set)
	SAType     string // PLUTO_SA_TYPE: "ESP", "AH" (empty: not set)
}

// Client reports whether our end has a client subnet (the verb ends in
// -client rather than -host).
func (u *Updown) Client() bool {
	n := u.MyClient.Net
	return n.IsValid() && !(n.IsSingleIP() && n.Addr().Unmap() == u.Me.Unmap())
}

// FullVerb is PLUTO_VERB: "up-client", "route-host", "down-client-v6".
func (u *Updown) FullVerb() string {
	v := u.Verb + "-host"
	if u.Client() {
		v = u.Verb + "-client"
	}
	if u.Me.Is6() && !u.Me.Is4In6() {
		v += "-v6"
	}
	return v
}

// Env returns the PLUTO_* environment of the call, in Openswan's order.
// Every value is sanitized.
func (u *Updown) Env() []string {
	var env []string
	add := func(k, v string) { env = append(env, k+"="+Sanitize(v)) }
	addr := func(a netip.Addr) string {
		if !a.IsValid() {
			return ""
		}
		return a.Unmap().String()
	}
	fam := "ipv4"
	if u.Me.Is6() && !u.Me.Is4In6() {
		fam = "ipv6"
	}
	cfam := fam
	if n := u.MyClient.Net; n.IsValid() {
		cfam = "ipv4"
		if n.Addr().Is6() && !n.Addr().Is4In6() {
			cfam = "ipv6"
		}
	}
	add("PLUTO_VERSION", UpdownVersion)
	add("PLUTO_VERB", u.FullVerb())
	add("PLUTO_CONNECTION", u.Conn)
	if u.NextHop.IsValid() {
		add("PLUTO_NEXT_HOP", addr(u.NextHop))
	}
	add("PLUTO_INTERFACE", u.Interface)
	add("PLUTO_ME", addr(u.Me))
	add("PLUTO_MY_ID", u.MyID)
	add("PLUTO_MY_CLIENT", prefixString(u.MyClient.Net))
	add("PLUTO_MY_CLIENT_NET", addr(u.MyClient.Net.Masked().Addr()))
	add("PLUTO_MY_CLIENT_MASK", maskString(u.MyClient.Net))
	add("PLUTO_MY_PORT", strconv.Itoa(int(u.MyClient.Port)))
	add("PLUTO_MY_PROTOCOL", strconv.Itoa(int(u.MyClient.Proto)))
	add("PLUTO_PEER", addr(u.Peer))
	add("PLUTO_PEER_ID", u.PeerID)
	add("PLUTO_PEER_CLIENT", prefixString(u.PeerClient.Net))
	add("PLUTO_PEER_CLIENT_NET", addr(u.PeerClient.Net.Masked().Addr()))
	add("PLUTO_PEER_CLIENT_MASK", maskString(u.PeerClient.Net))
	add("PLUTO_PEER_PORT", strconv.Itoa(int(u.PeerClient.Port)))
	add("PLUTO_PEER_PROTOCOL", strconv.Itoa(int(u.PeerClient.Proto)))
	add("PLUTO_PEER_CA", u.PeerCA)
	add("PLUTO_STACK", u.Stack)
	add("PLUTO_CONN_POLICY", u.Policy)
	add("PLUTO_CONN_ADDRFAMILY", fam)
	add("PLUTO_CONN_CLIENTFAMILY", cfam)
	if u.MySourceIP.IsValid() {
		add("PLUTO_MY_SOURCEIP", addr(u.MySourceIP))
	}
	if u.ReqID != 0 {
		add("PLUTO_SA_REQID", strconv.FormatUint(uint64(u.ReqID), 10))
	}
	if u.SAType != "" {
		add("PLUTO_SA_TYPE", u.SAType)
	}
	return env
}

func prefixString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmappedBits(p)).Masked().String()
}

func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return 96
	}
	return 0
}

// maskString is the netmask in address form: 255.255.255.0, ffff:ffff::.
func maskString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	a := p.Addr().Unmap()
	bits := p.Bits() - unmappedBits(p)
	m := net.CIDRMask(bits, a.BitLen())
	ma, _ := netip.AddrFromSlice(m)
	return ma.String()
}

// maxUpdownValue bounds one sanitized value.
const maxUpdownValue = 1024

// Sanitize keeps what is safe in an unquoted shell expansion: letters,
// digits, space and @ . _ - : / = , + (enough for addresses, subnets,
// FQDN, user@FQDN and DN identities, policy strings); everything else —
// quotes, backslash, $, `, ;, |, &, <, >, (, ), *, ?, [, ], {, }, !, #, ~,
// newlines and other control or non-ASCII bytes — is removed.
func Sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxUpdownValue; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(" @._-:/=,+", c) >= 0:
		default:
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ErrUpdown wraps a failed updown command.
var ErrUpdown = errors.New("updown command returned an error")

// RunUpdown runs command with /bin/sh -c in the environment of pluto
// (without PLUTO_* variables of its own) plus u.Env(). It returns the
// command's combined output; a non-zero exit, a signal or the timeout give
// an error wrapping ErrUpdown.
func RunUpdown(ctx context.Context, command string, u *Updown) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, UpdownTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = append(updownBaseEnv(), u.Env()...)
	cmd.WaitDelay = time.Second // a background child holding the pipe does not stall pluto
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s", UpdownTimeout)
		}
		return out, fmt.Errorf("%w (%s: %v)", ErrUpdown, u.FullVerb(), err)
	}
	return out, nil
}

func updownBaseEnv() []string {
	var env []string
	hasPath := false
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PLUTO_") {
			continue
		}
		if strings.HasPrefix(kv, "PATH=") {
			hasPath = true
		}
		env = append(env, kv)
	}
	if !hasPath {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	return env
}

// InterfaceOf returns the name of the network interface that has address
// a (PLUTO_INTERFACE), or "" when none has.
func InterfaceOf(a netip.Addr) string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, ad := range addrs {
			if n, ok := ad.(*net.IPNet); ok {
				if b, ok := netip.AddrFromSlice(n.IP); ok && b.Unmap() == a.Unmap() {
					return ifc.Name
				}
			}
		}
	}
	return ""
}
