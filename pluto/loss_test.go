package pluto

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lossyRelay carries IKE between two daemons on loopback, losing a share of
// the datagrams and delaying each by a random time (which reorders them):
// a bad network without tc netem (this kernel has no sch_netem). West sends
// to 127.0.0.2:toEast and the relay forwards from 127.0.0.1:toWest, so each
// daemon sees its peer's own address (the IKE identities), on another port.
type lossyRelay struct {
	toEast, toWest       *net.UDPConn // faces west (on 127.0.0.2), faces east (on 127.0.0.1)
	west, east           netip.AddrPort
	loss                 float64
	maxDelay             time.Duration
	mu                   sync.Mutex
	r                    *rand.Rand
	passed, lost, behind atomic.Int64 // behind: delivered after a later-sent datagram
	lastSeq              [2]int64
	seq                  atomic.Int64
}

func newLossyRelay(t *testing.T, west, east netip.AddrPort, loss float64, maxDelay time.Duration) *lossyRelay {
	r := &lossyRelay{west: west, east: east, loss: loss, maxDelay: maxDelay, r: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))}
	var err error
	if r.toEast, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.2")}); err != nil {
		t.Fatal(err)
	}
	if r.toWest, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.1")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.toEast.Close(); r.toWest.Close() })
	go r.carry(r.toEast, r.toWest, r.east, 0)
	go r.carry(r.toWest, r.toEast, r.west, 1)
	return r
}

func (r *lossyRelay) port(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }

// carry forwards what in receives out of out to dst.
func (r *lossyRelay) carry(in, out *net.UDPConn, dst netip.AddrPort, dir int) {
	buf := make([]byte, 65536)
	for {
		n, _, err := in.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		b := append([]byte(nil), buf[:n]...)
		r.mu.Lock()
		drop := r.r.Float64() < r.loss
		delay := time.Duration(r.r.Int64N(int64(r.maxDelay)))
		r.mu.Unlock()
		if drop {
			r.lost.Add(1)
			continue
		}
		seq := r.seq.Add(1)
		time.AfterFunc(delay, func() {
			r.mu.Lock()
			if seq < r.lastSeq[dir] {
				r.behind.Add(1)
			}
			r.lastSeq[dir] = max(r.lastSeq[dir], seq)
			r.mu.Unlock()
			r.passed.Add(1)
			out.WriteToUDPAddrPort(b, dst)
		})
	}
}

// TestLossAndReordering: with 30% of the datagrams lost and the rest delayed
// by up to 60 ms (reordered), two daemons complete every negotiation through
// retransmission, and each connection ends with exactly one IPsec SA pair on
// each side (no duplicates from retransmitted or reordered messages).
func TestLossAndReordering(t *testing.T) {
	const conns = 6
	retransmit := 150 * time.Millisecond
	west := startDaemon(t, "127.0.0.1", psk, retransmit)
	east := startDaemon(t, "127.0.0.2", psk, retransmit)
	relay := newLossyRelay(t, netip.AddrPortFrom(mustAddr("127.0.0.1"), uint16(west.port)),
		netip.AddrPortFrom(mustAddr("127.0.0.2"), uint16(east.port)), 0.30, 60*time.Millisecond)
	for i := 1; i <= conns; i++ {
		for _, d := range []*testDaemon{west, east} {
			wport, eport := west.port, relay.port(relay.toEast)
			if d == east {
				wport, eport = relay.port(relay.toWest), east.port
			}
			args := []string{"--name", fmt.Sprintf("c%d", i),
				"--host", "127.0.0.1", "--ikeport", itoa(wport), "--client", fmt.Sprintf("10.1.%d.0/24", i),
				"--to", "--host", "127.0.0.2", "--ikeport", itoa(eport), "--client", fmt.Sprintf("10.2.%d.0/24", i),
				"--psk", "--encrypt", "--tunnel", "--keyingtries", "0"}
			if out, code := d.whack(t, args...); code != 0 {
				t.Fatalf("add: %d %s", code, out)
			}
		}
	}
	// whack returns when the first keying attempt fails (the daemon keeps
	// trying): the outcome is read from the status of both ends.
	start := time.Now()
	var wg sync.WaitGroup
	for i := 1; i <= conns; i++ {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			west.whack(t, "--name", name, "--initiate")
		}(fmt.Sprintf("c%d", i))
	}
	up := func(status, kind string) int {
		n := 0
		for i := 1; i <= conns; i++ {
			if regexp.MustCompile(fmt.Sprintf(`"c%d":\d+ %s `, i, kind)).MatchString(status) {
				n++
			}
		}
		return n
	}
	var ws, es string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ws, _ = west.whack(t, "--status")
		es, _ = east.whack(t, "--status")
		if up(ws, "STATE_QUICK_I2") == conns && up(es, "STATE_QUICK_R2") == conns {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every connection is up after 60 s:\nwest:\n%s\neast:\n%s", tail(west.log.String(), 40), tail(east.log.String(), 40))
		}
	}
	wg.Wait()
	total := time.Since(start)
	// Late retransmissions and duplicates settle (the half-open timeout is
	// 7 retransmit intervals), then count.
	time.Sleep(8 * retransmit)
	ws, _ = west.whack(t, "--status")
	es, _ = east.whack(t, "--status")
	pairs := map[string][2]int{}
	for i := 1; i <= conns; i++ {
		n := fmt.Sprintf("%q", fmt.Sprintf("c%d", i))
		wi := len(regexp.MustCompile(regexp.QuoteMeta(n)+`:\d+ STATE_QUICK_I2 `).FindAllString(ws, -1))
		ei := len(regexp.MustCompile(regexp.QuoteMeta(n)+`:\d+ STATE_QUICK_R2 `).FindAllString(es, -1))
		pairs[n] = [2]int{wi, ei}
		if wi != 1 || ei != 1 {
			t.Errorf("%s: %d IPsec SAs on west, %d on east; want exactly one pair", n, wi, ei)
		}
	}
	// Both ends agree on the SPIs.
	spis := regexp.MustCompile(`esp\.([0-9a-f]{8})@`)
	set := func(s string) map[string]bool {
		out := map[string]bool{}
		for _, m := range spis.FindAllStringSubmatch(s, -1) {
			out[m[1]] = true
		}
		return out
	}
	wset, eset := set(ws), set(es)
	if len(wset) != 2*conns || fmt.Sprint(wset) != fmt.Sprint(eset) {
		t.Errorf("SPIs differ: west %v, east %v", wset, eset)
	}
	isakmpW := strings.Count(ws, "STATE_MAIN_I4")
	isakmpE := strings.Count(es, "STATE_MAIN_R3")
	t.Logf("loss 30%%, delay 0-60 ms: %d datagrams carried, %d lost, %d delivered after a later one (reordered)",
		relay.passed.Load(), relay.lost.Load(), relay.behind.Load())
	t.Logf("%d connections established in %.2fs: %d retransmissions, %d keying attempts restarted, %d duplicates answered",
		conns, total.Seconds(), strings.Count(west.log.String(), "retransmission;"), strings.Count(west.log.String(), "starting keying attempt"),
		strings.Count(west.log.String()+east.log.String(), "retransmitting in response to duplicate packet"))
	t.Logf("IPsec SA pairs per connection (west, east): %v; ISAKMP SAs: west %d, east %d", pairs, isakmpW, isakmpE)
	if relay.lost.Load() == 0 || relay.behind.Load() == 0 {
		t.Errorf("the relay lost %d and reordered %d datagrams: the test did not test", relay.lost.Load(), relay.behind.Load())
	}
	if t.Failed() {
		t.Logf("west status:\n%s\neast status:\n%s", ws, es)
	}
}
