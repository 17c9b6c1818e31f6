// Package routing is pluto's view of the kernel's packet paths: which
// connections are routed, which eroutes (outbound IPsec policies) exist and
// which IPsec SA each eroute sends through.
//
// It has two halves.
//
// # The route and eroute rules (rules.go)
//
// The pluto manual (ipsec_pluto(8), "route" and "eroute" paragraphs) lays
// down when a connection may be routed and when an eroute may be installed.
// [Table] implements those rules as pure logic: it holds what the rules need
// to know of each connection ([Conn]), and each event — whack --route and
// --unroute ([Table.Route], [Table.Unroute]), an IPsec SA to install or
// delete ([Table.InstallSA], [Table.DeleteSA]), traffic caught by a %trap
// eroute ([Table.Acquire]), a connection deleted ([Table.Remove]) — either
// is refused with pluto's own words (an [*Error]) or returns the actions
// ([Action]) the daemon must carry out, in order, against the kernel and its
// state objects. The table opens no sockets, runs no commands and reads no
// clock, and a refusal leaves it exactly as it was.
//
// In short (each rule is quoted from the manual where it is implemented):
//
//   - a connection must be routed while it has an IPsec SA; if it is not
//     when an SA is installed, routing it is attempted first;
//   - two connections for the same peer client subnet with a different
//     interface or nexthop conflict; connections that agree share the route,
//     and unrouting one leaves the shared route in place;
//   - a conflicting route is taken down, unless an IPsec SA uses it: then
//     routing fails — except for a responder routing a fixed peer client
//     subnet (the Road Warrior case), which deletes the old SAs to make room;
//   - eroutes conflict only when both the local and the peer client are
//     identical; a new SA of the same connection takes over the outbound
//     traffic of the older one, whose inbound half keeps working (rekeying);
//   - whack --route installs a %trap eroute that starts a negotiation when
//     traffic is caught ([Table.Acquire], [Table.NegotiationFailed]);
//     --unroute is refused while an IPsec SA uses the connection;
//   - when the SA an eroute sends through goes, the connection falls back to
//     its %trap, never to a superseded SA; with its last SA, a connection
//     routed by whack --route stays routed, one routed only for its SAs is
//     unrouted.
//
// A [RouteState] names a connection's routing with pluto's words
// ("unrouted", "prospective erouted", "erouted", ...), as whack --status
// shows them.
//
// # The kernel backends (kernel*.go, xfrm*.go, updown.go)
//
// The Kernel interface is what the daemon calls to carry the actions out:
// the nostack backend (--use-nostack) records SAs and installs nothing,
// the XFRM backend (--use-netkey) programs Linux XFRM states and policies
// (the eroutes) over netlink, ESP or AH with IPComp (DEFLATE) when it was
// negotiated: the IPComp SA carries the tunnel and ESP runs in transport
// mode inside it, the policies' templates are IPComp (optional inbound)
// then ESP, as strongSwan and libreswan install them. SPIs and CPIs come
// from XFRM_MSG_ALLOCSPI. An Install either completes or leaves nothing
// of itself behind. They live in kernel*.go and xfrm*.go; the
// updown script that pluto runs at each routing event is in updown.go.
//
// A Table is not safe for concurrent use: one goroutine owns it, as one
// goroutine owns the kernel's global state.
package routing
