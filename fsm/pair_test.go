package fsm

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"goswan/fsm/proposal"
	"goswan/spec"
)

// packet is a datagram in flight between test machines.
type packet struct {
	b        []byte
	from, to netip.AddrPort
}

// testNet connects machines by address; nothing is sent on a real socket.
type testNet struct {
	queue []packet
	hosts map[netip.AddrPort]*testEnv
	drop  func(p packet) bool // loses a packet when it returns true
	// tap, when set, sees each packet that was not dropped and returns what
	// is delivered instead: nothing (lost), the packet, a modified copy, or
	// several copies (duplicates).
	tap   func(p packet) []packet
	trace []packet // every packet delivered, in order
	now   time.Time
}

// testEnv is one daemon's view of the world, recording what happens.
type testEnv struct {
	net       *testNet
	m         *Machine
	conns     []*Conn
	psk       []byte
	rsaKey    *rsa.PrivateKey  // our key for --rsasig
	peerKeys  []*rsa.PublicKey // keys accepted for the peer
	lines     []LogLine
	whacks    []any // the whack attached to each line's state when it was logged
	released  []any
	installed []*IPsecSA // full installs (both directions)
	inbound   []*IPsecSA // inbound-only installs (Quick Mode responder before QI2)
	deleted   []*IPsecSA
	moved     []*IPsecSA // PeerMoved calls (NAT-T)
	rng       io.Reader  // deterministic randomness when set
	spi       uint32
	spiAddrs  []string // "PROTO src->dst" of each AllocSPI
	failed    []string // "#serial KIND" of each NegotiationFailed
	sent      int
	ra        remoteAccess // XAUTH credentials and ModeCfg leases (xauth_test.go)
}

func (e *testEnv) Send(b []byte, from, to netip.AddrPort) {
	e.sent++
	e.net.queue = append(e.net.queue, packet{append([]byte(nil), b...), from, to})
}
func (e *testEnv) Log(l LogLine) {
	e.lines = append(e.lines, l)
	var w any
	if l.State != nil {
		w = l.State.Whack
	}
	e.whacks = append(e.whacks, w)
}
func (e *testEnv) Release(w any) { e.released = append(e.released, w) }
func (e *testEnv) Rand(b []byte) {
	if e.rng != nil {
		io.ReadFull(e.rng, b)
		return
	}
	rand.Read(b)
}
func (e *testEnv) PSK(c *Conn, peer ID) ([]byte, bool) {
	return e.psk, e.psk != nil
}
func (e *testEnv) LocalKey(c *Conn) (*rsa.PrivateKey, bool) { return e.rsaKey, e.rsaKey != nil }
func (e *testEnv) PeerKeys(c *Conn, peer ID) []*rsa.PublicKey {
	return e.peerKeys
}
func (e *testEnv) SwitchConn(c *Conn, remote netip.AddrPort, peer ID) *Conn {
	for _, o := range e.conns {
		if o != c && o.Local == c.Local && o.RemoteID.Equal(peer) && o.Auth == c.Auth {
			return o
		}
	}
	return nil
}
func (e *testEnv) ResponderConn(local, remote netip.AddrPort) *Conn {
	if local.Port() == spec.NATTPort { // as pluto's responderConn
		local = netip.AddrPortFrom(local.Addr(), spec.IKEPort)
	}
	for _, c := range e.conns {
		if c.Local == local && (c.Remote.Addr() == remote.Addr() || !c.Remote.Addr().IsValid()) {
			return c
		}
	}
	return nil
}
func (e *testEnv) QuickConn(p1 *State, local, remote Client) *Conn {
	for _, c := range e.conns {
		if c.Remote.Addr() == p1.Remote.Addr() && c.localClient() == local && c.remoteClient() == remote {
			return c
		}
	}
	return nil
}
func (e *testEnv) AllocSPI(proto spec.ProtocolID, src, dst netip.Addr) []byte {
	e.spi++
	e.spiAddrs = append(e.spiAddrs, fmt.Sprintf("%s %s->%s", proto, src, dst))
	if proto == spec.ProtoIPComp {
		v := 0x4000 | e.spi&0xfff
		return []byte{byte(v >> 8), byte(v)}
	}
	v := 0xc0000000 | e.spi<<8 | uint32(proto)
	return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}
func (e *testEnv) Install(st *State, sa *IPsecSA, inboundOnly bool) error {
	if !inboundOnly {
		e.installed = append(e.installed, sa)
	} else {
		e.inbound = append(e.inbound, sa)
	}
	return nil
}
func (e *testEnv) Delete(st *State, sa *IPsecSA) { e.deleted = append(e.deleted, sa) }
func (e *testEnv) NegotiationFailed(st *State) {
	e.failed = append(e.failed, fmt.Sprintf("#%d %s", st.Serial, st.Kind))
}

// whackLines are the lines a whack attached as w saw.
func (e *testEnv) whackLines(w any) []string {
	var out []string
	for i, l := range e.lines {
		if !l.Debug && e.whacks[i] == w {
			out = append(out, l.Whack())
		}
	}
	return out
}

func (e *testEnv) allLines() string {
	var out []string
	for _, l := range e.lines {
		out = append(out, l.Whack())
	}
	return strings.Join(out, "\n")
}

// pump delivers queued packets until none are left (bounded).
func (n *testNet) pump(t testing.TB) {
	for i := 0; len(n.queue) > 0; i++ {
		if i > 1000 {
			t.Fatal("packet storm")
		}
		p := n.queue[0]
		n.queue = n.queue[1:]
		if n.drop != nil && n.drop(p) {
			continue
		}
		ps := []packet{p}
		if n.tap != nil {
			ps = n.tap(p)
		}
		for _, p := range ps {
			n.trace = append(n.trace, p)
			if h := n.hosts[p.to]; h != nil {
				h.m.HandlePacket(n.now, p.b, p.from, p.to)
			}
		}
	}
}

// advance moves the clock and fires timers, delivering what they send.
func (n *testNet) advance(t testing.TB, d time.Duration) {
	n.now = n.now.Add(d)
	for _, h := range n.hosts {
		h.m.Tick(n.now)
	}
	n.pump(t)
}

var (
	westAddr = netip.MustParseAddrPort("192.0.2.1:500")
	eastAddr = netip.MustParseAddrPort("192.0.2.2:500")
	westNet  = Client{Net: netip.MustParsePrefix("10.1.0.0/24")}
	eastNet  = Client{Net: netip.MustParsePrefix("10.2.0.0/24")}
)

type pairOpts struct {
	ike, esp   string
	pfs        spec.Group
	transport  bool
	pskW, pskE string
	rekey      bool // rekey before expiry (default: --dontrekey)
	ikeLife    time.Duration
	ipsecLife  time.Duration
	dpd        time.Duration // DPD delay (timeout 3x), 0 = off
	dpdAction  string
	margin     time.Duration // rekey margin (default 9m)
	fuzz       int           // rekey fuzz percent (default 100)
	compress   bool          // west proposes IPComp (--compress)
	compressE  bool          // east has --compress too
}

func mustConn(t testing.TB, name string, local, remote netip.AddrPort, ln, rn Client, o pairOpts) *Conn {
	ike := proposal.DefaultIKE()
	if o.ike != "" {
		var err error
		if ike, err = proposal.ParseIKE(o.ike); err != nil {
			t.Fatal(err)
		}
	}
	esp := proposal.DefaultESP()
	pfs := o.pfs
	if o.esp != "" {
		var err error
		var g spec.Group
		if esp, g, err = proposal.ParseESP(o.esp); err != nil {
			t.Fatal(err)
		}
		if g != 0 {
			pfs = g
		}
	}
	mode := spec.EncapTunnel
	c := &Conn{
		Name: name, Local: local, Remote: remote, Auth: spec.AuthPSK, IPsec: true, KeyingTries: 1,
		P1:        proposal.Phase1Policy{Algs: ike, Auth: spec.AuthPSK, Lifetime: time.Hour},
		DontRekey: !o.rekey, RekeyMargin: 9 * time.Minute, RekeyFuzz: 100,
		DPDDelay: o.dpd, DPDTimeout: 3 * o.dpd, DPDAction: o.dpdAction,
	}
	if o.ikeLife != 0 {
		c.P1.Lifetime = o.ikeLife
	}
	if o.margin != 0 {
		c.RekeyMargin, c.RekeyFuzz = o.margin, o.fuzz
	}
	if o.transport {
		mode = spec.EncapTransport
	} else {
		c.LocalNet, c.RemoteNet, c.HasClients = ln, rn, true
	}
	c.P2 = proposal.Phase2Policy{ESP: esp, Mode: mode, PFSGroup: pfs, Lifetime: 8 * time.Hour}
	if o.ipsecLife != 0 {
		c.P2.Lifetime = o.ipsecLife
	}
	c.P2.Compress = o.compress && (local == westAddr || o.compressE)
	return c
}

func newPair(t testing.TB, o pairOpts) (*testNet, *testEnv, *testEnv) {
	n := &testNet{hosts: map[netip.AddrPort]*testEnv{}, now: time.Unix(1_700_000_000, 0)}
	if o.pskW == "" {
		o.pskW, o.pskE = "sesame", "sesame"
	}
	cfg := DefaultConfig
	west := &testEnv{net: n, psk: []byte(o.pskW), spi: 0x100}
	east := &testEnv{net: n, psk: []byte(o.pskE), spi: 0x200}
	west.m, east.m = NewMachine(west, cfg), NewMachine(east, cfg)
	west.conns = []*Conn{mustConn(t, "west-east", westAddr, eastAddr, westNet, eastNet, o)}
	east.conns = []*Conn{mustConn(t, "west-east", eastAddr, westAddr, eastNet, westNet, o)}
	n.hosts[westAddr], n.hosts[eastAddr] = west, east
	return n, west, east
}

// TestTranscript: the initiator's whack sees exactly CONTRACT.md's lines.
func TestTranscript(t *testing.T) {
	cases := []pairOpts{
		{},
		{ike: "aes128-sha1-modp2048", esp: "aes128-sha1"},
		{ike: "3des-md5-modp1024", esp: "3des-md5;modp1024"},
		{ike: "aes256-sha2_256-modp1536", esp: "aes256-sha2_256", pfs: spec.GroupMODP1536},
		{ike: "aes128-sha2_256-ecp256", esp: "aes_gcm16_128;ecp384"},
		{ike: "aes256-sha2_512-ecp384", esp: "aes128-sha1", transport: true},
		{ike: "3des-sha1-modp2048", esp: "3des-sha1;modp2048"},
	}
	for _, o := range cases {
		t.Run(fmt.Sprintf("%s/%s/pfs=%v/transport=%v", o.ike, o.esp, o.pfs, o.transport), func(t *testing.T) {
			n, west, east := newPair(t, o)
			w := "whack-1"
			west.m.Initiate(n.now, west.conns[0], w)
			n.pump(t)
			got := west.whackLines(w)
			if len(got) != 6 {
				t.Fatalf("transcript:\n%s\nall west lines:\n%s\neast:\n%s", strings.Join(got, "\n"), west.allLines(), east.allLines())
			}
			want := []string{
				`104 "west-east" #1: STATE_MAIN_I1: initiate`,
				`106 "west-east" #1: STATE_MAIN_I2: sent MI2, expecting MR2`,
				`108 "west-east" #1: STATE_MAIN_I3: sent MI3, expecting MR3`,
				`004 "west-east" #1: STATE_MAIN_I4: ISAKMP SA established`,
				`112 "west-east" #2: STATE_QUICK_I1: initiate`,
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("line %d = %q, want %q", i, got[i], want[i])
				}
			}
			wi, ei := west.installed, east.installed
			if len(wi) != 1 || len(ei) != 1 {
				t.Fatalf("installed west %d east %d", len(wi), len(ei))
			}
			last := fmt.Sprintf(`004 "west-east" #2: STATE_QUICK_I2: sent QI2, IPsec SA established {ESP=>0x%x <0x%x}`,
				wi[0].OutboundSPI, wi[0].InboundSPI)
			if got[5] != last {
				t.Errorf("line 5 = %q, want %q", got[5], last)
			}
			// Both sides agree on SPIs and keys.
			if string(wi[0].OutboundSPI) != string(ei[0].InboundSPI) || string(wi[0].InboundSPI) != string(ei[0].OutboundSPI) {
				t.Errorf("SPIs differ: west %x/%x east %x/%x", wi[0].InboundSPI, wi[0].OutboundSPI, ei[0].InboundSPI, ei[0].OutboundSPI)
			}
			if string(wi[0].OutboundKey) != string(ei[0].InboundKey) || string(wi[0].InboundKey) != string(ei[0].OutboundKey) || len(wi[0].InboundKey) == 0 {
				t.Error("KEYMAT differs between the two ends")
			}
			if len(west.released) != 1 || west.released[0] != w {
				t.Errorf("whack released %v", west.released)
			}
			// The responder reached its established states too.
			var established []string
			for _, l := range east.lines {
				if l.Code == 4 {
					established = append(established, l.Whack())
				}
			}
			if len(established) != 2 || !strings.Contains(established[0], "STATE_MAIN_R3: sent MR3, ISAKMP SA established") ||
				!strings.Contains(established[1], "STATE_QUICK_R2: IPsec SA established") {
				t.Errorf("responder: %q", established)
			}
		})
	}
}
