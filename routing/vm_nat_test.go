//go:build linux

package routing

// NAT traversal end to end, in the VM whose kernel has ESP: our pluto in
// namespace nc (198.51.100.2, client 10.1.0.1/24) behind a router nr that
// source-NATs UDP to 203.0.113.1 with ports from a range (nftables), our
// pluto in ns (203.0.113.2, client 10.2.0.1/24), both with --use-netkey
// --nat_traversal. The tunnel comes up with UDP-encapsulated ESP SAs; a
// ping between the client subnets crosses the NAT as ESP in UDP 4500 (the
// 4500 sockets have UDP_ENCAP set, so the kernels decapsulate); after the
// NAT changes the client's port, the server follows (its kernel SA's
// encapsulation port is updated) and the ping goes through again.

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

func TestVMPlutoNAT(t *testing.T) {
	if os.Getenv("VMRUN_GUEST") == "1" {
		vmNATGuest(t)
		return
	}
	runInVM(t, "the NAT-T tunnel end to end", "^TestVMPlutoNAT$", 240, []string{"nft"}, "TestVMPlutoNAT")
}

func vmSNAT(t *testing.T, lo, hi int) {
	t.Helper()
	rules := fmt.Sprintf(`table ip gswnat
delete table ip gswnat
table ip gswnat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "nr1" meta l4proto udp snat to 203.0.113.1:%d-%d
		oifname "nr1" masquerade
	}
}
`, lo, hi)
	cmd := exec.Command("ip", "netns", "exec", "nr", "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
}

// encapStates lists a namespace's XFRM states with their UDP encapsulation.
func encapStates(t *testing.T, h *netlink.Handle) []netlink.XfrmState {
	t.Helper()
	states, err := h.XfrmStateList(netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	return states
}

func vmNATGuest(t *testing.T) {
	bin := os.Getenv("GOSWAN_VM_BIN")
	if bin == "" {
		t.Skip("vm: GOSWAN_VM_BIN (the directory with pluto and whack) is not set")
	}
	t0 := time.Now()
	phase := func(what string) { t.Logf("[%6.2fs] %s", time.Since(t0).Seconds(), what) }
	for _, c := range [][]string{
		{"netns", "add", "nc"}, {"netns", "add", "nr"}, {"netns", "add", "ns"},
		{"-n", "nc", "link", "set", "lo", "up"}, {"-n", "nr", "link", "set", "lo", "up"}, {"-n", "ns", "link", "set", "lo", "up"},
		{"link", "add", "nc0", "netns", "nc", "type", "veth", "peer", "name", "nr0", "netns", "nr"},
		{"link", "add", "nr1", "netns", "nr", "type", "veth", "peer", "name", "ns0", "netns", "ns"},
		{"-n", "nc", "addr", "add", "198.51.100.2/24", "dev", "nc0"}, {"-n", "nc", "link", "set", "nc0", "up"},
		{"-n", "nc", "route", "add", "default", "via", "198.51.100.1"},
		{"-n", "nr", "addr", "add", "198.51.100.1/24", "dev", "nr0"}, {"-n", "nr", "link", "set", "nr0", "up"},
		{"-n", "nr", "addr", "add", "203.0.113.1/24", "dev", "nr1"}, {"-n", "nr", "link", "set", "nr1", "up"},
		{"-n", "ns", "addr", "add", "203.0.113.2/24", "dev", "ns0"}, {"-n", "ns", "link", "set", "ns0", "up"},
		{"-n", "nc", "link", "add", "c0", "type", "dummy"}, {"-n", "nc", "addr", "add", "10.1.0.1/24", "dev", "c0"},
		{"-n", "nc", "link", "set", "c0", "up"},
		{"-n", "ns", "link", "add", "c0", "type", "dummy"}, {"-n", "ns", "addr", "add", "10.2.0.1/24", "dev", "c0"},
		{"-n", "ns", "link", "set", "c0", "up"},
	} {
		run(t, "ip", c...)
	}
	for _, n := range []string{"nc", "nr", "ns"} {
		defer exec.Command("ip", "netns", "del", n).Run()
	}
	run(t, "ip", "netns", "exec", "nr", "sysctl", "-qw", "net.ipv4.ip_forward=1")
	vmSNAT(t, 30000, 30999)
	phase("namespaces nc -> nr (SNAT to 203.0.113.1:30000-30999) -> ns up")

	secrets := "/run/goswan/nat.secrets"
	os.MkdirAll("/run/goswan", 0o755)
	if err := os.WriteFile(secrets, []byte(fmt.Sprintf("198.51.100.2 203.0.113.2 : PSK %q\n203.0.113.2 203.0.113.1 : PSK %q\n", vmPSK, vmPSK)), 0o600); err != nil {
		t.Fatal(err)
	}
	client := startVMPlutoWith(t, bin, "nc", "198.51.100.2", secrets, "--nat_traversal", "--keep_alive", "1")
	server := startVMPlutoWith(t, bin, "ns", "203.0.113.2", secrets, "--nat_traversal", "--debug-natt")
	defer func() {
		client.stop(t)
		server.stop(t)
		if t.Failed() {
			t.Logf("client pluto:\n%s\nserver pluto:\n%s", client.log, server.log)
		}
	}()
	algs := []string{"--psk", "--encrypt", "--tunnel", "--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1"}
	if out, code := client.whack(t, append([]string{"--name", "nat", "--host", "198.51.100.2", "--client", "10.1.0.0/24",
		"--to", "--host", "203.0.113.2", "--client", "10.2.0.0/24", "--dpddelay", "4", "--dpdtimeout", "30", "--dpdaction", "clear"}, algs...)...); code != 0 {
		t.Fatalf("client conn: %d\n%s", code, out)
	}
	if out, code := server.whack(t, append([]string{"--name", "nat", "--host", "203.0.113.2", "--client", "10.2.0.0/24",
		"--to", "--host", "203.0.113.1", "--id", "198.51.100.2", "--client", "10.1.0.0/24"}, algs...)...); code != 0 {
		t.Fatalf("server conn: %d\n%s", code, out)
	}
	out, code := client.whack(t, "--name", "nat", "--initiate")
	t.Logf("whack --initiate (client):\n%s", out)
	if code != 0 || !strings.Contains(out, "NAT-Traversal: Result using RFC 3947 (NAT-Traversal): i am NATed") {
		t.Fatalf("initiate: exit %d", code)
	}
	phase("IPsec SA established through the NAT")

	hc, hs := nsHandle(t, "nc"), nsHandle(t, "ns")
	// checkEncap checks both ends' SAs: ESP in UDP, the client's peer on
	// 4500, the server's on a port of the NAT, and at least minPackets
	// counted by each SA.
	checkEncap := func(when string, wantServerPort func(int) bool, minPackets uint64) (serverPort int) {
		for name, h := range map[string]*netlink.Handle{"client": hc, "server": hs} {
			states := encapStates(t, h)
			if len(states) != 2 {
				t.Errorf("%s %s: %d XFRM states, want 2", when, name, len(states))
			}
			for _, s := range states {
				e := s.Encap
				if e == nil || e.Type != netlink.XFRM_ENCAP_ESPINUDP {
					t.Errorf("%s %s: SA 0x%08x is not ESP in UDP: %v", when, name, uint32(s.Spi), e)
					continue
				}
				t.Logf("%s %s: SA %s->%s spi 0x%08x in UDP %d->%d: %d packets", when, name, s.Src, s.Dst, uint32(s.Spi), e.SrcPort, e.DstPort, s.Statistics.Packets)
				if s.Statistics.Packets < minPackets {
					t.Errorf("%s %s: SA 0x%08x counted %d packets, want >= %d", when, name, uint32(s.Spi), s.Statistics.Packets, minPackets)
				}
				peerPort := e.DstPort
				if s.Dst.String() == "203.0.113.2" || s.Dst.String() == "198.51.100.2" { // inbound
					peerPort = e.SrcPort
				}
				if name == "client" && peerPort != 4500 {
					t.Errorf("%s client: peer port %d, want 4500", when, peerPort)
				}
				if name == "server" {
					serverPort = peerPort
					if !wantServerPort(peerPort) {
						t.Errorf("%s server: client's port %d is not the NAT's", when, peerPort)
					}
				}
			}
		}
		return serverPort
	}
	pingThrough := func(when string) {
		capNR := exec.Command("ip", "netns", "exec", "nr", "tcpdump", "-n", "-l", "-i", "nr1", "udp port 4500 or esp or icmp")
		dump := &lockedBuffer{}
		capNR.Stdout, capNR.Stderr = dump, dump
		capNR.Start()
		for i := 0; i < 60 && !strings.Contains(dump.String(), "listening on"); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		out, err := exec.Command("ip", "netns", "exec", "nc", "ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", "10.1.0.1", "10.2.0.1").CombinedOutput()
		time.Sleep(200 * time.Millisecond)
		capNR.Process.Signal(syscall.SIGINT)
		capNR.Wait()
		t.Logf("%s: ping 10.1.0.1 -> 10.2.0.1:\n%s", when, out)
		if m := pingOK.FindStringSubmatch(string(out)); err != nil || m == nil || m[2] != "3" {
			t.Errorf("%s: ping through the NAT-T tunnel failed: %v", when, err)
		}
		espInUDP, clear := 0, 0
		for _, l := range strings.Split(dump.String(), "\n") {
			switch {
			case strings.Contains(l, "UDP-encap: ESP(spi="):
				espInUDP++
			case strings.Contains(l, "ICMP"):
				clear++
			}
		}
		t.Logf("%s: tcpdump on the NAT's public side: %d ESP-in-UDP packets, %d cleartext ICMP\n%s", when, espInUDP, clear, dump.String())
		if espInUDP < 6 || clear != 0 {
			t.Errorf("%s: want >= 6 ESP-in-UDP packets (3 pings, 3 replies) and no cleartext ICMP", when)
		}
	}
	inRange := func(lo int) func(int) bool { return func(p int) bool { return p >= lo && p <= lo+999 } }
	checkEncap("established", inRange(30000), 0)
	pingThrough("through the NAT")
	first := checkEncap("after the ping", inRange(30000), 3)
	phase("ping through UDP-encapsulated ESP")

	// The NAT forgets its mappings and picks ports from another range.
	vmSNAT(t, 31000, 31999)
	hr := nsHandle(t, "nr")
	if err := hr.ConntrackTableFlush(netlink.ConntrackTable); err != nil {
		t.Fatalf("conntrack flush: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(server.log.String(), "is now at 203.0.113.1:31") {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(server.log.String(), "is now at 203.0.113.1:31") {
		t.Fatalf("the server did not follow the client's new port:\n%s", server.log)
	}
	phase("NAT port changed; the server followed")
	if l := logLine(server.log.String(), "is now at 203.0.113.1:31"); strings.Contains(l, "kernel") {
		t.Errorf("the first move was not learnt from IKE (DPD): %s", l)
	}
	checkEncap("after the NAT port change", inRange(31000), 3) // updated in place: the counters stay
	pingThrough("after the NAT port change")
	second := checkEncap("after the NAT port change and a ping", inRange(31000), 6)
	t.Logf("server's SA encapsulation port: %d before, %d after the NAT change", first, second)
	phase("ping through the updated SAs")

	// Again, but now the client's traffic comes first (DPD is 4 s away):
	// the server's kernel reports ESP in UDP from the new mapping
	// (XFRM_MSG_MAPPING) and pluto moves the SAs at once.
	vmSNAT(t, 32000, 32999)
	if err := hr.ConntrackTableFlush(netlink.ConntrackTable); err != nil {
		t.Fatalf("conntrack flush: %v", err)
	}
	pout, _ := exec.Command("ip", "netns", "exec", "nc", "ping", "-c", "5", "-i", "0.2", "-W", "1", "-I", "10.1.0.1", "10.2.0.1").CombinedOutput()
	t.Logf("ping right after the second NAT change:\n%s", pout)
	if m := pingOK.FindStringSubmatch(string(pout)); m == nil || m[2] < "3" || len(m[2]) != 1 {
		t.Errorf("ping after the second NAT change: fewer than 3 of 5 replies")
	}
	if l := logLine(server.log.String(), "is now at 203.0.113.1:32"); !strings.Contains(l, "(kernel: ESP in UDP from there)") {
		t.Errorf("the server did not follow the kernel's MAPPING report: %q\n%s", l, server.log)
	} else {
		t.Logf("server: %s", l)
	}
	third := checkEncap("after the second NAT change", inRange(32000), 9)
	t.Logf("server's SA encapsulation port: %d after the second NAT change", third)
	phase("the kernel's MAPPING report moved the SAs")
	t.Logf("ip -n ns -s xfrm state:\n%s", run(t, "ip", "-n", "ns", "-s", "xfrm", "state"))

	vmNATStrongSwan(t, bin, secrets, client, server, pingThrough)
	phase("strongSwan (kernel backend) through the NAT, both roles")
}

// logLine returns the first line of log containing s, or "".
func logLine(log, s string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// vmNATCharon runs strongSwan's charon (kernel backend: the VM's XFRM) in
// namespace ns for the NAT test; it returns swanctl and a stop function.
func vmNATCharon(t *testing.T, ns, local, remote, localTS, remoteTS, localID, remoteID string) (swanctl func(...string) (string, error), stop func()) {
	t.Helper()
	return vmCharon(t, ns, "/run/goswan/ss-"+ns, charonRetransmit, fmt.Sprintf(`connections {
    nat {
        version = 1
        local_addrs = %s
        remote_addrs = %s
        proposals = aes128-sha1-modp2048
        dpd_delay = 0
        local {
            auth = psk
            id = %s
        }
        remote {
            auth = psk
            id = %s
        }
        children {
            net {
                local_ts = %s
                remote_ts = %s
                esp_proposals = aes128-sha1
                mode = tunnel
                start_action = none
            }
        }
    }
}
secrets {
    ike-psk {
        id-a = %s
        id-b = %s
        secret = "%s"
    }
}
`, local, remote, localID, remoteID, localTS, remoteTS, localID, remoteID, vmPSK))
}

// vmNATStrongSwan: our pluto behind the NAT against strongSwan's charon
// (kernel backend) as the server, then charon behind the NAT against our
// pluto as the server: a ping crosses the NAT as ESP in UDP each time,
// counted by the UDP-encapsulated XFRM states of the strongSwan end.
func vmNATStrongSwan(t *testing.T, bin, secrets string, client, server *vmPluto, pingThrough func(string)) {
	t.Helper()
	countEncap := func(who, ns string) {
		t.Helper()
		h := nsHandle(t, ns)
		defer h.Delete()
		states := encapStates(t, h)
		if len(states) != 2 {
			t.Errorf("%s: %d XFRM states in %s, want 2", who, len(states), ns)
		}
		for _, s := range states {
			t.Logf("%s: SA %s->%s spi 0x%08x encap %v: %d packets", who, s.Src, s.Dst, uint32(s.Spi), s.Encap, s.Statistics.Packets)
			if s.Encap == nil || s.Encap.Type != netlink.XFRM_ENCAP_ESPINUDP || s.Statistics.Packets < 3 {
				t.Errorf("%s: SA 0x%08x is not ESP in UDP with >= 3 packets", who, uint32(s.Spi))
			}
		}
	}
	// Our client against charon as the server.
	client.whack(t, "--name", "nat", "--terminate")
	server.stop(t)
	swanctl, stop := vmNATCharon(t, "ns", "203.0.113.2", "%any", "10.2.0.0/24", "10.1.0.0/24", "203.0.113.2", "198.51.100.2")
	out, code := client.whack(t, "--name", "nat", "--initiate")
	t.Logf("whack --initiate (against strongSwan as the server):\n%s", out)
	if code != 0 || !strings.Contains(out, "i am NATed") {
		stop()
		t.Fatalf("initiate against strongSwan: exit %d", code)
	}
	pingThrough("ours (behind the NAT) to strongSwan")
	countEncap("strongSwan server", "ns")
	sas, _ := swanctl("--list-sas")
	t.Logf("swanctl --list-sas:\n%s", sas)
	if !strings.Contains(sas, "TUNNEL-in-UDP") {
		t.Errorf("charon's CHILD_SA is not UDP-encapsulated")
	}
	client.whack(t, "--name", "nat", "--terminate")
	stop()
	client.stop(t)

	// charon behind the NAT against our pluto as the server.
	srv := startVMPlutoWith(t, bin, "ns", "203.0.113.2", secrets, "--nat_traversal")
	defer srv.stop(t)
	if out, code := srv.whack(t, "--name", "nat", "--host", "203.0.113.2", "--client", "10.2.0.0/24",
		"--to", "--host", "203.0.113.1", "--id", "198.51.100.2", "--client", "10.1.0.0/24",
		"--psk", "--encrypt", "--tunnel", "--ike", "aes128-sha1-modp2048", "--esp", "aes128-sha1"); code != 0 {
		t.Fatalf("server conn: %d\n%s", code, out)
	}
	swanctl, stop = vmNATCharon(t, "nc", "198.51.100.2", "203.0.113.2", "10.1.0.0/24", "10.2.0.0/24", "198.51.100.2", "203.0.113.2")
	defer stop()
	if out, err := swanctl("--initiate", "--child", "net", "--timeout", "20"); err != nil {
		t.Fatalf("swanctl --initiate: %v\n%s\nour server:\n%s", err, out, srv.log)
	}
	if !strings.Contains(srv.log.String(), "peer is NATed") {
		t.Errorf("our server did not detect the NAT:\n%s", srv.log)
	}
	pingThrough("strongSwan (behind the NAT) to ours")
	countEncap("our server", "ns")
	countEncap("strongSwan client", "nc")
}
