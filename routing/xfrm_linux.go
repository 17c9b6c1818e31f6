//go:build linux

package routing

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"goswan/spec"
)

// XFRM is --use-netkey: SAs and policies in the Linux XFRM framework over
// netlink. It works in the network namespace it was created in.
//
// Policies are shared: an SA pair holds a reference on each policy it
// installed (a newer SA of the same connection reuses them while rekeying),
// and a routed connection's trap keeps its outbound policy; a policy goes
// when nothing holds it any more.
type XFRM struct {
	mu      sync.Mutex
	h       *netlink.Handle // NETLINK_XFRM and NETLINK_ROUTE
	spiSock *nl.SocketHandle
	spis    spiSet
	larval  map[stateID]time.Time // SPIs from ALLOCSPI not yet installed, and when
	pruned  time.Time             // the last pruneLarval
	sas     map[stateID]*xfrmPair
	pols    map[policyKey]*policyRef
	routes  map[netip.Prefix]*netlink.Route // added by the default updown
	ns      netns.NsHandle                  // ours (a duplicate), or netns.None()
	acqSock *nl.NetlinkSocket               // WatchAcquire's
}

// stateID names a kernel SA: destination, protocol, SPI.
type stateID struct {
	dst   netip.Addr
	proto netlink.Proto
	spi   uint32
}

// xfrmPair is what Install put in the kernel for one SA pair.
type xfrmPair struct {
	in, out         *netlink.XfrmState
	compIn, compOut *netlink.XfrmState // IPComp's, when compressing
	inPols, outPols []policyKey
}

type policyRef struct {
	pol  *netlink.XfrmPolicy // as in the kernel
	refs int                 // SA pairs using it
	trap *netlink.XfrmPolicy // the routed connection's trap, or nil
}

// ErrNoXFRM and ErrNoESP are what Probe reports (wrapped with the reason).
var (
	ErrNoXFRM = errors.New("netlink XFRM is not available")
	ErrNoESP  = errors.New("the kernel has XFRM but no ESP")
)

// NewXFRM opens the XFRM interface in the current network namespace.
func NewXFRM() (*XFRM, error) { return NewXFRMAt(netns.None()) }

// NewXFRMAt opens the XFRM interface in network namespace ns
// (netns.None(): the current one). It fails when netlink XFRM cannot be
// used (no xfrm_user, not root).
func NewXFRMAt(ns netns.NsHandle) (*XFRM, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_XFRM, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoXFRM, explain(err, ""))
	}
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_XFRM)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("%w: %s", ErrNoXFRM, explain(err, ""))
	}
	tv := unix.Timeval{Sec: 5}
	s.SetSendTimeout(&tv)
	s.SetReceiveTimeout(&tv)
	h.SetSocketTimeout(5e9)
	x := &XFRM{h: h, spiSock: &nl.SocketHandle{Socket: s}, spis: spiSet{}, larval: map[stateID]time.Time{},
		sas: map[stateID]*xfrmPair{}, pols: map[policyKey]*policyRef{}, routes: map[netip.Prefix]*netlink.Route{},
		ns: netns.None()}
	if ns.IsOpen() {
		if fd, err := unix.Dup(int(ns)); err == nil {
			x.ns = netns.NsHandle(fd)
		}
	}
	if _, err := h.XfrmPolicyList(netlink.FAMILY_ALL); err != nil {
		x.Close()
		return nil, fmt.Errorf("%w: %s", ErrNoXFRM, explain(err, ""))
	}
	return x, nil
}

// Probe reports whether this kernel can carry ESP SAs: nil when it can,
// an error wrapping ErrNoXFRM when netlink XFRM cannot be used at all, or
// ErrNoESP when XFRM works but ESP states cannot be added.
func Probe() error {
	x, err := NewXFRM()
	if err != nil {
		return err
	}
	defer x.Close()
	return x.ProbeESP()
}

// ProbeESP adds and removes an ESP state (AES-CBC, HMAC-SHA1) with a
// reserved SPI on a loopback address.
func (x *XFRM) ProbeESP() error {
	st := &netlink.XfrmState{Src: net.IPv4(127, 0, 0, 1), Dst: net.IPv4(127, 255, 255, 254), Proto: netlink.XFRM_PROTO_ESP,
		Mode: netlink.XFRM_MODE_TRANSPORT, Spi: 0xff,
		Crypt: &netlink.XfrmStateAlgo{Name: "cbc(aes)", Key: make([]byte, 16)},
		Auth:  &netlink.XfrmStateAlgo{Name: "hmac(sha1)", Key: make([]byte, 20), TruncateLen: 96}}
	x.mu.Lock()
	defer x.mu.Unlock()
	err := x.h.XfrmStateAdd(st)
	switch {
	case err == nil:
		x.h.XfrmStateDel(st)
		return nil
	case errors.Is(err, unix.EEXIST): // someone's state with that SPI: ESP is there
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNoESP, explain(err, "ESP"))
}

// Name implements Kernel.
func (x *XFRM) Name() string { return "netkey" }

// Close implements Kernel. SPIs allocated but never installed are released.
func (x *XFRM) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.h == nil {
		return nil
	}
	for id := range x.larval {
		x.delState(id)
	}
	x.larval = map[stateID]time.Time{}
	x.h.Close()
	x.spiSock.Close()
	if x.acqSock != nil {
		x.acqSock.Close()
	}
	if x.ns.IsOpen() {
		x.ns.Close()
	}
	x.h = nil
	return nil
}

func (x *XFRM) delState(id stateID) error {
	return x.h.XfrmStateDel(&netlink.XfrmState{Dst: ipOf(id.dst), Proto: id.proto, Spi: int(id.spi)})
}

// AllocSPI implements Kernel: XFRM_MSG_ALLOCSPI in 0x1000-0xffffffff (CPIs
// in 0x100-0xefff) when the addresses are known (the kernel keeps a larval
// state holding the SPI until Install replaces it, or for
// net.core.xfrm_acq_expires seconds), else a random SPI the kernel does
// not use.
func (x *XFRM) AllocSPI(proto spec.ProtocolID, src, dst netip.Addr) []byte {
	x.mu.Lock()
	defer x.mu.Unlock()
	p, err := xfrmProto(proto)
	lo, hi := uint32(MinSPI), uint32(0xffffffff)
	if proto == spec.ProtoIPComp {
		lo, hi = MinCPI, MaxCPI
	}
	x.pruneLarval(time.Now())
	if err == nil && src.IsValid() && dst.IsValid() {
		if spi, err := x.allocSPI(p, src.Unmap(), dst.Unmap(), lo, hi); err == nil && spi >= lo && spi <= hi && !x.spis[spi] {
			x.spis[spi] = true
			x.larval[stateID{dst.Unmap(), p, spi}] = time.Now()
			return spiBytes(proto, spi)
		}
	}
	for {
		v := x.spis.random(proto)
		if err != nil || !dst.IsValid() {
			return spiBytes(proto, v)
		}
		if _, gerr := x.h.XfrmStateGet(&netlink.XfrmState{Dst: ipOf(dst), Proto: p, Spi: int(v)}); gerr != nil {
			return spiBytes(proto, v)
		}
	}
}

// larvalKeep is how long we remember an SPI from ALLOCSPI that was never
// installed (a negotiation that failed, a CPI the peer did not take): the
// kernel drops its larval state after net.core.xfrm_acq_expires (30 s by
// default).
const larvalKeep = 2 * time.Minute

func (x *XFRM) isLarval(id stateID) bool {
	_, ok := x.larval[id]
	return ok
}

// pruneLarval forgets the SPIs allocated longer than larvalKeep ago and
// never installed; the kernel has expired them.
func (x *XFRM) pruneLarval(now time.Time) {
	if now.Sub(x.pruned) < larvalKeep/4 {
		return
	}
	x.pruned = now
	for id, t := range x.larval {
		if now.Sub(t) > larvalKeep {
			delete(x.larval, id)
			delete(x.spis, id.spi)
		}
	}
}

// allocSPI sends XFRM_MSG_ALLOCSPI for an SPI in lo-hi (the netlink
// library's own asks for 0x100 and up).
func (x *XFRM) allocSPI(p netlink.Proto, src, dst netip.Addr, lo, hi uint32) (uint32, error) {
	req := nl.NewNetlinkRequest(nl.XFRM_MSG_ALLOCSPI, unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_XFRM: x.spiSock}
	msg := &nl.XfrmUserSpiInfo{Min: lo, Max: hi}
	msg.XfrmUsersaInfo.Family = uint16(nl.GetIPFamily(ipOf(dst)))
	msg.XfrmUsersaInfo.Id.Daddr.FromIP(ipOf(dst))
	msg.XfrmUsersaInfo.Id.Proto = uint8(p)
	msg.XfrmUsersaInfo.Saddr.FromIP(ipOf(src))
	req.AddData(msg)
	msgs, err := req.Execute(unix.NETLINK_XFRM, nl.XFRM_MSG_NEWSA)
	if err != nil {
		return 0, err
	}
	if len(msgs) == 0 || len(msgs[0]) < nl.SizeofXfrmUsersaInfo {
		return 0, fmt.Errorf("short ALLOCSPI reply")
	}
	return nl.Swap32(nl.DeserializeXfrmUsersaInfo(msgs[0]).Id.Spi), nil
}

// Install implements Kernel: the inbound state and its in (and fwd)
// policies, then unless inboundOnly the outbound state and its out policy.
// States go in before the policies that use them. On error everything
// this call added is taken out again, and an SPI that can no longer be
// used is released.
func (x *XFRM) Install(sa *KernelSA, inboundOnly bool) (err error) {
	proto, err := xfrmProto(sa.Proto)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	id := stateID{sa.Local, proto, sa.InboundSPI}
	pair := x.sas[id]
	fresh := pair == nil
	if fresh {
		pair = &xfrmPair{}
	}
	compID := stateID{sa.Local, netlink.XFRM_PROTO_COMP, sa.InboundCPI}
	var undo []func()
	defer func() {
		if err == nil {
			x.sas[id] = pair
			return
		}
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		for _, l := range []stateID{id, compID} {
			if fresh && x.isLarval(l) {
				x.delState(l)
				delete(x.larval, l)
			}
		}
	}()
	if pair.in == nil {
		st, err := buildState(sa, true)
		if err != nil {
			return err
		}
		pols, err := buildPolicies(&sa.KernelPolicy, true)
		if err != nil {
			return err
		}
		if sa.Compress {
			comp, err := buildCompState(sa, true)
			if err != nil {
				return err
			}
			if err := x.addCompState(comp, x.isLarval(compID)); err != nil {
				return stateErr("add", sa, comp, err)
			}
			delete(x.larval, compID)
			undo = append(undo, func() { x.h.XfrmStateDel(comp); pair.compIn = nil })
			pair.compIn = comp
		}
		if err := x.addState(st, x.isLarval(id)); err != nil {
			return stateErr("add", sa, st, err)
		}
		delete(x.larval, id)
		undo = append(undo, func() { x.h.XfrmStateDel(st); pair.in = nil })
		pair.in = st
		for _, pol := range pols {
			k, err := x.refPolicy(pol)
			if err != nil {
				return policyErr("add", k, err)
			}
			pair.inPols = append(pair.inPols, k)
			undo = append(undo, func() { x.unrefPolicy(k); pair.inPols = pair.inPols[:len(pair.inPols)-1] })
		}
	}
	if inboundOnly || pair.out != nil {
		return nil
	}
	st, err := buildState(sa, false)
	if err != nil {
		return err
	}
	pols, err := buildPolicies(&sa.KernelPolicy, false)
	if err != nil {
		return err
	}
	if sa.Compress {
		comp, err := buildCompState(sa, false)
		if err != nil {
			return err
		}
		if err := x.addCompState(comp, false); err != nil {
			return stateErr("add", sa, comp, err)
		}
		undo = append(undo, func() { x.h.XfrmStateDel(comp); pair.compOut = nil })
		pair.compOut = comp
	}
	if err := x.addState(st, false); err != nil {
		return stateErr("add", sa, st, err)
	}
	undo = append(undo, func() { x.h.XfrmStateDel(st); pair.out = nil })
	pair.out = st
	for _, pol := range pols {
		k, err := x.refPolicy(pol)
		if err != nil {
			return policyErr("add", k, err)
		}
		pair.outPols = append(pair.outPols, k)
		undo = append(undo, func() { x.unrefPolicy(k); pair.outPols = pair.outPols[:len(pair.outPols)-1] })
	}
	return nil
}

// addState adds st; a state over a larval one from ALLOCSPI is an update
// (XFRM_MSG_UPDSA replaces it), falling back to an add when the larval
// state has expired.
func (x *XFRM) addState(st *netlink.XfrmState, larval bool) error {
	if larval {
		err := x.h.XfrmStateUpdate(st)
		if !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return x.h.XfrmStateAdd(st)
}

// addCompState adds an IPComp state (over a larval one from ALLOCSPI: an
// update), by hand: the netlink library has no XFRMA_ALG_COMP.
func (x *XFRM) addCompState(st *netlink.XfrmState, larval bool) error {
	add := func(typ int) error {
		req := nl.NewNetlinkRequest(typ, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
		req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_XFRM: x.spiSock}
		for _, d := range compStateMsg(st) {
			req.AddData(d)
		}
		_, err := req.Execute(unix.NETLINK_XFRM, 0)
		return err
	}
	if larval {
		err := add(nl.XFRM_MSG_UPDSA)
		if !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return add(nl.XFRM_MSG_NEWSA)
}

// refPolicy installs pol or takes another reference on the identical
// policy in place.
func (x *XFRM) refPolicy(pol *netlink.XfrmPolicy) (policyKey, error) {
	k := keyOf(pol)
	r := x.pols[k]
	if r != nil && samePolicy(r.pol, pol) {
		r.refs++
		return k, nil
	}
	if err := x.h.XfrmPolicyUpdate(pol); err != nil {
		return k, err
	}
	if r == nil {
		r = &policyRef{}
		x.pols[k] = r
	}
	r.pol = pol
	r.refs++
	return k, nil
}

// unrefPolicy drops a reference; the last one removes the policy, or puts
// the trap back.
func (x *XFRM) unrefPolicy(k policyKey) error {
	r := x.pols[k]
	if r == nil {
		return nil
	}
	if r.refs > 0 {
		r.refs--
	}
	if r.refs > 0 {
		return nil
	}
	if r.trap != nil {
		if samePolicy(r.pol, r.trap) {
			return nil
		}
		r.pol = r.trap
		return x.h.XfrmPolicyUpdate(r.trap)
	}
	delete(x.pols, k)
	if err := x.h.XfrmPolicyDel(r.pol); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

func samePolicy(a, b *netlink.XfrmPolicy) bool {
	if keyOf(a) != keyOf(b) || a.Priority != b.Priority || len(a.Tmpls) != len(b.Tmpls) {
		return false
	}
	for i := range a.Tmpls {
		s, t := a.Tmpls[i], b.Tmpls[i]
		if !s.Src.Equal(t.Src) || !s.Dst.Equal(t.Dst) || s.Proto != t.Proto || s.Mode != t.Mode || s.Reqid != t.Reqid ||
			s.Spi != t.Spi || s.Optional != t.Optional {
			return false
		}
	}
	return true
}

// Delete implements Kernel: the pair's policies (out first), then its
// states. A state the kernel already expired is not an error.
func (x *XFRM) Delete(sa *KernelSA) error {
	proto, err := xfrmProto(sa.Proto)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	id := stateID{sa.Local, proto, sa.InboundSPI}
	pair := x.sas[id]
	if pair == nil {
		for _, l := range []stateID{id, {sa.Local, netlink.XFRM_PROTO_COMP, sa.InboundCPI}} {
			if x.isLarval(l) {
				delete(x.larval, l)
				x.delState(l)
			}
		}
		return nil
	}
	delete(x.sas, id)
	delete(x.spis, sa.InboundSPI)
	if pair.compIn != nil {
		delete(x.spis, sa.InboundCPI)
	}
	var errs []error
	for _, k := range append(append([]policyKey(nil), pair.outPols...), pair.inPols...) {
		if err := x.unrefPolicy(k); err != nil {
			errs = append(errs, policyErr("delete", k, err))
		}
	}
	for _, st := range []*netlink.XfrmState{pair.out, pair.compOut, pair.in, pair.compIn} {
		if st == nil {
			continue
		}
		if err := x.h.XfrmStateDel(st); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, stateErr("delete", sa, st, err))
		}
	}
	return errors.Join(errs...)
}

// UpdateEncap implements EncapUpdater: both states of the pair get the
// new UDP ports (XFRM_MSG_UPDSA keeps keys, counters and replay state).
func (x *XFRM) UpdateEncap(sa *KernelSA) error {
	proto, err := xfrmProto(sa.Proto)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	pair := x.sas[stateID{sa.Local, proto, sa.InboundSPI}]
	if pair == nil {
		return fmt.Errorf("kernel: no SA 0x%08x to update", sa.InboundSPI)
	}
	for _, in := range []bool{true, false} {
		st, err := buildState(sa, in)
		if err != nil {
			return err
		}
		if in && pair.in == nil || !in && pair.out == nil {
			continue
		}
		if err := x.h.XfrmStateUpdate(st); err != nil {
			return stateErr("update", sa, st, err)
		}
		if in {
			pair.in = st
		} else {
			pair.out = st
		}
	}
	return nil
}

// SetUDPEncap makes the kernel take ESP out of UDP datagrams arriving on
// the NAT-T socket c (setsockopt SOL_UDP UDP_ENCAP UDP_ENCAP_ESPINUDP, as
// libreswan and strongSwan do); IKE messages, which start with the
// non-ESP marker, still reach the socket, keepalives do not.
func SetUDPEncap(c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_ENCAP, unix.UDP_ENCAP_ESPINUDP)
	}); err != nil {
		return err
	}
	return serr
}

// Route implements Kernel: the outbound policy without an SA. Traffic it
// catches is held and the kernel sends an ACQUIRE.
func (x *XFRM) Route(p *KernelPolicy) error {
	pols, err := buildPolicies(p, false)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, pol := range pols {
		k := keyOf(pol)
		r := x.pols[k]
		if r == nil {
			if err := x.h.XfrmPolicyUpdate(pol); err != nil {
				return policyErr("add", k, err)
			}
			r = &policyRef{pol: pol}
			x.pols[k] = r
		}
		r.trap = pol
	}
	return nil
}

// Unroute implements Kernel: the trap goes, unless an SA still uses the
// policy (it goes with the SA).
func (x *XFRM) Unroute(p *KernelPolicy) error {
	pols, err := buildPolicies(p, false)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, pol := range pols {
		k := keyOf(pol)
		r := x.pols[k]
		if r == nil || r.trap == nil {
			continue
		}
		r.trap = nil
		if r.refs == 0 {
			delete(x.pols, k)
			if err := x.h.XfrmPolicyDel(r.pol); err != nil && !errors.Is(err, unix.ENOENT) {
				return policyErr("delete", k, err)
			}
		}
	}
	return nil
}

// Updown implements Kernel: what Openswan's _updown.netkey does by
// default — route-client adds a route to the peer's client subnet via the
// next hop (src PLUTO_MY_SOURCEIP when set), unroute-client removes it.
// A route that was there before is left alone. Other verbs do nothing.
func (x *XFRM) Updown(u *Updown) error {
	peer := u.PeerClient.Net
	if !peer.IsValid() || (peer.IsSingleIP() && peer.Addr().Unmap() == u.Peer.Unmap()) {
		return nil // the peer is a host: nothing to route
	}
	peer = netip.PrefixFrom(peer.Addr().Unmap(), peer.Bits()-unmappedBits(peer)).Masked()
	x.mu.Lock()
	defer x.mu.Unlock()
	switch u.Verb {
	case VerbRoute:
		if x.routes[peer] != nil {
			return nil
		}
		r := &netlink.Route{Dst: ipNet(peer)}
		if u.Interface != "" {
			if l, err := x.h.LinkByName(u.Interface); err == nil {
				r.LinkIndex = l.Attrs().Index
			}
		}
		if hop := u.NextHop; hop.IsValid() && !hop.IsUnspecified() {
			r.Gw = ipOf(hop)
		}
		if u.MySourceIP.IsValid() {
			r.Src = ipOf(u.MySourceIP)
		}
		err := x.h.RouteAdd(r)
		switch {
		case errors.Is(err, unix.EEXIST):
			return nil
		case err != nil:
			return fmt.Errorf("kernel: cannot add route to %s via %s: %s", peer, u.NextHop, explain(err, ""))
		}
		x.routes[peer] = r
	case VerbUnroute:
		r := x.routes[peer]
		if r == nil {
			return nil
		}
		delete(x.routes, peer)
		if err := x.h.RouteDel(r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kernel: cannot delete route to %s: %s", peer, explain(err, ""))
		}
	}
	return nil
}

// stateErr is a kernel error about one SA, in words an operator can act on:
// "kernel: cannot add ESP SA 0x8d727391 (192.0.2.1->192.0.2.2): protocol
// not supported (no ESP in this kernel?)".
func stateErr(op string, sa *KernelSA, st *netlink.XfrmState, err error) error {
	what := protoName(sa.Proto)
	if st.Proto == netlink.XFRM_PROTO_COMP {
		what = "IPCOMP"
	}
	algs := ""
	for _, a := range []*netlink.XfrmStateAlgo{st.Crypt, st.Auth, st.Aead} {
		if a != nil {
			if algs != "" {
				algs += ", "
			}
			algs += a.Name
		}
	}
	if st.Proto == netlink.XFRM_PROTO_COMP {
		algs = CompAlg
	}
	return fmt.Errorf("kernel: cannot %s %s SA 0x%08x (%s->%s): %s", op, what, uint32(st.Spi), st.Src, st.Dst, explainAlg(err, what, algs))
}

func policyErr(op string, k policyKey, err error) error {
	return fmt.Errorf("kernel: cannot %s policy %s: %s", op, k, explain(err, ""))
}

func explain(err error, proto string) string { return explainAlg(err, proto, "") }

// explainAlg turns a netlink error into words an operator can act on.
func explainAlg(err error, proto, algs string) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	switch errno {
	case unix.EPROTONOSUPPORT:
		if proto != "" {
			return fmt.Sprintf("protocol not supported (no %s in this kernel?)", proto)
		}
		return "protocol not supported (no netlink XFRM (xfrm_user) in this kernel?)"
	case unix.ENOSYS, unix.ENOENT:
		if algs != "" {
			return fmt.Sprintf("algorithm not available in this kernel (%s)", algs)
		}
	case unix.EEXIST:
		if proto != "" {
			return "SPI already in use"
		}
		return "already exists"
	case unix.EPERM, unix.EACCES:
		return "operation not permitted (pluto needs root or CAP_NET_ADMIN)"
	}
	return err.Error()
}
