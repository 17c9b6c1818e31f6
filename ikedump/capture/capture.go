// Package capture reads IKE (ISAKMP) messages out of capture files.
//
// Two input formats are understood:
//
//   - libpcap capture files (both byte orders, microsecond and nanosecond
//     timestamps) and pcapng files (Section Header, Interface Description,
//     Enhanced, Simple and obsolete Packet blocks; other blocks are skipped),
//     see ReadPcap;
//   - hex text in the layout of testvectors/data/*/messages.hex, see ReadHex.
//
// From a capture only UDP datagrams from or to port 500 or 4500 are kept.
// On port 4500 (RFC 3948) NAT-keepalives (a single 0xff octet) and
// ESP-in-UDP packets are dropped and the four-octet zero non-ESP marker is
// stripped, so Packet.Data is always an ISAKMP message as it would be passed
// to the decoder.
//
// The readers never panic on malformed input: every length read from a file is
// checked, a captured record larger than MaxRecord is an error, and a file cut
// short in the middle of a record is an error. On error the packets decoded
// before the bad record are returned together with the error.
package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
)

// Packet is one ISAKMP message read from a capture or hex file.
type Packet struct {
	// Index is the 0-based position of the message among those returned.
	Index int
	// Frame is the 1-based frame number in the capture (every record counts,
	// also those that were not kept), as Wireshark numbers them. For hex
	// files it comes from a "# frame N" comment, otherwise it is Index+1.
	Frame int
	// Time is in seconds relative to the first record of the capture, or from
	// a "t=SECONDS" comment in a hex file (0 when absent).
	Time float64
	// Src and Dst are the UDP endpoints; the zero AddrPort when unknown (hex
	// files without an "ADDR:PORT -> ADDR:PORT" comment).
	Src, Dst netip.AddrPort
	// Data is the ISAKMP message: the UDP payload, with the non-ESP marker
	// removed on port 4500.
	Data []byte
}

// MaxRecord is the largest captured record (pcap record, pcapng packet) and
// the largest hex message accepted; anything bigger is reported as an error.
const MaxRecord = 256 << 10

// IKE ports (RFC 2408 §2.5.2, RFC 3947 §4).
const (
	portIKE  = 500
	portNATT = 4500
)

// ErrPcapng is wrapped by the error for a pcapng section this package cannot
// read (a major version other than 1). Ordinary pcapng files are read.
var ErrPcapng = errors.New("capture: pcapng variant not supported, convert with editcap -F pcap")

// ErrFormat is returned by ReadFile when the file is neither a capture nor
// text.
var ErrFormat = errors.New("capture: unrecognised file format (want pcap, pcapng or hex text)")

// ReadFile reads the capture or hex file at path. The format is detected
// from the first octets: a pcap or pcapng magic number selects ReadPcap,
// text selects ReadHex.
func ReadFile(path string) ([]Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	defer f.Close()
	pkts, err := Read(f)
	if err != nil {
		return pkts, fmt.Errorf("%s: %w", path, err)
	}
	return pkts, nil
}

// Read is ReadFile for an io.Reader: it detects the format and calls
// ReadPcap or ReadHex.
func Read(r io.Reader) ([]Packet, error) {
	br := bufio.NewReaderSize(r, 4096)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("capture: %w", err)
	}
	if len(head) == 0 {
		return nil, nil
	}
	if isCaptureMagic(head) {
		return ReadPcap(br)
	}
	if !looksLikeText(head) {
		return nil, ErrFormat
	}
	return ReadHex(br)
}

func isCaptureMagic(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	_, _, ok := pcapMagic(b[:4])
	return ok || bytes.Equal(b[:4], pcapngSHBType[:])
}

// looksLikeText reports whether b has no NUL and no control octets other than
// tab, CR, LF, FF and VT (a hex file may be cut anywhere, so a partial UTF-8
// sequence at the end is fine).
func looksLikeText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v' {
			return false
		}
		if c == 0x7f {
			return false
		}
	}
	return true
}
