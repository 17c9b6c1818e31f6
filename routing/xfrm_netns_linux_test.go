//go:build linux

package routing

// Tests of the XFRM backend against the running kernel, each in a fresh
// network namespace (root only). Where the kernel has no ESP (a host built
// without CONFIG_INET_ESP) the install tests check the error and that
// nothing is left behind; where it has (the VM, see vm_test.go) they check
// what the kernel holds.

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"goswan/fsm/proposal"
	"goswan/spec"
)

// testNS is a fresh network namespace with an XFRM backend in it and a
// netlink handle to look at it.
type testNS struct {
	x  *XFRM
	h  *netlink.Handle
	ns netns.NsHandle
}

func newTestNS(t *testing.T) *testNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("xfrm: needs root for a network namespace")
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("xfrm: %v", err)
	}
	ns, err := netns.New() // also enters it
	if serr := netns.Set(orig); serr != nil {
		t.Fatalf("cannot return to the test's namespace: %v", serr)
	}
	orig.Close()
	runtime.UnlockOSThread()
	if err != nil {
		t.Skipf("xfrm: cannot create a network namespace: %v", err)
	}
	n := &testNS{ns: ns}
	t.Cleanup(func() {
		if n.x != nil {
			n.x.Close()
		}
		if n.h != nil {
			n.h.Close()
		}
		ns.Close() // the namespace goes with its last reference
	})
	if n.h, err = netlink.NewHandleAt(ns); err != nil {
		t.Fatal(err)
	}
	if n.x, err = NewXFRMAt(ns); err != nil {
		if errors.Is(err, ErrNoXFRM) {
			t.Skipf("xfrm: %v", err)
		}
		t.Fatal(err)
	}
	return n
}

func (n *testNS) states(t *testing.T) []netlink.XfrmState {
	t.Helper()
	s, err := n.h.XfrmStateList(netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (n *testNS) policies(t *testing.T) []netlink.XfrmPolicy {
	t.Helper()
	p, err := n.h.XfrmPolicyList(netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (n *testNS) expectEmpty(t *testing.T, when string) {
	t.Helper()
	if s, p := n.states(t), n.policies(t); len(s) != 0 || len(p) != 0 {
		t.Errorf("%s: %d states, %d policies left:\n%v\n%v", when, len(s), len(p), s, p)
	}
}

func hasESP(t *testing.T, n *testNS) bool {
	err := n.x.ProbeESP()
	if err != nil && !errors.Is(err, ErrNoESP) {
		t.Fatal(err)
	}
	n.expectEmpty(t, "after the ESP probe")
	return err == nil
}

func TestXFRMTrapPolicy(t *testing.T) {
	n := newTestNS(t)
	sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	p := &sa.KernelPolicy
	if err := n.x.Route(p); err != nil {
		t.Fatal(err)
	}
	if err := n.x.Route(p); err != nil { // again: nothing changes
		t.Fatal(err)
	}
	pols := n.policies(t)
	if len(pols) != 1 {
		t.Fatalf("%d policies after route, want the trap: %v", len(pols), pols)
	}
	got := pols[0]
	if got.Dir != netlink.XFRM_DIR_OUT || got.Src.String() != "10.1.0.0/24" || got.Dst.String() != "10.2.0.0/24" ||
		len(got.Tmpls) != 1 || got.Tmpls[0].Reqid != 16384 || got.Tmpls[0].Mode != netlink.XFRM_MODE_TUNNEL ||
		got.Tmpls[0].Proto != netlink.XFRM_PROTO_ESP || !got.Tmpls[0].Dst.Equal(net.ParseIP("192.0.2.2")) {
		t.Errorf("trap policy %v", got)
	}
	if err := n.x.Unroute(p); err != nil {
		t.Fatal(err)
	}
	n.expectEmpty(t, "after unroute")
	// Transport mode, host to host, with a protocol and port.
	p.Mode = spec.EncapTransport
	p.LocalNet = client("192.0.2.1/32")
	p.RemoteNet = client("192.0.2.2/32")
	p.LocalNet.Proto, p.RemoteNet.Proto, p.RemoteNet.Port = 17, 17, 1701
	if err := n.x.Route(p); err != nil {
		t.Fatal(err)
	}
	if pols := n.policies(t); len(pols) != 1 || pols[0].Proto != 17 || pols[0].DstPort != 1701 || pols[0].Tmpls[0].Mode != netlink.XFRM_MODE_TRANSPORT {
		t.Errorf("transport trap %v", pols)
	}
	n.x.Unroute(p)
	n.expectEmpty(t, "after unroute")
}

func TestXFRMAllocSPI(t *testing.T) {
	n := newTestNS(t)
	peer, me := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")
	seen := map[uint32]bool{}
	for i := 0; i < 50; i++ {
		v, err := SPIValue(n.x.AllocSPI(spec.ProtoESP, peer, me))
		if err != nil || v < MinSPI || seen[v] {
			t.Fatalf("SPI 0x%x: %v", v, err)
		}
		seen[v] = true
	}
	// ALLOCSPI leaves a larval state holding each SPI.
	larval := 0
	for _, s := range n.states(t) {
		if s.Proto == netlink.XFRM_PROTO_ESP && s.Dst.Equal(net.ParseIP("192.0.2.1")) && seen[uint32(s.Spi)] {
			larval++
		}
	}
	if larval != 50 {
		t.Errorf("%d larval states for 50 SPIs", larval)
	}
	// SPIs never installed are forgotten once the kernel has expired them
	// (a failed negotiation, a CPI the peer did not take), not before.
	n.x.mu.Lock()
	n.x.pruneLarval(time.Now().Add(larvalKeep / 2))
	young := len(n.x.larval)
	var oldest stateID
	for id := range n.x.larval {
		oldest = id
		n.x.larval[id] = time.Now().Add(-2 * larvalKeep)
		break
	}
	n.x.pruneLarval(time.Now().Add(larvalKeep/2 + larvalKeep/4 + time.Second))
	_, kept := n.x.larval[oldest]
	left, spiKept := len(n.x.larval), n.x.spis[oldest.spi]
	n.x.mu.Unlock()
	if young != 50 || kept || spiKept || left != 49 {
		t.Errorf("pruning: %d young SPIs kept (want 50); the expired one kept %v/%v; %d left (want 49)", young, kept, spiKept, left)
	}
	n.h.XfrmStateDel(&netlink.XfrmState{Dst: ipOf(oldest.dst), Proto: oldest.proto, Spi: int(oldest.spi)})
	// Without addresses the SPI is random.
	if v, _ := SPIValue(n.x.AllocSPI(spec.ProtoESP, netip.Addr{}, netip.Addr{})); v < MinSPI || seen[v] {
		t.Errorf("random SPI 0x%x", v)
	}
	if c := n.x.AllocSPI(spec.ProtoIPComp, peer, me); len(c) != 2 {
		t.Errorf("CPI %x", c)
	}
	// Closing releases the SPIs never installed.
	n.x.Close()
	n.expectEmpty(t, "after close")
}

func TestXFRMInstallWithoutESP(t *testing.T) {
	n := newTestNS(t)
	if hasESP(t, n) {
		t.Skip("xfrm: this kernel has ESP (TestXFRMInstallDelete covers it)")
	}
	sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	spi, _ := SPIValue(n.x.AllocSPI(spec.ProtoESP, sa.Remote, sa.Local))
	sa.InboundSPI = spi
	for _, inboundOnly := range []bool{true, false} {
		err := n.x.Install(sa, inboundOnly)
		if err == nil || !strings.HasPrefix(err.Error(), "kernel: cannot add ESP SA 0x") ||
			!strings.HasSuffix(err.Error(), ": protocol not supported (no ESP in this kernel?)") {
			t.Fatalf("install without ESP: %v", err)
		}
		t.Logf("inboundOnly=%v: %v", inboundOnly, err)
		n.expectEmpty(t, "after the failed install") // the larval state too
	}
	// A routed connection keeps its trap when its SA fails.
	n.x.Route(&sa.KernelPolicy)
	if err := n.x.Install(sa, false); err == nil {
		t.Fatal("install without ESP succeeded")
	}
	if p := n.policies(t); len(p) != 1 || len(n.states(t)) != 0 {
		t.Errorf("routed: %d policies (want the trap), %d states", len(p), len(n.states(t)))
	}
	if err := n.x.Delete(sa); err != nil { // nothing installed: nothing to do
		t.Error(err)
	}
	n.x.Unroute(&sa.KernelPolicy)
	n.expectEmpty(t, "after unroute")
}

// findState returns the kernel's state with that SPI.
func findState(t *testing.T, n *testNS, spi uint32) *netlink.XfrmState {
	t.Helper()
	for _, s := range n.states(t) {
		if uint32(s.Spi) == spi {
			return &s
		}
	}
	return nil
}

func TestXFRMInstallDelete(t *testing.T) {
	n := newTestNS(t)
	if !hasESP(t, n) {
		t.Skip("xfrm: no ESP in this kernel (TestXFRMInstallWithoutESP covers it; the VM test runs this one)")
	}
	algs := []proposal.ESPAlg{
		{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1},
		{Enc: spec.ESPAES, KeyLen: 256, Integ: spec.AuthAlgHMACSHA2256},
		{Enc: spec.ESP3DES, Integ: spec.AuthAlgHMACMD5},
		{Enc: spec.ESPAESGCM16, KeyLen: 128},
		{Enc: spec.ESPAES, KeyLen: 192, Integ: spec.AuthAlgHMACSHA2512},
	}
	for _, alg := range algs {
		sa := tunnelSA(alg)
		spi, _ := SPIValue(n.x.AllocSPI(spec.ProtoESP, sa.Remote, sa.Local))
		sa.InboundSPI = spi
		// Responder order: inbound first, then the rest.
		if err := n.x.Install(sa, true); err != nil {
			t.Fatalf("%s inbound: %v", alg, err)
		}
		if s, p := n.states(t), n.policies(t); len(s) != 1 || len(p) != 2 {
			t.Errorf("%s inbound only: %d states, %d policies (want 1, in+fwd)", alg, len(s), len(p))
		}
		if err := n.x.Install(sa, false); err != nil {
			t.Fatalf("%s outbound: %v", alg, err)
		}
		if s, p := n.states(t), n.policies(t); len(s) != 2 || len(p) != 3 {
			t.Errorf("%s: %d states, %d policies (want 2, 3)", alg, len(s), len(p))
		}
		in, out := findState(t, n, sa.InboundSPI), findState(t, n, sa.OutboundSPI)
		if in == nil || out == nil {
			t.Fatalf("%s: states missing", alg)
		}
		if in.Reqid != 16384 || in.Mode != netlink.XFRM_MODE_TUNNEL || in.Limits.TimeHard != 28800 ||
			in.Limits.TimeSoft != 25920 || !in.Src.Equal(net.ParseIP("192.0.2.2")) {
			t.Errorf("%s inbound state %v", alg, in.Print(true))
		}
		// The keys the kernel holds are the KEYMAT, split as buildState did.
		want, _ := buildState(sa, false)
		if out.Aead != nil {
			if out.Aead.Name != want.Aead.Name || out.Aead.ICVLen != 128 || !bytes.Equal(out.Aead.Key, sa.OutboundKey) {
				t.Errorf("%s outbound aead %v", alg, out.Aead)
			}
		} else if out.Crypt == nil || out.Auth == nil || out.Crypt.Name != want.Crypt.Name || !bytes.Equal(out.Crypt.Key, want.Crypt.Key) ||
			out.Auth.Name != want.Auth.Name || out.Auth.TruncateLen != want.Auth.TruncateLen || !bytes.Equal(out.Auth.Key, want.Auth.Key) {
			t.Errorf("%s outbound algorithms %v %v", alg, out.Crypt, out.Auth)
		}
		if err := n.x.Delete(sa); err != nil {
			t.Error(err)
		}
		n.expectEmpty(t, alg.String()+" after delete")
	}

	// A responder's pair that never got past the inbound half goes too.
	half := tunnelSA(algs[0])
	if err := n.x.Install(half, true); err != nil {
		t.Fatal(err)
	}
	if err := n.x.Delete(half); err != nil {
		t.Error(err)
	}
	n.expectEmpty(t, "after deleting an inbound half")

	// Two pairs of one connection (rekeying) share the policies; the
	// first one's deletion leaves them to the second.
	a := tunnelSA(algs[0])
	b := tunnelSA(algs[0])
	b.InboundSPI, b.OutboundSPI = 0x22222222, 0x33333333
	if err := n.x.Install(a, false); err != nil {
		t.Fatal(err)
	}
	if err := n.x.Install(b, false); err != nil {
		t.Fatal(err)
	}
	n.x.Delete(a)
	if s, p := n.states(t), n.policies(t); len(s) != 2 || len(p) != 3 {
		t.Errorf("after deleting the older pair: %d states, %d policies (want 2, 3)", len(s), len(p))
	}
	n.x.Delete(b)
	n.expectEmpty(t, "after deleting both pairs")

	// A routed connection: the SA's outbound policy replaces the trap and
	// the trap comes back when the SA goes.
	n.x.Route(&a.KernelPolicy)
	n.x.Install(a, false)
	n.x.Delete(a)
	if s, p := n.states(t), n.policies(t); len(s) != 0 || len(p) != 1 || p[0].Dir != netlink.XFRM_DIR_OUT {
		t.Errorf("routed, after delete: %d states, policies %v (want the trap)", len(s), p)
	}
	n.x.Unroute(&a.KernelPolicy)
	n.expectEmpty(t, "after unroute")

	// SPI in use: the outbound state collides with one already there; the
	// inbound state and policies added by this call are taken out again.
	squat := &netlink.XfrmState{Src: net.ParseIP("192.0.2.1"), Dst: net.ParseIP("192.0.2.2"), Proto: netlink.XFRM_PROTO_ESP,
		Mode: netlink.XFRM_MODE_TUNNEL, Spi: int(a.OutboundSPI),
		Crypt: &netlink.XfrmStateAlgo{Name: "cbc(aes)", Key: make([]byte, 16)},
		Auth:  &netlink.XfrmStateAlgo{Name: "hmac(sha1)", Key: make([]byte, 20), TruncateLen: 96}}
	if err := n.h.XfrmStateAdd(squat); err != nil {
		t.Fatal(err)
	}
	err := n.x.Install(a, false)
	if err == nil || !strings.Contains(err.Error(), "SPI already in use") {
		t.Fatalf("colliding SPI: %v", err)
	}
	t.Logf("colliding SPI: %v", err)
	if s, p := n.states(t), n.policies(t); len(s) != 1 || len(p) != 0 {
		t.Errorf("after the failed install: %d states (want the squatter), %d policies", len(s), len(p))
	}
	n.h.XfrmStateDel(squat)

	// AH, transport mode.
	ah := tunnelSA(algs[0])
	ah.Proto, ah.ESP, ah.AH, ah.Mode = spec.ProtoAH, nil, &proposal.AHAlg{Integ: spec.AuthAlgHMACSHA2256}, spec.EncapTransport
	ah.LocalNet, ah.RemoteNet = client("192.0.2.1/32"), client("192.0.2.2/32")
	ah.InboundKey, ah.OutboundKey = seq(32, 1), seq(32, 2)
	if err := n.x.Install(ah, false); err != nil {
		t.Logf("AH: %v", err) // a kernel may have ESP without AH
	} else {
		if s, p := n.states(t), n.policies(t); len(s) != 2 || len(p) != 2 || s[0].Proto != netlink.XFRM_PROTO_AH {
			t.Errorf("AH transport: %d states, %d policies", len(s), len(p))
		}
		n.x.Delete(ah)
	}
	n.expectEmpty(t, "after AH")

	// IPComp under ESP, tunnel and transport mode, with the SPI and CPI
	// from ALLOCSPI.
	for _, mode := range []spec.EncapsulationMode{spec.EncapTunnel, spec.EncapTransport} {
		sa := compSA(mode)
		sa.InboundSPI, _ = SPIValue(n.x.AllocSPI(spec.ProtoESP, sa.Remote, sa.Local))
		sa.InboundCPI, _ = SPIValue(n.x.AllocSPI(spec.ProtoIPComp, sa.Remote, sa.Local))
		if sa.InboundCPI < MinCPI || sa.InboundCPI > MaxCPI {
			t.Errorf("ALLOCSPI gave CPI 0x%x", sa.InboundCPI)
		}
		if err := n.x.Install(sa, true); err != nil {
			t.Fatalf("IPComp %s inbound: %v", mode, err)
		}
		if c, e := countProto(n.states(t), netlink.XFRM_PROTO_COMP), countProto(n.states(t), netlink.XFRM_PROTO_ESP); c != 1 || e != 1 {
			t.Errorf("IPComp %s inbound only: %d IPComp, %d ESP states (want 1, 1)", mode, c, e)
		}
		if err := n.x.Install(sa, false); err != nil {
			t.Fatalf("IPComp %s: %v", mode, err)
		}
		states := n.states(t)
		t.Logf("IPComp %s: %d states in the kernel (in tunnel mode with its IPIP states for uncompressed packets)", mode, len(states))
		if c, e := countProto(states, netlink.XFRM_PROTO_COMP), countProto(states, netlink.XFRM_PROTO_ESP); c != 2 || e != 2 {
			t.Errorf("IPComp %s: %d IPComp, %d ESP states (want 2, 2)", mode, c, e)
		}
		for _, cpi := range []uint32{sa.InboundCPI, sa.OutboundCPI} {
			s := findProtoState(states, netlink.XFRM_PROTO_COMP, cpi)
			if s == nil || s.Mode != xfrmMode(mode) || s.Reqid != 16384 || s.Limits.TimeHard != 28800 {
				t.Errorf("IPComp %s: state for CPI 0x%x: %v", mode, cpi, s)
			}
		}
		if e := findProtoState(states, netlink.XFRM_PROTO_ESP, sa.InboundSPI); e == nil || e.Mode != netlink.XFRM_MODE_TRANSPORT {
			t.Errorf("IPComp %s: inner ESP state %v", mode, e)
		}
		for _, p := range n.policies(t) {
			if len(p.Tmpls) != 2 || p.Tmpls[0].Proto != netlink.XFRM_PROTO_COMP || p.Tmpls[1].Proto != netlink.XFRM_PROTO_ESP {
				t.Errorf("IPComp %s: policy %v", mode, p)
			}
		}
		if err := n.x.Delete(sa); err != nil {
			t.Error(err)
		}
		n.expectEmpty(t, "IPComp "+mode.String()+" after delete")
	}

	// A failure after the IPComp state went in (the outbound ESP SPI is
	// taken) takes out everything this call added.
	c := compSA(spec.EncapTunnel)
	squat.Spi = int(c.OutboundSPI)
	if err := n.h.XfrmStateAdd(squat); err != nil {
		t.Fatal(err)
	}
	err = n.x.Install(c, false)
	if err == nil || !strings.Contains(err.Error(), "SPI already in use") {
		t.Fatalf("IPComp, colliding SPI: %v", err)
	}
	if s, p := n.states(t), n.policies(t); len(s) != 1 || len(p) != 0 {
		t.Errorf("after the failed IPComp install: states %v (want the squatter), %d policies", s, len(p))
	}
	n.h.XfrmStateDel(squat)
	n.expectEmpty(t, "at the end")
}

func countProto(states []netlink.XfrmState, p netlink.Proto) int {
	n := 0
	for _, s := range states {
		if s.Proto == p {
			n++
		}
	}
	return n
}

func findProtoState(states []netlink.XfrmState, p netlink.Proto, spi uint32) *netlink.XfrmState {
	for i := range states {
		if states[i].Proto == p && uint32(states[i].Spi) == spi {
			return &states[i]
		}
	}
	return nil
}

func TestXFRMDefaultUpdown(t *testing.T) {
	n := newTestNS(t)
	if err := n.h.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "vl"}}); err != nil {
		if err := n.h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "vl"}}); err != nil {
			t.Skipf("xfrm: neither dummy nor bridge links: %v", err)
		}
	}
	l, _ := n.h.LinkByName("vl")
	addr, _ := netlink.ParseAddr("192.0.2.1/24")
	if err := n.h.AddrAdd(l, addr); err != nil {
		t.Fatal(err)
	}
	if err := n.h.LinkSetUp(l); err != nil {
		t.Fatal(err)
	}
	u := westUpdown(VerbRoute)
	u.Interface, u.NextHop = "vl", netip.MustParseAddr("192.0.2.2")
	routes := func() []string {
		rs, err := n.h.RouteList(nil, netlink.FAMILY_V4)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			if r.Dst != nil && r.Dst.String() == "10.2.0.0/24" {
				out = append(out, r.Gw.String())
			}
		}
		return out
	}
	if err := n.x.Updown(u); err != nil {
		t.Fatal(err)
	}
	if r := routes(); len(r) != 1 || r[0] != "192.0.2.2" {
		t.Errorf("route-client: routes to 10.2.0.0/24 via %v", r)
	}
	for _, verb := range []string{VerbPrepare, VerbUp, VerbDown} { // do nothing
		u.Verb = verb
		if err := n.x.Updown(u); err != nil {
			t.Error(err)
		}
	}
	u.Verb = VerbUnroute
	if err := n.x.Updown(u); err != nil {
		t.Fatal(err)
	}
	if r := routes(); len(r) != 0 {
		t.Errorf("unroute-client left %v", r)
	}
	// A route that was there before stays.
	_, dst, _ := net.ParseCIDR("10.2.0.0/24")
	if err := n.h.RouteAdd(&netlink.Route{Dst: dst, Gw: net.ParseIP("192.0.2.3"), LinkIndex: l.Attrs().Index}); err != nil {
		t.Fatal(err)
	}
	u.Verb = VerbRoute
	n.x.Updown(u)
	u.Verb = VerbUnroute
	n.x.Updown(u)
	if r := routes(); len(r) != 1 || r[0] != "192.0.2.3" {
		t.Errorf("the operator's route: %v", r)
	}
	// Host to host: nothing to route. An unreachable next hop: an error.
	u = westUpdown(VerbRoute)
	u.PeerClient = client("192.0.2.2/32")
	if err := n.x.Updown(u); err != nil {
		t.Error(err)
	}
	u = westUpdown(VerbRoute)
	u.PeerClient, u.Interface, u.NextHop = client("10.3.0.0/24"), "", netip.MustParseAddr("198.51.100.1")
	err := n.x.Updown(u)
	if err == nil || !strings.Contains(err.Error(), "cannot add route to 10.3.0.0/24 via 198.51.100.1") {
		t.Errorf("unreachable nexthop: %v", err)
	}
	t.Logf("unreachable nexthop: %v", err)
}
