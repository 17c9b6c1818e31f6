package ikeload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"goswan/fsm"
	"goswan/pluto"
	"goswan/whack"
)

const testPSK = "load-test-secret"

// responder is an in-process pluto (no kernel) on 127.0.0.1 with a Road
// Warrior connection that takes any peer with the load PSK.
type responder struct {
	d       *pluto.Daemon
	ctlbase string
	port    int
	log     *lockedWriter
}

func freePort(t testing.TB) int {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func startResponder(t testing.TB, secret string, connArgs ...string) *responder {
	t.Helper()
	dir := t.TempDir()
	sf := filepath.Join(dir, "ipsec.secrets")
	os.WriteFile(sf, []byte(fmt.Sprintf("127.0.0.1 %%any : PSK %q\n", secret)), 0o600)
	r := &responder{ctlbase: filepath.Join(dir, "pluto"), port: freePort(t), log: &lockedWriter{}}
	cfg := pluto.Config{IKEPort: r.port, Ctlbase: r.ctlbase, SecretsFile: sf, Machine: fsm.DefaultConfig,
		Log: pluto.NewStderrLogger(r.log), Listen: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}
	cfg.Machine.RetransmitDelay = time.Second
	d, err := pluto.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	done := make(chan struct{})
	go func() { d.Run(); close(done) }()
	t.Cleanup(func() {
		d.Shutdown()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("responder did not stop")
		}
	})
	// connArgs describe our end (e.g. --client).
	args := append([]string{"--name", "rw", "--host", "127.0.0.1", "--ikeport", fmt.Sprint(r.port)}, connArgs...)
	args = append(args, "--to", "--host", "%any", "--psk", "--encrypt", "--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1")
	if out, code := r.whack(args...); code != 0 {
		t.Fatalf("whack add: %d %s", code, out)
	}
	return r
}

func (r *responder) whack(args ...string) (string, int) {
	var out, errb bytes.Buffer
	code := whack.Run(append([]string{"--ctlbase", r.ctlbase}, args...), &out, &errb)
	return out.String() + errb.String(), code
}

func (r *responder) target() netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(r.port))
}

// lockedWriter is a log buffer safe for the daemon and the test.
type lockedWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func sources(t testing.TB, spec string) []netip.Addr {
	s, err := ParseSources(spec, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAgainstPluto: 120 handshakes, 30 at a time from 40 addresses, each
// deleted as soon as it is up; the responder saw every one established and
// holds nothing afterwards.
func TestAgainstPluto(t *testing.T) {
	r := startResponder(t, testPSK)
	cfg := Config{Target: r.target(), Sources: sources(t, "127.1.0.1-127.1.0.40"), SourcePort: uint16(freePort(t)),
		N: 120, Concurrency: 30, Workers: 2, PSK: []byte(testPSK), Timeout: 20 * time.Second, Retransmit: 2 * time.Second,
		ResponderPID: os.Getpid()}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res.Report())
	if res.Established != 120 || res.Failed != 0 || res.Started != 120 {
		t.Fatalf("established %d failed %d started %d: %v", res.Established, res.Failed, res.Started, res.Failures)
	}
	if len(res.Latencies) != 120 || res.Percentile(50) <= 0 || res.Percentile(50) > res.Percentile(99) || res.Rate() <= 0 {
		t.Errorf("latencies: %d, p50 %s p99 %s rate %f", len(res.Latencies), res.Percentile(50), res.Percentile(99), res.Rate())
	}
	if res.CPU <= 0 || res.RSSBefore <= 0 {
		t.Errorf("process not measured: cpu %s rss %d", res.CPU, res.RSSBefore)
	}
	// The responder: 120 IPsec SAs established, all deleted again.
	st, _ := waitStatus(t, r, func(s string) bool {
		return !strings.Contains(s, "STATE_QUICK_R2") && !strings.Contains(s, "STATE_MAIN_R3")
	})
	if strings.Contains(st, "STATE_QUICK_R2") || strings.Contains(st, "STATE_MAIN_R3") {
		t.Errorf("SAs left on the responder:\n%s", st)
	}
	if n := strings.Count(r.logString(), "STATE_QUICK_R2: IPsec SA established"); n != 120 {
		t.Errorf("responder logged %d IPsec SAs established, want 120", n)
	}
}

// TestKeep: 60 SA pairs from 60 addresses stay up until Run ends; the
// responder holds all of them during Hold and none after the cleanup.
func TestKeep(t *testing.T) {
	r := startResponder(t, testPSK, "--client", "10.2.0.0/16")
	held := -1
	cfg := Config{Target: r.target(), Sources: sources(t, "127.1.1.0/24"), SourcePort: uint16(freePort(t)),
		N: 60, Concurrency: 60, Workers: 2, PSK: []byte(testPSK), Keep: true, Cleanup: true,
		Timeout: 20 * time.Second, Retransmit: 2 * time.Second, Clients: netip.MustParsePrefix("10.2.0.0/16"),
		Hold: func(*Result) {
			// The generator is done when it sends the last QI2: give the
			// responder a moment to process it.
			st, _ := waitStatus(t, r, func(s string) bool { return strings.Count(s, "STATE_QUICK_R2") == 60 })
			held = strings.Count(st, "STATE_QUICK_R2")
		}}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Established != 60 {
		t.Fatalf("established %d: %v\n%s", res.Established, res.Failures, r.logString())
	}
	if held != 60 {
		t.Errorf("responder held %d IPsec SAs during Hold, want 60", held)
	}
	st, _ := waitStatus(t, r, func(s string) bool { return !strings.Contains(s, "STATE_QUICK_R2") })
	if strings.Contains(st, "STATE_QUICK_R2") {
		t.Errorf("SAs left after cleanup:\n%s", st)
	}
}

// TestFailures: a wrong PSK fails every handshake, counted under the
// reason the initiator gave up for.
func TestFailures(t *testing.T) {
	r := startResponder(t, "the-right-secret")
	cfg := Config{Target: r.target(), Sources: sources(t, "127.1.2.1-127.1.2.10"), SourcePort: uint16(freePort(t)),
		N: 10, Concurrency: 10, PSK: []byte("a-wrong-secret"), Timeout: 10 * time.Second, Retransmit: 100 * time.Millisecond}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Established != 0 || res.Failed != 10 {
		t.Fatalf("established %d failed %d", res.Established, res.Failed)
	}
	if len(res.Failures) != 1 {
		t.Fatalf("reasons: %v", res.Failures)
	}
	for k := range res.Failures {
		if !strings.Contains(k, "STATE_MAIN_I3") {
			t.Errorf("reason %q does not name the Main Mode step that failed", k)
		}
	}
	if !strings.Contains(res.Report(), "failed     10: ") {
		t.Errorf("report:\n%s", res.Report())
	}
}

// TestCommand: the command end to end (JSON output, exit status).
func TestCommand(t *testing.T) {
	r := startResponder(t, testPSK)
	var out, errb bytes.Buffer
	code := Main([]string{"--target", r.target().String(), "--sources", "127.1.3.1-127.1.3.8",
		"--source-port", fmt.Sprint(freePort(t)), "-n", "16", "-c", "8", "--psk", testPSK, "--json", "--quiet",
		"--pid", fmt.Sprint(os.Getpid())}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	var j JSONResult
	if err := json.Unmarshal(out.Bytes(), &j); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if j.Established != 16 || j.PerSecond <= 0 || j.P99ms < j.P50ms || j.ResponderCPUSeconds <= 0 {
		t.Errorf("result %+v", j)
	}
	for _, bad := range [][]string{
		{"--sources", "127.1.3.1"},                                       // no target
		{"--target", "127.0.0.1", "--sources", "127.1.3.1"},              // no psk
		{"--target", "127.0.0.1", "--sources", "nonsense", "--psk", "x"}, // bad sources
		{"--target", "127.0.0.1", "--sources", "127.0.0.2", "--psk", "x", "--ike", "rot13-md5-modp2048"},
	} {
		out.Reset()
		errb.Reset()
		if code := Main(bad, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q", bad, code, errb.String())
		}
	}
}

func TestParseSources(t *testing.T) {
	for _, c := range []struct {
		in    string
		n     int
		first string
		last  string
	}{
		{"198.51.100.0/24", 254, "198.51.100.1", "198.51.100.254"},
		{"127.1.0.1-127.1.1.0", 256, "127.1.0.1", "127.1.1.0"},
		{"10.0.0.1,10.0.0.9/32,10.0.0.4-10.0.0.5", 4, "10.0.0.1", "10.0.0.5"},
		{"192.0.2.0/31", 2, "192.0.2.0", "192.0.2.1"},
	} {
		got, err := ParseSources(c.in, 1000)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if len(got) != c.n || got[0].String() != c.first || got[len(got)-1].String() != c.last {
			t.Errorf("%s: %d addresses %v..%v", c.in, len(got), got[0], got[len(got)-1])
		}
	}
	for _, bad := range []string{"", "10.0.0.5-10.0.0.1", "10.0.0.0/33", "host.example"} {
		if _, err := ParseSources(bad, 1000); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ParseSources("10.0.0.0/16", 100); err == nil {
		t.Error("limit not enforced")
	}
}

func waitStatus(t testing.TB, r *responder, cond func(string) bool) (string, bool) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := r.whack("--status")
		if cond(st) || time.Now().After(deadline) {
			return st, cond(st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *responder) logString() string { return r.log.String() }

// TestParseStat: utime and stime (fields 14 and 15, clock ticks) whatever
// the command name holds.
func TestParseStat(t *testing.T) {
	line := "4242 (we ird) (name) S 1 4242 4242 0 -1 4194560 1200 0 3 0 250 75 0 0 20 0 9 0 123 45678 901 18446744073709551615\n"
	d, err := parseStat([]byte(line))
	if err != nil || d != 3250*time.Millisecond {
		t.Errorf("got %s, %v; want 3.25s", d, err)
	}
	for _, bad := range []string{"4242 no parenthesis", "4242 (x) S 1 2", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 u s"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Our own process: the figures move with the CPU we burn.
	before, err := sampleProc(os.Getpid())
	if err != nil || before.rss <= 0 {
		t.Fatalf("own process: %+v %v", before, err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	after, _ := sampleProc(os.Getpid())
	if after.cpu < before.cpu {
		t.Errorf("CPU went back: %s -> %s", before.cpu, after.cpu)
	}
}

// TestCancel: a run cancelled half way (no responder at all) returns what
// it has, cleanup included, instead of hanging.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	cfg := Config{Target: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(freePort(t))),
		Sources: sources(t, "127.1.4.1-127.1.4.20"), SourcePort: uint16(freePort(t)), N: 20, Concurrency: 20,
		PSK: []byte(testPSK), Keep: true, Cleanup: true, Timeout: time.Minute, Retransmit: time.Minute}
	done := make(chan struct{})
	var res *Result
	var err error
	go func() { res, err = Run(ctx, cfg); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if err == nil || res == nil || res.Established != 0 || res.Started != 20 {
		t.Errorf("result %+v, err %v", res, err)
	}
}
