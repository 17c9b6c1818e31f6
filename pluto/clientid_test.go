package pluto

import (
	"strings"
	"testing"
	"time"
)

// TestClientProtoPort: Quick Mode IDs with a protocol and port
// (--clientprotoport) must agree on both ends: udp/l2tp on both is
// negotiated and shown; tcp/80 against udp/1701 finds no connection.
func TestClientProtoPort(t *testing.T) {
	run := func(westPP, eastPP string) (*testDaemon, *testDaemon, string, int) {
		west := startDaemon(t, "127.0.0.1", psk, 100*time.Millisecond)
		east := startDaemon(t, "127.0.0.2", psk, 100*time.Millisecond)
		for _, x := range []struct {
			d  *testDaemon
			pp string
		}{{west, westPP}, {east, eastPP}} {
			args := []string{"--name", "west-east", "--host", west.addr, "--ikeport", itoa(west.port), "--client", "10.1.0.0/24",
				"--clientprotoport", x.pp, "--to", "--host", east.addr, "--ikeport", itoa(east.port), "--client", "10.2.0.0/24",
				"--clientprotoport", x.pp, "--psk", "--encrypt", "--tunnel", "--keyingtries", "1"}
			if out, code := x.d.whack(t, args...); code != 0 {
				t.Fatalf("add: %d %s", code, out)
			}
		}
		out, code := west.whack(t, "--name", "west-east", "--initiate")
		return west, east, out, code
	}
	_, east, out, code := run("udp/l2tp", "17/1701")
	if code != 0 {
		t.Fatalf("initiate: %d\n%s\neast:\n%s", code, out, east.log)
	}
	checkTranscript(t, out)
	if st, _ := east.whack(t, "--status"); !strings.Contains(st, "10.2.0.0/24:17/1701===127.0.0.2") || !strings.Contains(st, "127.0.0.1===10.1.0.0/24:17/1701") {
		t.Errorf("east status:\n%s", st)
	}
	_, east, out, code = run("tcp/80", "udp/1701")
	if code == 0 {
		t.Fatalf("different protocol/port negotiated:\n%s", out)
	}
	if st, _ := east.whack(t, "--status"); strings.Contains(st, "STATE_QUICK_R2") {
		t.Errorf("east has an IPsec SA:\n%s\n%s", st, east.log)
	}
}
