package pluto

import (
	"crypto/subtle"
	"fmt"
	"net/netip"
	"sort"

	"goswan/fsm"
)

// Road Warriors (the pluto manual's "Road Warrior" paragraphs): a
// connection with --host %any is a template; a peer that turns up from an
// address gets an instance of it with that address, "rw"[1] 192.0.2.7.
// Instances live as long as the daemon (one per template and peer address).
//
// Main Mode with pre-shared keys: the responder must find the secret before
// it sees the (encrypted) ID payload, so it can only look it up by the
// peer's IP address; for peers at unknown addresses that means one %any
// secret shared by every Road Warrior (the manual's limitation), e.g.
//
//	192.0.2.2 %any : PSK "shared by all road warriors"
//
// Aggressive Mode (SwitchConnEarly: no key is chosen when the ID arrives)
// and RSA signatures have no such limitation.

// instance returns (creating it the first time) the instance of template t
// for a peer at remote.
func (d *Daemon) instance(t *Connection, remote netip.AddrPort) *Connection {
	key := t.Name + "|" + remote.Addr().String()
	if c := d.instances[key]; c != nil {
		return c
	}
	if len(d.instances) >= d.sweepAt {
		d.sweepInstances()
		d.sweepAt = max(minSweep, 2*len(d.instances))
	}
	d.instanceSerial++
	c := *t
	c.Template = t.Name
	c.Conn.Remote = netip.AddrPortFrom(remote.Addr(), t.Conn.Remote.Port())
	if t.Conn.Remote.Port() == 0 {
		c.Conn.Remote = remote
	}
	c.Conn.Instance = fmt.Sprintf("[%d] %s", d.instanceSerial, remote.Addr())
	d.addInstance(key, &c)
	d.rtSync(&c) // the routing table (kernel.go)
	d.log.Logf("%q%s: instantiated Road Warrior connection for %s", c.Name, c.Conn.Instance, remote)
	return &c
}

// minSweep is the number of instances below which none are swept.
const minSweep = 1024

// sweepInstances forgets the instances no state uses and nothing routes:
// every first message from a new address makes one (before anything is
// authenticated), and a flood from spoofed addresses must not leave one
// per address behind. Run when the count doubles, so its cost is amortized.
func (d *Daemon) sweepInstances() {
	used := map[*fsm.Conn]bool{}
	for _, st := range d.m.States() {
		used[st.Conn] = true
	}
	n := 0
	for key, c := range d.instances {
		if used[&c.Conn] || c.Routed {
			continue
		}
		name := connKey(&c.Conn)
		d.kg.init()
		d.rtDo(d.kg.table.Remove(name), rtCtx{cur: name})
		d.kg.reqids.Release(name)
		d.dropInstance(key)
		n++
	}
	if n > 0 {
		d.log.Logf("forgot %d Road Warrior instances without states (%d left)", n, len(d.instances))
	}
}

func (d *Daemon) sortedInstances() []*Connection {
	out := make([]*Connection, 0, len(d.instances))
	for _, c := range d.instances {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Conn.Instance < out[j].Conn.Instance })
	return out
}

// SwitchConn implements fsm.Env: after the peer's ID payload, a connection
// from the same local address that names that ID (or a %any one that takes
// any ID), for the same authentication and, with pre-shared keys, the same
// key as the one already used.
func (d *Daemon) SwitchConn(cur *fsm.Conn, remote netip.AddrPort, peer fsm.ID) *fsm.Conn {
	return d.switchConn(cur, remote, peer, true)
}

// SwitchConnEarly implements fsm.EarlySwitcher: in Aggressive Mode no key is
// in use yet when the ID arrives, so the connection for that ID (which must
// allow Aggressive Mode) may have a pre-shared key of its own.
func (d *Daemon) SwitchConnEarly(cur *fsm.Conn, remote netip.AddrPort, peer fsm.ID) *fsm.Conn {
	return d.switchConn(cur, remote, peer, false)
}

func (d *Daemon) switchConn(cur *fsm.Conn, remote netip.AddrPort, peer fsm.ID, keyChosen bool) *fsm.Conn {
	for _, c := range d.switchCandidates(remote.Addr()) {
		fc := &c.Conn
		if !c.Oriented || fc == cur || fc.Name == cur.Name || fc.Local != cur.Local || fc.Auth != cur.Auth {
			continue
		}
		if !keyChosen && !fc.AggrMode {
			continue
		}
		if fc.Remote.Addr().IsValid() && fc.Remote.Addr() != remote.Addr() {
			continue
		}
		want := fc.RemoteID
		if want.Type == 0 {
			want = fsm.AddrID(remote.Addr())
		}
		if !want.Matches(peer) {
			continue
		}
		if keyChosen && fc.Auth.Base() == 1 { // PSK: the key in use must be this one's too
			used, ok1 := d.PSK(cur, fsm.AddrID(remote.Addr()))
			other, ok2 := d.PSK(fc, peer)
			if !ok1 || !ok2 || subtle.ConstantTimeCompare(used, other) != 1 {
				// The manual's limitation, enforced: the key was chosen by
				// address before the (encrypted) ID arrived.
				d.log.Logf("%q%s: cannot switch to %q for peer '%s': its pre-shared key is not the one already in use (in Main Mode all Road Warriors share one pre-shared key)",
					cur.Name, cur.Instance, fc.Name, peer)
				continue
			}
		}
		if !fc.Remote.Addr().IsValid() {
			return &d.instance(c, remote).Conn
		}
		return fc
	}
	return nil
}
