package interop

// XAUTH and ModeCfg against strongSwan 5.9.8 (a second authentication
// round "xauth" with the xauth-generic plugin, a swanctl pool for the
// address, DNS and WINS) and libreswan 4.10 (left/rightxauthserver,
// left/rightmodecfgserver, rightaddresspool, xauthby=file with an
// ipsec.d/passwd), our pluto as XAUTH/ModeCfg client and as server, ModeCfg
// pushed and pulled, and a wrong password, which must be refused with the
// peer told. The harness scripts write neither, so the configurations are
// generated here: strongSwan's charon is started by this file (ss.sh's
// plugin list has no xauth-generic), libreswan's pluto by lsw.sh with the
// extra connection added from a file of ours.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	xauthUser = "alice"
	xauthPass = "wonderland"
	leaseIP   = "10.9.0.5"
	leaseDNS  = "10.2.0.53"
	leaseWINS = "10.2.0.137"
)

// xauthCase is one cell of the XAUTH matrix.
type xauthCase struct {
	peer   string // "ss", "lsw" or "ours"
	server bool   // our pluto is the XAUTH/ModeCfg server (responder)
	pull   bool   // ModeCfg pull instead of push
	wrong  bool   // the client sends a wrong password
	aggr   bool   // Aggressive Mode instead of Main Mode
	ourNS  string
	peerNS string
	usIP   string
	peerIP string
	us     *ours
	peerUs *ours
	charon *exec.Cmd
	ssDir  string
	lswRun string
}

func TestInteropXAuth(t *testing.T) {
	setup(t)
	m := &matrix{rows: map[string]string{}}
	defer m.report(t)
	for _, peer := range []string{"ss", "lsw", "ours"} {
		for _, server := range []bool{false, true} {
			for _, v := range []struct {
				name              string
				pull, wrong, aggr bool
			}{{"push", false, false, false}, {"pull", true, false, false}, {"wrong-password", false, true, false},
				{"aggressive-pull", true, false, true}} {
				if peer == "ours" && server {
					continue // two of ours: one run covers both roles
				}
				role := "client"
				if server {
					role = "server"
				}
				c := &xauthCase{peer: peer, server: server, pull: v.pull, wrong: v.wrong, aggr: v.aggr}
				name := fmt.Sprintf("%s/%s/%s", peer, role, v.name)
				m.run(t, fmt.Sprintf("%-5s %-9s xauth+modecfg %s", peer, role, v.name), name, func(t *testing.T) {
					defer c.stop(t)
					if err := c.start(t); err != nil {
						t.Fatal(err)
					}
					c.check(t)
				})
			}
		}
	}
}

// start brings up the namespaces, the peer and our pluto.
func (c *xauthCase) start(t *testing.T) error {
	run(t, nil, 10*time.Second, "topo.sh", "down")
	if out, err := run(t, nil, 10*time.Second, "topo.sh", "up"); err != nil {
		return fmt.Errorf("topo up: %v %s", err, out)
	}
	// The client initiates: it is in west.
	c.ourNS, c.peerNS, c.usIP, c.peerIP = "west", "east", westIP, eastIP
	if c.server {
		c.ourNS, c.peerNS, c.usIP, c.peerIP = "east", "west", eastIP, westIP
	}
	var err error
	switch c.peer {
	case "ss":
		err = c.startCharon(t)
	case "lsw":
		err = c.startLibreswan(t)
	case "ours":
		c.peerUs = startOurs(t, c.peerNS, c.peerIP)
		err = c.configureOurs(c.peerUs, !c.server)
	}
	if err != nil {
		return err
	}
	c.us = startOurs(t, c.ourNS, c.usIP)
	return c.configureOurs(c.us, c.server)
}

// configureOurs adds the road-warrior connection to one of our plutos, as
// the server (XAUTH users in its ipsec.secrets, the address to hand out as
// the client's --client) or as the client.
func (c *xauthCase) configureOurs(o *ours, server bool) error {
	secrets := fmt.Sprintf("%s %s : PSK %q\n", westIP, eastIP, thePSK)
	if server {
		secrets += fmt.Sprintf("@%s : XAUTH %q\n", xauthUser, xauthPass)
	}
	if err := os.WriteFile(filepath.Join(o.dir, "ipsec.secrets"), []byte(secrets), 0o600); err != nil {
		return err
	}
	if os.Getenv("GOSWAN_XAUTH_DEBUG") != "" {
		o.whack("--debug-all")
	}
	if out, code := o.whack("--rereadsecrets"); code != 0 {
		return fmt.Errorf("rereadsecrets: %d %s", code, out)
	}
	client := []string{"--host", westIP, "--xauthclient", "--modecfgclient"}
	if server {
		client = append(client, "--client", leaseIP+"/32")
	}
	args := append([]string{"--name", "rw"}, client...)
	args = append(args, "--to", "--host", eastIP, "--client", eastNet, "--xauthserver", "--modecfgserver",
		"--modecfgdns1", leaseDNS, "--modecfgwins1", leaseWINS,
		"--psk", "--encrypt", "--tunnel", "--keyingtries", "1", "--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1")
	if c.pull {
		args = append(args, "--modecfgpull")
	}
	if c.aggr {
		args = append(args, "--aggrmode")
	}
	if out, code := o.whack(args...); code != 0 {
		return fmt.Errorf("whack add: %d %s", code, out)
	}
	return nil
}

func (c *xauthCase) password() string {
	if c.wrong {
		return "not-" + xauthPass
	}
	return xauthPass
}

// startCharon writes strongswan.conf and swanctl.conf for the peer's role
// and starts charon in its namespace (as ss.sh does: a private /run, the
// vici socket in our directory, fakesa.so for the SAs).
func (c *xauthCase) startCharon(t *testing.T) error {
	c.ssDir = t.TempDir()
	for _, d := range []string{"conf.d", "private", "pubkey", "x509", "x509ca", "rsa", "ecdsa", "pkcs8"} {
		os.MkdirAll(filepath.Join(c.ssDir, "swanctl", d), 0o755)
	}
	conf := fmt.Sprintf(`charon {
    load = random nonce openssl aes sha1 sha2 md5 hmac gmp pem pkcs1 pubkey x509 kernel-netlink socket-default vici xauth-generic attr
    port = 500
    port_nat_t = 4500
    i_dont_care_about_security_and_use_aggressive_mode_psk = yes
    retransmit_tries = 2
    retransmit_timeout = 2.0
    install_virtual_ip = no
    filelog {
        main {
            path = %s/charon.log
            append = no
            flush_line = yes
            default = 1
            ike = 2
            cfg = 2
        }
    }
    plugins {
        vici {
            socket = unix://%s/charon.vici
        }
    }
}
swanctl {
    load = random nonce openssl pem pkcs1 pubkey x509
}
`, c.ssDir, c.ssDir)
	if err := os.WriteFile(filepath.Join(c.ssDir, "strongswan.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	pull := "no"
	if c.pull {
		pull = "yes"
	}
	aggr := "no"
	if c.aggr {
		aggr = "yes"
	}
	var sw string
	if c.server {
		// strongSwan is the client: a second local round "xauth", a virtual IP.
		sw = fmt.Sprintf(`connections {
    rw {
        version = 1
        local_addrs = %[1]s
        remote_addrs = %[2]s
        proposals = aes128-sha1-modp2048
        aggressive = %[8]s
        vips = 0.0.0.0
        pull = %[3]s
        local { auth = psk
                id = %[1]s }
        local-xauth { auth = xauth
                      xauth_id = %[4]s }
        remote { auth = psk
                 id = %[2]s }
        children { net { remote_ts = %[5]s
                         esp_proposals = aes128-sha1
                         start_action = none } }
    }
}
secrets {
    ike-psk { id-a = %[1]s
              id-b = %[2]s
              secret = "%[6]s" }
    xauth-alice { id = %[4]s
                  secret = "%[7]s" }
}
`, westIP, eastIP, pull, xauthUser, eastNet, thePSK, c.password(), aggr)
	} else {
		// strongSwan is the server: a second remote round "xauth", a pool.
		sw = fmt.Sprintf(`connections {
    rw {
        version = 1
        local_addrs = %[1]s
        remote_addrs = %[2]s
        proposals = aes128-sha1-modp2048
        aggressive = %[11]s
        pools = rwpool
        pull = %[3]s
        local { auth = psk
                id = %[1]s }
        remote { auth = psk
                 id = %[2]s }
        remote-xauth { auth = xauth }
        children { net { local_ts = %[4]s
                         esp_proposals = aes128-sha1
                         start_action = none } }
    }
}
pools {
    rwpool { addrs = %[5]s/32
             dns = %[6]s
             nbns = %[7]s }
}
secrets {
    ike-psk { id-a = %[1]s
              id-b = %[2]s
              secret = "%[8]s" }
    xauth-alice { id = %[9]s
                  secret = "%[10]s" }
}
`, eastIP, westIP, pull, eastNet, leaseIP, leaseDNS, leaseWINS, thePSK, xauthUser, xauthPass, aggr)
	}
	if err := os.WriteFile(filepath.Join(c.ssDir, "swanctl", "swanctl.conf"), []byte(sw), 0o600); err != nil {
		return err
	}
	c.charon = exec.Command("ip", "netns", "exec", c.peerNS, "env", "LD_PRELOAD="+filepath.Join(peersDir, ".root", "fakesa.so"),
		"unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs tmpfs /run && exec env STRONGSWAN_CONF="$1" /usr/lib/ipsec/charon`, "_", filepath.Join(c.ssDir, "strongswan.conf"))
	if err := c.charon.Start(); err != nil {
		return err
	}
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(filepath.Join(c.ssDir, "charon.vici")); err == nil {
			out, err := c.swanctl("--load-all", "--noprompt")
			if err != nil {
				return fmt.Errorf("swanctl --load-all: %v %s", err, out)
			}
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("charon did not start")
}

func (c *xauthCase) swanctl(args ...string) (string, error) {
	cmd := exec.Command("swanctl", append(args, "--uri", "unix://"+filepath.Join(c.ssDir, "charon.vici"))...)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+filepath.Join(c.ssDir, "strongswan.conf"), "SWANCTL_DIR="+filepath.Join(c.ssDir, "swanctl"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startLibreswan starts libreswan with lsw.sh and adds the connection "rw"
// from a file of ours (and, as the server, the passwd file of xauthby=file).
func (c *xauthCase) startLibreswan(t *testing.T) error {
	name := c.peerNS + "-lsw-xauth"
	debug := "none"
	if d := os.Getenv("GOSWAN_LSW_DEBUG"); d != "" {
		debug = d // e.g. "crypt": libreswan's IVs and decrypted payloads in run/NAME/pluto.log
	}
	env := []string{"PSK=" + thePSK, "FAKESA=1", "DEBUG=" + debug}
	if out, err := run(t, env, 30*time.Second, "lsw.sh", "start", name, c.peerNS, c.peerIP, c.usIP, "10.3.0.0/24", "10.4.0.0/24"); err != nil {
		return fmt.Errorf("lsw start: %v %s", err, lastLines(out, 10))
	}
	c.lswRun = name
	dir := filepath.Join(peersDir, "run", name)
	pull := "no"
	if c.pull {
		pull = "yes"
	}
	aggr := "no"
	if c.aggr {
		aggr = "yes"
	}
	conf := "config setup\n\tikev1-policy=accept\n\tplutodebug=none\n\nconn rw\n\tikev2=no\n\tauthby=secret\n\taggressive=" + aggr + "\n" +
		"\tike=aes128-sha1;modp2048\n\tesp=aes128-sha1\n\tpfs=no\n\trekey=no\n\tkeyingtries=1\n\tmodecfgpull=" + pull + "\n"
	if c.server {
		// libreswan is the client, in west.
		conf += fmt.Sprintf("\tleft=%s\n\tleftid=%s\n\tleftxauthclient=yes\n\tleftmodecfgclient=yes\n\tleftusername=%s\n"+
			"\tright=%s\n\trightid=%s\n\trightsubnet=%s\n\trightxauthserver=yes\n\trightmodecfgserver=yes\n\tauto=add\n",
			westIP, westIP, xauthUser, eastIP, eastIP, eastNet)
	} else {
		hash, err := exec.Command("openssl", "passwd", "-1", xauthPass).Output()
		if err != nil {
			return fmt.Errorf("openssl passwd: %v", err)
		}
		passwd := fmt.Sprintf("%s:%s:rw\n", xauthUser, strings.TrimSpace(string(hash)))
		if err := os.WriteFile(filepath.Join(dir, "ipsec.d", "passwd"), []byte(passwd), 0o600); err != nil {
			return err
		}
		conf += fmt.Sprintf("\tleft=%s\n\tleftid=%s\n\tleftsubnet=%s\n\tleftxauthserver=yes\n\tleftmodecfgserver=yes\n"+
			"\tright=%s\n\trightid=%s\n\trightxauthclient=yes\n\trightmodecfgclient=yes\n\trightaddresspool=%s-%s\n"+
			"\tmodecfgdns=%s\n\txauthby=file\n\tauto=add\n",
			eastIP, eastIP, eastNet, westIP, westIP, leaseIP, leaseIP, leaseDNS)
	}
	f := filepath.Join(dir, "rw.conf")
	if err := os.WriteFile(f, []byte(conf), 0o644); err != nil {
		return err
	}
	if out, err := runScript(t, env, "lsw.sh", "ipsec", name, "auto", "--config", f, "--add", "rw"); err != nil {
		return fmt.Errorf("auto --add rw: %v %s", err, out)
	}
	return nil
}

// initiate starts the negotiation from the client and returns its output
// and whether the client says it succeeded.
func (c *xauthCase) initiate(t *testing.T) (string, bool) {
	if !c.server {
		out, code := c.us.whack("--name", "rw", "--initiate", "--xauthuser", xauthUser, "--xauthpass", c.password())
		return out, code == 0
	}
	switch c.peer {
	case "ss":
		out, err := c.swanctl("--initiate", "--child", "net", "--timeout", "20")
		return out, err == nil
	case "lsw":
		out, err := run(t, nil, 30*time.Second, "lsw.sh", "whack", c.lswRun, "--name", "rw", "--initiate",
			"--xauthname", xauthUser, "--xauthpass", c.password())
		return out, err == nil && strings.Contains(out, "IPsec SA established")
	}
	out, code := c.peerUs.whack("--name", "rw", "--initiate", "--xauthuser", xauthUser, "--xauthpass", c.password())
	return out, code == 0
}

// peerLog is what the peer logged (for failures and for "the peer was told").
func (c *xauthCase) peerLog() string {
	switch c.peer {
	case "ss":
		b, _ := os.ReadFile(filepath.Join(c.ssDir, "charon.log"))
		return string(b)
	case "lsw":
		b, _ := os.ReadFile(filepath.Join(peersDir, "run", c.lswRun, "pluto.log"))
		return string(b)
	}
	return c.peerUs.log.String()
}

func (c *xauthCase) check(t *testing.T) {
	out, ok := c.initiate(t)
	time.Sleep(300 * time.Millisecond) // the responder's last lines
	ourStatus, _ := c.us.whack("--status")
	if c.wrong {
		if ok {
			t.Fatalf("a wrong password was accepted:\n%s", out)
		}
		ourLog := c.us.log.String()
		if c.server {
			// We refused it and told the client (STATUS FAIL, then Delete).
			if !strings.Contains(ourLog, "XAUTH: User alice: Authentication Failed") {
				t.Errorf("our log:\n%s", lastLines(ourLog, 20))
			}
			told := map[string]string{"ss": "XAuth authentication of 'alice' (myself) failed", "lsw": "Received Cisco XAUTH status: FAIL",
				"ours": "XAUTH: the server refused our credentials"}[c.peer]
			if !strings.Contains(c.peerLog()+out, told) {
				t.Errorf("the client was not told (want %q):\n%s\n%s", told, out, lastLines(c.peerLog(), 30))
			}
		} else if !strings.Contains(out, "037 \"rw\" #1: XAUTH: the server refused our credentials") {
			t.Errorf("whack was not told:\n%s", out)
		}
		if strings.Contains(ourStatus, "STATE_QUICK") || strings.Contains(ourStatus, "STATE_MAIN") || strings.Contains(ourStatus, "STATE_XAUTH") {
			t.Errorf("states left after a failed XAUTH:\n%s", ourStatus)
		}
		return
	}
	if c.aggr && !strings.Contains(c.us.log.String(), "STATE_AGGR_") {
		t.Errorf("not Aggressive Mode:\n%s", lastLines(c.us.log.String(), 20))
	}
	if !ok {
		t.Fatalf("initiate failed:\n%s\nour log:\n%s\npeer log:\n%s", out, lastLines(c.us.log.String(), 30), lastLines(c.peerLog(), 40))
	}
	want := []string{"STATE_QUICK_I2", "modecfg address " + leaseIP}
	if c.server {
		want = []string{"STATE_QUICK_R2", `XAUTH user "alice" authenticated`, "modecfg address " + leaseIP}
	}
	for _, w := range want {
		if !strings.Contains(ourStatus, w) {
			t.Errorf("our status lacks %q:\n%s\npeer log:\n%s", w, ourStatus, lastLines(c.peerLog(), 40))
		}
	}
	if !c.server && !strings.Contains(ourStatus, "DNS "+leaseDNS) {
		t.Errorf("no DNS server received:\n%s", ourStatus)
	}
	// The Phase 2 selectors use the address: 10.9.0.5/32 <-> 10.2.0.0/24.
	if !strings.Contains(ourStatus, leaseIP+"/32") {
		t.Errorf("the ModeCfg address is not a Phase 2 client:\n%s", ourStatus)
	}
	switch c.peer {
	case "ss":
		sas, _ := c.swanctl("--list-sas")
		if !strings.Contains(sas, "INSTALLED") || !strings.Contains(sas, leaseIP+"/32") {
			t.Errorf("strongSwan SAs:\n%s", sas)
		}
	case "lsw":
		st, _ := run(t, nil, 10*time.Second, "lsw.sh", "ipsec", c.lswRun, "trafficstatus")
		if !strings.Contains(st, "rw") {
			t.Errorf("libreswan trafficstatus:\n%s", st)
		}
	}
}

func (c *xauthCase) stop(t *testing.T) {
	if c.us != nil {
		c.us.stop()
	}
	if c.peerUs != nil {
		c.peerUs.stop()
	}
	if c.charon != nil && c.charon.Process != nil {
		c.charon.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { c.charon.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			c.charon.Process.Kill()
			<-done
		}
	}
	if c.lswRun != "" {
		runScript(t, nil, "lsw.sh", "stop", c.lswRun)
	}
	run(t, nil, 10*time.Second, "topo.sh", "down")
}
