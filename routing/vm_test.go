//go:build linux

package routing

// The proof that --use-netkey works: two of our plutos, each in its network
// namespace of a VM whose kernel has ESP (../shared/vm/vmrun), negotiate a
// PSK tunnel; a ping between the client subnets goes through ESP; whack
// --terminate and SIGTERM leave no state, policy or route behind.
//
// On the host (GOSWAN_VM=1, root) the test builds pluto and whack, copies
// its own binary next to them under the current directory (the VM shares
// it) and runs itself in the VM together with the XFRM namespace tests; in
// the VM (VMRUN_GUEST=1) it does the work.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

const vmPSK = "goswan-vm-psk-0123456789"

func TestVMPlutoESP(t *testing.T) {
	if os.Getenv("VMRUN_GUEST") == "1" {
		vmGuest(t)
		return
	}
	runInVM(t, "pluto's ESP tunnel end to end", "^(TestVMPlutoESP|TestXFRM.*)$", 300, nil, "TestVMPlutoESP", "TestXFRMInstallDelete")
}

// runInVM runs the tests matching run inside ../shared/vm/vmrun (root;
// GOSWAN_VM=1, or the test is skipped): it builds pluto and whack and copies
// this test binary into a directory the VM sees (GOSWAN_VM_BIN), gives the
// guest vmTimeout seconds, logs its output and the timing, and fails unless
// each test in pass passed there. tools must be on the host (the VM runs
// the host's files).
func runInVM(t *testing.T, purpose, run string, vmTimeout int, tools []string, pass ...string) {
	t.Helper()
	if os.Getenv("GOSWAN_VM") != "1" {
		t.Skipf("vm: set GOSWAN_VM=1 to run %s in the VM (root; boots qemu via ../shared/vm/vmrun)", purpose)
	}
	if os.Geteuid() != 0 {
		t.Skip("vm: needs root (qemu, network namespaces)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("vm: %s is not installed on the host, so the VM has none", tool)
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	vmrun := filepath.Join(root, "..", "shared", "vm", "vmrun")
	if _, err := os.Stat(vmrun); err != nil {
		t.Skipf("vm: %s not found", vmrun)
	}
	start := time.Now()
	// The VM sees the current directory read-write: the binaries go there.
	dir, err := os.MkdirTemp(".", ".vmtest-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dir, _ = filepath.Abs(dir)
	build := exec.Command("go", "build", "-o", dir+"/", "./pluto/cmd/pluto", "./whack/cmd/whack")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := copyFile(self, filepath.Join(dir, "routing.test")); err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(vmTimeout+60)*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, vmrun, "--timeout", fmt.Sprint(vmTimeout), "--", filepath.Join(dir, "routing.test"),
		"-test.run", run, "-test.v", "-test.count=1", fmt.Sprintf("-test.timeout=%ds", vmTimeout-20))
	cmd.Env = append(os.Environ(), "GOSWAN_VM_BIN="+dir)
	vmStart := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("guest output:\n%s", out)
	t.Logf("timing: build %s, VM run %s, total %s", built.Round(time.Millisecond), time.Since(vmStart).Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("vmrun: %v", err)
	}
	for _, name := range pass {
		if !strings.Contains(string(out), "--- PASS: "+name) {
			t.Errorf("guest output lacks --- PASS: %s", name)
		}
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ---- in the VM ----

// run runs a command and fails the test when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// vmPluto is one of our plutos in a namespace.
type vmPluto struct {
	ns, ip  string
	bin     string
	ctlbase string
	cmd     *exec.Cmd
	log     *lockedBuffer
	exited  chan error
	stopped bool
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startVMPluto(t *testing.T, bin, ns, ip, secrets string) *vmPluto {
	t.Helper()
	return startVMPlutoWith(t, bin, ns, ip, secrets)
}

// startVMPlutoWith is startVMPluto with more options.
func startVMPlutoWith(t *testing.T, bin, ns, ip, secrets string, extra ...string) *vmPluto {
	t.Helper()
	dir := filepath.Join("/run/goswan", ns) // unix sockets cannot live on 9p
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &vmPluto{ns: ns, ip: ip, bin: bin, ctlbase: filepath.Join(dir, "pluto"), log: &lockedBuffer{}, exited: make(chan error, 1)}
	args := append([]string{"netns", "exec", ns, filepath.Join(bin, "pluto"), "--nofork", "--stderrlog", "--use-netkey",
		"--listen", ip, "--ctlbase", p.ctlbase, "--secretsfile", secrets, "--retransmit-interval", "2s"}, extra...)
	p.cmd = exec.Command("ip", args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	for i := 0; i < 200; i++ {
		if fi, err := os.Stat(p.ctlbase + ".ctl"); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return p
		}
		select {
		case err := <-p.exited:
			t.Fatalf("pluto in %s exited: %v\n%s", ns, err, p.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("pluto in %s did not open its control socket\n%s", ns, p.log)
	return nil
}

func (p *vmPluto) whack(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, "whack"), append([]string{"--ctlbase", p.ctlbase}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("whack: %v", err)
	}
	return string(out), code
}

// stop sends SIGTERM and waits for pluto to exit.
func (p *vmPluto) stop(t *testing.T) {
	t.Helper()
	if p.stopped {
		return
	}
	p.stopped = true
	// ip netns exec execs pluto: the pid is pluto's.
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("pluto in %s exited with %v after SIGTERM", p.ns, err)
		}
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("pluto in %s did not exit on SIGTERM", p.ns)
	}
}

// nsHandle opens a netlink handle in a named namespace.
func nsHandle(t *testing.T, name string) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// kernelCounts returns the XFRM states, policies and routes to the peer's
// client in a namespace. Per-socket policies (charon's IKE sockets bypass
// IPsec with them) belong to no connection and are not counted.
func kernelCounts(t *testing.T, h *netlink.Handle, peerClient string) (states []netlink.XfrmState, pols int, routes int) {
	t.Helper()
	states, err := h.XfrmStateList(netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	all, err := h.XfrmPolicyList(netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var p []netlink.XfrmPolicy
	for _, pol := range all {
		if pol.Dir <= netlink.XFRM_DIR_FWD {
			p = append(p, pol)
		}
	}
	rs, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Dst != nil && r.Dst.String() == peerClient {
			routes++
		}
	}
	return states, len(p), routes
}

// waitEmpty waits until neither namespace holds a state, a policy or a
// route to the peer's client.
func waitEmpty(t *testing.T, when string, hs map[string]*netlink.Handle) {
	t.Helper()
	peer := map[string]string{"west": "10.2.0.0/24", "east": "10.1.0.0/24"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := ""
		for name, h := range hs {
			s, p, r := kernelCounts(t, h, peer[name])
			if len(s)+p+r > 0 {
				left += fmt.Sprintf(" %s: %d states, %d policies, %d routes;", name, len(s), p, r)
			}
		}
		if left == "" {
			t.Logf("%s: no XFRM state, no XFRM policy, no route left in west and east", when)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: left behind:%s\nwest:\n%s\neast:\n%s", when, left,
				run(t, "ip", "-n", "west", "xfrm", "state")+run(t, "ip", "-n", "west", "xfrm", "policy"),
				run(t, "ip", "-n", "east", "xfrm", "state")+run(t, "ip", "-n", "east", "xfrm", "policy"))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// capture is tcpdump on one interface, outgoing packets only.
type capture struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

func startCapture(t *testing.T, ns, dev string) *capture {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Log("tcpdump not installed: the XFRM counters alone show ESP")
		return nil
	}
	c := &capture{out: &lockedBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command("ip", "netns", "exec", ns, "tcpdump", "-n", "-l", "-Q", "out", "-i", dev, "esp or icmp")
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Logf("tcpdump: %v", err)
		return nil
	}
	go func() { c.cmd.Wait(); close(c.done) }()
	for i := 0; i < 100 && !strings.Contains(c.out.String(), "listening on"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

// stop ends the capture and counts ESP and ICMP packets.
func (c *capture) stop() (esp, icmp int, text string) {
	time.Sleep(200 * time.Millisecond)
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	text = c.out.String()
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		switch l := sc.Text(); {
		case strings.Contains(l, "ESP(spi="):
			esp++
		case strings.Contains(l, "ICMP"):
			icmp++
		}
	}
	return esp, icmp, text
}

var pingOK = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (packets )?received`)

func ping(count string) *exec.Cmd {
	return exec.Command("ip", "netns", "exec", "west", "ping", "-c", count, "-i", "0.2", "-W", "2", "-I", "10.1.0.1", "10.2.0.1")
}

func vmGuest(t *testing.T) {
	bin := os.Getenv("GOSWAN_VM_BIN")
	if bin == "" {
		t.Skip("vm: GOSWAN_VM_BIN (the directory with pluto and whack) is not set")
	}
	t0 := time.Now()
	phase := func(what string) { t.Logf("[%6.2fs] %s", time.Since(t0).Seconds(), what) }
	t.Logf("kernel %s", strings.TrimSpace(run(t, "uname", "-r")))

	// west 192.0.2.1 (client 10.1.0.1/24) <-veth-> east 192.0.2.2 (client 10.2.0.1/24).
	for _, c := range [][]string{
		{"netns", "add", "west"}, {"netns", "add", "east"},
		{"link", "add", "vl", "netns", "west", "type", "veth", "peer", "name", "vr", "netns", "east"},
		{"-n", "west", "link", "set", "lo", "up"}, {"-n", "east", "link", "set", "lo", "up"},
		{"-n", "west", "addr", "add", "192.0.2.1/24", "dev", "vl"}, {"-n", "west", "link", "set", "vl", "up"},
		{"-n", "east", "addr", "add", "192.0.2.2/24", "dev", "vr"}, {"-n", "east", "link", "set", "vr", "up"},
		{"-n", "west", "link", "add", "c0", "type", "dummy"}, {"-n", "west", "addr", "add", "10.1.0.1/24", "dev", "c0"},
		{"-n", "west", "link", "set", "c0", "up"},
		{"-n", "east", "link", "add", "c0", "type", "dummy"}, {"-n", "east", "addr", "add", "10.2.0.1/24", "dev", "c0"},
		{"-n", "east", "link", "set", "c0", "up"},
	} {
		run(t, "ip", c...)
	}
	defer exec.Command("ip", "netns", "del", "west").Run()
	defer exec.Command("ip", "netns", "del", "east").Run()
	hs := map[string]*netlink.Handle{"west": nsHandle(t, "west"), "east": nsHandle(t, "east")}
	// No route between the client subnets: the default updown adds it.
	if out, err := ping("1").CombinedOutput(); err == nil {
		t.Fatalf("ping before the tunnel went through:\n%s", out)
	}
	phase("namespaces up; ping 10.1.0.1 -> 10.2.0.1 fails without the tunnel")

	secrets := "/run/goswan/ipsec.secrets"
	os.MkdirAll("/run/goswan", 0o755)
	if err := os.WriteFile(secrets, []byte(fmt.Sprintf("192.0.2.1 192.0.2.2 : PSK %q\n", vmPSK)), 0o600); err != nil {
		t.Fatal(err)
	}
	west := startVMPluto(t, bin, "west", "192.0.2.1", secrets)
	east := startVMPluto(t, bin, "east", "192.0.2.2", secrets)
	defer func() {
		west.stop(t)
		east.stop(t)
		if t.Failed() {
			t.Logf("west pluto:\n%s\neast pluto:\n%s", west.log, east.log)
		}
	}()
	conn := []string{"--name", "west-east", "--host", "192.0.2.1", "--client", "10.1.0.0/24", "--to",
		"--host", "192.0.2.2", "--client", "10.2.0.0/24", "--psk", "--encrypt", "--tunnel",
		"--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1"}
	for _, p := range []*vmPluto{west, east} {
		if out, code := p.whack(t, conn...); code != 0 {
			t.Fatalf("whack add in %s: %d\n%s", p.ns, code, out)
		}
	}
	phase("plutos started with --use-netkey, connection added")

	initiate := func() {
		t.Helper()
		out, code := west.whack(t, "--name", "west-east", "--initiate")
		t.Logf("whack --initiate:\n%s", out)
		if code != 0 || !strings.Contains(out, "IPsec SA established") {
			t.Fatalf("initiate: exit %d", code)
		}
	}
	initiate()
	phase("IPsec SA established")

	// The ping, with tcpdump watching what leaves each end.
	capW, capE := startCapture(t, "west", "vl"), startCapture(t, "east", "vr")
	out, err := ping("3").CombinedOutput()
	t.Logf("ip netns exec west ping -c 3 -I 10.1.0.1 10.2.0.1:\n%s", out)
	if err != nil {
		t.Fatalf("ping through the tunnel failed: %v", err)
	}
	if m := pingOK.FindStringSubmatch(string(out)); m == nil || m[1] != "3" || m[2] != "3" {
		t.Errorf("ping: not all 3 replies")
	}
	for _, c := range []struct {
		cap *capture
		ns  string
	}{{capW, "west"}, {capE, "east"}} {
		if c.cap == nil {
			continue
		}
		esp, icmp, text := c.cap.stop()
		t.Logf("tcpdump -Q out in %s: %d ESP packets, %d cleartext ICMP packets:\n%s", c.ns, esp, icmp, text)
		if esp < 3 || icmp != 0 {
			t.Errorf("%s sent %d ESP and %d cleartext ICMP packets; want >= 3 ESP and no ICMP", c.ns, esp, icmp)
		}
	}
	phase("ping through ESP")

	// The SA counters: both SAs of each end carried the pings.
	for _, ns := range []string{"west", "east"} {
		states, pols, routes := kernelCounts(t, hs[ns], map[string]string{"west": "10.2.0.0/24", "east": "10.1.0.0/24"}[ns])
		t.Logf("ip -n %s -s xfrm state:\n%s", ns, run(t, "ip", "-n", ns, "-s", "xfrm", "state"))
		if ns == "west" {
			t.Logf("ip -n west xfrm policy:\n%s", run(t, "ip", "-n", "west", "xfrm", "policy"))
		}
		if len(states) != 2 || pols != 3 || routes != 1 {
			t.Errorf("%s: %d states, %d policies, %d routes; want 2, 3 (in, fwd, out), 1", ns, len(states), pols, routes)
		}
		for _, s := range states {
			t.Logf("%s: SA %s->%s spi 0x%08x: %d packets, %d bytes", ns, s.Src, s.Dst, uint32(s.Spi), s.Statistics.Packets, s.Statistics.Bytes)
			if s.Statistics.Packets < 3 || s.Proto != netlink.XFRM_PROTO_ESP || s.Mode != netlink.XFRM_MODE_TUNNEL {
				t.Errorf("%s: SA 0x%08x counted %d packets", ns, uint32(s.Spi), s.Statistics.Packets)
			}
		}
		stat := run(t, "ip", "netns", "exec", ns, "cat", "/proc/net/xfrm_stat")
		for _, l := range strings.Split(strings.TrimSpace(stat), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[1] != "0" {
				t.Errorf("%s: /proc/net/xfrm_stat: %s", ns, l)
			}
		}
	}
	phase("XFRM counters checked")

	// whack --terminate: the SAs, policies and routes go at both ends
	// (east hears of it by a Delete notification), and the ping fails.
	out2, _ := west.whack(t, "--name", "west-east", "--terminate")
	t.Logf("whack --terminate:\n%s", out2)
	waitEmpty(t, "after whack --terminate", hs)
	if out, err := ping("2").CombinedOutput(); err == nil {
		t.Errorf("ping still goes through after terminate:\n%s", out)
	} else {
		t.Logf("ping after terminate fails as it should: %s", lastLine(string(out)))
	}
	phase("terminated")

	// whack --route: the trap policy alone. Traffic it catches makes the
	// kernel ACQUIRE and pluto initiate on demand; after --terminate the
	// trap is back; --unroute takes it away.
	if out, code := west.whack(t, "--name", "west-east", "--route"); code != 0 {
		t.Errorf("route: %d\n%s", code, out)
	}
	if states, pols, routes := kernelCounts(t, hs["west"], "10.2.0.0/24"); len(states) != 0 || pols != 1 || routes != 1 {
		t.Errorf("after --route: %d states, %d policies, %d routes; want 0, 1 (the trap), 1", len(states), pols, routes)
	}
	t.Logf("after whack --route, ip -n west xfrm policy:\n%s", run(t, "ip", "-n", "west", "xfrm", "policy"))
	phase("routed: trap installed")
	out, err = exec.Command("ip", "netns", "exec", "west", "ping", "-c", "12", "-i", "0.5", "-W", "1", "-I", "10.1.0.1", "10.2.0.1").CombinedOutput()
	t.Logf("ping through the trap (on-demand keying):\n%s", out)
	if m := pingOK.FindStringSubmatch(string(out)); m == nil || m[2] == "0" {
		t.Errorf("no reply through the trap: %v", err)
	}
	if !strings.Contains(west.log.String(), "initiate on demand from 10.1.0.1") {
		t.Errorf("west did not initiate on demand")
	}
	if states, pols, _ := kernelCounts(t, hs["west"], "10.2.0.0/24"); len(states) != 2 || pols != 3 {
		t.Errorf("after on-demand keying: %d states, %d policies; want 2, 3", len(states), pols)
	}
	phase("on-demand keying through the trap")
	west.whack(t, "--name", "west-east", "--terminate")
	time.Sleep(500 * time.Millisecond)
	if states, pols, routes := kernelCounts(t, hs["west"], "10.2.0.0/24"); len(states) != 0 || pols != 1 || routes != 1 {
		t.Errorf("routed, after --terminate: %d states, %d policies, %d routes; want 0, 1 (the trap), 1", len(states), pols, routes)
	}
	west.whack(t, "--name", "west-east", "--unroute")
	waitEmpty(t, "after whack --terminate and --unroute", hs)
	phase("route/unroute checked")

	// Traffic continues across a rekey: short lifetimes, a ping every
	// 100 ms spanning the replacement of the IPsec SA.
	readd := func(extra ...string) {
		t.Helper()
		for _, p := range []*vmPluto{west, east} {
			p.whack(t, "--name", "west-east", "--delete")
			if out, code := p.whack(t, append(conn, extra...)...); code != 0 {
				t.Fatalf("whack add %v in %s: %d\n%s", extra, p.ns, code, out)
			}
		}
	}
	readd("--ipseclifetime", "8s", "--rekeymargin", "3s", "--rekeyfuzz", "0%")
	initiate()
	vmRekey(t, hs)
	if !strings.Contains(west.log.String(), "replacing IPsec SA before it expires") {
		t.Errorf("west did not rekey:\n%s", west.log)
	}
	west.whack(t, "--name", "west-east", "--terminate")
	waitEmpty(t, "after the rekey test", hs)
	phase("rekey: traffic continued across it")

	// IPComp: --compress, a large compressible ping through IPComp+ESP.
	readd("--compress")
	compOut, _ := west.whack(t, "--name", "west-east", "--initiate")
	t.Logf("whack --initiate (--compress):\n%s", compOut)
	if !regexp.MustCompile(`IPsec SA established \{ESP=>0x[0-9a-f]{8} <0x[0-9a-f]{8} IPCOMP=>0x0000[0-9a-f]{4} <0x0000[0-9a-f]{4}\}`).MatchString(compOut) {
		t.Fatalf("no IPComp in the established SA")
	}
	vmIPComp(t, hs)
	west.whack(t, "--name", "west-east", "--terminate")
	waitEmpty(t, "after terminating the IPComp SA", hs)
	phase("IPComp+ESP: compressed ping, comp states counted, all removed")

	// Up again, then SIGTERM: nothing remains.
	readd()
	initiate()
	if out, err := ping("2").CombinedOutput(); err != nil {
		t.Fatalf("ping after re-initiating: %v\n%s", err, out)
	}
	west.stop(t)
	east.stop(t)
	waitEmpty(t, "after SIGTERM", hs)
	for _, p := range []*vmPluto{west, east} {
		if !strings.Contains(p.log.String(), "Pluto is shut down") || strings.Contains(p.log.String(), "updown command returned an error") {
			t.Errorf("%s pluto log:\n%s", p.ns, p.log)
		}
	}
	t.Logf("west pluto log:\n%s", west.log)
	phase("SIGTERM: both plutos exited, nothing left")

	// Our pluto against strongSwan's charon with its kernel backend.
	vmStrongSwan(t, bin, secrets, hs, conn)
	phase("strongSwan (kernel-netlink) against our pluto")
}

// espStates returns the ESP states of a namespace by SPI.
func espStates(t *testing.T, h *netlink.Handle) map[uint32]netlink.XfrmState {
	t.Helper()
	states, _, _ := kernelCounts(t, h, "")
	m := map[uint32]netlink.XfrmState{}
	for _, s := range states {
		if s.Proto == netlink.XFRM_PROTO_ESP {
			m[uint32(s.Spi)] = s
		}
	}
	return m
}

// vmRekey pings 10.1.0.1 -> 10.2.0.1 every 100 ms for 10 s over a
// connection whose IPsec SA lives 8 s and is replaced 3 s before: no reply
// may be lost to the rekey, the old SAs go and the new ones carry the
// traffic at both ends.
func vmRekey(t *testing.T, hs map[string]*netlink.Handle) {
	t.Helper()
	before := map[string]map[uint32]netlink.XfrmState{"west": espStates(t, hs["west"]), "east": espStates(t, hs["east"])}
	out, err := exec.Command("ip", "netns", "exec", "west", "ping", "-c", "100", "-i", "0.1", "-W", "1", "-I", "10.1.0.1", "10.2.0.1").CombinedOutput()
	m := pingOK.FindStringSubmatch(string(out))
	t.Logf("ping -c 100 -i 0.1 across the rekey: %s", lastLines(string(out), 3))
	if m == nil {
		t.Fatalf("ping across the rekey: %v\n%s", err, out)
	}
	if m[1] != "100" || m[2] != "100" {
		t.Errorf("ping across the rekey: %s of %s replies", m[2], m[1])
	}
	for _, ns := range []string{"west", "east"} {
		after := espStates(t, hs[ns])
		t.Logf("ip -n %s -s xfrm state after the rekey:\n%s", ns, run(t, "ip", "-n", ns, "-s", "xfrm", "state"))
		if len(before[ns]) != 2 {
			t.Errorf("%s: %d ESP states before the rekey, want 2", ns, len(before[ns]))
		}
		// The ping lasts 10 s: the first pair (8 s) is replaced after 5 s
		// and gone after 8 s; its successor may have been replaced too.
		fresh := 0
		for spi, s := range after {
			if _, old := before[ns][spi]; old {
				t.Errorf("%s: SA 0x%08x of before the rekey still there after its lifetime", ns, spi)
				continue
			}
			fresh++
			t.Logf("%s: new SA %s->%s spi 0x%08x: %d packets; lifetime soft %ds hard %ds, replay window %d", ns, s.Src, s.Dst, spi,
				s.Statistics.Packets, s.Limits.TimeSoft, s.Limits.TimeHard, s.ReplayWindow)
			if s.Statistics.Packets == 0 || s.Limits.TimeHard != 8 || s.Limits.TimeSoft != 7 || s.ReplayWindow != ReplayWindow {
				t.Errorf("%s: new SA 0x%08x: %d packets, lifetime soft %d hard %d, replay window %d (want >0, 7, 8, %d)",
					ns, spi, s.Statistics.Packets, s.Limits.TimeSoft, s.Limits.TimeHard, s.ReplayWindow, ReplayWindow)
			}
		}
		if fresh < 2 || fresh%2 != 0 {
			t.Errorf("%s: %d new ESP SAs after the rekey, want pairs", ns, fresh)
		}
	}
}

// vmIPComp checks an IPComp+ESP tunnel: a 1200-octet ping of zeros goes
// through; each end has two IPComp states (CPIs) and two ESP states in
// transport mode inside them, all counting the pings; the ESP SAs carried
// far fewer octets than the pings had (compressed first).
func vmIPComp(t *testing.T, hs map[string]*netlink.Handle) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", "west", "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1200", "-p", "00",
		"-I", "10.1.0.1", "10.2.0.1").CombinedOutput()
	t.Logf("ping -s 1200 -p 00 through IPComp+ESP: %s", lastLines(string(out), 3))
	if m := pingOK.FindStringSubmatch(string(out)); err != nil || m == nil || m[2] != "3" {
		t.Fatalf("large ping through IPComp+ESP failed: %v\n%s", err, out)
	}
	for _, ns := range []string{"west", "east"} {
		t.Logf("ip -n %s -s xfrm state:\n%s", ns, run(t, "ip", "-n", ns, "-s", "xfrm", "state"))
		if ns == "west" {
			t.Logf("ip -n west xfrm policy:\n%s", run(t, "ip", "-n", "west", "xfrm", "policy"))
		}
		states, _, _ := kernelCounts(t, hs[ns], "")
		comp, esp := 0, 0
		for _, s := range states {
			switch s.Proto {
			case netlink.XFRM_PROTO_COMP:
				comp++
				t.Logf("%s: IPComp SA %s->%s cpi 0x%04x %s: %d packets", ns, s.Src, s.Dst, uint32(s.Spi), s.Mode, s.Statistics.Packets)
				if s.Mode != netlink.XFRM_MODE_TUNNEL || s.Spi < 0x100 || s.Spi > 0xefff || s.Statistics.Packets < 3 {
					t.Errorf("%s: IPComp SA 0x%04x: mode %s, %d packets", ns, uint32(s.Spi), s.Mode, s.Statistics.Packets)
				}
			case netlink.XFRM_PROTO_ESP:
				esp++
				perPacket := uint64(0)
				if s.Statistics.Packets > 0 {
					perPacket = s.Statistics.Bytes / s.Statistics.Packets
				}
				t.Logf("%s: ESP SA %s->%s spi 0x%08x %s: %d packets, %d octets each", ns, s.Src, s.Dst, uint32(s.Spi), s.Mode,
					s.Statistics.Packets, perPacket)
				if s.Mode != netlink.XFRM_MODE_TRANSPORT || s.Statistics.Packets < 3 || perPacket == 0 || perPacket > 600 {
					t.Errorf("%s: ESP SA 0x%08x: mode %s, %d packets of %d octets (want compressed, well under the 1228 of the ping)",
						ns, uint32(s.Spi), s.Mode, s.Statistics.Packets, perPacket)
				}
			}
		}
		if comp != 2 || esp != 2 {
			t.Errorf("%s: %d IPComp and %d ESP states, want 2 and 2", ns, comp, esp)
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// charonPath is strongSwan's IKE daemon as Debian installs it.
const charonPath = "/usr/lib/ipsec/charon"

// vmStrongSwan runs our pluto in west against strongSwan's charon in east
// with its kernel backend (kernel-netlink: the VM's XFRM, no libipsec,
// no fakesa; its child has ipcomp = yes): our pluto initiates without
// --compress, a ping goes through ESP (counted in charon's XFRM states),
// our --terminate makes charon remove its SAs; then charon initiates,
// offering IPComp, which our pluto accepts, and a large ping goes through
// IPComp+ESP; last our pluto initiates with --compress.
func vmStrongSwan(t *testing.T, bin, secrets string, hs map[string]*netlink.Handle, conn []string) {
	t.Helper()
	swanctl, stop := vmCharon(t, "east", "/run/goswan/ss", charonRetransmit, fmt.Sprintf(`connections {
    west-east {
        version = 1
        local_addrs = 192.0.2.2
        remote_addrs = 192.0.2.1
        proposals = aes128-sha1-modp2048
        encap = no
        dpd_delay = 0
        local {
            auth = psk
            id = 192.0.2.2
        }
        remote {
            auth = psk
            id = 192.0.2.1
        }
        children {
            net {
                local_ts = 10.2.0.0/24
                remote_ts = 10.1.0.0/24
                esp_proposals = aes128-sha1
                mode = tunnel
                ipcomp = yes
                start_action = none
            }
        }
    }
}
secrets {
    ike-psk {
        id-a = 192.0.2.2
        id-b = 192.0.2.1
        secret = "%s"
    }
}
`, vmPSK))
	defer stop()
	t.Logf("strongSwan: %s", strings.TrimSpace(run(t, charonPath, "--version")))

	west := startVMPluto(t, bin, "west", "192.0.2.1", secrets)
	defer func() {
		west.stop(t)
		if t.Failed() {
			t.Logf("west pluto (against strongSwan):\n%s", west.log)
		}
	}()
	if out, code := west.whack(t, conn...); code != 0 {
		t.Fatalf("whack add: %d\n%s", code, out)
	}
	check := func(who string) {
		t.Helper()
		capE := startCapture(t, "east", "vr")
		out, err := ping("3").CombinedOutput()
		t.Logf("ping 10.1.0.1 -> 10.2.0.1 (%s initiated): %s", who, lastLines(string(out), 2))
		if m := pingOK.FindStringSubmatch(string(out)); err != nil || m == nil || m[2] != "3" {
			t.Errorf("ping through the tunnel with strongSwan (%s initiated) failed: %v", who, err)
		}
		if capE != nil {
			esp, icmp, text := capE.stop()
			t.Logf("tcpdump -Q out in east (charon's end): %d ESP, %d cleartext ICMP", esp, icmp)
			if esp < 3 || icmp != 0 {
				t.Errorf("charon's end sent %d ESP and %d cleartext ICMP packets:\n%s", esp, icmp, text)
			}
		}
		states := espStates(t, hs["east"])
		t.Logf("ip -n east -s xfrm state (charon's):\n%s", run(t, "ip", "-n", "east", "-s", "xfrm", "state"))
		if len(states) != 2 {
			t.Errorf("charon installed %d ESP states, want 2", len(states))
		}
		for spi, s := range states {
			if s.Statistics.Packets < 3 {
				t.Errorf("charon's SA 0x%08x counted %d packets", spi, s.Statistics.Packets)
			}
		}
		sas, _ := swanctl("--list-sas")
		t.Logf("swanctl --list-sas:\n%s", sas)
		if !strings.Contains(sas, "INSTALLED, TUNNEL") {
			t.Errorf("charon lists no installed CHILD_SA")
		}
	}
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	t.Logf("whack --initiate (against strongSwan):\n%s", out)
	if code != 0 || !strings.Contains(out, "IPsec SA established") {
		t.Fatalf("initiate against strongSwan: exit %d", code)
	}
	check("pluto")
	west.whack(t, "--name", "west-east", "--terminate")
	waitEmpty(t, "strongSwan: after our --terminate (charon follows our Delete)", map[string]*netlink.Handle{"west": hs["west"], "east": hs["east"]})

	if out, err := swanctl("--initiate", "--child", "net", "--timeout", "20"); err != nil {
		t.Fatalf("swanctl --initiate: %v\n%s", err, out)
	}
	if !strings.Contains(west.log.String(), "STATE_QUICK_R2") {
		t.Errorf("our pluto did not respond to charon's Quick Mode")
	}
	check("strongSwan")
	if !regexp.MustCompile(`STATE_QUICK_R2: IPsec SA established \{ESP=>0x[0-9a-f]{8} <0x[0-9a-f]{8} IPCOMP=>`).MatchString(west.log.String()) {
		t.Errorf("our pluto did not accept charon's IPComp")
	}
	vmIPComp(t, hs)
	if out, err := swanctl("--terminate", "--ike", "west-east", "--timeout", "20"); err != nil {
		t.Errorf("swanctl --terminate: %v\n%s", err, out)
	}
	waitEmpty(t, "strongSwan: after charon's terminate (we follow its Deletes)", map[string]*netlink.Handle{"west": hs["west"], "east": hs["east"]})

	west.whack(t, "--name", "west-east", "--delete")
	if out, code := west.whack(t, append(conn, "--compress")...); code != 0 {
		t.Fatalf("whack add --compress: %d\n%s", code, out)
	}
	out, code = west.whack(t, "--name", "west-east", "--initiate")
	t.Logf("whack --initiate --compress (against strongSwan):\n%s", out)
	if code != 0 || !strings.Contains(out, "IPCOMP=>") {
		t.Fatalf("initiate with IPComp against strongSwan: exit %d", code)
	}
	vmIPComp(t, hs)
	west.whack(t, "--name", "west-east", "--terminate")
	waitEmpty(t, "strongSwan: after terminating the IPComp SA", map[string]*netlink.Handle{"west": hs["west"], "east": hs["east"]})
}

// charonRetransmit is charon's retransmission schedule in the VM tests
// without loss: give up soon.
const charonRetransmit = "retransmit_tries = 2\n    retransmit_timeout = 2.0"

// vmCharon runs strongSwan's charon (kernel backend: the VM's XFRM) in
// namespace ns with its files in dir and the given swanctl.conf loaded; it
// returns swanctl and a stop function (which logs charon's output when the
// test failed).
func vmCharon(t *testing.T, ns, dir, retransmit, swanctlConf string) (swanctl func(...string) (string, error), stop func()) {
	t.Helper()
	if _, err := os.Stat(charonPath); err != nil {
		t.Fatalf("strongSwan: %s is not installed on the host, so the VM has none: %v", charonPath, err)
	}
	if _, err := exec.LookPath("swanctl"); err != nil {
		t.Fatalf("strongSwan: swanctl: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "swanctl"), 0o755)
	conf := filepath.Join(dir, "strongswan.conf")
	vici := "unix://" + filepath.Join(dir, "charon.vici")
	write := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(conf, fmt.Sprintf(`charon {
    load = random nonce openssl aes sha1 sha2 md5 hmac gmp kdf pem pkcs1 pubkey kernel-netlink socket-default vici
    port = 500
    port_nat_t = 4500
    %s
    install_virtual_ip = no
    filelog {
        main {
            path = %s/charon.log
            append = no
            flush_line = yes
            default = 1
            ike = 2
            knl = 2
            chd = 2
            cfg = 1
        }
    }
    plugins {
        vici {
            socket = %s
        }
    }
}
swanctl {
    load = random nonce openssl pem pkcs1 pubkey
}
`, retransmit, dir, vici))
	write(filepath.Join(dir, "swanctl", "swanctl.conf"), swanctlConf)
	swanctl = func(args ...string) (string, error) {
		cmd := exec.Command("swanctl", append(args, "--uri", vici)...)
		cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+conf, "SWANCTL_DIR="+filepath.Join(dir, "swanctl"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	log := &lockedBuffer{}
	charon := exec.Command("ip", "netns", "exec", ns, "env", "STRONGSWAN_CONF="+conf, charonPath)
	charon.Stdout, charon.Stderr = log, log
	if err := charon.Start(); err != nil {
		t.Fatalf("strongSwan: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- charon.Wait() }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		charon.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			charon.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "charon.log"))
			t.Logf("charon in %s:\n%s\ncharon.log:\n%s", ns, log, b)
		}
	}
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, "charon.vici")); err == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("strongSwan: charon exited: %v\n%s", err, log)
		case <-time.After(100 * time.Millisecond):
		}
		if i == 100 {
			stop()
			t.Fatalf("strongSwan: no vici socket after 10 s\n%s", log)
		}
	}
	if out, err := swanctl("--load-all", "--noprompt"); err != nil {
		stop()
		t.Fatalf("swanctl --load-all: %v\n%s", err, out)
	}
	return swanctl, stop
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
