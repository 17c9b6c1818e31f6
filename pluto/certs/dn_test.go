package certs

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func TestParseDNEncoding(t *testing.T) {
	// SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, PrintableString "west" } } }
	want, _ := hex.DecodeString("300f310d300b06035504031304" + hex.EncodeToString([]byte("west")))
	got, err := ParseDN("CN=west")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ParseDN(CN=west) = %x, %v; want %x", got, err, want)
	}
	tags := []struct {
		dn  string
		tag byte
	}{
		{"CN=west", tagPrintableString},
		{"E=west@example.org", tagIA5String},
		{"emailAddress=west@example.org", tagIA5String},
		{"DC=example", tagIA5String},
		{"CN=Zürich", tagUTF8String},
		{"CN=a*b", tagUTF8String},
		{`CN=\FF\FE`, tagT61String},
		{"CN=#0c0477657374", tagUTF8String},
	}
	for _, tc := range tags {
		der, err := ParseDN(tc.dn)
		if err != nil {
			t.Errorf("ParseDN(%q): %v", tc.dn, err)
			continue
		}
		avas, err := parseRDNs(der)
		if err != nil || len(avas) != 1 || avas[0].tag != tc.tag {
			t.Errorf("ParseDN(%q) = %x: want one value of tag %#x", tc.dn, der, tc.tag)
		}
	}
}

func TestParseFormatDN(t *testing.T) {
	tests := []struct{ in, out string }{
		{"C=CH, O=Linux strongSwan, CN=west", "C=CH, O=Linux strongSwan, CN=west"},
		{"C=CH,O=Linux strongSwan,CN=west", "C=CH, O=Linux strongSwan, CN=west"},
		{"  c = CH ,  o = Linux strongSwan  ,cn=  west  ", "C=CH, O=Linux strongSwan, CN=west"},
		{"/C=CH/O=Linux strongSwan/CN=west", "C=CH, O=Linux strongSwan, CN=west"},
		{"CN=a/b", "CN=a/b"},
		{`O="Linux strongSwan, Inc.", CN=west`, `O="Linux strongSwan, Inc.", CN=west`},
		{`O=Linux strongSwan\, Inc., CN=west`, `O="Linux strongSwan, Inc.", CN=west`},
		{`CN="say \"hi\""`, `CN="say \"hi\""`},
		{`CN=back\\slash`, `CN="back\\slash"`},
		{`CN=" padded "`, `CN=" padded "`},
		{`CN=trailing\ `, `CN="trailing "`},
		{`CN="#not hex"`, `CN="#not hex"`},
		{`CN=line\0Abreak`, `CN=line\0Abreak`},
		{`CN=caf\C3\A9`, `CN=café`},
		{"CN=Zürich", "CN=Zürich"},
		{"E=west@example.org, Email=a@b, emailAddress=c@d", "E=west@example.org, E=a@b, E=c@d"},
		{"serialNumber=1234, SN=5678, S=Smith, G=John", "SN=1234, SN=5678, S=Smith, G=John"},
		{"ST=Zurich, L=Rapperswil, OU=Test, DC=example, UID=jdoe", "ST=Zurich, L=Rapperswil, OU=Test, DC=example, UID=jdoe"},
		{"2.5.4.3=west", "CN=west"},
		{"1.2.3.4=x, 2.999.1=y", "1.2.3.4=x, 2.999.1=y"},
		{"CN=", "CN="},
		{`CN=""`, "CN="},
		{"CN=a=b", "CN=a=b"},
		{`CN=we"st`, `CN="we\"st"`},
		{"CN=#0c0477657374", "CN=west"},
		{"CN=#020105", "CN=#020105"},
		{"CN=#1e0400e90041", "CN=éA"},
		{"CN=#1c080000007700000078", "CN=wx"},    // UniversalString
		{"CN=#1c0400110000", "CN=#1c0400110000"}, // not a code point
		{"CN=#1e03000041", "CN=#1e03000041"},     // BMPString of odd length
		{"CN=#1e02d800", "CN=#1e02d800"},         // lone surrogate
		{"CN=#1e04d83dde00", "CN=😀"},             // surrogate pair
		{"CN=#0c01ff", "CN=#0c01ff"},             // UTF8String that is not UTF-8
		{"CN=#1601e9", "CN=é"},                   // IA5String with Latin-1
		{"CN=#3000", "CN=#3000"},                 // constructed value
		{"CN=" + strings.Repeat("x", 300), "CN=" + strings.Repeat("x", 300)}, // two-octet length
	}
	for _, tc := range tests {
		der, err := ParseDN(tc.in)
		if err != nil {
			t.Errorf("ParseDN(%q): %v", tc.in, err)
			continue
		}
		s, err := FormatDN(der)
		if err != nil || s != tc.out {
			t.Errorf("FormatDN(ParseDN(%q)) = %q, %v; want %q", tc.in, s, err, tc.out)
			continue
		}
		again, err := ParseDN(s)
		if err != nil || !SameDN(der, again) {
			t.Errorf("ParseDN(%q) = %x, %v: not the same name as %x", s, again, err, der)
		}
	}
}

func TestParseDNErrors(t *testing.T) {
	tests := []struct{ in, has string }{
		{"", "empty DN"},
		{"   ", "empty DN"},
		{"XX=foo", `unknown attribute type "XX"`},
		{"C=CH, Foo=bar", `unknown attribute type "Foo"`},
		{`CN="west`, "unbalanced quotes"},
		{`C=CH, O="Linux strongSwan, CN=west`, "unbalanced quotes"},
		{`CN="a" b`, "after the quoted value"},
		{"CN", `missing '=' after "CN"`},
		{"C=CH, CN", `missing '=' after "CN"`},
		{"=west", "missing attribute type"},
		{"CN=west,", "empty RDN"},
		{"CN=a, , O=b", "empty RDN"},
		{`CN=west\`, "backslash"},
		{"CN=#zz", "hex"},
		{"CN=#0c05ab", "not one DER element"},
		{"CN=#0c01ab00", "not one DER element"},
		{"3.1=x", "attribute type"},
		{"1.40=x", "attribute type"},
		{"1.=x", "attribute type"},
		{"01.2=x", "attribute type"},
		{"CN=" + strings.Repeat("x", maxDNString), "longer than"},
	}
	for _, tc := range tests {
		der, err := ParseDN(tc.in)
		if err == nil {
			t.Errorf("ParseDN(%q) = %x, want an error", tc.in, der)
			continue
		}
		if !strings.Contains(err.Error(), tc.has) {
			t.Errorf("ParseDN(%q): %q lacks %q", tc.in, err, tc.has)
		}
	}
}

func TestFormatDNErrors(t *testing.T) {
	good, _ := ParseDN("CN=west")
	tests := map[string][]byte{
		"nil":              nil,
		"not a SEQUENCE":   {0x31, 0x00},
		"truncated":        good[:len(good)-1],
		"trailing data":    append(append([]byte(nil), good...), 0),
		"empty RDN":        {0x30, 0x02, 0x31, 0x00},
		"RDN not a SET":    {0x30, 0x02, 0x30, 0x00},
		"AVA not SEQUENCE": {0x30, 0x04, 0x31, 0x02, 0x31, 0x00},
		"type not an OID":  {0x30, 0x08, 0x31, 0x06, 0x30, 0x04, 0x04, 0x00, 0x13, 0x00},
		"bad OID":          {0x30, 0x09, 0x31, 0x07, 0x30, 0x05, 0x06, 0x01, 0x80, 0x13, 0x00},
		"indefinite":       {0x30, 0x80, 0x00, 0x00},
		"long tag":         {0x30, 0x09, 0x31, 0x07, 0x30, 0x05, 0x06, 0x01, 0x55, 0x1f, 0x00},
		"non-minimal len":  {0x30, 0x81, 0x02, 0x31, 0x00},
		"no value":         {0x30, 0x07, 0x31, 0x05, 0x30, 0x03, 0x06, 0x01, 0x55},
		"two values":       {0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x01, 0x55, 0x13, 0x00, 0x13, 0x00},
	}
	for name, der := range tests {
		if s, err := FormatDN(der); err == nil {
			t.Errorf("%s: FormatDN(%x) = %q, want an error", name, der, s)
		}
	}
	if s, err := FormatDN([]byte{0x30, 0x00}); err != nil || s != "" {
		t.Errorf("FormatDN(empty SEQUENCE) = %q, %v", s, err)
	}
}

func TestSameDN(t *testing.T) {
	base, _ := ParseDN("C=CH, O=Linux strongSwan, CN=west")
	same := []string{
		"c=ch, o=linux strongswan, cn=WEST",
		"C = CH ,O=Linux strongSwan,   CN=west",
		"/C=CH/O=Linux strongSwan/CN=west",
		"C=CH, O=Linux strongSwan, CN=#0c0457455354",         // UTF8String "WEST"
		"C=CH, O=Linux strongSwan, CN=#1e080057004500530054", // BMPString "WEST"
		"C=CH, O=Linux strongSwan, CN=west ",                 // unescaped trailing blank dropped
	}
	for _, s := range same {
		der, err := ParseDN(s)
		if err != nil {
			t.Fatalf("ParseDN(%q): %v", s, err)
		}
		if !SameDN(base, der) || !SameDN(der, base) {
			t.Errorf("SameDN(%q) = false", s)
		}
	}
	differ := []string{
		"C=CH, O=Linux strongSwan, CN=east",
		"CN=west, O=Linux strongSwan, C=CH",
		"C=CH, CN=west",
		"C=CH, O=Linux strongSwan, CN=west, OU=x",
		"C=CH, OU=Linux strongSwan, CN=west",
		`C=CH, O=Linux strongSwan, CN=west\ `,
		"C=CH, O=Linux strongSwan, CN=#020105",
	}
	for _, s := range differ {
		der, err := ParseDN(s)
		if err != nil {
			t.Fatalf("ParseDN(%q): %v", s, err)
		}
		if SameDN(base, der) {
			t.Errorf("SameDN(%q) = true", s)
		}
	}
	if SameDN(nil, nil) || SameDN([]byte{1, 2}, []byte{1, 2}) {
		t.Error("SameDN of invalid DER is true")
	}

	pattern, _ := ParseDN("C=CH, O=*, CN=*")
	if ok, n := MatchDN(base, pattern); !ok || n != 2 {
		t.Errorf("MatchDN(wildcards) = %v, %d", ok, n)
	}
	if ok, n := MatchDN(base, base); !ok || n != 0 {
		t.Errorf("MatchDN(itself) = %v, %d", ok, n)
	}
	other, _ := ParseDN("C=DE, O=*, CN=*")
	if ok, _ := MatchDN(base, other); ok {
		t.Error("MatchDN(C=DE, ...) = true")
	}
	if SameDN(base, pattern) {
		t.Error("SameDN treats * as a wildcard")
	}
}
