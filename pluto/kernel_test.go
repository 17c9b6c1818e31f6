package pluto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"goswan/routing"
	"goswan/spec"
)

// updownLog is an --updown command appending the verb and a few variables
// to a file.
func updownLog(file string) string {
	return fmt.Sprintf(`echo "$PLUTO_VERB $PLUTO_CONNECTION $PLUTO_ME $PLUTO_PEER $PLUTO_MY_CLIENT $PLUTO_PEER_CLIENT $PLUTO_SA_REQID $PLUTO_STACK" >> %s`, file)
}

// waitLines waits until file has n lines and returns them.
func waitLines(t *testing.T, file string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(file)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(b) == 0 {
			lines = nil
		}
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUpdownCalls(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("updown: no /bin/sh")
	}
	dir := t.TempDir()
	wf, ef := filepath.Join(dir, "west"), filepath.Join(dir, "east")
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	conn := func(td *testDaemon) {
		args := []string{"--name", "west-east",
			"--host", west.addr, "--ikeport", fmt.Sprint(west.port), "--client", "10.1.0.0/24", "--updown", updownLog(wf),
			"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--client", "10.2.0.0/24", "--updown", updownLog(ef),
			"--psk", "--encrypt", "--tunnel"}
		if out, code := td.whack(t, args...); code != 0 {
			t.Fatalf("add: %d\n%s", code, out)
		}
	}
	conn(west)
	conn(east)
	if out, code := west.whack(t, "--name", "west-east", "--initiate"); code != 0 {
		t.Fatalf("initiate: %d\n%s", code, out)
	}
	rest := " west-east 127.0.0.1 127.0.0.2 10.1.0.0/24 10.2.0.0/24 16384 nostack"
	want := []string{"prepare-client" + rest, "route-client" + rest, "up-client" + rest}
	if got := waitLines(t, wf, 3); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("west updown calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	erest := " west-east 127.0.0.2 127.0.0.1 10.2.0.0/24 10.1.0.0/24 16384 nostack"
	ewant := []string{"prepare-client" + erest, "route-client" + erest, "up-client" + erest}
	if got := waitLines(t, ef, 3); strings.Join(got, "\n") != strings.Join(ewant, "\n") {
		t.Errorf("east updown calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(ewant, "\n"))
	}
	west.whack(t, "--name", "west-east", "--terminate")
	if got := waitLines(t, wf, 5); len(got) != 5 || got[3] != "down-client"+rest || got[4] != "unroute-client"+rest {
		t.Errorf("west after terminate:\n%s", strings.Join(got, "\n"))
	}
	if got := waitLines(t, ef, 5); len(got) != 5 || got[3] != "down-client"+erest || got[4] != "unroute-client"+erest {
		t.Errorf("east after the peer's Delete:\n%s", strings.Join(got, "\n"))
	}

	// whack --route runs prepare and route (no SA: no reqid yet in the
	// SA sense, but the connection's); an SA then only runs up and down;
	// --unroute runs unroute.
	west.whack(t, "--name", "west-east", "--route")
	west.whack(t, "--name", "west-east", "--initiate")
	west.whack(t, "--name", "west-east", "--terminate")
	west.whack(t, "--name", "west-east", "--unroute")
	got := waitLines(t, wf, 10)
	var verbs []string
	for _, l := range got[5:] {
		verbs = append(verbs, strings.Fields(l)[0])
	}
	if strings.Join(verbs, " ") != "prepare-client route-client up-client down-client unroute-client" {
		t.Errorf("routed connection's updown verbs: %v", verbs)
	}
	if k := west.d.kernel.(*routing.NoStack); k.Installed() != 0 || k.Routed() != 0 {
		t.Errorf("nostack: %d installed, %d routed", k.Installed(), k.Routed())
	}
}

func TestUpdownFailure(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("updown: no /bin/sh")
	}
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	for _, td := range []*testDaemon{west, east} {
		args := []string{"--name", "west-east",
			"--host", west.addr, "--ikeport", fmt.Sprint(west.port), "--client", "10.1.0.0/24", "--updown", "echo oops; exit 1",
			"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--client", "10.2.0.0/24",
			"--psk", "--encrypt", "--tunnel"}
		if out, code := td.whack(t, args...); code != 0 {
			t.Fatalf("add: %d\n%s", code, out)
		}
	}
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 0 {
		t.Fatalf("a failing updown must not fail the SA: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		`003 "west-east" #2: updown command returned an error (up-client: exit status 1)`,
		`000 "west-east" #2: up-client output: oops`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("whack output lacks %q:\n%s", want, out)
		}
	}
	checkTranscript(t, out)
	if !strings.Contains(west.log.String(), `"west-east" #2: updown command returned an error (prepare-client: exit status 1)`) {
		t.Errorf("log:\n%s", west.log)
	}
	// Without a state, the whack that asked sees it.
	west.whack(t, "--name", "west-east", "--terminate")
	out, code = west.whack(t, "--name", "west-east", "--route")
	if code != 0 || !strings.Contains(out, `003 "west-east": updown command returned an error (route-client: exit status 1)`) {
		t.Errorf("route: exit %d\n%s", code, out)
	}
}

// spiKernel records the addresses AllocSPI is given.
type spiKernel struct {
	*routing.NoStack
	mu    sync.Mutex
	addrs []string
}

func (k *spiKernel) AllocSPI(proto spec.ProtocolID, src, dst netip.Addr) []byte {
	k.mu.Lock()
	k.addrs = append(k.addrs, fmt.Sprintf("%s %s->%s", proto, src, dst))
	k.mu.Unlock()
	return k.NoStack.AllocSPI(proto, src, dst)
}

// TestAllocSPIAddresses: the kernel allocates each SPI for the SA it will
// be used in, from the peer to us (XFRM_MSG_ALLOCSPI needs them).
func TestAllocSPIAddresses(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	wk, ek := &spiKernel{NoStack: routing.NewNoStack()}, &spiKernel{NoStack: routing.NewNoStack()}
	west.d.Do(func() { west.d.kernel = wk })
	east.d.Do(func() { east.d.kernel = ek })
	addConn(t, west, west, east)
	addConn(t, east, west, east)
	if out, code := west.whack(t, "--name", "west-east", "--initiate"); code != 0 {
		t.Fatalf("initiate: %d\n%s", code, out)
	}
	// A second Quick Mode on the ISAKMP SA starts at once from whack.
	if out, code := west.whack(t, "--name", "west-east", "--initiate"); code != 0 {
		t.Fatalf("initiate: %d\n%s", code, out)
	}
	for _, c := range []struct {
		k    *spiKernel
		want string
	}{{wk, "PROTO_IPSEC_ESP 127.0.0.2->127.0.0.1"}, {ek, "PROTO_IPSEC_ESP 127.0.0.1->127.0.0.2"}} {
		c.k.mu.Lock()
		if len(c.k.addrs) != 2 || c.k.addrs[0] != c.want || c.k.addrs[1] != c.want {
			t.Errorf("AllocSPI calls %q, want 2 x %q", c.k.addrs, c.want)
		}
		c.k.mu.Unlock()
	}
}

// failKernel is nostack refusing its failAt-th Install as a kernel
// without ESP would (what XFRM's Install undid is not recorded).
type failKernel struct {
	*routing.NoStack
	mu       sync.Mutex
	failAt   int
	installs int
	deleted  []uint32 // inbound SPIs
}

func (k *failKernel) Install(sa *routing.KernelSA, inboundOnly bool) error {
	k.mu.Lock()
	k.installs++
	fail := k.installs == k.failAt
	k.mu.Unlock()
	if fail {
		return fmt.Errorf("kernel: cannot add ESP SA 0x%08x (%s->%s): protocol not supported (no ESP in this kernel?)",
			sa.OutboundSPI, sa.Local, sa.Remote)
	}
	return k.NoStack.Install(sa, inboundOnly)
}

func (k *failKernel) Delete(sa *routing.KernelSA) error {
	k.mu.Lock()
	k.deleted = append(k.deleted, sa.InboundSPI)
	k.mu.Unlock()
	return k.NoStack.Delete(sa)
}

// TestKernelRefusesSA: the kernel refuses an SA pair. On the initiator,
// whack gets RC_INTERNALERR (exit status 32) with the kernel's words and
// the Quick Mode state is gone; on a responder refusing the outbound half,
// the inbound half it installed first is taken out. Either way the peer
// is told and deletes its side: no SA, no up-client, no route remains.
func TestKernelRefusesSA(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("updown: no /bin/sh")
	}
	for _, c := range []struct {
		name   string
		failer string // west or east
		failAt int
	}{{"initiator", "west", 1}, {"responder-outbound", "east", 2}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			wf, ef := filepath.Join(dir, "west"), filepath.Join(dir, "east")
			west := startDaemon(t, "127.0.0.1", psk, 0)
			east := startDaemon(t, "127.0.0.2", psk, 0)
			wk, ek := &failKernel{NoStack: routing.NewNoStack()}, &failKernel{NoStack: routing.NewNoStack()}
			map[string]*failKernel{"west": wk, "east": ek}[c.failer].failAt = c.failAt
			west.d.Do(func() { west.d.kernel = wk })
			east.d.Do(func() { east.d.kernel = ek })
			for _, td := range []*testDaemon{west, east} {
				args := []string{"--name", "west-east",
					"--host", west.addr, "--ikeport", fmt.Sprint(west.port), "--client", "10.1.0.0/24", "--updown", updownLog(wf),
					"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--client", "10.2.0.0/24", "--updown", updownLog(ef),
					"--psk", "--encrypt", "--tunnel"}
				if out, code := td.whack(t, args...); code != 0 {
					t.Fatalf("add: %d\n%s", code, out)
				}
			}
			out, code := west.whack(t, "--name", "west-east", "--initiate")
			t.Logf("whack --initiate (exit %d):\n%s", code, out)
			if c.failer == "west" {
				if code != 32 || !strings.Contains(out, `032 "west-east" #2: state transition function for STATE_QUICK_I1 had internal error: kernel: cannot add ESP SA 0x`) ||
					!strings.Contains(out, "protocol not supported (no ESP in this kernel?)") {
					t.Errorf("initiator's whack: exit %d", code)
				}
			}
			// Both ends end up without IPsec SA, in the kernel and in status.
			for _, td := range []*testDaemon{west, east} {
				st, ok := waitStatus(t, td, 5*time.Second, func(s string) bool { return !strings.Contains(s, "STATE_QUICK") })
				if !ok {
					t.Errorf("%s still has a Quick Mode state:\n%s", td.addr, st)
				}
			}
			for name, k := range map[string]*failKernel{"west": wk, "east": ek} {
				k.mu.Lock()
				if n := k.Installed(); n != 0 {
					t.Errorf("%s: %d SA pairs left in the kernel", name, n)
				}
				k.mu.Unlock()
			}
			// The responder's inbound half (its first Install) was taken out.
			ek.mu.Lock()
			if ek.installs < 1 || len(ek.deleted) != 1 {
				t.Errorf("east: %d installs, deletes %x", ek.installs, ek.deleted)
			}
			ek.mu.Unlock()
			// The refusing end never ran up-client, and its route is gone.
			f := map[string]string{"west": wf, "east": ef}[c.failer]
			time.Sleep(200 * time.Millisecond)
			b, _ := os.ReadFile(f)
			var verbs []string
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if l != "" {
					verbs = append(verbs, strings.Fields(l)[0])
				}
			}
			if strings.Join(verbs, " ") != "prepare-client route-client unroute-client" {
				t.Errorf("%s's updown verbs: %v", c.failer, verbs)
			}
		})
	}
}

// TestCompress: --compress on the initiator only: IPComp is proposed and
// accepted (as pluto accepts it without --compress), both ends show the
// CPIs (whack's established line, --status, --status --json) and give
// them to the kernel, mirrored.
func TestCompress(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	wk, ek := &saKernel{NoStack: routing.NewNoStack()}, &saKernel{NoStack: routing.NewNoStack()}
	west.d.Do(func() { west.d.kernel = wk })
	east.d.Do(func() { east.d.kernel = ek })
	addConn(t, west, west, east, "--compress")
	addConn(t, east, west, east)
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	m := regexp.MustCompile(`IPsec SA established \{ESP=>0x[0-9a-f]{8} <0x[0-9a-f]{8} IPCOMP=>0x0000([0-9a-f]{4}) <0x0000([0-9a-f]{4})\}`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("initiate: exit %d\n%s", code, out)
	}
	outCPI, inCPI := m[1], m[2]
	st, _ := west.whack(t, "--status")
	if !regexp.MustCompile(`esp\.[0-9a-f]{8}@127\.0\.0\.2 esp\.[0-9a-f]{8}@127\.0\.0\.1 comp\.` + outCPI + `@127\.0\.0\.2 comp\.` + inCPI + `@127\.0\.0\.1 tun`).MatchString(st) {
		t.Errorf("status lacks the CPIs %s/%s:\n%s", outCPI, inCPI, st)
	}
	var stdout, stderr bytes.Buffer
	if code := runWhack(east, &stdout, &stderr, "--status", "--json"); code != 0 {
		t.Fatalf("status --json: %d %s", code, stderr.String())
	}
	var doc StatusDoc
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range doc.States {
		if s.IPsec != nil {
			found = true
			if !s.IPsec.IPComp || s.IPsec.OutboundCPI != inCPI || s.IPsec.InboundCPI != outCPI {
				t.Errorf("east's JSON IPsec status %+v, want CPIs %s/%s", s.IPsec, inCPI, outCPI)
			}
		}
	}
	if !found {
		t.Errorf("no IPsec state in east's JSON:\n%s", stdout.String())
	}
	for _, c := range []struct {
		k       *saKernel
		in, out string
	}{{wk, inCPI, outCPI}, {ek, outCPI, inCPI}} {
		c.k.mu.Lock()
		if len(c.k.full) != 1 || !c.k.full[0].Compress || fmt.Sprintf("%04x", c.k.full[0].InboundCPI) != c.in ||
			fmt.Sprintf("%04x", c.k.full[0].OutboundCPI) != c.out {
			t.Errorf("kernel got %+v, want CPIs in %s out %s", c.k.full, c.in, c.out)
		}
		c.k.mu.Unlock()
	}
}

// saKernel is nostack recording the full pairs it installs.
type saKernel struct {
	*routing.NoStack
	mu   sync.Mutex
	full []*routing.KernelSA
}

func (k *saKernel) Install(sa *routing.KernelSA, inboundOnly bool) error {
	if !inboundOnly {
		k.mu.Lock()
		k.full = append(k.full, sa)
		k.mu.Unlock()
	}
	return k.NoStack.Install(sa, inboundOnly)
}
