package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildPluto compiles this command into a temporary directory.
func buildPluto(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not in PATH: cannot build the pluto binary")
	}
	bin := filepath.Join(t.TempDir(), "pluto")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer c.Close()
	return strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
}

func waitFor(path string) bool {
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return false
}

// TestLockAndSignals: a second pluto on the same ctlbase is refused with a
// clear message and exit 1; SIGTERM stops the first with exit 0 and removes
// the lock and the control socket.
func TestLockAndSignals(t *testing.T) {
	bin := buildPluto(t)
	dir := t.TempDir()
	ctl := filepath.Join(dir, "pluto")
	args := []string{"--nofork", "--stderrlog", "--use-nostack", "--listen", "127.0.0.1", "--ikeport", freePort(t),
		"--ctlbase", ctl, "--secretsfile", filepath.Join(dir, "none")}
	var logb bytes.Buffer
	first := exec.Command(bin, args...)
	first.Stderr = &logb
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	if !waitFor(ctl+".ctl") || !waitFor(ctl+".pid") {
		t.Fatalf("pluto did not start:\n%s", logb.String())
	}
	second := exec.Command(bin, args...)
	out, err := second.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "lock file") {
		t.Errorf("second pluto: err %v, output %q", err, out)
	}
	first.Process.Signal(syscall.SIGHUP)
	time.Sleep(50 * time.Millisecond)
	first.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("pluto exit: %v\n%s", err, logb.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pluto did not stop on SIGTERM")
	}
	for _, f := range []string{ctl + ".pid", ctl + ".ctl"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
	if !strings.Contains(logb.String(), "whack --listen") {
		t.Errorf("SIGHUP not answered with the --listen hint:\n%s", logb.String())
	}
}

// TestDaemonize: without --nofork pluto returns once its control socket is
// up, and keeps running in the background.
func TestDaemonize(t *testing.T) {
	bin := buildPluto(t)
	dir := t.TempDir()
	ctl := filepath.Join(dir, "pluto")
	cmd := exec.Command(bin, "--use-nostack", "--listen", "127.0.0.1", "--ikeport", freePort(t),
		"--ctlbase", ctl, "--secretsfile", filepath.Join(dir, "none"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pluto: %v %s", err, out)
	}
	b, err := os.ReadFile(ctl + ".pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		t.Fatalf("daemon pid %q not running", b)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 200 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(25 * time.Millisecond)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Error("daemon still running after SIGTERM")
	}
}

func TestUsage(t *testing.T) {
	bin := buildPluto(t)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "pluto") {
		t.Errorf("--version: %v %q", err, out)
	}
	out, err = exec.Command(bin, "--bogus").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("--bogus: %v %q", err, out)
	}
	// A negative flood limit is refused, naming the option.
	out, err = exec.Command(bin, "--nofork", "--unauth-sign-rate", "-1").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "--unauth-sign-rate") {
		t.Errorf("--unauth-sign-rate -1: %v %q", err, out)
	}
}
