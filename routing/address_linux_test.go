//go:build linux

package routing

import (
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestXFRMAddAddress: a ModeCfg address lands on the loopback interface of
// the backend's namespace as a /32, twice is not an error, and it goes.
func TestXFRMAddAddress(t *testing.T) {
	n := newTestNS(t)
	a := netip.MustParseAddr("10.9.0.5")
	has := func() bool {
		lo, err := n.h.LinkByName("lo")
		if err != nil {
			t.Fatal(err)
		}
		addrs, err := n.h.AddrList(lo, netlink.FAMILY_V4)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range addrs {
			if ones, _ := x.Mask.Size(); x.IP.String() == "10.9.0.5" && ones == 32 {
				return true
			}
		}
		return false
	}
	for i := 0; i < 2; i++ {
		if err := n.x.AddAddress(a); err != nil {
			t.Fatalf("AddAddress #%d: %v", i+1, err)
		}
	}
	if !has() {
		t.Fatal("10.9.0.5/32 not on lo")
	}
	if err := n.x.DelAddress(a); err != nil {
		t.Fatal(err)
	}
	if has() {
		t.Error("10.9.0.5/32 still on lo")
	}
	k := NewNoStack()
	k.AddAddress(a)
	if got := k.Addresses(); len(got) != 1 || got[0] != a {
		t.Errorf("nostack recorded %v", got)
	}
}
