package pluto

import (
	"fmt"
	"strings"

	"goswan/fsm"
	"goswan/whack"
)

// status writes `whack --status` in pluto's layout: interfaces, settings,
// connections, then states (newest first within a connection).
func (d *Daemon) status(w *whackConn) {
	out := func(format string, a ...any) { w.line(whack.RCComment, fmt.Sprintf(format, a...)) }
	for _, a := range d.listening() {
		out("interface %s", a)
	}
	myid := d.myID
	if myid == "" {
		myid = "(none)"
	}
	out("%%myid = %s", myid)
	out("debug %s", d.cfg.Debug)
	out("kernel %s", d.kernel.Name())
	out("%s", d.nattStatus())
	out("half-open ISAKMP SAs: %d (limit %d); first messages per source address: %d/s; signatures for unauthenticated peers: %d/s; Diffie-Hellman workers: %d",
		d.m.HalfOpen(), d.cfg.Machine.MaxHalfOpen, d.cfg.Machine.NewExchangeRate, d.cfg.Machine.UnauthSignRate, d.dhWorkers)
	out(" ")
	states := d.m.States()
	newest := newestByConn(states)
	for _, c := range append(d.sortedConns(), d.sortedInstances()...) {
		d.connStatus(c, newest[&c.Conn], out)
	}
	out(" ")
	for i := len(states) - 1; i >= 0; i-- {
		d.stateStatus(states[i], out)
	}
}

func (d *Daemon) connStatus(c *Connection, est newestSAs, out func(string, ...any)) {
	n := fmt.Sprintf("%q%s", c.Name, c.Conn.Instance)
	if !c.Oriented {
		out("%s: %s...%s; unoriented", n, c.Desc.Left.Host, c.Desc.Right.Host)
		return
	}
	fc := &c.Conn
	routing, owner := d.routeState(c)
	p1, p2 := est.isakmp, est.ipsec
	out("%s: %s; %s; eroute owner: #%d", n, endsString(c), routing, owner)
	out("%s:     ike_life: %ds; ipsec_life: %ds; rekey_margin: %ds; rekey_fuzz: %d%%; keyingtries: %d",
		n, int(fc.P1.Lifetime.Seconds()), int(fc.P2.Lifetime.Seconds()), int(c.RekeyMargin.Seconds()), c.RekeyFuzz, fc.KeyingTries)
	out("%s:   policy: %s; interface: %s", n, c.PolicyString(), fc.Local)
	newest := func(st *fsm.State) string {
		if st == nil {
			return "#0"
		}
		return fmt.Sprintf("#%d", st.Serial)
	}
	if line := certStatus(c); line != "" {
		out("%s:   %s", n, line)
	}
	out("%s:   newest ISAKMP SA: %s; newest IPsec SA: %s", n, newest(p1), newest(p2))
	var ike []string
	for _, a := range fc.P1.Algs {
		ike = append(ike, a.String())
	}
	out("%s:   IKE algorithms wanted: %s", n, strings.Join(ike, ","))
	var esp []string
	for _, a := range fc.P2.ESP {
		esp = append(esp, a.String())
	}
	if len(esp) > 0 {
		pfs := "no-pfs"
		if fc.P2.PFSGroup != 0 {
			pfs = fc.P2.PFSGroup.ShortName()
		} else if fc.PFS {
			pfs = "phase1-group"
		}
		out("%s:   ESP algorithms wanted: %s; pfsgroup=%s", n, strings.Join(esp, ","), pfs)
	}
}

// endsString is pluto's "10.1.0.0/24===192.0.2.1...192.0.2.2===10.2.0.0/24".
func endsString(c *Connection) string {
	fc := &c.Conn
	left := fc.Local.Addr().String()
	if fc.LocalNet.Net.IsValid() {
		left = fc.LocalNet.String() + "===" + left
	}
	right := "%any"
	if fc.Remote.Addr().IsValid() {
		right = fc.Remote.Addr().String()
	}
	if fc.RemoteNet.Net.IsValid() {
		right += "===" + fc.RemoteNet.String()
	}
	if fc.Local.Port() != 500 {
		left += fmt.Sprintf(":%d", fc.Local.Port())
	}
	return left + "..." + right
}

func (d *Daemon) stateStatus(st *fsm.State, out func(string, ...any)) {
	name := "?"
	if st.Conn != nil {
		name = st.Conn.Name
	}
	ev, in := st.Timer(d.cfg.Now())
	timer := "none"
	if ev != fsm.EventNull {
		timer = fmt.Sprintf("%s in %ds", ev, int(in.Seconds()))
	}
	extra := ""
	if st.Kind.IsQuick() && st.Parent != nil {
		extra = fmt.Sprintf("; isakmp#%d", st.Parent.Serial)
	}
	out("#%d: %q:%d %s (%s); %s%s", st.Serial, name, st.Remote.Port(), st.Kind, st.Kind.Story(), timer, extra)
	if st.Kind.IsISAKMPEstablished() {
		out("#%d: %q %s%s", st.Serial, name, st.P1.Alg.String(), nattStateStatus(st))
	}
	if st.XAuthUser != "" {
		out("#%d: %q XAUTH user %q authenticated", st.Serial, name, st.XAuthUser)
	}
	if st.Lease != nil {
		out("#%d: %q modecfg %s", st.Serial, name, st.Lease)
	}
	if sa := st.IPsec; sa != nil && st.Kind.IsIPsecEstablished() {
		proto := "esp"
		xfrm := ""
		if sa.ESP != nil {
			xfrm = " xfrm=" + sa.ESP.XfrmName()
		} else {
			proto = "ah"
		}
		mode := "tun"
		if sa.Mode != 1 {
			mode = "transport"
		}
		encap := ""
		if sa.Encap {
			encap = fmt.Sprintf(" in UDP %d->%d", sa.Local.Port(), sa.Remote.Port())
		}
		comp := ""
		if sa.Compressed() {
			comp = fmt.Sprintf("comp.%x@%s comp.%x@%s ", sa.OutboundCPI, sa.Remote.Addr(), sa.InboundCPI, sa.Local.Addr())
		}
		out("#%d: %q %s.%x@%s %s.%x@%s %s%s%s%s", st.Serial, name, proto, sa.OutboundSPI, sa.Remote.Addr(),
			proto, sa.InboundSPI, sa.Local.Addr(), comp, mode, xfrm, encap)
	}
}
