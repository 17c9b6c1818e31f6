package pluto

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRoadWarriors: several initiators at different addresses reach one
// %any responder; each gets its own instance; a peer with an ID of its own
// makes the responder switch to the connection made for that ID; a peer no
// connection fits is refused.
func TestRoadWarriors(t *testing.T) {
	const key = `"road-warrior-secret"`
	gw := startDaemon(t, "127.0.0.2", "127.0.0.2 %any : PSK "+key+"\n127.0.0.2 @bob : PSK \"bob's own key\"\n", 100*time.Millisecond)
	// a-rw takes any peer whose ID is its address; z-alice is for @alice.
	for _, c := range [][]string{
		{"--name", "a-rw", "--host", "127.0.0.2", "--ikeport", itoa(gw.port), "--client", "10.2.0.0/24",
			"--to", "--host", "%any", "--psk", "--encrypt", "--tunnel"},
		{"--name", "z-alice", "--host", "127.0.0.2", "--ikeport", itoa(gw.port), "--client", "10.2.0.0/24",
			"--to", "--host", "%any", "--id", "@alice", "--psk", "--encrypt", "--tunnel"},
	} {
		if out, code := gw.whack(t, c...); code != 0 {
			t.Fatalf("add: %d %s", code, out)
		}
	}
	roam := func(ip, id string) (string, int) {
		secrets := fmt.Sprintf("%s 127.0.0.2 : PSK %s\n", ip, key)
		if id != "" {
			secrets = fmt.Sprintf("%s 127.0.0.2 : PSK %s\n", id, key)
		}
		rw := startDaemon(t, ip, secrets, 100*time.Millisecond)
		args := []string{"--name", "home", "--host", ip, "--ikeport", itoa(rw.port)}
		if id != "" {
			args = append(args, "--id", id)
		}
		args = append(args, "--to", "--host", "127.0.0.2", "--ikeport", itoa(gw.port), "--client", "10.2.0.0/24",
			"--psk", "--encrypt", "--tunnel", "--keyingtries", "1")
		if out, code := rw.whack(t, args...); code != 0 {
			t.Fatalf("add on %s: %d %s", ip, code, out)
		}
		return rw.whack(t, "--name", "home", "--initiate")
	}
	for _, ip := range []string{"127.0.0.1", "127.0.0.3", "127.0.0.4"} {
		if out, code := roam(ip, ""); code != 0 {
			t.Fatalf("road warrior %s: exit %d\n%s\ngateway:\n%s", ip, code, out, gw.log)
		}
	}
	st, _ := gw.whack(t, "--status")
	for _, ip := range []string{"127.0.0.1", "127.0.0.3", "127.0.0.4"} {
		if !regexp.MustCompile(`"a-rw"\[\d+\] ` + regexp.QuoteMeta(ip) + `: 10\.2\.0\.0/24===127\.0\.0\.2:\d+\.\.\.` + regexp.QuoteMeta(ip) + `; erouted`).MatchString(st) {
			t.Errorf("no erouted instance for %s:\n%s", ip, st)
		}
	}
	if n := strings.Count(st, "STATE_QUICK_R2"); n != 3 {
		t.Errorf("%d IPsec SAs on the gateway, want 3:\n%s", n, st)
	}
	// @alice from 127.0.0.5: a-rw is tried first (by address), then the
	// gateway switches to z-alice.
	if out, code := roam("127.0.0.5", "@alice"); code != 0 {
		t.Fatalf("alice: exit %d\n%s\ngateway:\n%s", code, out, gw.log)
	}
	if !strings.Contains(gw.log.String(), `switched from "a-rw" to "z-alice" for peer ID '@alice'`) {
		t.Errorf("no switch in the gateway log:\n%s", gw.log)
	}
	// Quick Mode stays with the connection made for @alice (a-rw has the
	// same clients but wants the peer's address as its ID).
	st, _ = gw.whack(t, "--status")
	if !regexp.MustCompile(`"z-alice"\[\d+\] 127\.0\.0\.5: [^\n]*; erouted`).MatchString(st) ||
		regexp.MustCompile(`"a-rw"\[\d+\] 127\.0\.0\.5: [^\n]*; erouted`).MatchString(st) {
		t.Errorf("alice's IPsec SA is not on z-alice:\n%s", st)
	}
	// @bob has a connection, but its own key: in Main Mode the gateway
	// chose the %any key before it saw the ID, so it cannot switch to it.
	if out, code := gw.whack(t, "--name", "z-bob", "--host", "127.0.0.2", "--ikeport", itoa(gw.port), "--client", "10.2.0.0/24",
		"--to", "--host", "%any", "--id", "@bob", "--psk", "--encrypt", "--tunnel"); code != 0 {
		t.Fatalf("add z-bob: %d %s", code, out)
	}
	if out, code := roam("127.0.0.7", "@bob"); code == 0 {
		t.Fatalf("bob got in with the shared key although his connection has its own:\n%s", out)
	}
	if !strings.Contains(gw.log.String(), `cannot switch to "z-bob" for peer '@bob': its pre-shared key is not the one already in use (in Main Mode all Road Warriors share one pre-shared key)`) {
		t.Errorf("the single-PSK limitation is not logged:\n%s", gw.log)
	}
	// @mallory fits nothing: refused, nothing established for it.
	out, code := roam("127.0.0.6", "@mallory")
	if code == 0 {
		t.Fatalf("mallory got in:\n%s", out)
	}
	if !strings.Contains(gw.log.String(), "no suitable connection for peer '@mallory'") {
		t.Errorf("refusal not logged:\n%s", gw.log)
	}
}

// TestMyID: --id %myid takes whack --myid; without it the connection is
// refused with the field named.
func TestMyID(t *testing.T) {
	d := startDaemon(t, "127.0.0.1", psk, 0)
	add := []string{"--name", "x", "--host", "127.0.0.1", "--ikeport", itoa(d.port), "--id", "%myid",
		"--to", "--host", "127.0.0.2", "--psk", "--encrypt"}
	if out, code := d.whack(t, add...); code == 0 || !strings.Contains(out, "%myid") {
		t.Fatalf("accepted without --myid: %d %s", code, out)
	}
	if out, code := d.whack(t, "--myid", "@gateway.example"); code != 0 {
		t.Fatalf("--myid: %d %s", code, out)
	}
	if out, code := d.whack(t, add...); code != 0 {
		t.Fatalf("add: %d %s", code, out)
	}
	if st, _ := d.whack(t, "--status"); !strings.Contains(st, "%myid = @gateway.example") {
		t.Errorf("status:\n%s", st)
	}
	var id string
	d.d.Do(func() { id = d.d.conns["x"].Conn.LocalID.String() })
	if id != "@gateway.example" {
		t.Errorf("local ID %q", id)
	}
}

// TestRoadWarriorAggressiveOwnKey: in Aggressive Mode the ID comes before
// any key is chosen, so a Road Warrior may have a pre-shared key of its
// own: the gateway switches from the %any template to @carol's connection
// and uses carol's key (in Main Mode, TestRoadWarriors' @bob, it cannot).
func TestRoadWarriorAggressiveOwnKey(t *testing.T) {
	gw := startDaemon(t, "127.0.0.2", "127.0.0.2 %any : PSK \"shared\"\n127.0.0.2 @carol : PSK \"carol's own\"\n", 100*time.Millisecond)
	common := []string{"--psk", "--encrypt", "--tunnel", "--aggrmode", "--ike", "aes128-sha1-modp2048"}
	for _, c := range [][]string{
		{"--name", "a-rw", "--host", "127.0.0.2", "--ikeport", itoa(gw.port), "--client", "10.2.0.0/24", "--to", "--host", "%any"},
		{"--name", "z-carol", "--host", "127.0.0.2", "--ikeport", itoa(gw.port), "--client", "10.2.0.0/24", "--to", "--host", "%any", "--id", "@carol"},
	} {
		if out, code := gw.whack(t, append(c, common...)...); code != 0 {
			t.Fatalf("add: %d %s", code, out)
		}
	}
	rw := startDaemon(t, "127.0.0.8", "@carol 127.0.0.2 : PSK \"carol's own\"\n", 100*time.Millisecond)
	args := append([]string{"--name", "home", "--host", "127.0.0.8", "--ikeport", itoa(rw.port), "--id", "@carol",
		"--to", "--host", "127.0.0.2", "--ikeport", itoa(gw.port), "--client", "10.2.0.0/24", "--keyingtries", "1"}, common...)
	if out, code := rw.whack(t, args...); code != 0 {
		t.Fatalf("add: %d %s", code, out)
	}
	if out, code := rw.whack(t, "--name", "home", "--initiate"); code != 0 {
		t.Fatalf("carol: exit %d\n%s\ngateway:\n%s", code, out, gw.log)
	}
	if !strings.Contains(gw.log.String(), `switched from "a-rw" to "z-carol" for peer ID '@carol'`) {
		t.Errorf("no switch in the gateway log:\n%s", gw.log)
	}
	if st, _ := gw.whack(t, "--status"); !regexp.MustCompile(`"z-carol"\[\d+\] 127\.0\.0\.8: [^\n]*; erouted`).MatchString(st) {
		t.Errorf("carol's IPsec SA is not on z-carol:\n%s", st)
	}
}
