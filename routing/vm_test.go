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
	if os.Getenv("GOSWAN_VM") != "1" {
		t.Skip("vm: set GOSWAN_VM=1 to run pluto's ESP tunnel end to end in the VM (root; boots qemu via ../shared/vm/vmrun)")
	}
	if os.Geteuid() != 0 {
		t.Skip("vm: needs root (qemu, network namespaces)")
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

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vmrun, "--timeout", "300", "--", filepath.Join(dir, "routing.test"),
		"-test.run", "^(TestVMPlutoESP|TestXFRM.*)$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GOSWAN_VM_BIN="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	vmStart := time.Now()
	err = cmd.Run()
	vmTime := time.Since(vmStart)
	t.Logf("guest output:\n%s", out.String())
	t.Logf("timing: build %s, VM run %s, total %s", built.Round(time.Millisecond), vmTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("vmrun: %v", err)
	}
	for _, must := range []string{"--- PASS: TestVMPlutoESP", "--- PASS: TestXFRMInstallDelete"} {
		if !strings.Contains(out.String(), must) {
			t.Errorf("guest output lacks %q", must)
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
	dir := filepath.Join("/run/goswan", ns) // unix sockets cannot live on 9p
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &vmPluto{ns: ns, ip: ip, bin: bin, ctlbase: filepath.Join(dir, "pluto"), log: &lockedBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command("ip", "netns", "exec", ns, filepath.Join(bin, "pluto"), "--nofork", "--stderrlog", "--use-netkey",
		"--listen", ip, "--ctlbase", p.ctlbase, "--secretsfile", secrets, "--retransmit-interval", "2s")
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
// client in a namespace.
func kernelCounts(t *testing.T, h *netlink.Handle, peerClient string) (states []netlink.XfrmState, pols int, routes int) {
	t.Helper()
	states, err := h.XfrmStateList(netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.XfrmPolicyList(netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
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

	// Up again, then SIGTERM: nothing remains.
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
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
