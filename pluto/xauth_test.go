package pluto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"goswan/whack"
)

// TestXAuthModeCfgTwoDaemons: east is an XAUTH and ModeCfg server (users
// from its ipsec.secrets, address and DNS/WINS handed out), west the client
// with whack --xauthuser/--xauthpass; push and pull. A wrong password is
// refused, whack says so and both ISAKMP SAs are gone.
func TestXAuthModeCfgTwoDaemons(t *testing.T) {
	for _, pull := range []bool{false, true} {
		t.Run(fmt.Sprintf("pull=%v", pull), func(t *testing.T) {
			west := startDaemon(t, "127.0.0.1", psk, 0)
			east := startDaemon(t, "127.0.0.2", psk+"@alice : XAUTH \"wonderland\"\n: XAUTH \"default-is-not-used\"\n", 0)
			for _, d := range []*testDaemon{west, east} {
				// The server's description names the address to hand out as
				// the client's --client; the client's own has none.
				client := []string{"--client", "10.9.0.5/32"}
				if d == west {
					client = nil
				}
				args := append(append([]string{"--name", "rw",
					"--host", west.addr, "--ikeport", fmt.Sprint(west.port)}, client...), "--xauthclient", "--modecfgclient",
					"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--client", "10.2.0.0/24", "--xauthserver", "--modecfgserver",
					"--modecfgdns1", "10.2.0.53", "--modecfgwins1", "10.2.0.137",
					"--psk", "--encrypt", "--tunnel")
				if pull {
					args = append(args, "--modecfgpull")
				}
				if out, code := d.whack(t, args...); code != 0 {
					t.Fatalf("add: %d %s", code, out)
				}
			}
			// Wrong password first.
			out, code := west.whack(t, "--name", "rw", "--initiate", "--xauthuser", "alice", "--xauthpass", "rabbit")
			if code != 37 || !strings.Contains(out, "XAUTH: the server refused our credentials") {
				t.Errorf("wrong password: exit %d\n%s", code, out)
			}
			if !strings.Contains(east.log.String(), "XAUTH: User alice: Authentication Failed") {
				t.Errorf("east log:\n%s", east.log)
			}
			waitFor(t, func() bool { return countISAKMP(t, east) == 0 && countISAKMP(t, west) == 0 })
			// The default XAUTH entry does not let an unknown user in.
			if out, code := west.whack(t, "--name", "rw", "--initiate", "--xauthuser", "mallory", "--xauthpass", "default-is-not-used"); code == 0 {
				t.Errorf("unknown user accepted:\n%s", out)
			}
			waitFor(t, func() bool { return countISAKMP(t, east) == 0 && countISAKMP(t, west) == 0 })

			out, code = west.whack(t, "--name", "rw", "--initiate", "--xauthuser", "alice", "--xauthpass", "wonderland")
			if code != 0 || !strings.Contains(out, "STATE_QUICK_I2: sent QI2, IPsec SA established") ||
				!strings.Contains(out, "STATE_XAUTH_I1") || !strings.Contains(out, "STATE_MODE_CFG_I1") {
				t.Fatalf("initiate: %d\n%s\neast:\n%s", code, out, east.log)
			}
			st, _ := west.whack(t, "--status")
			if !strings.Contains(st, "modecfg address 10.9.0.5, DNS 10.2.0.53, WINS 10.2.0.137") {
				t.Errorf("west status:\n%s", st)
			}
			if !strings.Contains(st, "10.9.0.5/32===127.0.0.1") {
				t.Errorf("west does not use the ModeCfg address as its client:\n%s", st)
			}
			est, _ := east.whack(t, "--status")
			if !strings.Contains(est, `XAUTH user "alice" authenticated`) || !strings.Contains(est, "STATE_QUICK_R2") {
				t.Errorf("east status:\n%s", est)
			}
			js, _ := east.whack(t, "--status", "--json")
			var doc StatusDoc
			if err := json.Unmarshal([]byte(js[strings.Index(js, "{"):]), &doc); err != nil {
				t.Fatalf("json: %v\n%s", err, js)
			}
			found := false
			for _, s := range doc.States {
				if s.XAuthUser == "alice" && s.ModeCfg != nil && s.ModeCfg.Address == "10.9.0.5" && s.Kind == "STATE_MODE_CFG_R2" {
					found = true
				}
			}
			if !found {
				t.Errorf("json states: %+v", doc.States)
			}
			// Terminating gives the address back: the client's own (none) again.
			if out, code := west.whack(t, "--name", "rw", "--terminate"); code != 0 {
				t.Fatalf("terminate: %d %s", code, out)
			}
			if st, _ := west.whack(t, "--status"); strings.Contains(st, "10.9.0.5") {
				t.Errorf("the ModeCfg address outlives the connection's SAs:\n%s", st)
			}
		})
	}
}

func countISAKMP(t *testing.T, d *testDaemon) int {
	out, _ := d.whack(t, "--status")
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "STATE_MAIN") || strings.Contains(l, "STATE_XAUTH") || strings.Contains(l, "STATE_MODE_CFG") {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("condition not reached in 5s")
}

// TestModeCfgServerNeedsAddress: a ModeCfg server must know what to hand
// out: the peer's --client as a single address; the error names the option.
func TestModeCfgServerNeedsAddress(t *testing.T) {
	east := startDaemon(t, "127.0.0.2", psk, 0)
	out, code := east.whack(t, "--name", "rw", "--host", "127.0.0.1", "--client", "10.9.0.0/24", "--modecfgclient",
		"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--modecfgserver", "--psk", "--encrypt")
	if code == 0 || !strings.Contains(out, "--modecfgserver: the peer's --client must be the single IPv4 address") {
		t.Errorf("exit %d\n%s", code, out)
	}
	out, code = east.whack(t, "--name", "rw2", "--host", "127.0.0.1", "--xauthserver", "--xauthclient",
		"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--xauthserver", "--psk", "--encrypt")
	if code == 0 || !strings.Contains(out, "cannot be both XAUTH server and client") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestXAuthUserFromConfig: without whack --xauthuser the client uses its
// end's user name (ipsec.conf leftxauthusername=) and that user's XAUTH
// entry in its own ipsec.secrets.
func TestXAuthUserFromConfig(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk+"@alice : XAUTH \"wonderland\"\n", 0)
	east := startDaemon(t, "127.0.0.2", psk+"@alice : XAUTH \"wonderland\"\n", 0)
	for _, d := range []*testDaemon{west, east} {
		m, err := whack.ParseArgs([]string{"--ctlbase", d.ctlbase, "--name", "rw",
			"--host", west.addr, "--ikeport", fmt.Sprint(west.port), "--xauthclient",
			"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--client", "10.2.0.0/24", "--xauthserver",
			"--psk", "--encrypt", "--tunnel"})
		if err != nil {
			t.Fatal(err)
		}
		m.Left.XauthName = "alice"
		var out bytes.Buffer
		if code := whack.Send(m, nil, &out, &out); code != 0 {
			t.Fatalf("add: %d %s", code, out.String())
		}
	}
	out, code := west.whack(t, "--name", "rw", "--initiate")
	if code != 0 || !strings.Contains(out, "XAUTH: Answering XAUTH challenge with user='alice'") {
		t.Fatalf("initiate: %d\n%s", code, out)
	}
	if st, _ := east.whack(t, "--status"); !strings.Contains(st, `XAUTH user "alice" authenticated`) {
		t.Errorf("east status:\n%s", st)
	}
}
