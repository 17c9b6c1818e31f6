package pluto

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"net/netip"

	"goswan/routing"
)

// The manual's route/eroute rules (routing.Table) as whack and the peers
// see them.

// addNamed adds a tunnel connection name between td (ip, port, client,
// and the end options this) and a peer (ip, port, client); extra
// connection options are appended.
func addNamed(t *testing.T, td *testDaemon, name, ip string, port int, client string, this []string, peerIP string, peerPort int, peerClient string, extra ...string) {
	t.Helper()
	args := []string{"--name", name, "--host", ip, "--ikeport", itoa(port), "--client", client}
	args = append(append(args, this...), "--to", "--host", peerIP, "--ikeport", itoa(peerPort), "--client", peerClient,
		"--psk", "--encrypt", "--tunnel")
	if out, code := td.whack(t, append(args, extra...)...); code != 0 {
		t.Fatalf("add %s: exit %d\n%s", name, code, out)
	}
}

// routingOf returns the routing word whack --status shows for a
// connection ("prospective erouted") and its eroute owner.
func routingOf(t *testing.T, td *testDaemon, name string) string {
	t.Helper()
	st, _ := td.whack(t, "--status")
	re := regexp.MustCompile(`(?m)^000 "` + regexp.QuoteMeta(name) + `": [^;]*; ([^;]*); eroute owner: (#\d+)$`)
	m := re.FindStringSubmatch(st)
	if m == nil {
		t.Fatalf("no status line for %q:\n%s", name, st)
	}
	return m[1] + " " + m[2]
}

func wantRouting(t *testing.T, td *testDaemon, name, want string) {
	t.Helper()
	if got := routingOf(t, td, name); got != want && !(strings.HasSuffix(want, "#") && strings.HasPrefix(got, want)) {
		t.Errorf("%s: %q routing %q, want %q", td.addr, name, got, want)
	}
}

func mustWhack(t *testing.T, td *testDaemon, args ...string) string {
	t.Helper()
	out, code := td.whack(t, args...)
	if code != 0 {
		t.Fatalf("whack %s: exit %d\n%s\nlog:\n%s", strings.Join(args, " "), code, out, td.log)
	}
	return out
}

// TestUnrouteBusy: --unroute is refused while an IPsec SA uses the
// connection, and allowed after --terminate; a connection routed by
// --route goes back to its trap when its SA goes.
func TestUnrouteBusy(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	addConn(t, west, west, east)
	addConn(t, east, west, east)
	wantRouting(t, west, "west-east", "unrouted #0")
	mustWhack(t, west, "--name", "west-east", "--route")
	wantRouting(t, west, "west-east", "prospective erouted #0")
	k := west.d.kernel.(*routing.NoStack)
	if k.Routed() != 1 {
		t.Errorf("nostack: %d traps after --route", k.Routed())
	}
	checkTranscript(t, mustWhack(t, west, "--name", "west-east", "--initiate"))
	wantRouting(t, west, "west-east", "erouted #2")
	wantRouting(t, east, "west-east", "erouted #2")

	for _, td := range []*testDaemon{west, east} {
		out, code := td.whack(t, "--name", "west-east", "--unroute")
		if code != 26 || !strings.Contains(out, `026 "west-east": cannot unroute: route busy`) {
			t.Errorf("%s: --unroute with an IPsec SA up: exit %d\n%s", td.addr, code, out)
		}
		wantRouting(t, td, "west-east", "erouted #2")
	}
	if k.Installed() != 1 {
		t.Errorf("nostack: %d SAs after the refused --unroute", k.Installed())
	}

	mustWhack(t, west, "--name", "west-east", "--terminate")
	wantRouting(t, west, "west-east", "prospective erouted #0") // back to the trap
	mustWhack(t, west, "--name", "west-east", "--unroute")
	wantRouting(t, west, "west-east", "unrouted #0")
	if k.Routed() != 0 || k.Installed() != 0 {
		t.Errorf("nostack after --unroute: %d traps, %d SAs", k.Routed(), k.Installed())
	}
	// East was routed only for its SA: unrouted with it (the Delete
	// notification has arrived by now or shortly).
	if st, ok := waitStatus(t, east, 2*time.Second, func(s string) bool { return strings.Contains(s, "; unrouted; eroute owner: #0") }); !ok {
		t.Errorf("east still routed after the peer's Delete:\n%s", st)
	}
}

// TestRouteRefused: ISAKMP-only connections and %any templates cannot be
// routed; pluto says so in its words, with exit status 25.
func TestRouteRefused(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 0)
	mustWhack(t, west, "--name", "isakmp", "--host", "127.0.0.1", "--ikeport", itoa(west.port),
		"--to", "--host", "127.0.0.2", "--psk")
	mustWhack(t, west, "--name", "rw", "--host", "127.0.0.1", "--ikeport", itoa(west.port), "--client", "10.1.0.0/24",
		"--to", "--host", "%any", "--psk", "--encrypt", "--tunnel")
	for _, c := range []struct{ name, want string }{
		{"isakmp", `025 "isakmp": cannot route an ISAKMP-only connection`},
		{"rw", `025 "rw": cannot route template policy of PSK+ENCRYPT+TUNNEL+UP`},
	} {
		out, code := west.whack(t, "--name", c.name, "--route")
		if code != 25 || !strings.Contains(out, c.want) || !strings.Contains(out, `025 "`+c.name+`": could not route`) {
			t.Errorf("--route %s: exit %d\n%s\nwant %q", c.name, code, out, c.want)
		}
		wantRouting(t, west, c.name, "unrouted #0")
	}
	if k := west.d.kernel.(*routing.NoStack); k.Routed() != 0 {
		t.Errorf("nostack: %d traps", k.Routed())
	}
}

// TestRouteConflict: two connections on west for the peer client subnet
// 10.2.0.0/24 through different peers. Routing one takes the other's route
// down while no IPsec SA uses it, and is refused once one does. A third
// connection through the same peer shares the route, which stays when it
// is unrouted.
func TestRouteConflict(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("updown: no /bin/sh")
	}
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	log := filepath.Join(t.TempDir(), "updown")
	addNamed(t, west, "a", "127.0.0.1", west.port, "10.1.0.0/24", nil, "127.0.0.2", east.port, "10.2.0.0/24")
	addNamed(t, west, "b", "127.0.0.1", west.port, "10.1.1.0/24", nil, "127.0.0.3", 500, "10.2.0.0/24")
	addNamed(t, west, "c", "127.0.0.1", west.port, "10.1.2.0/24", []string{"--updown", updownLog(log)}, "127.0.0.2", east.port, "10.2.0.0/24")
	addNamed(t, east, "a", "127.0.0.2", east.port, "10.2.0.0/24", nil, "127.0.0.1", west.port, "10.1.0.0/24")
	// Alone, c has a route of its own.
	mustWhack(t, west, "--name", "c", "--route")
	mustWhack(t, west, "--name", "c", "--unroute")
	verbs := func() string {
		b, _ := os.ReadFile(log)
		var v []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(l); len(f) > 0 {
				v = append(v, f[0])
			}
		}
		return strings.Join(v, " ")
	}
	const alone = "prepare-client route-client unroute-client"
	if got := verbs(); got != alone {
		t.Errorf("c routed alone: updown %q, want %q", got, alone)
	}

	mustWhack(t, west, "--name", "a", "--route")
	mustWhack(t, west, "--name", "b", "--route")
	wantRouting(t, west, "a", "unrouted #0")
	wantRouting(t, west, "b", "prospective erouted #0")
	mustWhack(t, west, "--name", "a", "--route")
	wantRouting(t, west, "a", "prospective erouted #0")
	wantRouting(t, west, "b", "unrouted #0")
	if k := west.d.kernel.(*routing.NoStack); k.Routed() != 1 {
		t.Errorf("nostack: %d traps, want 1", k.Routed())
	}

	checkTranscriptNamed(t, mustWhack(t, west, "--name", "a", "--initiate"), "a")
	wantRouting(t, west, "a", "erouted #2")
	out, code := west.whack(t, "--name", "b", "--route")
	if code != 25 || !strings.Contains(out, `003 "b": cannot route -- route already in use for "a"`) ||
		!strings.Contains(out, `025 "b": could not route`) {
		t.Errorf("--route b while a has an IPsec SA: exit %d\n%s", code, out)
	}
	wantRouting(t, west, "a", "erouted #2")
	wantRouting(t, west, "b", "unrouted #0")

	// c agrees with a on the route: it shares it (no route-client of its
	// own), and leaves it in place when unrouted (no unroute-client).
	mustWhack(t, west, "--name", "c", "--route")
	wantRouting(t, west, "c", "prospective erouted #0")
	mustWhack(t, west, "--name", "c", "--unroute")
	wantRouting(t, west, "c", "unrouted #0")
	wantRouting(t, west, "a", "erouted #2")
	if got := verbs(); got != alone {
		t.Errorf("c ran updown for a shared route: %q", got)
	}

	// whack --delete a: its SA and route go with it; b may be routed.
	mustWhack(t, west, "--name", "a", "--delete")
	mustWhack(t, west, "--name", "b", "--route")
	wantRouting(t, west, "b", "prospective erouted #0")
	if k := west.d.kernel.(*routing.NoStack); k.Routed() != 1 || k.Installed() != 0 {
		t.Errorf("nostack after deleting a: %d traps, %d SAs; want 1, 0", k.Routed(), k.Installed())
	}
	var names []string
	west.d.Do(func() { names = west.d.kg.table.Names() })
	if strings.Join(names, " ") != "b c" {
		t.Errorf("routing table after deleting a: %q", names)
	}
}

// checkTranscriptNamed is checkTranscript for a connection not named
// west-east.
func checkTranscriptNamed(t *testing.T, out, name string) {
	t.Helper()
	checkTranscript(t, strings.ReplaceAll(out, `"`+name+`"`, `"west-east"`))
}

// pskFor is a secrets file for the given pairs of addresses.
func pskFor(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString(pairs[i] + " " + pairs[i+1] + " : PSK \"harness-psk-0123456789\"\n")
	}
	return b.String()
}

// TestErouteConflictResponder: east has two connections with identical
// clients to different peers through the same nexthop (so their routes
// agree). Once the first has an IPsec SA, the second's Quick Mode fails on
// east: the eroute is in use, nothing is installed, nothing is sent back.
func TestErouteConflictResponder(t *testing.T) {
	const rt = 40 * time.Millisecond
	secrets := pskFor("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.2")
	east := startDaemon(t, "127.0.0.2", secrets, rt)
	west1 := startDaemon(t, "127.0.0.1", secrets, rt)
	west3 := startDaemon(t, "127.0.0.3", secrets, rt)
	for _, w := range []struct {
		td   *testDaemon
		name string
	}{{west1, "a"}, {west3, "b"}} {
		addNamed(t, east, w.name, "127.0.0.2", east.port, "10.2.0.0/24", []string{"--nexthop", "127.0.0.9"}, w.td.addr, w.td.port, "10.1.0.0/24")
		addNamed(t, w.td, w.name, w.td.addr, w.td.port, "10.1.0.0/24", nil, "127.0.0.2", east.port, "10.2.0.0/24", "--keyingtries", "1")
	}
	checkTranscriptNamed(t, mustWhack(t, west1, "--name", "a", "--initiate"), "a")
	wantRouting(t, east, "a", "erouted #")

	out, code := west3.whack(t, "--name", "b", "--initiate")
	if code == 0 || strings.Contains(out, "IPsec SA established") {
		t.Fatalf("b established despite the eroute conflict: exit %d\n%s", code, out)
	}
	elog := east.log.String()
	if !regexp.MustCompile(`"b" #\d+: state transition function for STATE_QUICK_R0 had internal error: cannot install eroute -- it is in use for "a" #\d+`).MatchString(elog) {
		t.Errorf("east log lacks the eroute refusal:\n%s", elog)
	}
	if strings.Contains(elog, "STATE_QUICK_R1") && regexp.MustCompile(`"b" #\d+: STATE_QUICK_R1`).MatchString(elog) {
		t.Errorf("east answered b's Quick Mode:\n%s", elog)
	}
	wantRouting(t, east, "a", "erouted #")
	wantRouting(t, east, "b", "unrouted #0")
	if n := east.d.kernel.(*routing.NoStack).Installed(); n != 1 {
		t.Errorf("east has %d SA pairs installed, want a's only", n)
	}
	if st, _ := east.whack(t, "--status"); regexp.MustCompile(`"b":\d+ STATE_QUICK`).MatchString(st) {
		t.Errorf("a Quick Mode state of b is left on east:\n%s", st)
	}
}

// TestRouteReleaseResponder: the manual's exception. Without the common
// nexthop, b's route (to the fixed client subnet 10.1.0.0/24) conflicts
// with a's; east as responder deletes a's SAs to make room for b's.
func TestRouteReleaseResponder(t *testing.T) {
	const rt = 40 * time.Millisecond
	secrets := pskFor("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.2")
	east := startDaemon(t, "127.0.0.2", secrets, rt)
	west1 := startDaemon(t, "127.0.0.1", secrets, rt)
	west3 := startDaemon(t, "127.0.0.3", secrets, rt)
	for _, w := range []struct {
		td   *testDaemon
		name string
	}{{west1, "a"}, {west3, "b"}} {
		addNamed(t, east, w.name, "127.0.0.2", east.port, "10.2.0.0/24", nil, w.td.addr, w.td.port, "10.1.0.0/24")
		addNamed(t, w.td, w.name, w.td.addr, w.td.port, "10.1.0.0/24", nil, "127.0.0.2", east.port, "10.2.0.0/24", "--keyingtries", "1")
	}
	checkTranscriptNamed(t, mustWhack(t, west1, "--name", "a", "--initiate"), "a")
	checkTranscriptNamed(t, mustWhack(t, west3, "--name", "b", "--initiate"), "b")
	if !strings.Contains(east.log.String(), `route to peer's client conflicts with "a" 127.0.0.1; releasing old connection to free the route`) {
		t.Errorf("east log:\n%s", east.log)
	}
	wantRouting(t, east, "a", "unrouted #0")
	wantRouting(t, east, "b", "erouted #")
	if n := east.d.kernel.(*routing.NoStack).Installed(); n != 1 {
		t.Errorf("east has %d SA pairs installed, want b's only", n)
	}
	if st, _ := east.whack(t, "--status"); regexp.MustCompile(`"a":\d+ STATE_`).MatchString(st) {
		t.Errorf("a's states are left on east:\n%s", st)
	}
	// West1 heard of it (Delete notifications).
	if st, ok := waitStatus(t, west1, 2*time.Second, func(s string) bool { return !strings.Contains(s, "STATE_QUICK_I2") }); !ok {
		t.Errorf("west1 still has its IPsec SA:\n%s", st)
	}
}

// acqKernel is a nostack kernel that reports ACQUIREs when the test says.
type acqKernel struct {
	*routing.NoStack
	mu sync.Mutex
	f  func(routing.Acquire)
}

func (k *acqKernel) WatchAcquire(f func(routing.Acquire)) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.f = f
	return nil
}

func (k *acqKernel) acquire(t *testing.T, reqid uint32) {
	t.Helper()
	k.mu.Lock()
	f := k.f
	k.mu.Unlock()
	if f == nil {
		t.Fatal("ACQUIREs are not watched")
	}
	f(routing.Acquire{ReqID: reqid, Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"), Proto: 1})
}

// TestAcquireRouteStates: traffic caught by the trap starts a negotiation
// (erouted HOLD while it runs); one that gives up puts the trap back (the
// machine tells the daemon, fsm.FailureWatcher: nothing else looks); one
// that succeeds erouts the connection.
func TestAcquireRouteStates(t *testing.T) {
	const rt = 40 * time.Millisecond
	west := startDaemon(t, "127.0.0.1", psk, rt)
	east := startDaemon(t, "127.0.0.2", psk, rt)
	k := &acqKernel{NoStack: routing.NewNoStack()}
	west.d.Do(func() { west.d.kernel = k })
	addConn(t, west, west, east, "--keyingtries", "1")
	addConn(t, east, west, east)
	// lost's peer does not answer.
	addNamed(t, west, "lost", "127.0.0.1", west.port, "10.1.0.0/24", nil, "127.0.0.3", 500, "10.3.0.0/24", "--keyingtries", "1")
	mustWhack(t, west, "--name", "west-east", "--route")
	mustWhack(t, west, "--name", "lost", "--route")
	var weReq, lostReq uint32
	west.d.Do(func() { weReq, lostReq = west.d.kg.reqids.Get("west-east"), west.d.kg.reqids.Get("lost") })

	k.acquire(t, lostReq)
	wantRouting(t, west, "lost", "erouted HOLD #0")
	k.acquire(t, lostReq) // nothing more while it negotiates
	if st, ok := waitStatus(t, west, 2*time.Second, func(s string) bool {
		return strings.Contains(s, `"lost": 10.1.0.0/24===127.0.0.1`) && strings.Contains(s, "; prospective erouted; eroute owner: #0") &&
			!strings.Contains(s, `"lost":500 STATE_`)
	}); !ok {
		t.Errorf("lost did not go back to its trap:\n%s", st)
	}
	wantRouting(t, west, "lost", "prospective erouted #0")
	if n := strings.Count(west.log.String(), `"lost": initiate on demand`); n != 1 {
		t.Errorf("%d negotiations on demand for lost, want 1:\n%s", n, west.log)
	}

	k.acquire(t, weReq)
	if st, ok := waitStatus(t, west, 2*time.Second, func(s string) bool { return strings.Contains(s, "STATE_QUICK_I2") }); !ok {
		t.Fatalf("no IPsec SA on demand:\n%s\nlog:\n%s", st, west.log)
	}
	wantRouting(t, west, "west-east", "erouted #")
	if !strings.Contains(west.log.String(), `"west-east": initiate on demand from 10.1.0.1:0 to 10.2.0.1:0 proto=1 because: acquire`) {
		t.Errorf("log:\n%s", west.log)
	}
}
