package routing

import (
	"net/netip"
	"testing"

	"goswan/fsm"
	"goswan/spec"
)

func TestNoStack(t *testing.T) {
	k := NewNoStack()
	var _ Kernel = k
	seen := map[uint32]bool{}
	for i := 0; i < 2000; i++ {
		b := k.AllocSPI(spec.ProtoESP, netip.Addr{}, netip.Addr{})
		v, err := SPIValue(b)
		if err != nil || len(b) != 4 || v < MinSPI || seen[v] {
			t.Fatalf("SPI %x: %v (seen %v)", b, err, seen[v])
		}
		seen[v] = true
		c := k.AllocSPI(spec.ProtoIPComp, netip.Addr{}, netip.Addr{})
		if cv, _ := SPIValue(c); len(c) != 2 || cv < MinCPI || cv > MaxCPI {
			t.Fatalf("CPI %x", c)
		}
	}
	sa := &KernelSA{KernelPolicy: KernelPolicy{Conn: "c"}, InboundSPI: 0x1234}
	k.Install(sa, true)
	k.Install(sa, false)
	if k.Installed() != 1 {
		t.Errorf("installed %d", k.Installed())
	}
	k.Route(&sa.KernelPolicy)
	if k.Routed() != 1 || k.Delete(sa) != nil || k.Installed() != 0 || k.Unroute(&sa.KernelPolicy) != nil || k.Routed() != 0 {
		t.Errorf("installed %d routed %d", k.Installed(), k.Routed())
	}
	if k.Updown(westUpdown(VerbRoute)) != nil || k.Name() != "nostack" || k.Close() != nil {
		t.Error("nostack updown, name or close")
	}
}

func TestReqIDs(t *testing.T) {
	var r ReqIDs
	a, b := r.Get("a"), r.Get("b")
	if a != 16384 || b != 16388 || r.Get("a") != a {
		t.Errorf("reqids %d %d", a, b)
	}
	r.Release("a")
	if c := r.Get("c"); c == b || c < 16384 {
		t.Errorf("reqid %d reused", c)
	}
}

func TestNewKernelSA(t *testing.T) {
	fsa := &fsm.IPsecSA{Proto: spec.ProtoESP, Mode: spec.EncapTunnel,
		InboundSPI: []byte{1, 2, 3, 4}, OutboundSPI: []byte{5, 6, 7, 8},
		Local: netip.MustParseAddrPort("192.0.2.1:500"), Remote: netip.MustParseAddrPort("192.0.2.2:500"),
		LocalNet: client("10.1.0.0/24"), RemoteNet: client("10.2.0.0/24")}
	sa, err := NewKernelSA(fsa, "west-east", 16384, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sa.InboundSPI != 0x01020304 || sa.OutboundSPI != 0x05060708 || sa.LocalNet != client("10.1.0.0/24") ||
		sa.Pair() != "ESP=>0x05060708 <0x01020304" || !sa.Tunnel() {
		t.Errorf("%+v", sa)
	}
	// The responder's inbound half exists before the peer's SPI is
	// known to the kernel side.
	fsa.OutboundSPI = nil
	if sa, err = NewKernelSA(fsa, "west-east", 16384, nil); err != nil || sa.OutboundSPI != 0 {
		t.Errorf("no outbound SPI: %v", err)
	}
	fsa.InboundSPI = []byte{1, 2, 3}
	if _, err := NewKernelSA(fsa, "west-east", 16384, nil); err == nil {
		t.Error("3-octet SPI accepted")
	}
}
