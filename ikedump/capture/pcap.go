package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
)

// Link-layer header types (https://www.tcpdump.org/linktypes.html).
const (
	linkNull     = 0   // BSD loopback: 4-octet address family in host order
	linkEthernet = 1   // Ethernet II, optionally 802.1Q / 802.1ad tagged
	linkRawDLT12 = 12  // DLT_RAW on some BSDs, written as-is by old libpcap
	linkRawDLT14 = 14  // DLT_RAW on OpenBSD
	linkRaw      = 101 // raw IPv4 or IPv6
	linkLoop     = 108 // OpenBSD loopback: address family in network order
	linkSLL      = 113 // Linux cooked capture v1
	linkIPv4     = 228 // raw IPv4
	linkIPv6     = 229 // raw IPv6
	linkSLL2     = 276 // Linux cooked capture v2
)

func supportedLink(l uint32) bool {
	switch l {
	case linkNull, linkEthernet, linkRawDLT12, linkRawDLT14, linkRaw, linkLoop,
		linkSLL, linkIPv4, linkIPv6, linkSLL2:
		return true
	}
	return false
}

// pcapMagic decodes the four magic octets of a pcap file header: the byte
// order of the file and whether timestamps are in nanoseconds.
func pcapMagic(b []byte) (order binary.ByteOrder, nano, ok bool) {
	switch binary.BigEndian.Uint32(b) {
	case 0xa1b2c3d4:
		return binary.BigEndian, false, true
	case 0xd4c3b2a1:
		return binary.LittleEndian, false, true
	case 0xa1b23c4d:
		return binary.BigEndian, true, true
	case 0x4d3cb2a1:
		return binary.LittleEndian, true, true
	}
	return nil, false, false
}

// pcapngSHBType is the block type of a pcapng Section Header Block; it reads
// the same in both byte orders.
var pcapngSHBType = [4]byte{0x0a, 0x0d, 0x0d, 0x0a}

// ReadPcap reads a libpcap capture (either byte order, microsecond or
// nanosecond timestamps) or a pcapng capture and returns the ISAKMP messages
// in it, see the package comment for what is kept. Supported link types:
// Ethernet (1, with 802.1Q/802.1ad tags), Linux cooked capture v1 (113) and
// v2 (276), raw IP (101, 228, 229, and the DLT values 12 and 14), BSD
// loopback (0, 108). IPv4 and IPv6 (hop-by-hop, routing, destination options
// and AH extension headers are skipped); fragments, non-UDP packets and
// packets cut short by the snap length are skipped.
//
// On error the messages read before the bad record are returned as well.
func ReadPcap(r io.Reader) ([]Packet, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return nil, fmt.Errorf("capture: pcap: file too short for a header: %w", noEOF(err))
	}
	var d decoder
	var err error
	if magic == pcapngSHBType {
		err = d.readPcapng(br)
	} else {
		err = d.readPcap(br, magic)
	}
	return d.pkts, err
}

// noEOF turns a bare io.EOF (nothing read where something was required) into
// io.ErrUnexpectedEOF, so errors never look like a clean end of input.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// decoder accumulates packets across records.
type decoder struct {
	pkts   []Packet
	frame  int   // records seen so far (1-based frame number of the last one)
	t0     int64 // timestamp of the first record, nanoseconds
	lastTS int64 // timestamp of the last record, nanoseconds
	buf    []byte
}

func (d *decoder) readPcap(br *bufio.Reader, magic [4]byte) error {
	order, nano, ok := pcapMagic(magic[:])
	if !ok {
		return fmt.Errorf("capture: pcap: bad magic %x", magic)
	}
	var hdr [20]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return fmt.Errorf("capture: pcap: truncated file header: %w", noEOF(err))
	}
	// version (4), thiszone (4), sigfigs (4), snaplen (4), linktype (4); the
	// upper bits of the link type field carry FCS information, ignored
	// because the IP and UDP lengths bound the payload anyway.
	link := order.Uint32(hdr[16:]) & 0xffff
	if !supportedLink(link) {
		return fmt.Errorf("capture: pcap: unsupported link type %d", link)
	}
	fracNS := int64(1000)
	if nano {
		fracNS = 1
	}
	for {
		var rh [16]byte
		n, err := io.ReadFull(br, rh[:])
		if err == io.EOF && n == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("capture: pcap: record %d: truncated record header: %w", d.frame+1, noEOF(err))
		}
		sec := int64(order.Uint32(rh[0:]))
		frac := int64(order.Uint32(rh[4:]))
		incl := order.Uint32(rh[8:])
		if incl > MaxRecord {
			return fmt.Errorf("capture: pcap: record %d: captured length %d exceeds the %d-octet limit", d.frame+1, incl, MaxRecord)
		}
		d.buf = grow(d.buf, int(incl))
		if _, err := io.ReadFull(br, d.buf); err != nil {
			return fmt.Errorf("capture: pcap: record %d: truncated record (want %d octets): %w", d.frame+1, incl, noEOF(err))
		}
		d.add(link, sec*1e9+frac*fracNS, d.buf)
	}
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// add decodes one captured frame and keeps it when it carries IKE.
func (d *decoder) add(link uint32, ts int64, frame []byte) {
	d.frame++
	if d.frame == 1 {
		d.t0 = ts
	}
	d.lastTS = ts
	ip, ok := linkPayload(link, frame)
	if !ok {
		return
	}
	src, dst, udp, ok := ipUDP(ip)
	if !ok {
		return
	}
	sport, dport, payload, ok := udpPayload(udp)
	if !ok {
		return
	}
	data, ok := ikeData(sport, dport, payload)
	if !ok {
		return
	}
	d.pkts = append(d.pkts, Packet{
		Index: len(d.pkts),
		Frame: d.frame,
		Time:  float64(ts-d.t0) / 1e9,
		Src:   netip.AddrPortFrom(src, sport),
		Dst:   netip.AddrPortFrom(dst, dport),
		Data:  append([]byte(nil), data...),
	})
}

// ikeData applies the port rules: UDP 500 carries ISAKMP as is; UDP 4500
// carries a NAT-keepalive (0xff), ESP (non-zero SPI) or ISAKMP behind the
// four-octet zero non-ESP marker (RFC 3948 §2.2, §2.3).
func ikeData(sport, dport uint16, p []byte) ([]byte, bool) {
	switch {
	case sport == portNATT || dport == portNATT:
		if len(p) == 1 && p[0] == 0xff {
			return nil, false // NAT-keepalive
		}
		if len(p) < 4 || p[0]|p[1]|p[2]|p[3] != 0 {
			return nil, false // ESP in UDP
		}
		p = p[4:]
	case sport == portIKE || dport == portIKE:
	default:
		return nil, false
	}
	return p, len(p) > 0
}

func isVLAN(ethertype uint16) bool {
	return ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100
}

// etherIP skips VLAN tags after an ethertype and accepts IPv4 and IPv6.
func etherIP(et uint16, b []byte) ([]byte, bool) {
	for i := 0; isVLAN(et); i++ {
		if i == 8 || len(b) < 4 {
			return nil, false
		}
		et = binary.BigEndian.Uint16(b[2:])
		b = b[4:]
	}
	if et != 0x0800 && et != 0x86dd {
		return nil, false
	}
	return b, true
}

// linkPayload strips the link-layer header and returns the IP packet.
func linkPayload(link uint32, b []byte) ([]byte, bool) {
	switch link {
	case linkEthernet:
		if len(b) < 14 {
			return nil, false
		}
		return etherIP(binary.BigEndian.Uint16(b[12:]), b[14:])
	case linkSLL:
		if len(b) < 16 {
			return nil, false
		}
		return etherIP(binary.BigEndian.Uint16(b[14:]), b[16:])
	case linkSLL2:
		if len(b) < 20 {
			return nil, false
		}
		return etherIP(binary.BigEndian.Uint16(b[0:]), b[20:])
	case linkNull, linkLoop:
		// The address family is 2 for IPv4 everywhere and 10, 24, 28 or 30
		// for IPv6 depending on the OS; its byte order depends on the
		// capturing host. The IP version nibble decides.
		if len(b) < 4 {
			return nil, false
		}
		return b[4:], true
	case linkRaw, linkRawDLT12, linkRawDLT14, linkIPv4, linkIPv6:
		return b, true
	}
	return nil, false
}

// IP protocol and IPv6 extension header numbers.
const (
	protoHopByHop = 0
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
	protoMobility = 135
	protoHIP      = 139
	protoShim6    = 140
)

// ipUDP returns the addresses and the UDP segment of an unfragmented IPv4 or
// IPv6 packet carrying UDP.
func ipUDP(b []byte) (src, dst netip.Addr, udp []byte, ok bool) {
	if len(b) < 1 {
		return
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if total == 0 {
			total = len(b) // TCP/UDP segmentation offload on the capturing host
		}
		if ihl < 20 || total < ihl || total > len(b) {
			return
		}
		if frag := binary.BigEndian.Uint16(b[6:]); frag&0x2000 != 0 || frag&0x1fff != 0 {
			return // a fragment: skipped
		}
		if b[9] != protoUDP {
			return
		}
		src = netip.AddrFrom4([4]byte(b[12:16]))
		dst = netip.AddrFrom4([4]byte(b[16:20]))
		return src, dst, b[ihl:total], true
	case 6:
		if len(b) < 40 {
			return
		}
		end := 40 + int(binary.BigEndian.Uint16(b[4:]))
		if end == 40 {
			end = len(b) // jumbogram or offload: trust the capture
		}
		if end > len(b) {
			return
		}
		b = b[:end]
		next, off := b[6], 40
		for i := 0; next != protoUDP; i++ {
			if i == 16 || off+8 > len(b) {
				return
			}
			switch next {
			case protoHopByHop, protoRouting, protoDstOpts, protoMobility, protoHIP, protoShim6:
				next, off = b[off], off+(int(b[off+1])+1)*8
			case protoAH:
				next, off = b[off], off+(int(b[off+1])+2)*4
			case protoFragment:
				if binary.BigEndian.Uint16(b[off+2:])&0xfff9 != 0 {
					return // offset or M flag set: a real fragment
				}
				next, off = b[off], off+8 // atomic fragment (RFC 6946)
			default:
				return
			}
		}
		if off > len(b) {
			return
		}
		src = netip.AddrFrom16([16]byte(b[8:24]))
		dst = netip.AddrFrom16([16]byte(b[24:40]))
		return src, dst, b[off:], true
	}
	return
}

// udpPayload checks the UDP header and returns ports and payload.
func udpPayload(u []byte) (sport, dport uint16, payload []byte, ok bool) {
	if len(u) < 8 {
		return
	}
	n := int(binary.BigEndian.Uint16(u[4:]))
	if n == 0 {
		n = len(u) // IPv6 jumbogram
	}
	if n < 8 || n > len(u) {
		return
	}
	return binary.BigEndian.Uint16(u[0:]), binary.BigEndian.Uint16(u[2:]), u[8:n], true
}

// pcapng block types.
const (
	ngIDB = 0x00000001 // Interface Description Block
	ngOPB = 0x00000002 // Packet Block (obsolete)
	ngSPB = 0x00000003 // Simple Packet Block
	ngEPB = 0x00000006 // Enhanced Packet Block
	ngSHB = 0x0a0d0d0a // Section Header Block

	ngBOM uint32 = 0x1a2b3c4d // byte-order magic

	// maxSkipBlock bounds blocks that are skipped unread (name resolution,
	// statistics, custom blocks); larger ones mean a corrupt length.
	maxSkipBlock = 64 << 20
	// maxMetaBlock bounds blocks that are read into memory.
	maxMetaBlock = MaxRecord + 64<<10
)

type ngIface struct {
	link    uint32
	snaplen uint32
	tsresol uint8 // if_tsresol: 10^-n, or 2^-(n&0x7f) with the top bit set
	tsoff   int64 // if_tsoffset, seconds
}

// readPcapng reads a pcapng file whose first four octets (the SHB block
// type) have been consumed.
func (d *decoder) readPcapng(br *bufio.Reader) error {
	var order binary.ByteOrder
	var ifaces []ngIface
	first := true
	for block := 1; ; block++ {
		var hdr [8]byte
		if first {
			copy(hdr[:4], pcapngSHBType[:])
			if _, err := io.ReadFull(br, hdr[4:]); err != nil {
				return fmt.Errorf("capture: pcapng: truncated section header: %w", noEOF(err))
			}
			first = false
		} else {
			n, err := io.ReadFull(br, hdr[:])
			if err == io.EOF && n == 0 {
				return nil
			}
			if err != nil {
				return fmt.Errorf("capture: pcapng: block %d: truncated block header: %w", block, noEOF(err))
			}
		}
		if [4]byte(hdr[:4]) == pcapngSHBType {
			var bom [4]byte
			if _, err := io.ReadFull(br, bom[:]); err != nil {
				return fmt.Errorf("capture: pcapng: block %d: truncated section header: %w", block, noEOF(err))
			}
			switch ngBOM {
			case binary.BigEndian.Uint32(bom[:]):
				order = binary.BigEndian
			case binary.LittleEndian.Uint32(bom[:]):
				order = binary.LittleEndian
			default:
				return fmt.Errorf("capture: pcapng: block %d: bad byte-order magic %x", block, bom)
			}
			blen := order.Uint32(hdr[4:])
			if blen < 28 || blen%4 != 0 || blen > maxMetaBlock {
				return fmt.Errorf("capture: pcapng: block %d: bad section header length %d", block, blen)
			}
			body, err := d.readBlockBody(br, order, blen, 12, block)
			if err != nil {
				return err
			}
			if major := order.Uint16(body); major != 1 {
				return fmt.Errorf("capture: pcapng: section version %d.%d: %w", major, order.Uint16(body[2:]), ErrPcapng)
			}
			ifaces = ifaces[:0]
			continue
		}
		if order == nil {
			return fmt.Errorf("capture: pcapng: block %d before the section header", block)
		}
		btype, blen := order.Uint32(hdr[:]), order.Uint32(hdr[4:])
		if blen < 12 || blen%4 != 0 {
			return fmt.Errorf("capture: pcapng: block %d: bad block length %d", block, blen)
		}
		switch btype {
		case ngIDB, ngOPB, ngSPB, ngEPB:
		default:
			if blen > maxSkipBlock {
				return fmt.Errorf("capture: pcapng: block %d: block length %d too large", block, blen)
			}
			if _, err := io.CopyN(io.Discard, br, int64(blen)-8); err != nil {
				return fmt.Errorf("capture: pcapng: block %d: truncated block: %w", block, noEOF(err))
			}
			continue
		}
		if blen > maxMetaBlock {
			return fmt.Errorf("capture: pcapng: block %d: block length %d exceeds the limit (captured length over %d octets)", block, blen, MaxRecord)
		}
		body, err := d.readBlockBody(br, order, blen, 8, block)
		if err != nil {
			return err
		}
		switch btype {
		case ngIDB:
			if len(body) < 8 {
				return fmt.Errorf("capture: pcapng: block %d: short interface description", block)
			}
			ifc := ngIface{link: uint32(order.Uint16(body)), snaplen: order.Uint32(body[4:]), tsresol: 6}
			parseIDBOptions(order, body[8:], &ifc)
			ifaces = append(ifaces, ifc)
			continue
		case ngEPB, ngOPB:
			if len(body) < 20 {
				return fmt.Errorf("capture: pcapng: block %d: short packet block", block)
			}
			var ifid uint32
			if btype == ngEPB {
				ifid = order.Uint32(body)
			} else {
				ifid = uint32(order.Uint16(body))
			}
			if ifid >= uint32(len(ifaces)) {
				return fmt.Errorf("capture: pcapng: block %d: packet on undeclared interface %d", block, ifid)
			}
			ifc := ifaces[ifid]
			caplen := order.Uint32(body[12:])
			if caplen > MaxRecord {
				return fmt.Errorf("capture: pcapng: block %d: captured length %d exceeds the %d-octet limit", block, caplen, MaxRecord)
			}
			if int(caplen) > len(body)-20 {
				return fmt.Errorf("capture: pcapng: block %d: captured length %d overruns the block", block, caplen)
			}
			units := uint64(order.Uint32(body[4:]))<<32 | uint64(order.Uint32(body[8:]))
			if supportedLink(ifc.link) {
				d.add(ifc.link, ngTime(units, ifc), body[20:20+caplen])
			} else {
				d.frame++ // an interface of another kind: counted, not decoded
			}
		case ngSPB:
			if len(ifaces) == 0 {
				return fmt.Errorf("capture: pcapng: block %d: simple packet block without an interface", block)
			}
			if len(body) < 4 {
				return fmt.Errorf("capture: pcapng: block %d: short simple packet block", block)
			}
			data := body[4:]
			n := order.Uint32(body) // original length
			if ifc := ifaces[0]; ifc.snaplen != 0 && n > ifc.snaplen {
				n = ifc.snaplen
			}
			if n < uint32(len(data)) {
				data = data[:n]
			}
			// A simple packet block has no timestamp: it gets the time of
			// the record before it.
			if supportedLink(ifaces[0].link) {
				d.add(ifaces[0].link, d.lastTS, data)
			} else {
				d.frame++
			}
		}
	}
}

// readBlockBody reads the rest of a block of total length blen of which
// consumed octets have been read, checks the trailing length copy and
// returns the body without it.
func (d *decoder) readBlockBody(br *bufio.Reader, order binary.ByteOrder, blen uint32, consumed int, block int) ([]byte, error) {
	d.buf = grow(d.buf, int(blen)-consumed)
	if _, err := io.ReadFull(br, d.buf); err != nil {
		return nil, fmt.Errorf("capture: pcapng: block %d: truncated block (want %d octets): %w", block, blen, noEOF(err))
	}
	body, trailer := d.buf[:len(d.buf)-4], d.buf[len(d.buf)-4:]
	if order.Uint32(trailer) != blen {
		return nil, fmt.Errorf("capture: pcapng: block %d: trailing length %d does not match %d", block, order.Uint32(trailer), blen)
	}
	return body, nil
}

// parseIDBOptions picks if_tsresol (9) and if_tsoffset (14) out of an
// interface description's options; malformed options end the walk.
func parseIDBOptions(order binary.ByteOrder, opts []byte, ifc *ngIface) {
	for len(opts) >= 4 {
		code, n := order.Uint16(opts), int(order.Uint16(opts[2:]))
		opts = opts[4:]
		if code == 0 || n > len(opts) {
			return
		}
		v := opts[:n]
		switch {
		case code == 9 && n >= 1:
			ifc.tsresol = v[0]
		case code == 14 && n >= 8:
			ifc.tsoff = int64(order.Uint64(v))
		}
		padded := (n + 3) &^ 3
		if padded > len(opts) {
			return
		}
		opts = opts[padded:]
	}
}

// ngTime converts a pcapng timestamp in interface units to nanoseconds.
func ngTime(units uint64, ifc ngIface) int64 {
	var ns uint64
	if ifc.tsresol&0x80 == 0 {
		e := int(ifc.tsresol)
		switch {
		case e <= 9:
			ns = units * pow10(9-e)
		case e-9 <= 19:
			ns = units / pow10(e-9)
		}
	} else {
		// units * 1e9 / 2^e, in 128 bits.
		e := uint(ifc.tsresol & 0x7f)
		hi, lo := bits.Mul64(units, 1e9)
		if e >= 64 {
			ns = hi >> (e - 64)
		} else {
			ns = lo>>e | hi<<(64-e)
		}
	}
	return int64(ns) + ifc.tsoff*1e9
}

func pow10(n int) uint64 {
	p := uint64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}
