package fsm

import (
	"crypto/rsa"
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"goswan/spec"
)

// floodPair is a pair whose east also has a %any connection (any source
// address may start Main Mode with it), with the given flood settings.
func floodPair(t testing.TB, o pairOpts, cfg func(*Config)) (*testNet, *testEnv, *testEnv) {
	n, west, east := newPair(t, o)
	c := DefaultConfig
	cfg(&c)
	east.m = NewMachine(east, c)
	rw := *east.conns[0]
	rw.Name, rw.Remote = "rw", netip.AddrPort{}
	east.conns = append(east.conns, &rw)
	return n, west, east
}

// firstMessage is west's MI1 (as the pair would send it), for spoofing.
func firstMessage(t testing.TB, o pairOpts) []byte {
	n, west, _ := newPair(t, o)
	west.m.Initiate(n.now, west.conns[0], nil)
	if len(n.queue) != 1 {
		t.Fatal("no MI1")
	}
	return n.queue[0].b
}

// spoofed returns MI1 with initiator cookie i, from a source address
// derived from i in 198.51.100.0/24 and 203.0.113.0/24.
func spoofed(mi1 []byte, i int) ([]byte, netip.AddrPort) {
	b := append([]byte(nil), mi1...)
	binary.BigEndian.PutUint64(b[0:8], uint64(i)+1<<40)
	a := [4]byte{198, 51, 100, byte(i)}
	if i/256%2 == 1 {
		a = [4]byte{203, 0, 113, byte(i)}
	}
	return b, netip.AddrPortFrom(netip.AddrFrom4(a), uint16(500+i/512))
}

// TestHalfOpenCapEvictsOldest: under a flood of spoofed first messages the
// half-open count never exceeds the cap (the oldest unanswered state makes
// room), a genuine initiator still establishes, and the flood's states go
// away after the first-response timeout.
func TestHalfOpenCapEvictsOldest(t *testing.T) {
	const limit = 100
	n, west, east := floodPair(t, pairOpts{}, func(c *Config) {
		c.MaxHalfOpen, c.NewExchangeRate, c.FirstResponseTimeout = limit, 0, 5*time.Second
	})
	mi1 := firstMessage(t, pairOpts{})
	sent, peak := 0, 0
	flood := func(k int) {
		for range k {
			b, from := spoofed(mi1, sent)
			sent++
			east.m.HandlePacket(n.now, b, from, eastAddr)
			peak = max(peak, east.m.HalfOpen())
		}
	}
	flood(3 * limit)
	// Between every two messages of the genuine exchange, half the cap's
	// worth of spoofed first messages.
	n.tap = func(p packet) []packet {
		if p.to == eastAddr {
			flood(limit / 2)
		}
		return []packet{p}
	}
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	n.tap = nil
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Fatalf("west did not establish under the flood: %s\n%s", got, west.allLines())
	}
	if c := countStates(east.m, isIPsec); c != 1 {
		t.Errorf("east has %d IPsec SAs", c)
	}
	if peak > limit || east.m.HalfOpen() != limit {
		t.Errorf("half-open peak %d, now %d, limit %d", peak, east.m.HalfOpen(), limit)
	}
	if !east.anyLine(fmt.Sprintf("%d half-open ISAKMP SAs (the limit): discarding the oldest unanswered one", limit)) {
		t.Errorf("no eviction logged:\n%s", east.allLines())
	}
	checkIndexes(t, east.m)
	t.Logf("%d spoofed first messages, half-open peak %d (limit %d), %d states now", sent, peak, limit, countStates(east.m, nil))
	n.advance(t, 4*time.Second)
	if east.m.HalfOpen() != limit {
		t.Errorf("half-open states went before their time: %d", east.m.HalfOpen())
	}
	n.advance(t, 2*time.Second)
	if h := east.m.HalfOpen(); h != 0 || countStates(east.m, nil) != 2 {
		t.Errorf("after the first-response timeout: %d half-open, %s", h, stateSummary(east.m))
	}
	checkIndexes(t, east.m)
}

// TestHalfOpenCapKeepsAnsweredStates: states whose peer answered (MAIN_R2)
// are not evicted; with only those at the cap, a new first message is
// dropped and logged.
func TestHalfOpenCapKeepsAnsweredStates(t *testing.T) {
	n, west, east := floodPair(t, pairOpts{}, func(c *Config) { c.MaxHalfOpen, c.NewExchangeRate = 1, 0 })
	n.drop = func(p packet) bool {
		return p.to == eastAddr && countStates(east.m, nil) == 1 && stateIn(east.m, StateMainR2) != nil
	}
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if stateIn(east.m, StateMainR2) == nil {
		t.Fatalf("east: %s", stateSummary(east.m))
	}
	b, from := spoofed(firstMessage(t, pairOpts{}), 1)
	n.deliver(t, east, b, from)
	if stateIn(east.m, StateMainR2) == nil || countStates(east.m, nil) != 1 {
		t.Errorf("east: %s", stateSummary(east.m))
	}
	if !east.anyLine("1 half-open ISAKMP SAs (the limit), none of them new") {
		t.Errorf("drop not logged:\n%s", east.allLines())
	}
}

// TestFirstResponseNotRetransmitted (CVE-2016-5361): a first message that
// is never followed up gets one answer, never a retransmission, and its
// state is gone after the first-response timeout; duplicates are answered
// at most MaxRetransmits times.
func TestFirstResponseNotRetransmitted(t *testing.T) {
	n, _, east := floodPair(t, pairOpts{}, func(c *Config) { c.FirstResponseTimeout = 30 * time.Second })
	b, from := spoofed(firstMessage(t, pairOpts{}), 7)
	n.deliver(t, east, b, from)
	if east.sent != 1 || stateIn(east.m, StateMainR1) == nil {
		t.Fatalf("sent %d, %s", east.sent, stateSummary(east.m))
	}
	n.advance(t, 29*time.Second)
	if east.sent != 1 || stateIn(east.m, StateMainR1) == nil {
		t.Fatalf("after 29s: sent %d, %s", east.sent, stateSummary(east.m))
	}
	n.advance(t, 2*time.Second)
	if countStates(east.m, nil) != 0 || east.m.HalfOpen() != 0 {
		t.Fatalf("after 31s: %s", stateSummary(east.m))
	}
	n.afterAll(t)
	if east.sent != 1 {
		t.Errorf("MR1 sent %d times", east.sent)
	}
	// Duplicates: at most two more answers.
	b, from = spoofed(b, 8)
	for range 6 {
		n.deliver(t, east, b, from)
	}
	if east.sent != 1+1+DefaultConfig.MaxRetransmits || countStates(east.m, nil) != 1 {
		t.Errorf("6 copies of an MI1 got %d answers, %s", east.sent-1, stateSummary(east.m))
	}
}

// TestNewExchangeRate: one source may start NewExchangeRate exchanges a
// second (burst twice that); the excess is dropped and logged once a
// second; other sources are not affected.
func TestNewExchangeRate(t *testing.T) {
	n, _, east := floodPair(t, pairOpts{}, func(c *Config) { c.NewExchangeRate, c.MaxHalfOpen = 10, 0 })
	mi1 := firstMessage(t, pairOpts{})
	from := netipMust("198.51.100.77:500")
	for i := range 50 {
		b, _ := spoofed(mi1, i)
		east.m.HandlePacket(n.now, b, from, eastAddr)
	}
	if c := countStates(east.m, nil); c != 20 {
		t.Errorf("burst: %d states, want 20", c)
	}
	if c := east.countLines(3, "dropping initial ID_PROT message: more than 10 per second from 198.51.100.77"); c != 1 {
		t.Errorf("%d drop lines:\n%s", c, east.allLines())
	}
	b, other := spoofed(mi1, 99)
	east.m.HandlePacket(n.now, b, other, eastAddr)
	if c := countStates(east.m, nil); c != 21 {
		t.Errorf("another source was refused: %d states", c)
	}
	n.now = n.now.Add(time.Second)
	for i := 100; i < 150; i++ {
		b, _ := spoofed(mi1, i)
		east.m.HandlePacket(n.now, b, from, eastAddr)
	}
	if c := countStates(east.m, nil); c != 31 {
		t.Errorf("after a second: %d states, want 31", c)
	}
	if !east.anyLine("(and 29 more like it since") {
		t.Errorf("suppressed drops not counted:\n%s", east.allLines())
	}
}

// offEnv runs DH work on goroutines, as the daemon's pool does; the test
// delivers the completions with settle.
type offEnv struct {
	*testEnv
	mu      sync.Mutex
	wg      sync.WaitGroup
	pending []func(time.Time)
	full    bool
	jobs    int
}

func (e *offEnv) Offload(work func(), done func(time.Time)) bool {
	if e.full {
		return false
	}
	e.jobs++
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		work()
		e.mu.Lock()
		e.pending = append(e.pending, done)
		e.mu.Unlock()
	}()
	return true
}

// settle waits for the work in flight, delivers completions and pumps,
// until nothing is left.
func (e *offEnv) settle(t *testing.T, n *testNet, others ...*offEnv) {
	all := append([]*offEnv{e}, others...)
	for range 20 {
		n.pump(t)
		any := false
		for _, o := range all {
			o.wg.Wait()
			o.mu.Lock()
			p := o.pending
			o.pending = nil
			o.mu.Unlock()
			for _, f := range p {
				f(n.now)
				any = true
			}
		}
		if !any && len(n.queue) == 0 {
			return
		}
	}
	t.Fatal("offloaded work does not settle")
}

func offPair(t *testing.T, o pairOpts) (*testNet, *offEnv, *offEnv) {
	n, west, east := newPair(t, o)
	ow, oe := &offEnv{testEnv: west}, &offEnv{testEnv: east}
	west.m, east.m = NewMachine(ow, DefaultConfig), NewMachine(oe, DefaultConfig)
	return n, ow, oe
}

// TestOffloadDH: with an Offloader the exchange completes as before, the
// DH work of MAIN_R1 and MAIN_I2 (and of AGGR_R0, AGGR_I1) runs off the
// machine; while it runs, the state's packets are dropped; a result for a
// state that went away is discarded; a full queue drops the message and
// the initiator's retransmission completes the exchange.
func TestOffloadDH(t *testing.T) {
	for _, aggr := range []bool{false, true} {
		t.Run(fmt.Sprintf("aggressive=%v", aggr), func(t *testing.T) {
			n, west, east := offPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
			west.conns[0].AggrMode, east.conns[0].AggrMode = aggr, aggr
			west.m.Initiate(n.now, west.conns[0], "w")
			west.settle(t, n, east)
			if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" && got != "#1 STATE_AGGR_I2, #2 STATE_QUICK_I2" {
				t.Fatalf("west: %s\n%s\neast:\n%s", got, west.allLines(), east.allLines())
			}
			if west.jobs != 1 || east.jobs != 1 {
				t.Errorf("offloaded: west %d, east %d, want 1 each", west.jobs, east.jobs)
			}
			checkIndexes(t, west.m)
			checkIndexes(t, east.m)
		})
	}
	t.Run("busy", func(t *testing.T) {
		n, west, east := offPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
		var mi2 *packet
		n.tap = func(p packet) []packet {
			if mi2 == nil && p.to == eastAddr && stateIn(east.m, StateMainR1) != nil {
				mi2 = &p
			}
			return []packet{p}
		}
		west.m.Initiate(n.now, west.conns[0], "w")
		n.pump(t)
		if mi2 == nil || !stateIn(east.m, StateMainR1).busy {
			t.Fatalf("east: %s", stateSummary(east.m))
		}
		sent := east.sent
		n.deliver(t, east.testEnv, mi2.b, mi2.from)
		if east.sent != sent || !east.anyLine("message received while calculating. Ignored.") {
			t.Errorf("a message for a busy state was not ignored:\n%s", east.allLines())
		}
		n.tap = nil
		east.settle(t, n, west)
		if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
			t.Errorf("east: %s", got)
		}
	})
	t.Run("stale", func(t *testing.T) {
		n, west, east := offPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
		west.m.Initiate(n.now, west.conns[0], "w")
		n.pump(t)
		st := stateIn(east.m, StateMainR1)
		if st == nil || !st.busy {
			t.Fatalf("east: %s", stateSummary(east.m))
		}
		east.m.DeleteState(n.now, st.Serial)
		east.wg.Wait()
		for _, f := range east.pending {
			f(n.now)
		}
		east.pending = nil
		if countStates(east.m, nil) != 0 || !east.anyLine("discarding DH result for state #1, which has changed") {
			t.Errorf("east: %s\n%s", stateSummary(east.m), east.allLines())
		}
		checkIndexes(t, east.m)
	})
	t.Run("full", func(t *testing.T) {
		n, west, east := offPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
		east.full = true
		west.m.Initiate(n.now, west.conns[0], "w")
		west.settle(t, n, east)
		if stateIn(east.m, StateMainR1) == nil || !east.anyLine("dropping STATE_MAIN_R1 message: the Diffie-Hellman work queue is full") {
			t.Fatalf("east: %s\n%s", stateSummary(east.m), east.allLines())
		}
		east.full = false
		n.now = n.now.Add(10 * time.Second)
		west.m.Tick(n.now)
		west.settle(t, n, east)
		if got := stateSummary(east.m); got != "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2" {
			t.Errorf("east after the retransmission: %s\n%s", got, east.allLines())
		}
	})
}

// TestHalfOpenStateSize measures the memory a spoofed first message costs
// the responder (a MAIN_R1 state and its indexes).
func TestHalfOpenStateSize(t *testing.T) {
	const count = 5000
	n, _, east := floodPair(t, pairOpts{}, func(c *Config) { c.NewExchangeRate, c.MaxHalfOpen = 0, 0 })
	mi1 := firstMessage(t, pairOpts{})
	// Warm up maps and the log slice, then measure.
	bs := make([][]byte, 2*count)
	froms := make([]netip.AddrPort, 2*count)
	for i := range bs {
		bs[i], froms[i] = spoofed(mi1, i)
	}
	for i := range count {
		east.m.HandlePacket(n.now, bs[i], froms[i], eastAddr)
	}
	east.lines, east.whacks = make([]LogLine, 0, 4*count), make([]any, 0, 4*count)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := count; i < 2*count; i++ {
		east.m.HandlePacket(n.now, bs[i], froms[i], eastAddr)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if east.m.HalfOpen() != 2*count {
		t.Fatalf("%d half-open", east.m.HalfOpen())
	}
	logged := 0 // the test's log keeps the lines; the daemon's does not
	for _, l := range east.lines {
		logged += len(l.Text)
	}
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc) - int64(logged)) / count
	t.Logf("half-open MAIN_R1 state: %d bytes each (%d states)", per, count)
	if per > 4096 {
		t.Errorf("a half-open state costs %d bytes", per)
	}
	runtime.KeepAlive(east)
}

// TestRefusedAggressiveFirstMessage: an Aggressive Mode first message that
// is refused (here: an identity no connection takes) leaves no state
// behind; a state in AGGR_R0 has no timer and would live forever.
func TestRefusedAggressiveFirstMessage(t *testing.T) {
	n, west, east := newPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
	west.conns[0].AggrMode, east.conns[0].AggrMode = true, true
	west.conns[0].LocalID = ID{Type: spec.IDFQDN, Data: []byte("mallory")}
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if !east.anyLine("no suitable connection for peer '@mallory'") || countStates(east.m, nil) != 0 || east.m.HalfOpen() != 0 {
		t.Errorf("east: %s\n%s", stateSummary(east.m), east.allLines())
	}
	checkIndexes(t, east.m)
}

// TestQuickModeKeyingAttempts: a Quick Mode whose messages are all lost is
// started again while keying attempts remain (pluto's retransmit_v1_msg
// does this for both phases); the new one establishes exactly one IPsec
// SA pair, and with the attempts spent the connection gives up.
func TestQuickModeKeyingAttempts(t *testing.T) {
	for _, tries := range []int{3, 1} {
		t.Run(fmt.Sprintf("keyingtries=%d", tries), func(t *testing.T) {
			n, west, east := newPair(t, pairOpts{})
			west.conns[0].KeyingTries = tries
			lost := 0
			n.drop = func(p packet) bool {
				if p.from == westAddr && isExchange(p, spec.ExchangeQuick) && lost < 3 {
					lost++ // QI1 and its two retransmissions
					return true
				}
				return false
			}
			west.m.Initiate(n.now, west.conns[0], "w")
			n.pump(t)
			n.afterAll(t)
			if tries == 1 {
				if countStates(west.m, isIPsec) != 0 || west.anyLine("starting keying attempt 2") {
					t.Errorf("west: %s\n%s", stateSummary(west.m), west.allLines())
				}
				return
			}
			if !west.anyLine("starting keying attempt 2 of at most 3, but releasing whack") {
				t.Errorf("no second attempt:\n%s", west.allLines())
			}
			if countStates(west.m, isIPsec) != 1 || countStates(east.m, isIPsec) != 1 || len(west.installed) != 1 || len(east.installed) != 1 {
				t.Errorf("west: %s; east: %s", stateSummary(west.m), stateSummary(east.m))
			}
			checkIndexes(t, west.m)
			checkIndexes(t, east.m)
		})
	}
}

// TestUnauthSignRate: an Aggressive Mode responder with RSA signatures signs
// its first reply for a peer that has not authenticated; spoofed first
// messages from many addresses (past the per-source limit) get at most the
// global signature budget, the drops are logged once a second with their
// count, and the budget refills.
func TestUnauthSignRate(t *testing.T) {
	o := pairOpts{ike: "aes128-sha1-modp2048"}
	n, west, east := floodPair(t, o, func(c *Config) { c.UnauthSignRate, c.NewExchangeRate, c.MaxHalfOpen = 5, 0, 0 })
	wk, ek := testRSAKeys(t)
	west.rsaKey, west.peerKeys = wk, []*rsa.PublicKey{&ek.PublicKey}
	east.rsaKey, east.peerKeys = ek, []*rsa.PublicKey{&wk.PublicKey}
	for _, e := range []*testEnv{west, east} {
		for _, c := range e.conns {
			c.AggrMode = true
			c.Auth, c.P1.Auth = spec.AuthRSASig, spec.AuthRSASig
		}
	}
	// The %any connection accepts @west from any address.
	west.conns[0].LocalID = ID{Type: spec.IDFQDN, Data: []byte("west")}
	for _, c := range east.conns {
		c.RemoteID = west.conns[0].LocalID
	}
	west.m.Initiate(n.now, west.conns[0], nil)
	if len(n.queue) != 1 {
		t.Fatal("no AI1")
	}
	ai1 := n.queue[0].b
	n.queue = nil
	for i := range 40 {
		b, from := spoofed(ai1, i)
		east.m.HandlePacket(n.now, b, from, eastAddr)
	}
	if c := countStates(east.m, nil); c != 10 {
		t.Errorf("burst: %d responder states signed, want 10 (twice the rate): %s\n%s", c, stateSummary(east.m), east.allLines())
	}
	if c := east.countLines(3, "more than 5 signatures per second for unauthenticated peers"); c != 1 {
		t.Errorf("%d drop lines, want one (throttled):\n%s", c, east.allLines())
	}
	n.now = n.now.Add(time.Second)
	for i := 100; i < 140; i++ {
		b, from := spoofed(ai1, i)
		east.m.HandlePacket(n.now, b, from, eastAddr)
	}
	if c := countStates(east.m, nil); c != 15 {
		t.Errorf("after a second: %d states, want 15", c)
	}
	if !east.anyLine("(and 29 more like it since") {
		t.Errorf("suppressed drops not counted:\n%s", east.allLines())
	}
	checkIndexes(t, east.m)
}
