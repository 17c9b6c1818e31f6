package pluto

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"goswan/routing"
)

// TestVariants negotiates with each algorithm family, PFS on and off,
// tunnel and transport mode, and with either side initiating.
func TestVariants(t *testing.T) {
	cases := []struct {
		name      string
		extra     []string
		transport bool
		eastInit  bool
	}{
		{"aes128-sha1-modp2048", []string{"--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1"}, false, false},
		{"aes256-sha2_256-modp1536-pfs", []string{"--ike", "aes256-sha2_256-modp1536", "--esp", "aes256-sha2_256", "--pfs"}, false, false},
		{"3des-md5-modp1024-pfsgroup", []string{"--ike", "3des-md5-modp1024", "--esp", "3des-md5", "--pfsgroup", "modp1024"}, false, false},
		{"aes128-sha2_256-ecp256", []string{"--ike", "aes128-sha2_256-ecp256", "--esp", "aes_gcm16_128;ecp256"}, false, false},
		{"aes256-sha2_384-ecp384", []string{"--ike", "aes256-sha2_384-ecp384", "--esp", "aes256-sha2_512"}, false, false},
		{"3des-sha1-modp2048", []string{"--ike", "3des-sha1-modp2048", "--esp", "3des-sha1"}, false, false},
		{"defaults", nil, false, false},
		{"transport", []string{"--ike", "aes128-sha1-modp2048"}, true, false},
		{"east-initiates", []string{"--ike", "aes128-sha1-modp2048", "--pfs"}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			west := startDaemon(t, "127.0.0.1", psk, 0)
			east := startDaemon(t, "127.0.0.2", psk, 0)
			for _, d := range []*testDaemon{west, east} {
				if tc.transport {
					args := []string{"--name", "west-east", "--host", west.addr, "--ikeport", fmt.Sprint(west.port),
						"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--psk", "--encrypt"}
					if out, code := d.whack(t, append(args, tc.extra...)...); code != 0 {
						t.Fatalf("add: %d %s", code, out)
					}
				} else {
					addConn(t, d, west, east, tc.extra...)
				}
			}
			init := west
			if tc.eastInit {
				init = east
			}
			out, code := init.whack(t, "--name", "west-east", "--initiate")
			if code != 0 {
				t.Fatalf("exit %d:\n%s\nwest:\n%s\neast:\n%s", code, out, west.log, east.log)
			}
			checkTranscript(t, out)
			st, _ := init.whack(t, "--status")
			mode := "tun"
			if tc.transport {
				mode = "transport"
			}
			if !strings.Contains(st, "@"+init.addr+" "+mode) {
				t.Errorf("status does not show %s mode:\n%s", mode, st)
			}
		})
	}
}

// TestWrongPSK: authentication fails, nothing is established, the reason is
// logged and whack exits with 31 after the retransmissions.
func TestWrongPSK(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 30*time.Millisecond)
	east := startDaemon(t, "127.0.0.2", "127.0.0.1 127.0.0.2 : PSK \"another-secret\"\n", 30*time.Millisecond)
	addConn(t, west, west, east, "--keyingtries", "1")
	addConn(t, east, west, east)
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 31 {
		t.Fatalf("exit %d, want 31:\n%s", code, out)
	}
	if !strings.Contains(out, "031 \"west-east\" #1: max number of retransmissions (2) reached STATE_MAIN_I3.  Possible authentication failure") {
		t.Errorf("no authentication failure line:\n%s", out)
	}
	if n := strings.Count(out, "retransmission; will wait"); n != 2 {
		t.Errorf("%d retransmissions, want 2:\n%s", n, out)
	}
	if !strings.Contains(east.log.String(), "wrong keys, e.g. a pre-shared key mismatch") {
		t.Errorf("east does not log the reason:\n%s", east.log)
	}
	for _, d := range []*testDaemon{west, east} {
		st, _ := d.whack(t, "--status")
		if strings.Contains(st, "ESTABLISHED") || strings.Contains(st, "SA established") {
			t.Errorf("something established:\n%s", st)
		}
		if d.d.kernel.(*routing.NoStack).Installed() != 0 {
			t.Error("an SA was installed")
		}
	}
}

// TestNoCommonProposal: the responder answers NO_PROPOSAL_CHOSEN and keeps
// no state; the initiator gives up.
func TestNoCommonProposal(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 30*time.Millisecond)
	east := startDaemon(t, "127.0.0.2", psk, 30*time.Millisecond)
	addConn(t, west, west, east, "--ike", "aes256-sha2_256-modp2048", "--keyingtries", "1")
	addConn(t, east, west, east, "--ike", "3des-md5-modp1536")
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 31 || !strings.Contains(out, "STATE_MAIN_I1.  No response (or no acceptable response) to our first IKE message") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(east.log.String(), "no acceptable") && !strings.Contains(east.log.String(), "NO_PROPOSAL") {
		t.Errorf("east does not say why:\n%s", east.log)
	}
	st, _ := east.whack(t, "--status")
	if strings.Contains(st, "STATE_MAIN_R") {
		t.Errorf("east kept a state:\n%s", st)
	}
}

// TestNoCommonESP: the ISAKMP SA comes up, Quick Mode is refused.
func TestNoCommonESP(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 30*time.Millisecond)
	east := startDaemon(t, "127.0.0.2", psk, 30*time.Millisecond)
	addConn(t, west, west, east, "--esp", "aes256-sha2_512")
	addConn(t, east, west, east, "--esp", "3des-md5")
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 31 || !strings.Contains(out, "STATE_MAIN_I4: ISAKMP SA established") ||
		!strings.Contains(out, "perhaps peer likes no proposal") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if east.d.kernel.(*routing.NoStack).Installed() != 0 || west.d.kernel.(*routing.NoStack).Installed() != 0 {
		t.Error("an SA was installed")
	}
}

// TestMismatchedSubnets: the responder refuses the Quick Mode IDs.
func TestMismatchedSubnets(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 30*time.Millisecond)
	east := startDaemon(t, "127.0.0.2", psk, 30*time.Millisecond)
	addConn(t, west, west, east)
	args := []string{"--name", "west-east",
		"--host", west.addr, "--ikeport", fmt.Sprint(west.port), "--client", "10.9.0.0/24",
		"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--client", "10.2.0.0/24",
		"--psk", "--encrypt", "--tunnel"}
	if out, code := east.whack(t, args...); code != 0 {
		t.Fatal(out)
	}
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 31 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(east.log.String(), "no connection is known for 10.2.0.0/24...10.1.0.0/24") {
		t.Errorf("east log:\n%s", east.log)
	}
	if east.d.kernel.(*routing.NoStack).Installed() != 0 {
		t.Error("half-installed SA left on east")
	}
}

// TestPeerNotRunning: three sends, then give up with the message; with
// --keyingtries 2 a second attempt starts and whack is released.
func TestPeerNotRunning(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 20*time.Millisecond)
	ghost := &testDaemon{addr: "127.0.0.2", port: freePort(t, "127.0.0.2")}
	addConn(t, west, west, ghost, "--keyingtries", "2")
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 31 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"010 \"west-east\" #1: STATE_MAIN_I1: retransmission; will wait 40ms for response",
		"010 \"west-east\" #1: STATE_MAIN_I1: retransmission; will wait 80ms for response",
		"031 \"west-east\" #1: max number of retransmissions (2) reached STATE_MAIN_I1.  No response (or no acceptable response) to our first IKE message",
		"000 \"west-east\" #1: starting keying attempt 2 of at most 2, but releasing whack",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestUnknownConnection(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 0)
	out, code := west.whack(t, "--name", "nosuch", "--initiate")
	if code != 21 || !strings.Contains(out, `021 no connection named "nosuch"`) {
		t.Fatalf("exit %d: %s", code, out)
	}
	// A duplicate name is refused and the first connection survives.
	east := &testDaemon{addr: "127.0.0.2", port: 1}
	addConn(t, west, west, east)
	args := []string{"--name", "west-east", "--host", west.addr, "--ikeport", fmt.Sprint(west.port),
		"--to", "--host", "127.0.0.2", "--psk", "--encrypt"}
	if out, code := west.whack(t, args...); code != 20 || !strings.Contains(out, "attempt to redefine connection") {
		t.Fatalf("redefine: exit %d: %s", code, out)
	}
	// A bad field is named.
	bad := []string{"--name", "x", "--host", west.addr, "--ikeport", fmt.Sprint(west.port),
		"--to", "--host", "127.0.0.2", "--psk", "--encrypt", "--ike", "aes128-shaX"}
	if out, code := west.whack(t, bad...); code == 0 || !strings.Contains(out, "--ike") {
		t.Fatalf("bad --ike accepted: exit %d: %s", code, out)
	}
	if st, _ := west.whack(t, "--status"); !strings.Contains(st, `"west-east": 10.1.0.0/24`) || strings.Contains(st, `"x"`) {
		t.Errorf("status after errors:\n%s", st)
	}
}

// TestTerminate: terminate deletes both SAs on both sides.
func TestTerminate(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	addConn(t, west, west, east)
	addConn(t, east, west, east)
	if out, code := west.whack(t, "--name", "west-east", "--initiate"); code != 0 {
		t.Fatal(out)
	}
	if out, code := west.whack(t, "--name", "west-east", "--terminate"); code != 0 {
		t.Fatalf("terminate: %d %s", code, out)
	}
	deadline := time.Now().Add(2 * time.Second)
	for east.d.kernel.(*routing.NoStack).Installed() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := east.d.kernel.(*routing.NoStack).Installed(); n != 0 {
		t.Errorf("east still has %d SAs", n)
	}
	st, _ := east.whack(t, "--status")
	if strings.Contains(st, "STATE_") {
		t.Errorf("east still has states:\n%s", st)
	}
}
