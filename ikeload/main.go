package ikeload

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"time"
)

// Main is the ikeload command: exit status 0 when every handshake was
// established, 1 when some failed, 2 on bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ikeload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "responder address[:port] (port 500 by default)")
	sources := fs.String("sources", "", "source addresses: comma-separated addresses, prefixes (198.51.100.0/24) and ranges (127.1.0.1-127.1.39.16)")
	sport := fs.Uint("source-port", 500, "UDP source port")
	n := fs.Int("n", 100, "handshakes to run")
	conc := fs.Int("c", 50, "handshakes in flight at once")
	workers := fs.Int("workers", 2, "initiator state machines (goroutines)")
	ike := fs.String("ike", "aes128-sha1-modp2048", "IKE proposal, as whack --ike")
	esp := fs.String("esp", "aes128-sha1", "ESP proposal, as whack --esp (;GROUP for PFS)")
	psk := fs.String("psk", "", "pre-shared key")
	keep := fs.Bool("keep", false, "keep every SA pair until the end (needs N source addresses) instead of deleting each at once")
	hold := fs.Duration("hold", 0, "with --keep: hold the SAs this long after the last handshake")
	leave := fs.Bool("leave", false, "with --keep: do not delete the SAs at the end")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit of one handshake")
	retransmit := fs.Duration("retransmit", 5*time.Second, "first retransmission wait")
	pid := fs.Int("pid", 0, "responder process id: measure its CPU time and RSS (same host)")
	settle := fs.Duration("settle", 2*time.Second, "with --pid: wait this long after the last handshake before reading the responder's figures")
	client := fs.String("client", "", "responder-side subnet: tunnel-mode Quick Modes between each source/32 and it (default host to host)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	row := fs.String("row", "", "print the result as one table row with this label (see --header)")
	header := fs.Bool("header", false, "print the header of --row's table and exit")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ikeload: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() != 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	if *header {
		fmt.Fprintln(stdout, RowHeader)
		return 0
	}
	tgt, err := parseTarget(*target)
	if err != nil {
		return usage("--target: %v", err)
	}
	srcs, err := ParseSources(*sources, 1<<20)
	if err != nil {
		return usage("--sources: %v", err)
	}
	if *psk == "" {
		return usage("--psk: a pre-shared key is required")
	}
	if *sport == 0 || *sport > 65535 {
		return usage("--source-port: %d is not a port", *sport)
	}
	cfg := Config{Target: tgt, Sources: srcs, SourcePort: uint16(*sport), N: *n, Concurrency: *conc,
		Workers: *workers, IKE: *ike, ESP: *esp, PSK: []byte(*psk), Keep: *keep, Cleanup: !*leave,
		Timeout: *timeout, Retransmit: *retransmit, ResponderPID: *pid, Settle: *settle}
	if *client != "" {
		p, err := netip.ParsePrefix(*client)
		if err != nil {
			return usage("--client: %v", err)
		}
		cfg.Clients = p.Masked()
	}
	if *hold > 0 {
		cfg.Hold = func(*Result) { time.Sleep(*hold) }
	}
	if !*quiet {
		cfg.Progress = func(done, ok int) { fmt.Fprintf(stderr, "ikeload: %d/%d done, %d established\n", done, cfg.N, ok) }
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := Run(ctx, cfg)
	if err != nil && res == nil {
		if strings.HasPrefix(err.Error(), "--") {
			return usage("%v", err)
		}
		fmt.Fprintf(stderr, "ikeload: %v\n", err)
		return 1
	}
	switch {
	case *row != "":
		fmt.Fprintln(stdout, res.Row(*row, cfg.N))
		for k, v := range res.Failures {
			fmt.Fprintf(stderr, "ikeload: %s: failed %d: %s\n", *row, v, k)
		}
	case *asJSON:
		json.NewEncoder(stdout).Encode(res.JSON())
	default:
		io.WriteString(stdout, res.Report())
	}
	if err != nil || res.Established != cfg.N {
		return 1
	}
	return 0
}

// RowHeader heads the table of Result.Row lines.
const RowHeader = "responder        established  handshakes/s  CPU ms/handshake  p50 ms  p99 ms  RSS KiB before->after  bytes/SA pair"

// Row is the result as one line of a table (RowHeader).
func (r *Result) Row(label string, n int) string {
	f := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	cpu, rss, per := "-", "-", "-"
	if r.RSSBefore != 0 && r.measureErr == nil {
		cpu = fmt.Sprintf("%.3f", f(r.CPUPerHandshake()))
		rss = fmt.Sprintf("%d->%d", r.RSSBefore/1024, r.RSSAfter/1024)
		if r.PairsHeld > 0 {
			per = fmt.Sprintf("%.0f", r.BytesPerPair())
		}
	}
	return fmt.Sprintf("%-16s %11s  %12.1f  %16s  %6.1f  %6.1f  %21s  %13s", label, fmt.Sprintf("%d/%d", r.Established, n),
		r.Rate(), cpu, f(r.Percentile(50)), f(r.Percentile(99)), rss, per)
}

// JSONResult is Result in a form for scripts.
type JSONResult struct {
	Started, Established, Failed int
	Failures                     map[string]int
	Seconds, PerSecond           float64
	P50ms, P90ms, P99ms, MaxMs   float64
	ResponderCPUSeconds          float64 `json:",omitempty"`
	ResponderCPUmsPerHandshake   float64 `json:",omitempty"`
	ResponderRSSBefore           int64   `json:",omitempty"`
	ResponderRSSAfter            int64   `json:",omitempty"`
	PairsHeld                    int     `json:",omitempty"`
	BytesPerPair                 float64 `json:",omitempty"`
	MeasureError                 string  `json:",omitempty"`
}

// JSON returns the result for scripts.
func (r *Result) JSON() JSONResult {
	f := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	j := JSONResult{Started: r.Started, Established: r.Established, Failed: r.Failed, Failures: r.Failures,
		Seconds: r.Elapsed.Seconds(), PerSecond: r.Rate(), P50ms: f(r.Percentile(50)), P90ms: f(r.Percentile(90)),
		P99ms: f(r.Percentile(99)), MaxMs: f(r.Percentile(100)),
		ResponderCPUSeconds: r.CPU.Seconds(), ResponderCPUmsPerHandshake: f(r.CPUPerHandshake()),
		ResponderRSSBefore: r.RSSBefore, ResponderRSSAfter: r.RSSAfter, PairsHeld: r.PairsHeld, BytesPerPair: r.BytesPerPair()}
	if r.measureErr != nil {
		j.MeasureError = r.measureErr.Error()
	}
	return j
}

func parseTarget(s string) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPort{}, errors.New("required")
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not an address or address:port", s)
	}
	return netip.AddrPortFrom(a, 500), nil
}

// ParseSources expands a comma-separated list of addresses, prefixes (their
// host addresses: without the network and broadcast addresses for IPv4
// prefixes shorter than /31) and ranges "A-B", at most limit addresses.
func ParseSources(s string, limit int) ([]netip.Addr, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("required")
	}
	var out []netip.Addr
	add := func(a netip.Addr) error {
		if len(out) >= limit {
			return fmt.Errorf("more than %d addresses", limit)
		}
		out = append(out, a)
		return nil
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		switch {
		case strings.Contains(item, "/"):
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, err
			}
			p = p.Masked()
			first, hostsOnly := p.Addr(), p.Addr().Is4() && p.Bits() < 31
			if hostsOnly {
				first = first.Next()
			}
			for a := first; a.IsValid() && p.Contains(a); a = a.Next() {
				if hostsOnly && !p.Contains(a.Next()) {
					break // broadcast
				}
				if err := add(a); err != nil {
					return nil, err
				}
			}
		case strings.Contains(item, "-"):
			lo, hi, _ := strings.Cut(item, "-")
			a, err1 := netip.ParseAddr(lo)
			b, err2 := netip.ParseAddr(hi)
			if err1 != nil || err2 != nil || b.Less(a) || a.Is4() != b.Is4() {
				return nil, fmt.Errorf("%q is not a range A-B", item)
			}
			for ; a.IsValid() && !b.Less(a); a = a.Next() {
				if err := add(a); err != nil {
					return nil, err
				}
			}
		default:
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, err
			}
			if err := add(a.Unmap()); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
