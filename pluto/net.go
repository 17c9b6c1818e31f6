package pluto

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
)

// maxDatagram bounds what is read from the wire.
const maxDatagram = 65536

// interfaceAddrs lists the addresses pluto should listen on: --listen if
// given, else the addresses of --interface (or of every interface).
func (d *Daemon) interfaceAddrs() ([]netip.Addr, error) {
	if len(d.cfg.Listen) > 0 {
		return d.cfg.Listen, nil
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		if len(d.cfg.Interfaces) > 0 && !contains(d.cfg.Interfaces, ifc.Name) {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && !ip.Unmap().IsLinkLocalUnicast() {
					out = append(out, ip.Unmap())
				}
			}
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// listen opens a UDP socket on the IKE port of every address to listen on
// (pluto's one socket per interface address: the address a packet arrived
// on is then known). Addresses that went away are closed.
func (d *Daemon) listen() error {
	d.ifaceOf = nil // interfaces may have changed
	addrs, err := d.interfaceAddrs()
	if err != nil {
		return err
	}
	want := map[netip.AddrPort]bool{}
	for _, a := range addrs {
		want[netip.AddrPortFrom(a, uint16(d.cfg.IKEPort))] = true
		if d.nattOn() {
			want[netip.AddrPortFrom(a, d.nattPort())] = true
		}
	}
	for ap, s := range d.socks {
		if !want[ap] {
			s.Close()
			delete(d.socks, ap)
			d.log.Logf("shutting down interface %s", ap)
		}
	}
	var errs []error
	for ap := range want {
		if d.socks[ap] != nil {
			continue
		}
		s, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot listen on %s: %v", ap, err))
			continue
		}
		d.socks[ap] = s
		d.log.Logf("adding interface %s", ap)
		if d.isNATTSocket(ap) {
			d.nattSocketOpened(s, ap)
		}
		d.wg.Add(1)
		go d.readLoop(s, ap)
	}
	if len(d.socks) == 0 {
		if len(errs) > 0 {
			return errs[0]
		}
		return fmt.Errorf("no interface address to listen on")
	}
	for _, e := range errs {
		d.log.Logf("%v", e)
	}
	// Connections may now be oriented.
	d.connsChanged()
	for _, c := range d.conns {
		if !c.Oriented {
			if err := d.orient(c); err != nil {
				d.log.Logf("%q: %v", c.Name, err)
			}
		}
	}
	return nil
}

// listening returns the addresses pluto has sockets on, sorted.
func (d *Daemon) listening() []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(d.socks))
	for a := range d.socks {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// readLoop hands every datagram of one socket to the event loop; when the
// loop is busy beyond its queue, packets are dropped (bounded memory).
func (d *Daemon) readLoop(s *net.UDPConn, local netip.AddrPort) {
	defer d.wg.Done()
	buf := make([]byte, maxDatagram)
	natt := d.isNATTSocket(local)
	for {
		n, from, err := s.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		pkt := buf[:n]
		if natt {
			var why string
			if pkt, why = fromNATTSocket(pkt); pkt == nil {
				if d.cfg.Debug&(DebugNATT|DebugRaw) != 0 {
					d.log.Debugf("NAT-T: %s from %s on %s ignored", why, from, local)
				}
				continue
			}
		}
		b := append([]byte(nil), pkt...)
		select {
		case d.events <- packetEvent{b: b, from: from, to: local}:
		default:
			d.log.Debugf("event queue full: dropping packet from %s", from)
		}
	}
}

func (d *Daemon) closeSockets() {
	for ap, s := range d.socks {
		s.Close()
		delete(d.socks, ap)
	}
}
