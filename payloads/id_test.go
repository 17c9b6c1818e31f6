package payloads

import (
	"testing"

	"goswan/spec"
)

func decodeOne(t *testing.T, pt spec.PayloadType, body []byte) (Payload, error) {
	t.Helper()
	b := msg(pt, 0, pl(spec.PayloadNone, body))
	m, err := DecodeMessage(b)
	if err != nil {
		return nil, err
	}
	roundTrip(t, m, b)
	return m.Payloads[0], nil
}

func TestIDTypes(t *testing.T) {
	for _, c := range []struct {
		body string
		str  string
	}{
		{"01 11 01f4 c0000201", "addr 192.0.2.1"},
		{"05 00 0000 20010db8000000000000000000000001", "addr 2001:db8::1"},
		{"04 00 0000 0a010000 ffffff00", "prefix 10.1.0.0/24"},
		{"06 00 0000 20010db8000000000000000000000000 ffffffffffffffff0000000000000000", "prefix 2001:db8::/64"},
		{"04 00 0000 0a010000 ff00ff00", "bad mask"},
		{"07 00 0000 0a000001 0a0000ff", "range 10.0.0.1-10.0.0.255"},
		{"08 00 0000 20010db8000000000000000000000001 20010db8000000000000000000000009", "range 2001:db8::1-2001:db8::9"},
		{"02 00 0000 6561737400", "fqdn"},
		{"02 00 0000", "fqdn"}, // empty: syntactically fine
		{"09 00 0000 3000", "dn"},
		{"63 00 0000 01", "unknown"},
	} {
		p, err := decodeOne(t, spec.PayloadID, unhex(t, c.body))
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		id := p.(*ID)
		got := "fqdn"
		switch id.IDType {
		case spec.IDDerASN1DN:
			got = "dn"
		case 0x63:
			got = "unknown"
		}
		if a, ok := id.Addr(); ok {
			got = "addr " + a.String()
		}
		if pfx, ok := id.Prefix(); ok {
			got = "prefix " + pfx.String()
		} else if id.IDType == spec.IDIPv4AddrSubnet {
			got = "bad mask"
		}
		if lo, hi, ok := id.Range(); ok {
			got = "range " + lo.String() + "-" + hi.String()
		}
		if got != c.str {
			t.Errorf("%s: %s, want %s", c.body, got, c.str)
		}
	}
	p, _ := decodeOne(t, spec.PayloadID, unhex(t, "01 11 01f4 c0000201"))
	if id := p.(*ID); id.ProtocolID != spec.IPProtoUDP || id.Port != 500 {
		t.Errorf("%+v", id)
	}
}

func TestIDErrors(t *testing.T) {
	for _, c := range []struct {
		body string
		n    spec.NotifyType
	}{
		{"01 00 00", spec.PayloadMalformed},
		{"01 00 0000 c00002", spec.InvalidIDInformation},
		{"01 00 0000 c000020100", spec.InvalidIDInformation},
		{"04 00 0000 0a010000", spec.InvalidIDInformation},
		{"05 00 0000 c0000201", spec.InvalidIDInformation},
		{"06 00 0000 20010db8000000000000000000000000", spec.InvalidIDInformation},
		{"07 00 0000", spec.InvalidIDInformation},
		{"08 00 0000 20010db8000000000000000000000001", spec.InvalidIDInformation},
	} {
		_, err := decodeOne(t, spec.PayloadID, unhex(t, c.body))
		wantNotify(t, err, c.n)
	}
}
