package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"goswan/pluto"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// ipsecBinary builds this command once (setup start runs it as pluto).
func ipsecBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not in PATH: cannot build the ipsec binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ipsec-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ipsec")
		buildOut, buildErr = exec.Command(goBin, "build", "-o", binPath, ".").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func freePort(t *testing.T, ip string) int {
	t.Helper()
	c, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Skipf("cannot bind %s: %v", ip, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// host is one side of the end-to-end test: a directory with ipsec.conf,
// ipsec.secrets, the control socket and pluto's log.
type host struct {
	dir, bin string
}

func (h *host) ipsec(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(h.bin, args...)
	cmd.Env = append(os.Environ(), "IPSEC_CONFS="+h.dir, "IPSEC_CTLBASE="+filepath.Join(h.dir, "pluto"),
		"IPSEC_CONF=", "IPSEC_SECRETS=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ipsec %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

func (h *host) log() string {
	b, _ := os.ReadFile(filepath.Join(h.dir, "pluto.log"))
	return string(b)
}

const e2eConf = `# goswan end-to-end test: %[1]s
version 2.0

config setup
	protostack=nostack
	listen=%[2]s
	ikeport=%[3]d
	logfile=%[4]s/pluto.log
	keylog=%[4]s/keys.log
	plutodebug=none
	uniqueids=yes

conn %%default
	authby=secret
	left=127.0.0.1
	leftikeport=%[5]d
	right=127.0.0.2
	rightikeport=%[6]d
	ike=aes128-sha1-modp2048
	esp=aes128-sha1
	pfs=no
	keyingtries=1

conn west-east
	leftsubnet=10.1.0.0/24
	rightsubnet=10.2.0.0/24
	auto=add

conn started
	leftsubnet=10.1.1.0/24
	rightsubnet=10.2.1.0/24
	auto=%[7]s

conn routed
	leftsubnet=10.1.2.0/24
	rightsubnet=10.2.2.0/24
	auto=%[8]s

conn spare
	leftsubnet=10.1.3.0/24
	rightsubnet=10.2.3.0/24
	auto=ignore
`

var transcript = []*regexp.Regexp{
	regexp.MustCompile(`^104 "west-east" #\d+: STATE_MAIN_I1: initiate$`),
	regexp.MustCompile(`^106 "west-east" #\d+: STATE_MAIN_I2: sent MI2, expecting MR2$`),
	regexp.MustCompile(`^108 "west-east" #\d+: STATE_MAIN_I3: sent MI3, expecting MR3$`),
	regexp.MustCompile(`^004 "west-east" #\d+: STATE_MAIN_I4: ISAKMP SA established$`),
	regexp.MustCompile(`^112 "west-east" #\d+: STATE_QUICK_I1: initiate$`),
	regexp.MustCompile(`^004 "west-east" #\d+: STATE_QUICK_I2: sent QI2, IPsec SA established \{ESP=>0x[0-9a-f]{8} <0x[0-9a-f]{8}\}$`),
}

// TestSetupAuto: ipsec setup start on two hosts (127.0.0.1 and
// 127.0.0.2, ports from leftikeport=/rightikeport=), the auto=start conn
// comes up by itself and the auto=route one is routed; ipsec auto --up
// prints the contract's transcript; --status (and --json), --down,
// --delete, --add, --replace; ipsec setup stop.
func TestSetupAuto(t *testing.T) {
	bin := ipsecBinary(t)
	wport, eport := freePort(t, "127.0.0.1"), freePort(t, "127.0.0.2")
	west := &host{dir: t.TempDir(), bin: bin}
	east := &host{dir: t.TempDir(), bin: bin}
	psk := "127.0.0.1 127.0.0.2 : PSK \"e2e-psk-0123456789\"\n"
	for _, h := range []struct {
		h              *host
		name, ip       string
		port           int
		started, route string
	}{{west, "west", "127.0.0.1", wport, "start", "route"}, {east, "east", "127.0.0.2", eport, "add", "add"}} {
		conf := fmt.Sprintf(e2eConf, h.name, h.ip, h.port, h.h.dir, wport, eport, h.started, h.route)
		os.WriteFile(filepath.Join(h.h.dir, "ipsec.conf"), []byte(conf), 0o644)
		os.WriteFile(filepath.Join(h.h.dir, "ipsec.secrets"), []byte(psk), 0o600)
	}
	becomeSubreaper()
	var pids []int
	started := false
	defer func() {
		if started {
			west.ipsec(t, "setup", "stop")
			east.ipsec(t, "setup", "stop")
		}
		for _, pid := range pids {
			reap(pid)
		}
	}()

	// east first: west's auto=start conn initiates at once.
	for _, h := range []*host{east, west} {
		out, errs, code := h.ipsec(t, "setup", "start")
		started = true
		if code != 0 || !strings.Contains(out, `added connection description "west-east"`) || strings.Contains(out, `"spare"`) {
			t.Fatalf("setup start: exit %d\n%s\n%s\nlog:\n%s", code, out, errs, h.log())
		}
		if m := regexp.MustCompile(`pluto started \(pid (\d+)\)`).FindStringSubmatch(out); m != nil {
			var pid int
			fmt.Sscan(m[1], &pid)
			pids = append(pids, pid)
		}
	}
	if out, _, code := west.ipsec(t, "setup", "status"); code != 0 || !strings.Contains(out, "pluto is running") {
		t.Errorf("setup status: %d %s", code, out)
	}
	if out, _, code := west.ipsec(t, "setup", "start"); code != 0 || !strings.Contains(out, "already running") {
		t.Errorf("second setup start: %d %s", code, out)
	}

	// auto=start: up without anyone asking; auto=route: routed.
	deadline := time.Now().Add(5 * time.Second)
	var status string
	for {
		status, _, _ = west.ipsec(t, "auto", "--status")
		if strings.Contains(status, `"started":`) && regexp.MustCompile(`"started":\d+ STATE_QUICK_I2`).MatchString(status) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("auto=start conn not up:\n%s\nwest log:\n%s\neast log:\n%s", status, west.log(), east.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !regexp.MustCompile(`"routed": 10\.1\.2\.0/24===127\.0\.0\.1:\d+\.\.\.127\.0\.0\.2===10\.2\.2\.0/24; prospective erouted`).MatchString(status) {
		t.Errorf("auto=route conn not routed:\n%s", status)
	}

	// ipsec auto --up: the transcript of CONTRACT.md.
	out, errs, code := west.ipsec(t, "auto", "--up", "west-east")
	if code != 0 {
		t.Fatalf("auto --up: exit %d\n%s%s\nwest log:\n%s\neast log:\n%s", code, out, errs, west.log(), east.log())
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if len(l) >= 4 && l[0] == '0' && l[1] == '0' && l[2] <= '3' {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) != len(transcript) {
		t.Fatalf("transcript:\n%s", out)
	}
	for i, re := range transcript {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d %q does not match %s", i, lines[i], re)
		}
	}
	spi := regexp.MustCompile(`ESP=>0x([0-9a-f]{8}) <0x([0-9a-f]{8})`).FindStringSubmatch(out)

	status, _, code = west.ipsec(t, "auto", "--status")
	if code != 0 || !strings.Contains(status, "esp."+spi[1]+"@127.0.0.2") || !strings.Contains(status, `"west-east": 10.1.0.0/24===127.0.0.1`) {
		t.Errorf("auto --status: %d\n%s", code, status)
	}
	estatus, _, _ := east.ipsec(t, "auto", "--status")
	if !strings.Contains(estatus, "esp."+spi[2]+"@127.0.0.1") || !strings.Contains(estatus, "STATE_QUICK_R2") {
		t.Errorf("east status:\n%s", estatus)
	}
	jout, jerr, code := west.ipsec(t, "auto", "--status", "--json")
	var doc pluto.StatusDoc
	if err := json.Unmarshal([]byte(jout), &doc); err != nil || code != 0 || jerr != "" {
		t.Fatalf("auto --status --json: %d %v %s\n%s", code, err, jerr, jout)
	}
	if doc.Version != 1 || len(doc.Connections) != 3 || doc.Connections[0].Name != "routed" || doc.Connections[0].Routing != "prospective erouted" ||
		doc.Connections[1].Name != "started" || doc.Connections[2].Name != "west-east" || doc.Connections[2].Routing != "erouted" {
		t.Errorf("json status: %+v", doc.Connections)
	}
	ipsecSAs := 0
	for _, s := range doc.States {
		if s.IPsec != nil && s.Established && s.Connection == "west-east" && s.IPsec.OutboundSPI == spi[1] {
			ipsecSAs++
		}
	}
	if ipsecSAs != 1 {
		t.Errorf("json status lacks the west-east SA %s: %+v", spi[1], doc.States)
	}

	// The key log of config setup keylog=.
	if b, err := os.ReadFile(filepath.Join(west.dir, "keys.log")); err != nil || !strings.Contains(string(b), "0x"+spi[1]) {
		t.Errorf("keys.log: %v\n%s", err, b)
	}

	// --down, then the connection is still there and can come up again.
	if out, errs, code := west.ipsec(t, "auto", "--down", "west-east"); code != 0 || !strings.Contains(out, "terminating SAs") {
		t.Errorf("auto --down: %d %s %s", code, out, errs)
	}
	status, _, _ = west.ipsec(t, "auto", "--status")
	if regexp.MustCompile(`"west-east":\d+ STATE_QUICK`).MatchString(status) {
		t.Errorf("SA still there after --down:\n%s", status)
	}
	// --delete, --add (from ipsec.conf), --replace.
	if out, _, code := west.ipsec(t, "auto", "--delete", "west-east"); code != 0 {
		t.Errorf("auto --delete: %d %s", code, out)
	}
	if out, _, code := west.ipsec(t, "auto", "--up", "west-east"); code != 21 || !strings.Contains(out, "no connection named") {
		t.Errorf("--up after --delete: exit %d %s", code, out)
	}
	for _, op := range []string{"--add", "--replace"} {
		if out, errs, code := west.ipsec(t, "auto", op, "west-east"); code != 0 || !strings.Contains(out, `added connection description "west-east"`) {
			t.Errorf("auto %s: %d %s %s", op, code, out, errs)
		}
	}
	// A conn of the recorded libreswan vectors loads unchanged (it is not
	// ours, so it stays unoriented) and gives pluto its RSA keys.
	vec := filepath.Join("..", "..", "testdata", "testvectors", "lsw-ss-rsasig-aes128-sha1-modp2048.conf")
	if out, errs, code := west.ipsec(t, "auto", "--config", vec, "--add", "west-east"); code != 0 || !strings.Contains(out, `added connection description "west-east"`) {
		t.Errorf("auto --add from the testvector config: %d %s %s", code, out, errs)
	}
	if out, _, _ := west.ipsec(t, "whack", "--listpubkeys"); strings.Count(out, "2048 RSA Key") != 2 {
		t.Errorf("listpubkeys:\n%s", out)
	}
	if out, errs, code := west.ipsec(t, "auto", "--add", "nosuchconn"); code != 1 || !strings.Contains(errs, `conn "nosuchconn" not found`) {
		t.Errorf("--add nosuchconn: %d %s %s", code, out, errs)
	}
	if out, _, code := west.ipsec(t, "auto", "--rereadsecrets"); code != 0 {
		t.Errorf("--rereadsecrets: %d %s", code, out)
	}
	if out, _, code := west.ipsec(t, "auto", "--ready"); code != 0 || !strings.Contains(out, "listening for IKE messages") {
		t.Errorf("--ready: %d %s", code, out)
	}

	for _, h := range []*host{west, east} {
		if out, errs, code := h.ipsec(t, "setup", "stop"); code != 0 || !strings.Contains(out, "Stopping") {
			t.Errorf("setup stop: %d %s %s", code, out, errs)
		}
		if _, err := os.Stat(filepath.Join(h.dir, "pluto.pid")); err == nil {
			t.Errorf("%s: pid file left after stop", h.dir)
		}
		if out, _, code := h.ipsec(t, "setup", "status"); code != 3 || !strings.Contains(out, "stopped") {
			t.Errorf("status after stop: %d %s", code, out)
		}
	}
	started = false
	if out, _, code := west.ipsec(t, "setup", "stop"); code != 0 || !strings.Contains(out, "not running") {
		t.Errorf("second stop: %d %s", code, out)
	}
	if out, errs, code := west.ipsec(t, "auto", "--status"); code != 1 || !strings.Contains(errs, "Pluto is not running") {
		t.Errorf("status without pluto: %d %s %s", code, out, errs)
	}
}

// TestUsage: commands and errors that need no pluto (in process).
func TestUsage(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "ipsec.conf")
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(conf, []byte("conn a\n\tleft=192.0.2.1\n\tright=192.0.2.2\n\tauthby=secret\n\trightsubnets={10.1.0.0/24,10.2.0.0/24}\n\tauto=add\n"), 0o644)
	os.WriteFile(bad, []byte("conn a\n\tleft=192.0.2.1\n\tlefsubnet=10.0.0.0/8\n"), 0o644)
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"version"}, 0, "goswan IPsec", ""},
		{[]string{"--help"}, 0, "ipsec auto", ""},
		{nil, 1, "", "Usage"},
		{[]string{"frobnicate"}, 1, "", `unknown command "frobnicate"`},
		{[]string{"auto"}, 1, "", "no operation given"},
		{[]string{"auto", "--up"}, 1, "", "--up requires a connection name"},
		{[]string{"auto", "--status", "x"}, 1, "", "--status takes no connection name"},
		{[]string{"auto", "--up", "--down", "x"}, 1, "", "--down conflicts with --up"},
		{[]string{"auto", "--bogus", "x"}, 1, "", "unknown option --bogus"},
		{[]string{"auto", "--json", "--up", "x"}, 1, "", "--json goes with --status"},
		{[]string{"--config", bad, "auto", "--add", "a"}, 1, "", `bad.conf:3: conn "a": unknown keyword "lefsubnet"`},
		{[]string{"auto", "--config", bad, "--add", "a"}, 1, "", `bad.conf:3: conn "a": unknown keyword "lefsubnet"`},
		{[]string{"setup", "start", "--config", bad}, 1, "", "want one of start"},
		{[]string{"--config", bad, "setup", "start"}, 1, "", `unknown keyword "lefsubnet"`},
		{[]string{"--ctlbase", filepath.Join(dir, "none"), "auto", "--status"}, 1, "", "Pluto is not running"},
		{[]string{"--config", conf, "auto", "--showonly", "--add", "a"}, 0, `"name":"a/0x2"`, ""},
		{[]string{"--config", conf, "auto", "--showonly", "--up", "a", "--asynchronous"}, 0, `{"name":"a/0x1","initiate":true,"asynchronous":true}`, ""},
		{[]string{"--config", conf, "auto", "--showonly", "--status", "--json"}, 0, `{"status":true,"json":true}`, ""},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
			t.Errorf("ipsec %q: exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)",
				tc.args, code, tc.code, out.String(), tc.out, errb.String(), tc.err)
		}
	}
}
