package fsm

// Delete notifications and the protection of Informational exchanges
// (IKEV1-REFERENCE.md §6.1: Deletes only when authenticated, HASH(1)
// always verified, CVE-2019-10155).

import (
	"strings"
	"testing"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

// TestTerminateSendsDeletes: terminating the connection on west deletes
// the IPsec SA then the ISAKMP SA, and tells east, which removes both.
func TestTerminateSendsDeletes(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	if got := west.m.Terminate(n.now, "west-east"); got != 2 {
		t.Errorf("Terminate deleted %d states, want 2", got)
	}
	n.pump(t)
	for _, e := range []*testEnv{west, east} {
		if countStates(e.m, nil) != 0 {
			t.Errorf("states left: %s", stateSummary(e.m))
		}
		if len(e.deleted) != 1 || e.deleted[0] != e.installed[0] {
			t.Errorf("kernel: %d installed, %d deleted", len(e.installed), len(e.deleted))
		}
		if len(e.failed) != 0 { // established SAs deleted: no failure
			t.Errorf("NegotiationFailed for %q", e.failed)
		}
		checkIndexes(t, e.m)
	}
	if !east.hasLine(0, `"west-east" #2: received Delete SA payload: deleting IPSEC State #2`) ||
		!east.hasLine(0, `"west-east" #1: received Delete SA payload: deleting ISAKMP State #1`) {
		t.Errorf("east:\n%s", east.allLines())
	}
	// Two protected Informationals, nothing in the clear.
	if c := countPackets(n, func(p packet) bool {
		return p.from == westAddr && isExchange(p, spec.ExchangeInfo) && header(p).Flags&spec.FlagEncryption != 0
	}); c != 2 {
		t.Errorf("west sent %d protected Informationals, want 2", c)
	}
}

// TestDeleteIPsecOnly: deleting only the IPsec state removes just that on
// both ends; the ISAKMP SA stays and carries a new Quick Mode.
func TestDeleteIPsecOnly(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	if !west.m.DeleteState(n.now, 2) {
		t.Fatal("DeleteState(2) found nothing")
	}
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4" {
		t.Errorf("west: %s", got)
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3" {
		t.Errorf("east: %s", got)
	}
	for _, e := range []*testEnv{west, east} {
		if len(e.deleted) != 1 {
			t.Errorf("%d SAs deleted", len(e.deleted))
		}
		checkIndexes(t, e.m)
	}
	if west.m.DeleteState(n.now, 2) {
		t.Error("deleted #2 twice")
	}
	west.m.Initiate(n.now, west.conns[0], "again")
	n.pump(t)
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #3 STATE_QUICK_R2" {
		t.Errorf("east: %s", got)
	}
	// Deleting the ISAKMP SA alone leaves the IPsec SA on both ends.
	west.m.DeleteState(n.now, 1)
	n.pump(t)
	if got := stateSummary(west.m); got != "#3 STATE_QUICK_I2" {
		t.Errorf("west: %s", got)
	}
	if got := stateSummary(east.m); got != "#3 STATE_QUICK_R2" {
		t.Errorf("east: %s", got)
	}
	// With no ISAKMP SA left, deleting the IPsec SA cannot tell the peer.
	sent := west.sent
	west.m.DeleteState(n.now, 3)
	if west.sent != sent {
		t.Error("a Delete was sent without an ISAKMP SA")
	}
	checkIndexes(t, west.m)
	checkIndexes(t, east.m)
}

// TestInformationalBadHash: a protected Delete whose HASH(1) is wrong is
// ignored; the same Delete with the right hash is obeyed.
func TestInformationalBadHash(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	p1 := west.m.State(1)
	ipsec := west.m.State(2).IPsec
	del := func() payloads.Payload {
		return &payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoESP, SPISize: 4, SPIs: [][]byte{ipsec.InboundSPI}}
	}
	n.deliver(t, east, sealedInfo(west.m, p1, del(), true), westAddr)
	if !east.hasLine(3, "received HASH(1) does not match computed value in Informational Exchange; message ignored") {
		t.Errorf("east:\n%s", east.allLines())
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east after a bad hash: %s", got)
	}
	// An ISAKMP Delete with a bad hash changes nothing either.
	spi := append(p1.ICookie[:], p1.RCookie[:]...)
	n.deliver(t, east, sealedInfo(west.m, p1, &payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{spi}}, true), westAddr)
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east after a bad hash: %s", got)
	}
	// A good one is obeyed.
	n.deliver(t, east, sealedInfo(west.m, p1, del(), false), westAddr)
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3" {
		t.Errorf("east after a good Delete: %s\n%s", got, east.allLines())
	}
	checkIndexes(t, east.m)
}

// TestInformationalReplay: a protected Informational replayed with its
// Message ID is dropped; one from another address is dropped.
func TestInformationalReplay(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	p1 := west.m.State(1)
	ipsec := west.m.State(2).IPsec
	msg := sealedInfo(west.m, p1, &payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, NotifyType: spec.InvalidSPI}, false)
	n.deliver(t, east, msg, westAddr)
	n.deliver(t, east, msg, westAddr)
	if !east.hasLine(3, "zero or reused Message ID") {
		t.Errorf("replay accepted:\n%s", east.allLines())
	}
	del := sealedInfo(west.m, p1, &payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoESP, SPISize: 4, SPIs: [][]byte{ipsec.InboundSPI}}, false)
	n.deliver(t, east, del, netipMust("198.51.100.7:500"))
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east obeyed a Delete from another address: %s", got)
	}
}

// TestClearDeleteAfterEstablishment: a Delete in the clear, once the
// ISAKMP SA is up, is dropped ("must be encrypted").
func TestClearDeleteAfterEstablishment(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	p1 := west.m.State(1)
	spi := append(p1.ICookie[:], p1.RCookie[:]...)
	b := payloads.Build(payloads.Header{ICookie: p1.ICookie, RCookie: p1.RCookie, Exchange: spec.ExchangeInfo},
		&payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{spi}})
	n.deliver(t, east, b, westAddr)
	if !east.hasLine(3, "Informational Exchange message must be encrypted; dropped") {
		t.Errorf("east:\n%s", east.allLines())
	}
	// Before establishment (or on unknown cookies) it is only logged.
	var ic [8]byte
	ic[0] = 7
	b = payloads.Build(payloads.Header{ICookie: ic, Exchange: spec.ExchangeInfo},
		&payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{spi}})
	n.deliver(t, east, b, westAddr)
	if !east.hasLine(3, "ignoring Delete SA payload: not protected by an established ISAKMP SA") {
		t.Errorf("east:\n%s", east.allLines())
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Errorf("east: %s", got)
	}
}

// TestShutdown: every state goes, the peer is told and removes its own.
func TestShutdown(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	west.m.Initiate(n.now, west.conns[0], "second")
	n.pump(t)
	west.m.Shutdown(n.now)
	n.pump(t)
	for _, e := range []*testEnv{west, east} {
		if countStates(e.m, nil) != 0 {
			t.Errorf("states left: %s", stateSummary(e.m))
		}
		if len(e.deleted) != 2 {
			t.Errorf("%d SAs deleted, want 2", len(e.deleted))
		}
		checkIndexes(t, e.m)
	}
}

// TestLifetimeExpiry: without rekeying, the ISAKMP SA (1 h) and then the
// IPsec SA (8 h) expire on both ends; the kernel SAs are removed.
func TestLifetimeExpiry(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	n.advance(t, time.Hour-time.Second)
	if countStates(west.m, nil) != 2 || countStates(east.m, nil) != 2 {
		t.Fatalf("expired early: %s / %s", stateSummary(west.m), stateSummary(east.m))
	}
	n.advance(t, time.Second)
	if got := stateSummary(west.m); got != "#2 STATE_QUICK_I2" {
		t.Errorf("west after 1h: %s", got)
	}
	if got := stateSummary(east.m); got != "#2 STATE_QUICK_R2" {
		t.Errorf("east after 1h: %s", got)
	}
	n.advance(t, 7*time.Hour)
	for _, e := range []*testEnv{west, east} {
		if countStates(e.m, nil) != 0 || len(e.deleted) != 1 || e.deleted[0] != e.installed[0] {
			t.Errorf("after 8h: %s, %d deleted", stateSummary(e.m), len(e.deleted))
		}
		if !e.hasLine(0, "STATE_QUICK_") || !e.hasLine(0, "lifetime expired, deleting") {
			t.Errorf("expiry not logged:\n%s", e.allLines())
		}
		checkIndexes(t, e.m)
	}
}

// failingEnv refuses to install SAs (only full pairs with outboundOnly).
type failingEnv struct {
	*testEnv
	outboundOnly bool
}

func (e failingEnv) Install(st *State, sa *IPsecSA, inboundOnly bool) error {
	if e.outboundOnly && inboundOnly {
		return e.testEnv.Install(st, sa, inboundOnly)
	}
	return errInstall
}

var errInstall = errorString("kernel: cannot add ESP SA 0xc0000203 (192.0.2.2->192.0.2.1): protocol not supported (no ESP in this kernel?)")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestInstallFailure: when the kernel refuses an SA, the Quick Mode state
// fails at once: the whack attached gets RC_INTERNALERR with the kernel's
// words and is released, the state goes, nothing is reported installed,
// what was installed before (the responder's inbound half) is deleted,
// and the peer is told to delete its side (no half-open tunnel remains).
func TestInstallFailure(t *testing.T) {
	for _, side := range []string{"responder", "responder-outbound", "initiator"} {
		t.Run(side, func(t *testing.T) {
			n, west, east := newPair(t, pairOpts{})
			e := east
			if side == "initiator" {
				e = west
			}
			e.m.env = failingEnv{e, side == "responder-outbound"}
			w := "whack-kernel"
			west.m.Initiate(n.now, west.conns[0], w)
			n.pump(t)
			if !e.hasLine(32, "had internal error: "+errInstall.Error()) {
				t.Errorf("%s:\n%s", side, e.allLines())
			}
			if side == "initiator" {
				// Right away: whack sees the kernel's error, with nothing
				// but comments after it (its exit status is 32), and is
				// released.
				lines, failed := west.whackLines(w), -1
				for i, l := range lines {
					if strings.HasPrefix(l, `032 "west-east" #2: state transition function for STATE_QUICK_I1 had internal error: kernel: cannot add ESP SA`) {
						failed = i
					} else if failed >= 0 && !strings.HasPrefix(l, "000 ") {
						failed = -1
					}
				}
				if failed < 0 {
					t.Errorf("whack lines:\n%s", strings.Join(lines, "\n"))
				}
				if !west.wasReleased(w) {
					t.Error("whack not released at once")
				}
			}
			if side != "responder" {
				// The peer had installed its part for this exchange: it is
				// told, and deletes it at once.
				if got := stateSummary(west.m) + " / " + stateSummary(east.m); got != "#1 STATE_MAIN_I4 / #1 STATE_MAIN_R3" {
					t.Errorf("right after the failure: %s\n%s\n%s", got, west.allLines(), east.allLines())
				}
				peer := west
				if e == west {
					peer = east
				}
				installed := append(append([]*IPsecSA(nil), peer.installed...), peer.inbound...)
				if len(installed) != 1 || len(peer.deleted) != 1 || peer.deleted[0] != installed[0] {
					t.Errorf("peer installed %d, deleted %d", len(installed), len(peer.deleted))
				}
			}
			if side != "responder" && (len(e.failed) != 1 || !strings.HasPrefix(e.failed[0], "#2 STATE_QUICK_")) {
				t.Errorf("NegotiationFailed for %q", e.failed)
			}
			n.afterAll(t)
			if !west.wasReleased(w) {
				t.Error("whack not released")
			}
			if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4" {
				t.Errorf("west: %s\n%s", got, west.allLines())
			}
			if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3" {
				t.Errorf("east: %s", got)
			}
			// Only what was installed is deleted: the responder's inbound
			// half when its outbound half failed, else nothing.
			wantDel := 0
			if side == "responder-outbound" {
				wantDel = 1
			}
			if len(e.deleted) != wantDel || len(e.installed) != 0 {
				t.Errorf("%d SAs installed, %d deleted (want 0, %d)", len(e.installed), len(e.deleted), wantDel)
			}
			checkIndexes(t, west.m)
			checkIndexes(t, east.m)
		})
	}
}
