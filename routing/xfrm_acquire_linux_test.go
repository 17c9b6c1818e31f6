//go:build linux

package routing

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"goswan/fsm/proposal"
	"goswan/spec"
)

func TestParseAcquire(t *testing.T) {
	sel := nl.XfrmSelector{Family: unix.AF_INET, Proto: 17, Sport: nl.Swap16(4500), Dport: nl.Swap16(53), PrefixlenD: 32, PrefixlenS: 32}
	sel.Saddr.FromIP(net.ParseIP("10.1.0.1"))
	sel.Daddr.FromIP(net.ParseIP("10.2.0.1"))
	b := make([]byte, nl.SizeofXfrmId+nl.SizeofXfrmAddress)
	b = append(b, sel.Serialize()...)
	b = append(b, make([]byte, nl.SizeofXfrmUserpolicyInfo+16)...)
	if len(b) != sizeofXfrmUserAcquire || sizeofXfrmUserAcquire != 280 {
		t.Fatalf("struct xfrm_user_acquire is %d octets, want 280", len(b))
	}
	if _, err := parseAcquire(b); err == nil {
		t.Error("ACQUIRE without template accepted")
	}
	tmpl := nl.XfrmUserTmpl{Reqid: 16384, Family: unix.AF_INET}
	b = append(b, nl.NewRtAttr(nl.XFRMA_TMPL, tmpl.Serialize()).Serialize()...)
	a, err := parseAcquire(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Acquire{ReqID: 16384, Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"), Proto: 17, SrcPort: 4500, DstPort: 53}
	if a != want || a.String() != "10.1.0.1:4500 to 10.2.0.1:53 proto=17" {
		t.Errorf("got %+v (%s)", a, a)
	}
	if _, err := parseAcquire(b[:100]); err == nil {
		t.Error("short ACQUIRE accepted")
	}
}

// TestXFRMAcquire: a packet from our client to the peer's hits the trap of
// a routed connection and the kernel's ACQUIRE names the connection's
// reqid and the packet.
func TestXFRMAcquire(t *testing.T) {
	n := newTestNS(t)
	if err := n.h.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "vl"}}); err != nil {
		if err := n.h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "vl"}}); err != nil {
			t.Skipf("xfrm: neither dummy nor bridge links: %v", err)
		}
	}
	l, _ := n.h.LinkByName("vl")
	for _, a := range []string{"192.0.2.1/24", "10.1.0.1/24"} {
		addr, _ := netlink.ParseAddr(a)
		if err := n.h.AddrAdd(l, addr); err != nil {
			t.Fatal(err)
		}
	}
	n.h.LinkSetUp(l)
	_, dst, _ := net.ParseCIDR("10.2.0.0/24")
	if err := n.h.RouteAdd(&netlink.Route{Dst: dst, Gw: net.ParseIP("192.0.2.2"), LinkIndex: l.Attrs().Index}); err != nil {
		t.Fatal(err)
	}
	got := make(chan Acquire, 4)
	if err := n.x.WatchAcquire(func(a Acquire) { got <- a }); err != nil {
		t.Fatal(err)
	}
	sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	if err := n.x.Route(&sa.KernelPolicy); err != nil {
		t.Fatal(err)
	}
	// Send from inside the namespace.
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread ends with the goroutine, still in the namespace
		if err := netns.Set(n.ns); err != nil {
			errc <- err
			return
		}
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("10.1.0.1")}, &net.UDPAddr{IP: net.ParseIP("10.2.0.1"), Port: 9})
		if err != nil {
			errc <- err
			return
		}
		c.Write([]byte("hello")) // held by the trap: the write may fail
		c.Close()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		t.Logf("ACQUIRE: %s reqid %d", a, a.ReqID)
		if a.ReqID != 16384 || a.Src.String() != "10.1.0.1" || a.Dst.String() != "10.2.0.1" || a.Proto != 17 || a.DstPort != 9 {
			t.Errorf("ACQUIRE %+v", a)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no ACQUIRE")
	}
}
