package fsm

// Duplicates, lost packets and retransmission (IKEV1-REFERENCE.md §1.4,
// §1.5, §6.1: a duplicated first packet must not create a new state;
// responders answer duplicates, at most twice, and never retransmit on
// their own).

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"goswan/spec"
)

// nth returns a tap that applies f to the k-th packet (from 1) matching
// pred and passes everything else.
func nth(k int, pred func(p packet) bool, f func(p packet) []packet) func(p packet) []packet {
	seen := 0
	return func(p packet) []packet {
		if pred(p) {
			seen++
			if seen == k {
				return f(p)
			}
		}
		return []packet{p}
	}
}

// mainFrom matches the Main Mode messages sent from addr.
func mainFrom(addr netip.AddrPort) func(p packet) bool {
	return func(p packet) bool { return p.from == addr && isExchange(p, spec.ExchangeIDProt) }
}

// TestDuplicateMI1: MI1 arrives four times. East makes one state and
// answers the copies with MR1 at most twice.
func TestDuplicateMI1(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	n.tap = nth(1, mainFrom(westAddr), func(p packet) []packet { return []packet{p, p, p, p} })
	west.m.Initiate(n.now, west.conns[0], "w")
	// Deliver only MI1 and its copies: stop before MI2 by holding west's
	// packets after the first.
	first := n.queue[0]
	n.queue = nil
	for _, p := range n.tap(first) {
		east.m.HandlePacket(n.now, p.b, p.from, p.to)
	}
	if c := countStates(east.m, nil); c != 1 {
		t.Fatalf("east has %d states after a duplicated MI1: %s", c, stateSummary(east.m))
	}
	mr1 := 0
	for _, p := range n.queue {
		if p.from == eastAddr && isExchange(p, spec.ExchangeIDProt) {
			mr1++
		}
	}
	if mr1 != 3 {
		t.Errorf("east sent MR1 %d times for MI1 x4, want 3 (one answer, two resends)", mr1)
	}
	if c := east.countLines(0, "retransmitting in response to duplicate packet; already STATE_MAIN_R1"); c != 2 {
		t.Errorf("%d resends logged, want 2", c)
	}
	if !east.anyLine("discarding duplicate packet; already STATE_MAIN_R1") {
		t.Error("the fourth copy was not discarded")
	}
	// West takes the first MR1 and ignores the copies; the exchange completes.
	n.tap = nil
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Errorf("west: %s\n%s", got, west.allLines())
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east: %s", got)
	}
	checkIndexes(t, east.m)
	checkIndexes(t, west.m)
}

// TestLostMR2: the initiator resends MI2 after 10 s; the responder answers
// the duplicate with MR2 and the exchange completes.
func TestLostMR2(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	n.tap = nth(2, mainFrom(eastAddr), func(p packet) []packet { return nil })
	w := "whack-mr2"
	west.m.Initiate(n.now, west.conns[0], w)
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I2" {
		t.Fatalf("west: %s", got)
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R2" {
		t.Fatalf("east: %s", got)
	}
	n.advance(t, 9*time.Second)
	if west.hasLine(10, "") {
		t.Error("retransmitted before 10s")
	}
	n.advance(t, time.Second)
	if !west.hasLine(10, `"west-east" #1: STATE_MAIN_I2: retransmission; will wait 20s for response`) {
		t.Errorf("no retransmission:\n%s", west.allLines())
	}
	if !east.hasLine(0, "retransmitting in response to duplicate packet; already STATE_MAIN_R2") {
		t.Errorf("east did not resend MR2:\n%s", east.allLines())
	}
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Errorf("west: %s", got)
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east: %s", got)
	}
	if !west.wasReleased(w) {
		t.Error("whack not released")
	}
	// The retransmission count starts again in the next state.
	if st := west.m.State(1); st.retransmits != 0 {
		t.Errorf("retransmits %d after the transition", st.retransmits)
	}
	checkIndexes(t, east.m)
	checkIndexes(t, west.m)
}

// TestLostMR3: the initiator resends MI3; the responder, already
// established, answers the duplicate with MR3 (MAIN_R3 has D).
func TestLostMR3(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	n.tap = nth(3, mainFrom(eastAddr), func(p packet) []packet { return nil })
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I3" {
		t.Fatalf("west: %s", got)
	}
	n.advance(t, 10*time.Second)
	if !east.hasLine(0, "retransmitting in response to duplicate packet; already STATE_MAIN_R3") {
		t.Errorf("east:\n%s", east.allLines())
	}
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Errorf("west: %s\n%s", got, west.allLines())
	}
}

// TestLostQR1: the initiator resends QI1 after 10 s; the responder in
// QUICK_R1 answers the duplicate with QR1 (it never retransmits on its own,
// so this is the only way a lost QR1 is recovered) and Quick Mode completes.
func TestLostQR1(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	quickFromEast := func(p packet) bool { return p.from == eastAddr && isExchange(p, spec.ExchangeQuick) }
	n.tap = nth(1, quickFromEast, func(p packet) []packet { return nil })
	w := "whack-qr1"
	west.m.Initiate(n.now, west.conns[0], w)
	n.pump(t)
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R1" {
		t.Fatalf("east: %s", got)
	}
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I1" {
		t.Fatalf("west: %s", got)
	}
	n.advance(t, 10*time.Second)
	if !west.hasLine(10, `"west-east" #2: STATE_QUICK_I1: retransmission; will wait 20s for response`) {
		t.Errorf("west:\n%s", west.allLines())
	}
	if !east.hasLine(0, "retransmitting in response to duplicate packet; already STATE_QUICK_R1") {
		t.Errorf("east:\n%s", east.allLines())
	}
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Errorf("west: %s", got)
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east: %s", got)
	}
	if !west.wasReleased(w) || len(west.installed) != 1 || len(east.installed) != 1 {
		t.Errorf("released %v, installed west %d east %d", west.released, len(west.installed), len(east.installed))
	}
	checkIndexes(t, east.m)
	checkIndexes(t, west.m)
}

// TestQuickResponderHalfOpen: QR1 never gets through. West gives up on
// QUICK_I1; east discards its half-open QUICK_R1 after the half-open
// timeout and removes the inbound SA it had installed.
func TestQuickResponderHalfOpen(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	n.drop = func(p packet) bool { return p.from == eastAddr && isExchange(p, spec.ExchangeQuick) }
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	for range 3 { // QUICK_R1 resends QR1 for 11 intervals of 20 s (Machine.maxRetransmits)
		n.afterAll(t)
	}
	if !west.hasLine(31, "STATE_QUICK_I1.  No acceptable response to our first Quick Mode message") {
		t.Errorf("west:\n%s", west.allLines())
	}
	if c := east.countLines(0, "retransmitting in response to duplicate packet; already STATE_QUICK_R1"); c != 2 {
		t.Errorf("east answered %d duplicates, want 2", c)
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3" {
		t.Errorf("east: %s", got)
	}
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4" {
		t.Errorf("west: %s", got)
	}
	if len(east.inbound) != 1 || len(east.deleted) != 1 || east.deleted[0] != east.inbound[0] {
		t.Errorf("east: inbound %d deleted %d", len(east.inbound), len(east.deleted))
	}
	if len(west.installed)+len(west.deleted) != 0 {
		t.Errorf("west: installed %d deleted %d", len(west.installed), len(west.deleted))
	}
	checkIndexes(t, east.m)
	checkIndexes(t, west.m)
}

// TestLostQI2: the third Quick Mode message is lost once. The initiator is
// established (it has nothing left to send); the responder, in QUICK_R1
// with only the inbound SA, resends QR1 after the retransmit delay (QR1 is
// protected by the authenticated ISAKMP SA, so this is no amplifier), the
// initiator in QUICK_I2 answers the duplicate with QI2, and both ends agree.
func TestLostQI2(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	quickFromWest := func(p packet) bool { return p.from == westAddr && isExchange(p, spec.ExchangeQuick) }
	n.tap = nth(2, quickFromWest, func(p packet) []packet { return nil })
	w := "whack-qi2"
	west.m.Initiate(n.now, west.conns[0], w)
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Fatalf("west: %s", got)
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R1" {
		t.Fatalf("east: %s", got)
	}
	if len(west.installed) != 1 || len(east.installed) != 0 || len(east.inbound) != 1 {
		t.Errorf("west installed %d; east installed %d inbound %d", len(west.installed), len(east.installed), len(east.inbound))
	}
	if !west.wasReleased(w) {
		t.Error("whack not released")
	}
	n.advance(t, 9*time.Second)
	if countPackets(n, func(p packet) bool { return p.from == eastAddr && isExchange(p, spec.ExchangeQuick) }) != 1 {
		t.Error("east retransmitted QR1 before the retransmit delay")
	}
	n.advance(t, time.Second)
	if countPackets(n, func(p packet) bool { return p.from == eastAddr && isExchange(p, spec.ExchangeQuick) }) != 2 {
		t.Error("east did not retransmit QR1")
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east after the retransmission: %s", got)
	}
	if len(east.installed) != 1 || len(east.deleted) != 0 {
		t.Errorf("east installed %d deleted %d", len(east.installed), len(east.deleted))
	}
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Errorf("west: %s", got)
	}
	checkIndexes(t, east.m)
	checkIndexes(t, west.m)
}

// TestDuplicateQR1: a duplicate of QR1 reaching QUICK_I2 is answered with
// QI2 (QUICK_I2 has D); the responder, already QUICK_R2, drops the copy.
func TestDuplicateQR1(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	quickFromEast := func(p packet) bool { return p.from == eastAddr && isExchange(p, spec.ExchangeQuick) }
	n.tap = nth(1, quickFromEast, func(p packet) []packet { return []packet{p, p} })
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if !west.hasLine(0, "retransmitting in response to duplicate packet; already STATE_QUICK_I2") {
		t.Errorf("west:\n%s", west.allLines())
	}
	if !east.anyLine("discarding duplicate packet; already STATE_QUICK_R2") &&
		!east.anyLine("unexpected message received in state STATE_QUICK_R2") {
		t.Errorf("east:\n%s", east.allLines())
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east: %s", got)
	}
	if len(east.installed) != 1 || len(west.installed) != 1 {
		t.Errorf("installed west %d east %d", len(west.installed), len(east.installed))
	}
}

// TestBothInitiate: both ends initiate the same connection at once. Each
// completes its own negotiation as initiator and answers the other's.
func TestBothInitiate(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	west.m.Initiate(n.now, west.conns[0], "w-west")
	east.m.Initiate(n.now, east.conns[0], "w-east")
	n.pump(t)
	for _, e := range []*testEnv{west, east} {
		if c := countStates(e.m, isISAKMP); c != 2 {
			t.Errorf("%d ISAKMP SAs: %s", c, stateSummary(e.m))
		}
		if c := countStates(e.m, isIPsec); c != 2 {
			t.Errorf("%d IPsec SAs: %s", c, stateSummary(e.m))
		}
		if len(e.installed) != 2 {
			t.Errorf("%d SAs installed", len(e.installed))
		}
		checkIndexes(t, e.m)
	}
	for _, c := range []struct {
		e *testEnv
		w string
	}{{west, "w-west"}, {east, "w-east"}} {
		got := c.e.whackLines(c.w)
		if len(got) == 0 || !strings.Contains(got[len(got)-1], "STATE_QUICK_I2: sent QI2, IPsec SA established") || !c.e.wasReleased(c.w) {
			t.Errorf("%s:\n%s", c.w, strings.Join(got, "\n"))
		}
	}
}

// TestInitiateOnExistingISAKMP: with an ISAKMP SA up, initiating again goes
// straight to Quick Mode on it.
func TestInitiateOnExistingISAKMP(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	w := "whack-2"
	west.m.Initiate(n.now, west.conns[0], w)
	n.pump(t)
	got := west.whackLines(w)
	if len(got) != 2 || got[0] != `112 "west-east" #3: STATE_QUICK_I1: initiate` ||
		!strings.HasPrefix(got[1], `004 "west-east" #3: STATE_QUICK_I2: sent QI2, IPsec SA established {ESP=>0x`) {
		t.Errorf("whack saw:\n%s", strings.Join(got, "\n"))
	}
	if west.hasLine(-1, "#3: STATE_MAIN_I1") || countStates(west.m, isISAKMP) != 1 {
		t.Errorf("a new Main Mode: %s", stateSummary(west.m))
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2, #3 STATE_QUICK_R2" {
		t.Errorf("east: %s", got)
	}
	if !west.wasReleased(w) {
		t.Error("whack not released")
	}
	// East, the responder of the ISAKMP SA, can initiate Quick Mode on it too.
	east.m.Initiate(n.now, east.conns[0], "whack-east")
	n.pump(t)
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2, #3 STATE_QUICK_R2, #4 STATE_QUICK_I2" {
		t.Errorf("east: %s\n%s", got, east.allLines())
	}
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2, #3 STATE_QUICK_I2, #4 STATE_QUICK_R2" {
		t.Errorf("west: %s\n%s", got, west.allLines())
	}
}
