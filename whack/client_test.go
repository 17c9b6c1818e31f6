package whack

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakePluto listens on a temporary control socket, reads one message,
// passes it on the returned channel and lets handle answer it.
func fakePluto(t *testing.T, handle func(t *testing.T, c net.Conn, m *Message)) (string, <-chan *Message) {
	t.Helper()
	dir, err := os.MkdirTemp("", "whack") // short: Unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	base := filepath.Join(dir, "pluto")
	l, err := net.Listen("unix", base+".ctl")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Message, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		m, err := ReadMessage(c)
		if err != nil {
			NewReply(c).Line(RCBadWhackMessage, err.Error())
			close(got)
			return
		}
		got <- m
		handle(t, c, m)
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return base, got
}

func replyLines(lines ...string) func(*testing.T, net.Conn, *Message) {
	return func(t *testing.T, c net.Conn, _ *Message) {
		for _, l := range lines {
			if _, err := c.Write([]byte(l + "\n")); err != nil {
				t.Errorf("fake pluto: %v", err)
				return
			}
		}
	}
}

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = RunWithInput(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// The transcript of CONTRACT.md: a PSK tunnel initiated without PFS.
var contractTranscript = []string{
	`104 "west-east" #1: STATE_MAIN_I1: initiate`,
	`106 "west-east" #1: STATE_MAIN_I2: sent MI2, expecting MR2`,
	`108 "west-east" #1: STATE_MAIN_I3: sent MI3, expecting MR3`,
	`004 "west-east" #1: STATE_MAIN_I4: ISAKMP SA established`,
	`112 "west-east" #2: STATE_QUICK_I1: initiate`,
	`004 "west-east" #2: STATE_QUICK_I2: sent QI2, IPsec SA established {ESP=>0xa98b7710 <0xa51e1f22}`,
}

func TestRunTranscript(t *testing.T) {
	base, got := fakePluto(t, replyLines(contractTranscript...))
	code, stdout, stderr := run(t, "", "--name", "west-east", "--initiate", "--ctlbase", base)
	want := strings.Join(contractTranscript, "\n") + "\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	if code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	m := <-got
	same(t, &Message{Name: "west-east", Initiate: true}, m)
}

func TestRunExitStatus(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  int
	}{
		{"retransmission failure", []string{
			`104 "westnet-eastnet" #1: STATE_MAIN_I1: initiate`,
			`003 "westnet-eastnet" #1: received Vendor ID payload [Dead Peer Detection]`,
			`106 "westnet-eastnet" #1: STATE_MAIN_I2: sent MI2, expecting MR2`,
			`108 "westnet-eastnet" #1: STATE_MAIN_I3: sent MI3, expecting MR3`,
			`031 "westnet-eastnet" #1: max number of retransmissions (2) reached STATE_MAIN_I3.  Possible authentication failure: no acceptable response to our first encrypted message`,
			`000 "westnet-eastnet" #1: starting keying attempt 2 of at most 3, but releasing whack`,
		}, 31},
		{"comments and logs only", []string{"000 status line", `002 "x": added connection`, "003 warning", "001 problem"}, 0},
		{"no lines", nil, 0},
		{"unknown connection", []string{`021 no connection named "nosuch"`}, 21},
		{"success after warnings", []string{"003 careful", `004 "x" #1: STATE_MAIN_I4: ISAKMP SA established`, "000 done"}, 0},
		{"stuck in a state", []string{`104 "x" #1: STATE_MAIN_I1: initiate`, "002 releasing whack"}, 104},
		{"internal error", []string{`004 "x" #1: ok`, `032 "x" #2: state transition function for STATE_QUICK_I1 had internal error`}, 32},
		{"bad message", []string{"030 ignoring message from whack with bad magic"}, 30},
		{"line without code", []string{"021 unknown", "garbage"}, 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, _ := fakePluto(t, replyLines(tt.lines...))
			code, stdout, _ := run(t, "", "--status", "--ctlbase", base)
			want := ""
			for _, l := range tt.lines {
				want += l + "\n"
			}
			if stdout != want {
				t.Errorf("stdout %q, want %q", stdout, want)
			}
			if code != tt.want {
				t.Errorf("exit %d, want %d", code, tt.want)
			}
		})
	}
}

func TestRunNoPluto(t *testing.T) {
	base := filepath.Join(t.TempDir(), "nopluto")
	code, stdout, stderr := run(t, "", "--status", "--ctlbase", base)
	if code != 1 || stdout != "" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if want := `whack: Pluto is not running (no "` + base + `.ctl")` + "\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	code, _, stderr = run(t, "", "--status", "--label", "ipsec auto", "--ctlbase", base)
	if want := `whack: ipsec auto: Pluto is not running (no "` + base + `.ctl")` + "\n"; code != 1 || stderr != want {
		t.Errorf("with label: exit %d, stderr %q", code, stderr)
	}
}

func TestRunDefaultSocket(t *testing.T) {
	if _, err := os.Stat(DefaultCtlbase + ".ctl"); err == nil {
		t.Skip("a pluto is running on this machine")
	}
	code, _, stderr := run(t, "", "--status")
	if want := `whack: Pluto is not running (no "/var/run/pluto/pluto.ctl")` + "\n"; code != 1 || stderr != want {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestRunConnectionRefused(t *testing.T) {
	dir, err := os.MkdirTemp("", "whack")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	base := filepath.Join(dir, "pluto")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: base + ".ctl", Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close() // a stale socket: the file exists, nobody listens
	code, _, stderr := run(t, "", "--status", "--ctlbase", base)
	if code != 1 || !strings.HasPrefix(stderr, `whack: is Pluto running? connect() for "`+base+`.ctl" failed`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestRunBadOption(t *testing.T) {
	code, stdout, stderr := run(t, "", "--bogus")
	if code != 1 || stdout != "" || stderr != "whack: unknown option --bogus\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = run(t, "", "--name", "c", "--host", "192.0.2.1", "--to", "--psk")
	if code != 1 || stderr != "whack: connection description requires --host on both ends\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestRunHelpVersion(t *testing.T) {
	code, stdout, _ := run(t, "", "--help")
	if code != 0 || !strings.HasPrefix(stdout, "Usage:") || !strings.Contains(stdout, "--deletestate") {
		t.Errorf("--help: exit %d, stdout %q", code, stdout)
	}
	code, stdout, _ = run(t, "", "--version")
	if code != 0 || stdout != "whack (goswan) "+Version+"\n" {
		t.Errorf("--version: exit %d, stdout %q", code, stdout)
	}
}

func TestRunPrompts(t *testing.T) {
	answers := make(chan string, 2)
	base, _ := fakePluto(t, func(t *testing.T, c net.Conn, _ *Message) {
		r := NewReply(c)
		r.Line(RCXauthPrompt, `"x" #1: XAUTH User Name:`)
		name, err := ReadAnswer(c)
		if err != nil {
			t.Errorf("fake pluto: %v", err)
		}
		r.Line(RCEnterSecret, `"x" #1: XAUTH Password:`)
		pass, err := ReadAnswer(c)
		if err != nil {
			t.Errorf("fake pluto: %v", err)
		}
		answers <- name
		answers <- pass
		r.Line(RCSuccess, `"x" #1: STATE_MAIN_I4: ISAKMP SA established`)
	})
	code, stdout, stderr := run(t, "s3cret pass\n", "--name", "x", "--initiate", "--xauthname", "joe", "--ctlbase", base)
	if code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if n, p := <-answers, <-answers; n != "joe" || p != "s3cret pass" {
		t.Errorf("answers %q %q", n, p)
	}
	want := "041 \"x\" #1: XAUTH User Name:\n040 \"x\" #1: XAUTH Password:\n004 \"x\" #1: STATE_MAIN_I4: ISAKMP SA established\n"
	if stdout != want {
		t.Errorf("stdout %q", stdout)
	}
}

func TestRunPromptWithoutAnswer(t *testing.T) {
	base, _ := fakePluto(t, func(t *testing.T, c net.Conn, _ *Message) {
		NewReply(c).Line(RCEnterSecret, "Enter passphrase:")
		ReadAnswer(c)
	})
	code, _, stderr := run(t, "", "--name", "x", "--initiate", "--ctlbase", base)
	if code != 1 || stderr != "whack: cannot answer pluto's prompt: no answer on standard input\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestRunLongAndUnterminatedLines(t *testing.T) {
	long := "002 " + strings.Repeat("x", 10000)
	base, _ := fakePluto(t, func(t *testing.T, c net.Conn, _ *Message) {
		// The middle of the long line looks like a code; it must not count.
		c.Write([]byte(long[:4096] + "999" + long[4099:] + "\n" + "021 no such"))
	})
	code, stdout, stderr := run(t, "", "--status", "--ctlbase", base)
	if want := long[:4096] + "999" + long[4099:] + "\n021 no such\n"; stdout != want {
		t.Errorf("stdout differs (%d bytes, want %d)", len(stdout), len(want))
	}
	if code != 21 || stderr != "whack: last line from pluto is unterminated\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestRunRejectedMessage(t *testing.T) {
	// A pluto speaking another protocol version: our fake answers 030.
	base, got := fakePluto(t, nil)
	c, err := net.Dial("unix", base+".ctl")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(frame("GSW9", "{}"))
	var buf bytes.Buffer
	buf.ReadFrom(c)
	if want := "030 ignoring message from whack with bad magic \"GSW9\"; should be \"GSW1\"\n"; buf.String() != want {
		t.Errorf("reply %q", buf.String())
	}
	if m, ok := <-got; ok {
		t.Errorf("accepted %+v", m)
	}
}

// TestRunStatusJSON: with --json the "000 " lines are printed without their
// code (the document), any other line goes to standard error.
func TestRunStatusJSON(t *testing.T) {
	base, got := fakePluto(t, replyLines("000 {", `000   "version": 1`, "000 }", "003 a warning"))
	code, stdout, stderr := run(t, "", "--status", "--json", "--ctlbase", base)
	if stdout != "{\n  \"version\": 1\n}\n" || stderr != "003 a warning\n" || code != 0 {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	same(t, &Message{Status: true, JSON: true}, <-got)
}

// TestSend: a message built by a program (not from arguments) goes out as
// is, with the status of the answer.
func TestSend(t *testing.T) {
	base, got := fakePluto(t, replyLines(`021 no connection named "x"`))
	var out, errb bytes.Buffer
	m := &Message{Name: "x", Initiate: true, Ctlbase: base}
	if code := Send(m, strings.NewReader(""), &out, &errb); code != 21 || out.String() != "021 no connection named \"x\"\n" {
		t.Errorf("Send: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	same(t, &Message{Name: "x", Initiate: true}, <-got)
}
