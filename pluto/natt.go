package pluto

// The daemon's side of NAT traversal (the negotiation is fsm/natt.go):
// with --nat_traversal pluto listens on UDP 4500 of every address as well
// as on the IKE port. IKE messages on 4500 carry the 4-octet non-ESP
// marker (RFC 3948 §2.2), stripped on the way in and added on the way out;
// a 1-octet 0xFF is a NAT-keepalive. With the XFRM backend the 4500
// sockets have UDP_ENCAP set, so the kernel decapsulates ESP itself and
// eats keepalives. Keepalives are sent every --keep_alive seconds
// (default 20) to peers of ISAKMP SAs that float on 4500 while we are
// behind a NAT, or to every such peer with --force_keepalive.

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"goswan/fsm"
	"goswan/routing"
	"goswan/spec"
	"goswan/whack"
)

// DefaultKeepAlive is Openswan's --keep_alive default.
const DefaultKeepAlive = 20 * time.Second

// nonESPMarker precedes every IKE message on the NAT-T port.
var nonESPMarker = []byte{0, 0, 0, 0}

// nattOn reports whether pluto listens on the NAT-T port.
func (d *Daemon) nattOn() bool { return d.cfg.NATTraversal }

// nattPort is the NAT-T port (4500 unless a test moves it).
func (d *Daemon) nattPort() uint16 {
	if d.cfg.NATTPort != 0 {
		return uint16(d.cfg.NATTPort)
	}
	return spec.NATTPort
}

// isNATTSocket reports whether the socket on local is a NAT-T one.
func (d *Daemon) isNATTSocket(local netip.AddrPort) bool {
	return d.nattOn() && local.Port() == d.nattPort() && int(d.nattPort()) != d.cfg.IKEPort
}

// nattSocketOpened is called for each new NAT-T socket: with a kernel
// that decapsulates ESP, UDP_ENCAP is set on it.
func (d *Daemon) nattSocketOpened(s *net.UDPConn, ap netip.AddrPort) {
	if _, ok := d.kernel.(*routing.XFRM); !ok {
		return
	}
	rc, err := s.SyscallConn()
	if err == nil {
		err = routing.SetUDPEncap(rc)
	}
	if err != nil {
		d.log.Logf("NAT-Traversal: cannot set UDP_ENCAP on %s (the kernel will not decapsulate ESP): %v", ap, err)
		return
	}
	d.log.Debugf("NAT-Traversal: UDP_ENCAP_ESPINUDP set on %s", ap)
	d.watchMappings()
}

// watchMappings has the kernel report ESP in UDP that arrives from a new
// NAT mapping (once per daemon, with the first NAT-T socket).
func (d *Daemon) watchMappings() {
	w, ok := d.kernel.(routing.MappingWatcher)
	if !ok || d.watchingMappings {
		return
	}
	c, err := w.WatchMapping(func(mp routing.Mapping) {
		select {
		case d.events <- funcEvent(func() { d.mapping(mp) }):
		case <-d.done:
		}
	})
	if err != nil {
		d.log.Logf("NAT-Traversal: %v", err)
		return
	}
	d.watchingMappings = true
	go func() { <-d.done; c.Close() }()
}

// mapping moves the peer of the SA the kernel names.
func (d *Daemon) mapping(mp routing.Mapping) {
	if d.cfg.Debug&DebugNATT != 0 {
		d.log.Debugf("NAT-T: kernel: ESP for SPI 0x%08x now from %s (was %s)", mp.SPI, mp.NewSrc, mp.OldSrc)
	}
	d.m.PeerMapping(d.cfg.Now(), mp.Dst, routing.SPIBytes(mp.SPI), mp.OldSrc, mp.NewSrc)
}

// fromNATTSocket sorts a datagram received on a NAT-T socket: an IKE
// message without its marker (ok), or nothing (a keepalive, or ESP that
// no kernel took), with the reason for the debug log.
func fromNATTSocket(b []byte) (ike []byte, why string) {
	switch {
	case len(b) == 1 && b[0] == 0xff:
		return nil, "NAT-keepalive"
	case len(b) < len(nonESPMarker):
		return nil, "datagram too short for the non-ESP marker"
	case string(b[:4]) != string(nonESPMarker):
		return nil, fmt.Sprintf("ESP packet for SPI 0x%x (no kernel decapsulation)", b[:4])
	}
	return b[4:], ""
}

// sendKeepalives sends one NAT-keepalive to each peer that needs one.
func (d *Daemon) sendKeepalives() {
	type pair struct{ from, to netip.AddrPort }
	sent := map[pair]bool{}
	for _, st := range d.m.States() {
		p1 := st
		if st.Parent != nil {
			p1 = st.Parent
		}
		established := st.Kind.IsISAKMPEstablished() || (st.Kind.IsIPsecEstablished() && st.IPsec != nil && st.IPsec.Encap)
		if !established || !p1.NATT.Floated || !(p1.NATT.Me || d.cfg.ForceKeepalive) {
			continue
		}
		k := pair{st.Local, st.Remote}
		if sent[k] || k.from.Port() != d.nattPort() {
			continue
		}
		sent[k] = true
		s := d.socks[k.from]
		if s == nil {
			continue
		}
		if d.cfg.Debug&DebugNATT != 0 {
			d.log.Debugf("NAT-T: sending NAT-keepalive from %s to %s", k.from, k.to)
		}
		if _, err := s.WriteToUDPAddrPort([]byte{0xff}, k.to); err != nil {
			d.log.Logf("NAT-T: keepalive to %s failed: %v", k.to, err)
		}
	}
}

// keepAliveEvery is the keepalive period.
func (d *Daemon) keepAliveEvery() time.Duration {
	if d.cfg.KeepAlive > 0 {
		return d.cfg.KeepAlive
	}
	return DefaultKeepAlive
}

// PeerMoved implements fsm.PeerMover: the kernel's SA pair follows a peer
// whose NAT mapping changed.
func (d *Daemon) PeerMoved(st *fsm.State, sa *fsm.IPsecSA) {
	ksa, err := d.kernelSA(st, sa)
	if err == nil {
		u, ok := d.kernel.(routing.EncapUpdater)
		if !ok {
			return
		}
		err = u.UpdateEncap(ksa)
	}
	if err != nil {
		d.Log(fsm.LogLine{State: st, Code: whack.RCLogSerious, Text: "NAT-T: " + err.Error()})
		return
	}
	d.Log(fsm.LogLine{State: st, Text: "NAT-T: kernel SA now to " + sa.Remote.String(), Debug: true})
}

// nattStatus is the status line of the NAT-T settings (libreswan's layout).
func (d *Daemon) nattStatus() string {
	if !d.cfg.NATTraversal {
		return "nat-traversal=no"
	}
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	return "nat-traversal=yes, keep-alive=" + strconv.Itoa(int(d.keepAliveEvery()/time.Second)) +
		", force-keepalive=" + yes(d.cfg.ForceKeepalive) + ", nat-ikeport=" + strconv.Itoa(int(d.nattPort())) +
		", port-floating=" + yes(!d.cfg.DisablePortFloating)
}

// nattStateStatus describes an ISAKMP SA's NAT-T for whack --status.
func nattStateStatus(st *fsm.State) string {
	n := st.NATT
	if n.Method == fsm.NATTNone {
		return ""
	}
	s := "; NAT-T " + n.Method.String() + ": " + n.Result()
	if n.Forced {
		s += " (forceencaps)"
	}
	return s
}
