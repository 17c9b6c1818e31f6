//go:build linux

package routing

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"goswan/fsm"
	"goswan/fsm/proposal"
	"goswan/spec"
)

// seq returns n octets 0, 1, 2, ... so that a key split shows where it cut.
func seq(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func client(s string) fsm.Client { return fsm.Client{Net: netip.MustParsePrefix(s)} }

// tunnelSA is the demo's west end: 192.0.2.1 with 10.1.0.0/24 to
// 192.0.2.2 with 10.2.0.0/24.
func tunnelSA(alg proposal.ESPAlg) *KernelSA {
	n, err := alg.KeymatLen()
	if err != nil {
		panic(err)
	}
	return &KernelSA{
		KernelPolicy: KernelPolicy{Conn: "west-east", ReqID: 16384, Proto: spec.ProtoESP, Mode: spec.EncapTunnel,
			Local: netip.MustParseAddr("192.0.2.1"), Remote: netip.MustParseAddr("192.0.2.2"),
			LocalNet: client("10.1.0.0/24"), RemoteNet: client("10.2.0.0/24")},
		ESP: &alg, InboundSPI: 0xc66770a2, OutboundSPI: 0x8d727391,
		InboundKey: seq(n, 0), OutboundKey: seq(n, 0x80), Lifetime: 8 * time.Hour,
	}
}

func TestESPAlgorithms(t *testing.T) {
	cases := []struct {
		alg             proposal.ESPAlg
		crypt, auth     string
		encLen, authLen int // octets of KEYMAT
		trunc, icv      int // bits
	}{
		{proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1}, "cbc(aes)", "hmac(sha1)", 16, 20, 96, 0},
		{proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 0, Integ: spec.AuthAlgHMACSHA1}, "cbc(aes)", "hmac(sha1)", 16, 20, 96, 0},
		{proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 192, Integ: spec.AuthAlgHMACSHA2384}, "cbc(aes)", "hmac(sha384)", 24, 48, 192, 0},
		{proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 256, Integ: spec.AuthAlgHMACSHA2256}, "cbc(aes)", "hmac(sha256)", 32, 32, 128, 0},
		{proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA2512}, "cbc(aes)", "hmac(sha512)", 16, 64, 256, 0},
		{proposal.ESPAlg{Enc: spec.ESP3DES, Integ: spec.AuthAlgHMACMD5}, "cbc(des3_ede)", "hmac(md5)", 24, 16, 96, 0},
		{proposal.ESPAlg{Enc: spec.ESP3DES, Integ: spec.AuthAlgHMACSHA1}, "cbc(des3_ede)", "hmac(sha1)", 24, 20, 96, 0},
		{proposal.ESPAlg{Enc: spec.ESPAESGCM16, KeyLen: 128}, "rfc4106(gcm(aes))", "", 20, 0, 0, 128},
		{proposal.ESPAlg{Enc: spec.ESPAESGCM16, KeyLen: 256}, "rfc4106(gcm(aes))", "", 36, 0, 0, 128},
		{proposal.ESPAlg{Enc: spec.ESPAESGCM12, KeyLen: 192}, "rfc4106(gcm(aes))", "", 28, 0, 0, 96},
		{proposal.ESPAlg{Enc: spec.ESPAESGCM8, KeyLen: 128}, "rfc4106(gcm(aes))", "", 20, 0, 0, 64},
	}
	for _, c := range cases {
		t.Run(c.alg.String(), func(t *testing.T) {
			// The state machine derives KeymatLen octets: our split must use them all.
			n, err := c.alg.KeymatLen()
			if err != nil || n != c.encLen+c.authLen {
				t.Fatalf("KeymatLen = %d, %v; want %d", n, err, c.encLen+c.authLen)
			}
			sa := tunnelSA(c.alg)
			for _, inbound := range []bool{true, false} {
				st, err := buildState(sa, inbound)
				if err != nil {
					t.Fatal(err)
				}
				key := sa.OutboundKey
				if inbound {
					key = sa.InboundKey
				}
				if c.icv != 0 {
					if st.Crypt != nil || st.Auth != nil || st.Aead == nil {
						t.Fatalf("AEAD: crypt %v auth %v aead %v", st.Crypt, st.Auth, st.Aead)
					}
					// rfc4106: key then the 4-octet salt, as KEYMAT has them.
					if st.Aead.Name != c.crypt || st.Aead.ICVLen != c.icv || !bytes.Equal(st.Aead.Key, key) {
						t.Errorf("aead = %v, want %s icv %d key %x", st.Aead, c.crypt, c.icv, key)
					}
					continue
				}
				if st.Aead != nil || st.Crypt == nil || st.Auth == nil {
					t.Fatalf("crypt %v auth %v aead %v", st.Crypt, st.Auth, st.Aead)
				}
				if st.Crypt.Name != c.crypt || !bytes.Equal(st.Crypt.Key, key[:c.encLen]) {
					t.Errorf("crypt = %v, want %s key %x", st.Crypt, c.crypt, key[:c.encLen])
				}
				if st.Auth.Name != c.auth || st.Auth.TruncateLen != c.trunc || !bytes.Equal(st.Auth.Key, key[c.encLen:]) {
					t.Errorf("auth = %v, want %s/%d key %x", st.Auth, c.auth, c.trunc, key[c.encLen:])
				}
			}
			// A KEYMAT of the wrong length is refused, not cut.
			sa.InboundKey = sa.InboundKey[:n-1]
			if _, err := buildState(sa, true); err == nil || !strings.Contains(err.Error(), "octets of KEYMAT") {
				t.Errorf("short KEYMAT: err = %v", err)
			}
		})
	}
}

func TestAHAlgorithm(t *testing.T) {
	for _, c := range []struct {
		integ spec.AuthAlgorithm
		name  string
		n     int
		trunc int
	}{
		{spec.AuthAlgHMACSHA1, "hmac(sha1)", 20, 96},
		{spec.AuthAlgHMACMD5, "hmac(md5)", 16, 96},
		{spec.AuthAlgHMACSHA2256, "hmac(sha256)", 32, 128},
		{spec.AuthAlgHMACSHA2384, "hmac(sha384)", 48, 192},
		{spec.AuthAlgHMACSHA2512, "hmac(sha512)", 64, 256},
	} {
		sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
		sa.Proto, sa.ESP, sa.AH = spec.ProtoAH, nil, &proposal.AHAlg{Integ: c.integ}
		sa.InboundKey, sa.OutboundKey = seq(c.n, 0), seq(c.n, 0x80)
		st, err := buildState(sa, false)
		if err != nil {
			t.Fatal(err)
		}
		if st.Proto != netlink.XFRM_PROTO_AH || st.Crypt != nil || st.Aead != nil || st.Auth == nil ||
			st.Auth.Name != c.name || st.Auth.TruncateLen != c.trunc || !bytes.Equal(st.Auth.Key, sa.OutboundKey) {
			t.Errorf("%v: state %v", c.integ, st)
		}
	}
}

func TestUnsupportedAlgorithms(t *testing.T) {
	sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	sa.ESP = &proposal.ESPAlg{Enc: spec.ESPCamellia, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1}
	if _, err := buildState(sa, true); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("camellia: %v", err)
	}
	sa.ESP = nil
	if _, err := buildState(sa, true); err == nil {
		t.Error("ESP without algorithm accepted")
	}
	sa = tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	sa.InboundSPI = 0xfff
	if _, err := buildState(sa, true); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("SPI 0xfff: %v", err)
	}
}

func ipnet(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

func sameNet(a *net.IPNet, s string) bool { return a != nil && a.String() == ipnet(s).String() }

func TestTunnelStatesAndPolicies(t *testing.T) {
	sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	in, err := buildState(sa, true)
	if err != nil {
		t.Fatal(err)
	}
	out, err := buildState(sa, false)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, st *netlink.XfrmState, src, dst string, spi uint32, selSrc, selDst string) {
		t.Helper()
		if st.Src.String() != src || st.Dst.String() != dst || uint32(st.Spi) != spi || st.Proto != netlink.XFRM_PROTO_ESP ||
			st.Mode != netlink.XFRM_MODE_TUNNEL || st.Reqid != 16384 || st.ReplayWindow != ReplayWindow {
			t.Errorf("%s state: %v", name, st)
		}
		if st.Limits.TimeHard != 28800 || st.Limits.TimeSoft != 25920 || st.Limits.ByteHard != 0 || st.Limits.PacketHard != 0 {
			t.Errorf("%s limits: %+v", name, st.Limits)
		}
		if st.Selector == nil || !sameNet(st.Selector.Src, selSrc) || !sameNet(st.Selector.Dst, selDst) || st.Selector.Proto != 0 {
			t.Errorf("%s selector: %v", name, st.Selector)
		}
	}
	check("inbound", in, "192.0.2.2", "192.0.2.1", 0xc66770a2, "10.2.0.0/24", "10.1.0.0/24")
	check("outbound", out, "192.0.2.1", "192.0.2.2", 0x8d727391, "10.1.0.0/24", "10.2.0.0/24")

	inPols, err := buildPolicies(&sa.KernelPolicy, true)
	if err != nil {
		t.Fatal(err)
	}
	outPols, err := buildPolicies(&sa.KernelPolicy, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(inPols) != 2 || len(outPols) != 1 {
		t.Fatalf("tunnel: %d inbound policies (want in, fwd), %d outbound", len(inPols), len(outPols))
	}
	pol := func(p *netlink.XfrmPolicy, dir netlink.Dir, src, dst, tsrc, tdst string) {
		t.Helper()
		if p.Dir != dir || !sameNet(p.Src, src) || !sameNet(p.Dst, dst) || p.Priority != basePriority+16 || len(p.Tmpls) != 1 {
			t.Fatalf("policy %v", p)
		}
		tm := p.Tmpls[0]
		if tm.Src.String() != tsrc || tm.Dst.String() != tdst || tm.Proto != netlink.XFRM_PROTO_ESP ||
			tm.Mode != netlink.XFRM_MODE_TUNNEL || tm.Reqid != 16384 || tm.Spi != 0 {
			t.Errorf("%s template %v", dir, tm)
		}
	}
	pol(inPols[0], netlink.XFRM_DIR_IN, "10.2.0.0/24", "10.1.0.0/24", "192.0.2.2", "192.0.2.1")
	pol(inPols[1], netlink.XFRM_DIR_FWD, "10.2.0.0/24", "10.1.0.0/24", "192.0.2.2", "192.0.2.1")
	pol(outPols[0], netlink.XFRM_DIR_OUT, "10.1.0.0/24", "10.2.0.0/24", "192.0.2.1", "192.0.2.2")
}

func TestTransportPolicies(t *testing.T) {
	// Host to host: the clients are the hosts themselves (what
	// NewKernelSA makes of an fsm.IPsecSA without subnets).
	fsa := &fsm.IPsecSA{Proto: spec.ProtoESP, Mode: spec.EncapTransport,
		ESP:        &proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 256, Integ: spec.AuthAlgHMACSHA2256},
		InboundSPI: []byte{0, 0, 0x20, 0}, OutboundSPI: []byte{0xde, 0xad, 0xbe, 0xef},
		InboundKey: seq(64, 0), OutboundKey: seq(64, 0x40),
		Local: netip.MustParseAddrPort("192.0.2.1:500"), Remote: netip.MustParseAddrPort("[::ffff:192.0.2.2]:500"),
		Lifetime: time.Hour}
	sa, err := NewKernelSA(fsa, "host-host", 16388, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sa.InboundSPI != 0x2000 || sa.OutboundSPI != 0xdeadbeef || sa.Remote.String() != "192.0.2.2" ||
		sa.LocalNet.Net.String() != "192.0.2.1/32" || sa.RemoteNet.Net.String() != "192.0.2.2/32" {
		t.Fatalf("NewKernelSA: %+v", sa)
	}
	in, err := buildState(sa, true)
	if err != nil {
		t.Fatal(err)
	}
	if in.Mode != netlink.XFRM_MODE_TRANSPORT || !sameNet(in.Selector.Src, "192.0.2.2/32") || !sameNet(in.Selector.Dst, "192.0.2.1/32") ||
		in.Limits.TimeHard != 3600 || in.Limits.TimeSoft != 3240 {
		t.Errorf("inbound transport state %v", in)
	}
	inPols, _ := buildPolicies(&sa.KernelPolicy, true)
	outPols, _ := buildPolicies(&sa.KernelPolicy, false)
	if len(inPols) != 1 || len(outPols) != 1 {
		t.Fatalf("transport: %d inbound policies (want in only), %d outbound", len(inPols), len(outPols))
	}
	if p := inPols[0]; p.Dir != netlink.XFRM_DIR_IN || !sameNet(p.Src, "192.0.2.2/32") || !sameNet(p.Dst, "192.0.2.1/32") ||
		p.Tmpls[0].Mode != netlink.XFRM_MODE_TRANSPORT || p.Tmpls[0].Reqid != 16388 || p.Priority != basePriority {
		t.Errorf("in policy %v", p)
	}
	if p := outPols[0]; p.Dir != netlink.XFRM_DIR_OUT || !sameNet(p.Src, "192.0.2.1/32") || !sameNet(p.Dst, "192.0.2.2/32") {
		t.Errorf("out policy %v", p)
	}
}

func TestProtoPortSelectors(t *testing.T) {
	// --clientprotoport udp/1701 on both ends (L2TP): selectors carry the
	// protocol and the ports, and the policy is more specific (lower
	// priority number) than the host-to-host one.
	sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	sa.Mode = spec.EncapTransport
	sa.LocalNet = fsm.Client{Net: netip.MustParsePrefix("192.0.2.1/32"), Proto: 17, Port: 1701}
	sa.RemoteNet = fsm.Client{Net: netip.MustParsePrefix("192.0.2.2/32"), Proto: 17, Port: 0}
	out, _ := buildPolicies(&sa.KernelPolicy, false)
	in, _ := buildPolicies(&sa.KernelPolicy, true)
	if p := out[0]; p.Proto != 17 || p.SrcPort != 1701 || p.DstPort != 0 || p.Priority != basePriority-2 {
		t.Errorf("out policy %v", p)
	}
	if p := in[0]; p.Proto != 17 || p.SrcPort != 0 || p.DstPort != 1701 {
		t.Errorf("in policy %v", p)
	}
	st, _ := buildState(sa, true)
	if st.Selector.Proto != 17 || st.Selector.DstPort != 1701 || st.Selector.SrcPort != 0 {
		t.Errorf("inbound selector %v", st.Selector)
	}
	if k := keyOf(out[0]); k.String() != "dir out 192.0.2.1/32->192.0.2.2/32 proto 17 ports 1701->0" {
		t.Errorf("key %s", k)
	}
}

func TestLifetimes(t *testing.T) {
	for _, c := range []struct {
		d          time.Duration
		soft, hard uint64
	}{
		{0, 0, 0},
		{time.Second, 0, 1},
		{1500 * time.Millisecond, 1, 2},
		{10 * time.Second, 9, 10},
		{time.Hour, 3240, 3600},
		{24 * time.Hour, 77760, 86400},
	} {
		l := stateLimits(c.d)
		if l.TimeSoft != c.soft || l.TimeHard != c.hard {
			t.Errorf("%s: soft %d hard %d, want %d %d", c.d, l.TimeSoft, l.TimeHard, c.soft, c.hard)
		}
	}
}

var (
	errnoEPROTONOSUPPORT error = unix.EPROTONOSUPPORT
	errnoENOSYS          error = fmt.Errorf("%w: Requested AUTH_TRUNC algorithm not found", unix.ENOSYS)
	errnoEEXIST          error = unix.EEXIST
)

func TestExplain(t *testing.T) {
	sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	st, _ := buildState(sa, true)
	for _, c := range []struct {
		err  error
		want string
	}{
		{errnoEPROTONOSUPPORT, "kernel: cannot add ESP SA 0xc66770a2 (192.0.2.2->192.0.2.1): protocol not supported (no ESP in this kernel?)"},
		{errnoENOSYS, "kernel: cannot add ESP SA 0xc66770a2 (192.0.2.2->192.0.2.1): algorithm not available in this kernel (cbc(aes), hmac(sha1))"},
		{errnoEEXIST, "kernel: cannot add ESP SA 0xc66770a2 (192.0.2.2->192.0.2.1): SPI already in use"},
	} {
		if got := stateErr("add", sa, st, c.err).Error(); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

// compSA is tunnelSA with IPComp negotiated alongside ESP.
func compSA(mode spec.EncapsulationMode) *KernelSA {
	sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	sa.Mode, sa.Compress, sa.InboundCPI, sa.OutboundCPI = mode, true, 0x4a21, 0x5c02
	if mode == spec.EncapTransport {
		sa.LocalNet, sa.RemoteNet = client("192.0.2.1/32"), client("192.0.2.2/32")
	}
	return sa
}

// TestIPCompStatesAndPolicies: as strongSwan and libreswan install
// IPComp+ESP: the IPComp state (CPI, deflate, no replay window) carries the
// tunnel; ESP inside it is in transport mode without a selector; the
// policies have two templates, IPComp first (optional inbound) then ESP.
// In transport mode both are transport and keep their selectors.
func TestIPCompStatesAndPolicies(t *testing.T) {
	for _, mode := range []spec.EncapsulationMode{spec.EncapTunnel, spec.EncapTransport} {
		sa := compSA(mode)
		tunnel := mode == spec.EncapTunnel
		outer := netlink.XFRM_MODE_TRANSPORT
		if tunnel {
			outer = netlink.XFRM_MODE_TUNNEL
		}
		for _, inbound := range []bool{true, false} {
			comp, err := buildCompState(sa, inbound)
			if err != nil {
				t.Fatal(err)
			}
			esp, err := buildState(sa, inbound)
			if err != nil {
				t.Fatal(err)
			}
			cpi, src, dst, sel := uint32(0x5c02), "192.0.2.1", "192.0.2.2", "10.1.0.0/24"
			if inbound {
				cpi, src, dst, sel = 0x4a21, "192.0.2.2", "192.0.2.1", "10.2.0.0/24"
			}
			if !tunnel {
				sel = src + "/32"
			}
			if comp.Proto != netlink.XFRM_PROTO_COMP || uint32(comp.Spi) != cpi || comp.Mode != outer || comp.ReplayWindow != 0 ||
				!comp.Src.Equal(net.ParseIP(src)) || !comp.Dst.Equal(net.ParseIP(dst)) || comp.Reqid != 16384 ||
				comp.Limits.TimeHard != 28800 || comp.Selector == nil || !sameNet(comp.Selector.Src, sel) {
				t.Errorf("%s inbound=%v: IPComp state %+v", mode, inbound, comp)
			}
			if esp.Proto != netlink.XFRM_PROTO_ESP || esp.Mode != netlink.XFRM_MODE_TRANSPORT || esp.ReplayWindow != ReplayWindow ||
				(esp.Selector == nil) != tunnel {
				t.Errorf("%s inbound=%v: ESP state under IPComp %+v", mode, inbound, esp)
			}
			// The message the netlink library cannot build: usersa_info
			// then XFRMA_ALG_COMP "deflate" without a key.
			var raw []byte
			for _, d := range compStateMsg(comp) {
				raw = append(raw, d.Serialize()...)
			}
			info := nl.DeserializeXfrmUsersaInfo(raw[:nl.SizeofXfrmUsersaInfo])
			if nl.Swap32(info.Id.Spi) != cpi || info.Id.Proto != uint8(netlink.XFRM_PROTO_COMP) || info.Mode != uint8(outer) ||
				info.Reqid != 16384 || info.ReplayWindow != 0 || info.Lft.HardAddExpiresSeconds != 28800 ||
				info.Lft.SoftAddExpiresSeconds != 25920 || info.Lft.HardByteLimit != nl.XFRM_INF ||
				info.Sel.PrefixlenS != uint8(map[bool]int{true: 24, false: 32}[tunnel]) || info.Family != unix.AF_INET {
				t.Errorf("%s inbound=%v: usersa_info %+v", mode, inbound, info)
			}
			attr := raw[nl.SizeofXfrmUsersaInfo:]
			if typ := nl.NativeEndian().Uint16(attr[2:]); typ != nl.XFRMA_ALG_COMP || len(attr) < 4+64+4 {
				t.Fatalf("%s: attribute %d of %d octets, want XFRMA_ALG_COMP", mode, typ, len(attr))
			}
			if name := string(bytes.TrimRight(attr[4:4+64], "\x00")); name != "deflate" || nl.NativeEndian().Uint32(attr[4+64:]) != 0 {
				t.Errorf("%s: algorithm %q key bits %d", mode, name, nl.NativeEndian().Uint32(attr[4+64:]))
			}

			pols, err := buildPolicies(&sa.KernelPolicy, inbound)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pols {
				if len(p.Tmpls) != 2 {
					t.Fatalf("%s %s: %d templates", mode, p.Dir, len(p.Tmpls))
				}
				c, e := p.Tmpls[0], p.Tmpls[1]
				if c.Proto != netlink.XFRM_PROTO_COMP || c.Mode != outer || c.Optional != map[bool]int{true: 1, false: 0}[inbound] ||
					!c.Dst.Equal(net.ParseIP(dst)) || c.Reqid != 16384 {
					t.Errorf("%s %s: IPComp template %+v", mode, p.Dir, c)
				}
				if e.Proto != netlink.XFRM_PROTO_ESP || e.Mode != netlink.XFRM_MODE_TRANSPORT || e.Optional != 0 || e.Reqid != 16384 {
					t.Errorf("%s %s: ESP template %+v", mode, p.Dir, e)
				}
			}
		}
	}
	// Uncompressed, a policy has the one template (nothing changed).
	sa := tunnelSA(proposal.ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	if pols, _ := buildPolicies(&sa.KernelPolicy, false); len(pols[0].Tmpls) != 1 {
		t.Errorf("ESP alone: %d templates", len(pols[0].Tmpls))
	}
	// CPIs outside the negotiable range are refused.
	for _, cpi := range []uint32{0, 2, 0xff, 0xf000, 0xffff} {
		bad := compSA(spec.EncapTunnel)
		bad.OutboundCPI = cpi
		if _, err := buildCompState(bad, false); err == nil {
			t.Errorf("CPI 0x%x accepted", cpi)
		}
	}
}
