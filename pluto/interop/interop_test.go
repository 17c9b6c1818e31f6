// Package interop runs our pluto against strongSwan 5.9.8 and libreswan 4.10
// in network namespaces (the harness in ../shared/peers): every peer, both
// roles, a set of proposals, and the failure cases, and prints a pass/fail
// matrix. It needs root; it skips with a one-line reason otherwise, or when
// the peers are not installed (GOSWAN_INTEROP=1 installs them, as .ci/run does).
package interop

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	peersDir string
	binDir   string
)

const (
	westIP  = "192.0.2.1"
	eastIP  = "192.0.2.2"
	westNet = "10.1.0.0/24"
	eastNet = "10.2.0.0/24"
	thePSK  = "harness-psk-0123456789"
)

// repoRoot finds the module root from the test's directory.
func repoRoot() string {
	d, _ := os.Getwd()
	for i := 0; i < 5; i++ {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		d = filepath.Dir(d)
	}
	return ""
}

// setup checks root, the peers, installs them when asked, and builds our binaries.
func setup(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("interop: needs root for network namespaces")
	}
	root := repoRoot()
	peersDir = filepath.Join(root, "..", "shared", "peers")
	if _, err := os.Stat(filepath.Join(peersDir, "ss.sh")); err != nil {
		t.Skipf("interop: peer harness not found at %s", peersDir)
	}
	installed := func() bool {
		_, e1 := os.Stat("/usr/lib/ipsec/charon")
		_, e2 := os.Stat(filepath.Join(peersDir, ".root", "libreswan", "usr", "libexec", "ipsec", "pluto"))
		_, e3 := os.Stat(filepath.Join(peersDir, ".root", "fakesa.so"))
		return e1 == nil && e2 == nil && e3 == nil
	}
	if !installed() {
		if os.Getenv("GOSWAN_INTEROP") != "1" {
			t.Skip("interop: peers not installed (run ../shared/peers/install.sh, or set GOSWAN_INTEROP=1)")
		}
		out, err := exec.Command(filepath.Join(peersDir, "install.sh")).CombinedOutput()
		if err != nil || !installed() {
			t.Skipf("interop: cannot install the peers: %v\n%s", err, lastLines(string(out), 10))
		}
	}
	binDir = t.TempDir()
	cmd := exec.Command("go", "build", "-o", binDir+"/", "./pluto/cmd/pluto", "./whack/cmd/whack")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// run executes a harness script with env and a timeout.
func run(t *testing.T, env []string, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(peersDir, name), args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("timed out after %s", timeout)
	}
}

// ours is our pluto running in a namespace.
type ours struct {
	ns, ip  string
	dir     string
	ctlbase string
	cmd     *exec.Cmd
	log     *bytes.Buffer
}

func startOurs(t *testing.T, ns, ip string) *ours {
	t.Helper()
	o := &ours{ns: ns, ip: ip, dir: t.TempDir(), log: &bytes.Buffer{}}
	o.ctlbase = filepath.Join(o.dir, "pluto")
	secrets := fmt.Sprintf("%s %s : PSK %q\n", westIP, eastIP, thePSK)
	if err := os.WriteFile(filepath.Join(o.dir, "ipsec.secrets"), []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	o.cmd = exec.Command("ip", "netns", "exec", ns, filepath.Join(binDir, "pluto"), "--nofork", "--stderrlog",
		"--use-nostack", "--listen", ip, "--ctlbase", o.ctlbase, "--secretsfile", filepath.Join(o.dir, "ipsec.secrets"),
		"--retransmit-interval", "1s")
	o.cmd.Stderr = o.log
	if err := o.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(o.ctlbase + ".ctl"); err == nil {
			return o
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("our pluto did not start:\n%s", o.log)
	return nil
}

func (o *ours) whack(args ...string) (string, int) {
	cmd := exec.Command(filepath.Join(binDir, "whack"), append([]string{"--ctlbase", o.ctlbase}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return string(out), code
}

func (o *ours) stop() {
	o.whack("--shutdown")
	done := make(chan struct{})
	go func() { o.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		o.cmd.Process.Kill()
		<-done
	}
}

// proposal is one row of the matrix, in each implementation's syntax.
type proposal struct {
	name      string
	ours      []string // whack options
	ssIKE     string
	ssESP     string
	lswIKE    string
	lswESP    string
	lswPFS    string
	onlySS    bool // libreswan 4.10 refuses modp1024
	transport bool
}

var proposals = []proposal{
	{name: "aes128-sha1-modp2048", ours: []string{"--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1"},
		ssIKE: "aes128-sha1-modp2048", ssESP: "aes128-sha1", lswIKE: "aes128-sha1;modp2048", lswESP: "aes128-sha1", lswPFS: "no"},
	{name: "aes256-sha2_256-modp2048", ours: []string{"--ike", "aes256-sha2_256-modp2048", "--esp", "aes256-sha2_256"},
		ssIKE: "aes256-sha256-modp2048", ssESP: "aes256-sha256", lswIKE: "aes256-sha2_256;modp2048", lswESP: "aes256-sha2_256", lswPFS: "no"},
	{name: "3des-sha1-modp1536-pfs", ours: []string{"--ike", "3des-sha1-modp1536", "--esp", "3des-sha1", "--pfs"},
		ssIKE: "3des-sha1-modp1536", ssESP: "3des-sha1-modp1536", lswIKE: "3des-sha1;modp1536", lswESP: "3des-sha1", lswPFS: "yes"},
	{name: "aes128-sha2_256-ecp256-gcm", ours: []string{"--ike", "aes128-sha2_256-ecp256", "--esp", "aes_gcm16_128"},
		ssIKE: "aes128-sha256-ecp256", ssESP: "aes128gcm16", lswIKE: "aes128-sha2_256;dh19", lswESP: "aes_gcm16_128", lswPFS: "no"},
	{name: "aes256-sha1-ecp384-pfs", ours: []string{"--ike", "aes256-sha1-ecp384", "--esp", "aes128-sha2_256", "--pfs"},
		ssIKE: "aes256-sha1-ecp384", ssESP: "aes128-sha256-ecp384", lswIKE: "aes256-sha1;dh20", lswESP: "aes128-sha2_256", lswPFS: "yes"},
	{name: "3des-sha1-modp1024-pfs", ours: []string{"--ike", "3des-sha1-modp1024", "--esp", "3des-sha1", "--pfs"},
		ssIKE: "3des-sha1-modp1024", ssESP: "3des-sha1-modp1024", onlySS: true},
	{name: "aes128-sha1-modp2048-transport", ours: []string{"--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1"},
		ssIKE: "aes128-sha1-modp2048", ssESP: "aes128-sha1", lswIKE: "aes128-sha1;modp2048", lswESP: "aes128-sha1", lswPFS: "no",
		transport: true},
}

// matrix collects results for the report.
type matrix struct {
	mu   sync.Mutex
	rows map[string]string
}

func (m *matrix) set(key, result string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows[key] = result
}

func (m *matrix) report(t *testing.T) {
	keys := make([]string, 0, len(m.rows))
	for k := range m.rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	pass, fail := 0, 0
	b.WriteString("interop matrix (peer / our role / case):\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-60s %s\n", k, m.rows[k])
		if m.rows[k] == "PASS" {
			pass++
		} else {
			fail++
		}
	}
	fmt.Fprintf(&b, "interop: %d passed, %d failed\n", pass, fail)
	t.Log(b.String())
	if f := os.Getenv("GOSWAN_INTEROP_REPORT"); f != "" {
		os.WriteFile(f, []byte(b.String()), 0o644)
	}
}

var spiRE = regexp.MustCompile(`ESP=>0x([0-9a-f]{8}) <0x([0-9a-f]{8})`)
