package routing

// The route/eroute rules of the pluto manual (ipsec_pluto(8), seed 001),
// as pure logic. Every rule is implemented where its sentence is quoted.
// The C original is programs/pluto/kernel.c (could_route, trap_connection,
// unroute_connection, install_inbound_ipsec_sa, delete_ipsec_sa) and
// connections.c (route_owner); where the code and the manual differ, the
// manual wins and the comment says so.

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// RouteState is a connection's routing (pluto's enum routing_t). Its
// String is the word whack --status prints.
type RouteState int

const (
	// Unrouted: no route, no eroute (RT_UNROUTED).
	Unrouted RouteState = iota
	// UnroutedHold: no route, a %hold shunt eroute (RT_UNROUTED_HOLD).
	UnroutedHold
	// RoutedEclipsed: routed, but the prospective eroute is eclipsed by a
	// bare %hold or an instance's eroute (RT_ROUTED_ECLIPSED).
	RoutedEclipsed
	// RoutedProspective: routed, and the %trap shunt eroute installed
	// (RT_ROUTED_PROSPECTIVE): traffic caught starts a negotiation.
	RoutedProspective
	// RoutedHold: routed; the trap caught traffic and a negotiation is
	// under way (RT_ROUTED_HOLD).
	RoutedHold
	// RoutedFailure: routed, with the failure shunt eroute
	// (RT_ROUTED_FAILURE).
	RoutedFailure
	// RoutedTunnel: routed, and erouted to an IPsec SA (RT_ROUTED_TUNNEL).
	RoutedTunnel
	// UnroutedKeyed: keyed, but not routed, on purpose (RT_UNROUTED_KEYED).
	UnroutedKeyed
)

var routeStateNames = [...]string{
	Unrouted:          "unrouted",
	UnroutedHold:      "unrouted HOLD",
	RoutedEclipsed:    "eroute eclipsed",
	RoutedProspective: "prospective erouted",
	RoutedHold:        "erouted HOLD",
	RoutedFailure:     "fail erouted",
	RoutedTunnel:      "erouted",
	UnroutedKeyed:     "keyed, unrouted",
}

// String returns pluto's word for the routing ("prospective erouted").
func (s RouteState) String() string {
	if s >= 0 && int(s) < len(routeStateNames) {
		return routeStateNames[s]
	}
	return fmt.Sprintf("RouteState(%d)", int(s))
}

// Routed reports whether the state includes the route to the peer's client.
func (s RouteState) Routed() bool {
	return s >= RoutedEclipsed && s <= RoutedTunnel
}

// Erouted reports whether the state includes an eroute (a shunt or a
// tunnel), as pluto's erouted().
func (s RouteState) Erouted() bool { return s != Unrouted }

// Conn is what the rules need to know of a connection. The daemon fills in
// the description fields before [Table.Add]; State, WantRoute, EroutedBy and
// SAs are the table's, ignored by Add and kept up to date by its methods.
type Conn struct {
	Name string
	// Policy is pluto's policy summary ("PSK+ENCRYPT+TUNNEL+PFS+UP"),
	// quoted by the "cannot route template policy of" refusal.
	Policy string
	// ISAKMPOnly: no --encrypt, --authenticate, --compress nor --pfs, so
	// the connection only ever builds an ISAKMP SA.
	ISAKMPOnly bool
	// Instance: a Road Warrior instance, made by the responder from a %any
	// template with the initiator's address filled in. Peer must be set.
	Instance bool

	// Interface is our interface: the name or address pluto uses for it.
	// Two routes agree only if their interfaces are equal strings.
	Interface string
	// Local is our IKE address; it is our client when LocalClient is unset.
	Local netip.Addr
	// Peer is the peer's IKE address; unset for a %any template (Road
	// Warrior). It is the peer's client when PeerClient is unset.
	Peer netip.Addr
	// NextHop is the gateway towards the peer; unset means %direct, and
	// then the nexthop is the peer itself (as pluto fills it in).
	NextHop netip.Addr
	// LocalClient and PeerClient are the client subnets; unset means the
	// host itself has no client behind it (its address, /32 or /128).
	LocalClient, PeerClient netip.Prefix
	// Proto, LocalPort and PeerPort narrow the clients (--clientprotoport);
	// zero is any. They are part of an eroute, not of a route.
	Proto               uint8
	LocalPort, PeerPort uint16

	// State is the connection's routing.
	State RouteState
	// WantRoute: whack --route routed the connection, so it stays routed
	// (with its %trap) when it has no SA, until whack --unroute.
	// Otherwise it is routed only while an IPsec SA needs it.
	WantRoute bool
	// EroutedBy is the serial of the IPsec SA (state object) the eroute
	// sends through, 0 if none (pluto's eroute_owner).
	EroutedBy uint64
	// SAs are the serials of the installed IPsec SAs instantiating the
	// connection, oldest first.
	SAs []uint64
}

// HasIPsecSA reports whether some installed IPsec SA instantiates c.
func (c *Conn) HasIPsecSA() bool { return len(c.SAs) > 0 }

// Template reports whether c is a %any template: no peer address, so it
// only serves to make instances and can be neither routed nor initiated.
func (c *Conn) Template() bool { return !c.Instance && !c.Peer.IsValid() }

// nextHop is the gateway the route goes through: NextHop, or the peer for
// %direct.
func (c *Conn) nextHop() netip.Addr {
	if c.NextHop.IsValid() {
		return c.NextHop
	}
	return c.Peer
}

func hostOrClient(client netip.Prefix, host netip.Addr) netip.Prefix {
	if client.IsValid() {
		return client.Masked()
	}
	if !host.IsValid() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(host, host.BitLen())
}

// peerClient is the destination of the route: the peer's client subnet, or
// the peer itself.
func (c *Conn) peerClient() netip.Prefix { return hostOrClient(c.PeerClient, c.Peer) }

func (c *Conn) localClient() netip.Prefix { return hostOrClient(c.LocalClient, c.Local) }

// erouteKey is what identifies an eroute: both clients (with protocol and
// ports).
type erouteKey struct {
	local, peer         netip.Prefix
	proto               uint8
	localPort, peerPort uint16
}

func (c *Conn) erouteKey() erouteKey {
	return erouteKey{c.localClient(), c.peerClient(), c.Proto, c.LocalPort, c.PeerPort}
}

// routesConflict: "Two connections may not be simultaneously routed if they
// are for the same peer's client subnet but use different interfaces or
// gateways (pluto's logic does not reflect any advanced routing
// capabilities)." The local clients do not count for routes.
func routesConflict(c, d *Conn) bool {
	return c.peerClient() == d.peerClient() &&
		(c.Interface != d.Interface || c.nextHop() != d.nextHop())
}

// sameRoute: the two connections need the very route (same destination,
// and they agree on interface and nexthop), so they share it.
func sameRoute(c, d *Conn) bool {
	return c.peerClient() == d.peerClient() && !routesConflict(c, d)
}

// erouteConflict: "Two eroutes conflict if they specify the identical local
// and remote clients (unlike for routes, the local clients are taken into
// account)."
func erouteConflict(c, d *Conn) bool { return c.erouteKey() == d.erouteKey() }

// ActionKind says what an [Action] asks the daemon to do.
type ActionKind int

const (
	// AddRoute: set up the route to Conn's peer client through its
	// interface and nexthop (updown "route"). Only asked for when no
	// other routed connection already has that route.
	AddRoute ActionKind = iota + 1
	// DeleteRoute: take down the route to Conn's peer client (updown
	// "unroute"). Only asked for when no other routed connection shares it.
	DeleteRoute
	// InstallTrap: set Conn's eroute to the %trap shunt, adding it or
	// replacing Conn's current eroute. Outbound traffic it catches is
	// reported back to [Table.Acquire].
	InstallTrap
	// InstallEroute: set Conn's eroute to send through the IPsec SA #Serial,
	// adding it or replacing Conn's shunt eroute.
	InstallEroute
	// ReplaceEroute: move Conn's outbound traffic from the SA #Old to the
	// new SA #Serial (rekeying). #Old stays installed and its inbound
	// traffic is still processed until it is deleted.
	ReplaceEroute
	// DeleteEroute: delete Conn's eroute, shunt or tunnel.
	DeleteEroute
	// DeleteSAs: delete the SAs of Conn, as pluto's release_connection
	// does (delete_states_by_connection: its IPsec SAs, and its ISAKMP SAs
	// and negotiations too). Log is the line pluto logs.
	DeleteSAs
	// DeleteConn: delete the connection Conn: a Road Warrior instance whose
	// SAs were deleted (pluto deletes instances with their SAs). The Table
	// has already forgotten it.
	DeleteConn
	// Initiate: negotiate an IPsec SA for Conn (the %trap caught traffic).
	Initiate
)

var actionKindNames = [...]string{
	AddRoute:      "route",
	DeleteRoute:   "unroute",
	InstallTrap:   "trap",
	InstallEroute: "eroute",
	ReplaceEroute: "replace eroute",
	DeleteEroute:  "delete eroute",
	DeleteSAs:     "delete SAs",
	DeleteConn:    "delete connection",
	Initiate:      "initiate",
}

func (k ActionKind) String() string {
	if k > 0 && int(k) < len(actionKindNames) {
		return actionKindNames[k]
	}
	return fmt.Sprintf("ActionKind(%d)", int(k))
}

// Action is one step for the daemon. The actions a call returns are to be
// carried out in order.
type Action struct {
	Kind ActionKind
	Conn string // the connection it applies to
	// Serial is the SA now carrying Conn's outbound traffic
	// (InstallEroute, ReplaceEroute).
	Serial uint64
	// Old is the superseded SA whose outbound traffic moves (ReplaceEroute).
	Old uint64
	// Log, when not empty, is the line pluto logs for the action.
	Log string
}

func (a Action) String() string {
	s := fmt.Sprintf("%s %q", a.Kind, a.Conn)
	switch a.Kind {
	case InstallEroute:
		s += fmt.Sprintf(" #%d", a.Serial)
	case ReplaceEroute:
		s += fmt.Sprintf(" #%d (outbound from #%d)", a.Serial, a.Old)
	}
	return s
}

// Refusal kinds. An [*Error] wraps one of them, so errors.Is tells them
// apart without comparing text.
var (
	ErrUnknownConn = errors.New("routing: no such connection")
	ErrISAKMPOnly  = errors.New("routing: ISAKMP-only connection")
	ErrTemplate    = errors.New("routing: template connection")
	ErrRouteInUse  = errors.New("routing: route in use by another connection")
	ErrErouteInUse = errors.New("routing: eroute in use by another connection")
	ErrRouteBusy   = errors.New("routing: an IPsec SA uses the connection")
)

// Error is a refusal: Text is pluto's line for it, which the daemon logs
// and sends to whack unchanged (the whack code is RC_ROUTE for ErrISAKMPOnly
// and ErrTemplate, RC_LOG_SERIOUS for ErrRouteInUse and
// ErrErouteInUse, RC_RTBUSY for ErrRouteBusy). Kind is the refusal kind.
type Error struct {
	Kind error
	Conn string
	Text string
}

func (e *Error) Error() string { return e.Text }
func (e *Error) Unwrap() error { return e.Kind }

func refuse(kind error, c *Conn, format string, args ...any) *Error {
	return &Error{Kind: kind, Conn: c.Name, Text: fmt.Sprintf(format, args...)}
}

// Table is the connections the rules look at, by name. The zero Table is
// empty and ready to use. It is not safe for concurrent use.
type Table struct {
	conns map[string]*Conn
	// list holds the same connections: the conflict checks look at every
	// connection for each SA installed, and a slice is several times
	// faster to walk than a map (10,000 connections: TestScale in pluto).
	list []*Conn
}

// remove takes the named connection out of the table.
func (t *Table) remove(name string) {
	if c := t.conns[name]; c != nil {
		delete(t.conns, name)
		t.list = slices.DeleteFunc(t.list, func(d *Conn) bool { return d == c })
	}
}

// Add adds a connection. Its State, WantRoute, EroutedBy and SAs are
// ignored: a new connection is unrouted and has no SA.
func (t *Table) Add(c Conn) error {
	switch {
	case c.Name == "":
		return errors.New("routing: connection without a name")
	case t.conns[c.Name] != nil:
		return fmt.Errorf("routing: connection %q already in the table", c.Name)
	case !c.Local.IsValid():
		return fmt.Errorf("routing: connection %q: our address is unknown", c.Name)
	case c.Instance && !c.Peer.IsValid():
		return fmt.Errorf("routing: instance %q without a peer address", c.Name)
	}
	c.State, c.WantRoute, c.EroutedBy, c.SAs = Unrouted, false, 0, nil
	if t.conns == nil {
		t.conns = map[string]*Conn{}
	}
	t.conns[c.Name] = &c
	t.list = append(t.list, &c)
	return nil
}

// Get returns a copy of the named connection.
func (t *Table) Get(name string) (Conn, bool) {
	c := t.conns[name]
	if c == nil {
		return Conn{}, false
	}
	cc := *c
	cc.SAs = slices.Clone(c.SAs)
	return cc, true
}

// Names returns the connections' names, sorted.
func (t *Table) Names() []string { return slices.Sorted(maps.Keys(t.conns)) }

func (t *Table) lookup(name string) (*Conn, error) {
	c := t.conns[name]
	if c == nil {
		return nil, &Error{Kind: ErrUnknownConn, Conn: name, Text: fmt.Sprintf("no connection named %q", name)}
	}
	return c, nil
}

// others returns the connections other than c for which keep is true, in
// name order (so that the actions come out in a stable order). Like
// pluto's route_owner, it looks at every connection.
func (t *Table) others(c *Conn, keep func(d *Conn) bool) []*Conn {
	var out []*Conn
	for _, d := range t.list {
		if d != c && keep(d) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *Conn) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// routeShared reports whether a routed connection other than c still
// needs c's route.
func (t *Table) routeShared(c *Conn) bool {
	for _, d := range t.list {
		if d != c && d.State.Routed() && sameRoute(c, d) {
			return true
		}
	}
	return false
}

// couldRoute is the first part of pluto's could_route: connections that
// can never be routed.
func couldRoute(c *Conn) error {
	// "If none of the --encrypt, --authenticate, --compress, or --pfs flags
	// is given, the initiating the connection will only build an ISAKMP
	// SA. For such a connection, client subnets have no meaning".
	if c.ISAKMPOnly {
		return refuse(ErrISAKMPOnly, c, "cannot route an ISAKMP-only connection")
	}
	// Road Warrior templates: "they cannot be used to initiate"; only the
	// instances made from them are routed. (Pluto's other refusal, "cannot
	// route connection without knowing our nexthop", cannot happen here:
	// without a template, the peer is known and %direct is the peer.)
	if c.Template() {
		return refuse(ErrTemplate, c, "cannot route template policy of %s", c.Policy)
	}
	return nil
}

// victim is a routed connection whose conflicting route must go for c's.
type victim struct {
	d       *Conn
	release bool // it has IPsec SAs, deleted by the responder exception
}

// routeConflicts finds the routes that must be taken down before c can be
// routed, or refuses.
func (t *Table) routeConflicts(c *Conn, responder bool) ([]victim, error) {
	var vs []victim
	routed := func(d *Conn) bool { return d.State.Routed() && routesConflict(c, d) }
	for _, d := range t.others(c, routed) {
		// "When pluto needs to install a route for a connection, it must
		// make sure that no conflicting route is in use. If another
		// connection has a conflicting route, that route will be taken
		// down, as long as there is no IPsec SA instantiating that
		// connection."
		if !d.HasIPsecSA() {
			vs = append(vs, victim{d: d})
			continue
		}
		// "There is an exception. If pluto, as Responder, needs to install
		// a route to a fixed client subnet for a connection, and there is
		// already a conflicting route, then the SAs using the route are
		// deleted to make room for the new SAs. The rationale is that the
		// new connection is probably more current."
		// A fixed client subnet is a peer client given as a subnet (pluto's
		// that.has_client), not the peer host itself.
		if responder && c.PeerClient.IsValid() {
			vs = append(vs, victim{d: d, release: true})
			continue
		}
		// "If there is such an IPsec SA, the attempt to install a route
		// will fail." (whack --route: "or if there is, it must not be
		// being used by an IPsec SA. Otherwise the attempt will fail.")
		return nil, refuse(ErrRouteInUse, c, "cannot route -- route already in use for %q", d.Name)
	}
	return vs, nil
}

// checkEroute refuses if a connection other than c, and not about to be
// taken down, has an eroute that conflicts with c's.
func (t *Table) checkEroute(c *Conn, vs []victim) error {
	// "If a conflicting eroute is already in place for another connection,
	// the eroute and SA will not be installed". A %trap shunt is an eroute
	// too (the kernel cannot hold two for the same clients), reported as
	// #0 like pluto's could_route does.
	erouted := func(d *Conn) bool {
		return d.State.Erouted() && erouteConflict(c, d) &&
			!slices.ContainsFunc(vs, func(v victim) bool { return v.d == d })
	}
	if ds := t.others(c, erouted); len(ds) > 0 {
		d := ds[0]
		return refuse(ErrErouteInUse, c, "cannot install eroute -- it is in use for %q #%d", d.Name, d.EroutedBy)
	}
	return nil
}

// takeDown unroutes the victims (deleting the SAs of those released), then
// routes c. c must not be routed.
func (t *Table) takeDown(c *Conn, vs []victim) []Action {
	var acts []Action
	var deleted []string
	for _, v := range vs {
		d := v.d
		if d.State.Erouted() {
			acts = append(acts, Action{Kind: DeleteEroute, Conn: d.Name})
		}
		if v.release {
			acts = append(acts, Action{Kind: DeleteSAs, Conn: d.Name,
				Log: fmt.Sprintf("route to peer's client conflicts with %q %s; releasing old connection to free the route", d.Name, d.Peer)})
			d.SAs, d.EroutedBy = nil, 0
		}
		d.State, d.WantRoute = Unrouted, false
		if !t.routeShared(d) {
			acts = append(acts, Action{Kind: DeleteRoute, Conn: d.Name})
		}
		if v.release && d.Instance {
			deleted = append(deleted, d.Name)
		}
	}
	// Pluto deletes an instance whose SAs it released (delete_connection).
	for _, name := range deleted {
		t.remove(name)
		acts = append(acts, Action{Kind: DeleteConn, Conn: name})
	}
	if !t.routeShared(c) {
		acts = append(acts, Action{Kind: AddRoute, Conn: c.Name})
	}
	return acts
}

// Route is whack --route: "The route form of the whack command tells pluto
// to set up routing for a connection. [...] Once routing is set up, no
// packets will be sent “in the clear” to the peer's client specified in
// the connection. A TRAP shunt eroute will be installed; if outbound
// traffic is caught, Pluto will initiate the connection."
//
// A connection already routed is left as it is (an established one keeps
// its tunnel eroute), but now stays routed after its SAs. Otherwise
// conflicting routes not used by an IPsec SA are taken down, and the route
// and the %trap eroute are installed.
func (t *Table) Route(name string) ([]Action, error) {
	c, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	if err := couldRoute(c); err != nil {
		return nil, err
	}
	if c.State.Routed() {
		c.WantRoute = true
		return nil, nil
	}
	// "When a routing is attempted for a connection, there must not
	// already be a routing for a different connection with the same subnet
	// but different interface or destination, or if there is, it must not
	// be being used by an IPsec SA. Otherwise the attempt will fail."
	vs, err := t.routeConflicts(c, false)
	if err != nil {
		return nil, err
	}
	if err := t.checkEroute(c, vs); err != nil {
		return nil, err
	}
	acts := t.takeDown(c, vs)
	acts = append(acts, Action{Kind: InstallTrap, Conn: c.Name})
	c.State, c.WantRoute = RoutedProspective, true
	return acts, nil
}

// Unroute is whack --unroute: "The unroute form of the whack command tells
// pluto to undo a routing. pluto will refuse if an IPsec SA is using the
// connection. If another connection is sharing the same routing, it will be
// left in place. Without a routing, packets will be sent without encryption
// or authentication."
func (t *Table) Unroute(name string) ([]Action, error) {
	c, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	if c.HasIPsecSA() {
		return nil, refuse(ErrRouteBusy, c, "cannot unroute: route busy")
	}
	return t.unroute(c), nil
}

// unroute is pluto's unroute_connection: delete the eroute, and the route
// unless another connection shares it.
func (t *Table) unroute(c *Conn) []Action {
	var acts []Action
	was := c.State
	if was.Erouted() {
		acts = append(acts, Action{Kind: DeleteEroute, Conn: c.Name})
	}
	// Now, so that routeShared does not count c.
	c.State, c.WantRoute = Unrouted, false
	if was.Routed() && !t.routeShared(c) {
		acts = append(acts, Action{Kind: DeleteRoute, Conn: c.Name})
	}
	return acts
}

// Remove forgets a connection (whack --delete): "The delete form deletes a
// named connection description and any SAs established or negotiations
// initiated using this connection. Any routing in place for the connection
// is undone." The actions undo its eroute, its SAs (if the table still
// knows of some) and its route unless shared.
func (t *Table) Remove(name string) []Action {
	c := t.conns[name]
	if c == nil {
		return nil
	}
	var acts []Action
	if c.State.Erouted() {
		acts = append(acts, Action{Kind: DeleteEroute, Conn: c.Name})
	}
	if c.HasIPsecSA() {
		acts = append(acts, Action{Kind: DeleteSAs, Conn: c.Name})
	}
	was := c.State
	t.remove(name)
	if was.Routed() && !t.routeShared(c) {
		acts = append(acts, Action{Kind: DeleteRoute, Conn: c.Name})
	}
	return acts
}

// InstallSA is asked before the IPsec SA #serial of the named connection is
// installed; responder says whether pluto was the Quick Mode responder. On
// success the daemon installs the SA and carries out the actions; on a
// refusal neither the eroute nor the SA is installed.
//
// "When pluto needs to install an eroute for an IPsec SA (for a state
// object), first the state object's connection must be routed (if this
// cannot be done, the eroute and SA will not be installed)." and "An
// explicit whack route is not always needed: if it hasn't been done when an
// IPsec SA is being installed, one will be automatically attempted."
func (t *Table) InstallSA(name string, serial uint64, responder bool) ([]Action, error) {
	c, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	if serial == 0 {
		return nil, fmt.Errorf("routing: %q: IPsec SA without a serial number", name)
	}
	if slices.Contains(c.SAs, serial) {
		return nil, fmt.Errorf("routing: %q #%d: IPsec SA already installed", name, serial)
	}
	// "Each connection may be routed, and must be while it has an IPsec SA."
	if err := couldRoute(c); err != nil {
		return nil, err
	}
	var vs []victim
	if !c.State.Routed() {
		// Pluto's comment: "if this connection is already routed (perhaps
		// for another state object), the route will agree. This is as it
		// should be -- it will arise during rekeying." So conflicts are
		// only looked for when the route is to be installed.
		if vs, err = t.routeConflicts(c, responder); err != nil {
			return nil, err
		}
	}
	// "(but note that the routing exception mentioned above may have
	// already deleted potentially conflicting SAs)": the victims' eroutes
	// are not in the way. Every check is done before anything changes, so
	// a refusal deletes nothing.
	if err := t.checkEroute(c, vs); err != nil {
		return nil, err
	}
	var acts []Action
	if !c.State.Routed() {
		acts = t.takeDown(c, vs)
	}
	if c.EroutedBy != 0 {
		// "If another IPsec SA for the same connection already has an
		// eroute, all its outgoing traffic is taken over by the new
		// eroute. The incoming traffic will still be processed. This
		// characteristic is exploited during rekeying."
		acts = append(acts, Action{Kind: ReplaceEroute, Conn: c.Name, Serial: serial, Old: c.EroutedBy})
	} else {
		// "Each eroute is associated with the state object for an IPsec SA
		// because it has the particular characteristics of the SA." It
		// replaces the %trap or %hold shunt, if any.
		acts = append(acts, Action{Kind: InstallEroute, Conn: c.Name, Serial: serial})
	}
	c.SAs = append(c.SAs, serial)
	c.EroutedBy = serial
	c.State = RoutedTunnel
	return acts, nil
}

// DeleteSA is told that the IPsec SA #serial of the named connection is
// being deleted (expired, replaced, terminated or deleted by the peer).
// Unknown connections and SAs are ignored: the table may already have
// released them.
//
// Deleting an older SA changes nothing while a newer one remains: the
// eroute already sends through it. When the SA the eroute sends through
// goes, the connection goes back to its %trap eroute: "Once a new set of
// SAs has been negotiated, pluto will never send traffic on a superseded
// one", so the eroute does not fall back to an older SA still receiving;
// traffic starts a new negotiation instead. The connection stays routed as
// long as an SA remains ("must be while it has an IPsec SA").
//
// When the last SA goes, a connection routed by whack --route stays routed
// with its %trap ("Once routing is set up, no packets will be sent in the
// clear to the peer's client"), and one that was routed only for its SAs
// is unrouted: the automatic unrouting whose absence the manual regrets for
// Road Warriors ("Unfortunately, there is no mechanism to unroute the
// connection automatically"); otherwise the trap would keep trying to reach
// a Road Warrior that has left.
func (t *Table) DeleteSA(name string, serial uint64) []Action {
	c := t.conns[name]
	if c == nil {
		return nil
	}
	i := slices.Index(c.SAs, serial)
	if i < 0 {
		return nil
	}
	c.SAs = slices.Delete(c.SAs, i, i+1)
	if !c.HasIPsecSA() && !c.WantRoute {
		c.EroutedBy = 0
		return t.unroute(c)
	}
	if c.EroutedBy != serial {
		return nil
	}
	c.EroutedBy = 0
	c.State = RoutedProspective
	return []Action{{Kind: InstallTrap, Conn: c.Name}}
}

// Acquire is told that the named connection's %trap eroute caught outbound
// traffic: "if outbound traffic is caught, Pluto will initiate the
// connection". The connection becomes RoutedHold until an SA is installed
// or [Table.NegotiationFailed]; further traffic caught meanwhile starts
// nothing. The kernel keeps the caught packets (the %hold) itself.
func (t *Table) Acquire(name string) []Action {
	c := t.conns[name]
	if c == nil || c.State != RoutedProspective {
		return nil
	}
	c.State = RoutedHold
	return []Action{{Kind: Initiate, Conn: c.Name}}
}

// NegotiationFailed is told that the negotiation [Table.Acquire] started
// gave up: the connection is back to its %trap, still installed, so the
// next traffic caught tries again.
func (t *Table) NegotiationFailed(name string) []Action {
	if c := t.conns[name]; c != nil && c.State == RoutedHold {
		c.State = RoutedProspective
	}
	return nil
}
