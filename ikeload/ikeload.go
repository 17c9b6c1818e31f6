// Package ikeload is a load generator for IKEv1 responders, like
// strongSwan's load-tester: it drives many Main Mode + Quick Mode
// negotiations in parallel (pre-shared keys), each from its own source
// address, against one responder and measures handshakes per second,
// latency percentiles and failures by reason. It uses the fsm package as
// its initiator engine with an Env that has no kernel: SAs are "installed"
// by counting them, so each handshake costs the generator only the
// protocol's own work.
//
// Sources: one UDP socket per worker-independent source port, bound to the
// wildcard address with IP_PKTINFO and IP_FREEBIND, so that one socket sends
// from (and receives for) any number of local addresses: every address of
// 127.0.0.0/8 on loopback, or a subnet made local with
// "ip route add local 198.51.100.0/24 dev lo" in a network namespace.
//
// With the responder's process id, Run also reads the responder's CPU time
// (utime+stime in /proc/PID/stat) and resident memory (VmRSS) before and
// after, for CPU seconds per handshake and memory per SA pair.
package ikeload

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"goswan/fsm"
	"goswan/fsm/proposal"
	"goswan/spec"
)

// Config describes one load run.
type Config struct {
	// Target is the responder's IKE address.
	Target netip.AddrPort
	// Sources are the local addresses handshakes come from, used in turn;
	// SourcePort is the UDP port they use (500 when zero).
	Sources    []netip.Addr
	SourcePort uint16
	// N is how many handshakes to run, Concurrency how many at once.
	N, Concurrency int
	// Workers is how many state machines (goroutines) share the work.
	Workers int
	// IKE and ESP are whack's --ike and --esp strings ("" for
	// aes128-sha1-modp2048 and aes128-sha1).
	IKE, ESP string
	PSK      []byte
	// Keep leaves every SA pair established until the run ends (the
	// responder then holds N of them; N source addresses are needed);
	// otherwise each handshake's SAs are deleted (Delete payloads sent) as
	// soon as it completes and its source address is used again.
	Keep bool
	// Cleanup deletes the kept SAs (sends Deletes) when Run returns.
	Cleanup bool
	// Hold is called, with Keep, after the last handshake and before the
	// responder's memory is read and the SAs cleaned up (measurements of
	// the responder while it holds N SA pairs).
	Hold func(r *Result)
	// Timeout bounds one handshake; Retransmit is the first retransmission
	// wait (doubled, at most two resends).
	Timeout, Retransmit time.Duration
	// ResponderPID, when not zero, is the responder process whose CPU time
	// and resident memory are measured, Settle after the last handshake
	// (the responder finishes its work and may give back the memory of
	// the burst: steady state, not the peak).
	ResponderPID int
	Settle       time.Duration
	// Clients, when set, makes the Quick Modes tunnels between each
	// source's /32 and this responder-side subnet (IDci/IDcr sent);
	// otherwise they are host to host (no client IDs).
	Clients netip.Prefix
	// Progress, when set, is called about once a second.
	Progress func(done, ok int)
}

// Result is what a run measured.
type Result struct {
	Started, Established, Failed int
	Failures                     map[string]int // by reason
	Elapsed                      time.Duration  // first start to last completion
	Latencies                    []time.Duration
	// Responder measurements (Config.ResponderPID).
	CPU        time.Duration // utime+stime spent during the run
	RSSBefore  int64         // bytes, before the first handshake
	RSSAfter   int64         // bytes, after the last (with Keep: while holding the SAs)
	PairsHeld  int           // SA pairs established and not deleted when RSSAfter was read
	measureErr error
}

// Rate is established handshakes per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Established) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0..100) of the latencies.
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies)-1)*p/100 + 0.5)
	return r.Latencies[i]
}

// CPUPerHandshake is the responder's CPU time per established handshake.
func (r *Result) CPUPerHandshake() time.Duration {
	if r.Established == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Established)
}

// BytesPerPair is the responder's RSS growth per SA pair held (Keep).
func (r *Result) BytesPerPair() float64 {
	if r.PairsHeld == 0 {
		return 0
	}
	return float64(r.RSSAfter-r.RSSBefore) / float64(r.PairsHeld)
}

// Report is the human-readable summary.
func (r *Result) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "handshakes: %d started, %d established, %d failed in %.2fs: %.1f/s\n",
		r.Started, r.Established, r.Failed, r.Elapsed.Seconds(), r.Rate())
	fmt.Fprintf(&b, "latency: p50 %s p90 %s p99 %s max %s\n", ms(r.Percentile(50)), ms(r.Percentile(90)),
		ms(r.Percentile(99)), ms(r.Percentile(100)))
	if r.measureErr != nil {
		fmt.Fprintf(&b, "responder: not measured: %v\n", r.measureErr)
	} else if r.RSSBefore != 0 {
		fmt.Fprintf(&b, "responder: CPU %.3fs, %.3f ms/handshake; RSS %d KiB -> %d KiB", r.CPU.Seconds(),
			float64(r.CPUPerHandshake().Microseconds())/1000, r.RSSBefore/1024, r.RSSAfter/1024)
		if r.PairsHeld > 0 {
			fmt.Fprintf(&b, ", %.0f bytes per SA pair (%d held)", r.BytesPerPair(), r.PairsHeld)
		}
		b.WriteString("\n")
	}
	reasons := make([]string, 0, len(r.Failures))
	for k := range r.Failures {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool { return r.Failures[reasons[i]] > r.Failures[reasons[j]] })
	for _, k := range reasons {
		fmt.Fprintf(&b, "failed %6d: %s\n", r.Failures[k], k)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// handshake is one negotiation in flight.
type handshake struct {
	conn    *fsm.Conn
	src     netip.Addr
	start   time.Time
	lastErr string
	done    bool
	ok      bool // established
}

type result struct {
	ok      bool
	reason  string
	latency time.Duration
}

// gen is the state shared by the workers.
type gen struct {
	cfg     Config
	sock    *socket
	p1      proposal.Phase1Policy
	p2      proposal.Phase2Policy
	pfs     bool
	tokens  chan struct{} // one per handshake allowed in flight
	left    atomic.Int64  // handshakes not yet started
	results chan result
	workers []*worker
	route   map[netip.Addr]*worker
	serial  atomic.Int64
}

// Run runs the load described by cfg until every handshake has succeeded or
// failed, or ctx ends.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := defaults(&cfg); err != nil {
		return nil, err
	}
	g := &gen{cfg: cfg, route: map[netip.Addr]*worker{}}
	ike := proposal.DefaultIKE()
	if cfg.IKE != "" {
		var err error
		if ike, err = proposal.ParseIKE(cfg.IKE); err != nil {
			return nil, fmt.Errorf("--ike: %v", err)
		}
	}
	esp := proposal.DefaultESP()
	var pfsGroup spec.Group
	if cfg.ESP != "" {
		var err error
		if esp, pfsGroup, err = proposal.ParseESP(cfg.ESP); err != nil {
			return nil, fmt.Errorf("--esp: %v", err)
		}
	}
	life := 8 * time.Hour
	g.p1 = proposal.Phase1Policy{Algs: ike, Auth: spec.AuthPSK, Lifetime: time.Hour}
	mode := spec.EncapTransport
	if cfg.Clients.IsValid() {
		mode = spec.EncapTunnel
	}
	g.p2 = proposal.Phase2Policy{ESP: esp, Mode: mode, PFSGroup: pfsGroup, Lifetime: life}
	g.pfs = pfsGroup != spec.GroupNone

	sock, err := openSocket(cfg.SourcePort, cfg.Sources)
	if err != nil {
		return nil, err
	}
	g.sock = sock
	defer sock.close()

	g.tokens = make(chan struct{}, cfg.Concurrency)
	for range cfg.Concurrency {
		g.tokens <- struct{}{}
	}
	g.left.Store(int64(cfg.N))
	g.results = make(chan result, cfg.Concurrency+16)
	for i := range cfg.Workers {
		w := &worker{g: g, id: i, in: make(chan packet, 1024), hs: map[*fsm.Conn]*handshake{},
			funcs: make(chan func()), exited: make(chan struct{})}
		w.m = fsm.NewMachine(w, fsm.Config{RetransmitDelay: cfg.Retransmit, MaxRetransmits: 2,
			HalfOpenTimeout: cfg.Timeout, MaxIKELifetime: 24 * time.Hour, MaxIPsecLifetime: 24 * time.Hour})
		g.workers = append(g.workers, w)
	}
	// Sources are dealt to the workers in turn; each worker owns its
	// addresses (replies are routed by destination address).
	nsrc := len(cfg.Sources)
	if cfg.Keep && nsrc > cfg.N {
		nsrc = cfg.N
	}
	for i, a := range cfg.Sources[:nsrc] {
		w := g.workers[i%cfg.Workers]
		w.free = append(w.free, a)
		g.route[a] = w
	}

	res := &Result{Failures: map[string]int{}}
	var before procSample
	if cfg.ResponderPID != 0 {
		before, res.measureErr = sampleProc(cfg.ResponderPID)
		res.RSSBefore = before.rss
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.read(ctx) }()
	stop := make(chan struct{})
	for _, w := range g.workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx, stop) }()
	}

	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last time.Time
	collected := 0
loop:
	for collected < cfg.N {
		select {
		case r := <-g.results:
			collected++
			last = time.Now()
			if r.ok {
				res.Established++
				res.Latencies = append(res.Latencies, r.latency)
			} else {
				res.Failed++
				res.Failures[r.reason]++
			}
		case <-tick.C:
			if cfg.Progress != nil {
				cfg.Progress(collected, res.Established)
			}
		case <-ctx.Done():
			break loop
		}
	}
	res.Started = cfg.N - int(max(g.left.Load(), 0))
	if !last.IsZero() {
		res.Elapsed = last.Sub(start)
	}
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	if cfg.ResponderPID != 0 && res.measureErr == nil {
		// Let the responder finish what the last packets asked of it
		// (the last QI2, the Deletes) before reading its counters.
		time.Sleep(cfg.Settle)
		var after procSample
		after, res.measureErr = sampleProc(cfg.ResponderPID)
		res.CPU = after.cpu - before.cpu
		res.RSSAfter = after.rss
		if cfg.Keep {
			res.PairsHeld = res.Established
		}
	}
	if cfg.Keep && cfg.Hold != nil {
		cfg.Hold(res)
	}
	if cfg.Keep && cfg.Cleanup {
		for _, w := range g.workers {
			w.do(func() { w.m.Shutdown(time.Now()) })
		}
		time.Sleep(100 * time.Millisecond) // let the Deletes leave
	}
	close(stop)
	cancel()
	sock.close()
	wg.Wait()
	if err := ctx.Err(); err != nil && collected < cfg.N && !errors.Is(err, context.Canceled) {
		return res, err
	}
	return res, nil
}

func defaults(cfg *Config) error {
	if !cfg.Target.IsValid() {
		return errors.New("no responder address")
	}
	if len(cfg.Sources) == 0 {
		return errors.New("no source addresses")
	}
	if cfg.SourcePort == 0 {
		cfg.SourcePort = spec.IKEPort
	}
	if cfg.N <= 0 {
		cfg.N = 1
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 100
	}
	if cfg.Concurrency > cfg.N {
		cfg.Concurrency = cfg.N
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Workers > len(cfg.Sources) {
		cfg.Workers = len(cfg.Sources)
	}
	if cfg.Keep && cfg.N > len(cfg.Sources) {
		return fmt.Errorf("keeping %d SA pairs needs %d source addresses, have %d", cfg.N, cfg.N, len(cfg.Sources))
	}
	if !cfg.Keep && cfg.Concurrency > len(cfg.Sources) {
		cfg.Concurrency = len(cfg.Sources) // one handshake per source at a time
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 200 * time.Millisecond
	}
	if cfg.Retransmit <= 0 {
		cfg.Retransmit = 5 * time.Second
	}
	if len(cfg.PSK) == 0 {
		return errors.New("no pre-shared key")
	}
	return nil
}

// read hands each received datagram to the worker owning its destination.
func (g *gen) read(ctx context.Context) {
	buf := make([]byte, 65536)
	for ctx.Err() == nil {
		n, from, to, err := g.sock.read(buf)
		if err != nil {
			if g.sock.closed.Load() {
				return
			}
			continue
		}
		w := g.route[to]
		if w == nil && len(g.workers) == 1 {
			w = g.workers[0]
		}
		if w == nil {
			continue
		}
		p := packet{b: append([]byte(nil), buf[:n]...), from: from, to: netip.AddrPortFrom(to, g.cfg.SourcePort)}
		select {
		case w.in <- p:
		default: // the worker is saturated: lose it, as a kernel queue would
		}
	}
}

type packet struct {
	b        []byte
	from, to netip.AddrPort
}

// worker is one state machine and the handshakes of its source addresses.
type worker struct {
	g    *gen
	id   int
	m    *fsm.Machine
	in   chan packet
	hs   map[*fsm.Conn]*handshake
	free []netip.Addr
	// finished handshakes to act on once the machine call returns.
	finished []*handshake
	funcs    chan func()
	exited   chan struct{} // closed when run returns
}

// do runs f on the worker's goroutine and waits for it; nothing when the
// worker has stopped (the run was cancelled).
func (w *worker) do(f func()) {
	done := make(chan struct{})
	select {
	case w.funcs <- func() { f(); close(done) }:
		<-done
	case <-w.exited:
	}
}

func (w *worker) run(ctx context.Context, stop chan struct{}) {
	defer close(w.exited)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	deadlines := time.NewTicker(time.Second)
	defer deadlines.Stop()
	for {
		w.startMore()
		next := w.m.NextTimeout()
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), 0)
		}
		timer.Reset(wait)
		var tokens chan struct{}
		if len(w.free) > 0 && w.g.left.Load() > 0 {
			tokens = w.g.tokens
		}
		select {
		case p := <-w.in:
			w.m.HandlePacket(time.Now(), p.b, p.from, p.to)
		case <-timer.C:
			w.m.Tick(time.Now())
		case <-tokens:
			w.start()
		case <-deadlines.C:
			w.expire()
		case f := <-w.funcs:
			f()
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		w.settle()
	}
}

// startMore starts handshakes while tokens are free without blocking.
func (w *worker) startMore() {
	for len(w.free) > 0 && w.g.left.Load() > 0 {
		select {
		case <-w.g.tokens:
			w.start()
			w.settle()
		default:
			return
		}
	}
}

// start begins one handshake (a token is held).
func (w *worker) start() {
	if w.g.left.Add(-1) < 0 {
		w.g.left.Add(1)
		w.g.tokens <- struct{}{}
		return
	}
	src := w.free[len(w.free)-1]
	w.free = w.free[:len(w.free)-1]
	g := w.g
	n := g.serial.Add(1)
	c := &fsm.Conn{
		Name:   fmt.Sprintf("load-%d", n),
		Local:  netip.AddrPortFrom(src, g.cfg.SourcePort),
		Remote: g.cfg.Target,
		Auth:   spec.AuthPSK, IPsec: true, KeyingTries: 1, DontRekey: true,
		P1: g.p1, P2: g.p2, PFS: g.pfs,
	}
	if g.cfg.Clients.IsValid() {
		c.LocalNet = fsm.Client{Net: netip.PrefixFrom(src, src.BitLen())}
		c.RemoteNet = fsm.Client{Net: g.cfg.Clients}
		c.HasClients = true
	}
	h := &handshake{conn: c, src: src, start: time.Now()}
	w.hs[c] = h
	w.m.Initiate(h.start, c, nil)
}

// expire fails handshakes older than the timeout.
func (w *worker) expire() {
	now := time.Now()
	for _, h := range w.hs {
		if !h.done && now.Sub(h.start) > w.g.cfg.Timeout {
			reason := "timeout"
			if h.lastErr != "" {
				reason = "timeout after: " + h.lastErr
			}
			w.finish(h, false, reason)
		}
	}
}

// finish records the outcome of h; the machine is told after it returns.
func (w *worker) finish(h *handshake, ok bool, reason string) {
	if h.done {
		return
	}
	h.done, h.ok = true, ok
	w.g.results <- result{ok: ok, reason: reason, latency: time.Since(h.start)}
	w.finished = append(w.finished, h)
}

// settle acts on finished handshakes: deletes their states (telling the
// responder unless they are kept) and frees their tokens and addresses.
func (w *worker) settle() {
	for len(w.finished) > 0 {
		h := w.finished[0]
		w.finished = w.finished[1:]
		if !w.g.cfg.Keep {
			w.m.Terminate(time.Now(), h.conn.Name)
			delete(w.hs, h.conn)
			w.free = append(w.free, h.src)
		} else if !h.ok {
			w.m.Terminate(time.Now(), h.conn.Name) // a failure leaves nothing behind
		}
		w.g.tokens <- struct{}{}
	}
}

// ---- fsm.Env ----

func (w *worker) Send(b []byte, from, to netip.AddrPort) {
	w.g.sock.write(b, from.Addr(), to)
}

var digits = regexp.MustCompile(`#[0-9]+|\b0x[0-9a-f]+\b|\b[0-9]+(\.[0-9]+)*\b`)

func (w *worker) Log(l fsm.LogLine) {
	if l.Debug || l.State == nil || l.State.Conn == nil {
		return
	}
	h := w.hs[l.State.Conn]
	if h == nil || h.done {
		return
	}
	switch {
	case l.Code == 31:
		reason := l.Text
		if h.lastErr != "" {
			reason += " (after: " + h.lastErr + ")"
		}
		h.lastErr = reason
		w.finish(h, false, digits.ReplaceAllString(reason, "N"))
	case l.Code == 3:
		h.lastErr = l.Text
	}
}

func (w *worker) Release(any)                     {}
func (w *worker) Rand(b []byte)                   { rand.Read(b) }
func (w *worker) Delete(*fsm.State, *fsm.IPsecSA) {}

func (w *worker) PSK(*fsm.Conn, fsm.ID) ([]byte, bool) { return w.g.cfg.PSK, true }
func (w *worker) LocalKey(*fsm.Conn) (*rsa.PrivateKey, bool) {
	return nil, false
}
func (w *worker) PeerKeys(*fsm.Conn, fsm.ID) []*rsa.PublicKey { return nil }

// The generator only initiates: it takes no connection as a responder.
func (w *worker) ResponderConn(local, remote netip.AddrPort) *fsm.Conn        { return nil }
func (w *worker) SwitchConn(*fsm.Conn, netip.AddrPort, fsm.ID) *fsm.Conn      { return nil }
func (w *worker) QuickConn(p1 *fsm.State, local, remote fsm.Client) *fsm.Conn { return nil }

func (w *worker) AllocSPI(proto spec.ProtocolID, src, dst netip.Addr) []byte {
	var b [4]byte
	rand.Read(b[:])
	b[0] |= 0x10 // never in 0x0-0xFFF
	if proto == spec.ProtoIPComp {
		return b[2:]
	}
	return b[:]
}

// Install is where an initiator's handshake succeeds: Quick Mode is done.
func (w *worker) Install(st *fsm.State, sa *fsm.IPsecSA, inboundOnly bool) error {
	if inboundOnly || st.Conn == nil {
		return nil
	}
	if h := w.hs[st.Conn]; h != nil {
		w.finish(h, true, "")
	}
	return nil
}
