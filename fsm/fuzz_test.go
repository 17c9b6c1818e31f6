package fsm

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// recording is a deterministic exchange: with the same seeds, a responder
// fed the same packets in the same order goes through the same states, so
// a fuzz input can be delivered to a responder at any point of it.
type recording struct {
	o      pairOpts
	toEast []packet // the packets east received, in order
	now    time.Time
}

var fuzzSeedW, fuzzSeedE = [32]byte{'w'}, [32]byte{'e'}

func deterministicPair(t testing.TB, o pairOpts) (*testNet, *testEnv, *testEnv) {
	n, west, east := newPair(t, o)
	west.rng, east.rng = rand.NewChaCha8(fuzzSeedW), rand.NewChaCha8(fuzzSeedE)
	return n, west, east
}

func record(t testing.TB, o pairOpts) *recording {
	n, west, east := deterministicPair(t, o)
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if countStates(east.m, isIPsec) != 1 {
		t.Fatalf("recording did not establish: %s", stateSummary(east.m))
	}
	r := &recording{o: o, now: n.now}
	for _, p := range n.trace {
		if p.to == eastAddr {
			r.toEast = append(r.toEast, p)
		}
	}
	return r
}

// responderAt returns a fresh responder fed the first k recorded packets.
func (r *recording) responderAt(t testing.TB, k int) *testEnv {
	n, _, east := deterministicPair(t, r.o)
	for _, p := range r.toEast[:k] {
		east.m.HandlePacket(r.now, p.b, p.from, p.to)
	}
	n.queue = nil
	return east
}

// TestRecordingReplays: the replayed responder reaches the recorded states.
func TestRecordingReplays(t *testing.T) {
	r := record(t, fuzzOpts)
	want := []string{"", "#1 STATE_MAIN_R1", "#1 STATE_MAIN_R2", "#1 STATE_MAIN_R3",
		"#1 STATE_MAIN_R3, #2 STATE_QUICK_R1", "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2"}
	if len(r.toEast) != len(want)-1 {
		t.Fatalf("%d packets to east, want %d", len(r.toEast), len(want)-1)
	}
	for k := range want {
		if got := stateSummary(r.responderAt(t, k).m); got != want[k] {
			t.Errorf("after %d packets: %s, want %s", k, got, want[k])
		}
	}
}

var fuzzOpts = pairOpts{ike: "aes128-sha1-modp1024", esp: "aes128-sha1"}

// FuzzHandlePacket: a responder at any point of an exchange (fresh,
// MAIN_R1, MAIN_R2, established ISAKMP SA, QUICK_R1, QUICK_R2) gets
// arbitrary bytes from its peer's address and from a stranger. It must
// not panic, and its indexes must stay consistent; what is established
// stays established. Seeds: the real messages of the exchange at every
// stage. Run: go test ./fsm -run '^$' -fuzz FuzzHandlePacket -fuzztime 60s
func FuzzHandlePacket(f *testing.F) {
	r := record(f, fuzzOpts)
	for k := 0; k <= len(r.toEast); k++ {
		for _, p := range r.toEast {
			f.Add(uint8(k), p.b)
		}
	}
	stranger := netip.MustParseAddrPort("203.0.113.9:500")
	f.Fuzz(func(t *testing.T, stage uint8, data []byte) {
		k := int(stage) % (len(r.toEast) + 1)
		east := r.responderAt(t, k)
		isakmp, ipsec := countStates(east.m, isISAKMP), countStates(east.m, isIPsec)
		east.m.HandlePacket(r.now, data, westAddr, eastAddr)
		east.m.HandlePacket(r.now, data, stranger, eastAddr)
		// Whatever was answered, the same bytes again (a duplicate).
		east.m.HandlePacket(r.now, data, westAddr, eastAddr)
		checkIndexes(t, east.m)
		if countStates(east.m, isISAKMP) < isakmp || countStates(east.m, isIPsec) < ipsec {
			// Only an authenticated Delete may remove an SA, and the
			// fuzzer cannot forge one.
			t.Fatalf("stage %d: established SAs lost: %s\n%s", k, stateSummary(east.m), east.allLines())
		}
		// Timers: everything half-open goes away.
		for i := 1; i <= 20; i++ {
			east.m.Tick(r.now.Add(time.Duration(i) * 10 * time.Minute))
		}
		for _, st := range east.m.States() {
			if !st.Kind.IsISAKMPEstablished() && !st.Kind.IsIPsecEstablished() {
				t.Fatalf("stage %d: %s survives its timers", k, st.Kind)
			}
		}
		checkIndexes(t, east.m)
	})
}
