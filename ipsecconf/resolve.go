package ipsecconf

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Route is the default route of an address family.
type Route struct {
	Addr      netip.Addr // our address on it (the source address the kernel picks)
	Gateway   netip.Addr // invalid when the route has no gateway
	Interface string
}

// Resolver resolves what a configuration names indirectly: %defaultroute
// and DNS names. Tests substitute their own.
type Resolver interface {
	DefaultRoute(ipv6 bool) (Route, error)
	LookupHost(name string, ipv6 bool) (netip.Addr, error)
}

// DefaultResolver asks the system: the routing table (/proc/net/route,
// /proc/net/ipv6_route) and DNS.
var DefaultResolver Resolver = systemResolver{}

type systemResolver struct{}

func (systemResolver) LookupHost(name string, ipv6 bool) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	network := "ip4"
	if ipv6 {
		network = "ip6"
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, name)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("cannot resolve: %v", err)
	}
	if len(addrs) == 0 {
		return netip.Addr{}, errors.New("cannot resolve: no address")
	}
	return addrs[0].Unmap(), nil
}

func (systemResolver) DefaultRoute(ipv6 bool) (Route, error) {
	var rt Route
	var err error
	if ipv6 {
		rt, err = defaultRoute6()
	} else {
		rt, err = defaultRoute4()
	}
	if err != nil {
		return rt, err
	}
	// The kernel's source address towards the gateway (or anywhere the
	// default route leads): a UDP "connection" sends nothing.
	probe := "192.0.2.1:9"
	if ipv6 {
		probe = "[2001:db8::1]:9"
	}
	if rt.Gateway.IsValid() {
		probe = netip.AddrPortFrom(rt.Gateway, 9).String()
	}
	c, err := net.Dial("udp", probe)
	if err != nil {
		return rt, fmt.Errorf("no address on the default route: %v", err)
	}
	defer c.Close()
	rt.Addr = c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	return rt, nil
}

// defaultRoute4 reads the IPv4 default route from /proc/net/route.
func defaultRoute4() (Route, error) {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return Route{}, fmt.Errorf("no default route: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 8 || fs[1] != "00000000" || fs[7] != "00000000" {
			continue
		}
		rt := Route{Interface: fs[0]}
		if g, err := hex.DecodeString(fs[2]); err == nil && len(g) == 4 {
			a := netip.AddrFrom4([4]byte{g[3], g[2], g[1], g[0]}) // little endian
			if !a.IsUnspecified() {
				rt.Gateway = a
			}
		}
		return rt, nil
	}
	return Route{}, errors.New("no IPv4 default route")
}

// defaultRoute6 reads the IPv6 default route from /proc/net/ipv6_route.
func defaultRoute6() (Route, error) {
	f, err := os.Open("/proc/net/ipv6_route")
	if err != nil {
		return Route{}, fmt.Errorf("no default route: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 || fs[0] != strings.Repeat("0", 32) || fs[1] != "00" || fs[9] == "lo" {
			continue
		}
		rt := Route{Interface: fs[9]}
		if g, err := hex.DecodeString(fs[4]); err == nil && len(g) == 16 {
			if a := netip.AddrFrom16([16]byte(g)); !a.IsUnspecified() {
				rt.Gateway = a
			}
		}
		return rt, nil
	}
	return Route{}, errors.New("no IPv6 default route")
}

// offlineResolver resolves nothing: Load's checks run without the network.
type offlineResolver struct{}

var errOffline = errors.New("not resolved while loading")

func (offlineResolver) DefaultRoute(bool) (Route, error)            { return Route{}, errOffline }
func (offlineResolver) LookupHost(string, bool) (netip.Addr, error) { return netip.Addr{}, errOffline }
