package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// maxHexLine bounds one line of a hex file: a whole MaxRecord message on one
// line, plus room for spaces.
const maxHexLine = 4*MaxRecord + 1024

// ReadHex reads messages from hex text in the layout of
// testvectors/data/*/messages.hex:
//
//	# frame 1  t=0.000000  192.0.2.2:500 -> 192.0.2.1:500  ike  176 bytes
//	#   ICKY e7e19e12cccf3a75 RCKY 0000000000000000 ...
//	e7e19e12cccf3a7500000000000000000110020000000000000000b00d000034
//	...
//
// A message is a run of consecutive hex lines (spaces and tabs inside a line
// are ignored, each line holds whole octets). Blank lines and lines starting
// with '#' end a message. Comment lines before a message may give its frame
// number ("frame N"), its time ("t=SECONDS") and its endpoints
// ("ADDR:PORT -> ADDR:PORT", IPv6 as "[ADDR]:PORT"); other comment text is
// ignored. Without them Frame is Index+1, Time 0 and Src/Dst zero. The data
// is taken as the ISAKMP message as is (the layout already has the non-ESP
// marker stripped). A message whose comment calls it "esp", "esp-in-udp" or
// "nat-keepalive" (the kinds pcap2hex.py writes besides "ike") is skipped, so
// the hex dump of a capture yields the same messages as ReadPcap.
//
// Invalid hex is an error naming the line; on error the messages before it are
// returned as well.
func ReadHex(r io.Reader) ([]Packet, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	var (
		pkts  []Packet
		cur   []byte
		inMsg bool
		meta  hexMeta
	)
	flush := func() {
		if !inMsg {
			return
		}
		if meta.skip {
			cur, inMsg, meta = nil, false, hexMeta{}
			return
		}
		p := Packet{Index: len(pkts), Frame: len(pkts) + 1, Data: cur}
		if meta.frame > 0 {
			p.Frame = meta.frame
		}
		p.Time = meta.time
		p.Src, p.Dst = meta.src, meta.dst
		pkts = append(pkts, p)
		cur, inMsg, meta = nil, false, hexMeta{}
	}
	for lineno := 1; ; lineno++ {
		line, err := readLine(br)
		if err == io.EOF && line == "" {
			flush()
			return pkts, nil
		}
		if err != nil && err != io.EOF {
			return pkts, fmt.Errorf("capture: hex: line %d: %w", lineno, err)
		}
		s := strings.TrimSpace(line)
		switch {
		case s == "":
			flush()
		case s[0] == '#':
			flush()
			meta.parse(s[1:])
		default:
			b, err := decodeHexLine(s)
			if err != nil {
				return pkts, fmt.Errorf("capture: hex: line %d: %w", lineno, err)
			}
			if len(cur)+len(b) > MaxRecord {
				return pkts, fmt.Errorf("capture: hex: line %d: message longer than %d octets", lineno, MaxRecord)
			}
			cur = append(cur, b...)
			inMsg = true
		}
	}
}

var errLongLine = errors.New("line too long")

// readLine returns the next line without its end-of-line octets; a final line
// without a newline is returned with io.EOF.
func readLine(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		chunk, err := br.ReadSlice('\n')
		if sb.Len()+len(chunk) > maxHexLine {
			return "", errLongLine
		}
		sb.Write(chunk)
		if err == bufio.ErrBufferFull {
			continue
		}
		s := strings.TrimRight(sb.String(), "\r\n")
		if err != nil {
			if err == io.EOF && sb.Len() > 0 {
				return s, nil
			}
			return s, err
		}
		return s, nil
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeHexLine decodes one line of hex digits, ignoring spaces and tabs.
func decodeHexLine(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)/2)
	var hi byte
	half := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return nil, fmt.Errorf("invalid hex character %q at column %d", c, i+1)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		return nil, errors.New("odd number of hex digits")
	}
	return out, nil
}

// hexMeta is what comment lines said about the next message.
type hexMeta struct {
	frame    int
	time     float64
	src, dst netip.AddrPort
	skip     bool // not an IKE message
}

func (m *hexMeta) parse(comment string) {
	f := strings.Fields(comment)
	for i, w := range f {
		switch {
		case w == "frame" && i+1 < len(f):
			if n, err := strconv.Atoi(f[i+1]); err == nil && n > 0 {
				m.frame = n
			}
		case strings.HasPrefix(w, "frame="):
			if n, err := strconv.Atoi(w[len("frame="):]); err == nil && n > 0 {
				m.frame = n
			}
		case strings.HasPrefix(w, "t="):
			if t, err := strconv.ParseFloat(w[2:], 64); err == nil && !math.IsNaN(t) && !math.IsInf(t, 0) {
				m.time = t
			}
		case w == "esp" || w == "esp-in-udp" || w == "nat-keepalive":
			m.skip = true
		case w == "->" && i > 0 && i+1 < len(f):
			src, err1 := netip.ParseAddrPort(f[i-1])
			dst, err2 := netip.ParseAddrPort(f[i+1])
			if err1 == nil && err2 == nil {
				m.src, m.dst = src, dst
			}
		}
	}
}
