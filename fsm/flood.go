package fsm

// Flood resistance (IKEV1-REFERENCE.md §6.1 "DoS and half-open limits").
// Anyone can send a first Main Mode or Aggressive Mode message from any
// (spoofed) address, and each one would make a responder state. So:
//
//   - a cap on half-open responder states, those not yet authenticated
//     (Config.MaxHalfOpen, libreswan's drop_new_exchanges);
//   - a per-source rate limit on first messages (Config.NewExchangeRate:
//     a token bucket per source address, in a fixed table of buckets);
//   - a state that has seen only the first message (MAIN_R1, AGGR_R1: the
//     peer has not shown it receives at its address) is discarded after
//     Config.FirstResponseTimeout, and never retransmitted (CVE-2016-5361);
//   - signatures for peers that have not authenticated (an Aggressive Mode
//     responder's SIG_R, 1-2 ms of RSA each) come from one global token
//     bucket (Config.UnauthSignRate), so spoofed first messages from any
//     number of addresses cannot spend more than that on the event loop;
//   - Diffie-Hellman work can run off the machine's goroutine when the Env
//     implements Offloader: the state is busy meanwhile (its packets are
//     dropped, as pluto drops them "while calculating") and the result is
//     used only if the state is still the one that asked (CVE-2011-4073).
//
// Drops for these reasons are logged at most once a second per reason, with
// the number of drops since the last line.

import (
	"bytes"
	"crypto/rand"
	"hash/maphash"
	"net/netip"
	"time"

	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// Offloader is implemented by an Env that runs Diffie-Hellman work on other
// goroutines. Offload runs work elsewhere and afterwards has done called on
// the machine's goroutine (like every other call into the machine); it
// returns false, without running anything, when it has no room (the
// message is then dropped, and the peer retransmits).
type Offloader interface {
	Offload(work func(), done func(now time.Time)) bool
}

// HalfOpen returns the number of half-open responder ISAKMP states.
func (m *Machine) HalfOpen() int { return m.halfOpen }

// rateBuckets is the size of the per-source token bucket table: bounded
// memory whatever the number of sources (sources that share a bucket share
// its rate; the hash is keyed per machine, so a flood cannot aim at the
// bucket of a given peer).
const rateBuckets = 4096

type bucket struct {
	tokens float64
	last   time.Time
}

type rateLimiter struct {
	seed    maphash.Seed
	buckets [rateBuckets]bucket
}

// allow takes a token from from's bucket (rate per second, burst 2*rate).
func (r *rateLimiter) allow(from netip.Addr, rate int, now time.Time) bool {
	a := from.As16()
	return r.buckets[maphash.Bytes(r.seed, a[:])%rateBuckets].take(rate, now)
}

// take takes a token from b, refilled at rate per second up to 2*rate.
func (b *bucket) take(rate int, now time.Time) bool {
	burst := float64(2 * rate)
	if b.last.IsZero() {
		b.tokens = burst
	} else if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(burst, b.tokens+dt*float64(rate))
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// throttle counts drops per reason and says when one may be logged.
type throttle struct {
	last       time.Time
	suppressed int
}

// logDrop logs a dropped packet at most once a second per reason.
func (m *Machine) logDrop(reason string, from netip.AddrPort, format string, a ...any) {
	if m.drops == nil {
		m.drops = make(map[string]*throttle)
	}
	t := m.drops[reason]
	if t == nil {
		t = &throttle{}
		m.drops[reason] = t
	}
	if !t.last.IsZero() && m.now.Sub(t.last) < time.Second {
		t.suppressed++
		return
	}
	if t.suppressed > 0 {
		format += " (and %d more like it since %s)"
		a = append(a, t.suppressed, t.last.Format("15:04:05"))
	}
	t.last, t.suppressed = m.now, 0
	m.logPacket(from, 3, format, a...)
}

// admitNew decides whether a first message from md.From may make a new
// responder state.
func (m *Machine) admitNew(md *Digest) bool {
	if r := m.cfg.NewExchangeRate; r > 0 && !m.limiter.allow(md.From.Addr(), r, m.now) {
		m.logDrop("rate", md.From, "dropping initial %s message: more than %d per second from %s",
			md.Msg.Header.Exchange, r, md.From.Addr())
		return false
	}
	if c := m.cfg.MaxHalfOpen; c > 0 && m.halfOpen >= c {
		// As a SYN cache does: the oldest state that has seen only a
		// first message (likely from a spoofed address) makes room; a
		// genuine peer answers within a round trip, long before its
		// state is the oldest. States whose peer has shown it receives
		// at its address (MAIN_R2) are kept.
		e := m.young.Front()
		if e == nil {
			m.logDrop("halfopen", md.From, "dropping initial %s message: %d half-open ISAKMP SAs (the limit), none of them new",
				md.Msg.Header.Exchange, m.halfOpen)
			return false
		}
		old := e.Value.(*State)
		m.logDrop("evict", md.From, "%d half-open ISAKMP SAs (the limit): discarding the oldest unanswered one, #%d from %s",
			m.halfOpen, old.Serial, old.Remote)
		m.deleteState(old, false)
	}
	return true
}

// setYoung keeps st in the list of responder states that have seen only a
// first message (MAIN_R0/R1, AGGR_R0/R1), oldest first.
func (m *Machine) setYoung(st *State) {
	young := !st.Initiator && m.bySerial[st.Serial] == st &&
		(st.Kind == StateMainR0 || st.Kind == StateMainR1 || st.Kind == StateAggrR0 || st.Kind == StateAggrR1)
	switch {
	case young && st.young == nil:
		st.young = m.young.PushBack(st)
	case !young && st.young != nil:
		m.young.Remove(st.young)
		st.young = nil
	}
}

// setHalfOpen marks st as half-open (true) or not, keeping the count.
func (m *Machine) setHalfOpen(st *State, on bool) {
	if st.halfOpen == on {
		return
	}
	st.halfOpen = on
	if on {
		m.halfOpen++
	} else {
		m.halfOpen--
	}
}

// discardAfter is how long a half-open responder state in kind lives.
func (m *Machine) discardAfter(kind StateKind) time.Duration {
	if (kind == StateMainR1 || kind == StateAggrR1) && m.cfg.FirstResponseTimeout > 0 {
		return m.cfg.FirstResponseTimeout
	}
	return m.cfg.HalfOpenTimeout
}

// dhResult is Diffie-Hellman work done for a state: our key (when the
// state had none yet), and the shared secret with the peer's value.
type dhResult struct {
	group *oakley.Group
	key   *oakley.PrivateKey // generated off-loop, or the state's own
	peer  []byte
	gxy   []byte
	err   error // of key generation or of the shared secret (then recomputed inline, for the reason)
}

func (r *dhResult) zero() {
	if r == nil {
		return
	}
	clear(r.gxy)
	r.gxy = nil
}

// offload starts the DH work that md will need in st's row on another
// goroutine and reports whether it did (the message is then processed when
// the work is done). Only phase-1 rows with a KE payload are offloaded;
// everything else is computed inline.
func (m *Machine) offload(st *State, row *Row, md *Digest, raw []byte) bool {
	o, ok := m.env.(Offloader)
	if !ok || st.k == nil || st.k.pre != nil || !row.Required.Has(spec.PayloadKE) || st.Kind.IsQuick() {
		return false
	}
	g, key := st.k.group, st.k.dh
	if g == nil && st.Conn != nil {
		// AGGR_R0: the group is the connection's only one (Aggressive Mode
		// has a single group); a different choice is computed inline.
		if groups := proposal.Groups(st.Conn.P1.Algs); len(groups) == 1 {
			g, _ = oakley.GroupByID(groups[0])
		}
	}
	ke, _ := md.Msg.Find(spec.PayloadKE).(*payloads.KE)
	if g == nil || ke == nil || len(ke.Data) != g.PublicLen() {
		return false // refused (or computed) inline
	}
	res := &dhResult{group: g, key: key, peer: bytes.Clone(ke.Data)}
	serial, kind := st.Serial, st.Kind
	work := func() {
		if res.key == nil {
			if res.key, res.err = g.GenerateKey(rand.Reader); res.err != nil {
				return
			}
		}
		res.gxy, res.err = res.key.SharedSecret(res.peer)
	}
	done := func(now time.Time) {
		// The state may be gone or moved on while the work ran.
		if m.bySerial[serial] != st || st.Kind != kind || !st.busy {
			res.zero()
			m.debug(nil, "discarding DH result for state #%d, which has changed", serial)
			return
		}
		st.busy = false
		st.k.pre = res
		m.now = now
		m.process(st, md, raw)
	}
	st.busy = true
	if !o.Offload(work, done) {
		st.busy = false
		m.logDrop("dhqueue", md.From, "dropping %s message: the Diffie-Hellman work queue is full", st.Kind)
		if st.Kind == StateAggrR0 {
			m.deleteState(st, false)
		}
		return true
	}
	return true
}

// dhKey returns our DH key for st: the one generated off-loop, if any.
func (m *Machine) dhKey(st *State) (*oakley.PrivateKey, error) {
	k := st.k
	if p := k.pre; p != nil && k.dh == nil && p.key != nil && p.group == k.group {
		return p.key, nil
	}
	return k.group.GenerateKey(randReader{m})
}

// sharedSecret returns g^xy for st with peerPub: the one computed off-loop
// when it was for this key and this peer value.
func (m *Machine) sharedSecret(st *State, peerPub []byte) ([]byte, error) {
	k := st.k
	if p := k.pre; p != nil && p.key == k.dh && p.gxy != nil && bytes.Equal(p.peer, peerPub) {
		gxy := p.gxy
		p.gxy = nil // the caller clears it
		return gxy, nil
	}
	return k.dh.SharedSecret(peerPub)
}

// allowUnauthSign takes a token for one signature made for a peer that has
// not authenticated itself yet (Config.UnauthSignRate per second, burst
// twice that; 0: no limit), logging (throttled) when there is none.
func (m *Machine) allowUnauthSign(st *State, md *Digest) bool {
	r := m.cfg.UnauthSignRate
	if r <= 0 || m.signBucket.take(r, m.now) {
		return true
	}
	m.logDrop("signrate", md.From, "dropping %s message from %s: more than %d signatures per second for unauthenticated peers",
		st.Kind, md.From, r)
	return false
}
