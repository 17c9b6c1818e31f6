package pluto

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"net/netip"

	"goswan/routing"
	"goswan/whack"
)

// syncBuffer is a log buffer safe for the daemon goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testDaemon struct {
	d       *Daemon
	ctlbase string
	addr    string
	port    int
	log     *syncBuffer
	done    chan struct{}
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

// startDaemon runs an in-process pluto on ip with a fresh port, control
// socket and secrets file.
func startDaemon(t *testing.T, ip, secrets string, retransmit time.Duration) *testDaemon {
	t.Helper()
	return startDaemonAt(t, ip, freePort(t, ip), secrets, retransmit)
}

// startDaemonAt is startDaemon on a given port.
func startDaemonAt(t *testing.T, ip string, port int, secrets string, retransmit time.Duration) *testDaemon {
	t.Helper()
	return startDaemonWith(t, ip, port, secrets, nil, func(c *Config) {
		if retransmit != 0 {
			c.Machine.RetransmitDelay = retransmit
			c.Machine.HalfOpenTimeout = 7 * retransmit
			c.Machine.FirstResponseTimeout = 3 * retransmit
		}
	})
}

func (td *testDaemon) whack(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := whack.Run(append([]string{"--ctlbase", td.ctlbase}, args...), &out, &errb)
	return out.String() + errb.String(), code
}

// addConn adds the west-east connection on td, with west and east as given.
func addConn(t *testing.T, td *testDaemon, west, east *testDaemon, extra ...string) {
	t.Helper()
	args := []string{"--name", "west-east",
		"--host", west.addr, "--ikeport", fmt.Sprint(west.port), "--client", "10.1.0.0/24",
		"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--client", "10.2.0.0/24",
		"--psk", "--encrypt", "--tunnel"}
	out, code := td.whack(t, append(args, extra...)...)
	if code != 0 || !strings.Contains(out, `added connection description "west-east"`) {
		t.Fatalf("add connection: exit %d\n%s", code, out)
	}
}

const psk = "127.0.0.1 127.0.0.2 : PSK \"harness-psk-0123456789\"\n"

var transcriptRE = []*regexp.Regexp{
	regexp.MustCompile(`^104 "west-east" #1: STATE_MAIN_I1: initiate$`),
	regexp.MustCompile(`^106 "west-east" #1: STATE_MAIN_I2: sent MI2, expecting MR2$`),
	regexp.MustCompile(`^108 "west-east" #1: STATE_MAIN_I3: sent MI3, expecting MR3$`),
	regexp.MustCompile(`^004 "west-east" #1: STATE_MAIN_I4: ISAKMP SA established$`),
	regexp.MustCompile(`^112 "west-east" #2: STATE_QUICK_I1: initiate$`),
	regexp.MustCompile(`^004 "west-east" #2: STATE_QUICK_I2: sent QI2, IPsec SA established \{ESP=>0x[0-9a-f]{8} <0x[0-9a-f]{8}\}$`),
}

// checkTranscript matches whack's output line by line against CONTRACT.md,
// allowing 000-003 lines in between.
func checkTranscript(t *testing.T, out string) (outSPI, inSPI string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if len(l) >= 4 && l[0] == '0' && l[1] == '0' && l[2] <= '3' {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) != len(transcriptRE) {
		t.Fatalf("transcript has %d progress lines, want %d:\n%s", len(lines), len(transcriptRE), out)
	}
	for i, re := range transcriptRE {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %s", i, lines[i], re)
		}
	}
	m := regexp.MustCompile(`ESP=>0x([0-9a-f]{8}) <0x([0-9a-f]{8})`).FindStringSubmatch(lines[5])
	if m == nil {
		return "", ""
	}
	return m[1], m[2]
}

func TestTwoDaemons(t *testing.T) {
	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	addConn(t, west, west, east)
	addConn(t, east, west, east)
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 0 {
		t.Fatalf("initiate exit %d:\n%s\nwest log:\n%s\neast log:\n%s", code, out, west.log, east.log)
	}
	outSPI, inSPI := checkTranscript(t, out)

	// whack --status on both sides agrees on the SPIs.
	ws, code := west.whack(t, "--status")
	if code != 0 {
		t.Fatalf("status exit %d", code)
	}
	es, _ := east.whack(t, "--status")
	for _, want := range []string{
		"STATE_QUICK_I2 (sent QI2, IPsec SA established)", "STATE_MAIN_I4 (ISAKMP SA established)",
		"esp." + outSPI + "@127.0.0.2", "esp." + inSPI + "@127.0.0.1", `"west-east": 10.1.0.0/24===127.0.0.1`,
	} {
		if !strings.Contains(ws, want) {
			t.Errorf("west status lacks %q:\n%s", want, ws)
		}
	}
	for _, want := range []string{
		"STATE_QUICK_R2 (IPsec SA established)", "STATE_MAIN_R3 (sent MR3, ISAKMP SA established)",
		"esp." + inSPI + "@127.0.0.1", "esp." + outSPI + "@127.0.0.2",
	} {
		if !strings.Contains(es, want) {
			t.Errorf("east status lacks %q:\n%s", want, es)
		}
	}
	if got := west.d.kernel.(*routing.NoStack).Installed(); got != 1 {
		t.Errorf("west has %d SAs installed", got)
	}
}
func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
