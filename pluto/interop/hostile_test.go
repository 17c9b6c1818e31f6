package interop

// Hostile networks (issue #9), in two namespaces of our own: gsw-fl-a holds
// the initiators (the genuine peer at 203.0.113.1, and a flooder that sends
// first Main Mode messages with spoofed sources from 10.77.0.0/16 through a
// raw socket), gsw-fl-b our responder (203.0.113.2; replies to the spoofed
// sources are routed back to gsw-fl-a, which drops them).
//
//   - TestHostileFlood: while thousands of spoofed addresses flood the
//     responder, the genuine initiator still establishes its tunnel and
//     whack --status answers fast; the half-open count stays under the cap
//     and falls back to zero; then a flood of spoofed Aggressive Mode first
//     messages (each one Diffie-Hellman work) is shed by the worker pool
//     while an established peer negotiates Quick Modes.
//
//   - TestInteropLoss: our initiator against strongSwan and libreswan
//     responders with 30% of the IKE datagrams dropped each way (nftables).
//
// (Loss with reordering between two of ours is TestLossAndReordering in
// package pluto, through a lossy relay: this kernel has no sch_netem.)
// They print their figures. They run with GOSWAN_INTEROP=1 as root (as
// .ci/run does), under the namespace lock when run by hand.

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	fsmproposal "goswan/fsm/proposal"
	"goswan/payloads"
	"goswan/spec"
)

const (
	flA       = "gsw-fl-a"
	flB       = "gsw-fl-b"
	flInitIP  = "203.0.113.1"
	flRespIP  = "203.0.113.2"
	flSpoofed = "10.77.0.0/16"
)

// flSetup checks root and GOSWAN_INTEROP and builds our binaries (no peers
// needed).
func flSetup(t *testing.T) {
	t.Helper()
	if os.Getenv("GOSWAN_INTEROP") != "1" {
		t.Skip("hostile networks: set GOSWAN_INTEROP=1 (root; network namespaces)")
	}
	if os.Geteuid() != 0 {
		t.Skip("hostile networks: needs root for network namespaces")
	}
	binDir = t.TempDir()
	cmd := exec.Command("go", "build", "-o", binDir+"/", "./pluto/cmd/pluto", "./whack/cmd/whack")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
}

// flTopo builds the two namespaces.
func flTopo(t *testing.T) {
	t.Helper()
	flTopoDown()
	t.Cleanup(flTopoDown)
	cmds := [][]string{
		{"netns", "add", flA}, {"netns", "add", flB},
		{"-n", flA, "link", "set", "lo", "up"}, {"-n", flB, "link", "set", "lo", "up"},
		{"link", "add", "fla0", "netns", flA, "type", "veth", "peer", "name", "flb0", "netns", flB},
		{"-n", flA, "addr", "add", flInitIP + "/24", "dev", "fla0"},
		{"-n", flB, "addr", "add", flRespIP + "/24", "dev", "flb0"},
		{"-n", flA, "link", "set", "fla0", "up"}, {"-n", flB, "link", "set", "flb0", "up"},
		{"-n", flB, "route", "add", flSpoofed, "via", flInitIP},
	}
	for _, c := range cmds {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(c, " "), err, out)
		}
	}
	for _, n := range []string{flA, flB} {
		exec.Command("ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").Run()
		exec.Command("ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0").Run()
		exec.Command("ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv4.conf.flb0.rp_filter=0").Run()
	}
}

func flTopoDown() {
	for _, n := range []string{flA, flB} {
		exec.Command("ip", "netns", "del", n).Run()
	}
}

var flSecrets = fmt.Sprintf("%s %s : PSK %q\n%s %%any : PSK \"road-warriors-0123456789\"\n", flInitIP, flRespIP, thePSK, flRespIP)

// flConn adds connection name between the two (clients 10.1.n.0/24 and
// 10.2.n.0/24) on o.
func flConn(t *testing.T, o *ours, name string, n int, extra ...string) {
	t.Helper()
	args := append([]string{"--name", name, "--host", flInitIP, "--client", fmt.Sprintf("10.1.%d.0/24", n),
		"--to", "--host", flRespIP, "--client", fmt.Sprintf("10.2.%d.0/24", n),
		"--psk", "--encrypt", "--tunnel", "--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1"}, extra...)
	if out, code := o.whack(args...); code != 0 {
		t.Fatalf("add %s: %d %s", name, code, out)
	}
}

// rawSender is a raw IPv4 socket opened in namespace ns: it sends UDP
// datagrams with any source address.
type rawSender struct{ fd int }

func newRawSender(t *testing.T, ns string) *rawSender {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
	if e := netns.Set(orig); e != nil {
		panic(e) // this thread must not go back to the pool in the wrong namespace
	}
	if err != nil {
		t.Fatalf("raw socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return &rawSender{fd: fd}
}

// send sends payload as UDP from src:500 to dst:500 (the kernel fills in
// the IP checksum and ID; no UDP checksum).
func (r *rawSender) send(src, dst netip.Addr, payload []byte) error {
	b := make([]byte, 28+len(payload))
	b[0], b[8], b[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[20:], 500)
	binary.BigEndian.PutUint16(b[22:], 500)
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	copy(b[28:], payload)
	return syscall.Sendto(r.fd, b, 0, &syscall.SockaddrInet4{Addr: d})
}

// flood sends first messages (made by mk with a fresh initiator cookie)
// from count spoofed addresses of 10.77.0.0/16 at rate per second until
// stop is closed; it returns how many it sent.
func (r *rawSender) flood(dst netip.Addr, count, rate int, mk func(ic [8]byte) []byte, stop <-chan struct{}) int {
	sent := 0
	start := time.Now()
	var ic [8]byte
	rand.Read(ic[:4])
	for {
		select {
		case <-stop:
			return sent
		default:
		}
		due := int(time.Since(start).Seconds() * float64(rate))
		for ; sent < due; sent++ {
			binary.BigEndian.PutUint32(ic[4:], uint32(sent))
			i := sent % count
			src := netip.AddrFrom4([4]byte{10, 77, byte(i >> 8), byte(i)})
			r.send(src, dst, mk(ic))
		}
		time.Sleep(time.Millisecond)
	}
}

// halfOpenRE reads the half-open count from whack --status.
var halfOpenRE = regexp.MustCompile(`half-open ISAKMP SAs: (\d+) \(limit (\d+)\)`)

func halfOpen(t *testing.T, o *ours) (n, limit int, took time.Duration) {
	start := time.Now()
	out, code := o.whack("--status")
	took = time.Since(start)
	m := halfOpenRE.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("whack --status: exit %d, no half-open line:\n%s", code, lastLines(out, 20))
	}
	n, _ = strconv.Atoi(m[1])
	limit, _ = strconv.Atoi(m[2])
	return n, limit, took
}

func TestHostileFlood(t *testing.T) {
	flSetup(t)
	flTopo(t)
	const (
		addresses = 5000
		rate      = 8000 // first messages per second
	)
	resp := startOursWith(t, flB, flRespIP, flSecrets, "--max-halfopen", "6000")
	defer resp.stop()
	init := startOursWith(t, flA, flInitIP, flSecrets)
	defer init.stop()
	flConn(t, resp, "legit", 1)
	flConn(t, init, "legit", 1)
	if out, code := resp.whack("--name", "rw", "--host", flRespIP, "--client", "10.2.200.0/24", "--to", "--host", "%any",
		"--psk", "--encrypt", "--tunnel", "--aggrmode", "--ike", "aes128-sha1-modp2048"); code != 0 {
		t.Fatalf("add rw: %d %s", code, out)
	}
	ike, _ := fsmproposal.ParseIKE("aes128-sha1-modp2048")
	sa := fsmproposal.BuildPhase1SA(fsmproposal.Phase1Policy{Algs: ike, Auth: spec.AuthPSK, Lifetime: time.Hour})
	mi1 := func(ic [8]byte) []byte {
		return payloads.Build(payloads.Header{ICookie: ic, Version: payloads.Version, Exchange: spec.ExchangeIDProt}, sa)
	}
	raw := newRawSender(t, flA)
	dst := netip.MustParseAddr(flRespIP)

	// ---- Main Mode flood ----
	stop := make(chan struct{})
	var sent atomic.Int64
	floodStart := time.Now()
	go func() { sent.Store(int64(raw.flood(dst, addresses, rate, mi1, stop))) }()
	time.Sleep(1500 * time.Millisecond)
	peak, limit, statusMax := 0, 0, time.Duration(0)
	sample := func() {
		n, l, took := halfOpen(t, resp)
		peak, limit, statusMax = max(peak, n), l, max(statusMax, took)
	}
	sample()
	start := time.Now()
	out, code := init.whack("--name", "legit", "--initiate")
	established := time.Since(start)
	sample()
	time.Sleep(1500 * time.Millisecond)
	sample()
	close(stop)
	for sent.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	floodFor := time.Since(floodStart)
	if code != 0 || !strings.Contains(out, "IPsec SA established") {
		t.Fatalf("the genuine initiator did not establish under the flood (exit %d):\n%s\nresponder:\n%s", code, out, lastLines(resp.log.String(), 30))
	}
	if peak > limit || peak < 1000 {
		t.Errorf("half-open peak %d, limit %d (the flood did not reach the responder, or the cap did not hold)", peak, limit)
	}
	// The flood's states go away (first-response timeout: 3 x 500 ms).
	time.Sleep(2500 * time.Millisecond)
	after, _, _ := halfOpen(t, resp)
	if after != 0 {
		t.Errorf("%d half-open states left after the flood", after)
	}
	fmt.Printf("flood: %d spoofed first Main Mode messages from %d addresses at %d/s for %.1fs; half-open peak %d (limit %d), %d after the flood; "+
		"genuine initiator established in %v; whack --status answered within %v\n",
		sent.Load(), addresses, rate, floodFor.Seconds(), peak, limit, after, established.Round(time.Millisecond), statusMax.Round(time.Millisecond))

	// ---- Aggressive Mode flood: each first message is DH work ----
	ke := make([]byte, 256) // a modp2048 public value
	rand.Read(ke[1:])
	ke[0] = 0x7f
	ai1 := func(ic [8]byte) []byte {
		return payloads.Build(payloads.Header{ICookie: ic, Version: payloads.Version, Exchange: spec.ExchangeAggressive}, sa,
			&payloads.KE{Data: ke}, &payloads.Nonce{Data: ic[:]}, &payloads.ID{IDType: spec.IDFQDN, Data: []byte("flood")})
	}
	stop = make(chan struct{})
	go func() { sent.Store(int64(raw.flood(dst, addresses, 3000, ai1, stop))) }()
	time.Sleep(time.Second)
	statusMax = 0
	var qm []time.Duration
	for range 5 {
		sample()
		start := time.Now()
		out, code := init.whack("--name", "legit", "--initiate") // a Quick Mode on the established ISAKMP SA
		if code != 0 {
			t.Errorf("Quick Mode during the Aggressive Mode flood failed (exit %d):\n%s", code, out)
		}
		qm = append(qm, time.Since(start))
	}
	close(stop)
	time.Sleep(100 * time.Millisecond)
	shed := strings.Count(resp.log.String(), "Diffie-Hellman work queue is full")
	fmt.Printf("flood: %d spoofed Aggressive Mode first messages (DH work each) at 3000/s; Quick Modes of the established peer took %v; "+
		"whack --status answered within %v; DH queue-full drops logged %d times (one line a second)\n",
		sent.Load(), qm, statusMax.Round(time.Millisecond), shed)
	if statusMax > 2*time.Second {
		t.Errorf("whack --status took %v under the flood", statusMax)
	}
}

// TestInteropLoss: our pluto initiates to strongSwan and libreswan (as
// responders, in the harness's namespaces) while nftables drops 30% of the
// IKE datagrams each way on our side (no reordering: this kernel has no
// sch_netem); the negotiation completes through retransmission, with
// exactly one IPsec SA pair on each end.
func TestInteropLoss(t *testing.T) {
	setup(t)
	for _, peer := range peers() {
		t.Run(peer, func(t *testing.T) {
			p := proposals[0]
			p.ours = append(append([]string(nil), p.ours...), "--keyingtries", "0")
			s := &scenario{t: t, peer: peer, ourRole: "initiator", p: p}
			defer s.stop()
			if err := s.start(); err != nil {
				t.Fatal(err)
			}
			rules := `table inet gswloss {
	chain in { type filter hook input priority 0; udp dport { 500, 4500 } numgen random mod 100 < 30 counter drop; }
	chain out { type filter hook output priority 0; udp dport { 500, 4500 } numgen random mod 100 < 30 counter drop; }
}
`
			cmd := exec.Command("ip", "netns", "exec", s.ourNS, "nft", "-f", "-")
			cmd.Stdin = strings.NewReader(rules)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("nft: %v %s", err, out)
			}
			defer exec.Command("ip", "netns", "exec", s.ourNS, "nft", "delete", "table", "inet", "gswloss").Run()
			// The peer has its SA pair when it has established it: a
			// libreswan responder installs the outbound half only when QI3
			// arrives, which may take its QR1 retransmissions under loss.
			peerEstablished := func(raw string) bool {
				if peer == "lsw" {
					return strings.Contains(raw, "STATE_QUICK_R2 (IPsec SA established)")
				}
				return strings.Contains(raw, "INSTALLED")
			}
			start := time.Now()
			go s.us.whack("--name", "west-east", "--initiate")
			var ours, theirs string
			for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				ours, _ = s.us.whack("--status")
				in, _, raw := s.peerSPIs()
				theirs = raw
				if strings.Contains(ours, "STATE_QUICK_I2") && in != "" && peerEstablished(raw) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not established after 90 s with 30%% loss:\nours:\n%s\npeer:\n%s\nour log:\n%s", lastLines(ours, 20), lastLines(theirs, 20), lastLines(s.us.log.String(), 30))
				}
			}
			took := time.Since(start)
			time.Sleep(3 * time.Second) // late retransmissions settle
			ours, _ = s.us.whack("--status")
			_, _, theirs = s.peerSPIs()
			nOurs := strings.Count(ours, "STATE_QUICK_I2 ")
			nTheirs := strings.Count(theirs, "INSTALLED")
			if peer == "lsw" {
				nTheirs = len(regexp.MustCompile(`STATE_QUICK_R2 \(IPsec SA established\)`).FindAllString(theirs, -1))
			}
			if nOurs != 1 || nTheirs != 1 {
				t.Errorf("IPsec SAs: ours %d, %s %d; want exactly one pair\nours:\n%s\npeer:\n%s", nOurs, peer, nTheirs, ours, theirs)
			}
			counters, _ := exec.Command("ip", "netns", "exec", s.ourNS, "nft", "list", "table", "inet", "gswloss").CombinedOutput()
			drops := regexp.MustCompile(`counter packets (\d+)`).FindAllStringSubmatch(string(counters), -1)
			var dropped []string
			for _, d := range drops {
				dropped = append(dropped, d[1])
			}
			fmt.Printf("loss: ours -> %s with 30%% loss each way: established in %.1fs (%d retransmissions, %d keying attempts; dropped in/out %s); IPsec SAs ours %d, %s %d\n",
				peer, took.Seconds(), strings.Count(s.us.log.String(), "retransmission;"), 1+strings.Count(s.us.log.String(), "starting keying attempt"),
				strings.Join(dropped, "/"), nOurs, peer, nTheirs)
		})
	}
}
