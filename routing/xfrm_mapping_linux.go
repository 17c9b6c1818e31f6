//go:build linux

package routing

// MAPPING: ESP in UDP for one of our inbound SAs authenticated fine but
// came from another address or port than the SA's encapsulation names (a
// NAT in front of the peer changed its mapping). The kernel tells the key
// manager with XFRM_MSG_MAPPING on the XFRMNLGRP_MAPPING multicast group,
// so that the SAs can follow without waiting for an IKE message.

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// sizeofXfrmUserMapping is struct xfrm_user_mapping: id, reqid,
// old_saddr, new_saddr, old_sport, new_sport.
const sizeofXfrmUserMapping = nl.SizeofXfrmUsersaId + 4 + 2*nl.SizeofXfrmAddress + 4

// parseMapping decodes the body of an XFRM_MSG_MAPPING message.
func parseMapping(b []byte) (Mapping, error) {
	if len(b) < sizeofXfrmUserMapping {
		return Mapping{}, fmt.Errorf("MAPPING of %d octets", len(b))
	}
	id := nl.DeserializeXfrmUsersaId(b)
	addr := func(x []byte) netip.Addr {
		if id.Family == unix.AF_INET {
			return netip.AddrFrom4([4]byte(x[:4]))
		}
		return netip.AddrFrom16([16]byte(x[:16])).Unmap()
	}
	o := nl.SizeofXfrmUsersaId
	m := Mapping{Dst: addr(id.Daddr[:]), SPI: nl.Swap32(id.Spi), ReqID: binary.NativeEndian.Uint32(b[o:])}
	o += 4
	oldA, newA := addr(b[o:]), addr(b[o+nl.SizeofXfrmAddress:])
	o += 2 * nl.SizeofXfrmAddress
	m.OldSrc = netip.AddrPortFrom(oldA, binary.BigEndian.Uint16(b[o:]))
	m.NewSrc = netip.AddrPortFrom(newA, binary.BigEndian.Uint16(b[o+2:]))
	return m, nil
}

// WatchMapping implements MappingWatcher.
func (x *XFRM) WatchMapping(f func(Mapping)) (io.Closer, error) {
	x.mu.Lock()
	ns := x.ns
	x.mu.Unlock()
	s, err := nl.SubscribeAt(ns, netns.None(), unix.NETLINK_XFRM, nl.XFRMNLGRP_MAPPING)
	if err != nil {
		return nil, fmt.Errorf("kernel: cannot listen for NAT mapping changes: %s", explain(err, ""))
	}
	go receiveKernel(s, nl.XFRM_MSG_MAPPING, func(b []byte) {
		if mp, err := parseMapping(b); err == nil {
			f(mp)
		}
	})
	return socketCloser{s}, nil
}

type socketCloser struct{ s *nl.NetlinkSocket }

func (c socketCloser) Close() error { c.s.Close(); return nil }
