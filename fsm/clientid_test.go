package fsm

import (
	"net/netip"
	"testing"

	"goswan/spec"
)

// TestClientFromIDRanges: Quick Mode address ranges are taken when they
// are exactly a subnet (pluto's rangetosubnet) and refused with a reason
// otherwise; protocol and port ride along.
func TestClientFromIDRanges(t *testing.T) {
	v4 := func(a, b string) []byte {
		x, y := netip.MustParseAddr(a).As4(), netip.MustParseAddr(b).As4()
		return append(x[:], y[:]...)
	}
	v6 := func(a, b string) []byte {
		x, y := netip.MustParseAddr(a).As16(), netip.MustParseAddr(b).As16()
		return append(x[:], y[:]...)
	}
	cases := []struct {
		t    spec.IDType
		data []byte
		want string // "" = refused
	}{
		{spec.IDIPv4AddrRange, v4("10.1.0.0", "10.1.0.255"), "10.1.0.0/24:17/1701"},
		{spec.IDIPv4AddrRange, v4("10.1.0.7", "10.1.0.7"), "10.1.0.7/32:17/1701"},
		{spec.IDIPv4AddrRange, v4("0.0.0.0", "255.255.255.255"), "0.0.0.0/0:17/1701"},
		{spec.IDIPv4AddrRange, v4("10.1.0.1", "10.1.0.255"), ""},
		{spec.IDIPv4AddrRange, v4("10.1.0.0", "10.1.1.127"), ""},
		{spec.IDIPv4AddrRange, v4("10.1.0.255", "10.1.0.0"), ""},
		{spec.IDIPv6AddrRange, v6("2001:db8::", "2001:db8::ffff"), "2001:db8::/112:17/1701"},
		{spec.IDIPv4AddrRange, v4("10.1.0.0", "10.1.0.255")[:7], ""},
	}
	for _, c := range cases {
		got, err := ClientFromID(c.t, c.data, 17, 1701)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%s %x: accepted as %s", c.t, c.data, got)
		case c.want != "" && (err != nil || got.String() != c.want):
			t.Errorf("%s %x: %v %v, want %s", c.t, c.data, got, err, c.want)
		}
	}
}
