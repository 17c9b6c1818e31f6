package secrets

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary files to the parser, with an in-memory file
// system holding an include target and a key file (no real files are
// read). It must not panic or hang; errors must be *ParseError; a parsed
// store must be usable.
func FuzzParse(f *testing.F) {
	west, err := os.ReadFile("testdata/private/west.key")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`192.0.2.1 192.0.2.2 : PSK "harness-psk-0123456789"`,
		": PSK 0x616263\n%any : 0sYWJj\n@carol : XAUTH 0tpw\n",
		"192.0.2.1 %any6 :: 0.0.0.0 2001:db8::1: PSK 'x'\n\"C=CH, O=x\" : PSK \"y\" # c\n",
		"192.0.2.1\n\t192.0.2.2\n\t:\n\tPSK \"x\"\ninclude inc.secrets\ninclude d/*.secrets\n",
		"include ipsec.secrets\n",
		"@west : RSA west.key\n@w2 : RSA /fz/private/west.key %prompt\n",
		"@west : RSA {\n\tModulus: 0x00\n\tPublicExponent: 0x03\n\t}\n",
		"  : PSK \"indented\"\n",
		": PSK \"unterminated\n",
		"@west : RSA {\n\tModulus: 0sAAAA\n\tPublicExponent 0s\n\tPrivateExponent: 0x01\n\tPrime1: 0x01\n\tPrime2: 0x01\n\tExponent1: 0x01\n\tExponent2: 0x01\n\tCoefficient: 0x01\n\t}\n",
	} {
		f.Add([]byte(seed))
	}
	for _, name := range []string{
		"testdata/ss-lsw-3des-md5-modp1536-pfs-west-ipsec.secrets",
		"testdata/lsw-ss-rsasig-aes128-sha1-modp2048-west-ipsec.secrets",
	} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		files := memFS{
			"/fz/ipsec.secrets":     string(data),
			"/fz/inc.secrets":       "@inc : PSK \"inc\"\ninclude d/x.secrets\n",
			"/fz/d/x.secrets":       "@x : XAUTH \"x\"\n",
			"/fz/d/y.secrets":       "include ../ipsec.secrets\n",
			"/fz/private/west.key":  string(west),
			"/fz/private/empty.key": "",
		}
		st, err := Parse("/fz/ipsec.secrets", data, Options{IPsecDir: "/fz", fsys: files})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File == "" || pe.Line < 0 {
				t.Fatalf("bad error %#v", err)
			}
			_ = pe.Error()
			return
		}
		for _, s := range st.Secrets() {
			switch s.Kind {
			case PSK, XAUTH:
				if len(s.PSK) == 0 {
					t.Fatalf("empty secret: %v", s)
				}
			case RSA:
				if s.RSA == nil {
					t.Fatalf("RSA secret without key: %v", s)
				}
			default:
				t.Fatalf("bad kind %v", s.Kind)
			}
			if len(s.IDs) != len(s.ids) || s.Line < 1 {
				t.Fatalf("bad secret %v", s)
			}
			_ = s.String()
			local, remote := "192.0.2.1", ""
			if len(s.IDs) > 0 {
				local = s.IDs[0]
			}
			if len(s.IDs) > 1 {
				remote = s.IDs[len(s.IDs)-1]
			}
			st.PSK(local, remote)
			st.RSAKey(local)
			st.XAUTH(strings.TrimPrefix(local, "@"))
			if _, err := st.Find(s.Kind, local, remote); err != nil && !errors.Is(err, ErrNotFound) {
				var amb *AmbiguousError
				if !errors.As(err, &amb) {
					t.Fatalf("Find: %v", err)
				}
			}
		}
	})
}
