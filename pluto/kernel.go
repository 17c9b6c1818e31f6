package pluto

// The daemon's side of the kernel (package routing): choosing the backend
// (--use-nostack, --use-netkey, --use-auto), the fsm.Env methods that reach
// it (AllocSPI, Install, Delete), whack --route/--unroute, and the updown
// script run at each of those events.

import (
	"context"
	"fmt"
	"net/netip"
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
	// local and remote are the addresses of the exchange the machine is
	// working on (fsm.Env.AllocSPI does not pass them; the kernel's SPI
	// allocator wants them).
	local, remote netip.Addr
	up            map[upKey]bool  // SA pairs whose up-* has run
	pairs         map[string]int  // such pairs per connection
	routedUp      map[string]bool // route-* has run and unroute-* has not
	watching      bool            // ACQUIREs are reported
}

type upKey struct {
	conn  string
	local netip.Addr
	spi   uint32
}

func (g *kernelGlue) init() {
	if g.up == nil {
		g.up, g.pairs, g.routedUp = map[upKey]bool{}, map[string]int{}, map[string]bool{}
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

// handlePacket gives a packet to the machine, with its addresses noted for
// AllocSPI.
func (d *Daemon) handlePacket(e packetEvent) {
	d.kg.local, d.kg.remote = e.to.Addr(), e.from.Addr()
	d.m.HandlePacket(d.cfg.Now(), e.b, e.from, e.to)
	d.kg.local, d.kg.remote = netip.Addr{}, netip.Addr{}
}

// initiateConn starts a negotiation of c, with its addresses noted for
// AllocSPI (Quick Mode starts at once on an existing ISAKMP SA).
func (d *Daemon) initiateConn(c *Connection, whack any) {
	d.kg.local, d.kg.remote = c.Conn.Local.Addr(), c.Conn.Remote.Addr()
	d.m.Initiate(d.cfg.Now(), &c.Conn, whack)
	d.kg.local, d.kg.remote = netip.Addr{}, netip.Addr{}
}

// AllocSPI implements fsm.Env: an SPI we receive on from the peer.
func (d *Daemon) AllocSPI(proto spec.ProtocolID) []byte {
	return d.kernel.AllocSPI(proto, d.kg.remote, d.kg.local)
}

// connKey names a connection for the kernel glue: a Road Warrior
// instance ("rw"[1] 192.0.2.7) apart from its template and the other
// instances, each with its own reqid (as Openswan's instantiate).
func connKey(fc *fsm.Conn) string {
	if fc == nil {
		return ""
	}
	return fc.Name + fc.Instance
}

// kernelSA is the kernel's view of the pair st negotiated.
func (d *Daemon) kernelSA(st *fsm.State, sa *fsm.IPsecSA) (*routing.KernelSA, error) {
	name := connKey(st.Conn)
	return routing.NewKernelSA(sa, name, d.kg.reqids.Get(name), st.P2.AH)
}

// Install implements fsm.Env. Once the pair is complete the updown script
// runs: prepare and route first when the connection was not routed yet,
// then up.
func (d *Daemon) Install(st *fsm.State, sa *fsm.IPsecSA, inboundOnly bool) error {
	d.kg.init()
	ksa, err := d.kernelSA(st, sa)
	if err != nil {
		return err
	}
	if st.P2.IPComp && !inboundOnly && d.kernel.Name() != "nostack" {
		d.Log(fsm.LogLine{State: st, Code: whack.RCLogSerious, Text: "IPComp was negotiated but is not installed in the kernel"})
	}
	if err := d.kernel.Install(ksa, inboundOnly); err != nil {
		return err
	}
	key := upKey{ksa.Conn, ksa.Local, ksa.InboundSPI}
	c := d.connByConn(st.Conn)
	if inboundOnly || c == nil || d.kg.up[key] {
		return nil
	}
	d.kg.up[key] = true
	d.kg.pairs[key.conn]++
	if !d.kg.routedUp[key.conn] {
		d.kg.routedUp[key.conn] = true
		d.updown(c, st, &ksa.KernelPolicy, routing.VerbPrepare, nil)
		d.updown(c, st, &ksa.KernelPolicy, routing.VerbRoute, nil)
	}
	d.updown(c, st, &ksa.KernelPolicy, routing.VerbUp, nil)
	return nil
}

// Delete implements fsm.Env: down, the pair out of the kernel (what there
// is of it), and unroute when this was the last pair of a connection that
// is not routed.
func (d *Daemon) Delete(st *fsm.State, sa *fsm.IPsecSA) {
	d.kg.init()
	ksa, err := d.kernelSA(st, sa)
	if err != nil {
		d.Log(fsm.LogLine{State: st, Code: whack.RCLogSerious, Text: err.Error()})
		return
	}
	key := upKey{ksa.Conn, ksa.Local, ksa.InboundSPI}
	c := d.connByConn(st.Conn)
	wasUp := d.kg.up[key]
	if wasUp && c != nil {
		d.updown(c, st, &ksa.KernelPolicy, routing.VerbDown, nil)
	}
	if err := d.kernel.Delete(ksa); err != nil {
		d.Log(fsm.LogLine{State: st, Code: whack.RCLogSerious, Text: err.Error()})
	}
	if !wasUp {
		return
	}
	delete(d.kg.up, key)
	if c == nil {
		return
	}
	if d.kg.pairs[key.conn]--; d.kg.pairs[key.conn] <= 0 {
		delete(d.kg.pairs, key.conn)
		if !c.Routed && d.kg.routedUp[key.conn] {
			delete(d.kg.routedUp, key.conn)
			d.updown(c, st, &ksa.KernelPolicy, routing.VerbUnroute, nil)
		}
	}
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

// routeConn carries out whack --route for a connection that may be
// routed: the trap policy, then prepare and route unless an SA did that.
func (d *Daemon) routeConn(c *Connection, w *whackConn) {
	d.kg.init()
	if c.Routed {
		return
	}
	p := d.connPolicy(c)
	if err := d.kernel.Route(p); err != nil {
		d.kernelLog(c, nil, w, whack.RCRoute, err.Error())
		return
	}
	c.Routed = true
	d.watchAcquire()
	if !d.kg.routedUp[p.Conn] {
		d.kg.routedUp[p.Conn] = true
		d.updown(c, nil, p, routing.VerbPrepare, w)
		d.updown(c, nil, p, routing.VerbRoute, w)
	}
}

// watchAcquire has the kernel report traffic caught by traps (from the
// first whack --route on).
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

// acquire initiates the routed connection whose trap caught traffic,
// unless it is negotiating or established already.
func (d *Daemon) acquire(a routing.Acquire) {
	name, ok := d.kg.reqids.Lookup(a.ReqID)
	c := d.conns[name]
	if !ok || c == nil || !c.Routed {
		d.log.Debugf("ACQUIRE for %s (reqid %d): no routed connection", a, a.ReqID)
		return
	}
	for _, st := range d.m.States() {
		if st.Conn != nil && connKey(st.Conn) == name && (st.Kind.IsQuick() || !st.Kind.IsISAKMPEstablished()) {
			d.log.Debugf("%q: ACQUIRE for %s: already negotiating or established", name, a)
			return
		}
	}
	d.log.Logf("%q: initiate on demand from %s because: acquire", name, a)
	d.initiateConn(c, nil)
}

// unrouteConn carries out whack --unroute (and the unrouting of a deleted
// connection): the trap goes; the route goes unless an SA still uses it.
func (d *Daemon) unrouteConn(c *Connection, w *whackConn) {
	d.kg.init()
	if !c.Routed {
		return
	}
	c.Routed = false
	p := d.connPolicy(c)
	if err := d.kernel.Unroute(p); err != nil {
		d.kernelLog(c, nil, w, whack.RCLogSerious, err.Error())
	}
	if d.kg.pairs[p.Conn] == 0 && d.kg.routedUp[p.Conn] {
		delete(d.kg.routedUp, p.Conn)
		d.updown(c, nil, p, routing.VerbUnroute, w)
	}
}

// forgetConn is called when c is deleted (its SAs are gone already).
func (d *Daemon) forgetConn(c *Connection) {
	d.unrouteConn(c, nil)
	d.kg.reqids.Release(connKey(&c.Conn))
	for _, inst := range d.instances {
		if inst.Template == c.Name {
			d.kg.reqids.Release(connKey(&inst.Conn))
		}
	}
}

// kernelShutdown unroutes every connection and closes the kernel interface
// (the machine has deleted every SA before).
func (d *Daemon) kernelShutdown() {
	for _, c := range d.sortedConns() {
		d.unrouteConn(c, nil)
	}
	if err := d.kernel.Close(); err != nil {
		d.log.Logf("kernel: %v", err)
	}
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
		Interface: routing.InterfaceOf(me), MyID: idOr(fc.LocalID, me), PeerID: idOr(fc.RemoteID, peer),
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
