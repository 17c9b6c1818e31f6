package fsm

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

// step advances the clock by total in steps, firing timers on the way.
func (n *testNet) step(t testing.TB, total, step time.Duration) {
	for d := time.Duration(0); d < total; d += step {
		n.advance(t, step)
	}
}

// established returns the established states of kind pred, in serial order.
func established(m *Machine, pred func(StateKind) bool) []*State {
	var out []*State
	for _, st := range m.States() {
		if pred(st.Kind) {
			out = append(out, st)
		}
	}
	return out
}

// TestRekeyTimes: the initiator schedules EVENT_SA_REPLACE at lifetime -
// margin x (1 + random x fuzz), the responder at lifetime - margin/2, so the
// responder is always later.
func TestRekeyTimes(t *testing.T) {
	const margin = 9 * time.Minute
	for i := 0; i < 20; i++ {
		_, west, east := establish(t, pairOpts{rekey: true})
		for _, pair := range [][2]*State{
			{stateIn(west.m, StateMainI4), stateIn(east.m, StateMainR3)},
			{stateIn(west.m, StateQuickI2), stateIn(east.m, StateQuickR2)},
		} {
			w, e := pair[0], pair[1]
			life := w.Lifetime
			ev, in := w.Timer(west.net.now)
			if ev != EventSAReplace || in > life-margin || in <= life-2*margin {
				t.Fatalf("initiator %s: %s in %s, want REPLACE in (%s, %s]", w.Kind, ev, in, life-2*margin, life-margin)
			}
			eev, ein := e.Timer(west.net.now)
			if eev != EventSAReplace || ein != life-margin/2 {
				t.Fatalf("responder %s: %s in %s, want REPLACE in %s", e.Kind, eev, ein, life-margin/2)
			}
			if ein <= in {
				t.Errorf("responder rekeys before the initiator: %s <= %s", ein, in)
			}
		}
	}
}

// TestRekeyIPsec: the IPsec SA is replaced before it expires, over the
// live ISAKMP SA, without a gap; the old one is deleted when its margin
// runs out, on both ends; both ends agree on the new SPIs.
func TestRekeyIPsec(t *testing.T) {
	n, west, east := establish(t, pairOpts{rekey: true, ipsecLife: 30 * time.Minute, ikeLife: 2 * time.Hour})
	for elapsed := time.Duration(0); elapsed < 40*time.Minute; elapsed += 10 * time.Second {
		n.advance(t, 10*time.Second)
		for _, e := range []*testEnv{west, east} {
			if len(established(e.m, isIPsec)) == 0 {
				t.Fatalf("no IPsec SA at %s: %s", elapsed, stateSummary(e.m))
			}
		}
	}
	if len(west.installed) < 2 || len(east.installed) < 2 {
		t.Fatalf("no rekey: west installed %d, east %d", len(west.installed), len(east.installed))
	}
	if countStates(west.m, isISAKMP) != 1 || countStates(east.m, isISAKMP) != 1 {
		t.Errorf("Phase 2 rekey did not reuse the ISAKMP SA: %s / %s", stateSummary(west.m), stateSummary(east.m))
	}
	// A superseded SA lives on until its own hard expiry (inbound traffic on
	// it is still processed), so with a rekey margin plus fuzz of up to 18
	// minutes of a 30-minute lifetime three generations may overlap; none
	// may outlive its lifetime, and the first one is long gone.
	wi, ei := established(west.m, isIPsec), established(east.m, isIPsec)
	if len(wi) > 3 || len(ei) > 3 || wi[0].Serial == 2 || ei[0].Serial == 2 {
		t.Fatalf("superseded SAs not deleted: %s / %s", stateSummary(west.m), stateSummary(east.m))
	}
	for _, st := range append(wi, ei...) {
		if age := n.now.Sub(st.Since); age > st.Lifetime {
			t.Errorf("#%d is %s old, past its %s lifetime", st.Serial, age, st.Lifetime)
		}
	}
	newest := wi[len(wi)-1]
	if string(newest.IPsec.InboundSPI) != string(ei[len(ei)-1].IPsec.OutboundSPI) {
		t.Error("ends disagree on the new SA")
	}
	if len(west.deleted) == 0 || len(east.deleted) == 0 {
		t.Error("the old kernel SAs were not removed")
	}
	// Every SPI, also those of the timer-started rekeys, was asked for the
	// SA from the peer to us (the kernel's ALLOCSPI needs the addresses).
	for _, c := range []struct {
		e    *testEnv
		want string
	}{{west, fmt.Sprintf("PROTO_IPSEC_ESP %s->%s", eastAddr.Addr(), westAddr.Addr())},
		{east, fmt.Sprintf("PROTO_IPSEC_ESP %s->%s", westAddr.Addr(), eastAddr.Addr())}} {
		if len(c.e.spiAddrs) < 2 {
			t.Errorf("%d SPIs allocated, want one per rekey too", len(c.e.spiAddrs))
		}
		for i, a := range c.e.spiAddrs {
			if a != c.want {
				t.Errorf("SPI %d allocated for %q, want %q", i, a, c.want)
			}
		}
	}
	checkIndexes(t, west.m)
	checkIndexes(t, east.m)
}

// TestManyRekeys: 1000 rekeys leave a bounded number of states and bounded
// memory.
func TestManyRekeys(t *testing.T) {
	n, west, east := establish(t, pairOpts{rekey: true, ipsecLife: 3 * time.Minute, ikeLife: 6 * time.Minute,
		margin: time.Minute, fuzz: 50})
	var ms runtime.MemStats
	var base uint64
	maxStates := 0
	for i := 0; len(west.installed)+len(east.installed) < 2000; i++ {
		if i > 200000 {
			t.Fatalf("only %d installs", len(west.installed)+len(east.installed))
		}
		n.advance(t, 15*time.Second)
		for _, e := range []*testEnv{west, east} {
			if c := countStates(e.m, nil); c > maxStates {
				maxStates = c
			}
			if len(established(e.m, isIPsec)) == 0 {
				t.Fatalf("gap without an IPsec SA after %d installs: %s", len(e.installed), stateSummary(e.m))
			}
		}
		if i == 200 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base = ms.HeapAlloc
		}
		// The harness keeps every installed SA and log line; drop them.
		if len(west.lines) > 1000 {
			west.lines, west.whacks, east.lines, east.whacks = nil, nil, nil, nil
			west.deleted, east.deleted = nil, nil
			n.trace = nil
		}
	}
	if maxStates > 8 {
		t.Errorf("up to %d states at once", maxStates)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	// The installed lists grow by design (about 200 B a record); the
	// machines must not.
	if ms.HeapAlloc > base+8<<20 {
		t.Errorf("heap grew from %d to %d bytes", base, ms.HeapAlloc)
	}
	checkIndexes(t, west.m)
	checkIndexes(t, east.m)
	t.Logf("%d + %d installs, at most %d states per machine", len(west.installed), len(east.installed), maxStates)
}

// TestDontRekeyExpires: with --dontrekey nothing is replaced; the SAs expire.
func TestDontRekeyExpires(t *testing.T) {
	n, west, east := establish(t, pairOpts{ipsecLife: 20 * time.Minute})
	n.step(t, 21*time.Minute, 30*time.Second)
	if len(west.installed) != 1 || len(east.installed) != 1 {
		t.Errorf("rekeyed despite --dontrekey: %d/%d", len(west.installed), len(east.installed))
	}
	if countStates(west.m, isIPsec) != 0 || countStates(east.m, isIPsec) != 0 {
		t.Errorf("IPsec SAs outlived their lifetime: %s / %s", stateSummary(west.m), stateSummary(east.m))
	}
}

// TestResponderLifetime: the responder shortens the proposed lifetime and
// says so with RESPONDER-LIFETIME; the initiator adopts it.
func TestResponderLifetime(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	east.conns[0].P2.Lifetime = time.Hour // west proposes 8 h
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	w, e := stateIn(west.m, StateQuickI2), stateIn(east.m, StateQuickR2)
	if w == nil || e == nil {
		t.Fatalf("not established: %s / %s", stateSummary(west.m), stateSummary(east.m))
	}
	if e.Lifetime != time.Hour || w.Lifetime != time.Hour {
		t.Errorf("lifetimes: west %s east %s, want 1h", w.Lifetime, e.Lifetime)
	}
	if !west.anyLine("RESPONDER-LIFETIME shortens the IPsec SA lifetime to 3600s") {
		t.Errorf("west did not log the RESPONDER-LIFETIME:\n%s", west.allLines())
	}
	// A longer lifetime than ours on the responder is not a reason to notify.
	n2, west2, east2 := newPair(t, pairOpts{})
	west2.conns[0].P2.Lifetime = time.Hour
	west2.m.Initiate(n2.now, west2.conns[0], "w")
	n2.pump(t)
	if e := stateIn(east2.m, StateQuickR2); e == nil || e.Lifetime != time.Hour || east2.anyLine("responder lifetime") {
		t.Errorf("responder with a longer lifetime: %v", e)
	}
}

// TestDPDDeadPeer: with DPD, a peer that stops answering is declared dead
// after dpdtimeout and dpdaction is applied.
func TestDPDDeadPeer(t *testing.T) {
	for _, action := range []string{"clear", "hold", "restart"} {
		t.Run(action, func(t *testing.T) {
			n, west, east := establish(t, pairOpts{dpd: 10 * time.Second, dpdAction: action})
			// Alive: R_U_THERE is answered, nothing happens.
			n.step(t, time.Minute, 5*time.Second)
			if countStates(west.m, isISAKMP) != 1 || countStates(west.m, isIPsec) != 1 {
				t.Fatalf("live peer declared dead: %s\n%s", stateSummary(west.m), west.allLines())
			}
			acks := 0
			for _, p := range n.trace {
				if p.from == eastAddr && isExchange(p, spec.ExchangeInfo) {
					acks++
				}
			}
			if acks < 4 {
				t.Errorf("only %d R_U_THERE_ACKs from east", acks)
			}
			// Dead: east drops off the network.
			n.drop = func(p packet) bool { return p.from == eastAddr || p.to == eastAddr }
			n.step(t, 45*time.Second, 5*time.Second)
			if !west.anyLine("declaring peer dead; dpdaction=" + action) {
				t.Fatalf("no DPD verdict:\n%s", west.allLines())
			}
			if countStates(west.m, isISAKMP) != 0 || countStates(west.m, isIPsec) != 0 {
				t.Errorf("states survive a dead peer: %s", stateSummary(west.m))
			}
			restarted := stateIn(west.m, StateMainI1) != nil
			if restarted != (action == "restart") {
				t.Errorf("dpdaction=%s: restarted=%v (%s)", action, restarted, stateSummary(west.m))
			}
			_ = east
		})
	}
}

// TestDPDSpoofedAck: an R_U_THERE_ACK with a sequence number we did not
// send is dropped (CVE-2009-0790 lesson: DPD only on a matching state).
func TestDPDSpoofedAck(t *testing.T) {
	n, west, east := establish(t, pairOpts{dpd: 10 * time.Second})
	p1 := stateIn(west.m, StateMainI4)
	p1.dpdSeq = 7
	ep1 := stateIn(east.m, StateMainR3)
	for _, seq := range []uint32{8, 0} {
		b := sealedInfo(east.m, ep1, rUThereAck(ep1, seq), false)
		n.deliver(t, west, b, eastAddr)
	}
	if !west.anyLine("ignoring R_U_THERE_ACK 8: we sent 7") {
		t.Errorf("spoofed ACK not refused:\n%s", west.allLines())
	}
}

// TestInitialContact: a peer that rebooted and comes back with
// INITIAL-CONTACT makes us drop what we had with it.
func TestInitialContact(t *testing.T) {
	n, west, east := establish(t, pairOpts{})
	// West "reboots": a new machine on the same address.
	fresh := &testEnv{net: n, psk: west.psk, spi: 0x300, conns: west.conns}
	fresh.m = NewMachine(fresh, DefaultConfig)
	n.hosts[westAddr] = fresh
	fresh.m.Initiate(n.now, fresh.conns[0], "w2")
	n.pump(t)
	if got := stateSummary(east.m); got != "#3 STATE_MAIN_R3, #4 STATE_QUICK_R2" {
		t.Errorf("east after INITIAL-CONTACT: %s\n%s", got, east.allLines())
	}
	if !east.anyLine("peer sent INITIAL-CONTACT") {
		t.Error("not logged")
	}
	// A second ISAKMP SA from a peer that did not reboot carries no
	// INITIAL-CONTACT and removes nothing.
	fresh.m.Initiate(n.now, fresh.conns[0], "w3") // goes straight to Quick Mode
	n.pump(t)
	if countStates(east.m, isIPsec) != 2 {
		t.Errorf("east: %s", stateSummary(east.m))
	}
}

func rUThereAck(p1 *State, seq uint32) *payloads.Notify {
	return &payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPI: cookiePair(p1),
		NotifyType: spec.RUThereAck, Data: []byte{byte(seq >> 24), byte(seq >> 16), byte(seq >> 8), byte(seq)}}
}

// keyLogEnv is a testEnv that records key material (fsm.KeyLogger).
type keyLogEnv struct {
	*testEnv
	recs []KeyRecord
}

func (e *keyLogEnv) LogKeys(k KeyRecord) { e.recs = append(e.recs, k) }

// TestKeyLog: an Env implementing KeyLogger gets the phase-1 keys and the
// KEYMAT of each SA, equal on both ends; a plain Env gets nothing.
func TestKeyLog(t *testing.T) {
	n, west, east := newPair(t, pairOpts{})
	wk, ek := &keyLogEnv{testEnv: west}, &keyLogEnv{testEnv: east}
	west.m, east.m = NewMachine(wk, DefaultConfig), NewMachine(ek, DefaultConfig)
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if len(wk.recs) != 2 || len(ek.recs) != 2 {
		t.Fatalf("records: west %d east %d", len(wk.recs), len(ek.recs))
	}
	w1, e1 := wk.recs[0], ek.recs[0]
	if !w1.Phase1 || string(w1.EncKey) != string(e1.EncKey) || len(w1.EncKey) == 0 || w1.ICookie != e1.ICookie || w1.RCookie != e1.RCookie {
		t.Errorf("phase 1 records differ: %+v / %+v", w1, e1)
	}
	w2, e2 := wk.recs[1], ek.recs[1]
	if w2.Phase1 || w2.IPsec == nil || string(w2.IPsec.InboundKey) != string(e2.IPsec.OutboundKey) {
		t.Errorf("phase 2 records differ")
	}
}

// TestRSASig: Main Mode with RSA signatures (raw keys): each end signs its
// hash with its private key and verifies the peer's with the configured
// public key; a wrong public key fails authentication.
func TestRSASig(t *testing.T) {
	wk, ek := testRSAKeys(t)
	run := func(eastTrusts *rsa.PublicKey) (*testNet, *testEnv, *testEnv) {
		n, west, east := newPair(t, pairOpts{})
		for _, e := range []*testEnv{west, east} {
			for _, c := range e.conns {
				c.Auth, c.P1.Auth = spec.AuthRSASig, spec.AuthRSASig
			}
			e.psk = nil
		}
		west.rsaKey, west.peerKeys = wk, []*rsa.PublicKey{&ek.PublicKey}
		east.rsaKey, east.peerKeys = ek, []*rsa.PublicKey{eastTrusts}
		west.m.Initiate(n.now, west.conns[0], "w")
		n.pump(t)
		return n, west, east
	}
	_, west, east := run(&wk.PublicKey)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Fatalf("west: %s\n%s\neast:\n%s", got, west.allLines(), east.allLines())
	}
	if !east.anyLine("authenticated peer '192.0.2.1' with a 2048-bit RSA signature") {
		t.Errorf("east did not log the signature check:\n%s", east.allLines())
	}
	n, west, east := run(&ek.PublicKey) // east trusts the wrong key for west
	n.afterAll(t)
	if countStates(east.m, isISAKMP) != 0 || countStates(west.m, isISAKMP) != 0 {
		t.Errorf("established with a wrong public key: %s / %s", stateSummary(west.m), stateSummary(east.m))
	}
	if !east.anyLine("RSA Signature check (on 192.0.2.1) failed") {
		t.Errorf("no signature failure logged:\n%s", east.allLines())
	}
}

var rsaKeys struct {
	sync.Once
	w, e *rsa.PrivateKey
}

func testRSAKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	rsaKeys.Do(func() {
		rsaKeys.w, _ = rsa.GenerateKey(rand.Reader, 2048)
		rsaKeys.e, _ = rsa.GenerateKey(rand.Reader, 2048)
	})
	if rsaKeys.w == nil || rsaKeys.e == nil {
		t.Fatal("no RSA keys")
	}
	return rsaKeys.w, rsaKeys.e
}

// TestAggressiveMode: Aggressive Mode with PSK and with RSA signatures
// establishes the ISAKMP SA in three messages and then Quick Mode; the PSK
// warning is logged; a responder whose connection does not allow it refuses.
func TestAggressiveMode(t *testing.T) {
	for _, rsaAuth := range []bool{false, true} {
		n, west, east := newPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
		for _, e := range []*testEnv{west, east} {
			for _, c := range e.conns {
				c.AggrMode = true
				if rsaAuth {
					c.Auth, c.P1.Auth = spec.AuthRSASig, spec.AuthRSASig
				}
			}
		}
		if rsaAuth {
			wk, ek := testRSAKeys(t)
			west.rsaKey, west.peerKeys = wk, []*rsa.PublicKey{&ek.PublicKey}
			east.rsaKey, east.peerKeys = ek, []*rsa.PublicKey{&wk.PublicKey}
		}
		west.m.Initiate(n.now, west.conns[0], "w")
		n.pump(t)
		got := west.whackLines("w")
		want := []string{
			`119 "west-east" #1: STATE_AGGR_I1: initiate`,
			`004 "west-east" #1: STATE_AGGR_I2: sent AI2, ISAKMP SA established`,
			`112 "west-east" #2: STATE_QUICK_I1: initiate`,
		}
		var progress []string
		for _, l := range got {
			if !strings.HasPrefix(l, "00") || strings.HasPrefix(l, "004") {
				progress = append(progress, l)
			}
		}
		if len(progress) != 4 {
			t.Fatalf("rsa=%v transcript:\n%s\n%s\n%s", rsaAuth, strings.Join(got, "\n"), west.allLines(), east.allLines())
		}
		for i, w := range want {
			if progress[i] != w {
				t.Errorf("rsa=%v line %d = %q, want %q", rsaAuth, i, progress[i], w)
			}
		}
		if got := stateSummary(east.m); got != "#1 STATE_AGGR_R2, #2 STATE_QUICK_R2" {
			t.Errorf("east: %s", got)
		}
		if psk := west.anyLine("Aggressive Mode with a pre-shared key"); psk == rsaAuth {
			t.Errorf("rsa=%v: PSK warning logged=%v", rsaAuth, psk)
		}
		var aggr int
		for _, p := range n.trace {
			if isExchange(p, spec.ExchangeAggressive) {
				aggr++
			}
		}
		if aggr != 3 {
			t.Errorf("%d Aggressive Mode messages, want 3", aggr)
		}
	}
	// A responder connection without --aggrmode refuses.
	n, west, east := newPair(t, pairOpts{ike: "aes128-sha1-modp2048"})
	west.conns[0].AggrMode = true
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if countStates(east.m, nil) != 0 || !east.anyLine("does not allow Aggressive Mode") {
		t.Errorf("east: %s\n%s", stateSummary(east.m), east.allLines())
	}
}
