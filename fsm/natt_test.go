package fsm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

func (e *testEnv) PeerMoved(st *State, sa *IPsecSA) { e.moved = append(e.moved, sa) }

// natBox is a source NAT in front of one address (a masquerading router):
// packets from inside leave from public with a mapped port, replies to a
// mapped port go back inside; anything else to public is dropped.
type natBox struct {
	inside, public netip.Addr
	ports          map[uint16]uint16 // inside port -> public port
	next           uint16
}

func (b *natBox) tap(p packet) []packet {
	if p.from.Addr() == b.inside {
		out, ok := b.ports[p.from.Port()]
		if !ok {
			out = b.next
			b.next++
			b.ports[p.from.Port()] = out
		}
		p.from = netip.AddrPortFrom(b.public, out)
		return []packet{p}
	}
	if p.to.Addr() == b.public {
		for in, out := range b.ports {
			if out == p.to.Port() {
				p.to = netip.AddrPortFrom(b.inside, in)
				return []packet{p}
			}
		}
		return nil // no mapping
	}
	return []packet{p}
}

var natPublic = netip.MustParseAddr("203.0.113.1")

type natOpts struct {
	pairOpts
	nat          bool // west is behind a NAT
	wNATT, eNATT bool // --nat_traversal on each side
	forceW       bool // --forceencaps on west
	aggr         bool
	draftOnly    bool // west's first message loses its RFC 3947 VID
	idsW         bool // west sends IDci/IDcr even in transport mode (as strongSwan does)
}

// newNATPair is newPair with west (the initiator) optionally behind a NAT
// and each daemon listening on 500 and 4500.
func newNATPair(t testing.TB, o natOpts) (*testNet, *testEnv, *testEnv, *natBox) {
	n, west, east := newPair(t, o.pairOpts)
	wc, ec := DefaultConfig, DefaultConfig
	wc.NATTraversal, ec.NATTraversal = o.wNATT, o.eNATT
	west.m, east.m = NewMachine(west, wc), NewMachine(east, ec)
	n.hosts[netip.AddrPortFrom(westAddr.Addr(), 4500)] = west
	n.hosts[netip.AddrPortFrom(eastAddr.Addr(), 4500)] = east
	west.conns[0].ForceEncaps = o.forceW
	if o.idsW {
		west.conns[0].HasClients = true
	}
	west.conns[0].AggrMode, east.conns[0].AggrMode = o.aggr, o.aggr
	var box *natBox
	if o.nat {
		box = &natBox{inside: westAddr.Addr(), public: natPublic, ports: map[uint16]uint16{}, next: 31000}
		east.conns[0].Remote = netip.AddrPortFrom(natPublic, 500)
		east.conns[0].RemoteID = AddrID(westAddr.Addr()) // rightid=
	}
	n.tap = func(p packet) []packet {
		if o.draftOnly && p.from.Addr() == westAddr.Addr() {
			p.b = bytes.ReplaceAll(p.b, spec.VIDNATTRFC3947, make([]byte, 16))
		}
		if box != nil {
			return box.tap(p)
		}
		return []packet{p}
	}
	return n, west, east, box
}

func (e *testEnv) lineWith(s string) string {
	for _, l := range e.lines {
		if strings.Contains(l.Text, s) {
			return l.Text
		}
	}
	return ""
}

// TestNATTraversal: NAT-T between two machines through a source NAT and
// without one: detection results in pluto's words, the move to port 4500
// from the fifth Main Mode message (the third Aggressive Mode one), the
// UDP-encapsulated SAs and their ports, and nothing of it when either side
// has NAT-T off.
func TestNATTraversal(t *testing.T) {
	cases := []struct {
		name         string
		o            natOpts
		wRes, eRes   string // "" = no result line
		encap        bool
		payloadNATD  spec.PayloadType
		floatFromMsg int // index in the trace of the first 4500 message (-1: none)
	}{
		{"behind NAT", natOpts{nat: true, wNATT: true, eNATT: true}, "i am NATed", "peer is NATed", true, spec.PayloadNATD, 4},
		{"no NAT", natOpts{wNATT: true, eNATT: true}, "no NAT detected", "no NAT detected", false, spec.PayloadNATD, -1},
		{"forceencaps", natOpts{wNATT: true, eNATT: true, forceW: true}, "i am NATed", "peer is NATed", true, spec.PayloadNATD, 4},
		{"responder without NAT-T", natOpts{nat: true, wNATT: true}, "", "", false, 0, -1},
		{"initiator without NAT-T", natOpts{nat: true, eNATT: true}, "", "", false, 0, -1},
		{"draft peer", natOpts{nat: true, wNATT: true, eNATT: true, draftOnly: true}, "i am NATed", "peer is NATed", true, spec.PayloadNATDDraft, 4},
		{"aggressive", natOpts{pairOpts: pairOpts{ike: "aes128-sha1-modp2048"}, nat: true, wNATT: true, eNATT: true, aggr: true}, "i am NATed", "peer is NATed", true, spec.PayloadNATD, 2},
		{"transport", natOpts{pairOpts: pairOpts{transport: true}, nat: true, wNATT: true, eNATT: true}, "i am NATed", "peer is NATed", true, spec.PayloadNATD, 4},
		{"transport with IDs", natOpts{pairOpts: pairOpts{transport: true}, nat: true, wNATT: true, eNATT: true, idsW: true}, "i am NATed", "peer is NATed", true, spec.PayloadNATD, 4},
		{"draft transport", natOpts{pairOpts: pairOpts{transport: true}, nat: true, wNATT: true, eNATT: true, draftOnly: true}, "i am NATed", "peer is NATed", true, spec.PayloadNATDDraft, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, west, east, _ := newNATPair(t, c.o)
			west.m.Initiate(n.now, west.conns[0], "w")
			n.pump(t)
			if len(west.installed) != 1 || len(east.installed) != 1 {
				t.Fatalf("installed west %d east %d\nwest:\n%s\neast:\n%s", len(west.installed), len(east.installed), west.allLines(), east.allLines())
			}
			for _, x := range []struct {
				e    *testEnv
				want string
			}{{west, c.wRes}, {east, c.eRes}} {
				got := x.e.lineWith("NAT-Traversal: Result")
				switch {
				case x.want == "" && got != "":
					t.Errorf("unexpected %q", got)
				case x.want != "":
					method := "RFC 3947 (NAT-Traversal)"
					if c.o.draftOnly {
						method = "draft-ietf-ipsec-nat-t-ike-02/03"
					}
					if want := "NAT-Traversal: Result using " + method + ": " + x.want; got != want {
						t.Errorf("result %q, want %q", got, want)
					}
				}
			}
			// Which messages went on 4500, and the NAT-D payload numbers.
			first4500, natd := -1, 0
			for i, p := range n.trace {
				if p.to.Port() == 4500 || p.from.Port() == 4500 {
					if first4500 < 0 {
						first4500 = i
					}
				} else if first4500 >= 0 {
					t.Errorf("message %d back on %s -> %s", i, p.from, p.to)
				}
				if m, err := payloads.DecodeMessage(p.b); err == nil && m.Header.Flags&spec.FlagEncryption == 0 {
					for _, pl := range m.Payloads {
						if pl.Type().IsNATD() {
							natd++
							if pl.Type() != c.payloadNATD {
								t.Errorf("message %d: NAT-D payload %d, want %d", i, pl.Type(), c.payloadNATD)
							}
						}
					}
				}
			}
			if first4500 != c.floatFromMsg {
				t.Errorf("first message on 4500: %d, want %d", first4500, c.floatFromMsg)
			}
			wantNATD := 0
			if c.payloadNATD != 0 {
				wantNATD = 4 // MM3, MM4 (AR1 and the encrypted AI2 in Aggressive Mode)
				if c.o.aggr {
					wantNATD = 2
				}
			}
			if natd != wantNATD {
				t.Errorf("%d NAT-D payloads in the clear", natd)
			}
			wsa, esa := west.installed[0], east.installed[0]
			if wsa.Encap != c.encap || esa.Encap != c.encap {
				t.Errorf("encap west %v east %v, want %v", wsa.Encap, esa.Encap, c.encap)
			}
			wantMode := spec.EncapTunnel
			if c.o.transport {
				wantMode = spec.EncapTransport
			}
			if wsa.Mode != wantMode || esa.Mode != wantMode {
				t.Errorf("modes %v %v", wsa.Mode, esa.Mode)
			}
			if c.encap {
				if wsa.Local.Port() != 4500 || wsa.Remote != netip.AddrPortFrom(eastAddr.Addr(), 4500) {
					t.Errorf("west SA %s -> %s", wsa.Local, wsa.Remote)
				}
				wantPeer := netip.AddrPortFrom(westAddr.Addr(), 4500)
				if c.o.nat {
					wantPeer = netip.AddrPortFrom(natPublic, 31001)
				}
				if esa.Remote != wantPeer || esa.Local != netip.AddrPortFrom(eastAddr.Addr(), 4500) {
					t.Errorf("east SA %s -> %s, want peer %s", esa.Local, esa.Remote, wantPeer)
				}
			}
			// NAT-OA: in transport mode each end learns the other's
			// original address (the drafts send only the initiator's
			// to the responder and the responder's to the initiator).
			if c.o.transport {
				if esa.PeerOA != westAddr.Addr() {
					t.Errorf("east learnt original address %v, want %v", esa.PeerOA, westAddr.Addr())
				}
				if wsa.PeerOA != eastAddr.Addr() {
					t.Errorf("west learnt original address %v, want %v", wsa.PeerOA, eastAddr.Addr())
				}
			} else if wsa.PeerOA.IsValid() || esa.PeerOA.IsValid() {
				t.Errorf("NAT-OA in tunnel mode: %v %v", wsa.PeerOA, esa.PeerOA)
			}
		})
	}
}

// TestNATTPortChange: the NAT gives west a new public port (its mapping
// expired); west's next authenticated message (a DPD R_U_THERE) moves the
// peer on east, whose replies and kernel SAs follow, and the SAs survive
// Dead Peer Detection on both sides.
func TestNATTPortChange(t *testing.T) {
	o := natOpts{pairOpts: pairOpts{dpd: 10 * time.Second, dpdAction: "clear"}, nat: true, wNATT: true, eNATT: true}
	n, west, east, box := newNATPair(t, o)
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if len(east.installed) != 1 {
		t.Fatalf("not established:\n%s", east.allLines())
	}
	old := east.installed[0].Remote
	box.ports = map[uint16]uint16{} // the mapping expired
	box.next = 32000
	for i := 0; i < 8; i++ {
		n.advance(t, 10*time.Second)
	}
	want := netip.AddrPortFrom(natPublic, 32000)
	if !strings.Contains(east.allLines(), fmt.Sprintf("NAT-T: peer %s is now at %s", old, want)) {
		t.Errorf("east did not log the move:\n%s", east.allLines())
	}
	for _, st := range east.m.States() {
		if st.Remote != want {
			t.Errorf("east %s still at %s", st.Name(), st.Remote)
		}
	}
	if len(east.moved) != 1 || east.moved[0].Remote != want {
		t.Errorf("kernel told of %d moves", len(east.moved))
	}
	if len(west.deleted)+len(east.deleted) != 0 || len(east.m.States()) != 2 || len(west.m.States()) != 2 {
		t.Errorf("SAs lost: west %s; east %s", stateSummary(west.m), stateSummary(east.m))
	}
	// Without NAT-T the same change is a dropped peer, as before.
	o.wNATT, o.eNATT = false, false
	n, west, east, box = newNATPair(t, o)
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	box.ports, box.next = map[uint16]uint16{}, 32000
	for i := 0; i < 8; i++ {
		n.advance(t, 10*time.Second)
	}
	if !strings.Contains(east.allLines(), "but the ISAKMP SA peer is") {
		t.Errorf("east accepted a moved peer without NAT-T:\n%s", east.allLines())
	}
}

// TestNATTMissingNATD: a peer that announces NAT-T but sends fewer than
// two NAT-D payloads gets no NAT-T (and the negotiation still completes).
func TestNATTMissingNATD(t *testing.T) {
	n, west, east, _ := newNATPair(t, natOpts{wNATT: true, eNATT: true})
	tap := n.tap
	n.tap = func(p packet) []packet {
		m, err := payloads.DecodeMessage(p.b)
		if err == nil && m.Header.Flags&spec.FlagEncryption == 0 && p.from.Addr() == westAddr.Addr() {
			var keep []payloads.Payload
			for _, pl := range m.Payloads {
				if !pl.Type().IsNATD() {
					keep = append(keep, pl)
				}
			}
			if len(keep) != len(m.Payloads) {
				h := m.Header
				h.NextPayload = keep[0].Type()
				body := payloads.EncodePayloads(keep)
				h.Length = uint32(spec.HeaderLen + len(body))
				p.b = append(h.Append(nil), body...)
			}
		}
		return tap(p)
	}
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if len(east.installed) != 1 || east.installed[0].Encap {
		t.Fatalf("east: %s", east.allLines())
	}
	if !strings.Contains(east.allLines(), "sent 0 NAT-D payloads; assuming no NAT") {
		t.Errorf("east:\n%s", east.allLines())
	}
}

// TestNATTResponderRekeys: the server (responder, not behind the NAT)
// replaces the ISAKMP and IPsec SAs of a client behind a NAT that does not
// rekey itself: the new Main Mode starts on the NAT-T port to the client's
// NAT mapping (the only one the NAT still has), never on port 500.
func TestNATTResponderRekeys(t *testing.T) {
	o := natOpts{pairOpts: pairOpts{rekey: true, ikeLife: 20 * time.Minute, ipsecLife: 30 * time.Minute, margin: 5 * time.Minute},
		nat: true, wNATT: true, eNATT: true}
	n, west, east, box := newNATPair(t, o)
	west.conns[0].DontRekey = true
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if len(east.installed) != 1 {
		t.Fatalf("not established:\n%s", east.allLines())
	}
	delete(box.ports, 500) // the NAT's port-500 mapping expired long ago
	sent := len(n.trace)
	for i := 0; i < 20 && countStates(east.m, func(k StateKind) bool { return k == StateMainI4 }) == 0; i++ {
		n.advance(t, time.Minute)
	}
	var mine *State
	for _, st := range east.m.States() {
		if st.Kind == StateMainI4 {
			mine = st
		}
	}
	if mine == nil {
		t.Fatalf("east did not rekey: %s\neast:\n%s\nwest:\n%s", stateSummary(east.m), east.allLines(), west.allLines())
	}
	if mine.Remote != netip.AddrPortFrom(natPublic, 31001) || mine.Local.Port() != 4500 || !mine.NATT.Floated {
		t.Errorf("east's new ISAKMP SA %s -> %s, NAT-T %+v", mine.Local, mine.Remote, mine.NATT)
	}
	// (A message to the NAT's port 500 would have been dropped: the rekey
	// could not have completed.) Everything east sent reached west's 4500.
	for _, p := range n.trace[sent:] {
		if p.from.Addr() == eastAddr.Addr() && p.to != netip.AddrPortFrom(westAddr.Addr(), 4500) {
			t.Errorf("east's message reached %s", p.to)
		}
	}
	if !strings.Contains(west.allLines(), "NAT-Traversal: Result using RFC 3947 (NAT-Traversal): i am NATed") {
		t.Errorf("west:\n%s", west.allLines())
	}
}

// TestNATTPeerMapping: the kernel reports ESP from a new NAT mapping; the
// states and kernel SAs of that peer move there, and our next message
// (a Delete) reaches the peer through the new mapping. Stale or unknown
// reports change nothing.
func TestNATTPeerMapping(t *testing.T) {
	n, west, east, box := newNATPair(t, natOpts{nat: true, wNATT: true, eNATT: true})
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if len(east.installed) != 1 {
		t.Fatalf("not established:\n%s", east.allLines())
	}
	sa := east.installed[0]
	old := sa.Remote
	box.ports = map[uint16]uint16{4500: 32000} // the NAT's new mapping for west's 4500
	moved := netip.AddrPortFrom(natPublic, 32000)
	if east.m.PeerMapping(n.now, eastAddr.Addr(), []byte{1, 2, 3, 4}, old, moved) {
		t.Error("a report for an unknown SPI moved something")
	}
	if !east.m.PeerMapping(n.now, eastAddr.Addr(), sa.InboundSPI, old, moved) {
		t.Fatalf("the report moved nothing:\n%s", east.allLines())
	}
	if east.m.PeerMapping(n.now, eastAddr.Addr(), sa.InboundSPI, old, moved) {
		t.Error("a stale report moved something again")
	}
	for _, st := range east.m.States() {
		if st.Remote != moved {
			t.Errorf("east %s still at %s", st.Name(), st.Remote)
		}
	}
	if len(east.moved) != 1 || east.moved[0].Remote != moved {
		t.Errorf("kernel told of %d moves", len(east.moved))
	}
	if !strings.Contains(east.allLines(), "(kernel: ESP in UDP from there)") {
		t.Errorf("east:\n%s", east.allLines())
	}
	east.m.Terminate(n.now, "west-east")
	n.pump(t)
	if len(west.deleted) != 1 || len(west.m.States()) != 0 {
		t.Errorf("east's Delete did not reach west through the new mapping: west %s", stateSummary(west.m))
	}
}

// TestNATTBothNATed: both ends behind NATs (the server's forwards 500 and
// 4500): each detects both, floats, and the SAs are UDP-encapsulated
// between the public addresses.
func TestNATTBothNATed(t *testing.T) {
	n, west, east, box := newNATPair(t, natOpts{nat: true, wNATT: true, eNATT: true})
	eastPublic := netip.MustParseAddr("203.0.113.50")
	west.conns[0].Remote = netip.AddrPortFrom(eastPublic, 500)
	west.conns[0].RemoteID = AddrID(eastAddr.Addr())
	// East's router: source NAT keeping the ports, and a port forward.
	n.tap = func(p packet) []packet {
		if p.from.Addr() == eastAddr.Addr() {
			p.from = netip.AddrPortFrom(eastPublic, p.from.Port())
		}
		if p.to.Addr() == eastPublic {
			p.to = netip.AddrPortFrom(eastAddr.Addr(), p.to.Port())
		}
		return box.tap(p)
	}
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if len(west.installed) != 1 || len(east.installed) != 1 {
		t.Fatalf("west:\n%s\neast:\n%s", west.allLines(), east.allLines())
	}
	for _, e := range []*testEnv{west, east} {
		if got := e.lineWith("NAT-Traversal: Result"); !strings.HasSuffix(got, ": both are NATed") {
			t.Errorf("result %q", got)
		}
	}
	if w := west.installed[0]; !w.Encap || w.Remote != netip.AddrPortFrom(eastPublic, 4500) {
		t.Errorf("west SA encap %v to %s", w.Encap, w.Remote)
	}
	if e := east.installed[0]; !e.Encap || e.Remote != netip.AddrPortFrom(natPublic, 31001) {
		t.Errorf("east SA encap %v to %s", e.Encap, e.Remote)
	}
}

// natRecording is a deterministic NAT-T exchange through the NAT (west
// behind it): the packets east received, after translation.
func natRecording(t testing.TB) (toEast []packet, now time.Time) {
	n, west, east, _ := newNATPairDet(t)
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if countStates(east.m, isIPsec) != 1 {
		t.Fatalf("recording did not establish: %s", stateSummary(east.m))
	}
	for _, p := range n.trace {
		if p.to.Addr() == eastAddr.Addr() {
			toEast = append(toEast, p)
		}
	}
	return toEast, n.now
}

func newNATPairDet(t testing.TB) (*testNet, *testEnv, *testEnv, *natBox) {
	n, west, east, box := newNATPair(t, natOpts{pairOpts: fuzzOpts, nat: true, wNATT: true, eNATT: true})
	west.rng, east.rng = rand.NewChaCha8(fuzzSeedW), rand.NewChaCha8(fuzzSeedE)
	return n, west, east, box
}

// FuzzNATT: a NAT-T responder (the client behind a NAT) at any point of
// the exchange gets arbitrary bytes from the client's NAT mapping, from
// another port of the NAT and from a stranger. It must not panic, its
// indexes stay consistent, and what is established stays established.
// Seeds: the exchange's messages (with VIDs, NAT-D, NAT-OA-free tunnel
// mode) at every stage. Run: go test ./fsm -run '^$' -fuzz FuzzNATT
func FuzzNATT(f *testing.F) {
	toEast, now := natRecording(f)
	for k := 0; k <= len(toEast); k++ {
		for _, p := range toEast {
			f.Add(uint8(k), p.b)
		}
	}
	f.Fuzz(func(t *testing.T, stage uint8, data []byte) {
		k := int(stage) % (len(toEast) + 1)
		n, _, east, _ := newNATPairDet(t)
		for _, p := range toEast[:k] {
			east.m.HandlePacket(now, p.b, p.from, p.to)
		}
		n.queue = nil
		isakmp, ipsec := countStates(east.m, isISAKMP), countStates(east.m, isIPsec)
		nat4500 := netip.AddrPortFrom(eastAddr.Addr(), 4500)
		for _, from := range []netip.AddrPort{netip.AddrPortFrom(natPublic, 31001), netip.AddrPortFrom(natPublic, 40000),
			netip.MustParseAddrPort("198.51.100.77:4500")} {
			east.m.HandlePacket(now, data, from, nat4500)
			east.m.HandlePacket(now, data, from, eastAddr)
		}
		checkIndexes(t, east.m)
		if countStates(east.m, isISAKMP) < isakmp || countStates(east.m, isIPsec) < ipsec {
			t.Fatalf("stage %d: established SAs lost: %s\n%s", k, stateSummary(east.m), east.allLines())
		}
	})
}

// TestNATRecordingReplays: FuzzNATT's replayed responder really reaches the
// established states (the seeds exercise every stage).
func TestNATRecordingReplays(t *testing.T) {
	toEast, now := natRecording(t)
	n, _, east, _ := newNATPairDet(t)
	for _, p := range toEast {
		east.m.HandlePacket(now, p.b, p.from, p.to)
	}
	n.queue = nil
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("replayed responder: %s\n%s", got, east.allLines())
	}
}
