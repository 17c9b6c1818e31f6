package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	tdPcap = "testdata/ss-lsw-3des-md5-modp1536-pfs.pcap"
	tdHex  = "testdata/ss-lsw-3des-md5-modp1536-pfs.hex"
)

// samePackets reports the first difference between two packet lists.
func samePackets(t *testing.T, what string, want, got []Packet) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d packets, want %d", what, len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.Index != i || w.Index != i {
			t.Errorf("%s: packet %d: Index %d/%d", what, i, w.Index, g.Index)
		}
		if w.Frame != g.Frame {
			t.Errorf("%s: packet %d: Frame %d, want %d", what, i, g.Frame, w.Frame)
		}
		if math.Abs(w.Time-g.Time) > 1e-6 {
			t.Errorf("%s: packet %d: Time %v, want %v", what, i, g.Time, w.Time)
		}
		if w.Src != g.Src || w.Dst != g.Dst {
			t.Errorf("%s: packet %d: %v -> %v, want %v -> %v", what, i, g.Src, g.Dst, w.Src, w.Dst)
		}
		if !bytes.Equal(w.Data, g.Data) {
			t.Errorf("%s: packet %d: Data differs (%d vs %d octets)", what, i, len(g.Data), len(w.Data))
		}
	}
}

func TestTestdataPcapMatchesHex(t *testing.T) {
	fromPcap, err := ReadFile(tdPcap)
	if err != nil {
		t.Fatal(err)
	}
	fromHex, err := ReadFile(tdHex)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromPcap) != 13 {
		t.Fatalf("pcap: %d messages, want 13", len(fromPcap))
	}
	samePackets(t, "hex vs pcap", fromPcap, fromHex)

	// What notes.md says about this exchange.
	first := fromPcap[0]
	if first.Src != netip.MustParseAddrPort("192.0.2.2:500") || first.Dst != netip.MustParseAddrPort("192.0.2.1:500") {
		t.Errorf("frame 1: %v -> %v", first.Src, first.Dst)
	}
	if got := len(first.Data); got != 176 {
		t.Errorf("frame 1: %d octets, want 176", got)
	}
	if last := fromPcap[12]; math.Abs(last.Time-1.117236) > 1e-6 || last.Frame != 13 {
		t.Errorf("frame 13: frame %d t=%v", last.Frame, last.Time)
	}
	for _, p := range fromPcap {
		// Every message is a whole ISAKMP message: the header length
		// matches the datagram.
		if len(p.Data) < 28 || int(binary.BigEndian.Uint32(p.Data[24:])) != len(p.Data) {
			t.Errorf("frame %d: ISAKMP length field does not match %d octets", p.Frame, len(p.Data))
		}
	}
}

// TestVectorData reads every recorded exchange kept in the testvectors
// package and checks that the capture and the hex dump agree.
func TestVectorData(t *testing.T) {
	pcaps, _ := filepath.Glob("../../testvectors/data/*/exchange.pcap")
	if len(pcaps) == 0 {
		t.Skip("no ../../testvectors/data/*/exchange.pcap")
	}
	for _, pc := range pcaps {
		dir := filepath.Dir(pc)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			a, err := ReadFile(pc)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ReadFile(filepath.Join(dir, "messages.hex"))
			if err != nil {
				t.Fatal(err)
			}
			if len(a) < 9 {
				t.Errorf("only %d messages", len(a))
			}
			samePackets(t, "hex vs pcap", a, b)
		})
	}
}

func TestNATTPort4500(t *testing.T) {
	ike500 := fakeIKE(1, 60)
	ike4500 := fakeIKE(2, 92)
	marker := append([]byte{0, 0, 0, 0}, ike4500...)
	esp := append([]byte{0xc2, 0x99, 0x10, 0x91, 0, 0, 0, 1}, make([]byte, 40)...)
	recs := []rec{
		{1_700_000_000_000_000_000, ether(0x0800, nil, ipv4(addrW, addrE, 17, 0, udp(500, 500, ike500)))},
		{1_700_000_000_000_001_000, ether(0x0800, nil, ipv4(addrW, addrE, 17, 0, udp(4500, 4500, marker)))},
		{1_700_000_000_000_002_000, ether(0x0800, nil, ipv4(addrE, addrW, 17, 0, udp(4500, 4500, []byte{0xff})))},       // keepalive
		{1_700_000_000_000_003_000, ether(0x0800, nil, ipv4(addrE, addrW, 17, 0, udp(4500, 4500, esp)))},                // ESP in UDP
		{1_700_000_000_000_004_000, ether(0x0800, nil, ipv4(addrE, addrW, 50, 0, esp))},                                 // ESP
		{1_700_000_000_000_005_000, ether(0x0800, nil, ipv4(addrE, addrW, 6, 0, udp(500, 500, ike500)))},                // TCP-ish
		{1_700_000_000_000_006_000, ether(0x0800, nil, ipv4(addrE, addrW, 17, 0, udp(53, 5353, ike500)))},               // DNS
		{1_700_000_000_000_007_000, ether(0x0806, nil, make([]byte, 28))},                                               // ARP
		{1_700_000_000_000_008_000, ether(0x0800, nil, ipv4(addrE, addrW, 17, 0, udp(4500, 4500, []byte{0, 0, 0, 0})))}, // empty
		{1_700_000_000_500_000_000, ether(0x0800, nil, ipv4(addrE, addrW, 17, 0, udp(4500, 31337, marker)))},
	}
	pkts, err := ReadPcap(bytes.NewReader(pcapFile(binary.LittleEndian, false, linkEthernet, recs)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Packet{
		{Index: 0, Frame: 1, Time: 0, Src: netip.AddrPortFrom(addrW, 500), Dst: netip.AddrPortFrom(addrE, 500), Data: ike500},
		{Index: 1, Frame: 2, Time: 1e-6, Src: netip.AddrPortFrom(addrW, 4500), Dst: netip.AddrPortFrom(addrE, 4500), Data: ike4500},
		{Index: 2, Frame: 10, Time: 0.5, Src: netip.AddrPortFrom(addrE, 4500), Dst: netip.AddrPortFrom(addrW, 31337), Data: ike4500},
	}
	samePackets(t, "4500", want, pkts)
}

func TestLinkTypes(t *testing.T) {
	ike := fakeIKE(3, 76)
	v4 := ipv4(addrW, addrE, 17, 0, udp(500, 500, ike))
	v6 := ipv6(addrW6, addrE6, 17, nil, udp(500, 4500, append([]byte{0, 0, 0, 0}, ike...)))
	// hop-by-hop (8 octets) -> destination options (16 octets) -> UDP
	ext := []byte{60, 0, 1, 4, 0, 0, 0, 0, 17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	v6ext := ipv6(addrW6, addrE6, 0, ext, udp(500, 500, ike))
	// atomic fragment header (offset 0, M 0)
	v6atomic := ipv6(addrW6, addrE6, 44, []byte{17, 0, 0, 0, 0, 0, 0, 1}, udp(500, 500, ike))

	src4, dst4 := netip.AddrPortFrom(addrW, 500), netip.AddrPortFrom(addrE, 500)
	src6, dst6 := netip.AddrPortFrom(addrW6, 500), netip.AddrPortFrom(addrE6, 4500)
	dst6b := netip.AddrPortFrom(addrE6, 500)

	tests := []struct {
		name     string
		link     uint32
		frame    []byte
		src, dst netip.AddrPort
	}{
		{"ethernet-v4", linkEthernet, ether(0x0800, nil, v4), src4, dst4},
		{"ethernet-vlan-v4", linkEthernet, ether(0x0800, []uint16{100}, v4), src4, dst4},
		{"ethernet-qinq-v6", linkEthernet, ether(0x86dd, []uint16{100, 200}, v6), src6, dst6},
		{"ethernet-v6-ext", linkEthernet, ether(0x86dd, nil, v6ext), src6, dst6b},
		{"ethernet-v6-atomic-frag", linkEthernet, ether(0x86dd, nil, v6atomic), src6, dst6b},
		{"sll-v4", linkSLL, sll(0x0800, v4), src4, dst4},
		{"sll-v6", linkSLL, sll(0x86dd, v6), src6, dst6},
		{"sll2-v4", linkSLL2, sll2(0x0800, v4), src4, dst4},
		{"sll2-v6", linkSLL2, sll2(0x86dd, v6), src6, dst6},
		{"raw-v4", linkRaw, v4, src4, dst4},
		{"raw-v6", linkRaw, v6, src6, dst6},
		{"ipv4", linkIPv4, v4, src4, dst4},
		{"ipv6", linkIPv6, v6, src6, dst6},
		{"null-le-v4", linkNull, null(2, binary.LittleEndian, v4), src4, dst4},
		{"null-be-v6", linkNull, null(30, binary.BigEndian, v6), src6, dst6},
		{"loop-v4", linkLoop, null(2, binary.BigEndian, v4), src4, dst4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := []Packet{{Frame: 1, Src: tc.src, Dst: tc.dst, Data: ike}}
			for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
				for _, nano := range []bool{false, true} {
					pkts, err := ReadPcap(bytes.NewReader(pcapFile(order, nano, tc.link, []rec{{12345, tc.frame}})))
					if err != nil {
						t.Fatal(err)
					}
					samePackets(t, "pcap", want, pkts)
				}
				pkts, err := ReadPcap(bytes.NewReader(pcapngFile(order, uint16(tc.link), 0, []rec{{12345, tc.frame}})))
				if err != nil {
					t.Fatal(err)
				}
				samePackets(t, "pcapng", want, pkts)
			}
		})
	}
}

func TestSkipped(t *testing.T) {
	ike := fakeIKE(4, 60)
	u := udp(500, 500, ike)
	short := udp(500, 500, ike)
	binary.BigEndian.PutUint16(short[4:], uint16(len(short)+10)) // UDP length beyond the packet
	tests := []struct {
		name  string
		link  uint32
		frame []byte
	}{
		{"v4-more-fragments", linkRaw, ipv4(addrW, addrE, 17, 0x2000, u)},
		{"v4-later-fragment", linkRaw, ipv4(addrW, addrE, 17, 0x0010, u)},
		{"v6-fragment", linkRaw, ipv6(addrW6, addrE6, 44, []byte{17, 0, 0, 1, 0, 0, 0, 1}, u)},
		{"v6-esp", linkRaw, ipv6(addrW6, addrE6, 50, nil, u)},
		{"udp-length-overrun", linkRaw, ipv4(addrW, addrE, 17, 0, short)},
		{"ip-version-5", linkRaw, append([]byte{0x50}, u...)},
		{"ipv4-short", linkRaw, ipv4(addrW, addrE, 17, 0, u)[:30]},
		{"ethernet-ipx", linkEthernet, ether(0x8137, nil, ipv4(addrW, addrE, 17, 0, u))},
		{"ethernet-too-many-vlans", linkEthernet, ether(0x0800, []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9}, ipv4(addrW, addrE, 17, 0, u))},
		{"empty-frame", linkEthernet, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkts, err := ReadPcap(bytes.NewReader(pcapFile(binary.LittleEndian, false, tc.link, []rec{{0, tc.frame}})))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != 0 {
				t.Errorf("kept %d packets, want none", len(pkts))
			}
		})
	}
}

func TestTruncatedPcap(t *testing.T) {
	full, err := os.ReadFile(tdPcap)
	if err != nil {
		t.Fatal(err)
	}
	all, err := ReadPcap(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	// Record boundaries: a cut there is a clean, shorter capture.
	boundaries := map[int]int{24: 0} // offset -> records before it
	for off, n := 24, 0; off+16 <= len(full); {
		off += 16 + int(binary.LittleEndian.Uint32(full[off+8:]))
		n++
		boundaries[off] = n
	}
	for cut := 0; cut < len(full); cut++ {
		pkts, err := ReadPcap(bytes.NewReader(full[:cut]))
		if n, ok := boundaries[cut]; ok {
			if err != nil {
				t.Errorf("cut at record boundary %d: %v", cut, err)
			}
			if len(pkts) != n {
				t.Errorf("cut at %d: %d packets, want %d", cut, len(pkts), n)
			}
			continue
		}
		if err == nil {
			t.Fatalf("cut at %d: no error", cut)
		}
		if !strings.Contains(err.Error(), "truncated") && !strings.Contains(err.Error(), "too short") {
			t.Errorf("cut at %d: error %q does not say truncated", cut, err)
		}
		// The packets before the cut are returned with the error.
		samePackets(t, "prefix", all[:len(pkts)], pkts)
	}
	// Via ReadFile, the error names the file.
	path := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(path, full[:len(full)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	pkts, err := ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), "cut.pcap") || !strings.Contains(err.Error(), "record 13") {
		t.Errorf("ReadFile(truncated) = %d packets, %v", len(pkts), err)
	}
	if len(pkts) != 12 {
		t.Errorf("ReadFile(truncated): %d packets before the error, want 12", len(pkts))
	}
}

func TestHugeRecord(t *testing.T) {
	for _, n := range []uint32{MaxRecord + 1, 0x7fffffff, 0xffffffff} {
		b := pcapFile(binary.LittleEndian, false, linkEthernet, nil)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, n)
		b = binary.LittleEndian.AppendUint32(b, n)
		_, err := ReadPcap(bytes.NewReader(b))
		if err == nil || !strings.Contains(err.Error(), "exceeds") {
			t.Errorf("captured length %d: err = %v", n, err)
		}
	}
	// MaxRecord itself is fine.
	frame := ether(0x0800, nil, ipv4(addrW, addrE, 17, 0, udp(500, 500, fakeIKE(5, 1000))))
	frame = append(frame, make([]byte, MaxRecord-len(frame))...)
	pkts, err := ReadPcap(bytes.NewReader(pcapFile(binary.BigEndian, true, linkEthernet, []rec{{0, frame}})))
	if err != nil || len(pkts) != 1 || len(pkts[0].Data) != 1000 {
		t.Errorf("record of MaxRecord octets: %d packets, %v", len(pkts), err)
	}
}

func TestBadHeaders(t *testing.T) {
	good := pcapFile(binary.LittleEndian, false, linkEthernet, nil)
	badLink := bytes.Clone(good)
	binary.LittleEndian.PutUint32(badLink[20:], 147)
	for name, b := range map[string][]byte{
		"empty":        nil,
		"magic-only":   good[:4],
		"short-header": good[:20],
		"bad-link":     badLink,
		"bad-magic":    append([]byte{1, 2, 3, 4}, good[4:]...),
	} {
		if _, err := ReadPcap(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if pkts, err := ReadPcap(bytes.NewReader(good)); err != nil || len(pkts) != 0 {
		t.Errorf("header only: %d packets, %v", len(pkts), err)
	}
}

// toRecs reads the records of a little-endian microsecond pcap.
func toRecs(t *testing.T, b []byte) []rec {
	t.Helper()
	var recs []rec
	for off := 24; off+16 <= len(b); {
		sec := int64(binary.LittleEndian.Uint32(b[off:]))
		usec := int64(binary.LittleEndian.Uint32(b[off+4:]))
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		recs = append(recs, rec{sec*1e9 + usec*1e3, b[off+16 : off+16+n]})
		off += 16 + n
	}
	return recs
}

func TestPcapng(t *testing.T) {
	full, err := os.ReadFile(tdPcap)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadPcap(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	recs := toRecs(t, full)
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, res := range []byte{0, 9} {
			ng := pcapngFile(order, linkEthernet, res, recs)
			got, err := ReadPcap(bytes.NewReader(ng))
			if err != nil {
				t.Fatalf("%v tsresol %d: %v", order, res, err)
			}
			samePackets(t, "pcapng", want, got)

			// Through ReadFile's detection too.
			path := filepath.Join(t.TempDir(), "x.pcapng")
			if err := os.WriteFile(path, ng, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err = ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			samePackets(t, "ReadFile pcapng", want, got)

			// Truncations error cleanly or end at a block boundary.
			for cut := 1; cut < len(ng); cut += 7 {
				pkts, err := ReadPcap(bytes.NewReader(ng[:cut]))
				if err == nil && len(pkts) == len(want) {
					t.Errorf("cut at %d: all packets and no error", cut)
				}
			}
		}
	}

	// Unknown blocks are skipped, simple packet blocks read, a second
	// section resets the interfaces, and packets on an unknown interface
	// are an error.
	order := binary.LittleEndian // binary.AppendByteOrder below
	ng := pcapngFile(order, linkEthernet, 0, recs[:2])
	var b bytes.Buffer
	b.Write(ng)
	ngBlock(&b, order, 0x00000bad, []byte("custom block body"))
	ngBlock(&b, order, ngSPB, append(order.AppendUint32(nil, uint32(len(recs[2].data))), recs[2].data...))
	b.Write(pcapngFile(order, linkEthernet, 0, recs[3:4]))
	got, err := ReadPcap(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d packets, want 4", len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, want[i].Data) || got[i].Frame != i+1 {
			t.Errorf("packet %d: frame %d, data equal %v", i, got[i].Frame, bytes.Equal(got[i].Data, want[i].Data))
		}
	}
	if got[2].Time != got[1].Time {
		t.Errorf("simple packet block time %v, want the previous record's %v", got[2].Time, got[1].Time)
	}

	var bad bytes.Buffer
	bad.Write(ng[:28]) // section header only
	epb := order.AppendUint32(nil, 3)
	epb = append(epb, make([]byte, 16)...)
	ngBlock(&bad, order, ngEPB, epb)
	if _, err := ReadPcap(bytes.NewReader(bad.Bytes())); err == nil || !strings.Contains(err.Error(), "interface") {
		t.Errorf("packet on undeclared interface: %v", err)
	}

	var v2 bytes.Buffer
	shb := order.AppendUint32(nil, ngBOM)
	shb = order.AppendUint16(shb, 2)
	shb = order.AppendUint16(shb, 0)
	shb = append(shb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	ngBlock(&v2, order, ngSHB, shb)
	if _, err := ReadPcap(bytes.NewReader(v2.Bytes())); !errors.Is(err, ErrPcapng) {
		t.Errorf("pcapng version 2: %v", err)
	}
}

func TestNgTime(t *testing.T) {
	tests := []struct {
		units uint64
		ifc   ngIface
		want  int64
	}{
		{1_500_000, ngIface{tsresol: 6}, 1_500_000_000},
		{1_500_000_000, ngIface{tsresol: 9}, 1_500_000_000},
		{15, ngIface{tsresol: 1}, 1_500_000_000},
		{1_500_000_000_000, ngIface{tsresol: 12}, 1_500_000_000},
		{3 << 29, ngIface{tsresol: 0x80 | 30}, 1_500_000_000},
		{1, ngIface{tsresol: 6, tsoff: 10}, 10_000_001_000},
		{1 << 63, ngIface{tsresol: 0x80 | 127}, 0},
		{1, ngIface{tsresol: 100}, 0},
	}
	for _, tc := range tests {
		if got := ngTime(tc.units, tc.ifc); got != tc.want {
			t.Errorf("ngTime(%d, %+v) = %d, want %d", tc.units, tc.ifc, got, tc.want)
		}
	}
}

func TestReadHexLayout(t *testing.T) {
	in := "# a header comment, not about a message\r\n" +
		"\r\n" +
		"# frame 7  t=0.25  [2001:db8::1]:4500 -> [2001:db8::2]:4500  ike  8 bytes\r\n" +
		"#   second comment line\r\n" +
		"0102 0304\r\n" +
		"0506\t0708\r\n" +
		"# frame 8  t=0.5  192.0.2.1:4500 -> 192.0.2.2:4500  nat-keepalive  1 bytes\n" +
		"ff\n" +
		"# frame 9  t=0.75  192.0.2.1:4500 -> 192.0.2.2:4500  esp-in-udp  8 bytes\n" +
		"0000000100000002\n\n" +
		"aabb\n" + // no comment: Frame = Index+1, no addresses
		"\n\n" +
		"# frame=11 t=1\n" +
		"CCDD" // no final newline
	pkts, err := ReadHex(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Packet{
		{Index: 0, Frame: 7, Time: 0.25, Src: netip.MustParseAddrPort("[2001:db8::1]:4500"), Dst: netip.MustParseAddrPort("[2001:db8::2]:4500"), Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{Index: 1, Frame: 2, Data: []byte{0xaa, 0xbb}},
		{Index: 2, Frame: 11, Time: 1, Data: []byte{0xcc, 0xdd}},
	}
	samePackets(t, "hex", want, pkts)
}

func TestReadHexErrors(t *testing.T) {
	tests := []struct {
		in, want string
		n        int // messages returned with the error
	}{
		{"# frame 1\n0102\n\n# frame 2\n01zz\n", "line 5: invalid hex character 'z' at column 3", 1},
		{"010\n", "line 1: odd number of hex digits", 0},
		{"0102\n03\n0405x\n", "line 3:", 0},
		{strings.Repeat(strings.Repeat("00", 1024)+"\n", MaxRecord/1024) + "00\n", "longer than", 0},
		{strings.Repeat("0", maxHexLine+2) + "\n", "line 1: line too long", 0},
	}
	for _, tc := range tests {
		pkts, err := ReadHex(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadHex(%.40q): err %v, want %q", tc.in, err, tc.want)
		}
		if len(pkts) != tc.n {
			t.Errorf("ReadHex(%.40q): %d messages with the error, want %d", tc.in, len(pkts), tc.n)
		}
	}
	// A message of exactly MaxRecord octets is fine.
	in := strings.Repeat(strings.Repeat("ab", 1024)+"\n", MaxRecord/1024)
	if pkts, err := ReadHex(strings.NewReader(in)); err != nil || len(pkts) != 1 || len(pkts[0].Data) != MaxRecord {
		t.Errorf("MaxRecord message: %d, %v", len(pkts), err)
	}
}

func TestReadFileDetection(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if pkts, err := ReadFile(write("empty", nil)); err != nil || len(pkts) != 0 {
		t.Errorf("empty file: %d, %v", len(pkts), err)
	}
	if _, err := ReadFile(write("bin", []byte{0x1f, 0x8b, 8, 0, 0, 0})); !errors.Is(err, ErrFormat) {
		t.Errorf("gzip file: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
	if pkts, err := ReadFile(write("x.txt", []byte("0102\n"))); err != nil || len(pkts) != 1 {
		t.Errorf("tiny hex: %d, %v", len(pkts), err)
	}
	if _, err := ReadFile(write("bad.txt", []byte("hello\n"))); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("text that is not hex: %v", err)
	}
}
