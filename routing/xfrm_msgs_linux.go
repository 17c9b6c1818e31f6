//go:build linux

package routing

// Pure construction of the XFRM states and policies of an SA pair: no
// netlink I/O here, so that tests check every field without root.

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"

	"goswan/fsm"
	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/spec"
)

// ReplayWindow is the anti-replay window of our inbound SAs, in packets.
const ReplayWindow = 32

// xfrmAlg is an algorithm as the kernel names it.
type xfrmAlg struct {
	name  string
	trunc int // integrity: ICV bits; AEAD: ICV bits
}

// espCipher returns the kernel's name for an ESP cipher and whether it is
// an AEAD.
func espCipher(a *proposal.ESPAlg) (xfrmAlg, bool, error) {
	switch a.Enc {
	case spec.ESP3DES:
		return xfrmAlg{name: "cbc(des3_ede)"}, false, nil
	case spec.ESPAES:
		return xfrmAlg{name: "cbc(aes)"}, false, nil
	case spec.ESPAESGCM8:
		return xfrmAlg{name: "rfc4106(gcm(aes))", trunc: 64}, true, nil
	case spec.ESPAESGCM12:
		return xfrmAlg{name: "rfc4106(gcm(aes))", trunc: 96}, true, nil
	case spec.ESPAESGCM16:
		return xfrmAlg{name: "rfc4106(gcm(aes))", trunc: 128}, true, nil
	}
	return xfrmAlg{}, false, fmt.Errorf("kernel: ESP transform %s is not supported", spec.TransformName(spec.ProtoESP, a.Enc))
}

// integAlg returns the kernel's name for an integrity algorithm and its
// truncation (RFC 2403, 2404, 4868).
func integAlg(i spec.AuthAlgorithm) (xfrmAlg, error) {
	switch i {
	case spec.AuthAlgHMACMD5:
		return xfrmAlg{"hmac(md5)", 96}, nil
	case spec.AuthAlgHMACSHA1:
		return xfrmAlg{"hmac(sha1)", 96}, nil
	case spec.AuthAlgHMACSHA2256:
		return xfrmAlg{"hmac(sha256)", 128}, nil
	case spec.AuthAlgHMACSHA2384:
		return xfrmAlg{"hmac(sha384)", 192}, nil
	case spec.AuthAlgHMACSHA2512:
		return xfrmAlg{"hmac(sha512)", 256}, nil
	}
	return xfrmAlg{}, fmt.Errorf("kernel: integrity algorithm %v is not supported", i)
}

// espAlgs splits one direction's KEYMAT for an ESP transform: the cipher
// key first (with the 4-octet salt at its end for AES-GCM, as the kernel's
// rfc4106 expects it), then the integrity key.
func espAlgs(a *proposal.ESPAlg, key []byte) (crypt, auth, aead *netlink.XfrmStateAlgo, err error) {
	if a == nil {
		return nil, nil, nil, fmt.Errorf("kernel: ESP SA without an ESP algorithm")
	}
	c, isAEAD, err := espCipher(a)
	if err != nil {
		return nil, nil, nil, err
	}
	encLen, err := oakley.ESPKeyLen(a.Enc, a.KeyLen)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("kernel: %v", err)
	}
	intLen, err := oakley.AuthKeyLen(a.Integ)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("kernel: %v", err)
	}
	if len(key) != encLen+intLen {
		return nil, nil, nil, fmt.Errorf("kernel: %s needs %d octets of KEYMAT, got %d", a.XfrmName(), encLen+intLen, len(key))
	}
	ekey := append([]byte(nil), key[:encLen]...)
	if isAEAD {
		if a.Integ != spec.AuthAlgNone {
			return nil, nil, nil, fmt.Errorf("kernel: AEAD %s with integrity %v", a.XfrmName(), a.Integ)
		}
		return nil, nil, &netlink.XfrmStateAlgo{Name: c.name, Key: ekey, ICVLen: c.trunc}, nil
	}
	i, err := integAlg(a.Integ)
	if err != nil {
		return nil, nil, nil, err
	}
	return &netlink.XfrmStateAlgo{Name: c.name, Key: ekey},
		&netlink.XfrmStateAlgo{Name: i.name, Key: append([]byte(nil), key[encLen:]...), TruncateLen: i.trunc}, nil, nil
}

// ahAlg is the integrity algorithm of an AH SA: all of the KEYMAT.
func ahAlg(a *proposal.AHAlg, key []byte) (*netlink.XfrmStateAlgo, error) {
	if a == nil {
		return nil, fmt.Errorf("kernel: AH SA without an AH algorithm")
	}
	i, err := integAlg(a.Integ)
	if err != nil {
		return nil, err
	}
	n, err := oakley.AuthKeyLen(a.Integ)
	if err != nil {
		return nil, fmt.Errorf("kernel: %v", err)
	}
	if len(key) != n {
		return nil, fmt.Errorf("kernel: AH %s needs %d octets of KEYMAT, got %d", a.XfrmName(), n, len(key))
	}
	return &netlink.XfrmStateAlgo{Name: i.name, Key: append([]byte(nil), key...), TruncateLen: i.trunc}, nil
}

// stateLimits are the kernel lifetimes of an SA negotiated for d: the hard
// limit is d (the kernel removes the SA then), the soft one a tenth
// earlier (the kernel reports it; pluto rekeys on its own clock). Zero:
// no limit.
func stateLimits(d time.Duration) netlink.XfrmStateLimits {
	if d <= 0 {
		return netlink.XfrmStateLimits{}
	}
	hard := uint64((d + time.Second - 1) / time.Second)
	soft := hard - hard/10
	if soft >= hard {
		soft = hard - 1 // 0 (no soft limit) for one second
	}
	return netlink.XfrmStateLimits{TimeHard: hard, TimeSoft: soft}
}

func xfrmProto(p spec.ProtocolID) (netlink.Proto, error) {
	switch p {
	case spec.ProtoESP:
		return netlink.XFRM_PROTO_ESP, nil
	case spec.ProtoAH:
		return netlink.XFRM_PROTO_AH, nil
	case spec.ProtoIPComp:
		return netlink.XFRM_PROTO_COMP, nil
	}
	return 0, fmt.Errorf("kernel: IPsec protocol %d is not supported", p)
}

func xfrmMode(m spec.EncapsulationMode) netlink.Mode {
	if m == spec.EncapTunnel {
		return netlink.XFRM_MODE_TUNNEL
	}
	return netlink.XFRM_MODE_TRANSPORT
}

func ipOf(a netip.Addr) net.IP { return net.IP(a.Unmap().AsSlice()) }

func ipNet(p netip.Prefix) *net.IPNet {
	a := p.Addr().Unmap()
	bits := p.Bits() - unmappedBits(p)
	return &net.IPNet{IP: net.IP(netip.PrefixFrom(a, bits).Masked().Addr().AsSlice()), Mask: net.CIDRMask(bits, a.BitLen())}
}

// flowProto is the protocol of the traffic selectors: the clients' (both
// ends name the same one, or one of them none).
func flowProto(a, b fsm.Client) uint8 {
	if a.Proto != 0 {
		return a.Proto
	}
	return b.Proto
}

// selectorPolicy returns the traffic selector from src to dst as the
// netlink library spells selectors (an XfrmPolicy without templates).
func selectorPolicy(src, dst fsm.Client) *netlink.XfrmPolicy {
	return &netlink.XfrmPolicy{Src: ipNet(src.Net), Dst: ipNet(dst.Net), Proto: netlink.Proto(flowProto(src, dst)),
		SrcPort: int(src.Port), DstPort: int(dst.Port)}
}

// buildState returns the kernel state of one direction of sa: inbound from
// the peer to us with our SPI and the inbound KEYMAT, outbound from us to
// the peer with the peer's SPI and the outbound KEYMAT. The selector is the
// clients' traffic in that direction. Under IPComp in tunnel mode the state
// is in transport mode inside the IPComp SA's tunnel and, as strongSwan
// does for such a switched SA, has no selector.
func buildState(sa *KernelSA, inbound bool) (*netlink.XfrmState, error) {
	proto, err := xfrmProto(sa.Proto)
	if err != nil {
		return nil, err
	}
	st := &netlink.XfrmState{Proto: proto, Mode: xfrmMode(sa.Mode), Reqid: int(sa.ReqID),
		ReplayWindow: ReplayWindow, Limits: stateLimits(sa.Lifetime)}
	key := sa.OutboundKey
	st.Src, st.Dst, st.Spi = ipOf(sa.Local), ipOf(sa.Remote), int(sa.OutboundSPI)
	st.Selector = selectorPolicy(sa.LocalNet, sa.RemoteNet)
	if inbound {
		key = sa.InboundKey
		st.Src, st.Dst, st.Spi = ipOf(sa.Remote), ipOf(sa.Local), int(sa.InboundSPI)
		st.Selector = selectorPolicy(sa.RemoteNet, sa.LocalNet)
	}
	if uint32(st.Spi) < MinSPI {
		return nil, fmt.Errorf("kernel: SPI 0x%08x is reserved", uint32(st.Spi))
	}
	if sa.Compress && sa.Tunnel() {
		st.Mode, st.Selector = netlink.XFRM_MODE_TRANSPORT, nil
	}
	if e := sa.Encap; e != nil {
		// NAT-T: ESP in UDP; the socket on LocalPort has UDP_ENCAP set
		// (SetUDPEncap) so that the kernel takes the inbound packets.
		st.Encap = &netlink.XfrmStateEncap{Type: netlink.XFRM_ENCAP_ESPINUDP,
			SrcPort: int(e.LocalPort), DstPort: int(e.RemotePort)}
		if inbound {
			st.Encap.SrcPort, st.Encap.DstPort = int(e.RemotePort), int(e.LocalPort)
		}
		if e.PeerOA.IsValid() {
			st.Encap.OriginalAddress = ipOf(e.PeerOA)
		}
	}
	switch sa.Proto {
	case spec.ProtoESP:
		st.Crypt, st.Auth, st.Aead, err = espAlgs(sa.ESP, key)
	case spec.ProtoAH:
		st.Auth, err = ahAlg(sa.AH, key)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// CompAlg is the IPComp algorithm we install: IPCOMP_DEFLATE (RFC 2394).
const CompAlg = "deflate"

// buildCompState returns the IPComp state of one direction of sa (Compress):
// the CPI as SPI, the SA's mode (it carries the tunnel), lifetimes, no
// replay window (IPComp has no sequence numbers). The netlink library
// cannot add it (no XFRMA_ALG_COMP): see compStateMsg.
func buildCompState(sa *KernelSA, inbound bool) (*netlink.XfrmState, error) {
	st := &netlink.XfrmState{Proto: netlink.XFRM_PROTO_COMP, Mode: xfrmMode(sa.Mode), Reqid: int(sa.ReqID),
		Limits: stateLimits(sa.Lifetime)}
	st.Src, st.Dst, st.Spi = ipOf(sa.Local), ipOf(sa.Remote), int(sa.OutboundCPI)
	st.Selector = selectorPolicy(sa.LocalNet, sa.RemoteNet)
	if inbound {
		st.Src, st.Dst, st.Spi = ipOf(sa.Remote), ipOf(sa.Local), int(sa.InboundCPI)
		st.Selector = selectorPolicy(sa.RemoteNet, sa.LocalNet)
	}
	// RFC 3173 §3.3: 0-63 well known, 64-255 reserved, 256-61439 negotiated.
	if st.Spi < 0x100 || st.Spi > 0xefff {
		return nil, fmt.Errorf("kernel: CPI 0x%04x is not negotiable", st.Spi)
	}
	return st, nil
}

// compStateMsg is the body of XFRM_MSG_NEWSA (or UPDSA) for an IPComp
// state: struct xfrm_usersa_info and the XFRMA_ALG_COMP attribute (struct
// xfrm_algo naming the algorithm, no key), built as the netlink library
// builds its other states.
func compStateMsg(st *netlink.XfrmState) []nl.NetlinkRequestData {
	msg := &nl.XfrmUsersaInfo{}
	msg.Family = uint16(nl.GetIPFamily(st.Dst))
	msg.Id.Daddr.FromIP(st.Dst)
	msg.Saddr.FromIP(st.Src)
	msg.Id.Proto = uint8(st.Proto)
	msg.Id.Spi = nl.Swap32(uint32(st.Spi))
	msg.Mode = uint8(st.Mode)
	msg.Reqid = uint32(st.Reqid)
	msg.ReplayWindow = uint8(st.ReplayWindow)
	if p := st.Selector; p != nil {
		sel := &msg.Sel
		sel.Family = uint16(nl.GetIPFamily(p.Dst.IP))
		sel.Daddr.FromIP(p.Dst.IP)
		sel.Saddr.FromIP(p.Src.IP)
		d, _ := p.Dst.Mask.Size()
		s, _ := p.Src.Mask.Size()
		sel.PrefixlenD, sel.PrefixlenS = uint8(d), uint8(s)
		sel.Proto = uint8(p.Proto)
		sel.Dport, sel.Sport = nl.Swap16(uint16(p.DstPort)), nl.Swap16(uint16(p.SrcPort))
		if sel.Dport != 0 {
			sel.DportMask = ^uint16(0)
		}
		if sel.Sport != 0 {
			sel.SportMask = ^uint16(0)
		}
	}
	lft := &msg.Lft
	lft.SoftByteLimit, lft.HardByteLimit = nl.XFRM_INF, nl.XFRM_INF
	lft.SoftPacketLimit, lft.HardPacketLimit = nl.XFRM_INF, nl.XFRM_INF
	lft.SoftAddExpiresSeconds, lft.HardAddExpiresSeconds = st.Limits.TimeSoft, st.Limits.TimeHard
	algo := nl.XfrmAlgo{}
	copy(algo.AlgName[:], CompAlg)
	return []nl.NetlinkRequestData{msg, nl.NewRtAttr(nl.XFRMA_ALG_COMP, algo.Serialize())}
}

// Policy priorities: the kernel prefers the lowest number, so more
// specific selectors get lower ones (as libreswan computes them).
const basePriority = 2048

func policyPriority(p *KernelPolicy) int {
	max := func(n netip.Prefix) int { return n.Addr().Unmap().BitLen() }
	prio := basePriority + (max(p.LocalNet.Net) - p.LocalNet.Net.Bits()) + (max(p.RemoteNet.Net) - p.RemoteNet.Net.Bits())
	if flowProto(p.LocalNet, p.RemoteNet) != 0 {
		prio--
	}
	if p.LocalNet.Port != 0 {
		prio--
	}
	if p.RemoteNet.Port != 0 {
		prio--
	}
	return prio
}

// policyTmpls are the templates of the policy's SAs in one direction: the
// outer addresses, protocol, mode and the connection's reqid (no SPI: any
// SA of the connection matches). With IPComp, the IPComp SA's template
// comes first (it carries the mode; optional inbound, where the peer's
// uncompressed small packets arrive without it), then Proto's in
// transport mode.
func policyTmpls(p *KernelPolicy, inbound bool) ([]netlink.XfrmPolicyTmpl, error) {
	proto, err := xfrmProto(p.Proto)
	if err != nil {
		return nil, err
	}
	t := netlink.XfrmPolicyTmpl{Src: ipOf(p.Local), Dst: ipOf(p.Remote), Proto: proto, Mode: xfrmMode(p.Mode), Reqid: int(p.ReqID)}
	if inbound {
		t.Src, t.Dst = t.Dst, t.Src
	}
	if !p.Compress {
		return []netlink.XfrmPolicyTmpl{t}, nil
	}
	comp := t
	comp.Proto = netlink.XFRM_PROTO_COMP
	if inbound {
		comp.Optional = 1
	}
	t.Mode = netlink.XFRM_MODE_TRANSPORT
	return []netlink.XfrmPolicyTmpl{comp, t}, nil
}

// buildPolicies returns the policies of one direction of p: outbound the
// "out" policy from our client to the peer's; inbound the "in" policy
// from the peer's client to ours and, in tunnel mode, the "fwd" policy for
// traffic forwarded to our client subnet.
func buildPolicies(p *KernelPolicy, inbound bool) ([]*netlink.XfrmPolicy, error) {
	t, err := policyTmpls(p, inbound)
	if err != nil {
		return nil, err
	}
	prio := policyPriority(p)
	if !inbound {
		sel := selectorPolicy(p.LocalNet, p.RemoteNet)
		sel.Dir, sel.Priority, sel.Tmpls = netlink.XFRM_DIR_OUT, prio, t
		return []*netlink.XfrmPolicy{sel}, nil
	}
	dirs := []netlink.Dir{netlink.XFRM_DIR_IN}
	if p.Tunnel() {
		dirs = append(dirs, netlink.XFRM_DIR_FWD)
	}
	var out []*netlink.XfrmPolicy
	for _, d := range dirs {
		sel := selectorPolicy(p.RemoteNet, p.LocalNet)
		sel.Dir, sel.Priority, sel.Tmpls = d, prio, append([]netlink.XfrmPolicyTmpl(nil), t...)
		out = append(out, sel)
	}
	return out, nil
}

// policyKey identifies a kernel policy: direction and selector.
type policyKey struct {
	dir              netlink.Dir
	src, dst         netip.Prefix
	proto            uint8
	srcPort, dstPort uint16
}

func keyOf(pol *netlink.XfrmPolicy) policyKey {
	pfx := func(n *net.IPNet) netip.Prefix {
		a, _ := netip.AddrFromSlice(n.IP)
		ones, _ := n.Mask.Size()
		return netip.PrefixFrom(a.Unmap(), ones)
	}
	return policyKey{dir: pol.Dir, src: pfx(pol.Src), dst: pfx(pol.Dst), proto: uint8(pol.Proto),
		srcPort: uint16(pol.SrcPort), dstPort: uint16(pol.DstPort)}
}

func (k policyKey) String() string {
	s := fmt.Sprintf("%s %s->%s", k.dir, k.src, k.dst)
	if k.proto != 0 || k.srcPort != 0 || k.dstPort != 0 {
		s += fmt.Sprintf(" proto %d ports %d->%d", k.proto, k.srcPort, k.dstPort)
	}
	return s
}
