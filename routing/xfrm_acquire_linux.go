//go:build linux

package routing

// ACQUIRE: outbound traffic caught by a trap policy (whack --route) makes
// the kernel ask the key manager for an SA (XFRM_MSG_ACQUIRE on the
// XFRMNLGRP_ACQUIRE multicast group). The message names the policy's
// template, whose reqid tells which connection it is.

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Acquire is the kernel's request for an SA: the packet that hit a trap.
type Acquire struct {
	ReqID            uint32 // the trap's reqid: the connection's
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
}

func (a Acquire) String() string {
	return fmt.Sprintf("%s:%d to %s:%d proto=%d", a.Src, a.SrcPort, a.Dst, a.DstPort, a.Proto)
}

// Acquirer is a kernel that reports ACQUIREs.
type Acquirer interface {
	// WatchAcquire calls f, from a goroutine of its own, for each ACQUIRE
	// until the kernel is closed.
	WatchAcquire(f func(Acquire)) error
}

// sizeofXfrmUserAcquire is struct xfrm_user_acquire: id, saddr, sel,
// policy, aalgos, ealgos, calgos, seq.
const sizeofXfrmUserAcquire = nl.SizeofXfrmId + nl.SizeofXfrmAddress + nl.SizeofXfrmSelector + nl.SizeofXfrmUserpolicyInfo + 16

// parseAcquire decodes the body of an XFRM_MSG_ACQUIRE message.
func parseAcquire(b []byte) (Acquire, error) {
	if len(b) < sizeofXfrmUserAcquire {
		return Acquire{}, fmt.Errorf("ACQUIRE of %d octets", len(b))
	}
	sel := nl.DeserializeXfrmSelector(b[nl.SizeofXfrmId+nl.SizeofXfrmAddress:])
	addr := func(x nl.XfrmAddress) netip.Addr {
		if sel.Family == unix.AF_INET {
			return netip.AddrFrom4([4]byte(x[:4]))
		}
		return netip.AddrFrom16(x).Unmap()
	}
	be := func(v uint16) uint16 { // the ports are in network order in memory
		var p [2]byte
		binary.NativeEndian.PutUint16(p[:], v)
		return binary.BigEndian.Uint16(p[:])
	}
	a := Acquire{Src: addr(sel.Saddr), Dst: addr(sel.Daddr), Proto: sel.Proto, SrcPort: be(sel.Sport), DstPort: be(sel.Dport)}
	attrs, err := nl.ParseRouteAttr(b[sizeofXfrmUserAcquire:])
	if err != nil {
		return Acquire{}, err
	}
	for _, at := range attrs {
		if at.Attr.Type == nl.XFRMA_TMPL && len(at.Value) >= nl.SizeofXfrmUserTmpl {
			a.ReqID = nl.DeserializeXfrmUserTmpl(at.Value).Reqid
			return a, nil
		}
	}
	return a, fmt.Errorf("ACQUIRE without a template")
}

// WatchAcquire implements Acquirer.
func (x *XFRM) WatchAcquire(f func(Acquire)) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.acqSock != nil {
		return fmt.Errorf("kernel: ACQUIREs are watched already")
	}
	s, err := nl.SubscribeAt(x.ns, netns.None(), unix.NETLINK_XFRM, nl.XFRMNLGRP_ACQUIRE)
	if err != nil {
		return fmt.Errorf("kernel: cannot listen for ACQUIRE: %s", explain(err, ""))
	}
	x.acqSock = s
	go receiveKernel(s, nl.XFRM_MSG_ACQUIRE, func(b []byte) {
		if a, err := parseAcquire(b); err == nil {
			f(a)
		}
	})
	return nil
}

// receiveKernel hands the body of every message of type typ that the
// kernel sends on the subscribed socket s to f, until s is closed.
func receiveKernel(s *nl.NetlinkSocket, typ uint16, f func([]byte)) {
	for {
		msgs, from, err := s.Receive()
		if err != nil {
			if err == unix.EAGAIN || err == unix.EINTR || err == unix.ENOBUFS {
				continue
			}
			return // closed
		}
		if from.Pid != nl.PidKernel {
			continue
		}
		for _, m := range msgs {
			if m.Header.Type == typ {
				f(m.Data)
			}
		}
	}
}
