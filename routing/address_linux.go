package routing

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// AddAddress implements AddressKernel: addr/32 on the loopback interface
// (an address that is already there is not an error).
func (x *XFRM) AddAddress(a netip.Addr) error {
	lo, err := x.h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("loopback interface: %v", err)
	}
	err = x.h.AddrReplace(lo, &netlink.Addr{IPNet: hostNet(a)})
	if err != nil {
		return fmt.Errorf("adding %s to lo: %v", a, err)
	}
	return nil
}

// DelAddress implements AddressKernel.
func (x *XFRM) DelAddress(a netip.Addr) error {
	lo, err := x.h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("loopback interface: %v", err)
	}
	return x.h.AddrDel(lo, &netlink.Addr{IPNet: hostNet(a)})
}

func hostNet(a netip.Addr) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(a.BitLen(), a.BitLen())}
}
