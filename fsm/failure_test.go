package fsm

// Failure cases with the in-memory harness: what each end logs, sends and
// keeps when a negotiation cannot succeed, and how retransmission, keying
// tries and duplicates behave (IKEV1-REFERENCE.md §1.4, §1.5).

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"goswan/fsm/proposal"
	"goswan/payloads"
	"goswan/spec"
)

// notifies returns the Notify types east sent to west (clear or, when
// p1 is given, decrypted with west's ISAKMP SA).
func clearNotifies(n *testNet, from netip.AddrPort) []spec.NotifyType {
	var out []spec.NotifyType
	for _, p := range n.trace {
		if p.from != from || !isExchange(p, spec.ExchangeInfo) || header(p).Flags&spec.FlagEncryption != 0 {
			continue
		}
		msg, err := payloads.DecodeMessage(p.b)
		if err != nil {
			continue
		}
		for _, pl := range msg.All(spec.PayloadN) {
			out = append(out, pl.(*payloads.Notify).NotifyType)
		}
	}
	return out
}

func countPackets(n *testNet, pred func(p packet) bool) int {
	c := 0
	for _, p := range n.trace {
		if pred(p) {
			c++
		}
	}
	return c
}

// TestWrongPSK: the responder cannot read MI3, says why and answers with a
// notification; the initiator retransmits MI3 twice, gives up with pluto's
// authentication hint and releases its whack; nothing is established or
// installed anywhere, and with keyingtries=1 nothing is tried again.
func TestWrongPSK(t *testing.T) {
	n, west, east := newPair(t, pairOpts{pskW: "sesame", pskE: "open sesame"})
	w := "whack-psk"
	west.m.Initiate(n.now, west.conns[0], w)
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I3" {
		t.Fatalf("west after the exchange: %s", got)
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R2" {
		t.Fatalf("east after the exchange: %s", got)
	}
	if !east.hasLine(3, "pre-shared key mismatch") && !east.hasLine(3, "Hash Payload does not match") {
		t.Errorf("east gave no reason:\n%s", east.allLines())
	}
	if ns := clearNotifies(n, eastAddr); len(ns) != 1 || (ns[0] != spec.PayloadMalformed && ns[0] != spec.InvalidHashInformation) {
		t.Errorf("east's notifications: %v", ns)
	}
	n.afterAll(t)
	got := west.whackLines(w)
	want := []string{
		`104 "west-east" #1: STATE_MAIN_I1: initiate`,
		`106 "west-east" #1: STATE_MAIN_I2: sent MI2, expecting MR2`,
		`108 "west-east" #1: STATE_MAIN_I3: sent MI3, expecting MR3`,
		`010 "west-east" #1: STATE_MAIN_I3: retransmission; will wait 20s for response`,
		`010 "west-east" #1: STATE_MAIN_I3: retransmission; will wait 40s for response`,
		`031 "west-east" #1: max number of retransmissions (2) reached STATE_MAIN_I3.  Possible authentication failure: no acceptable response to our first encrypted message`,
	}
	var progress []string
	for _, l := range got {
		if !strings.HasPrefix(l, "000 ") && !strings.HasPrefix(l, "003 ") {
			progress = append(progress, l)
		}
	}
	if strings.Join(progress, "\n") != strings.Join(want, "\n") {
		t.Errorf("west's whack saw:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !west.wasReleased(w) || len(west.released) != 1 {
		t.Errorf("released %v", west.released)
	}
	if west.hasLine(-1, "starting keying attempt") {
		t.Error("keyingtries=1 but a new attempt started")
	}
	// MI3 three times in all; each copy refused by east with a notification.
	mi3 := countPackets(n, func(p packet) bool {
		return p.from == westAddr && isExchange(p, spec.ExchangeIDProt) && header(p).Flags&spec.FlagEncryption != 0
	})
	if mi3 != 3 {
		t.Errorf("MI3 sent %d times, want 3", mi3)
	}
	if c := len(clearNotifies(n, eastAddr)); c != 3 {
		t.Errorf("east sent %d notifications, want one per MI3", c)
	}
	for _, e := range []*testEnv{west, east} {
		if c := countStates(e.m, nil); c != 0 {
			t.Errorf("states left: %s", stateSummary(e.m))
		}
		if e.hasLine(4, "") {
			t.Errorf("something was established:\n%s", e.allLines())
		}
		if len(e.installed)+len(e.inbound)+len(e.deleted) != 0 {
			t.Errorf("kernel touched: %d installed %d inbound %d deleted", len(e.installed), len(e.inbound), len(e.deleted))
		}
		checkIndexes(t, e.m)
	}
}

// TestNoCommonPhase1Proposal: disjoint ike= lines. The responder refuses
// MI1 in the clear with NO_PROPOSAL_CHOSEN and keeps no state; the
// initiator gives up on MAIN_I1.
func TestNoCommonPhase1Proposal(t *testing.T) {
	n, west, east := newPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
	var err error
	if east.conns[0].P1.Algs, err = proposal.ParseIKE("3des-md5-modp1024"); err != nil {
		t.Fatal(err)
	}
	w := "whack-p1"
	west.m.Initiate(n.now, west.conns[0], w)
	n.pump(t)
	if ns := clearNotifies(n, eastAddr); len(ns) != 1 || ns[0] != spec.NoProposalChosen {
		t.Errorf("east answered %v, want NO_PROPOSAL_CHOSEN", ns)
	}
	if c := countStates(east.m, nil); c != 0 {
		t.Errorf("east kept a half-open state: %s", stateSummary(east.m))
	}
	checkIndexes(t, east.m)
	if !east.hasLine(3, "STATE_MAIN_R0") {
		t.Errorf("east did not log the refusal:\n%s", east.allLines())
	}
	if !west.hasLine(3, "NO_PROPOSAL_CHOSEN") {
		t.Errorf("west did not log the notification:\n%s", west.allLines())
	}
	n.afterAll(t)
	want := `031 "west-east" #1: max number of retransmissions (2) reached STATE_MAIN_I1.  No response (or no acceptable response) to our first IKE message`
	got := west.whackLines(w)
	if len(got) == 0 || got[len(got)-1] != want {
		t.Errorf("west's whack saw:\n%s\nwant last %q", strings.Join(got, "\n"), want)
	}
	if !west.wasReleased(w) {
		t.Error("whack not released")
	}
	// Each MI1 (three in all) is refused again, and never leaves a state.
	if ns := clearNotifies(n, eastAddr); len(ns) != 3 {
		t.Errorf("east sent %d notifications, want 3", len(ns))
	}
	for _, e := range []*testEnv{west, east} {
		if countStates(e.m, nil) != 0 {
			t.Errorf("states left: %s", stateSummary(e.m))
		}
		checkIndexes(t, e.m)
	}
}

// TestNoCommonPhase2Proposal: the ISAKMP SA comes up; Quick Mode is refused
// with an encrypted NO_PROPOSAL_CHOSEN; the initiator's QUICK_I1 gives up.
func TestNoCommonPhase2Proposal(t *testing.T) {
	n, west, east := newPair(t, pairOpts{esp: "aes128-sha1"})
	esp, _, err := proposal.ParseESP("3des-md5")
	if err != nil {
		t.Fatal(err)
	}
	east.conns[0].P2.ESP = esp
	w := "whack-p2"
	west.m.Initiate(n.now, west.conns[0], w)
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I1" {
		t.Fatalf("west: %s", got)
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3" {
		t.Fatalf("east: %s", got)
	}
	// The refusal travels encrypted, on the ISAKMP SA.
	if ns := clearNotifies(n, eastAddr); len(ns) != 0 {
		t.Errorf("east sent clear notifications %v", ns)
	}
	enc := countPackets(n, func(p packet) bool {
		return p.from == eastAddr && isExchange(p, spec.ExchangeInfo) && header(p).Flags&spec.FlagEncryption != 0
	})
	if enc != 1 {
		t.Errorf("east sent %d encrypted Informationals, want 1", enc)
	}
	if !west.hasLine(3, "received notification NO_PROPOSAL_CHOSEN") {
		t.Errorf("west did not read the notification:\n%s", west.allLines())
	}
	n.afterAll(t)
	want := `031 "west-east" #2: max number of retransmissions (2) reached STATE_QUICK_I1.  No acceptable response to our first Quick Mode message: perhaps peer likes no proposal`
	got := west.whackLines(w)
	if len(got) == 0 || got[len(got)-1] != want {
		t.Errorf("west's whack saw:\n%s\nwant last %q", strings.Join(got, "\n"), want)
	}
	if !west.wasReleased(w) {
		t.Error("whack not released")
	}
	// The retransmitted QI1s reuse the refused Message ID: dropped, not
	// answered again.
	if c := east.countLines(3, "reused Message ID"); c != 2 {
		t.Errorf("east dropped %d QI1 retransmissions as reused, want 2", c)
	}
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4" {
		t.Errorf("west: %s", got)
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3" {
		t.Errorf("east: %s", got)
	}
	for _, e := range []*testEnv{west, east} {
		if len(e.installed)+len(e.inbound)+len(e.deleted) != 0 {
			t.Errorf("kernel touched: %d installed %d inbound %d deleted", len(e.installed), len(e.inbound), len(e.deleted))
		}
		checkIndexes(t, e.m)
	}
}

// TestMismatchedSubnets: east has no connection for west's subnets; it
// refuses Quick Mode with INVALID_ID_INFORMATION and installs nothing.
func TestMismatchedSubnets(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	east.conns[0].RemoteNet = Client{Net: netip.MustParsePrefix("10.9.0.0/24")}
	w := "whack-ids"
	west.m.Initiate(n.now, west.conns[0], w)
	n.pump(t)
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3" {
		t.Fatalf("east: %s", got)
	}
	if !east.hasLine(3, "no connection is known for 10.2.0.0/24...10.1.0.0/24") {
		t.Errorf("east's reason:\n%s", east.allLines())
	}
	if !west.hasLine(3, "received notification INVALID_ID_INFORMATION") {
		t.Errorf("west:\n%s", west.allLines())
	}
	n.afterAll(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4" {
		t.Errorf("west: %s", got)
	}
	if !west.wasReleased(w) {
		t.Error("whack not released")
	}
	for _, e := range []*testEnv{west, east} {
		if len(e.installed)+len(e.inbound)+len(e.deleted) != 0 {
			t.Errorf("kernel touched: %d installed %d inbound %d deleted", len(e.installed), len(e.inbound), len(e.deleted))
		}
		checkIndexes(t, e.m)
	}
}

// TestPeerNotRunning: every packet to east is lost. MI1 goes out three
// times, then 031 "No response"; keyingtries=2 starts one more attempt
// (releasing whack), which gives up the same way.
func TestPeerNotRunning(t *testing.T) {
	for _, tries := range []int{1, 2} {
		n, west, _ := newPair(t, pairOpts{})
		west.conns[0].KeyingTries = tries
		lost := 0
		n.drop = func(p packet) bool {
			if p.to == eastAddr {
				lost++
				return true
			}
			return false
		}
		w := "whack-gone"
		west.m.Initiate(n.now, west.conns[0], w)
		n.pump(t)
		n.advance(t, 10*time.Second)
		n.advance(t, 20*time.Second)
		if lost != 3 {
			t.Errorf("tries=%d: %d MI1 before giving up, want 3", tries, lost)
		}
		n.advance(t, 40*time.Second)
		got := west.whackLines(w)
		want := []string{
			`104 "west-east" #1: STATE_MAIN_I1: initiate`,
			`010 "west-east" #1: STATE_MAIN_I1: retransmission; will wait 20s for response`,
			`010 "west-east" #1: STATE_MAIN_I1: retransmission; will wait 40s for response`,
			`031 "west-east" #1: max number of retransmissions (2) reached STATE_MAIN_I1.  No response (or no acceptable response) to our first IKE message`,
		}
		if tries == 2 {
			want = append(want, `000 "west-east" #1: starting keying attempt 2 of at most 2, but releasing whack`)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("tries=%d: whack saw:\n%s\nwant:\n%s", tries, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if len(west.released) != 1 || west.released[0] != w {
			t.Errorf("tries=%d: released %v", tries, west.released)
		}
		// The Env hears that the negotiation failed (each attempt).
		if strings.Join(west.failed, ", ") != "#1 STATE_MAIN_I1" {
			t.Errorf("tries=%d: NegotiationFailed for %q", tries, west.failed)
		}
		if tries == 1 {
			if countStates(west.m, nil) != 0 {
				t.Errorf("states left: %s", stateSummary(west.m))
			}
			continue
		}
		// The second attempt: a new state, no whack attached, same schedule.
		if got := stateSummary(west.m); got != "#2 STATE_MAIN_I1" {
			t.Fatalf("second attempt: %s", got)
		}
		if st := west.m.State(2); st.Whack != nil || st.Try != 2 {
			t.Errorf("second attempt: whack %v try %d", st.Whack, st.Try)
		}
		n.afterAll(t)
		if lost != 6 {
			t.Errorf("%d MI1 in two attempts, want 6", lost)
		}
		if !west.hasLine(31, `"west-east" #2: max number of retransmissions (2) reached STATE_MAIN_I1.`) {
			t.Errorf("second attempt did not give up:\n%s", west.allLines())
		}
		if west.hasLine(-1, "keying attempt 3") || countStates(west.m, nil) != 0 {
			t.Errorf("a third attempt: %s\n%s", stateSummary(west.m), west.allLines())
		}
		if len(west.released) != 1 {
			t.Errorf("released %v", west.released)
		}
		if strings.Join(west.failed, ", ") != "#1 STATE_MAIN_I1, #2 STATE_MAIN_I1" {
			t.Errorf("NegotiationFailed for %q", west.failed)
		}
		checkIndexes(t, west.m)
	}
}
