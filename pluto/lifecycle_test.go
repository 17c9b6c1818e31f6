package pluto

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"goswan/routing"
)

// waitStatus polls whack --status until cond holds or the timeout passes.
func waitStatus(t *testing.T, td *testDaemon, timeout time.Duration, cond func(string) bool) (string, bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, _ := td.whack(t, "--status")
		if cond(st) {
			return st, true
		}
		if time.Now().After(deadline) {
			return st, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var quickRE = regexp.MustCompile(`(?m)^000 #(\d+): "west-east":\d+ STATE_QUICK_[IR]2`)

// TestRekeyTwoDaemons: with short lifetimes both SAs are replaced several
// times without a gap, the superseded ones are deleted and both ends agree.
func TestRekeyTwoDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("rekeying takes seconds")
	}
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	wk, ek := &spiKernel{NoStack: routing.NewNoStack()}, &spiKernel{NoStack: routing.NewNoStack()}
	west.d.Do(func() { west.d.kernel = wk })
	east.d.Do(func() { east.d.kernel = ek })
	life := []string{"--ikelifetime", "12s", "--ipseclifetime", "6s", "--rekeymargin", "2s", "--rekeyfuzz", "50%"}
	addConn(t, west, west, east, life...)
	addConn(t, east, west, east, life...)
	if out, code := west.whack(t, "--name", "west-east", "--initiate"); code != 0 {
		t.Fatalf("initiate: %d\n%s", code, out)
	}
	seen := map[string]bool{}
	end := time.Now().Add(14 * time.Second)
	for time.Now().Before(end) {
		for _, d := range []*testDaemon{west, east} {
			st, _ := d.whack(t, "--status")
			m := quickRE.FindAllStringSubmatch(st, -1)
			if len(m) == 0 {
				t.Fatalf("gap: no IPsec SA on %s:\n%s", d.addr, st)
			}
			if len(m) > 2 {
				t.Errorf("%d IPsec SAs at once on %s", len(m), d.addr)
			}
			for _, x := range m {
				seen[d.addr+"#"+x[1]] = true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(seen) < 6 {
		t.Errorf("too few rekeys: %v", seen)
	}
	if !strings.Contains(west.log.String(), "replacing IPsec SA before it expires") ||
		!strings.Contains(west.log.String(), "replacing ISAKMP SA before it expires") {
		t.Errorf("no replace in the log:\n%s", west.log)
	}
	// Superseded SAs go when their margin runs out; the ends expire them at
	// nearly the same time and tell each other (whichever Delete arrives
	// second finds nothing left).
	for _, d := range []*testDaemon{west, east} {
		if n := strings.Count(d.log.String(), "STATE_QUICK_"); n == 0 || !strings.Contains(d.log.String(), "lifetime expired, deleting") {
			t.Errorf("%s did not delete superseded SAs:\n%s", d.addr, d.log)
		}
	}
	// The SPIs of the timer-started rekeys, too, are allocated for the SA
	// from the peer to us (the kernel's ALLOCSPI needs the addresses).
	for _, c := range []struct {
		k    *spiKernel
		want string
	}{{wk, "PROTO_IPSEC_ESP 127.0.0.2->127.0.0.1"}, {ek, "PROTO_IPSEC_ESP 127.0.0.1->127.0.0.2"}} {
		c.k.mu.Lock()
		if len(c.k.addrs) < 3 {
			t.Errorf("%d SPIs allocated, want one per rekey", len(c.k.addrs))
		}
		for i, a := range c.k.addrs {
			if a != c.want {
				t.Errorf("SPI %d allocated for %q, want %q", i, a, c.want)
			}
		}
		c.k.mu.Unlock()
	}
}

// TestDPDKilledPeer: east disappears; west's DPD declares it dead and, with
// dpdaction=restart, keeps trying; when east comes back the tunnel is up again.
func TestDPDKilledPeer(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 200*time.Millisecond)
	east := startDaemon(t, "127.0.0.2", psk, 200*time.Millisecond)
	dpd := []string{"--dpddelay", "1s", "--dpdtimeout", "3s", "--dpdaction", "restart", "--keyingtries", "0"}
	addConn(t, west, west, east, dpd...)
	addConn(t, east, west, east, dpd...)
	if out, code := west.whack(t, "--name", "west-east", "--initiate"); code != 0 {
		t.Fatalf("initiate: %d\n%s", code, out)
	}
	// Kill east (no Deletes: shut its sockets without telling).
	east.d.Do(func() { east.d.closeSockets() })
	if _, ok := waitStatus(t, west, 8*time.Second, func(s string) bool { return !strings.Contains(s, "STATE_QUICK_I2") }); !ok {
		t.Fatalf("west never noticed the dead peer:\n%s", west.log)
	}
	if !strings.Contains(west.log.String(), "declaring peer dead; dpdaction=restart") {
		t.Errorf("no DPD verdict in the log:\n%s", west.log)
	}
	// East comes back (a fresh daemon on the same address and port).
	east.d.Shutdown()
	<-east.done
	east2 := startDaemonAt(t, "127.0.0.2", east.port, psk, 200*time.Millisecond)
	addConn(t, east2, west, east2, dpd...)
	if st, ok := waitStatus(t, west, 15*time.Second, func(s string) bool { return strings.Contains(s, "STATE_QUICK_I2") }); !ok {
		t.Fatalf("tunnel not re-established after the peer came back:\n%s\n%s", st, west.log)
	}
}

// TestResponderRekeys: when the initiator does not rekey (--dontrekey), the
// responder does, at half its margin before expiry: it becomes the
// initiator of the new Quick Mode (and of the new Main Mode), without a gap.
func TestResponderRekeys(t *testing.T) {
	if testing.Short() {
		t.Skip("rekeying takes seconds")
	}
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	life := []string{"--ikelifetime", "10s", "--ipseclifetime", "5s", "--rekeymargin", "2s", "--rekeyfuzz", "0%"}
	addConn(t, west, west, east, append(life, "--dontrekey")...)
	addConn(t, east, west, east, life...)
	if out, code := west.whack(t, "--name", "west-east", "--initiate"); code != 0 {
		t.Fatalf("initiate: %d\n%s", code, out)
	}
	end := time.Now().Add(9 * time.Second)
	for time.Now().Before(end) {
		for _, d := range []*testDaemon{west, east} {
			if st, _ := d.whack(t, "--status"); len(quickRE.FindAllString(st, -1)) == 0 {
				t.Fatalf("gap: no IPsec SA on %s:\n%s\n%s", d.addr, st, d.log)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(east.log.String(), "STATE_QUICK_I2: sent QI2, IPsec SA established") {
		t.Errorf("east never rekeyed as initiator:\n%s", east.log)
	}
	if !strings.Contains(east.log.String(), "STATE_MAIN_I4: ISAKMP SA established") {
		t.Errorf("east never replaced the ISAKMP SA:\n%s", east.log)
	}
	if strings.Contains(west.log.String(), "replacing IPsec SA") {
		t.Errorf("west rekeyed despite --dontrekey:\n%s", west.log)
	}
}
