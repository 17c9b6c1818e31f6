package pluto

// The daemon's side of the kernel (package routing): choosing the backend
// (--use-nostack, --use-netkey, --use-auto), the fsm.Env methods that reach
// it (AllocSPI, Install, Delete), whack --route/--unroute, and the updown
// script run at each of those events.
//
// Which connection may be routed and erouted when is decided by the
// manual's route/eroute rules, kept in a routing.Table (kg.table): one
// routing.Conn per oriented connection and Road Warrior instance, named by
// connKey. Every routing event asks the table first; a refusal goes to the
// log and to whack in pluto's words, and changes nothing; otherwise the
// table's actions are carried out in order (rtDo): the kernel's trap
// policies, the updown script's route and unroute, and the state objects
// of a conflicting connection (released) or of a trap that caught traffic
// (initiated).

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"goswan/fsm"
	"goswan/routing"
	"goswan/spec"
	"goswan/whack"
)

// kernelGlue is the daemon's bookkeeping around the kernel; the event loop
// owns it.
type kernelGlue struct {
	reqids routing.ReqIDs
	// table holds the route/eroute rules' view of the connections.
	table    routing.Table
	up       map[upKey]bool // SA pairs whose up-* has run
	watching bool           // ACQUIREs are reported
	// gaveUp names the connections, waiting for an on-demand negotiation
	// (RoutedHold), of which a negotiation failed during this event.
	gaveUp map[string]bool
}

type upKey struct {
	conn  string
	local netip.Addr
	spi   uint32
}

func (g *kernelGlue) init() {
	if g.up == nil {
		g.up = map[upKey]bool{}
	}
}

// chooseKernel opens the backend the options ask for. warning, when set,
// is for the log once it is open.
func chooseKernel(netkey, auto bool) (k routing.Kernel, warning string, err error) {
	switch {
	case netkey:
		x, err := routing.NewXFRM()
		if err != nil {
			return nil, "", fmt.Errorf("--use-netkey: %v", err)
		}
		if err := x.ProbeESP(); err != nil {
			warning = fmt.Sprintf("kernel: %v; ESP SAs cannot be installed", err)
		}
		return x, warning, nil
	case auto:
		err := routing.Probe()
		if err == nil {
			var x *routing.XFRM
			if x, err = routing.NewXFRM(); err == nil {
				return x, "", nil
			}
		}
		return routing.NewNoStack(), fmt.Sprintf("kernel: %v; using nostack (--use-auto)", err), nil
	}
	return routing.NewNoStack(), "", nil
}

// handlePacket gives a packet to the machine.
func (d *Daemon) handlePacket(e packetEvent) {
	d.m.HandlePacket(d.cfg.Now(), e.b, e.from, e.to)
}

// initiateConn starts a negotiation of c.
func (d *Daemon) initiateConn(c *Connection, whack any) {
	d.m.Initiate(d.cfg.Now(), &c.Conn, whack)
}

// AllocSPI implements fsm.Env: an SPI we receive on from the peer (src)
// to us (dst), allocated by the kernel where it can.
func (d *Daemon) AllocSPI(proto spec.ProtocolID, src, dst netip.Addr) []byte {
	return d.kernel.AllocSPI(proto, src, dst)
}

// connKey names a connection for the kernel glue and the routing table: a
// Road Warrior instance ("rw"[1] 192.0.2.7) apart from its template and
// the other instances, each with its own reqid (as Openswan's instantiate).
func connKey(fc *fsm.Conn) string {
	if fc == nil {
		return ""
	}
	return fc.Name + fc.Instance
}

// connByKey finds the connection or instance connKey names.
func (d *Daemon) connByKey(name string) *Connection {
	if c := d.conns[name]; c != nil && c.Conn.Instance == "" {
		return c
	}
	return d.instByKey[name]
}

// connOfState is the connection (or Road Warrior instance) st instantiates.
func (d *Daemon) connOfState(st *fsm.State) *Connection {
	if st.Conn == nil {
		return nil
	}
	if st.Conn.Instance == "" {
		return d.conns[st.Conn.Name]
	}
	return d.instByKey[connKey(st.Conn)]
}

// routingConn describes c to the route/eroute rules.
func (d *Daemon) routingConn(c *Connection) routing.Conn {
	fc := &c.Conn
	local := fc.Local.Addr().Unmap()
	rc := routing.Conn{Name: connKey(fc), Policy: c.PolicyString(), ISAKMPOnly: !fc.IPsec, Instance: c.Template != "",
		Interface: d.interfaceOf(local), Local: local, Peer: fc.Remote.Addr().Unmap(),
		LocalClient: fc.LocalNet.Net, PeerClient: fc.RemoteNet.Net,
		Proto: fc.LocalNet.Proto, LocalPort: fc.LocalNet.Port, PeerPort: fc.RemoteNet.Port}
	if rc.Interface == "" {
		rc.Interface = local.String()
	}
	if rc.Proto == 0 {
		rc.Proto = fc.RemoteNet.Proto
	}
	if a, err := netip.ParseAddr(c.This.NextHop); err == nil && !a.IsUnspecified() { // 0.0.0.0 is %direct
		rc.NextHop = a.Unmap()
	}
	return rc
}

// rtSync makes sure the routing table knows c (an oriented connection or
// an instance); it returns c's name there and false when c cannot be in
// it (not oriented). Connections are added when whack adds them, instances
// when they are made, and one oriented later (whack --listen) on first use.
func (d *Daemon) rtSync(c *Connection) (string, bool) {
	name := connKey(&c.Conn)
	if !c.Oriented {
		return name, false
	}
	if _, ok := d.kg.table.Get(name); ok {
		return name, true
	}
	if err := d.kg.table.Add(d.routingConn(c)); err != nil {
		d.log.Logf("%q: %v", c.Name, err)
		return name, false
	}
	return name, true
}

// kdebug logs a debugging line about routing and the kernel (--debug-klips
// or --debug-control).
func (d *Daemon) kdebug(format string, a ...any) {
	if d.cfg.Debug&(DebugKlips|DebugControl) != 0 {
		d.log.Debugf(format, a...)
	}
}

// rtMirror copies the table's routing of the named connection to its
// Connection.Routed.
func (d *Daemon) rtMirror(name string) {
	if c := d.connByKey(name); c != nil {
		rc, _ := d.kg.table.Get(name)
		c.Routed = rc.State.Routed()
	}
}

// rtCtx is what the table's actions are carried out for: the connection
// cur, with st and p the state and the kernel's view of the SA being
// installed or deleted for it (the updown script is told about them), and
// w the whack that asked.
type rtCtx struct {
	cur string
	st  *fsm.State
	p   *routing.KernelPolicy
	w   *whackConn
}

// rtDo carries out the table's actions in order. An action that fails is
// logged (and reported to the whack concerned); the error of a trap that
// cannot be installed is returned, after the remaining actions.
func (d *Daemon) rtDo(acts []routing.Action, x rtCtx) error {
	var trapErr error
	for _, a := range acts {
		c := d.connByKey(a.Conn)
		if c == nil {
			d.kdebug("routing: %s: no such connection", a)
			continue
		}
		st, p := x.st, x.p
		if a.Conn != x.cur || p == nil {
			st, p = nil, d.connPolicy(c)
		}
		d.kdebug("routing: %s", a)
		switch a.Kind {
		case routing.AddRoute:
			d.updown(c, st, p, routing.VerbPrepare, x.w)
			d.updown(c, st, p, routing.VerbRoute, x.w)
		case routing.DeleteRoute:
			d.updown(c, st, p, routing.VerbUnroute, x.w)
		case routing.InstallTrap:
			if err := d.kernel.Route(d.connPolicy(c)); err != nil {
				d.kernelLog(c, nil, x.w, whack.RCRoute, err.Error())
				trapErr = err
				continue
			}
			d.watchAcquire()
		case routing.InstallEroute, routing.ReplaceEroute:
			// The kernel's Install of the SA pair puts (or moves) the
			// outbound policy itself.
		case routing.DeleteEroute:
			if err := d.kernel.Unroute(d.connPolicy(c)); err != nil {
				d.kernelLog(c, nil, x.w, whack.RCLogSerious, err.Error())
			}
		case routing.DeleteSAs:
			if a.Log != "" {
				if cc := d.connByKey(x.cur); cc != nil {
					d.kernelLog(cc, x.st, x.w, whack.RCLogSerious, a.Log)
				} else {
					d.log.Logf("%s", a.Log)
				}
			}
			d.releaseStates(a.Conn, x.st)
		case routing.DeleteConn:
			for k, inst := range d.instances {
				if inst == c {
					d.dropInstance(k)
				}
			}
			d.kg.reqids.Release(a.Conn)
			d.log.Logf("%q%s: deleting Road Warrior instance", c.Name, c.Conn.Instance)
			continue
		case routing.Initiate:
			d.initiateConn(c, nil)
		}
		d.rtMirror(a.Conn)
	}
	return trapErr
}

// releaseStates deletes the states of the named connection, IPsec SAs
// first, telling the peer (pluto's release_connection). except (the state
// being installed) and its ISAKMP SA are spared.
func (d *Daemon) releaseStates(name string, except *fsm.State) {
	now := d.cfg.Now()
	for _, quick := range []bool{true, false} {
		for _, st := range d.m.States() {
			if st == except || except != nil && st == except.Parent {
				continue
			}
			if st.Conn != nil && connKey(st.Conn) == name && st.Kind.IsQuick() == quick {
				d.m.DeleteState(now, st.Serial)
			}
		}
	}
}

// kernelSA is the kernel's view of the pair st negotiated.
func (d *Daemon) kernelSA(st *fsm.State, sa *fsm.IPsecSA) (*routing.KernelSA, error) {
	name := connKey(st.Conn)
	return routing.NewKernelSA(sa, name, d.kg.reqids.Get(name), st.P2.AH)
}

// Install implements fsm.Env. The routing table is asked first (the first
// time for this SA: a responder asks when it installs the inbound half):
// the connection must be routed, which may take down another's route or,
// for a responder, release another's SAs; a conflicting route or eroute
// in use makes the install fail with nothing installed. Then the pair goes
// into the kernel, and once it is complete the updown script runs up
// (prepare and route ran with the table's route).
func (d *Daemon) Install(st *fsm.State, sa *fsm.IPsecSA, inboundOnly bool) error {
	d.kg.init()
	ksa, err := d.kernelSA(st, sa)
	if err != nil {
		return err
	}
	c := d.connOfState(st)
	if c == nil {
		return fmt.Errorf("connection %q is gone", ksa.Conn)
	}
	name, ok := d.rtSync(c)
	if !ok {
		return fmt.Errorf("connection %q is not in the routing table", ksa.Conn)
	}
	x := rtCtx{cur: name, st: st, p: &ksa.KernelPolicy}
	added := false
	if rc, _ := d.kg.table.Get(name); !slices.Contains(rc.SAs, st.Serial) {
		acts, err := d.kg.table.InstallSA(name, st.Serial, !st.Initiator)
		if err != nil {
			return err
		}
		added = true
		d.rtDo(acts, x)
	}
	if err := d.kernel.Install(ksa, inboundOnly); err != nil {
		if added {
			d.rtDo(d.kg.table.DeleteSA(name, st.Serial), x)
		}
		return err
	}
	key := upKey{ksa.Conn, ksa.Local, ksa.InboundSPI}
	if inboundOnly || d.kg.up[key] {
		return nil
	}
	d.kg.up[key] = true
	d.updown(c, st, &ksa.KernelPolicy, routing.VerbUp, nil)
	return nil
}

// Delete implements fsm.Env: down, the pair out of the kernel (what there
// is of it), then what the routing table says: back to the trap for a
// connection routed by whack --route, otherwise unrouted (and unroute run)
// with its last SA.
func (d *Daemon) Delete(st *fsm.State, sa *fsm.IPsecSA) {
	d.kg.init()
	ksa, err := d.kernelSA(st, sa)
	if err != nil {
		d.Log(fsm.LogLine{State: st, Code: whack.RCLogSerious, Text: err.Error()})
		return
	}
	key := upKey{ksa.Conn, ksa.Local, ksa.InboundSPI}
	c := d.connOfState(st)
	if d.kg.up[key] && c != nil {
		d.updown(c, st, &ksa.KernelPolicy, routing.VerbDown, nil)
	}
	delete(d.kg.up, key)
	if err := d.kernel.Delete(ksa); err != nil {
		d.Log(fsm.LogLine{State: st, Code: whack.RCLogSerious, Text: err.Error()})
	}
	d.rtDo(d.kg.table.DeleteSA(ksa.Conn, st.Serial), rtCtx{cur: ksa.Conn, st: st, p: &ksa.KernelPolicy})
}

// connPolicy is the kernel's view of c's traffic before any SA exists.
func (d *Daemon) connPolicy(c *Connection) *routing.KernelPolicy {
	fc := &c.Conn
	proto := spec.ProtoESP
	if len(fc.P2.ESP) == 0 && len(fc.P2.AH) > 0 {
		proto = spec.ProtoAH
	}
	return &routing.KernelPolicy{Conn: connKey(fc), ReqID: d.kg.reqids.Get(connKey(fc)), Proto: proto, Mode: fc.P2.Mode,
		Local: fc.Local.Addr().Unmap(), Remote: fc.Remote.Addr().Unmap(),
		LocalNet: clientOr(fc.LocalNet, fc.Local), RemoteNet: clientOr(fc.RemoteNet, fc.Remote)}
}

// rtRefused reports a refusal of the routing table to the log and to
// whack, with the code the routing package gives it.
func (d *Daemon) rtRefused(c *Connection, w *whackConn, err error) {
	code := whack.RCLogSerious
	switch {
	case errors.Is(err, routing.ErrISAKMPOnly), errors.Is(err, routing.ErrTemplate):
		code = whack.RCRoute
	case errors.Is(err, routing.ErrRouteBusy):
		code = whack.RCRtBusy
	}
	d.kernelLog(c, nil, w, code, err.Error())
}

// routeConn carries out whack --route for an oriented connection: the
// table takes down conflicting routes no IPsec SA uses, then the route
// (prepare and route) and the trap policy go in. A refusal is followed by
// pluto's "could not route" (exit status 25).
func (d *Daemon) routeConn(c *Connection, w *whackConn) {
	d.kg.init()
	name, ok := d.rtSync(c)
	if !ok {
		w.line(whack.RCOrient, "we cannot identify ourselves with either end of this connection")
		return
	}
	acts, err := d.kg.table.Route(name)
	if err != nil {
		d.rtRefused(c, w, err)
		w.line(whack.RCRoute, fmt.Sprintf("%q: could not route", c.Name))
		return
	}
	x := rtCtx{cur: name, w: w}
	if err := d.rtDo(acts, x); err != nil {
		// The trap could not be installed: undo the route.
		if undo, uerr := d.kg.table.Unroute(name); uerr == nil {
			d.rtDo(undo, x)
		}
	}
	d.rtMirror(name)
}

// watchAcquire has the kernel report traffic caught by traps (from the
// first trap on).
func (d *Daemon) watchAcquire() {
	a, ok := d.kernel.(routing.Acquirer)
	if !ok || d.kg.watching {
		return
	}
	d.kg.watching = true
	err := a.WatchAcquire(func(acq routing.Acquire) {
		select {
		case d.events <- funcEvent(func() { d.acquire(acq) }):
		case <-d.done:
		}
	})
	if err != nil {
		d.log.Logf("%v", err)
	}
}

// negotiating reports whether a state of the named connection is
// negotiating, or carries an IPsec SA.
func (d *Daemon) negotiating(name string) bool {
	for _, st := range d.m.States() {
		if st.Conn != nil && connKey(st.Conn) == name && (st.Kind.IsQuick() || !st.Kind.IsISAKMPEstablished()) {
			return true
		}
	}
	return false
}

// NegotiationFailed implements fsm.FailureWatcher: a state of st's
// connection was deleted before it was established. A connection waiting
// for the negotiation its trap started is noted; afterEvent decides.
func (d *Daemon) NegotiationFailed(st *fsm.State) {
	if st.Conn == nil {
		return
	}
	name := connKey(st.Conn)
	if rc, ok := d.kg.table.Get(name); ok && rc.State == routing.RoutedHold {
		if d.kg.gaveUp == nil {
			d.kg.gaveUp = map[string]bool{}
		}
		d.kg.gaveUp[name] = true
	}
}

// afterEvent runs once the machine has finished with an event: a
// connection whose on-demand negotiation failed, and that no new keying
// attempt is negotiating, is back to its trap (the routing table's
// NegotiationFailed), so that the next traffic caught tries again.
func (d *Daemon) afterEvent() {
	for name := range d.kg.gaveUp {
		if rc, ok := d.kg.table.Get(name); ok && rc.State == routing.RoutedHold && !d.negotiating(name) {
			d.log.Logf("%q: negotiation started on demand has failed; back to the trap (%%trap)", name)
			d.rtDo(d.kg.table.NegotiationFailed(name), rtCtx{cur: name})
		}
	}
	clear(d.kg.gaveUp)
}

// acquire initiates the routed connection whose trap caught traffic,
// unless it is negotiating or established already.
func (d *Daemon) acquire(a routing.Acquire) {
	name, ok := d.kg.reqids.Lookup(a.ReqID)
	c := d.connByKey(name)
	if !ok || c == nil {
		d.kdebug("ACQUIRE for %s (reqid %d): no routed connection", a, a.ReqID)
		return
	}
	if d.negotiating(name) {
		d.kdebug("%q: ACQUIRE for %s: already negotiating or established", name, a)
		return
	}
	acts := d.kg.table.Acquire(name)
	if len(acts) == 0 {
		d.kdebug("ACQUIRE for %s (reqid %d): %q has no trap waiting", a, a.ReqID, name)
		return
	}
	d.log.Logf("%q: initiate on demand from %s because: acquire", name, a)
	d.rtDo(acts, rtCtx{cur: name})
}

// unrouteConn carries out whack --unroute: refused while an IPsec SA uses
// the connection; the trap goes, and the route unless another connection
// shares it.
func (d *Daemon) unrouteConn(c *Connection, w *whackConn) {
	d.kg.init()
	name, ok := d.rtSync(c)
	if !ok {
		return
	}
	acts, err := d.kg.table.Unroute(name)
	if err != nil {
		d.rtRefused(c, w, err)
		return
	}
	d.rtDo(acts, rtCtx{cur: name, w: w})
	d.rtMirror(name)
}

// forgetConn is called when c is deleted (its SAs are gone already): it
// and its instances leave the routing table, their routing undone.
func (d *Daemon) forgetConn(c *Connection) {
	d.kg.init()
	gone := []*Connection{c}
	for _, inst := range d.sortedInstances() {
		if inst.Template == c.Name {
			gone = append(gone, inst)
		}
	}
	for _, g := range gone {
		name := connKey(&g.Conn)
		d.rtDo(d.kg.table.Remove(name), rtCtx{cur: name})
		g.Routed = false
		d.kg.reqids.Release(name)
	}
}

// kernelShutdown unroutes every connection and closes the kernel interface
// (the machine has deleted every SA before).
func (d *Daemon) kernelShutdown() {
	d.kg.init()
	for _, name := range d.kg.table.Names() {
		d.rtDo(d.kg.table.Remove(name), rtCtx{cur: name})
	}
	if err := d.kernel.Close(); err != nil {
		d.log.Logf("kernel: %v", err)
	}
}

// routeState is c's routing as whack --status shows it ("prospective
// erouted"), and the IPsec SA its eroute sends through (0 for none).
func (d *Daemon) routeState(c *Connection) (routing.RouteState, uint64) {
	name, ok := d.rtSync(c)
	if !ok {
		return routing.Unrouted, 0
	}
	rc, _ := d.kg.table.Get(name)
	return rc.State, rc.EroutedBy
}

// updown runs our end's --updown command for verb (the kernel's default
// when there is none). A failure is logged and reported to the whack of
// the state, or w.
func (d *Daemon) updown(c *Connection, st *fsm.State, p *routing.KernelPolicy, verb string, w *whackConn) {
	u := d.updownEnv(c, st, p, verb)
	var err error
	if cmd := c.This.Updown; cmd != "" {
		var out []byte
		out, err = routing.RunUpdown(context.Background(), cmd, u)
		for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			if l != "" {
				d.kernelLog(c, st, w, whack.RCComment, u.FullVerb()+" output: "+l)
			}
		}
	} else if err = d.kernel.Updown(u); err != nil {
		err = fmt.Errorf("%w (%s: %v)", routing.ErrUpdown, u.FullVerb(), err)
	}
	if err != nil {
		d.kernelLog(c, st, w, whack.RCLogSerious, err.Error())
	}
}

// kernelLog logs a line about c (or st) and shows it to the whack
// concerned.
func (d *Daemon) kernelLog(c *Connection, st *fsm.State, w *whackConn, code int, text string) {
	if st != nil {
		d.Log(fsm.LogLine{State: st, Code: code, Text: text})
		return
	}
	line := fmt.Sprintf("%q: %s", c.Name, text)
	d.log.Logf("%s", line)
	if w != nil {
		w.line(code, line)
	}
}

// updownEnv describes c (and st's SA, when there is one) to the script.
func (d *Daemon) updownEnv(c *Connection, st *fsm.State, p *routing.KernelPolicy, verb string) *routing.Updown {
	fc := &c.Conn
	me, peer := fc.Local.Addr().Unmap(), fc.Remote.Addr().Unmap()
	if st != nil && st.Remote.Addr().IsValid() {
		peer = st.Remote.Addr().Unmap()
	}
	u := &routing.Updown{Verb: verb, Conn: c.Name, Me: me, Peer: peer,
		Interface: d.interfaceOf(me), MyID: idOr(fc.LocalID, me), PeerID: idOr(fc.RemoteID, peer),
		MyClient: p.LocalNet, PeerClient: p.RemoteNet, Stack: d.kernel.Name(), Policy: c.PolicyString(), ReqID: p.ReqID}
	if st != nil {
		if st.Parent != nil && st.Parent.PeerID.Type != 0 {
			u.PeerID = st.Parent.PeerID.String()
		}
		u.SAType = map[spec.ProtocolID]string{spec.ProtoESP: "ESP", spec.ProtoAH: "AH"}[p.Proto]
	}
	u.NextHop = peer
	if a, err := netip.ParseAddr(c.This.NextHop); err == nil {
		u.NextHop = a.Unmap()
	}
	if a, err := netip.ParseAddr(c.This.SrcIP); err == nil {
		u.MySourceIP = a.Unmap()
	}
	return u
}

func idOr(id fsm.ID, a netip.Addr) string {
	if id.Type == 0 {
		return a.String()
	}
	return id.String()
}
