package certs

import (
	"bytes"
	"net/netip"
	"testing"

	"goswan/fsm"
	"goswan/spec"
)

func mustID(t *testing.T, s string) fsm.ID {
	t.Helper()
	id, err := ParseID(s)
	if err != nil {
		t.Fatalf("ParseID(%q): %v", s, err)
	}
	return id
}

func TestIDsOf(t *testing.T) {
	p := getPKI(t)
	got := IDsOf(p.west)
	want := []string{
		"ID_DER_ASN1_DN C=CH, O=Linux strongSwan, CN=west",
		"ID_FQDN @west.example",
		"ID_USER_FQDN west@example.org",
		"ID_IPV4_ADDR 192.0.2.1",
	}
	if len(got) != len(want) {
		t.Fatalf("IDsOf(west) = %v", got)
	}
	for i, id := range got {
		if s := id.Type.String() + " " + IDString(id); s != want[i] {
			t.Errorf("IDsOf(west)[%d] = %s, want %s", i, s, want[i])
		}
		if !Matches(p.west, id) {
			t.Errorf("Matches(west, %s) = false", IDString(id))
		}
	}
	if !bytes.Equal(got[0].Data, p.west.RawSubject) {
		t.Errorf("DN ID %x is not the certificate's subject %x", got[0].Data, p.west.RawSubject)
	}
	east := IDsOf(p.east)
	if n := len(east); n != 4 || east[3].Type != spec.IDIPv6Addr || IDString(east[3]) != "2001:db8::2" {
		t.Errorf("IDsOf(east) = %v", east)
	}
	if IDsOf(nil) != nil {
		t.Error("IDsOf(nil) != nil")
	}
}

func TestMatches(t *testing.T) {
	p := getPKI(t)
	yes := []string{
		"C=CH, O=Linux strongSwan, CN=west",
		"c=ch,o=linux strongswan,cn=WEST",
		"  C = CH ,  O = Linux strongSwan ,CN = west ",
		"/C=CH/O=Linux strongSwan/CN=west",
		"C=CH, O=Linux strongSwan, CN=#0c0477657374",
		"@west.example",
		"@WEST.Example.",
		"west@example.org",
		"West@Example.org",
		"192.0.2.1",
		"::ffff:192.0.2.1",
	}
	for _, s := range yes {
		if !Matches(p.west, mustID(t, s)) {
			t.Errorf("Matches(west, %q) = false", s)
		}
	}
	no := []string{
		"C=CH, O=Linux strongSwan, CN=east",
		"CN=west, O=Linux strongSwan, C=CH",
		"C=CH, CN=west",
		"C=CH, O=Linux strongSwan, CN=west, E=west@example.org",
		"@east.example",
		"@west",
		"east@example.org",
		"192.0.2.2",
		"2001:db8::1",
		"@#0102",
	}
	for _, s := range no {
		if Matches(p.west, mustID(t, s)) {
			t.Errorf("Matches(west, %q) = true", s)
		}
	}
	if !Matches(p.east, mustID(t, "2001:db8::2")) || !Matches(p.east, mustID(t, "192.0.2.2")) {
		t.Error("east does not match its addresses")
	}
	// Address IDs with the wrong length (CVE-2013-6075) and other types.
	bad := []fsm.ID{
		{Type: spec.IDIPv4Addr, Data: []byte{192, 0, 2, 1, 0}},
		{Type: spec.IDIPv4Addr, Data: []byte{192, 0, 2}},
		{Type: spec.IDIPv6Addr, Data: []byte{192, 0, 2, 1}},
		{Type: spec.IDIPv4AddrSubnet, Data: []byte{192, 0, 2, 1, 255, 255, 255, 255}},
		{Type: spec.IDDerASN1DN, Data: p.west.RawSubject[:len(p.west.RawSubject)-1]},
		{Type: spec.IDDerASN1DN},
		{Type: spec.IDFQDN},
	}
	for _, id := range bad {
		if Matches(p.west, id) {
			t.Errorf("Matches(west, %s %x) = true", id.Type, id.Data)
		}
	}
	if Matches(nil, mustID(t, "192.0.2.1")) {
		t.Error("Matches(nil) = true")
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		typ  spec.IDType
		back string
	}{
		{"C=CH, O=Linux strongSwan, CN=west", spec.IDDerASN1DN, "C=CH, O=Linux strongSwan, CN=west"},
		{"c=ch,cn=west", spec.IDDerASN1DN, "C=ch, CN=west"},
		{"@~300f310d300b060355040313047765737", 0, ""},
		{"@~300f310d300b0603550403130477657374", spec.IDDerASN1DN, "CN=west"},
		{"@west", spec.IDFQDN, "@west"},
		{"west@example.org", spec.IDUserFQDN, "west@example.org"},
		{"192.0.2.1", spec.IDIPv4Addr, "192.0.2.1"},
		{"2001:db8::1", spec.IDIPv6Addr, "2001:db8::1"},
		{"@#0a0b", spec.IDKeyID, "@#0a0b"},
		{"XX=west", 0, ""},
		{"@~3000ff", 0, ""},
		{"", 0, ""},
		{"not an id", 0, ""},
	}
	for _, tc := range tests {
		id, err := ParseID(tc.in)
		if tc.typ == 0 {
			if err == nil {
				t.Errorf("ParseID(%q) = %v, want an error", tc.in, id)
			}
			continue
		}
		if err != nil || id.Type != tc.typ || IDString(id) != tc.back {
			t.Errorf("ParseID(%q) = %s %q, %v; want %s %q", tc.in, id.Type, IDString(id), err, tc.typ, tc.back)
		}
	}
	bad := fsm.ID{Type: spec.IDDerASN1DN, Data: []byte{1, 2}}
	if s := IDString(bad); s != bad.String() {
		t.Errorf("IDString(invalid DN) = %q", s)
	}
	a := fsm.AddrID(netip.MustParseAddr("192.0.2.1"))
	if IDString(a) != "192.0.2.1" {
		t.Errorf("IDString(%v) = %q", a, IDString(a))
	}
}
