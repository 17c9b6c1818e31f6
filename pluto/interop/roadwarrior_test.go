package interop

// Road Warriors in network namespaces: one goswan gateway with a %any
// connection (namespace rwgw, 198.51.100.1 on a bridge) and initiators in
// namespaces of their own (rw1 198.51.100.11 strongSwan, rw2 .12 libreswan,
// rw3 .13 goswan). Each gets its own instance of the template; rw3 with ID
// @alice makes the gateway switch to the connection made for @alice; with
// @mallory nothing fits and it is refused. Main Mode with a pre-shared key:
// one secret for every Road Warrior (the manual's limitation).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	rwGateway = "198.51.100.1"
	rwPSK     = "one-secret-for-all-road-warriors"
	rwNet     = "10.2.0.0/24"
)

// rwTopo creates rwgw with a bridge and rw1..rw3 plugged into it.
func rwTopo(t *testing.T) (cleanup func()) {
	t.Helper()
	nss := []string{"rwgw", "rw1", "rw2", "rw3"}
	del := func() {
		for _, ns := range nss {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	}
	del()
	cmds := [][]string{}
	for _, ns := range nss {
		cmds = append(cmds, []string{"netns", "add", ns}, []string{"-n", ns, "link", "set", "lo", "up"})
	}
	cmds = append(cmds, []string{"-n", "rwgw", "link", "add", "br0", "type", "bridge"},
		[]string{"-n", "rwgw", "addr", "add", rwGateway + "/24", "dev", "br0"},
		[]string{"-n", "rwgw", "link", "set", "br0", "up"})
	for i := 1; i <= 3; i++ {
		ns, dev, port := fmt.Sprintf("rw%d", i), fmt.Sprintf("rw%d-0", i), fmt.Sprintf("rwp%d", i)
		cmds = append(cmds, []string{"link", "add", dev, "netns", ns, "type", "veth", "peer", "name", port, "netns", "rwgw"},
			[]string{"-n", "rwgw", "link", "set", port, "master", "br0", "up"},
			[]string{"-n", ns, "addr", "add", fmt.Sprintf("198.51.100.1%d/24", i), "dev", dev},
			[]string{"-n", ns, "link", "set", dev, "up"})
	}
	for _, c := range cmds {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			del()
			t.Fatalf("ip %v: %v %s", c, err, out)
		}
	}
	return del
}

// TestInteropRoadWarriors: see the file comment.
func TestInteropRoadWarriors(t *testing.T) {
	setup(t)
	mx := &matrix{rows: map[string]string{}}
	defer mx.report(t)
	defer rwTopo(t)()

	gw := startOurs(t, "rwgw", rwGateway)
	defer gw.stop()
	secrets := fmt.Sprintf("%s %%any : PSK %q\n", rwGateway, rwPSK)
	if err := os.WriteFile(filepath.Join(gw.dir, "ipsec.secrets"), []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--psk", "--encrypt", "--tunnel", "--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1"}
	for _, a := range [][]string{
		{"--rereadsecrets"},
		append([]string{"--name", "a-rw", "--host", rwGateway, "--client", rwNet, "--to", "--host", "%any"}, common...),
		append([]string{"--name", "z-alice", "--host", rwGateway, "--client", rwNet, "--to", "--host", "%any", "--id", "@alice"}, common...),
	} {
		if out, code := gw.whack(a...); code != 0 {
			t.Fatalf("gateway whack %v: %d %s", a, code, out)
		}
	}
	// The initiators stay up until the end (their SAs are counted there).
	defer runScript(t, nil, "ss.sh", "stop", "rw1-ss")
	defer runScript(t, nil, "lsw.sh", "stop", "rw2-lsw")
	gwStatus := func() string { st, _ := gw.whack("--status"); return st }
	instanceRE := func(conn, ip string) *regexp.Regexp {
		return regexp.MustCompile(`"` + conn + `"\[\d+\] ` + regexp.QuoteMeta(ip) + `: .*; erouted`)
	}

	// rw1: strongSwan.
	mx.run(t, "rw   responder  strongswan-initiator-own-instance", "strongswan", func(t *testing.T) {
		env := []string{"IKE=aes128-sha1-modp2048", "ESP=aes128-sha1", "PSK=" + rwPSK, "LIBIPSEC=0", "FAKESA=1", "LOGLEVEL=1"}
		if out, err := run(t, env, 30*time.Second, "ss.sh", "start", "rw1-ss", "rw1", "198.51.100.11", rwGateway, "198.51.100.11/32", rwNet); err != nil {
			t.Fatalf("start: %v %s", err, out)
		}
		if out, err := runScript(t, nil, "ss.sh", "initiate", "rw1-ss", "net"); err != nil {
			t.Fatalf("initiate: %v\n%s\ngateway:\n%s", err, lastLines(out, 15), lastLines(gw.log.String(), 15))
		}
		if st := gwStatus(); !instanceRE("a-rw", "198.51.100.11").MatchString(st) {
			t.Errorf("no erouted a-rw instance for 198.51.100.11:\n%s", st)
		}
	})
	// rw2: libreswan.
	mx.run(t, "rw   responder  libreswan-initiator-own-instance", "libreswan", func(t *testing.T) {
		env := []string{"IKE=aes128-sha1;modp2048", "ESP=aes128-sha1", "PFS=no", "PSK=" + rwPSK, "FAKESA=1", "DEBUG=none"}
		if out, err := run(t, env, 30*time.Second, "lsw.sh", "start", "rw2-lsw", "rw2", "198.51.100.12", rwGateway, "198.51.100.12/32", rwNet); err != nil {
			t.Fatalf("start: %v %s", err, out)
		}
		if out, err := runScript(t, nil, "lsw.sh", "up", "rw2-lsw"); err != nil {
			t.Fatalf("up: %v\n%s\ngateway:\n%s", err, lastLines(out, 15), lastLines(gw.log.String(), 15))
		}
		if st := gwStatus(); !instanceRE("a-rw", "198.51.100.12").MatchString(st) {
			t.Errorf("no erouted a-rw instance for 198.51.100.12:\n%s", st)
		}
	})
	// rw3: goswan as @alice, then as @mallory.
	rw3 := startOurs(t, "rw3", "198.51.100.13")
	defer rw3.stop()
	rw3secrets := fmt.Sprintf("@alice %s : PSK %q\n@mallory %s : PSK %q\n", rwGateway, rwPSK, rwGateway, rwPSK)
	if err := os.WriteFile(filepath.Join(rw3.dir, "ipsec.secrets"), []byte(rw3secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	rw3.whack("--rereadsecrets")
	// One connection per identity on rw3 (alice's SAs stay up while
	// mallory tries).
	roam := func(id string) (string, int) {
		name := "home-" + id[1:]
		args := append([]string{"--name", name, "--host", "198.51.100.13", "--id", id, "--to", "--host", rwGateway, "--client", rwNet,
			"--keyingtries", "1"}, common...)
		if out, code := rw3.whack(args...); code != 0 {
			return out, code
		}
		return rw3.whack("--name", name, "--initiate")
	}
	mx.run(t, "rw   responder  goswan-initiator-switch-to-@alice", "alice", func(t *testing.T) {
		if out, code := roam("@alice"); code != 0 {
			t.Fatalf("alice: exit %d\n%s\ngateway:\n%s", code, out, lastLines(gw.log.String(), 15))
		}
		if !strings.Contains(gw.log.String(), `switched from "a-rw" to "z-alice" for peer ID '@alice'`) {
			t.Errorf("no switch in the gateway log:\n%s", gw.log)
		}
		if st := gwStatus(); !instanceRE("z-alice", "198.51.100.13").MatchString(st) || instanceRE("a-rw", "198.51.100.13").MatchString(st) {
			t.Errorf("alice's IPsec SA is not on a z-alice instance for 198.51.100.13:\n%s", st)
		}
	})
	mx.run(t, "rw   responder  goswan-initiator-@mallory-refused", "mallory", func(t *testing.T) {
		if out, code := roam("@mallory"); code == 0 {
			t.Fatalf("mallory got in:\n%s", out)
		}
		if !strings.Contains(gw.log.String(), "no suitable connection for peer '@mallory'") {
			t.Errorf("refusal not logged:\n%s", gw.log)
		}
	})
	mx.run(t, "rw   responder  three-instances-three-ipsec-sas", "instances", func(t *testing.T) {
		st := gwStatus()
		if n := strings.Count(st, "STATE_QUICK_R2"); n != 3 {
			t.Errorf("%d IPsec SAs on the gateway, want 3 (rw1, rw2, alice):\n%s", n, st)
		}
		for _, x := range []struct{ conn, ip string }{{"a-rw", "198.51.100.11"}, {"a-rw", "198.51.100.12"}, {"z-alice", "198.51.100.13"}} {
			if !instanceRE(x.conn, x.ip).MatchString(st) {
				t.Errorf("no erouted %s instance for %s:\n%s", x.conn, x.ip, st)
			}
		}
	})
}
