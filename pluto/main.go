package pluto

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"goswan/fsm"
	"goswan/whack"
)

// Version is printed by --version.
const Version = "goswan pluto " + whack.Version

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// Main is pluto's main: parse the options, take the lock, daemonize unless
// --nofork, serve until SIGTERM or whack --shutdown. It returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pluto", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		help        = fs.Bool("help", false, "print this help and exit")
		version     = fs.Bool("version", false, "print the version and exit")
		nofork      = fs.Bool("nofork", false, "do not become a daemon")
		stderrlog   = fs.Bool("stderrlog", false, "log to standard error instead of syslog")
		ikeport     = fs.Int("ikeport", 500, "UDP port for IKE")
		ctlbase     = fs.String("ctlbase", whack.DefaultCtlbase, "control socket PATH.ctl and lock file PATH.pid")
		secretsfile = fs.String("secretsfile", "/etc/ipsec.secrets", "the secrets file")
		ipsecdir    = fs.String("ipsecdir", "/etc/ipsec.d", "directory of keys and certificates")
		nostack     = fs.Bool("use-nostack", false, "negotiate only; install nothing in the kernel")
		netkey      = fs.Bool("use-netkey", false, "install SAs with Linux XFRM (netlink)")
		xfrm        = fs.Bool("use-xfrm", false, "alias of --use-netkey")
		auto        = fs.Bool("use-auto", false, "XFRM when the kernel supports it, else nostack")
		uniqueids   = fs.Bool("uniqueids", false, "a new ISAKMP SA for an ID replaces older ones")
		strictcrl   = fs.Bool("strictcrlpolicy", false, "refuse a peer certificate without a current CRL of its issuer")
		noretrans   = fs.Bool("noretransmits", false, "do not retransmit")
		perpeerlog  = fs.Bool("perpeerlog", false, "log per peer")
		perpeerbase = fs.String("perpeerlogbase", "/var/log/pluto/peer", "per-peer log directory")
		retransmit  = fs.Duration("retransmit-interval", fsm.DefaultConfig.RetransmitDelay, "first retransmission delay (doubles each time; goswan extension)")
		keylog      = fs.String("keylog", "", "write the keys of every SA to this file, for Wireshark and ikedump (mode 0600; goswan extension)")
		metrics     = fs.String("metrics", "", "serve Prometheus metrics at http://HOST:PORT/metrics (goswan extension)")
		maxHalfOpen = fs.Int("max-halfopen", fsm.DefaultConfig.MaxHalfOpen, "most unauthenticated responder ISAKMP SAs; beyond it the oldest unanswered one is dropped (0: no limit; goswan extension)")
		newRate     = fs.Int("new-exchange-rate", fsm.DefaultConfig.NewExchangeRate, "first Main/Aggressive Mode messages accepted per second from one address, burst twice that (0: no limit; goswan extension)")
		signRate    = fs.Int("unauth-sign-rate", fsm.DefaultConfig.UnauthSignRate, "RSA signatures per second for peers not yet authenticated (Aggressive Mode responder), all sources together, burst twice that (0: no limit; goswan extension)")
		dhWorkers   = fs.Int("dh-workers", 0, "Diffie-Hellman worker goroutines (0: one per CPU; goswan extension)")
		natt        = fs.Bool("nat_traversal", false, "NAT traversal (RFC 3947 and drafts 02/03): listen on UDP 4500 too")
		keepAlive   = fs.Int("keep_alive", int(DefaultKeepAlive/time.Second), "seconds between NAT-keepalives")
		forceKA     = fs.Bool("force_keepalive", false, "send NAT-keepalives even when not behind a NAT")
		noFloat     = fs.Bool("disable_port_floating", false, "no NAT-T port floating (then no NAT-T at all: draft-00/01 is not implemented)")
		listen      stringList
		ifaces      stringList
	)
	fs.Var(&listen, "listen", "listen on this address only (repeatable)")
	fs.Var(&ifaces, "interface", "listen on this interface only (repeatable)")
	debugs := map[string]*bool{}
	for _, n := range []string{"none", "all", "raw", "crypt", "parsing", "emitting", "control", "controlmore",
		"lifecycle", "klips", "netkey", "dns", "oppo", "pfkey", "natt", "nat-t", "dpd", "x509", "private"} {
		debugs[n] = fs.Bool("debug-"+n, false, "debugging: "+n)
	}
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if *help {
		fmt.Fprintln(stdout, "Usage: pluto [options]")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	if *version {
		fmt.Fprintln(stdout, Version)
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pluto: unexpected argument %q\n", fs.Arg(0))
		return 1
	}
	_, _, _ = perpeerlog, perpeerbase, auto
	cfg := Config{IKEPort: *ikeport, Ctlbase: *ctlbase, SecretsFile: *secretsfile, IPsecDir: *ipsecdir,
		NoRetransmits: *noretrans, Interfaces: ifaces, Machine: fsm.DefaultConfig}
	cfg.KeyLog, cfg.Metrics = *keylog, *metrics
	if *keepAlive < 1 {
		fmt.Fprintf(stderr, "pluto: --keep_alive %d: must be at least 1 second\n", *keepAlive)
		return 1
	}
	cfg.NATTraversal, cfg.KeepAlive = *natt, time.Duration(*keepAlive)*time.Second
	cfg.ForceKeepalive, cfg.DisablePortFloating = *forceKA, *noFloat
	cfg.Machine.RetransmitDelay = *retransmit
	cfg.Machine.UniqueIDs = *uniqueids
	cfg.StrictCRLPolicy = *strictcrl
	cfg.Machine.HalfOpenTimeout = *retransmit * 7
	// A first-message-only state waits for one lost MR1 to be recovered
	// (the initiator resends MI1 after one interval, then two).
	cfg.Machine.FirstResponseTimeout = *retransmit * 3
	if *maxHalfOpen < 0 || *newRate < 0 || *dhWorkers < 0 || *signRate < 0 {
		fmt.Fprintf(stderr, "pluto: --max-halfopen, --new-exchange-rate, --unauth-sign-rate and --dh-workers must not be negative\n")
		return 1
	}
	cfg.Machine.MaxHalfOpen, cfg.Machine.NewExchangeRate, cfg.DHWorkers = *maxHalfOpen, *newRate, *dhWorkers
	cfg.Machine.UnauthSignRate = *signRate
	for _, l := range listen {
		a, err := netip.ParseAddr(l)
		if err != nil {
			fmt.Fprintf(stderr, "pluto: --listen %q: not an IP address\n", l)
			return 1
		}
		cfg.Listen = append(cfg.Listen, a)
	}
	var names []string
	for n, on := range debugs {
		if *on {
			switch n {
			case "netkey":
				n = "klips"
			case "nat-t":
				n = "natt"
			}
			names = append(names, n)
		}
	}
	if *debugs["none"] {
		names = []string{"none"}
	}
	var err error
	if cfg.Debug, err = ParseDebug(0, names); err != nil {
		fmt.Fprintf(stderr, "pluto: %v\n", err)
		return 1
	}
	if *ikeport < 1 || *ikeport > 65535 {
		fmt.Fprintf(stderr, "pluto: --ikeport %d is not a port number\n", *ikeport)
		return 1
	}
	// --use-nostack and the default: nostack; --use-netkey (--use-xfrm):
	// XFRM or fail; --use-auto: XFRM when the kernel has ESP (kernel.go).
	kernel, kernelWarning, err := chooseKernel((*netkey || *xfrm) && !*nostack, *auto && !*nostack)
	if err != nil {
		fmt.Fprintf(stderr, "pluto: %v\n", err)
		return 1
	}
	cfg.Kernel = kernel
	defer kernel.Close()

	if !*nofork {
		return daemonize(args, cfg.Ctlbase, stderr)
	}
	lock := cfg.Ctlbase + ".pid"
	if err := takeLock(lock); err != nil {
		fmt.Fprintf(stderr, "pluto: %v\n", err)
		return 1
	}
	defer os.Remove(lock)

	if *stderrlog {
		cfg.Log = NewStderrLogger(stderr)
	} else if l, err := NewSyslogLogger(); err == nil {
		cfg.Log = l
	} else {
		cfg.Log = NewStderrLogger(stderr)
	}
	d, err := New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "pluto: %v\n", err)
		return 1
	}
	cfg.Log.Logf("Starting Pluto (%s); kernel: %s", Version, cfg.Kernel.Name())
	if kernelWarning != "" {
		cfg.Log.Logf("%s", kernelWarning)
	}
	if f := os.Getenv("GOSWAN_CPUPROFILE"); f != "" {
		// For profiling the daemon under load (scripts/bench-responders.sh):
		// a CPU profile from start to shutdown, for go tool pprof.
		if out, err := os.Create(f); err == nil && pprof.StartCPUProfile(out) == nil {
			defer func() { pprof.StopCPUProfile(); out.Close() }()
		}
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for s := range sigs {
			if s == syscall.SIGHUP {
				cfg.Log.Logf("Pluto ignores SIGHUP -- perhaps you want \"whack --listen\"")
				continue
			}
			cfg.Log.Logf("shutting down on signal %v", s)
			d.Shutdown()
			return
		}
	}()
	d.Run()
	signal.Stop(sigs)
	cfg.Log.Logf("Pluto is shut down")
	return 0
}

// takeLock creates the lock file with our pid; a lock of a live pluto stops
// us, a stale one is replaced.
func takeLock(path string) error {
	for i := 0; i < 2; i++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			return f.Close()
		}
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("cannot create lock file %q: %v", path, err)
		}
		b, _ := os.ReadFile(path)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if perr == nil && pid > 0 && syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("lock file %q already exists (pluto pid %d is running)", path, pid)
		}
		os.Remove(path) // stale
	}
	return fmt.Errorf("cannot take lock file %q", path)
}

// daemonize starts pluto again with --nofork in a new session, detached
// from the terminal, and waits until its control socket appears.
func daemonize(args []string, ctlbase string, stderr io.Writer) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "pluto: %v\n", err)
		return 1
	}
	cmd := exec.Command(self, append([]string{"--nofork"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// The daemon logs to syslog; its standard streams go to /dev/null so that
	// nothing it writes can fail once this parent has gone.
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "pluto: %v\n", err)
		return 1
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-exited:
			fmt.Fprintln(stderr, "pluto: the daemon exited during startup (run with --nofork --stderrlog to see why)")
			return 1
		case <-deadline:
			fmt.Fprintln(stderr, "pluto: the daemon did not open its control socket")
			return 1
		case <-time.After(20 * time.Millisecond):
			if fi, err := os.Stat(ctlbase + ".ctl"); err == nil && fi.Mode()&os.ModeSocket != 0 {
				return 0
			}
		}
	}
}
