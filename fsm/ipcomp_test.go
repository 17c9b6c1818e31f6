package fsm

import (
	"fmt"
	"strings"
	"testing"

	"goswan/spec"
)

// TestIPComp: with --compress the initiator proposes IPComp (a 2-octet
// CPI, IPCOMP_DEFLATE) alongside ESP (RFC 2393, 3173); the responder
// accepts it even without --compress (as pluto does), and both ends carry
// the CPIs, mirrored, in the SA they install. Without --compress no CPI is
// asked for and none is installed.
func TestIPComp(t *testing.T) {
	for _, o := range []pairOpts{
		{compress: true},
		{compress: true, compressE: true, transport: true},
		{compress: true, esp: "aes_gcm16_128"},
		{},
	} {
		t.Run(fmt.Sprintf("compress=%v/%v/transport=%v/%s", o.compress, o.compressE, o.transport, o.esp), func(t *testing.T) {
			_, west, east := establish(t, o)
			if len(west.installed) != 1 || len(east.installed) != 1 || len(east.inbound) != 1 {
				t.Fatalf("installed west %d east %d (inbound %d)", len(west.installed), len(east.installed), len(east.inbound))
			}
			w, e := west.installed[0], east.installed[0]
			cpis := 0
			for _, a := range append(west.spiAddrs, east.spiAddrs...) {
				if strings.HasPrefix(a, spec.ProtoIPComp.String()+" ") {
					cpis++
				}
			}
			if !o.compress {
				if w.Compressed() || e.Compressed() || w.InboundCPI != nil || e.InboundCPI != nil || cpis != 0 {
					t.Fatalf("IPComp without --compress: west %x/%x east %x/%x, %d CPIs allocated",
						w.InboundCPI, w.OutboundCPI, e.InboundCPI, e.OutboundCPI, cpis)
				}
				return
			}
			if !w.Compressed() || !e.Compressed() {
				t.Fatalf("IPComp not negotiated: west %x/%x east %x/%x\n%s\n%s", w.InboundCPI, w.OutboundCPI,
					e.InboundCPI, e.OutboundCPI, west.allLines(), east.allLines())
			}
			if cpis != 2 {
				t.Errorf("%d CPIs allocated, want one per end", cpis)
			}
			if string(w.InboundCPI) != string(e.OutboundCPI) || string(w.OutboundCPI) != string(e.InboundCPI) {
				t.Errorf("CPIs not mirrored: west in %x out %x, east in %x out %x", w.InboundCPI, w.OutboundCPI, e.InboundCPI, e.OutboundCPI)
			}
			if string(w.InboundCPI) == string(w.OutboundCPI) {
				t.Errorf("both ends chose CPI %x", w.InboundCPI)
			}
			// The responder's inbound half (installed before QI2) has its CPIs too.
			if string(east.inbound[0].InboundCPI) != string(e.InboundCPI) {
				t.Errorf("responder's inbound half has CPI %x, the full pair %x", east.inbound[0].InboundCPI, e.InboundCPI)
			}
			// ESP keys are still mirrored and the mode is the policy's.
			if string(w.OutboundKey) != string(e.InboundKey) || w.Proto != spec.ProtoESP {
				t.Error("ESP under IPComp: keys differ or protocol not ESP")
			}
			want := fmt.Sprintf("IPsec SA established {ESP=>0x%x <0x%x IPCOMP=>0x0000%x <0x0000%x}",
				w.OutboundSPI, w.InboundSPI, w.OutboundCPI, w.InboundCPI)
			if got := strings.Join(west.whackLines("whack-1"), "\n"); !strings.Contains(got, want) {
				t.Errorf("whack lines lack %q:\n%s", want, got)
			}
		})
	}
}
