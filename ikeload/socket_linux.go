package ikeload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// socket is one UDP socket that sends from any of the sources and tells
// which of them a datagram was sent to (IP_PKTINFO); IP_FREEBIND lets it
// use addresses that are local only through a "local" route.
type socket struct {
	c      *net.UDPConn
	pkt    bool // IPv4 wildcard socket with IP_PKTINFO
	closed atomic.Bool
}

func openSocket(port uint16, sources []netip.Addr) (*socket, error) {
	v6 := sources[0].Is6() && !sources[0].Is4In6()
	if v6 && len(sources) > 1 {
		return nil, errors.New("IPv6: only one source address is supported")
	}
	for _, a := range sources {
		if a.Is6() != v6 {
			return nil, errors.New("source addresses mix IPv4 and IPv6")
		}
	}
	lc := net.ListenConfig{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, 8<<20)
			if !v6 {
				if serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1); serr != nil {
					return
				}
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	addr := fmt.Sprintf("0.0.0.0:%d", port)
	network := "udp4"
	if v6 {
		addr, network = netip.AddrPortFrom(sources[0], port).String(), "udp6"
	}
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		return nil, fmt.Errorf("source socket: %v", err)
	}
	return &socket{c: pc.(*net.UDPConn), pkt: !v6}, nil
}

func (s *socket) write(b []byte, from netip.Addr, to netip.AddrPort) {
	var oob []byte
	if s.pkt {
		oob = unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: from.Unmap().As4()})
	}
	s.c.WriteMsgUDPAddrPort(b, oob, to)
}

// read returns a datagram, its sender and the local address it was sent to.
func (s *socket) read(b []byte) (int, netip.AddrPort, netip.Addr, error) {
	var oob [128]byte
	n, oobn, _, from, err := s.c.ReadMsgUDPAddrPort(b, oob[:])
	if err != nil {
		return 0, from, netip.Addr{}, err
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	var to netip.Addr
	if s.pkt {
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			if m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_PKTINFO && len(m.Data) >= unix.SizeofInet4Pktinfo {
				var a [4]byte
				copy(a[:], m.Data[8:12]) // struct in_pktinfo: ifindex, spec_dst, addr
				to = netip.AddrFrom4(a)
			}
		}
	} else if la, ok := s.c.LocalAddr().(*net.UDPAddr); ok {
		to = la.AddrPort().Addr()
	}
	return n, from, to, nil
}

func (s *socket) close() {
	if s.closed.CompareAndSwap(false, true) {
		s.c.Close()
	}
}
