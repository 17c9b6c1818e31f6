package pluto

import (
	"net/netip"
	"slices"
	"sort"
	"strings"

	"goswan/fsm"
	"goswan/routing"
)

// connIndex finds connections without scanning the database: with 10,000
// connections loaded, a scan per packet (or per line of whack --status)
// makes the daemon quadratic. It is rebuilt on first use after the
// connections change (connsChanged); Road Warrior instances, made while
// peers arrive, are indexed as they come (addInstance, dropInstance).
type connIndex struct {
	sorted   []*Connection                // every connection, by name
	byRemote map[netip.Addr][]*Connection // oriented, with a peer address, by name
	wild     []*Connection                // oriented %any templates, by name
}

// connsChanged drops the index after a connection was added, deleted or
// (re)oriented.
func (d *Daemon) connsChanged() { d.idx = nil }

func (d *Daemon) index() *connIndex {
	if d.idx != nil {
		return d.idx
	}
	x := &connIndex{byRemote: map[netip.Addr][]*Connection{}}
	x.sorted = make([]*Connection, 0, len(d.conns))
	for _, c := range d.conns {
		x.sorted = append(x.sorted, c)
	}
	sort.Slice(x.sorted, func(i, j int) bool { return x.sorted[i].Name < x.sorted[j].Name })
	x.sorted = slices.Clip(x.sorted) // callers append to it
	for _, c := range x.sorted {
		switch {
		case !c.Oriented:
		case c.Conn.Remote.Addr().IsValid():
			x.byRemote[c.Conn.Remote.Addr()] = append(x.byRemote[c.Conn.Remote.Addr()], c)
		default:
			x.wild = append(x.wild, c)
		}
	}
	d.idx = x
	return x
}

// switchCandidates are the oriented connections that can take a peer at
// remote: those naming it and the %any ones, in name order.
func (d *Daemon) switchCandidates(remote netip.Addr) []*Connection {
	x := d.index()
	out := append(slices.Clip(x.byRemote[remote]), x.wild...)
	slices.SortStableFunc(out, func(a, b *Connection) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// addInstance records a new Road Warrior instance under its key
// ("template|address").
func (d *Daemon) addInstance(key string, c *Connection) {
	d.instances[key] = c
	d.instByKey[connKey(&c.Conn)] = c
	a := c.Conn.Remote.Addr()
	list := append(d.instByTo[a], c)
	sort.Slice(list, func(i, j int) bool { return list[i].Conn.Instance < list[j].Conn.Instance })
	d.instByTo[a] = list
}

// dropInstance forgets the instance under key.
func (d *Daemon) dropInstance(key string) {
	c := d.instances[key]
	if c == nil {
		return
	}
	delete(d.instances, key)
	delete(d.instByKey, connKey(&c.Conn))
	a := c.Conn.Remote.Addr()
	list := slices.DeleteFunc(d.instByTo[a], func(x *Connection) bool { return x == c })
	if len(list) == 0 {
		delete(d.instByTo, a)
	} else {
		d.instByTo[a] = list
	}
}

// newestSAs are a connection's newest established ISAKMP and IPsec SAs.
type newestSAs struct{ isakmp, ipsec *fsm.State }

// newestByConn finds every connection's newest established SAs in one
// pass over the states (in serial order).
func newestByConn(states []*fsm.State) map[*fsm.Conn]newestSAs {
	out := map[*fsm.Conn]newestSAs{}
	for _, st := range states {
		if st.Conn == nil {
			continue
		}
		if st.Kind.IsISAKMPEstablished() {
			n := out[st.Conn]
			n.isakmp = st
			out[st.Conn] = n
		}
		if st.Kind.IsIPsecEstablished() {
			n := out[st.Conn]
			n.ipsec = st
			out[st.Conn] = n
		}
	}
	return out
}

// interfaceOf is routing.InterfaceOf, remembered until the next --listen:
// every SA installed asks for it, and each answer is a netlink dump of
// every interface and address.
func (d *Daemon) interfaceOf(a netip.Addr) string {
	if name, ok := d.ifaceOf[a]; ok {
		return name
	}
	if d.ifaceOf == nil {
		d.ifaceOf = map[netip.Addr]string{}
	}
	name := routing.InterfaceOf(a)
	d.ifaceOf[a] = name
	return name
}
