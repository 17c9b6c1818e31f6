package pluto

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"goswan/ikeload"
	"goswan/whack"
)

// scaleN is how many connections and SA pairs TestScale uses: 1000 in a
// normal run, GOSWAN_SCALE=10000 in CI's scale step.
func scaleN(t *testing.T) int {
	n := 1000
	if s := os.Getenv("GOSWAN_SCALE"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 60000 {
			t.Fatalf("GOSWAN_SCALE=%q: want a number 1..60000", s)
		}
		n = v
	}
	if testing.Short() {
		n = min(n, 200)
	}
	return n
}

// peerAddr is the i-th peer of the scale test: 127.2.0.1 onwards (every
// 127/8 address is local on loopback, so nothing leaves the host).
func scalePeer(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 2 + byte(i>>16), byte(i >> 8), byte(i)})
}

// TestScale loads N connections through whack (one per peer address, as an
// operator's ipsec.conf would), establishes N ISAKMP + IPsec SA pairs on
// them with the load generator, keeps them, and checks that whack --status
// answers within a second; it prints the time to load the connections, the
// handshake rate and the heap per SA pair.
func TestScale(t *testing.T) {
	n := scaleN(t)
	const psk = "scale-test-secret"
	port := freePort(t, "127.0.0.1")
	td := startDaemonWith(t, "127.0.0.1", port, fmt.Sprintf("127.0.0.1 %%any : PSK %q\n", psk), nil, func(c *Config) {
		c.Log = NewStderrLogger(io.Discard) // 10,000 connections log a lot
		c.Machine.RetransmitDelay = 5 * time.Second
	})
	// Connections: whack --name scale-i --host 127.0.0.1 --to --host PEER.
	t0 := time.Now()
	for i := range n {
		var out, errb bytes.Buffer
		args := []string{"--ctlbase", td.ctlbase, "--name", fmt.Sprintf("scale-%d", i), "--host", "127.0.0.1",
			"--ikeport", strconv.Itoa(port), "--to", "--host", scalePeer(i).String(), "--psk", "--encrypt"}
		if code := whack.Run(args, &out, &errb); code != 0 {
			t.Fatalf("adding connection %d: exit %d: %s%s", i, code, out.String(), errb.String())
		}
	}
	loadTime := time.Since(t0)
	var conns int
	td.d.Do(func() { conns = len(td.d.conns) })
	if conns != n {
		t.Fatalf("%d connections loaded, want %d", conns, n)
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	srcs := make([]netip.Addr, n)
	for i := range srcs {
		srcs[i] = scalePeer(i)
	}
	cfg := ikeload.Config{Target: netip.AddrPortFrom(mustAddr("127.0.0.1"), uint16(port)), Sources: srcs,
		SourcePort: uint16(freePort(t, "127.0.0.1")), N: n, Concurrency: min(n, 50), Workers: 1,
		PSK: []byte(psk), Keep: true, Cleanup: false, Timeout: 60 * time.Second, Retransmit: 3 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := ikeload.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Established != n {
		t.Fatalf("%d of %d established:\n%s", res.Established, n, res.Report())
	}
	// The responder processes the last QI2s after the generator sent them.
	var pairs int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		pairs = countEstablished(td)
		if pairs == n {
			break
		}
	}
	if pairs != n {
		t.Fatalf("responder holds %d ISAKMP+IPsec SA pairs, want %d", pairs, n)
	}

	// whack --status with n connections and 2n states, as an operator sees
	// it (through the control socket), three times, once the burst is over
	// (the daemon gives its garbage back after a quiet moment: trim.go).
	time.Sleep(1500 * time.Millisecond)
	var worst, worstFirst time.Duration
	var lines int
	for range 3 {
		total, first, out := timeStatus(t, td.ctlbase)
		worst, worstFirst = max(worst, total), max(worstFirst, first)
		lines = strings.Count(out, "\n")
		if c := strings.Count(out, "STATE_QUICK_R2"); c != n {
			t.Fatalf("status shows %d IPsec SAs, want %d", c, n)
		}
	}
	if worst > time.Second {
		t.Errorf("whack --status took %s with %d SA pairs (limit 1s)", worst, n)
	}

	runtime.GC()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perPair := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
	if f := os.Getenv("GOSWAN_SCALE_HEAPPROFILE"); f != "" {
		// What the SA pairs are made of: go tool pprof -sample_index=inuse_space
		if out, err := os.Create(f); err == nil {
			pprof.WriteHeapProfile(out)
			out.Close()
		}
	}
	fmt.Printf("scale: %d connections loaded by whack in %.2fs (%.0f/s); %d ISAKMP+IPsec SA pairs established in %.2fs (%.0f handshakes/s, p50 %.1fms p99 %.1fms); whack --status (%d lines) complete in %.0fms, first line after %.0fms; heap %.0f bytes per SA pair (instances and index entries included)\n",
		n, loadTime.Seconds(), float64(n)/loadTime.Seconds(), n, res.Elapsed.Seconds(), res.Rate(),
		float64(res.Percentile(50).Microseconds())/1000, float64(res.Percentile(99).Microseconds())/1000,
		lines, float64(worst.Microseconds())/1000, float64(worstFirst.Microseconds())/1000, perPair)
}

// countEstablished counts the responder's established ISAKMP SAs that have
// an established IPsec SA.
func countEstablished(td *testDaemon) int {
	n := 0
	td.d.Do(func() {
		withChild := map[uint64]bool{}
		for _, st := range td.d.m.States() {
			if st.Kind.IsIPsecEstablished() && st.Parent != nil {
				withChild[st.Parent.Serial] = true
			}
		}
		for _, st := range td.d.m.States() {
			if st.Kind.IsISAKMPEstablished() && withChild[st.Serial] {
				n++
			}
		}
	})
	return n
}

// timeStatus runs whack --status through the control socket and times the
// first line and the whole answer.
func timeStatus(t *testing.T, ctlbase string) (total, first time.Duration, out string) {
	t0 := time.Now()
	c, err := net.Dial("unix", ctlbase+".ctl")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := whack.WriteMessage(c, &whack.Message{Status: true}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReaderSize(c, 1<<20)
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if first == 0 && line != "" {
			first = time.Since(t0)
		}
		b.WriteString(line)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return time.Since(t0), first, b.String()
}
