package certs

import (
	"testing"
)

// FuzzParseDN: ParseDN never panics, and what it accepts formats and
// parses back to the same name.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{
		"C=CH, O=Linux strongSwan, CN=west",
		"/C=CH/O=Linux strongSwan/CN=west",
		`O="Linux strongSwan, Inc.", CN=west`,
		`CN=a\,b\2C\"c\\`,
		"E=west@example.org, DC=example, UID=x",
		"1.2.3.4=x, 2.5.4.3=y",
		"CN=#0c0477657374",
		"CN=#1e0400e90041",
		`CN="unbalanced`,
		"CN=Zürich",
		"CN=",
		"=",
		",",
		`CN=\`,
		"CN=#",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		der, err := ParseDN(s)
		if err != nil {
			return
		}
		out, err := FormatDN(der)
		if err != nil {
			t.Fatalf("ParseDN(%q) = %x, which FormatDN refuses: %v", s, der, err)
		}
		if len(out) > maxDNString {
			// Escaping (\XX) can make the string form of an accepted DN
			// longer than ParseDN reads; that limit is by design.
			return
		}
		again, err := ParseDN(out)
		if err != nil {
			t.Fatalf("ParseDN(%q) -> FormatDN %q, which ParseDN refuses: %v", s, out, err)
		}
		if !SameDN(der, again) {
			t.Fatalf("ParseDN(%q) = %x, FormatDN %q parses to %x", s, der, out, again)
		}
		if out2, err := FormatDN(again); err != nil || out2 != out {
			t.Fatalf("FormatDN not stable: %q then %q (%v)", out, out2, err)
		}
	})
}

// FuzzFormatDN: FormatDN never panics on arbitrary DER, and what it prints
// parses back to the same name.
func FuzzFormatDN(f *testing.F) {
	for _, s := range []string{"C=CH, O=Linux strongSwan, CN=west", "CN=#020105", "CN=#1e0400e90041", `CN=\FF`} {
		der, _ := ParseDN(s)
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		out, err := FormatDN(der)
		if err != nil {
			return
		}
		if len(out) > maxDNString {
			return
		}
		again, err := ParseDN(out)
		if err != nil {
			if out == "" {
				return // an empty SEQUENCE prints as ""
			}
			t.Fatalf("FormatDN(%x) = %q, which ParseDN refuses: %v", der, out, err)
		}
		if !SameDN(der, again) {
			t.Fatalf("FormatDN(%x) = %q parses to %x, not the same name", der, out, again)
		}
	})
}
