package routing

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"goswan/fsm"
)

func westUpdown(verb string) *Updown {
	return &Updown{Verb: verb, Conn: "west-east", Interface: "eth0",
		NextHop: netip.MustParseAddr("192.0.2.254"),
		Me:      netip.MustParseAddr("192.0.2.1"), MyID: "@west", MyClient: client("10.1.0.0/24"),
		Peer: netip.MustParseAddr("192.0.2.2"), PeerID: "@east", PeerClient: client("10.2.0.0/24"),
		Stack: "netkey", Policy: "PSK+ENCRYPT+TUNNEL+UP", ReqID: 16384, SAType: "ESP"}
}

func TestUpdownEnv(t *testing.T) {
	want := []string{
		"PLUTO_VERSION=1.1",
		"PLUTO_VERB=up-client",
		"PLUTO_CONNECTION=west-east",
		"PLUTO_NEXT_HOP=192.0.2.254",
		"PLUTO_INTERFACE=eth0",
		"PLUTO_ME=192.0.2.1",
		"PLUTO_MY_ID=@west",
		"PLUTO_MY_CLIENT=10.1.0.0/24",
		"PLUTO_MY_CLIENT_NET=10.1.0.0",
		"PLUTO_MY_CLIENT_MASK=255.255.255.0",
		"PLUTO_MY_PORT=0",
		"PLUTO_MY_PROTOCOL=0",
		"PLUTO_PEER=192.0.2.2",
		"PLUTO_PEER_ID=@east",
		"PLUTO_PEER_CLIENT=10.2.0.0/24",
		"PLUTO_PEER_CLIENT_NET=10.2.0.0",
		"PLUTO_PEER_CLIENT_MASK=255.255.255.0",
		"PLUTO_PEER_PORT=0",
		"PLUTO_PEER_PROTOCOL=0",
		"PLUTO_PEER_CA=",
		"PLUTO_STACK=netkey",
		"PLUTO_CONN_POLICY=PSK+ENCRYPT+TUNNEL+UP",
		"PLUTO_CONN_ADDRFAMILY=ipv4",
		"PLUTO_CONN_CLIENTFAMILY=ipv4",
		"PLUTO_SA_REQID=16384",
		"PLUTO_SA_TYPE=ESP",
	}
	if got := westUpdown(VerbUp).Env(); !slices.Equal(got, want) {
		t.Errorf("env:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestUpdownVariants(t *testing.T) {
	cases := []struct {
		name string
		mod  func(u *Updown)
		want map[string]string // selected variables; "" with absent: see gone
		gone []string
	}{
		{"route-client", func(u *Updown) { u.Verb = VerbRoute; u.ReqID, u.SAType = 0, "" },
			map[string]string{"PLUTO_VERB": "route-client"}, []string{"PLUTO_SA_REQID", "PLUTO_SA_TYPE"}},
		{"host to host", func(u *Updown) {
			u.Verb = VerbDown
			u.MyClient = client("192.0.2.1/32")
			u.PeerClient = client("192.0.2.2/32")
		}, map[string]string{"PLUTO_VERB": "down-host", "PLUTO_MY_CLIENT": "192.0.2.1/32", "PLUTO_MY_CLIENT_MASK": "255.255.255.255",
			"PLUTO_PEER_CLIENT_NET": "192.0.2.2"}, nil},
		{"ipv6", func(u *Updown) {
			u.Verb = VerbUnroute
			u.Me, u.Peer, u.NextHop = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"), netip.Addr{}
			u.MyClient, u.PeerClient = client("2001:db8:1::/48"), client("2001:db8:2::/48")
		}, map[string]string{"PLUTO_VERB": "unroute-client-v6", "PLUTO_MY_CLIENT_MASK": "ffff:ffff:ffff::",
			"PLUTO_CONN_ADDRFAMILY": "ipv6", "PLUTO_PEER_CLIENT_NET": "2001:db8:2::"}, []string{"PLUTO_NEXT_HOP"}},
		{"protoport and srcip", func(u *Updown) {
			u.Verb = VerbPrepare
			u.MyClient = fsm.Client{Net: netip.MustParsePrefix("192.0.2.1/32"), Proto: 17, Port: 1701}
			u.PeerClient = fsm.Client{Net: netip.MustParsePrefix("192.0.2.2/32"), Proto: 17}
			u.MySourceIP = netip.MustParseAddr("10.1.0.1")
		}, map[string]string{"PLUTO_VERB": "prepare-host", "PLUTO_MY_PORT": "1701", "PLUTO_MY_PROTOCOL": "17",
			"PLUTO_PEER_PORT": "0", "PLUTO_PEER_PROTOCOL": "17", "PLUTO_MY_SOURCEIP": "10.1.0.1"}, nil},
		{"mapped addresses", func(u *Updown) {
			u.Me = netip.MustParseAddr("::ffff:192.0.2.1")
			u.MyClient = fsm.Client{Net: netip.MustParsePrefix("::ffff:10.1.0.0/120")}
		}, map[string]string{"PLUTO_VERB": "up-client", "PLUTO_ME": "192.0.2.1", "PLUTO_MY_CLIENT": "10.1.0.0/24",
			"PLUTO_MY_CLIENT_MASK": "255.255.255.0", "PLUTO_CONN_ADDRFAMILY": "ipv4"}, nil},
		// CVE-2010-3308 and friends: what the peer chooses cannot smuggle
		// shell syntax into a script that expands it unquoted.
		{"hostile peer ID", func(u *Updown) {
			u.PeerID = "@evil'$(reboot)`id`;rm -rf /|cat\n\"x\\y&z<>*?[]{}!#~%^"
		}, map[string]string{"PLUTO_PEER_ID": "@evilrebootidrm -rf /catxyz"}, nil},
		{"DN", func(u *Updown) { u.PeerID = "C=CH, O=Linux strongSwan, CN=east" },
			map[string]string{"PLUTO_PEER_ID": "C=CH, O=Linux strongSwan, CN=east"}, nil},
		{"connection name", func(u *Updown) { u.Conn = "a;b" }, map[string]string{"PLUTO_CONNECTION": "ab"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := westUpdown(VerbUp)
			c.mod(u)
			m := envMap(u.Env())
			for k, v := range c.want {
				if got, ok := m[k]; !ok || got != v {
					t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
				}
			}
			for _, k := range c.gone {
				if _, ok := m[k]; ok {
					t.Errorf("%s is set", k)
				}
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"west-east_1":               "west-east_1",
		"user@example.com":          "user@example.com",
		"a'b\"c`d$e\\f":             "abcdef",
		"x;y|z&w":                   "xyzw",
		"tab\tnew\nline\x00nul\xff": "tabnewlinenul",
		"10.1.0.0/24":               "10.1.0.0/24",
		"2001:db8::1":               "2001:db8::1",
		"PSK+ENCRYPT+TUNNEL+UP":     "PSK+ENCRYPT+TUNNEL+UP",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	if n := len(Sanitize(strings.Repeat("a", 5000))); n != maxUpdownValue {
		t.Errorf("long value: %d octets", n)
	}
}

func TestRunUpdown(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("updown: no /bin/sh")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "env")
	t.Setenv("PLUTO_VERB", "stale") // pluto's own environment does not leak in
	got, err := RunUpdown(context.Background(), "echo hello; env > "+out, westUpdown(VerbUp))
	if err != nil || string(got) != "hello\n" {
		t.Fatalf("output %q, err %v", got, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m := envMap(strings.Split(strings.TrimSpace(string(b)), "\n"))
	if m["PLUTO_VERB"] != "up-client" || m["PLUTO_PEER_CLIENT"] != "10.2.0.0/24" || m["PATH"] == "" {
		t.Errorf("script saw PLUTO_VERB=%q PLUTO_PEER_CLIENT=%q PATH=%q", m["PLUTO_VERB"], m["PLUTO_PEER_CLIENT"], m["PATH"])
	}

	// The peer's ID expanded unquoted runs nothing.
	u := westUpdown(VerbUp)
	u.PeerID = "@x;touch " + filepath.Join(dir, "pwned")
	if _, err := RunUpdown(context.Background(), "echo $PLUTO_PEER_ID >/dev/null", u); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("the peer ID ran a command")
	}

	got, err = RunUpdown(context.Background(), "echo failing; exit 3", westUpdown(VerbDown))
	if !errors.Is(err, ErrUpdown) || !strings.Contains(err.Error(), "down-client: exit status 3") || string(got) != "failing\n" {
		t.Errorf("failing script: %q, %v", got, err)
	}

	old := UpdownTimeout
	UpdownTimeout = 200 * time.Millisecond
	defer func() { UpdownTimeout = old }()
	start := time.Now()
	_, err = RunUpdown(context.Background(), "sleep 10", westUpdown(VerbUp))
	if !errors.Is(err, ErrUpdown) || !strings.Contains(err.Error(), "timed out") || time.Since(start) > 5*time.Second {
		t.Errorf("hanging script: %v after %s", err, time.Since(start))
	}
}
