package fsm

// Benchmarks of the state machine without sockets: whole handshakes
// between two Machines in one goroutine, the responder's share of the
// work, and the memory an established pair of SAs costs a responder.
//
//	go test ./fsm -run '^$' -bench . -benchtime 2s
//	go test ./fsm -run '^$' -bench MemoryPerPair -benchtime 1x

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

var benchOpts = pairOpts{ike: "aes128-sha1-modp2048", esp: "aes128-sha1"}

// benchPump delivers queued packets like testNet.pump, timing the calls
// into resp (when not nil) into *respTime; it keeps no trace.
func benchPump(b *testing.B, n *testNet, resp *testEnv, respTime *time.Duration) {
	for i := 0; len(n.queue) > 0; i++ {
		if i > 1000 {
			b.Fatal("packet storm")
		}
		p := n.queue[0]
		n.queue = n.queue[1:]
		h := n.hosts[p.to]
		if h == nil {
			continue
		}
		if h == resp {
			t0 := time.Now()
			h.m.HandlePacket(n.now, p.b, p.from, p.to)
			*respTime += time.Since(t0)
			continue
		}
		h.m.HandlePacket(n.now, p.b, p.from, p.to)
	}
	n.queue = n.queue[:0]
}

// reset forgets everything a handshake left: states (without telling the
// peer) and the env's records, so the next iteration starts clean.
func (e *testEnv) reset() {
	for _, st := range e.m.States() {
		e.m.deleteState(st, false)
	}
	e.lines, e.whacks, e.released = e.lines[:0], e.whacks[:0], e.released[:0]
	e.installed, e.inbound, e.deleted = e.installed[:0], e.inbound[:0], e.deleted[:0]
}

func benchHandshake(b *testing.B, resp bool) {
	n, west, east := newPair(b, benchOpts)
	var respTime time.Duration
	var respEnv *testEnv
	if resp {
		respEnv = east
	}
	// Warm up: the MODP base table is built on first use.
	west.m.Initiate(n.now, west.conns[0], nil)
	benchPump(b, n, respEnv, &respTime)
	west.reset()
	east.reset()
	respTime = 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		west.m.Initiate(n.now, west.conns[0], nil)
		benchPump(b, n, respEnv, &respTime)
		if len(west.installed) != 1 || len(east.installed) != 1 {
			b.Fatalf("iteration %d did not establish:\n%s", i, west.allLines())
		}
		west.reset()
		east.reset()
	}
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "handshakes/s")
	}
	if resp {
		b.ReportMetric(float64(respTime.Nanoseconds())/float64(b.N), "responder-ns/op")
		if respTime > 0 {
			b.ReportMetric(float64(b.N)/respTime.Seconds(), "responder-handshakes/s")
		}
	}
}

// BenchmarkHandshake: a full Main Mode + Quick Mode (PSK,
// aes128-sha1-modp2048, ESP aes128-sha1, no PFS) between two Machines per
// op, both ends' CPU on one core; the machines are reused and their
// states deleted after each handshake (fresh cookies every time).
func BenchmarkHandshake(b *testing.B) { benchHandshake(b, false) }

// BenchmarkHandshakeResponderOnly: the same, reporting the time spent in
// the responder's HandlePacket calls alone (responder-ns/op).
func BenchmarkHandshakeResponderOnly(b *testing.B) { benchHandshake(b, true) }

// BenchmarkMemoryPerPair establishes N ISAKMP + IPsec SA pairs on one
// responder, one initiator address each, and reports the responder's heap
// per established pair (the connections themselves, set up before the
// first measurement, are not counted; keys, states, last messages and
// index entries are).
func BenchmarkMemoryPerPair(b *testing.B) {
	const N = 2000
	for i := 0; i < b.N; i++ {
		perPair, total := memoryPerPair(b, N)
		b.ReportMetric(perPair, "B/pair")
		b.ReportMetric(total/1024/1024, "MiB/2000-pairs")
	}
}

func peerAddr(i int) netip.AddrPort {
	// One address per peer (INITIAL-CONTACT from a peer at an address clears
	// what that address had); in memory only, nothing is sent anywhere.
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 200, byte(i / 256), byte(i % 256)}), 500)
}

func memoryPerPair(b *testing.B, N int) (perPair, total float64) {
	b.StopTimer()
	n, west, east := newPair(b, benchOpts)
	// Warm up (tables built on first use), then forget it.
	west.m.Initiate(n.now, west.conns[0], nil)
	n.pump(b)
	west.reset()
	east.reset()
	n.trace = nil
	east.conns = nil
	west.conns = nil
	for i := range N {
		addr := peerAddr(i)
		wnet := Client{Net: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(100 + i/256), byte(i % 256), 0}), 24)}
		west.conns = append(west.conns, mustConn(b, fmt.Sprintf("peer-%d", i), addr, eastAddr, wnet, eastNet, benchOpts))
		east.conns = append(east.conns, mustConn(b, fmt.Sprintf("peer-%d", i), eastAddr, addr, eastNet, wnet, benchOpts))
		n.hosts[addr] = west
	}
	// East finds connections by map, as a daemon would.
	byRemote := map[netip.AddrPort]*Conn{}
	for _, c := range east.conns {
		byRemote[c.Remote] = c
	}
	benv := &mapEnv{testEnv: east, byRemote: byRemote}
	east.m.env = benv
	east.m.bySerial, east.m.byCookies, east.m.byMsgID = map[uint64]*State{}, map[[16]byte]*State{}, map[msgKey]*State{}
	east.m.byConn = map[string][]*State{}
	runtime.GC() // twice: sync.Pool caches (math/big) survive one
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.StartTimer()
	for i := range N {
		west.m.Initiate(n.now, west.conns[i], nil)
		var d time.Duration
		benchPump(b, n, nil, &d)
		if i%100 == 0 {
			// Keep the logs from holding on to states.
			west.lines, west.whacks, east.lines, east.whacks = nil, nil, nil, nil
		}
	}
	b.StopTimer()
	if c := countStates(east.m, isIPsec); c != N {
		b.Fatalf("%d IPsec SAs established on the responder, want %d", c, N)
	}
	if c := countStates(east.m, isISAKMP); c != N {
		b.Fatalf("%d ISAKMP SAs established on the responder, want %d", c, N)
	}
	// Drop the initiator's side (its machine, whose maps never shrink) and
	// every record, keeping the responder.
	west.reset()
	west.m = nil
	for a, h := range n.hosts {
		if h == west {
			delete(n.hosts, a)
		}
	}
	west.lines, west.whacks, east.lines, east.whacks = nil, nil, nil, nil
	west.installed, west.deleted, east.installed, east.inbound, east.deleted = nil, nil, nil, nil, nil
	n.trace, n.queue = nil, nil
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(east)
	runtime.KeepAlive(west)
	total = float64(after.HeapAlloc) - float64(before.HeapAlloc)
	return total / float64(N), total
}

// mapEnv is testEnv with connection lookups by peer address.
type mapEnv struct {
	*testEnv
	byRemote map[netip.AddrPort]*Conn
}

func (e *mapEnv) ResponderConn(local, remote netip.AddrPort) *Conn { return e.byRemote[remote] }
func (e *mapEnv) QuickConn(p1 *State, local, remote Client) *Conn {
	if c := e.byRemote[p1.Remote]; c != nil && c.localClient() == local && c.remoteClient() == remote {
		return c
	}
	return nil
}
