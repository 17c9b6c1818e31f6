package oakley

import (
	"net/netip"
	"testing"

	"goswan/payloads"
	"goswan/spec"
	"goswan/testvectors"
)

// TestNATDHashRecorded: the NAT-D payloads strongSwan and libreswan sent
// in MM3 and MM4 of the recorded exchanges (no NAT, port 500) are our
// NATDHash of the destination then the source of each message (RFC 3947
// §3.2: the first is the remote end's, the others the local ones).
func TestNATDHashRecorded(t *testing.T) {
	vs, err := testvectors.All()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, v := range vs {
		if len(v.Messages) < 4 {
			t.Fatalf("%s: %d messages", v.Name, len(v.Messages))
		}
		// The negotiated hash is in the responder's SA (MM2).
		mr1, err := payloads.DecodeMessage(v.Messages[1].Data)
		if err != nil {
			t.Fatalf("%s MM2: %v", v.Name, err)
		}
		sa := mr1.Find(spec.PayloadSA).(*payloads.SA)
		var h spec.OakleyHash
		for _, a := range sa.Proposals[0].Transforms[0].Attributes {
			if spec.OakleyAttr(a.Type) == spec.OakleyHashAlgorithm {
				u, _ := a.Uint()
				h = spec.OakleyHash(u)
			}
		}
		prf, err := NewPRF(h)
		if err != nil {
			t.Fatalf("%s: hash %v: %v", v.Name, h, err)
		}
		for _, msg := range v.Messages[2:4] {
			m, err := payloads.DecodeMessage(msg.Data)
			if err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
			var natd [][]byte
			for _, p := range m.Payloads {
				if p.Type().IsNATD() {
					natd = append(natd, p.(*payloads.NATD).Hash)
				}
			}
			if len(natd) != 2 {
				t.Fatalf("%s %s->%s: %d NAT-D payloads, want 2", v.Name, msg.Src, msg.Dst, len(natd))
			}
			icky, rcky := m.Header.ICookie[:], m.Header.RCookie[:]
			if got := NATDHash(prf, icky, rcky, msg.Dst); !Equal(got, natd[0]) {
				t.Errorf("%s %s->%s: NAT-D(dst) %x, recorded %x", v.Name, msg.Src, msg.Dst, got, natd[0])
			}
			if got := NATDHash(prf, icky, rcky, msg.Src); !Equal(got, natd[1]) {
				t.Errorf("%s %s->%s: NAT-D(src) %x, recorded %x", v.Name, msg.Src, msg.Dst, got, natd[1])
			}
			// A different port gives a different hash (what detection relies on).
			moved := netip.AddrPortFrom(msg.Src.Addr(), msg.Src.Port()+1)
			if Equal(NATDHash(prf, icky, rcky, moved), natd[1]) {
				t.Errorf("%s: NAT-D does not depend on the port", v.Name)
			}
			checked++
		}
	}
	if checked < 8 {
		t.Fatalf("checked %d messages", checked)
	}
}
