package interop

// NAT traversal through a real source NAT: three namespaces, the client
// gsw-nc (198.51.100.2, client subnet 10.1.0.0/24) behind the router gsw-nr,
// which masquerades UDP to 203.0.113.1 with ports from a range (nftables),
// and the server gsw-ns (203.0.113.2, 10.2.0.0/24). Our pluto is the client
// (initiator, behind the NAT) or the server (responder) against our own
// pluto, strongSwan (FAKESA on the server side; kernel-libipsec as a client,
// which sends real ESP in UDP) and libreswan (FAKESA). With two of ours:
// keepalives on the wire (tcpdump in the server's namespace) and a change
// of the NAT's port (new range, conntrack flushed) that keeps the SAs.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

const (
	natClientIP  = "198.51.100.2"
	natRouterIn  = "198.51.100.1"
	natPublicIP  = "203.0.113.1"
	natServerIP  = "203.0.113.2"
	natClientNet = "10.1.0.0/24"
	natServerNet = "10.2.0.0/24"
	nsClient     = "gsw-nc"
	nsRouter     = "gsw-nr"
	nsServer     = "gsw-ns"
)

// natTopo builds the three namespaces; the SNAT port range is lo-hi.
func natTopo(t *testing.T, lo, hi int) {
	t.Helper()
	natTopoDown()
	cmds := [][]string{}
	for _, n := range []string{nsClient, nsRouter, nsServer} {
		cmds = append(cmds, []string{"netns", "add", n}, []string{"-n", n, "link", "set", "lo", "up"})
	}
	cmds = append(cmds,
		[]string{"link", "add", "nc0", "netns", nsClient, "type", "veth", "peer", "name", "nr0", "netns", nsRouter},
		[]string{"link", "add", "nr1", "netns", nsRouter, "type", "veth", "peer", "name", "ns0", "netns", nsServer},
		[]string{"-n", nsClient, "addr", "add", natClientIP + "/24", "dev", "nc0"},
		[]string{"-n", nsClient, "link", "set", "nc0", "up"},
		[]string{"-n", nsClient, "route", "add", "default", "via", natRouterIn},
		[]string{"-n", nsRouter, "addr", "add", natRouterIn + "/24", "dev", "nr0"},
		[]string{"-n", nsRouter, "link", "set", "nr0", "up"},
		[]string{"-n", nsRouter, "addr", "add", natPublicIP + "/24", "dev", "nr1"},
		[]string{"-n", nsRouter, "link", "set", "nr1", "up"},
		[]string{"-n", nsServer, "addr", "add", natServerIP + "/24", "dev", "ns0"},
		[]string{"-n", nsServer, "link", "set", "ns0", "up"},
		// Client subnets on port-less bridges (no CONFIG_DUMMY here).
		[]string{"-n", nsClient, "link", "add", "cnet", "type", "bridge"},
		[]string{"-n", nsClient, "addr", "add", "10.1.0.1/24", "dev", "cnet"},
		[]string{"-n", nsClient, "link", "set", "cnet", "up"},
		[]string{"-n", nsServer, "link", "add", "snet", "type", "bridge"},
		[]string{"-n", nsServer, "addr", "add", "10.2.0.1/24", "dev", "snet"},
		[]string{"-n", nsServer, "link", "set", "snet", "up"},
	)
	for _, c := range cmds {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(c, " "), err, out)
		}
	}
	for _, n := range []string{nsClient, nsRouter, nsServer} {
		exec.Command("ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").Run()
	}
	if out, err := exec.Command("ip", "netns", "exec", nsRouter, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
		t.Fatalf("ip_forward: %v %s", err, out)
	}
	setSNATRange(t, lo, hi)
}

// setSNATRange (re)writes the router's source NAT: UDP leaves from
// 203.0.113.1 with a port in lo-hi (so never 500 or 4500), the rest is
// masqueraded.
func setSNATRange(t *testing.T, lo, hi int) {
	t.Helper()
	rules := fmt.Sprintf(`table ip gswnat
delete table ip gswnat
table ip gswnat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "nr1" meta l4proto udp snat to %s:%d-%d
		oifname "nr1" masquerade
	}
}
`, natPublicIP, lo, hi)
	cmd := exec.Command("ip", "netns", "exec", nsRouter, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v %s", err, out)
	}
}

// flushConntrack forgets the router's NAT mappings (conntrack -F).
func flushConntrack(t *testing.T) {
	t.Helper()
	ns, err := netns.GetFromName(nsRouter)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.ConntrackTableFlush(netlink.ConntrackTable); err != nil {
		t.Fatalf("conntrack flush: %v", err)
	}
}

func natTopoDown() {
	for _, n := range []string{nsClient, nsRouter, nsServer} {
		exec.Command("ip", "netns", "del", n).Run()
	}
}

// natSecrets are our pluto's secrets on either end: the server looks the
// PSK up by the NAT's address in Main Mode (the ID comes later).
var natSecrets = fmt.Sprintf("%s %s : PSK %q\n%s %s : PSK %q\n", natClientIP, natServerIP, thePSK, natServerIP, natPublicIP, thePSK)

// ourNATClient starts our pluto in the client namespace with the
// connection to the server.
func ourNATClient(t *testing.T, extra ...string) *ours { return ourNAT(t, true, false, extra...) }

// ourNATServer starts our pluto in the server namespace with the
// connection for the client, known by its own address as ID.
func ourNATServer(t *testing.T, extra ...string) *ours { return ourNAT(t, false, false, extra...) }

// ourNAT starts our pluto as the client or the server, in tunnel mode
// between the client subnets or in transport mode between the hosts.
func ourNAT(t *testing.T, client, transport bool, extra ...string) *ours {
	t.Helper()
	var o *ours
	var args []string
	if client {
		o = startOursWith(t, nsClient, natClientIP, natSecrets, "--nat_traversal", "--keep_alive", "1", "--debug-natt")
		args = []string{"--name", "nat", "--host", natClientIP, "--client", natClientNet, "--to", "--host", natServerIP, "--client", natServerNet}
	} else {
		o = startOursWith(t, nsServer, natServerIP, natSecrets, "--nat_traversal", "--debug-natt")
		args = []string{"--name", "nat", "--host", natServerIP, "--client", natServerNet,
			"--to", "--host", natPublicIP, "--id", natClientIP, "--client", natClientNet}
	}
	if transport {
		var host []string
		for i := 0; i < len(args); i++ {
			if args[i] == "--client" {
				i++
				continue
			}
			host = append(host, args[i])
		}
		args = host
	} else {
		args = append(args, "--tunnel")
	}
	args = append(append(args, "--psk", "--encrypt", "--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1", "--keyingtries", "1"), extra...)
	if out, code := o.whack(args...); code != 0 {
		o.stop()
		t.Fatalf("conn: %d %s", code, out)
	}
	return o
}

var (
	encapRE  = regexp.MustCompile(`esp\.([0-9a-f]{8})@\S+ esp\.([0-9a-f]{8})@\S+ (?:tun|transport) xfrm=\S+ in UDP (\d+)->(\d+)`)
	resultRE = regexp.MustCompile(`NAT-Traversal: Result using RFC 3947 \(NAT-Traversal\): (.*)`)
)

// ourEncap reads our status: the UDP-encapsulated SA's SPIs (outbound,
// inbound) and ports, waiting up to a few seconds for it.
func ourEncap(t *testing.T, o *ours) (out, in string, lport, rport int) {
	t.Helper()
	var st string
	for i := 0; i < 50; i++ {
		st, _ = o.whack("--status")
		if m := encapRE.FindStringSubmatch(st); m != nil {
			lp, _ := strconv.Atoi(m[3])
			rp, _ := strconv.Atoi(m[4])
			return m[1], m[2], lp, rp
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("our status shows no UDP-encapsulated SA:\n%s\nlog:\n%s", st, lastLines(o.log.String(), 25))
	return
}

// wantResult checks the NAT-T detection result in our log.
func wantResult(t *testing.T, o *ours, want string) {
	t.Helper()
	m := resultRE.FindStringSubmatch(o.log.String())
	if m == nil || m[1] != want {
		t.Errorf("NAT-T result %q, want %q:\n%s", m, want, lastLines(o.log.String(), 25))
	}
}

// natPeer is a strongSwan or libreswan instance on one side of the NAT.
type natPeer struct {
	t          *testing.T
	kind, name string
	env        []string
}

func (p *natPeer) script() string {
	if p.kind == "ss" {
		return "ss.sh"
	}
	return "lsw.sh"
}

// startNATPeer starts a peer as the client (behind the NAT) or the server.
func startNATPeer(t *testing.T, kind string, client, libipsec bool) *natPeer {
	t.Helper()
	p := &natPeer{t: t, kind: kind, name: "nat-" + kind}
	if kind == "ss" {
		lib := "LIBIPSEC=0"
		if libipsec {
			lib = "LIBIPSEC=1"
		}
		p.env = []string{"IKE=aes128-sha1-modp2048", "ESP=aes128-sha1", "PSK=" + thePSK, lib, "LOGLEVEL=1"}
		if !libipsec {
			p.env = append(p.env, "FAKESA=1")
		}
	} else {
		p.env = []string{"IKE=aes128-sha1;modp2048", "ESP=aes128-sha1", "PFS=no", "PSK=" + thePSK, "FAKESA=1",
			"DEBUG=none", "ENCAPS=auto"}
	}
	args := []string{"start", p.name, nsClient, natClientIP, natServerIP}
	if !client {
		args = []string{"start", p.name, nsServer, natServerIP, natPublicIP}
		p.env = append(p.env, "REMOTE_ID="+natClientIP)
	}
	if client {
		args = append(args, natClientNet, natServerNet)
	} else {
		args = append(args, natServerNet, natClientNet)
	}
	if out, err := run(t, p.env, 30*time.Second, p.script(), args...); err != nil {
		t.Fatalf("%s start: %v %s", kind, err, lastLines(out, 10))
	}
	return p
}

// transport switches the strongSwan peer to transport mode between the
// hosts (the harness writes tunnel configurations).
func (p *natPeer) transport(t *testing.T) {
	t.Helper()
	f := filepath.Join(peersDir, "run", p.name, "swanctl", "swanctl.conf")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(b), "mode = tunnel", "mode = transport", 1)
	c = regexp.MustCompile(`local_ts = \S+`).ReplaceAllString(c, "local_ts = dynamic")
	c = regexp.MustCompile(`remote_ts = \S+`).ReplaceAllString(c, "remote_ts = dynamic")
	if err := os.WriteFile(f, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runScript(t, nil, "ss.sh", "swanctl", p.name, "--load-conns"); err != nil {
		t.Fatalf("swanctl --load-conns: %v %s", err, out)
	}
}

// aggressive switches the peer to Aggressive Mode (strongSwan also needs
// its consent to answer Aggressive Mode with a PSK).
func (p *natPeer) aggressive(t *testing.T) {
	t.Helper()
	sc := &scenario{t: t, peer: p.kind, name: p.name}
	if p.kind == "lsw" {
		sc.p = proposal{lswIKE: "aes128-sha1;modp2048", lswESP: "aes128-sha1", lswPFS: "no"}
	} else {
		sc.p = proposal{ssIKE: "aes128-sha1-modp2048", ssESP: "aes128-sha1"}
	}
	if err := sc.peerAggressive(); err != nil {
		t.Fatal(err)
	}
}

func (p *natPeer) initiate() (string, error) {
	if p.kind == "ss" {
		return runScript(p.t, nil, "ss.sh", "initiate", p.name, "net")
	}
	return runScript(p.t, nil, "lsw.sh", "up", p.name)
}

// status is the peer's SA listing.
func (p *natPeer) status() string {
	var o string
	if p.kind == "ss" {
		o, _ = runScript(p.t, nil, "ss.sh", "swanctl", p.name, "--list-sas")
	} else {
		o, _ = runScript(p.t, nil, "lsw.sh", "whack", p.name, "--status")
	}
	return o
}

func (p *natPeer) stop() { runScript(p.t, nil, p.script(), "stop", p.name) }

var (
	ssEncapRE  = regexp.MustCompile(`(?s)INSTALLED, (?:TUNNEL|TRANSPORT)-in-UDP.*?\n\s+in\s+([0-9a-f]{8}),.*?\n\s+out\s+([0-9a-f]{8}),`)
	lswEncapRE = regexp.MustCompile(`"west-east":(\d+) STATE_QUICK_[IR]2`)
	lswSPIRE   = regexp.MustCompile(`esp\.([0-9a-f]+)@\S+ esp\.([0-9a-f]+)@\S+`)
)

// peerEncap checks that the peer's IPsec SA is UDP-encapsulated with our
// SPIs (ours: outbound, inbound).
func (p *natPeer) peerEncap(t *testing.T, out, in string) {
	t.Helper()
	st := p.status()
	if p.kind == "ss" {
		m := ssEncapRE.FindStringSubmatch(st)
		if m == nil || m[1] != out || m[2] != in {
			t.Errorf("strongSwan shows no UDP-encapsulated SA in %s/out %s:\n%s", out, in, st)
			return
		}
		t.Logf("strongSwan: %s", strings.SplitN(m[0], "\n", 2)[0])
		return
	}
	m := lswEncapRE.FindStringSubmatch(st)
	if m == nil || m[1] == "500" {
		t.Errorf("libreswan's IPsec SA is not on a NAT-T port:\n%s", st)
	}
	s := lswSPIRE.FindStringSubmatch(st)
	if s == nil || fmt.Sprintf("%08s", s[1]) != in || fmt.Sprintf("%08s", s[2]) != out {
		t.Errorf("libreswan's SPIs differ from ours (out %s in %s):\n%s", out, in, st)
		return
	}
	t.Logf("libreswan: %s; %s", m[0], s[0])
}

// tcpdump captures UDP in a namespace until stop is called; stop returns
// the text lines.
func tcpdump(t *testing.T, ns, dev string) (stop func() string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "dump.txt")
	out, err := os.Create(f)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "tcpdump", "-n", "-l", "-i", dev, "udp")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // listening
	return func() string {
		time.Sleep(200 * time.Millisecond)
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		out.Close()
		b, _ := os.ReadFile(f)
		return string(b)
	}
}

// TestInteropNAT is the NAT matrix.
func TestInteropNAT(t *testing.T) {
	setup(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("interop NAT: nft (nftables) is not installed")
	}
	mx := &matrix{rows: map[string]string{}}
	defer mx.report(t)
	defer natTopoDown()

	// Two of ours: detection, encapsulated SAs, keepalives on the wire,
	// and a new NAT port that keeps the SAs.
	mx.run(t, "ours nat        initiator+responder, keepalives, port change", "ours", func(t *testing.T) {
		natTopo(t, 30000, 30999)
		server := ourNATServer(t)
		defer server.stop()
		client := ourNATClient(t, "--dpddelay", "1", "--dpdtimeout", "6", "--dpdaction", "clear")
		defer client.stop()
		dump := tcpdump(t, nsServer, "ns0")
		out, code := client.whack("--name", "nat", "--initiate")
		if code != 0 || !strings.Contains(out, "NAT-Traversal: Result using RFC 3947 (NAT-Traversal): i am NATed") {
			dump()
			t.Fatalf("initiate exit %d:\n%s\nserver:\n%s", code, out, lastLines(server.log.String(), 20))
		}
		wantResult(t, server, "peer is NATed")
		cOut, cIn, clp, crp := ourEncap(t, client)
		sOut, sIn, slp, srp := ourEncap(t, server)
		if cOut != sIn || cIn != sOut {
			t.Errorf("SPIs differ: client %s/%s server %s/%s", cOut, cIn, sOut, sIn)
		}
		if clp != 4500 || crp != 4500 || slp != 4500 || srp < 30000 || srp > 30999 {
			t.Errorf("UDP ports: client %d->%d, server %d->%d (NAT range 30000-30999)", clp, crp, slp, srp)
		}
		time.Sleep(2500 * time.Millisecond) // keepalives every second
		wire := dump()
		ka := regexp.MustCompile(`203\.0\.113\.1\.(\d+) > 203\.0\.113\.2\.4500: .*(isakmp-nat-keep-alive|length 1$)`)
		kas := 0
		for _, l := range strings.Split(wire, "\n") {
			if ka.MatchString(l) {
				kas++
			}
		}
		ike500 := strings.Count(wire, "> 203.0.113.2.500:")
		ike4500 := strings.Count(wire, "> 203.0.113.2.4500:")
		t.Logf("wire at the server: %d IKE packets to 500, %d to 4500 (of which %d NAT-keepalives)", ike500, ike4500, kas)
		if kas < 2 || ike500 != 2 || ike4500-kas < 2 {
			t.Errorf("want 2 messages to 500, at least 2 IKE messages and 2 keepalives to 4500:\n%s", wire)
		}
		// The NAT forgets its mappings and uses other ports: the client's
		// next DPD message moves it on the server, nothing is deleted.
		setSNATRange(t, 31000, 31999)
		flushConntrack(t)
		deadline := time.Now().Add(8 * time.Second)
		var np int
		for time.Now().Before(deadline) {
			if _, _, _, np = ourEncap(t, server); np >= 31000 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if np < 31000 || np > 31999 {
			t.Fatalf("server still sends to port %d:\n%s", np, lastLines(server.log.String(), 20))
		}
		if !strings.Contains(server.log.String(), fmt.Sprintf("is now at %s:%d", natPublicIP, np)) {
			t.Errorf("server log does not show the move to %d", np)
		}
		time.Sleep(7 * time.Second) // longer than the DPD timeout
		if st, _ := client.whack("--status"); !strings.Contains(st, "STATE_QUICK_I2") || strings.Contains(client.log.String(), "declaring peer dead") {
			t.Errorf("client lost its SA after the port change:\n%s\n%s", st, lastLines(client.log.String(), 20))
		}
		if st, _ := server.whack("--status"); !strings.Contains(st, "STATE_QUICK_R2") {
			t.Errorf("server lost its SA:\n%s", st)
		}
		t.Logf("NAT port change: server followed the client from %d to %d", srp, np)
	})

	for _, peer := range peers() {
		// Our pluto behind the NAT initiates to the peer.
		mx.run(t, fmt.Sprintf("%-4s nat        initiator (behind the NAT)", peer), peer+"/initiator", func(t *testing.T) {
			natTopo(t, 30000, 30999)
			p := startNATPeer(t, peer, false, false)
			defer p.stop()
			client := ourNATClient(t)
			defer client.stop()
			out, code := client.whack("--name", "nat", "--initiate")
			if code != 0 {
				t.Fatalf("initiate exit %d:\n%s\npeer:\n%s", code, out, p.status())
			}
			wantResult(t, client, "i am NATed")
			o, i, lp, rp := ourEncap(t, client)
			if lp != 4500 || rp != 4500 {
				t.Errorf("UDP ports %d->%d", lp, rp)
			}
			p.peerEncap(t, o, i)
		})
		// The peer behind the NAT initiates to our pluto; strongSwan with
		// kernel-libipsec then sends real ESP in UDP.
		mx.run(t, fmt.Sprintf("%-4s nat        responder", peer), peer+"/responder", func(t *testing.T) {
			natTopo(t, 30000, 30999)
			p := startNATPeer(t, peer, true, peer == "ss")
			defer p.stop()
			server := ourNATServer(t)
			defer server.stop()
			if out, err := p.initiate(); err != nil {
				t.Fatalf("peer initiate: %v\n%s\nour log:\n%s", err, lastLines(out, 15), lastLines(server.log.String(), 20))
			}
			wantResult(t, server, "peer is NATed")
			o, i, lp, rp := ourEncap(t, server)
			if lp != 4500 || rp < 30000 || rp > 30999 {
				t.Errorf("UDP ports %d->%d", lp, rp)
			}
			p.peerEncap(t, o, i)
			if peer != "ss" {
				return
			}
			// strongSwan's userspace ESP: traffic from the client subnet
			// reaches us as ESP in UDP for our inbound SPI (our nostack
			// kernel drops it, and says so).
			exec.Command("ip", "netns", "exec", nsClient, "ping", "-c", "2", "-W", "1", "-I", "10.1.0.1", "10.2.0.1").Run()
			want := fmt.Sprintf("ESP packet for SPI 0x%s (no kernel decapsulation) from %s:%d", i, natPublicIP, rp)
			if !strings.Contains(server.log.String(), want) {
				t.Errorf("no ESP in UDP from strongSwan (%q):\n%s", want, lastLines(server.log.String(), 20))
			} else {
				t.Logf("strongSwan (kernel-libipsec) sent ESP in UDP to us: %s", want)
			}
		})
	}
	// Transport mode through the NAT against strongSwan: UDP-Encapsulated-
	// Transport with NAT-OA payloads, both roles.
	for _, role := range []string{"initiator", "responder"} {
		mx.run(t, fmt.Sprintf("%-4s nat        %s, transport mode (NAT-OA)", "ss", role), "ss/transport/"+role, func(t *testing.T) {
			natTopo(t, 30000, 30999)
			p := startNATPeer(t, "ss", role == "responder", false)
			defer p.stop()
			p.transport(t)
			us := ourNAT(t, role == "initiator", true)
			defer us.stop()
			var out string
			var err error
			if role == "initiator" {
				var code int
				if out, code = us.whack("--name", "nat", "--initiate"); code != 0 {
					err = fmt.Errorf("exit %d", code)
				}
			} else {
				out, err = p.initiate()
			}
			if err != nil {
				t.Fatalf("initiate: %v\n%s\nour log:\n%s\npeer:\n%s", err, lastLines(out, 15), lastLines(us.log.String(), 25), p.status())
			}
			o, i, _, _ := ourEncap(t, us)
			p.peerEncap(t, o, i)
			if !strings.Contains(p.status(), "TRANSPORT-in-UDP") {
				t.Errorf("strongSwan's SA is not in transport mode:\n%s", p.status())
			}
		})
	}

	// Aggressive Mode through the NAT: VIDs in the first two messages,
	// NAT-D in the last two, the initiator floats with its third.
	for _, peer := range peers() {
		mx.run(t, fmt.Sprintf("%-4s nat        initiator, Aggressive Mode", peer), peer+"/aggressive", func(t *testing.T) {
			natTopo(t, 30000, 30999)
			p := startNATPeer(t, peer, false, false)
			defer p.stop()
			p.aggressive(t)
			client := ourNAT(t, true, false, "--aggrmode")
			defer client.stop()
			out, code := client.whack("--name", "nat", "--initiate")
			if code != 0 || !strings.Contains(out, "STATE_AGGR_I2") {
				t.Fatalf("initiate exit %d:\n%s\npeer:\n%s", code, out, p.status())
			}
			wantResult(t, client, "i am NATed")
			o, i, lp, rp := ourEncap(t, client)
			if lp != 4500 || rp != 4500 {
				t.Errorf("UDP ports %d->%d", lp, rp)
			}
			p.peerEncap(t, o, i)
		})
	}

}
