package fsm

// Hostile input against machines with established SAs: nothing a peer (or
// anyone who can spoof its address) sends may panic the machine or take
// down what is established (IKEV1-REFERENCE.md §6.2: CVE-2015-3204,
// CVE-2022-23094, CVE-2023-30570).

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

// snapshot is what must survive hostile input.
type snapshot struct {
	summary            string
	installed, deleted int
}

func snap(e *testEnv) snapshot {
	return snapshot{stateSummary(e.m), len(e.installed), len(e.deleted)}
}

// stillWorks checks that the established SAs are intact and usable: a new
// Quick Mode on the ISAKMP SA completes (keys and IV chains unharmed).
func stillWorks(t *testing.T, n *testNet, west, east *testEnv, before [2]snapshot) {
	t.Helper()
	n.drop, n.tap = nil, nil
	n.pump(t)
	for i, e := range []*testEnv{west, east} {
		checkIndexes(t, e.m)
		if s := snap(e); s != before[i] {
			t.Errorf("side %d changed: %+v, was %+v", i, s, before[i])
		}
	}
	west.m.Initiate(n.now, west.conns[0], "after")
	n.pump(t)
	if c := countStates(west.m, isIPsec); c != 2 {
		t.Errorf("a new Quick Mode failed after hostile input: %s\n%s", stateSummary(west.m), west.allLines())
	}
	if c := countStates(east.m, isIPsec); c != 2 {
		t.Errorf("a new Quick Mode failed after hostile input: %s\n%s", stateSummary(east.m), east.allLines())
	}
}

func hdr(ic, rc [8]byte, x spec.ExchangeType, flags uint8, msgid uint32, body []byte) []byte {
	h := payloads.Header{ICookie: ic, RCookie: rc, Version: payloads.Version, Exchange: x,
		Flags: flags, MessageID: msgid, NextPayload: spec.PayloadHash, Length: uint32(spec.HeaderLen + len(body))}
	return append(h.Append(nil), body...)
}

// TestHostilePackets throws truncated, corrupted, random and crafted
// packets at both ends of an established pair.
func TestHostilePackets(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	before := [2]snapshot{snap(west), snap(east)}
	captured := append([]packet(nil), n.trace...)
	p1 := east.m.State(1)
	ic, rc := p1.ICookie, p1.RCookie
	r := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	var hostile [][]byte
	// Every message of the exchange, truncated (length field left alone
	// and fixed up), with flipped bits, and with trailing junk.
	for _, p := range captured {
		for _, cut := range []int{0, 1, 27, 28, 29, 32, len(p.b) / 2, len(p.b) - 1} {
			if cut > len(p.b) {
				continue
			}
			b := append([]byte(nil), p.b[:cut]...)
			hostile = append(hostile, b)
			if cut >= 28 {
				f := append([]byte(nil), b...)
				binary.BigEndian.PutUint32(f[24:], uint32(cut))
				hostile = append(hostile, f)
			}
		}
		for range 20 {
			b := append([]byte(nil), p.b...)
			i := 28 + r.IntN(max(1, len(b)-28))
			if i < len(b) {
				b[i] ^= byte(1 << r.IntN(8))
			}
			hostile = append(hostile, b)
		}
		for _, i := range []int{16, 17, 18, 19} { // next payload, version, exchange, flags
			for _, v := range []byte{0, 1, 0xff, 0x10, 0x20, 0x21} {
				b := append([]byte(nil), p.b...)
				b[i] = v
				hostile = append(hostile, b)
			}
		}
		b := append(append([]byte(nil), p.b...), random(16)...)
		binary.BigEndian.PutUint32(b[24:], uint32(len(b)))
		hostile = append(hostile, b)
	}
	// Random datagrams, and random bodies behind plausible headers.
	for range 200 {
		hostile = append(hostile, random(r.IntN(600)))
	}
	for _, x := range []spec.ExchangeType{spec.ExchangeIDProt, spec.ExchangeQuick, spec.ExchangeInfo, spec.ExchangeAggressive, 6, 34, 255} {
		for _, flags := range []uint8{0, spec.FlagEncryption, spec.FlagEncryption | spec.FlagCommit, 0xff} {
			for _, msgid := range []uint32{0, 1, p1.MsgID, r.Uint32()} {
				for _, body := range [][]byte{nil, random(7), random(16), random(64), random(333)} {
					hostile = append(hostile, hdr(ic, rc, x, flags, msgid, body))
					hostile = append(hostile, hdr(ic, [8]byte{}, x, flags, msgid, body))
					var other [8]byte
					copy(other[:], random(8))
					hostile = append(hostile, hdr(other, rc, x, flags, msgid, body))
					hostile = append(hostile, hdr([8]byte{}, rc, x, flags, msgid, body))
				}
			}
		}
	}
	// A Quick Mode message with Message ID 0, properly encrypted.
	hostile = append(hostile, hdr(ic, rc, spec.ExchangeQuick, spec.FlagEncryption, 0, random(64)))
	for _, b := range hostile {
		for _, e := range []*testEnv{east, west} {
			from := westAddr
			if e == west {
				from = eastAddr
			}
			e.m.HandlePacket(n.now, b, from, e.m.States()[0].Local)
			// And from a stranger.
			e.m.HandlePacket(n.now, b, netip.MustParseAddrPort("203.0.113.9:500"), e.m.States()[0].Local)
		}
	}
	// Whatever they answered (notifications) is delivered.
	n.pump(t)
	if !east.hasLine(3, "Quick Mode message with Message ID 0 is invalid; dropped") {
		t.Error("a Quick Mode message with Message ID 0 was not refused as such")
	}
	if !east.hasLine(3, "non-existent") {
		t.Error("unknown cookies were not reported")
	}
	// Half-open states created by the noise (spoofed MI1s) time out.
	n.afterAll(t)
	before[0].summary, before[1].summary = stateSummary(west.m), stateSummary(east.m)
	if before[0].summary != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Errorf("west after the noise: %s", before[0].summary)
	}
	if !strings.HasPrefix(before[1].summary, "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2") || countStates(east.m, nil) != 2 {
		t.Errorf("east after the noise: %s", before[1].summary)
	}
	stillWorks(t, n, west, east, before)
}

// TestBadKEInMI2: MI2 with a KE of the wrong length, or a degenerate one,
// is refused with INVALID_KEY_INFORMATION; the responder stays in MAIN_R1
// and the initiator's retransmission of the genuine MI2 completes.
func TestBadKEInMI2(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(ke []byte) []byte
		why  string
	}{
		{"short", func(ke []byte) []byte { return ke[:len(ke)-1] }, "KE has 255 octets, OAKLEY_GROUP_MODP2048 needs 256"},
		{"long", func(ke []byte) []byte { return append(ke, 0) }, "KE has 257 octets"},
		{"empty", func(ke []byte) []byte { return nil }, "KE has 0 octets"},
		{"one", func(ke []byte) []byte { b := make([]byte, len(ke)); b[len(b)-1] = 1; return b }, "peer's KE is unusable"},
		{"zero", func(ke []byte) []byte { return make([]byte, len(ke)) }, "peer's KE is unusable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, west, east := newPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
			n.tap = nth(2, mainFrom(westAddr), func(p packet) []packet {
				msg, err := payloads.DecodeMessage(p.b)
				if err != nil {
					t.Fatal(err)
				}
				ke := msg.Find(spec.PayloadKE).(*payloads.KE)
				ke.Data = c.f(append([]byte(nil), ke.Data...))
				p.b = payloads.Build(msg.Header, msg.Payloads...)
				return []packet{p}
			})
			west.m.Initiate(n.now, west.conns[0], "w")
			n.pump(t)
			if !east.hasLine(3, c.why) {
				t.Errorf("east:\n%s", east.allLines())
			}
			if ns := clearNotifies(n, eastAddr); len(ns) != 1 || ns[0] != spec.InvalidKeyInformation {
				t.Errorf("east answered %v", ns)
			}
			if got := stateSummary(east.m); got != "#1 STATE_MAIN_R1" {
				t.Errorf("east: %s", got)
			}
			n.advance(t, 10*time.Second)
			if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
				t.Errorf("west: %s\n%s", got, west.allLines())
			}
			if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
				t.Errorf("east: %s", got)
			}
		})
	}
}

// TestReplayedMI1AfterEstablishment: an old MI1 replayed after the
// exchange makes at most one new half-open state (as pluto would), which
// is discarded; the established SAs stay.
func TestReplayedMI1AfterEstablishment(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	before := [2]snapshot{snap(west), snap(east)}
	mi1 := n.trace[0]
	if !isExchange(mi1, spec.ExchangeIDProt) || header(mi1).RCookie != ([8]byte{}) {
		t.Fatal("trace[0] is not MI1")
	}
	for range 3 {
		n.deliver(t, east, mi1.b, mi1.from)
	}
	if c := countStates(east.m, nil); c > 3 {
		t.Errorf("east: %s", stateSummary(east.m))
	}
	if c := countStates(east.m, isISAKMP); c != 1 {
		t.Errorf("east: %s", stateSummary(east.m))
	}
	// West drops the MR1s (its state is past MAIN_I1).
	if c := countStates(west.m, nil); c != 2 {
		t.Errorf("west: %s", stateSummary(west.m))
	}
	n.afterAll(t)
	if got := stateSummary(east.m); got != before[1].summary {
		t.Errorf("east: %s", got)
	}
	stillWorks(t, n, west, east, before)
}

// TestEncryptedMI1 : an MI1 with the Encryption flag set is refused without
// leaving a state behind (each one would otherwise live forever).
func TestEncryptedMI1(t *testing.T) {
	n, _, east := newPair(t, pairOpts{})
	for i := range 10 {
		var ic [8]byte
		ic[0], ic[7] = 1, byte(i)
		b := hdr(ic, [8]byte{}, spec.ExchangeIDProt, spec.FlagEncryption, 0, make([]byte, 32))
		n.deliver(t, east, b, westAddr)
	}
	if c := countStates(east.m, nil); c != 0 || len(east.m.byCookies) != 0 {
		t.Errorf("east kept %d states (%d cookies): %s", c, len(east.m.byCookies), stateSummary(east.m))
	}
	checkIndexes(t, east.m)
}

// TestReflectedMI1: our own MI1 sent back to us (zero responder cookie)
// is not taken for the responder's MR1; the real MR1 still completes the
// exchange.
func TestReflectedMI1(t *testing.T) {
	o := pairOpts{ike: "aes128-sha1-modp2048"} // one transform: a valid-looking reply
	n, west, east := newPair(t, o)
	reflected := false
	n.tap = func(p packet) []packet {
		if !reflected && p.from == westAddr && isExchange(p, spec.ExchangeIDProt) {
			reflected = true
			return []packet{{p.b, eastAddr, westAddr}, p}
		}
		return []packet{p}
	}
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Errorf("west: %s\n%s", got, west.allLines())
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east: %s\n%s", got, east.allLines())
	}
}
