package routing

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var (
	us      = netip.MustParseAddr("192.0.2.1")
	peerB   = netip.MustParseAddr("192.0.2.2")
	peerC   = netip.MustParseAddr("192.0.2.3")
	gateway = netip.MustParseAddr("192.0.2.254")
	net1    = netip.MustParsePrefix("10.1.0.0/24")
	net1b   = netip.MustParsePrefix("10.1.1.0/24")
	net2    = netip.MustParsePrefix("10.2.0.0/24")
)

// conn is a net-to-net tunnel 10.1.0.0/24 === 192.0.2.1 ... 192.0.2.2 ===
// 10.2.0.0/24 on eth0, %direct, changed by mods.
func conn(name string, mods ...func(*Conn)) Conn {
	c := Conn{
		Name: name, Policy: "PSK+ENCRYPT+TUNNEL+PFS+UP", Interface: "eth0",
		Local: us, Peer: peerB, LocalClient: net1, PeerClient: net2,
	}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func iface(s string) func(*Conn)          { return func(c *Conn) { c.Interface = s } }
func nexthop(a netip.Addr) func(*Conn)    { return func(c *Conn) { c.NextHop = a } }
func peer(a netip.Addr) func(*Conn)       { return func(c *Conn) { c.Peer = a } }
func localNet(p netip.Prefix) func(*Conn) { return func(c *Conn) { c.LocalClient = p } }
func noClients(c *Conn)                   { c.LocalClient, c.PeerClient = netip.Prefix{}, netip.Prefix{} }
func instance(c *Conn)                    { c.Instance = true }
func template(c *Conn)                    { c.Peer = netip.Addr{} }
func isakmpOnly(c *Conn)                  { c.ISAKMPOnly = true; c.Policy = "PSK+UP"; noClients(c) }
func proto(p uint8) func(*Conn)           { return func(c *Conn) { c.Proto = p } }

// step is one call on the table.
type step struct {
	op        string // route, unroute, install, respond (InstallSA as responder), delete, acquire, failed, remove
	conn      string
	serial    uint64
	responder bool
}

func route(n string) step             { return step{op: "route", conn: n} }
func unroute(n string) step           { return step{op: "unroute", conn: n} }
func install(n string, s uint64) step { return step{op: "install", conn: n, serial: s} }
func respond(n string, s uint64) step {
	return step{op: "install", conn: n, serial: s, responder: true}
}
func deleteSA(n string, s uint64) step { return step{op: "delete", conn: n, serial: s} }
func acquire(n string) step            { return step{op: "acquire", conn: n} }
func failed(n string) step             { return step{op: "failed", conn: n} }
func remove(n string) step             { return step{op: "remove", conn: n} }

func (s step) String() string {
	if s.serial != 0 {
		return fmt.Sprintf("%s %q #%d responder=%v", s.op, s.conn, s.serial, s.responder)
	}
	return fmt.Sprintf("%s %q", s.op, s.conn)
}

func (s step) apply(t *Table) ([]Action, error) {
	switch s.op {
	case "route":
		return t.Route(s.conn)
	case "unroute":
		return t.Unroute(s.conn)
	case "install":
		return t.InstallSA(s.conn, s.serial, s.responder)
	case "delete":
		return t.DeleteSA(s.conn, s.serial), nil
	case "acquire":
		return t.Acquire(s.conn), nil
	case "failed":
		return t.NegotiationFailed(s.conn), nil
	case "remove":
		return t.Remove(s.conn), nil
	}
	panic("BUG: unknown step " + s.op)
}

func act(k ActionKind, conn string) Action { return Action{Kind: k, Conn: conn} }
func eroute(conn string, serial uint64) Action {
	return Action{Kind: InstallEroute, Conn: conn, Serial: serial}
}
func releasing(conn string, peer netip.Addr) Action {
	return Action{Kind: DeleteSAs, Conn: conn, Log: fmt.Sprintf(
		"route to peer's client conflicts with %q %s; releasing old connection to free the route", conn, peer)}
}

// TestRules has one case per rule of the manual (ipsec_pluto(8), seed 001):
// the case name is the rule, and the sentence is quoted beside it.
func TestRules(t *testing.T) {
	tests := []struct {
		name   string
		manual string // the sentence of the manual the case checks
		conns  []Conn
		setup  []step // must succeed
		do     step
		want   []Action
		err    error  // the refusal kind, nil if none
		text   string // pluto's text of the refusal
		states map[string]RouteState
		sas    map[string][]uint64
		gone   []string // connections the table must have forgotten
	}{
		{
			name:   "whack --route installs the route and a %trap eroute",
			manual: "A TRAP shunt eroute will be installed; if outbound traffic is caught, Pluto will initiate the connection.",
			conns:  []Conn{conn("a")},
			do:     route("a"),
			want:   []Action{act(AddRoute, "a"), act(InstallTrap, "a")},
			states: map[string]RouteState{"a": RoutedProspective},
		},
		{
			name:   "traffic caught by the trap initiates",
			manual: "if outbound traffic is caught, Pluto will initiate the connection.",
			conns:  []Conn{conn("a")},
			setup:  []step{route("a")},
			do:     acquire("a"),
			want:   []Action{act(Initiate, "a")},
			states: map[string]RouteState{"a": RoutedHold},
		},
		{
			name:   "more traffic caught while negotiating starts nothing",
			manual: "if outbound traffic is caught, Pluto will initiate the connection.",
			conns:  []Conn{conn("a")},
			setup:  []step{route("a"), acquire("a")},
			do:     acquire("a"),
			states: map[string]RouteState{"a": RoutedHold},
		},
		{
			name:   "a failed negotiation re-arms the trap",
			manual: "if outbound traffic is caught, Pluto will initiate the connection.",
			conns:  []Conn{conn("a")},
			setup:  []step{route("a"), acquire("a"), failed("a")},
			do:     acquire("a"),
			want:   []Action{act(Initiate, "a")},
			states: map[string]RouteState{"a": RoutedHold},
		},
		{
			name:   "an unrouted connection catches no traffic",
			manual: "Without a routing, packets will be sent without encryption or authentication.",
			conns:  []Conn{conn("a")},
			do:     acquire("a"),
			states: map[string]RouteState{"a": Unrouted},
		},
		{
			name:   "routing a routed connection changes nothing",
			manual: "RT_ROUTED_TUNNEL is treated specially: we don't override because we don't want to lose track of the IPSEC_SAs etc. (kernel.c trap_connection)",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1)},
			do:     route("a"),
			states: map[string]RouteState{"a": RoutedTunnel},
		},
		{
			name:   "an IPsec SA routes its connection automatically",
			manual: "An explicit whack route is not always needed: if it hasn't been done when an IPsec SA is being installed, one will be automatically attempted.",
			conns:  []Conn{conn("a")},
			do:     install("a", 1),
			want:   []Action{act(AddRoute, "a"), eroute("a", 1)},
			states: map[string]RouteState{"a": RoutedTunnel},
			sas:    map[string][]uint64{"a": {1}},
		},
		{
			name:   "the SA's eroute replaces the trap",
			manual: "Each eroute is associated with the state object for an IPsec SA because it has the particular characteristics of the SA.",
			conns:  []Conn{conn("a")},
			setup:  []step{route("a"), acquire("a")},
			do:     install("a", 2),
			want:   []Action{eroute("a", 2)},
			states: map[string]RouteState{"a": RoutedTunnel},
		},
		{
			name:   "unroute is refused while an IPsec SA uses the connection",
			manual: "pluto will refuse if an IPsec SA is using the connection.",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1)},
			do:     unroute("a"),
			err:    ErrRouteBusy,
			text:   "cannot unroute: route busy",
			states: map[string]RouteState{"a": RoutedTunnel},
		},
		{
			name:   "unroute removes the eroute and the route",
			manual: "The unroute form of the whack command tells pluto to undo a routing.",
			conns:  []Conn{conn("a")},
			setup:  []step{route("a")},
			do:     unroute("a"),
			want:   []Action{act(DeleteEroute, "a"), act(DeleteRoute, "a")},
			states: map[string]RouteState{"a": Unrouted},
		},
		{
			name:   "unroute of an unrouted connection does nothing",
			manual: "The unroute form of the whack command tells pluto to undo a routing.",
			conns:  []Conn{conn("a")},
			do:     unroute("a"),
			states: map[string]RouteState{"a": Unrouted},
		},
		{
			name:   "a connection routed by whack --route stays routed after its last SA: back to the trap",
			manual: "Once routing is set up, no packets will be sent ``in the clear'' to the peer's client specified in the connection.",
			conns:  []Conn{conn("a")},
			setup:  []step{route("a"), install("a", 1)},
			do:     deleteSA("a", 1),
			want:   []Action{act(InstallTrap, "a")},
			states: map[string]RouteState{"a": RoutedProspective},
			sas:    map[string][]uint64{"a": nil},
		},
		{
			name:   "whack --route on an established connection keeps it routed after its SAs",
			manual: "The route form of the whack command tells pluto to set up routing for a connection.",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1), route("a")},
			do:     deleteSA("a", 1),
			want:   []Action{act(InstallTrap, "a")},
			states: map[string]RouteState{"a": RoutedProspective},
		},
		{
			name:   "a connection routed only for its SA is unrouted with its last SA",
			manual: "Unfortunately, there is no mechanism to unroute the connection automatically. (we have one: see DeleteSA)",
			conns:  []Conn{conn("rw[1]", instance)},
			setup:  []step{respond("rw[1]", 1)},
			do:     deleteSA("rw[1]", 1),
			want:   []Action{act(DeleteEroute, "rw[1]"), act(DeleteRoute, "rw[1]")},
			states: map[string]RouteState{"rw[1]": Unrouted},
			sas:    map[string][]uint64{"rw[1]": nil},
		},
		{
			name:   "unrouting with the last SA leaves a shared route",
			manual: "If another connection is sharing the same routing, it will be left in place.",
			conns:  []Conn{conn("a"), conn("b", localNet(net1b))},
			setup:  []step{route("a"), install("b", 1)},
			do:     deleteSA("b", 1),
			want:   []Action{act(DeleteEroute, "b")},
			states: map[string]RouteState{"a": RoutedProspective, "b": Unrouted},
		},
		{
			name:   "whack --unroute: the connection is unrouted with its last SA",
			manual: "The unroute form of the whack command tells pluto to undo a routing.",
			conns:  []Conn{conn("a")},
			setup:  []step{route("a"), unroute("a"), install("a", 1)},
			do:     deleteSA("a", 1),
			want:   []Action{act(DeleteEroute, "a"), act(DeleteRoute, "a")},
			states: map[string]RouteState{"a": Unrouted},
		},
		{
			name:   "connections agreeing on interface and nexthop share the route",
			manual: "Two connections may not be simultaneously routed if they are for the same peer's client subnet but use different interfaces or gateways",
			conns:  []Conn{conn("a"), conn("b", localNet(net1b))},
			setup:  []step{route("a")},
			do:     route("b"),
			want:   []Action{act(InstallTrap, "b")},
			states: map[string]RouteState{"a": RoutedProspective, "b": RoutedProspective},
		},
		{
			name:   "unroute leaves a shared route in place",
			manual: "If another connection is sharing the same routing, it will be left in place.",
			conns:  []Conn{conn("a"), conn("b", localNet(net1b))},
			setup:  []step{route("a"), route("b")},
			do:     unroute("b"),
			want:   []Action{act(DeleteEroute, "b")},
			states: map[string]RouteState{"a": RoutedProspective, "b": Unrouted},
		},
		{
			name:   "the last connection sharing a route takes it down",
			manual: "If another connection is sharing the same routing, it will be left in place.",
			conns:  []Conn{conn("a"), conn("b", localNet(net1b))},
			setup:  []step{route("a"), route("b"), unroute("b")},
			do:     unroute("a"),
			want:   []Action{act(DeleteEroute, "a"), act(DeleteRoute, "a")},
			states: map[string]RouteState{"a": Unrouted, "b": Unrouted},
		},
		{
			name:   "same peer client, different interface: the route without SA is taken down",
			manual: "If another connection has a conflicting route, that route will be taken down, as long as there is no IPsec SA instantiating that connection.",
			conns:  []Conn{conn("a"), conn("b", iface("eth1"))},
			setup:  []step{route("a")},
			do:     route("b"),
			want:   []Action{act(DeleteEroute, "a"), act(DeleteRoute, "a"), act(AddRoute, "b"), act(InstallTrap, "b")},
			states: map[string]RouteState{"a": Unrouted, "b": RoutedProspective},
		},
		{
			name:   "same peer client, different nexthop: the route without SA is taken down",
			manual: "Two connections may not be simultaneously routed if they are for the same peer's client subnet but use different interfaces or gateways",
			conns:  []Conn{conn("a"), conn("b", nexthop(gateway), localNet(net1b))},
			setup:  []step{route("a")},
			do:     install("b", 1),
			want:   []Action{act(DeleteEroute, "a"), act(DeleteRoute, "a"), act(AddRoute, "b"), eroute("b", 1)},
			states: map[string]RouteState{"a": Unrouted, "b": RoutedTunnel},
		},
		{
			name:   "%direct means the peer is the nexthop: another peer is another gateway",
			manual: "if forwarding isn't required, use an explicit %direct as the nexthop and the IP address of the initiator will be filled in",
			conns:  []Conn{conn("a"), conn("b", peer(peerC))},
			setup:  []step{route("a")},
			do:     route("b"),
			want:   []Action{act(DeleteEroute, "a"), act(DeleteRoute, "a"), act(AddRoute, "b"), act(InstallTrap, "b")},
			states: map[string]RouteState{"a": Unrouted, "b": RoutedProspective},
		},
		{
			name:   "all the connections sharing a conflicting route are taken down",
			manual: "If another connection has a conflicting route, that route will be taken down, as long as there is no IPsec SA instantiating that connection.",
			conns:  []Conn{conn("a"), conn("b", localNet(net1b)), conn("c", iface("eth1"), proto(6))},
			setup:  []step{route("a"), route("b")},
			do:     route("c"),
			want: []Action{act(DeleteEroute, "a"), act(DeleteEroute, "b"), act(DeleteRoute, "b"),
				act(AddRoute, "c"), act(InstallTrap, "c")},
			states: map[string]RouteState{"a": Unrouted, "b": Unrouted, "c": RoutedProspective},
		},
		{
			name:   "different peer clients never conflict",
			manual: "Two connections may not be simultaneously routed if they are for the same peer's client subnet",
			conns:  []Conn{conn("a"), conn("b", iface("eth1"), func(c *Conn) { c.PeerClient = netip.MustParsePrefix("10.3.0.0/24") })},
			setup:  []step{install("a", 1)},
			do:     route("b"),
			want:   []Action{act(AddRoute, "b"), act(InstallTrap, "b")},
			states: map[string]RouteState{"a": RoutedTunnel, "b": RoutedProspective},
		},
		{
			name:   "whack --route fails when the conflicting route has an IPsec SA",
			manual: "When a routing is attempted for a connection, there must not already be a routing for a different connection with the same subnet but different interface or destination, or if there is, it must not be being used by an IPsec SA. Otherwise the attempt will fail.",
			conns:  []Conn{conn("a"), conn("b", iface("eth1"))},
			setup:  []step{install("a", 1)},
			do:     route("b"),
			err:    ErrRouteInUse,
			text:   `cannot route -- route already in use for "a"`,
			states: map[string]RouteState{"a": RoutedTunnel, "b": Unrouted},
		},
		{
			name:   "installing an SA fails when the conflicting route has an IPsec SA",
			manual: "If there is such an IPsec SA, the attempt to install a route will fail.",
			conns:  []Conn{conn("a"), conn("b", nexthop(gateway))},
			setup:  []step{install("a", 1)},
			do:     install("b", 2),
			err:    ErrRouteInUse,
			text:   `cannot route -- route already in use for "a"`,
			states: map[string]RouteState{"a": RoutedTunnel, "b": Unrouted},
			sas:    map[string][]uint64{"a": {1}, "b": nil},
		},
		{
			name:   "responder to a fixed client subnet: the old SAs are deleted to make room",
			manual: "If pluto, as Responder, needs to install a route to a fixed client subnet for a connection, and there is already a conflicting route, then the SAs using the route are deleted to make room for the new SAs.",
			conns:  []Conn{conn("a"), conn("b", peer(peerC))},
			setup:  []step{install("a", 1)},
			do:     respond("b", 2),
			want: []Action{act(DeleteEroute, "a"), releasing("a", peerB), act(DeleteRoute, "a"),
				act(AddRoute, "b"), eroute("b", 2)},
			states: map[string]RouteState{"a": Unrouted, "b": RoutedTunnel},
			sas:    map[string][]uint64{"a": nil, "b": {2}},
		},
		{
			name:   "Road Warrior: the new instance replaces the old one, which is deleted",
			manual: "The need for this usually is a product of Road Warrior connections (these are explained later; they cannot be used to initiate).",
			conns:  []Conn{conn("rw[1]", instance), conn("rw[2]", instance, peer(peerC))},
			setup:  []step{respond("rw[1]", 1)},
			do:     respond("rw[2]", 4),
			want: []Action{act(DeleteEroute, "rw[1]"), releasing("rw[1]", peerB), act(DeleteRoute, "rw[1]"),
				act(DeleteConn, "rw[1]"), act(AddRoute, "rw[2]"), eroute("rw[2]", 4)},
			states: map[string]RouteState{"rw[2]": RoutedTunnel},
			gone:   []string{"rw[1]"},
		},
		{
			name:   "the responder exception needs a fixed client subnet",
			manual: "If pluto, as Responder, needs to install a route to a fixed client subnet for a connection",
			conns:  []Conn{conn("a", noClients), conn("b", noClients, iface("eth1"))},
			setup:  []step{install("a", 1)},
			do:     respond("b", 2),
			err:    ErrRouteInUse,
			text:   `cannot route -- route already in use for "a"`,
			states: map[string]RouteState{"a": RoutedTunnel, "b": Unrouted},
		},
		{
			name:   "the responder exception is for the responder only",
			manual: "If pluto, as Responder, needs to install a route",
			conns:  []Conn{conn("a"), conn("b", peer(peerC))},
			setup:  []step{install("a", 1)},
			do:     install("b", 2),
			err:    ErrRouteInUse,
			text:   `cannot route -- route already in use for "a"`,
			states: map[string]RouteState{"a": RoutedTunnel, "b": Unrouted},
		},
		{
			name:   "identical local and peer clients: the eroute and SA are not installed",
			manual: "If a conflicting eroute is already in place for another connection, the eroute and SA will not be installed",
			conns:  []Conn{conn("a"), conn("b")},
			setup:  []step{install("a", 1)},
			do:     install("b", 2),
			err:    ErrErouteInUse,
			text:   `cannot install eroute -- it is in use for "a" #1`,
			states: map[string]RouteState{"a": RoutedTunnel, "b": Unrouted},
			sas:    map[string][]uint64{"a": {1}, "b": nil},
		},
		{
			name:   "identical clients: another connection's trap is in the way too",
			manual: "Two eroutes conflict if they specify the identical local and remote clients",
			conns:  []Conn{conn("a"), conn("b")},
			setup:  []step{route("a")},
			do:     route("b"),
			err:    ErrErouteInUse,
			text:   `cannot install eroute -- it is in use for "a" #0`,
			states: map[string]RouteState{"a": RoutedProspective, "b": Unrouted},
		},
		{
			name:   "eroutes: a different local client is no conflict",
			manual: "(unlike for routes, the local clients are taken into account)",
			conns:  []Conn{conn("a"), conn("b", localNet(net1b))},
			setup:  []step{install("a", 1)},
			do:     install("b", 2),
			want:   []Action{eroute("b", 2)},
			states: map[string]RouteState{"a": RoutedTunnel, "b": RoutedTunnel},
		},
		{
			name:   "eroutes: a different protocol is no conflict",
			manual: "Two eroutes conflict if they specify the identical local and remote clients",
			conns:  []Conn{conn("a"), conn("b", proto(17))},
			setup:  []step{install("a", 1)},
			do:     install("b", 2),
			want:   []Action{eroute("b", 2)},
			states: map[string]RouteState{"a": RoutedTunnel, "b": RoutedTunnel},
		},
		{
			name:   "rekeying: the new SA takes over the outbound traffic",
			manual: "If another IPsec SA for the same connection already has an eroute, all its outgoing traffic is taken over by the new eroute.",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1)},
			do:     install("a", 3),
			want:   []Action{{Kind: ReplaceEroute, Conn: "a", Serial: 3, Old: 1}},
			states: map[string]RouteState{"a": RoutedTunnel},
			sas:    map[string][]uint64{"a": {1, 3}},
		},
		{
			name:   "rekeying: the old SA stays for inbound and its deletion changes no eroute",
			manual: "The incoming traffic will still be processed. This characteristic is exploited during rekeying.",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1), install("a", 3)},
			do:     deleteSA("a", 1),
			states: map[string]RouteState{"a": RoutedTunnel},
			sas:    map[string][]uint64{"a": {3}},
		},
		{
			name:   "rekeying as responder: the connection's own route is no conflict",
			manual: "Note: if this connection is already routed (perhaps for another state object), the route will agree. This is as it should be -- it will arise during rekeying. (kernel.c could_route)",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1)},
			do:     respond("a", 2),
			want:   []Action{{Kind: ReplaceEroute, Conn: "a", Serial: 2, Old: 1}},
			states: map[string]RouteState{"a": RoutedTunnel},
			sas:    map[string][]uint64{"a": {1, 2}},
		},
		{
			name:   "the newest SA gone: never back to a superseded SA, back to the trap",
			manual: "Once a new set of SAs has been negotiated, pluto will never send traffic on a superseded one. Traffic will be accepted on an old SA until it expires.",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1), install("a", 3)},
			do:     deleteSA("a", 3),
			want:   []Action{act(InstallTrap, "a")},
			states: map[string]RouteState{"a": RoutedProspective},
			sas:    map[string][]uint64{"a": {1}},
		},
		{
			name:   "the superseded SA gone too: the connection routed for its SAs is unrouted",
			manual: "Traffic will be accepted on an old SA until it expires.",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1), install("a", 3), deleteSA("a", 3)},
			do:     deleteSA("a", 1),
			want:   []Action{act(DeleteEroute, "a"), act(DeleteRoute, "a")},
			states: map[string]RouteState{"a": Unrouted},
			sas:    map[string][]uint64{"a": nil},
		},
		{
			name:   "a superseded SA still receiving keeps the connection routed",
			manual: "Each connection may be routed, and must be while it has an IPsec SA.",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1), install("a", 3), deleteSA("a", 3)},
			do:     unroute("a"),
			err:    ErrRouteBusy,
			text:   "cannot unroute: route busy",
			states: map[string]RouteState{"a": RoutedProspective},
		},
		{
			name:   "an ISAKMP-only connection cannot be routed",
			manual: "If none of the --encrypt, --authenticate, --compress, or --pfs flags is given, the initiating the connection will only build an ISAKMP SA. For such a connection, client subnets have no meaning",
			conns:  []Conn{conn("a", isakmpOnly)},
			do:     route("a"),
			err:    ErrISAKMPOnly,
			text:   "cannot route an ISAKMP-only connection",
			states: map[string]RouteState{"a": Unrouted},
		},
		{
			name:   "a Road Warrior template cannot be routed",
			manual: "these are explained later; they cannot be used to initiate",
			conns:  []Conn{conn("rw", template)},
			do:     route("rw"),
			err:    ErrTemplate,
			text:   "cannot route template policy of PSK+ENCRYPT+TUNNEL+PFS+UP",
			states: map[string]RouteState{"rw": Unrouted},
		},
		{
			name:   "a template gets no SA: its instances do",
			manual: "If it does find one, it creates a temporary connection that is a duplicate except with the %any replaced by the source IP address from the packet",
			conns:  []Conn{conn("rw", template)},
			do:     respond("rw", 1),
			err:    ErrTemplate,
			text:   "cannot route template policy of PSK+ENCRYPT+TUNNEL+PFS+UP",
			states: map[string]RouteState{"rw": Unrouted},
		},
		{
			name:   "deleting a connection undoes its routing",
			manual: "The delete form deletes a named connection description and any SAs established or negotiations initiated using this connection. Any routing in place for the connection is undone.",
			conns:  []Conn{conn("a")},
			setup:  []step{install("a", 1)},
			do:     remove("a"),
			want:   []Action{act(DeleteEroute, "a"), act(DeleteSAs, "a"), act(DeleteRoute, "a")},
			gone:   []string{"a"},
		},
		{
			name:   "deleting a connection leaves a shared route",
			manual: "If another connection is sharing the same routing, it will be left in place.",
			conns:  []Conn{conn("a"), conn("b", localNet(net1b))},
			setup:  []step{route("a"), route("b")},
			do:     remove("a"),
			want:   []Action{act(DeleteEroute, "a")},
			states: map[string]RouteState{"b": RoutedProspective},
			gone:   []string{"a"},
		},
		{
			name:  "unknown connection",
			conns: []Conn{conn("a")},
			do:    route("b"),
			err:   ErrUnknownConn,
			text:  `no connection named "b"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tab Table
			for _, c := range tt.conns {
				if err := tab.Add(c); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range tt.setup {
				if _, err := s.apply(&tab); err != nil {
					t.Fatalf("setup %v: %v", s, err)
				}
			}
			before := snapshot(&tab)
			got, err := tt.do.apply(&tab)
			if tt.manual != "" {
				t.Logf("manual: %s", tt.manual)
			}
			switch {
			case tt.err == nil && err != nil:
				t.Fatalf("%v: unexpected error %v", tt.do, err)
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Fatalf("%v: error %v, want %v", tt.do, err, tt.err)
			case tt.err != nil && err.Error() != tt.text:
				t.Errorf("%v: error text %q, want pluto's %q", tt.do, err.Error(), tt.text)
			}
			if tt.err != nil {
				if got != nil {
					t.Errorf("%v refused but returned actions %v", tt.do, got)
				}
				if after := snapshot(&tab); !reflect.DeepEqual(before, after) {
					t.Errorf("%v refused but changed the table:\nbefore %v\nafter  %v", tt.do, before, after)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%v:\n got  %v\n want %v", tt.do, got, tt.want)
			}
			for name, want := range tt.states {
				c, ok := tab.Get(name)
				if !ok {
					t.Errorf("%q missing from the table", name)
				} else if c.State != want {
					t.Errorf("%q is %v, want %v", name, c.State, want)
				}
			}
			for name, want := range tt.sas {
				c, _ := tab.Get(name)
				if !slices.Equal(c.SAs, want) {
					t.Errorf("%q has SAs %v, want %v", name, c.SAs, want)
				}
			}
			for _, name := range tt.gone {
				if _, ok := tab.Get(name); ok {
					t.Errorf("%q still in the table", name)
				}
			}
			if err := checkInvariants(&tab); err != nil {
				t.Error(err)
			}
		})
	}
}

func snapshot(t *Table) map[string]Conn {
	m := map[string]Conn{}
	for _, n := range t.Names() {
		m[n], _ = t.Get(n)
	}
	return m
}

// checkInvariants checks what must hold after any sequence of calls.
func checkInvariants(t *Table) error {
	var errs []string
	// The list the conflict checks walk holds exactly the table's
	// connections.
	if len(t.list) != len(t.conns) {
		errs = append(errs, fmt.Sprintf("list has %d connections, the table %d", len(t.list), len(t.conns)))
	}
	for _, c := range t.list {
		if t.conns[c.Name] != c {
			errs = append(errs, fmt.Sprintf("%q listed but not in the table", c.Name))
		}
	}
	names := t.Names()
	for i, n := range names {
		c, _ := t.Get(n)
		// "Each connection may be routed, and must be while it has an IPsec
		// SA." and it is routed only if whack --route asked or an SA needs it.
		if c.State.Routed() != (c.HasIPsecSA() || c.WantRoute) {
			errs = append(errs, fmt.Sprintf("%q has IPsec SAs %v, WantRoute %v, but is %v", n, c.SAs, c.WantRoute, c.State))
		}
		if (c.EroutedBy != 0) != (c.State == RoutedTunnel) {
			errs = append(errs, fmt.Sprintf("%q is %v, erouted by #%d", n, c.State, c.EroutedBy))
		}
		if c.EroutedBy != 0 && !slices.Contains(c.SAs, c.EroutedBy) {
			errs = append(errs, fmt.Sprintf("%q erouted by #%d, not one of its SAs %v", n, c.EroutedBy, c.SAs))
		}
		if c.State.Routed() && couldRoute(&c) != nil {
			errs = append(errs, fmt.Sprintf("%q is %v: %v", n, c.State, couldRoute(&c)))
		}
		for _, m := range names[i+1:] {
			d, _ := t.Get(m)
			if c.State.Routed() && d.State.Routed() && routesConflict(&c, &d) {
				errs = append(errs, fmt.Sprintf("%q and %q are both routed to %v through different interfaces or nexthops", n, m, c.peerClient()))
			}
			if c.State.Erouted() && d.State.Erouted() && erouteConflict(&c, &d) {
				errs = append(errs, fmt.Sprintf("%q and %q both have an eroute for %v", n, m, c.erouteKey()))
			}
			for _, s := range c.SAs {
				if slices.Contains(d.SAs, s) {
					errs = append(errs, fmt.Sprintf("SA #%d in both %q and %q", s, n, m))
				}
			}
		}
	}
	if errs != nil {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// kernel is a model of what the actions do, strict about their order:
// adding what exists or deleting what does not is an error.
type kernel struct {
	routes  map[netip.Prefix]string    // peer client -> "interface nexthop"
	eroutes map[erouteKey]kernelEroute // by clients
	sas     map[uint64]string          // installed IPsec SAs -> connection
	conns   map[string]Conn            // the daemon's copy of the connections
}

type kernelEroute struct {
	conn   string
	serial uint64 // 0: the %trap
}

func newKernel() *kernel {
	return &kernel{routes: map[netip.Prefix]string{}, eroutes: map[erouteKey]kernelEroute{},
		sas: map[uint64]string{}, conns: map[string]Conn{}}
}

func (k *kernel) apply(a Action) error {
	c, ok := k.conns[a.Conn]
	if !ok {
		return fmt.Errorf("%v: no such connection", a)
	}
	via := c.Interface + " " + c.nextHop().String()
	key := c.erouteKey()
	e, erouted := k.eroutes[key]
	if erouted && e.conn != a.Conn && a.Kind != AddRoute && a.Kind != DeleteRoute && a.Kind != DeleteSAs && a.Kind != DeleteConn && a.Kind != Initiate {
		return fmt.Errorf("%v: the eroute belongs to %q", a, e.conn)
	}
	switch a.Kind {
	case AddRoute:
		if r, ok := k.routes[c.peerClient()]; ok {
			return fmt.Errorf("%v: a route via %s exists", a, r)
		}
		k.routes[c.peerClient()] = via
	case DeleteRoute:
		if r, ok := k.routes[c.peerClient()]; !ok || r != via {
			return fmt.Errorf("%v: no route via %s (%q)", a, via, r)
		}
		delete(k.routes, c.peerClient())
	case InstallTrap:
		if k.routes[c.peerClient()] != via {
			return fmt.Errorf("%v: not routed via %s", a, via)
		}
		k.eroutes[key] = kernelEroute{conn: a.Conn}
	case InstallEroute:
		if erouted && e.serial != 0 {
			return fmt.Errorf("%v: replaces SA #%d's eroute", a, e.serial)
		}
		fallthrough
	case ReplaceEroute:
		if a.Kind == ReplaceEroute && (!erouted || e.serial != a.Old || k.sas[a.Old] != a.Conn) {
			return fmt.Errorf("%v: eroute is %+v, SA #%d of %q", a, e, a.Old, k.sas[a.Old])
		}
		if k.sas[a.Serial] != a.Conn {
			return fmt.Errorf("%v: SA not installed", a)
		}
		if k.routes[c.peerClient()] != via {
			return fmt.Errorf("%v: not routed via %s", a, via)
		}
		k.eroutes[key] = kernelEroute{conn: a.Conn, serial: a.Serial}
	case DeleteEroute:
		if !erouted {
			return fmt.Errorf("%v: no eroute", a)
		}
		delete(k.eroutes, key)
	case DeleteSAs:
		if erouted && e.conn == a.Conn {
			return fmt.Errorf("%v: its eroute is still there", a)
		}
		for s, n := range k.sas {
			if n == a.Conn {
				delete(k.sas, s)
			}
		}
	case DeleteConn:
		delete(k.conns, a.Conn)
	case Initiate:
	default:
		return fmt.Errorf("%v: unknown action", a)
	}
	return nil
}

// agrees checks that the kernel model is what the table says.
func (k *kernel) agrees(t *Table) error {
	routes := map[netip.Prefix]string{}
	eroutes := map[erouteKey]kernelEroute{}
	sas := map[uint64]string{}
	for _, n := range t.Names() {
		c, _ := t.Get(n)
		if c.State.Routed() {
			routes[c.peerClient()] = c.Interface + " " + c.nextHop().String()
		}
		if c.State.Erouted() {
			eroutes[c.erouteKey()] = kernelEroute{conn: n, serial: c.EroutedBy}
		}
		for _, s := range c.SAs {
			sas[s] = n
		}
	}
	for name, want := range map[string][2]any{
		"routes":  {routes, k.routes},
		"eroutes": {eroutes, k.eroutes},
		"SAs":     {sas, k.sas},
	} {
		if !reflect.DeepEqual(want[0], want[1]) {
			return fmt.Errorf("kernel %s %v, table says %v", name, want[1], want[0])
		}
	}
	return nil
}

// TestRandomOperations runs random sequences of calls on connections built to
// collide, carries the actions out on a kernel model, and checks after every
// call that the invariants hold, that the model agrees with the table and
// that a refusal changed nothing.
func TestRandomOperations(t *testing.T) {
	runs, ops := 300, 300
	if testing.Short() {
		runs = 50
	}
	var refused, done int
	kinds := map[ActionKind]int{}
	refusals := map[error]int{}
	for seed := uint64(1); seed <= uint64(runs); seed++ {
		r := rand.New(rand.NewPCG(seed, 0x60))
		var tab Table
		k := newKernel()
		pick := func(xs ...netip.Prefix) netip.Prefix { return xs[r.IntN(len(xs))] }
		var all []Conn
		for i := range 3 + r.IntN(6) {
			c := conn(fmt.Sprintf("c%d", i))
			c.Interface = []string{"eth0", "eth1"}[r.IntN(2)]
			c.Peer = []netip.Addr{peerB, peerC, {}}[r.IntN(3)]
			if !c.Peer.IsValid() && r.IntN(2) == 0 {
				c.Peer = peerB // fewer templates
			}
			c.Instance = c.Peer.IsValid() && r.IntN(3) == 0
			c.NextHop = []netip.Addr{{}, gateway}[r.IntN(2)]
			c.LocalClient = pick(net1, net1b, netip.Prefix{})
			c.PeerClient = pick(net2, net2, netip.MustParsePrefix("10.3.0.0/24"), netip.Prefix{})
			c.ISAKMPOnly = r.IntN(10) == 0
			all = append(all, c)
		}
		add := func(c Conn) {
			if err := tab.Add(c); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			k.conns[c.Name] = c
		}
		for _, c := range all {
			add(c)
		}
		serial := uint64(0)
		for op := range ops {
			c := all[r.IntN(len(all))]
			if _, ok := tab.Get(c.Name); !ok {
				add(c) // a deleted connection comes back
				continue
			}
			var s step
			switch r.IntN(8) {
			case 0:
				s = route(c.Name)
			case 1:
				s = unroute(c.Name)
			case 2, 3:
				serial++
				s = step{op: "install", conn: c.Name, serial: serial, responder: r.IntN(2) == 0}
			case 4, 5:
				cc, _ := tab.Get(c.Name)
				if len(cc.SAs) == 0 {
					s = deleteSA(c.Name, serial+1) // unknown: ignored
				} else {
					s = deleteSA(c.Name, cc.SAs[r.IntN(len(cc.SAs))])
				}
			case 6:
				s = []step{acquire(c.Name), failed(c.Name)}[r.IntN(2)]
			case 7:
				if r.IntN(4) == 0 {
					s = remove(c.Name)
				} else {
					s = route(c.Name)
				}
			}
			before := snapshot(&tab)
			acts, err := s.apply(&tab)
			where := fmt.Sprintf("seed %d op %d %v", seed, op, s)
			if err != nil {
				refused++
				var rerr *Error
				if !errors.As(err, &rerr) {
					t.Fatalf("%s: error %v is not a refusal", where, err)
				}
				refusals[rerr.Kind]++
				if acts != nil {
					t.Fatalf("%s: refused (%v) with actions %v", where, err, acts)
				}
				if after := snapshot(&tab); !reflect.DeepEqual(before, after) {
					t.Fatalf("%s: refused (%v) but changed the table", where, err)
				}
				continue
			}
			done++
			// The daemon's side: it installs the SA the table accepted
			// before the eroute, and deletes the SA it was told about.
			switch s.op {
			case "install":
				k.sas[s.serial] = s.conn
			case "delete":
				if k.sas[s.serial] == s.conn {
					delete(k.sas, s.serial)
				}
			}
			for _, a := range acts {
				if err := k.apply(a); err != nil {
					t.Fatalf("%s: %v\nactions %v", where, err, acts)
				}
				kinds[a.Kind]++
			}
			if s.op == "remove" {
				// The daemon forgets the connection once its routing
				// is undone.
				delete(k.conns, s.conn)
			}
			if err := checkInvariants(&tab); err != nil {
				t.Fatalf("%s: actions %v\n%v", where, acts, err)
			}
			if err := k.agrees(&tab); err != nil {
				t.Fatalf("%s: actions %v\n%v", where, acts, err)
			}
		}
	}
	t.Logf("%d calls carried out, %d refused; actions %v; refusals %v", done, refused, kinds, refusals)
	for k := AddRoute; k <= Initiate; k++ {
		if kinds[k] == 0 {
			t.Errorf("no %v action in any run", k)
		}
	}
	for _, e := range []error{ErrISAKMPOnly, ErrTemplate, ErrRouteInUse, ErrErouteInUse, ErrRouteBusy} {
		if refusals[e] == 0 {
			t.Errorf("no %v refusal in any run", e)
		}
	}
}

func TestStrings(t *testing.T) {
	for s, want := range map[RouteState]string{
		Unrouted: "unrouted", UnroutedHold: "unrouted HOLD", RoutedEclipsed: "eroute eclipsed",
		RoutedProspective: "prospective erouted", RoutedHold: "erouted HOLD", RoutedFailure: "fail erouted",
		RoutedTunnel: "erouted", UnroutedKeyed: "keyed, unrouted", 99: "RouteState(99)",
	} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
	for a, want := range map[Action]string{
		act(AddRoute, "a"): `route "a"`,
		eroute("a", 2):     `eroute "a" #2`,
		{Kind: ReplaceEroute, Conn: "a", Serial: 3, Old: 2}: `replace eroute "a" #3 (outbound from #2)`,
		act(DeleteSAs, "a"): `delete SAs "a"`,
	} {
		if a.String() != want {
			t.Errorf("%q, want %q", a.String(), want)
		}
	}
}

func TestAdd(t *testing.T) {
	var tab Table
	for _, c := range []Conn{
		{},
		conn("x", func(c *Conn) { c.Local = netip.Addr{} }),
		conn("y", instance, template),
	} {
		if err := tab.Add(c); err == nil {
			t.Errorf("Add(%+v) accepted", c)
		}
	}
	c := conn("a")
	c.State, c.WantRoute, c.EroutedBy, c.SAs = RoutedTunnel, true, 7, []uint64{7}
	if err := tab.Add(c); err != nil {
		t.Fatal(err)
	}
	if err := tab.Add(c); err == nil {
		t.Error("Add accepted a duplicate name")
	}
	got, _ := tab.Get("a")
	if got.State != Unrouted || got.WantRoute || got.EroutedBy != 0 || got.SAs != nil {
		t.Errorf("Add kept the table's fields: %+v", got)
	}
	if _, err := tab.InstallSA("a", 0, false); err == nil {
		t.Error("InstallSA accepted serial 0")
	}
	if _, err := tab.InstallSA("a", 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := tab.InstallSA("a", 1, false); err == nil {
		t.Error("InstallSA accepted the same SA twice")
	}
}
