package fsm

// Helpers for the failure, robustness and benchmark tests, on top of the
// two-machine harness of pair_test.go.

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// establish runs a full Main Mode + Quick Mode from west for whack w and
// checks that both ends are up: west #1 MAIN_I4, #2 QUICK_I2; east #1
// MAIN_R3, #2 QUICK_R2.
func establish(t testing.TB, o pairOpts) (*testNet, *testEnv, *testEnv) {
	t.Helper()
	n, west, east := newPair(t, o)
	west.m.Initiate(n.now, west.conns[0], "whack-1")
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Fatalf("west: %s\n%s\neast:\n%s", got, west.allLines(), east.allLines())
	}
	if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
		t.Fatalf("east: %s\n%s", got, east.allLines())
	}
	return n, west, east
}

// stateSummary lists the states: "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2".
func stateSummary(m *Machine) string {
	var out []string
	for _, st := range m.States() {
		out = append(out, fmt.Sprintf("#%d %s", st.Serial, st.Kind))
	}
	return strings.Join(out, ", ")
}

// countStates counts the states whose kind satisfies pred (all when nil).
func countStates(m *Machine, pred func(StateKind) bool) int {
	n := 0
	for _, st := range m.States() {
		if pred == nil || pred(st.Kind) {
			n++
		}
	}
	return n
}

func isISAKMP(k StateKind) bool { return k.IsISAKMPEstablished() }
func isIPsec(k StateKind) bool  { return k.IsIPsecEstablished() }

// hasLine reports whether a non-debug line with the given code (any code
// when code < 0) contains text.
func (e *testEnv) hasLine(code int, text string) bool {
	return e.countLines(code, text) > 0
}

func (e *testEnv) countLines(code int, text string) int {
	n := 0
	for _, l := range e.lines {
		if !l.Debug && (code < 0 || l.Code == code) && strings.Contains(l.Whack(), text) {
			n++
		}
	}
	return n
}

// anyLine reports whether any line, debug included, contains text.
func (e *testEnv) anyLine(text string) bool {
	for _, l := range e.lines {
		if strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

// released reports whether whack w was released.
func (e *testEnv) wasReleased(w any) bool {
	for _, r := range e.released {
		if r == w {
			return true
		}
	}
	return false
}

// checkIndexes verifies the machine's internal indexes: every entry of the
// cookie and message-ID maps and every armed timer belongs to a live state,
// and every live state is reachable (no leaks, no dangling entries).
func checkIndexes(t testing.TB, m *Machine) {
	t.Helper()
	for k, st := range m.byCookies {
		if m.bySerial[st.Serial] != st {
			t.Errorf("byCookies[%x] holds deleted state #%d %s", k, st.Serial, st.Kind)
		}
	}
	for k, st := range m.byMsgID {
		if m.bySerial[st.Serial] != st {
			t.Errorf("byMsgID[%08x] holds deleted state #%d %s", k.msgid, st.Serial, st.Kind)
		}
	}
	for i, tm := range m.timers {
		st := tm.st
		if m.bySerial[st.Serial] != st {
			t.Errorf("timer holds deleted state #%d %s", st.Serial, st.Kind)
		}
		if tm.index != i {
			t.Errorf("timer index of #%d is %d, at %d", st.Serial, tm.index, i)
		}
	}
	halfOpen := 0
	for _, st := range m.bySerial {
		if st.halfOpen {
			halfOpen++
			if st.Initiator || st.Kind.IsISAKMPEstablished() || st.Kind.IsQuick() {
				t.Errorf("#%d %s counted as half-open", st.Serial, st.Kind)
			}
		}
		if st.busy {
			t.Errorf("#%d %s is left busy", st.Serial, st.Kind)
		}
	}
	if halfOpen != m.halfOpen {
		t.Errorf("%d half-open states, counted %d", halfOpen, m.halfOpen)
	}
	for e := m.young.Front(); e != nil; e = e.Next() {
		st := e.Value.(*State)
		if m.bySerial[st.Serial] != st || st.young != e || !st.halfOpen {
			t.Errorf("young list holds #%d %s (live %v)", st.Serial, st.Kind, m.bySerial[st.Serial] == st)
		}
	}
	for _, st := range m.bySerial {
		if st.Kind == StateMainR0 || st.Kind == StateAggrR0 || st.Kind == StateQuickR0 {
			t.Errorf("#%d is left in %s", st.Serial, st.Kind)
		}
		if st.timer.index < 0 && st.Kind != StateMainI4 && st.Kind != StateMainR3 &&
			!st.Kind.IsIPsecEstablished() {
			t.Errorf("#%d %s has no timer: it would live forever", st.Serial, st.Kind)
		}
	}
}

// header decodes the ISAKMP header of p (zero header when it has none).
func header(p packet) payloads.Header {
	h, _ := payloads.ParseHeader(p.b)
	return h
}

func isExchange(p packet, x spec.ExchangeType) bool { return header(p).Exchange == x }

// sealedInfo builds a protected Informational message on p1 (as sendInfo
// does), optionally with a wrong HASH(1).
func sealedInfo(m *Machine, p1 *State, pl payloads.Payload, corrupt bool) []byte {
	k := p1.k
	msgid := m.newMsgID(p1)
	ps := []payloads.Payload{&payloads.Hash{Data: make([]byte, k.prf.Size())}, pl}
	chain := sealHash(ps, func(rest []byte) []byte {
		h := oakley.InfoHash(k.prf, k.set.A, msgid, rest)
		if corrupt {
			h[0] ^= 1
		}
		return h
	})
	iv := oakley.Phase2IV(k.prf, k.iv, msgid, k.cipher.BlockSize)
	ct, _ := k.cipher.Encrypt(k.encKey, iv, chain)
	h := payloads.Header{ICookie: p1.ICookie, RCookie: p1.RCookie, Version: payloads.Version,
		Exchange: spec.ExchangeInfo, Flags: spec.FlagEncryption, MessageID: msgid,
		NextPayload: spec.PayloadHash, Length: uint32(spec.HeaderLen + len(ct))}
	return append(h.Append(nil), ct...)
}

// deliver hands b to e's machine as if sent by from, then pumps replies.
func (n *testNet) deliver(t testing.TB, e *testEnv, b []byte, from netip.AddrPort) {
	t.Helper()
	var addr netip.AddrPort
	for a, h := range n.hosts {
		if h == e {
			addr = a
		}
	}
	e.m.HandlePacket(n.now, b, from, addr)
	n.pump(t)
}

// stateIn returns the first state of m in kind k, or nil.
func stateIn(m *Machine, k StateKind) *State {
	for _, st := range m.States() {
		if st.Kind == k {
			return st
		}
	}
	return nil
}

// afterAll advances the clock past every retransmission and discard timer.
func (n *testNet) afterAll(t testing.TB) {
	for range 12 {
		n.advance(t, 10*time.Second)
	}
}

func netipMust(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
