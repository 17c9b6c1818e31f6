package pluto

import (
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"goswan/routing"
)

// nattTestPort finds a UDP port free on both loopback addresses.
func nattTestPort(t *testing.T) int {
	for i := 0; i < 20; i++ {
		p := freePort(t, "127.0.0.1")
		c, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.2", strconv.Itoa(p)))
		if err == nil {
			c.Close()
			return p
		}
	}
	t.Skip("no UDP port free on both loopback addresses")
	return 0
}

// TestNATTForceEncapsTwoDaemons: two plutos with --nat_traversal, the
// initiator with --forceencaps (no NAT on loopback): both detect the
// pretended NAT, Main Mode moves to the NAT-T port from its fifth message
// (with the non-ESP marker, or the messages would be dropped), the IPsec
// SAs are UDP-encapsulated between the NAT-T ports in the kernel and in
// the status, the initiator sends keepalives that the responder sees, and
// non-IKE datagrams on the NAT-T port are dropped.
func TestNATTForceEncapsTwoDaemons(t *testing.T) {
	np := nattTestPort(t)
	natt := func(c *Config) {
		c.NATTraversal, c.NATTPort, c.KeepAlive = true, np, 200*time.Millisecond
		c.Debug |= DebugNATT
	}
	west := startDaemonWith(t, "127.0.0.1", freePort(t, "127.0.0.1"), psk, nil, natt)
	east := startDaemonWith(t, "127.0.0.2", freePort(t, "127.0.0.2"), psk, nil, natt)
	addConn(t, west, west, east, "--forceencaps")
	addConn(t, east, west, east)
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 0 {
		t.Fatalf("initiate exit %d:\n%s\nwest log:\n%s\neast log:\n%s", code, out, west.log, east.log)
	}
	checkTranscript(t, out)
	if !strings.Contains(out, "000 \"west-east\" #1: NAT-Traversal: Result using RFC 3947 (NAT-Traversal): i am NATed") {
		t.Errorf("whack did not show the NAT-T result:\n%s", out)
	}
	if !strings.Contains(east.log.String(), "NAT-Traversal: Result using RFC 3947 (NAT-Traversal): peer is NATed") {
		t.Errorf("east log:\n%s", east.log)
	}
	port := strconv.Itoa(np)
	for _, td := range []*testDaemon{west, east} {
		st, _ := td.whack(t, "--status")
		for _, want := range []string{"interface " + td.addr + ":" + port, "nat-traversal=yes, keep-alive=",
			"in UDP " + port + "->" + port, "NAT-T RFC 3947 (NAT-Traversal): "} {
			if !strings.Contains(st, want) {
				t.Errorf("%s status lacks %q:\n%s", td.addr, want, st)
			}
		}
		ns := td.d.kernel.(*routing.NoStack)
		var encap *routing.Encap
		td.d.Do(func() {
			for _, s := range td.d.m.States() {
				if s.IPsec != nil && s.Kind.IsIPsecEstablished() {
					if ksa := ns.SA(binary.BigEndian.Uint32(s.IPsec.InboundSPI)); ksa != nil {
						encap = ksa.Encap
					}
				}
			}
		})
		if encap == nil || int(encap.LocalPort) != np || int(encap.RemotePort) != np {
			t.Errorf("%s: kernel SA encapsulation %+v, want UDP %d->%d", td.addr, encap, np, np)
		}
	}
	// The JSON status carries the same.
	js, _ := west.whack(t, "--status", "--json")
	for _, want := range []string{`"nat_traversal": "RFC 3947 (NAT-Traversal): i am NATed"`, `"udp_encap": {`, `"local_port": ` + port} {
		if !strings.Contains(js, want) {
			t.Errorf("west JSON status lacks %q:\n%s", want, js)
		}
	}
	// Keepalives from the (pretended) NATed initiator reach the responder.
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(east.log.String(), "NAT-T: NAT-keepalive from 127.0.0.1:"+port) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(east.log.String(), "NAT-T: NAT-keepalive from 127.0.0.1:"+port) {
		t.Errorf("no keepalive seen by east:\n%s", east.log)
	}
	if strings.Contains(west.log.String(), "NAT-T: NAT-keepalive from") {
		t.Errorf("east (not NATed, no --force_keepalive) sent keepalives:\n%s", west.log)
	}
	// ESP-looking and short datagrams on the NAT-T port are dropped; the
	// daemon still answers.
	c, err := net.Dial("udp", "127.0.0.2:"+port)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte{0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0xde, 0xad})
	c.Write([]byte{0, 0})
	c.Close()
	deadline = time.Now().Add(2 * time.Second)
	for !strings.Contains(east.log.String(), "datagram too short") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"ESP packet for SPI 0x12345678 (no kernel decapsulation)", "datagram too short for the non-ESP marker"} {
		if !strings.Contains(east.log.String(), want) {
			t.Errorf("east did not log %q", want)
		}
	}
	if _, code := east.whack(t, "--status"); code != 0 {
		t.Errorf("east status exit %d", code)
	}
}

// TestNATTDisablePortFloating: without port floating NAT-T is neither
// offered nor accepted (only draft-00/01 would remain), and the log says so.
func TestNATTDisablePortFloating(t *testing.T) {
	td := startDaemonWith(t, "127.0.0.1", freePort(t, "127.0.0.1"), psk, nil, func(c *Config) {
		c.NATTraversal, c.DisablePortFloating, c.NATTPort = true, true, freePort(t, "127.0.0.1")
	})
	if td.d.cfg.Machine.NATTraversal {
		t.Error("the state machine still offers NAT-T")
	}
	if !strings.Contains(td.log.String(), "port floating disabled") {
		t.Errorf("log:\n%s", td.log)
	}
	st, _ := td.whack(t, "--status")
	if !strings.Contains(st, "port-floating=no") {
		t.Errorf("status:\n%s", st)
	}
}
