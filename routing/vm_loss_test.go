//go:build linux

package routing

// Issue #9 on a real bad network: the VM's kernel has sch_netem, so both
// veth ends between namespaces west and east lose 30% of what they send and
// delay the rest by 20 ms +- 40 ms with 25% sent at once (reordered). Four
// connections between two of our plutos (--use-netkey) are initiated at
// once; every one comes up through retransmission with exactly one IPsec
// SA pair (whack --status and the kernel's XFRM states agree, same SPIs at
// both ends, 3 policies and a route per connection), traffic goes through
// each tunnel under the loss, and every tunnel carries a clean ping once
// netem is removed. Then strongSwan's charon (kernel backend) in east
// initiates four children under the same loss to our pluto (the other role
// on request: see vmLossStrongSwan).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// vmLossConns is the number of connections negotiated at once.
const vmLossConns = 4

// vmNetem is the qdisc on both veth ends.
var vmNetem = []string{"netem", "loss", "30%", "delay", "20ms", "40ms", "reorder", "25%", "50%"}

func TestVMPlutoLoss(t *testing.T) {
	if os.Getenv("VMRUN_GUEST") == "1" {
		vmLossGuest(t)
		return
	}
	runInVM(t, "negotiations under netem loss and reordering", "^TestVMPlutoLoss$", 200, []string{"tc"}, "TestVMPlutoLoss")
}

// isLarval tells a state from XFRM_MSG_ALLOCSPI that was never completed
// (a Quick Mode abandoned after its SPI was reserved): no algorithms, no
// traffic, and the kernel drops it after net.core.xfrm_acq_expires (30 s).
func isLarval(s netlink.XfrmState) bool {
	return s.Crypt == nil && s.Aead == nil && s.Auth == nil
}

// vmSAs is espStates without larval states.
func vmSAs(t *testing.T, h *netlink.Handle) map[uint32]netlink.XfrmState {
	t.Helper()
	m := espStates(t, h)
	for spi, s := range m {
		if isLarval(s) {
			delete(m, spi)
		}
	}
	return m
}

// ipBatch runs ip -batch in a namespace ("" for the VM's own).
func ipBatch(t *testing.T, ns string, lines ...string) {
	t.Helper()
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// lossPing pings from west's client of connection i to east's, returning
// how many were sent and answered.
func lossPing(i, count int, wait string) (sent, got int, out string) {
	b, _ := exec.Command("ip", "netns", "exec", "west", "ping", "-c", fmt.Sprint(count), "-i", "0.2", "-W", wait,
		"-I", fmt.Sprintf("10.1.%d.1", i), fmt.Sprintf("10.2.%d.1", i)).CombinedOutput()
	if m := pingOK.FindStringSubmatch(string(b)); m != nil {
		fmt.Sscan(m[1], &sent)
		fmt.Sscan(m[2], &got)
	}
	return sent, got, string(b)
}

// netemStats returns "sent N pkt, dropped M" of the netem qdisc of a device.
func netemStats(t *testing.T, ns, dev string) string {
	out := run(t, "ip", "netns", "exec", ns, "tc", "-s", "qdisc", "show", "dev", dev)
	if m := regexp.MustCompile(`Sent \d+ bytes (\d+) pkt \(dropped (\d+)`).FindStringSubmatch(out); m != nil {
		return fmt.Sprintf("%s: %s packets sent, %s dropped", dev, m[1], m[2])
	}
	return dev + ": " + strings.TrimSpace(out)
}

func vmLossGuest(t *testing.T) {
	bin := os.Getenv("GOSWAN_VM_BIN")
	if bin == "" {
		t.Skip("vm: GOSWAN_VM_BIN (the directory with pluto and whack) is not set")
	}
	t0 := time.Now()
	phase := func(what string) { t.Logf("[%6.2fs] %s", time.Since(t0).Seconds(), what) }

	// west 192.0.2.1 (clients 10.1.i.1/24) <-veth vl/vr-> east 192.0.2.2 (clients 10.2.i.1/24).
	run(t, "ip", "netns", "add", "west")
	defer exec.Command("ip", "netns", "del", "west").Run()
	run(t, "ip", "netns", "add", "east")
	defer exec.Command("ip", "netns", "del", "east").Run()
	run(t, "ip", "link", "add", "vl", "netns", "west", "type", "veth", "peer", "name", "vr", "netns", "east")
	for _, e := range []struct{ ns, dev, addr, net string }{{"west", "vl", "192.0.2.1/24", "10.1"}, {"east", "vr", "192.0.2.2/24", "10.2"}} {
		lines := []string{"link set lo up", "addr add " + e.addr + " dev " + e.dev, "link set " + e.dev + " up",
			"link add c0 type dummy", "link set c0 up"}
		for i := 1; i <= vmLossConns; i++ {
			lines = append(lines, fmt.Sprintf("addr add %s.%d.1/24 dev c0", e.net, i))
		}
		ipBatch(t, e.ns, lines...)
	}
	netemOn := func() {
		t.Helper()
		for _, e := range [][2]string{{"west", "vl"}, {"east", "vr"}} {
			run(t, "ip", append([]string{"netns", "exec", e[0], "tc", "qdisc", "replace", "dev", e[1], "root"}, vmNetem...)...)
		}
	}
	netemOff := func() {
		t.Helper()
		for _, e := range [][2]string{{"west", "vl"}, {"east", "vr"}} {
			run(t, "ip", "netns", "exec", e[0], "tc", "qdisc", "del", "dev", e[1], "root")
		}
	}
	netemOn()
	t.Logf("tc qdisc in west: %s", strings.TrimSpace(run(t, "ip", "netns", "exec", "west", "tc", "qdisc", "show", "dev", "vl")))
	phase(fmt.Sprintf("namespaces up, netem on both veth ends: %s", strings.Join(vmNetem, " ")))

	hs := map[string]*netlink.Handle{"west": nsHandle(t, "west"), "east": nsHandle(t, "east")}
	secrets := "/run/goswan/loss.secrets"
	os.MkdirAll("/run/goswan", 0o755)
	if err := os.WriteFile(secrets, []byte(fmt.Sprintf("192.0.2.1 192.0.2.2 : PSK %q\n", vmPSK)), 0o600); err != nil {
		t.Fatal(err)
	}
	// The first retransmission after 500 ms, doubling; keyingtries 0: the
	// initiator starts new keying attempts until it succeeds.
	const retransmit = 500 * time.Millisecond
	west := startVMPlutoWith(t, bin, "west", "192.0.2.1", secrets, "--retransmit-interval", retransmit.String())
	east := startVMPlutoWith(t, bin, "east", "192.0.2.2", secrets, "--retransmit-interval", retransmit.String())
	defer func() {
		west.stop(t)
		east.stop(t)
		if t.Failed() {
			t.Logf("west pluto:\n%s\neast pluto:\n%s", west.log, east.log)
		}
	}()
	connArgs := func(i int) []string {
		return []string{"--name", fmt.Sprintf("c%d", i), "--host", "192.0.2.1", "--client", fmt.Sprintf("10.1.%d.0/24", i),
			"--to", "--host", "192.0.2.2", "--client", fmt.Sprintf("10.2.%d.0/24", i), "--psk", "--encrypt", "--tunnel",
			"--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1", "--keyingtries", "0"}
	}
	for i := 1; i <= vmLossConns; i++ {
		for _, p := range []*vmPluto{west, east} {
			if out, code := p.whack(t, connArgs(i)...); code != 0 {
				t.Fatalf("whack add c%d in %s: %d\n%s", i, p.ns, code, out)
			}
		}
	}
	phase(fmt.Sprintf("%d connections added to both plutos (--retransmit-interval %s, --keyingtries 0)", vmLossConns, retransmit))

	// All initiated at once; whack returns when the first keying attempt
	// ends, the daemon keeps trying: the outcome is read from the status.
	start := time.Now()
	var wg sync.WaitGroup
	for i := 1; i <= vmLossConns; i++ {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			exec.Command(filepath.Join(bin, "whack"), "--ctlbase", west.ctlbase, "--name", name, "--initiate").Run()
		}(fmt.Sprintf("c%d", i))
	}
	count := func(status, conn, kind string) int {
		return len(regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("%q", conn))+`:\d+ `+kind+` `).FindAllString(status, -1))
	}
	allUp := func(ws, es string) bool {
		for i := 1; i <= vmLossConns; i++ {
			c := fmt.Sprintf("c%d", i)
			if count(ws, c, "STATE_QUICK_I2") == 0 || count(es, c, "STATE_QUICK_R2") == 0 {
				return false
			}
		}
		return true
	}
	var ws, es string
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		ws, _ = west.whack(t, "--status")
		es, _ = east.whack(t, "--status")
		if allUp(ws, es) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every connection is up 45 s after initiating under loss:\nwest:\n%s\neast:\n%s", ws, es)
		}
	}
	established := time.Since(start)
	phase(fmt.Sprintf("all %d connections established in %.2fs", vmLossConns, established.Seconds()))
	// Late retransmissions and duplicates settle (the half-open timeout is
	// 7 retransmit intervals), then count.
	wg.Wait()
	time.Sleep(8 * retransmit)
	ws, _ = west.whack(t, "--status")
	es, _ = east.whack(t, "--status")
	pairs := map[string][2]int{}
	for i := 1; i <= vmLossConns; i++ {
		c := fmt.Sprintf("c%d", i)
		pairs[c] = [2]int{count(ws, c, "STATE_QUICK_I2"), count(es, c, "STATE_QUICK_R2")}
		if pairs[c] != [2]int{1, 1} {
			t.Errorf("%s: %d IPsec SAs in west's status, %d in east's; want exactly one each", c, pairs[c][0], pairs[c][1])
		}
	}
	// The kernel: 2 ESP states per connection, the same SPIs at both ends,
	// in, fwd and out policies and a route to the peer's client each.
	spis := map[string][]string{}
	for _, ns := range []string{"west", "east"} {
		states, pols, _ := kernelCounts(t, hs[ns], "")
		esp, larval := 0, 0
		for _, s := range states {
			switch {
			case isLarval(s):
				larval++
			case s.Proto == netlink.XFRM_PROTO_ESP && s.Mode == netlink.XFRM_MODE_TUNNEL:
				esp++
				spis[ns] = append(spis[ns], fmt.Sprintf("%08x", uint32(s.Spi)))
			}
		}
		sort.Strings(spis[ns])
		routes := 0
		for i := 1; i <= vmLossConns; i++ {
			peer := fmt.Sprintf("10.2.%d.0/24", i)
			if ns == "east" {
				peer = fmt.Sprintf("10.1.%d.0/24", i)
			}
			_, _, r := kernelCounts(t, hs[ns], peer)
			routes += r
		}
		t.Logf("%s kernel: %d XFRM states (%d ESP tunnel SAs, %d larval SPIs of abandoned attempts), %d policies, %d routes to the peer's clients",
			ns, len(states), esp, larval, pols, routes)
		if len(states)-larval != 2*vmLossConns || esp != 2*vmLossConns || pols != 3*vmLossConns || routes != vmLossConns {
			t.Errorf("%s: %d states (%d ESP), %d policies, %d routes; want %d, %d, %d, %d\n%s", ns, len(states)-larval, esp, pols, routes,
				2*vmLossConns, 2*vmLossConns, 3*vmLossConns, vmLossConns, run(t, "ip", "-n", ns, "xfrm", "state"))
		}
	}
	if fmt.Sprint(spis["west"]) != fmt.Sprint(spis["east"]) {
		t.Errorf("the SPIs differ: west %v, east %v", spis["west"], spis["east"])
	}
	logs := west.log.String() + east.log.String()
	t.Logf("loss: %d connections established in %.2fs; retransmissions: west %d, east %d; keying attempts restarted %d; duplicates answered %d",
		vmLossConns, established.Seconds(), strings.Count(west.log.String(), "retransmission;"), strings.Count(east.log.String(), "retransmission;"),
		strings.Count(west.log.String(), "starting keying attempt"), strings.Count(logs, "retransmitting in response to duplicate packet"))
	t.Logf("loss: IPsec SA pairs per connection in whack --status (west, east): %v; ESP states west %d, east %d; ISAKMP SAs west %d, east %d",
		pairs, len(spis["west"]), len(spis["east"]), strings.Count(ws, "STATE_MAIN_I4"), strings.Count(es, "STATE_MAIN_R3"))
	t.Logf("loss: netem %s; %s", netemStats(t, "west", "vl"), netemStats(t, "east", "vr"))
	if t.Failed() {
		t.Fatalf("west status:\n%s\neast status:\n%s", ws, es)
	}
	phase("exactly one IPsec SA pair per connection (status and kernel, same SPIs)")

	// Traffic under the loss: 10 pings through each tunnel at once; some
	// are lost, but each tunnel carries some ESP.
	type res struct{ sent, got int }
	results := make([]res, vmLossConns+1)
	var pw sync.WaitGroup
	for i := 1; i <= vmLossConns; i++ {
		pw.Add(1)
		go func(i int) {
			defer pw.Done()
			s, g, _ := lossPing(i, 10, "1")
			results[i] = res{s, g}
		}(i)
	}
	pw.Wait()
	lossy := ""
	total := 0
	for i := 1; i <= vmLossConns; i++ {
		lossy += fmt.Sprintf(" c%d %d/%d", i, results[i].got, results[i].sent)
		total += results[i].got
	}
	t.Logf("loss: pings answered under netem:%s", lossy)
	if total == 0 {
		t.Errorf("no ping went through any tunnel under the loss")
	}
	phase("pings through the tunnels under the loss")

	// netem off: a clean ping through each tunnel, counted by its SAs.
	netemOff()
	before := map[string]map[uint32]netlink.XfrmState{"west": vmSAs(t, hs["west"]), "east": vmSAs(t, hs["east"])}
	for i := 1; i <= vmLossConns; i++ {
		if s, g, out := lossPing(i, 3, "2"); s != 3 || g != 3 {
			t.Errorf("c%d: ping 10.1.%d.1 -> 10.2.%d.1 without netem: %d of %d answered\n%s", i, i, i, g, s, out)
		}
	}
	for _, ns := range []string{"west", "east"} {
		after := vmSAs(t, hs[ns])
		for spi, s := range after {
			b, ok := before[ns][spi]
			if !ok || s.Statistics.Packets < b.Statistics.Packets+3 {
				t.Errorf("%s: SA 0x%08x counted %d packets after the clean pings (%d before), want 3 more", ns, spi, s.Statistics.Packets, b.Statistics.Packets)
			}
		}
	}
	t.Logf("ip -n west -s xfrm state:\n%s", run(t, "ip", "-n", "west", "-s", "xfrm", "state"))
	phase("netem removed: 3 of 3 pings through each tunnel, every SA counted them")

	west.stop(t)
	east.stop(t)
	waitEmpty(t, "after SIGTERM", hs)
	phase("both plutos stopped, nothing left")

	// charon's own recovery under this loss is slow and at times exceeds
	// the test's bound (a 70 s run with its IKE_SA started anew seen after
	// 6 passes), so CI runs the two-pluto part only.
	if os.Getenv("GOSWAN_VM_LOSS_STRONGSWAN") != "1" {
		t.Log("strongSwan under the loss: not run (GOSWAN_VM_LOSS_STRONGSWAN=1 runs it)")
		return
	}
	vmLossStrongSwan(t, bin, secrets, hs, connArgs, netemOn, netemOff)
	phase("strongSwan (kernel backend) under the loss: charon initiating 4 children")
}

// vmLossStrongSwan: charon in east initiates its four children under the
// loss (one after another) and our pluto in west responds; each child must
// end with one SA pair at both ends. With GOSWAN_VM_LOSS_CHARON_RESPONDS=1,
// then our pluto initiates four connections at once and charon responds:
// not run by default, it failed in 4 runs of 6. Our pluto negotiates one
// ISAKMP SA per connection (4 Main Modes at once, more with restarted
// keying attempts); charon takes each new one with the same identities
// for a reauthentication, moves the children into it and deletes the
// older IKE_SAs, at times with children, and those Deletes (never
// acknowledged in IKEv1) are lost at 30%: children stay up on our side
// only. (Openswan's pluto would queue the other connections' Quick Modes
// on the first Phase 1 to the same peer; ours does not.)
func vmLossStrongSwan(t *testing.T, bin, secrets string, hs map[string]*netlink.Handle, connArgs func(int) []string, netemOn, netemOff func()) {
	t.Helper()
	dir := "/run/goswan/ss-loss"
	// charon retransmits after 1 s, 1.4 s, 2 s, 2.7 s, then every 3 s
	// (its default, 4 s growing by 1.8 up to 5 tries, takes minutes at 30%
	// loss each way: about half the round trips fail).
	retransmit := "retransmit_tries = 12\n    retransmit_timeout = 1.0\n    retransmit_base = 1.4\n    retransmit_limit = 3"
	children := ""
	for i := 1; i <= vmLossConns; i++ {
		children += fmt.Sprintf(`            c%d {
                local_ts = 10.2.%d.0/24
                remote_ts = 10.1.%d.0/24
                esp_proposals = aes128-sha1
                mode = tunnel
                start_action = none
            }
`, i, i, i)
	}
	swanctl, stop := vmCharon(t, "east", dir, retransmit, fmt.Sprintf(`connections {
    loss {
        version = 1
        local_addrs = 192.0.2.2
        remote_addrs = 192.0.2.1
        proposals = aes128-sha1-modp2048
        dpd_delay = 0
        keyingtries = 0
        local {
            auth = psk
            id = 192.0.2.2
        }
        remote {
            auth = psk
            id = 192.0.2.1
        }
        children {
%s        }
    }
}
secrets {
    ike-psk {
        id-a = 192.0.2.2
        id-b = 192.0.2.1
        secret = "%s"
    }
}
`, children, vmPSK))
	defer stop()
	readLog := func() string { b, _ := os.ReadFile(filepath.Join(dir, "charon.log")); return string(b) }
	// Our pluto's first-message responder state lives 3 retransmit
	// intervals and a half-open one 7: as the responder it gets 2 s (6 s,
	// 14 s) for charon's schedule above, which 500 ms (1.5 s) is too
	// short for (charon's MI2 then goes to a state we dropped, in vain,
	// until it gives up after 30 s). As the initiator, 500 ms as before.
	interval := map[string]string{"strongSwan": "2s", "pluto": "500ms"}
	var west *vmPluto
	defer func() {
		if west != nil {
			west.stop(t)
			if t.Failed() {
				t.Logf("west pluto (against strongSwan):\n%s", west.log)
			}
		}
	}()
	kind := map[string]string{"strongSwan": "STATE_QUICK_R2", "pluto": "STATE_QUICK_I2"}
	count := func(status, conn, role string) int {
		return len(regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("%q", conn))+`:\d+ `+kind[role]+` `).FindAllString(status, -1))
	}
	// Each role in turn: the initiator starts all four at once under the
	// loss; every child ends with one SA pair at both ends.
	// Charon initiating: IKEv1's last Quick Mode message (QI2) is not
	// acknowledged; when the loss takes it, our QUICK_R1 resends QR1
	// (every 2 intervals, 10 times) and charon answers with its last
	// request, which is that QI2 only while it has not started its next
	// Quick Mode (then it sends the wrong one, later fails to decrypt: the
	// child stays half up on our side). Hence its children one after
	// another, with a window each.
	roles := []string{"strongSwan"}
	if os.Getenv("GOSWAN_VM_LOSS_CHARON_RESPONDS") == "1" {
		roles = append(roles, "pluto")
	}
	for _, role := range roles {
		if west != nil {
			west.stop(t)
		}
		west = startVMPlutoWith(t, bin, "west", "192.0.2.1", secrets, "--retransmit-interval", interval[role])
		for i := 1; i <= vmLossConns; i++ {
			if out, code := west.whack(t, connArgs(i)...); code != 0 {
				t.Fatalf("whack add c%d: %d\n%s", i, code, out)
			}
		}
		netemOn()
		logBefore := len(west.log.String())
		charonBefore := strings.Count(readLog(), "sending retransmit")
		blockedBefore := strings.Count(readLog(), "half-open IKE_SA limit")
		start := time.Now()
		var wg sync.WaitGroup
		if role == "strongSwan" {
			// charon runs one IKEv1 exchange at a time and, when our Quick
			// Mode reply is retransmitted because its last message was lost,
			// resends its last request: with children queued that is the
			// next Quick Mode's first message, not the lost one, and the
			// child stays half up on our side (seen with 4 children
			// initiated at once). So its children go one after another:
			// the next once ours is established.
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 1; i <= vmLossConns; i++ {
					c := fmt.Sprintf("c%d", i)
					swanctl("--initiate", "--child", c, "--timeout", "30")
					for deadline := time.Now().Add(25 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
						st, _ := exec.Command(filepath.Join(bin, "whack"), "--ctlbase", west.ctlbase, "--status").Output()
						if count(string(st), c, role) > 0 {
							break
						}
					}
				}
			}()
		} else {
			for i := 1; i <= vmLossConns; i++ {
				wg.Add(1)
				go func(c string) {
					defer wg.Done()
					exec.Command(filepath.Join(bin, "whack"), "--ctlbase", west.ctlbase, "--name", c, "--initiate").Run()
				}(fmt.Sprintf("c%d", i))
			}
		}
		var ws string
		limit := map[string]time.Duration{"strongSwan": 70 * time.Second, "pluto": 40 * time.Second}[role]
		for deadline := time.Now().Add(limit); ; time.Sleep(250 * time.Millisecond) {
			ws, _ = west.whack(t, "--status")
			n := 0
			for i := 1; i <= vmLossConns; i++ {
				if count(ws, fmt.Sprintf("c%d", i), role) > 0 {
					n++
				}
			}
			if n == vmLossConns && len(vmSAs(t, hs["east"])) >= 2*vmLossConns {
				break
			}
			if time.Now().After(deadline) {
				sas, _ := swanctl("--list-sas")
				t.Fatalf("%s initiating: not every child is up %s after initiating under loss:\nour status:\n%s\nswanctl --list-sas:\n%s", role, limit, ws, sas)
			}
		}
		established := time.Since(start)
		wg.Wait()
		time.Sleep(3 * time.Second) // late retransmissions and duplicates settle
		netemOff()
		ws, _ = west.whack(t, "--status")
		sas, _ := swanctl("--list-sas")
		t.Logf("swanctl --list-sas (%s initiated):\n%s", role, sas)
		for i := 1; i <= vmLossConns; i++ {
			if n := count(ws, fmt.Sprintf("c%d", i), role); n != 1 {
				t.Errorf("%s initiating: c%d: %d IPsec SAs in our status, want 1", role, i, n)
			}
			if s, g, out := lossPing(i, 3, "2"); s != 3 || g != 3 {
				t.Errorf("%s initiating: c%d: ping without netem: %d of %d answered\n%s", role, i, g, s, out)
			}
		}
		installed := strings.Count(sas, "INSTALLED, TUNNEL")
		wEsp, eEsp := vmSAs(t, hs["west"]), vmSAs(t, hs["east"])
		if installed != vmLossConns || len(wEsp) != 2*vmLossConns || len(eEsp) != 2*vmLossConns {
			t.Errorf("%s initiating: %d CHILD_SAs installed in charon, ESP states west %d, east %d; want %d, %d, %d",
				role, installed, len(wEsp), len(eEsp), vmLossConns, 2*vmLossConns, 2*vmLossConns)
		}
		for spi, s := range eEsp {
			if _, ok := wEsp[spi]; !ok || s.Statistics.Packets < 3 {
				t.Errorf("%s initiating: charon's SA 0x%08x: in west too %v, %d packets (want >= 3)", role, spi, ok, s.Statistics.Packets)
			}
		}
		ours := west.log.String()[logBefore:]
		t.Logf("loss (strongSwan run, %s initiating; our --retransmit-interval %s): %d children established in %.2fs; charon retransmissions %d (first messages it ignored at its per-IP half-open limit %d), ours %d, keying attempts restarted %d, duplicates we answered %d; IKE SAs in charon %d, CHILD_SAs %d, ESP SAs west %d, east %d (larval SPIs of abandoned attempts west %d, east %d)",
			role, interval[role], vmLossConns, established.Seconds(), strings.Count(readLog(), "sending retransmit")-charonBefore,
			strings.Count(readLog(), "half-open IKE_SA limit")-blockedBefore, strings.Count(ours, "retransmission;"),
			strings.Count(ours, "starting keying attempt"), strings.Count(ours, "retransmitting in response to duplicate packet"),
			strings.Count(sas, "ESTABLISHED, IKEv1"), installed, len(wEsp), len(eEsp),
			len(espStates(t, hs["west"]))-len(wEsp), len(espStates(t, hs["east"]))-len(eEsp))
		if t.Failed() {
			return
		}
		if role != roles[len(roles)-1] {
			if out, err := swanctl("--terminate", "--ike", "loss", "--timeout", "20"); err != nil {
				t.Fatalf("swanctl --terminate: %v\n%s", err, out)
			}
			waitEmpty(t, "strongSwan: after charon's terminate", hs)
		}
	}
}
