package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"
)

// checkInvariants holds for every successful or partial read.
func checkInvariants(t *testing.T, pkts []Packet) {
	t.Helper()
	for i, p := range pkts {
		if p.Index != i {
			t.Fatalf("packet %d has Index %d", i, p.Index)
		}
		if len(p.Data) == 0 || len(p.Data) > MaxRecord {
			t.Fatalf("packet %d: %d octets", i, len(p.Data))
		}
		if p.Frame < 1 {
			t.Fatalf("packet %d: frame %d", i, p.Frame)
		}
	}
}

func FuzzReadPcap(f *testing.F) {
	if b, err := os.ReadFile(tdPcap); err == nil {
		f.Add(b)
		f.Add(b[:len(b)/2])
		var recs []rec
		for off := 24; off+16 <= len(b) && len(recs) < 3; {
			n := int(binary.LittleEndian.Uint32(b[off+8:]))
			recs = append(recs, rec{int64(len(recs)) * 1000, b[off+16 : off+16+n]})
			off += 16 + n
		}
		f.Add(pcapngFile(binary.BigEndian, linkEthernet, 9, recs))
		f.Add(pcapngFile(binary.LittleEndian, linkEthernet, 0, recs))
	}
	ike := fakeIKE(9, 40)
	marker := append([]byte{0, 0, 0, 0}, ike...)
	for _, link := range []uint32{linkEthernet, linkSLL, linkSLL2, linkRaw, linkNull} {
		var frame []byte
		v4 := ipv4(addrW, addrE, 17, 0, udp(4500, 4500, marker))
		v6 := ipv6(addrW6, addrE6, 0, []byte{17, 0, 1, 4, 0, 0, 0, 0}, udp(500, 500, ike))
		switch link {
		case linkEthernet:
			frame = ether(0x86dd, []uint16{5}, v6)
		case linkSLL:
			frame = sll(0x0800, v4)
		case linkSLL2:
			frame = sll2(0x86dd, v6)
		case linkNull:
			frame = null(2, binary.LittleEndian, v4)
		default:
			frame = v4
		}
		f.Add(pcapFile(binary.BigEndian, true, link, []rec{{1, frame}, {2, frame}}))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, _ := ReadPcap(bytes.NewReader(b))
		checkInvariants(t, pkts)
		pkts2, _ := Read(bytes.NewReader(b))
		if len(b) >= 4 && isCaptureMagic(b) && len(pkts2) != len(pkts) {
			t.Fatalf("Read and ReadPcap disagree: %d vs %d packets", len(pkts2), len(pkts))
		}
	})
}

func FuzzReadHex(f *testing.F) {
	if b, err := os.ReadFile(tdHex); err == nil {
		f.Add(string(b))
	}
	f.Add("# frame 3  t=0.5  [::1]:500 -> 10.0.0.1:4500\n0102\n\n0304\n")
	f.Add("# frame 1 esp-in-udp\nff\n#\nzz\n")
	f.Add("01 02\r\n\t03\n# t=1e308 frame=-1\n04")
	f.Fuzz(func(t *testing.T, s string) {
		pkts, err := ReadHex(strings.NewReader(s))
		checkInvariants(t, pkts)
		if err == nil {
			// Re-emitting the data as plain hex reads back the same data.
			var sb strings.Builder
			for _, p := range pkts {
				sb.WriteString("#\n")
				for _, c := range p.Data {
					sb.WriteString(strings.ToUpper(string("0123456789abcdef"[c>>4])) + string("0123456789abcdef"[c&15]))
				}
				sb.WriteString("\n")
			}
			again, err := ReadHex(strings.NewReader(sb.String()))
			if err != nil || len(again) != len(pkts) {
				t.Fatalf("re-read: %d packets, %v; want %d", len(again), err, len(pkts))
			}
			for i := range pkts {
				if !bytes.Equal(pkts[i].Data, again[i].Data) {
					t.Fatalf("packet %d differs after re-read", i)
				}
			}
		}
	})
}
