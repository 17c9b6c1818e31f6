package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
)

// Builders for hand-made captures.

type rec struct {
	ns   int64 // timestamp, nanoseconds since the epoch
	data []byte
}

// pcapFile writes a classic pcap file.
func pcapFile(order binary.ByteOrder, nano bool, link uint32, recs []rec) []byte {
	var b bytes.Buffer
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	w := func(v any) { binary.Write(&b, order, v) }
	w(magic)
	w(uint16(2))
	w(uint16(4))
	w(int32(0))
	w(uint32(0))
	w(uint32(262144))
	w(link)
	for _, r := range recs {
		w(uint32(r.ns / 1e9))
		if nano {
			w(uint32(r.ns % 1e9))
		} else {
			w(uint32(r.ns % 1e9 / 1e3))
		}
		w(uint32(len(r.data)))
		w(uint32(len(r.data)))
		b.Write(r.data)
	}
	return b.Bytes()
}

// ngBlock appends one pcapng block.
func ngBlock(b *bytes.Buffer, order binary.ByteOrder, typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	binary.Write(b, order, typ)
	binary.Write(b, order, n)
	b.Write(body)
	binary.Write(b, order, n)
}

// pcapngFile writes a pcapng file: one section, one interface with the
// given if_tsresol (0 = option absent, microseconds), one EPB per record.
func pcapngFile(order binary.ByteOrder, link uint16, tsresol byte, recs []rec) []byte {
	var b bytes.Buffer
	var shb bytes.Buffer
	binary.Write(&shb, order, uint32(ngBOM))
	binary.Write(&shb, order, uint16(1))
	binary.Write(&shb, order, uint16(0))
	binary.Write(&shb, order, int64(-1))
	ngBlock(&b, order, ngSHB, shb.Bytes())

	var idb bytes.Buffer
	binary.Write(&idb, order, link)
	binary.Write(&idb, order, uint16(0))
	binary.Write(&idb, order, uint32(0))
	if tsresol != 0 {
		binary.Write(&idb, order, uint16(9))
		binary.Write(&idb, order, uint16(1))
		idb.Write([]byte{tsresol, 0, 0, 0})
		binary.Write(&idb, order, uint32(0)) // opt_endofopt
	}
	ngBlock(&b, order, ngIDB, idb.Bytes())

	for _, r := range recs {
		units := uint64(r.ns / 1e3)
		if tsresol == 9 {
			units = uint64(r.ns)
		}
		var epb bytes.Buffer
		binary.Write(&epb, order, uint32(0))
		binary.Write(&epb, order, uint32(units>>32))
		binary.Write(&epb, order, uint32(units))
		binary.Write(&epb, order, uint32(len(r.data)))
		binary.Write(&epb, order, uint32(len(r.data)))
		epb.Write(r.data)
		ngBlock(&b, order, ngEPB, epb.Bytes())
	}
	return b.Bytes()
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// udp builds a UDP segment (checksum left zero).
func udp(sport, dport uint16, payload []byte) []byte {
	b := be16(sport)
	b = append(b, be16(dport)...)
	b = append(b, be16(uint16(8+len(payload)))...)
	b = append(b, 0, 0)
	return append(b, payload...)
}

// ipv4 builds an IPv4 packet; fragFlags is the flags/offset word.
func ipv4(src, dst netip.Addr, proto byte, fragFlags uint16, l4 []byte) []byte {
	b := []byte{0x45, 0}
	b = append(b, be16(uint16(20+len(l4)))...)
	b = append(b, 0x12, 0x34)
	b = append(b, be16(fragFlags)...)
	b = append(b, 64, proto, 0, 0)
	s, d := src.As4(), dst.As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	return append(b, l4...)
}

// ipv6 builds an IPv6 packet; ext is a chain of extension headers already
// linked to proto, first is the value for the Next Header field.
func ipv6(src, dst netip.Addr, first byte, ext, l4 []byte) []byte {
	b := []byte{0x60, 0, 0, 0}
	b = append(b, be16(uint16(len(ext)+len(l4)))...)
	b = append(b, first, 64)
	s, d := src.As16(), dst.As16()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	b = append(b, ext...)
	return append(b, l4...)
}

// ether wraps an IP packet in Ethernet II with the given VLAN tags.
func ether(ethertype uint16, vlans []uint16, ip []byte) []byte {
	b := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	for _, v := range vlans {
		b = append(b, 0x81, 0x00)
		b = append(b, be16(v)...)
	}
	b = append(b, be16(ethertype)...)
	return append(b, ip...)
}

func sll(ethertype uint16, ip []byte) []byte {
	b := []byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0}
	b = append(b, be16(ethertype)...)
	return append(b, ip...)
}

func sll2(ethertype uint16, ip []byte) []byte {
	b := be16(ethertype)
	b = append(b, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0)
	return append(b, ip...)
}

func null(family uint32, order binary.AppendByteOrder, ip []byte) []byte {
	b := order.AppendUint32(nil, family)
	return append(b, ip...)
}

var (
	addrW  = netip.MustParseAddr("192.0.2.1")
	addrE  = netip.MustParseAddr("192.0.2.2")
	addrW6 = netip.MustParseAddr("2001:db8::1")
	addrE6 = netip.MustParseAddr("2001:db8::2")
)

// fakeIKE is a plausible ISAKMP header followed by filler.
func fakeIKE(tag byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = tag ^ byte(i)
	}
	b[0] = tag | 0x80 // never a zero first octet
	return b
}
