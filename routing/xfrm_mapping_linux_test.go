//go:build linux

package routing

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// TestParseMapping decodes a struct xfrm_user_mapping laid out as the
// kernel sends it (addresses and ports in network order, reqid in host
// order).
func TestParseMapping(t *testing.T) {
	id := nl.XfrmUsersaId{Spi: nl.Swap32(0x6480ff16), Family: unix.AF_INET, Proto: unix.IPPROTO_ESP}
	copy(id.Daddr[:], []byte{203, 0, 113, 2})
	b := append([]byte(nil), id.Serialize()...)
	b = binary.NativeEndian.AppendUint32(b, 0x4004)
	var oldA, newA [16]byte
	copy(oldA[:], []byte{203, 0, 113, 1})
	copy(newA[:], []byte{203, 0, 113, 9})
	b = append(append(b, oldA[:]...), newA[:]...)
	b = binary.BigEndian.AppendUint16(b, 30166)
	b = binary.BigEndian.AppendUint16(b, 31207)
	m, err := parseMapping(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Mapping{Dst: netip.MustParseAddr("203.0.113.2"), SPI: 0x6480ff16, ReqID: 0x4004,
		OldSrc: netip.MustParseAddrPort("203.0.113.1:30166"), NewSrc: netip.MustParseAddrPort("203.0.113.9:31207")}
	if m != want {
		t.Errorf("parsed %+v, want %+v", m, want)
	}
	if _, err := parseMapping(b[:len(b)-1]); err == nil {
		t.Error("a short MAPPING parsed")
	}
}
