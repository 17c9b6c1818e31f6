package secrets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The ipsec.secrets files of the recorded interop vectors
// (../shared/testvectors/*/config/west-ipsec.secrets).
func TestTestvectorFiles(t *testing.T) {
	for _, name := range []string{
		"testdata/ss-lsw-3des-md5-modp1536-pfs-west-ipsec.secrets",
		"testdata/lsw-ss-rsasig-aes128-sha1-modp2048-west-ipsec.secrets",
	} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			st, err := Load(name, Options{IPsecDir: "testdata"})
			if err != nil {
				t.Fatal(err)
			}
			if st.Len() != 1 {
				t.Fatalf("Len = %d, want 1", st.Len())
			}
			s := st.Secrets()[0]
			if s.Kind != PSK || !reflect.DeepEqual(s.IDs, []string{"192.0.2.1", "192.0.2.2"}) || s.File != name || s.Line != 1 {
				t.Errorf("secret = %v %q %s:%d", s.Kind, s.IDs, s.File, s.Line)
			}
			for _, pair := range [][2]string{{"192.0.2.1", "192.0.2.2"}, {"192.0.2.2", "192.0.2.1"}} {
				psk, ok := st.PSK(pair[0], pair[1])
				if !ok || string(psk) != "harness-psk-0123456789" {
					t.Errorf("PSK(%s, %s) = %q, %v", pair[0], pair[1], psk, ok)
				}
			}
			if _, ok := st.PSK("192.0.2.1", "192.0.2.3"); ok {
				t.Error("PSK for an unknown peer found")
			}
		})
	}
}

func TestPSKForms(t *testing.T) {
	for _, line := range []string{
		`: PSK "abc"`,
		`: "abc"`,
		`: 'abc'`,
		`: psk "abc"`,
		`: Psk 'abc'`,
		`: PSK 0x616263`,
		`: 0x616263`,
		`: 0X61_62_63`,
		`: psk 0x6162_63`,
		`: PSK 0sYWJj`,
		`: 0sYWJj`,
		`: 0SYWJj`,
		`: PSK 0tabc`,
		`: 0tabc`,
		`: 0Tabc`,
		`:	PSK	"abc"   # trailing comment`,
		":\n  PSK\n  \"abc\"",
	} {
		st := mustParse(t, line)
		psk, ok := st.PSK("192.0.2.1", "192.0.2.2")
		if !ok || string(psk) != "abc" || st.Secrets()[0].Kind != PSK {
			t.Errorf("%q: PSK = %q, %v", line, psk, ok)
		}
	}
	// Quoted strings are verbatim: no escapes, '#' is literal inside.
	for line, want := range map[string]string{
		`: PSK "a#b"`:               "a#b",
		`: PSK "a \ b"`:             `a \ b`,
		`: PSK 'say "hi"'`:          `say "hi"`,
		`: PSK "it's"`:              `it's`,
		`: PSK "  spaced  "`:        "  spaced  ",
		`: PSK 0ta#b`:               "a#b", // '#' inside a word is not a comment
		`: PSK 0t"x"`:               `"x"`,
		`: PSK "0xnot-hex"`:         "0xnot-hex",
		`: PSK "harness-psk-0123"`:  "harness-psk-0123",
		`: PSK 0x00ff`:              "\x00\xff",
		`: PSK 0s//79/A==`:          "\xff\xfe\xfd\xfc",
		`: PSK "ünïcödé"`:           "ünïcödé",
		`: PSK "tab	inside"`:        "tab\tinside",
		`: PSK "trailing ws"   	  `: "trailing ws",
	} {
		st := mustParse(t, line)
		if got := string(st.Secrets()[0].PSK); got != want {
			t.Errorf("%q: PSK = %q, want %q", line, got, want)
		}
	}
}

func TestIndices(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{`: PSK "x"`, nil},
		{`192.0.2.1 : PSK "x"`, []string{"192.0.2.1"}},
		{`192.0.2.1 192.0.2.2 198.51.100.7 : PSK "x"`, []string{"192.0.2.1", "192.0.2.2", "198.51.100.7"}},
		{`%any : PSK "x"`, []string{"%any"}},
		{`%ANY6 : PSK "x"`, []string{"%any"}},
		{`0.0.0.0 : PSK "x"`, []string{"%any"}},
		{`:: : PSK "x"`, []string{"%any"}},
		{`192.0.2.1 %any : PSK "x"`, []string{"192.0.2.1", "%any"}},
		{`2001:DB8:0:0::1 2001:db8::2 : PSK "x"`, []string{"2001:db8::1", "2001:db8::2"}},
		{`2001:db8:: : PSK "x"`, []string{"2001:db8::"}},
		{`2001:db8::1: PSK "x"`, []string{"2001:db8::1"}},
		{`@west: PSK "x"`, []string{"@west"}},
		{`@West.Example.COM user@example.com : PSK "x"`, []string{"@West.Example.COM", "user@example.com"}},
		{`"C=CH, O=Example AG, CN=west" : PSK "x"`, []string{"C=CH, O=Example AG, CN=west"}},
		{`'C=CH, O=Example, CN=east' C=CH,O=x,CN=y : PSK "x"`, []string{"C=CH, O=Example, CN=east", "C=CH,O=x,CN=y"}},
		{`@#0123abcd @~3031 : PSK "x"`, []string{"@#0123abcd", "@~3031"}},
		{`"C=CH, CN=west": PSK "x"`, []string{"C=CH, CN=west"}},
		{`carol : XAUTH "x"`, []string{"carol"}},
		{"192.0.2.1\n  192.0.2.2\n  :\n  PSK \"x\"", []string{"192.0.2.1", "192.0.2.2"}},
	} {
		st := mustParse(t, tc.line)
		if got := st.Secrets()[0].IDs; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: IDs = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestLayout(t *testing.T) {
	text := `# /etc/ipsec.secrets
# comment in column 1
	# indented comment before the first entry is fine

192.0.2.1 192.0.2.2 : PSK "one"   # comment after white space
192.0.2.1
	# comment inside an entry
	192.0.2.3

	:
	PSK
	"two"
include    # an include with its name on a continuation line
	ipsec.d/empty.secrets
@carol : XAUTH "three"
: PSK 0tfour#notacomment
`
	st, err := parseMem(t, memFS{"/etc/ipsec.secrets": text, "/etc/ipsec.d/empty.secrets": "# nothing\n"})
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		kind Kind
		ids  []string
		psk  string
		line int
	}
	var got []entry
	for _, s := range st.Secrets() {
		got = append(got, entry{s.Kind, s.IDs, string(s.PSK), s.Line})
	}
	want := []entry{
		{PSK, []string{"192.0.2.1", "192.0.2.2"}, "one", 5},
		{PSK, []string{"192.0.2.1", "192.0.2.3"}, "two", 6},
		{XAUTH, []string{"@carol"}, "three", 15},
		{PSK, nil, "four#notacomment", 16},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// CRLF line ends and a missing final newline are fine.
	st = mustParse(t, "192.0.2.1 : PSK \"crlf\"\r\n: PSK \"last\"")
	if st.Len() != 2 || string(st.Secrets()[0].PSK) != "crlf" || string(st.Secrets()[1].PSK) != "last" {
		t.Errorf("CRLF: %v", st.Secrets())
	}
	// An empty file is an empty store.
	if st := mustParse(t, ""); st.Len() != 0 {
		t.Errorf("empty file: Len = %d", st.Len())
	}
}

func TestIncludeGlobRelative(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"ipsec.secrets":            "192.0.2.1 192.0.2.2 : PSK \"top\"\ninclude ipsec.d/*.secrets\nINCLUDE \"/ABS/more.secrets\"\n: PSK \"last\"\n",
		"ipsec.d/a.secrets":        "@a : PSK \"a\"\ninclude ../sub/nested.secrets\n",
		"ipsec.d/b.secrets":        "\n\n@b : PSK \"b\"\n",
		"ipsec.d/.hidden.secrets":  "@hidden : PSK \"hidden\"\n",
		"ipsec.d/c.secrets/x":      "a directory matched by the glob is skipped\n",
		"ipsec.d/not-matched.conf": "garbage that must not be read\n",
		"sub/nested.secrets":       "@nested : PSK \"nested\"\n",
		"abs/more.secrets":         "@abs : PSK \"abs\"\n",
	})
	top := filepath.Join(dir, "ipsec.secrets")
	data, err := os.ReadFile(top)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "/ABS", filepath.Join(dir, "abs"), 1))
	if err := os.WriteFile(top, data, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := Load(top, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range st.Secrets() {
		rel, _ := filepath.Rel(dir, s.File)
		got = append(got, string(s.PSK)+"@"+rel+":"+strconv.Itoa(s.Line))
	}
	want := []string{
		"top@ipsec.secrets:1",
		"a@ipsec.d/a.secrets:1",
		"nested@sub/nested.secrets:1",
		"b@ipsec.d/b.secrets:3",
		"abs@abs/more.secrets:1",
		"last@ipsec.secrets:4",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// A pattern that matches nothing is fine (include /etc/ipsec.d/*.secrets
	// with no files); a plain file name that does not exist is an error.
	writeFiles(t, dir, map[string]string{"none.secrets": "include nothing-here/*.secrets\n: PSK \"x\"\n"})
	if st, err := Load(filepath.Join(dir, "none.secrets"), Options{}); err != nil || st.Len() != 1 {
		t.Errorf("empty glob: %v, %v", st, err)
	}
	writeFiles(t, dir, map[string]string{"missing.secrets": "# c\ninclude missing.secrets.d/x.secrets\n"})
	_, err = Load(filepath.Join(dir, "missing.secrets"), Options{})
	pe := asParseError(t, err)
	if pe.File != filepath.Join(dir, "missing.secrets") || pe.Line != 2 || !strings.Contains(pe.Msg, "include") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing include: %v", err)
	}
}

func TestIncludeLoopAndNesting(t *testing.T) {
	// A file including itself, and a cycle of two.
	for name, files := range map[string]memFS{
		"self": {"/etc/ipsec.secrets": ": PSK \"x\"\ninclude ipsec.secrets\n"},
		"cycle": {
			"/etc/ipsec.secrets": "include a.secrets\n",
			"/etc/a.secrets":     "# a\ninclude b.secrets\n",
			"/etc/b.secrets":     "# b\n\ninclude ./a.secrets\n",
		},
	} {
		_, err := parseMem(t, files)
		pe := asParseError(t, err)
		if !strings.Contains(pe.Msg, "include loop") {
			t.Errorf("%s: %v", name, err)
		}
		if name == "cycle" && (pe.File != "/etc/b.secrets" || pe.Line != 3) {
			t.Errorf("%s: error at %s:%d, want /etc/b.secrets:3", name, pe.File, pe.Line)
		}
	}

	// A chain of includes: the top file is depth 0, level-N.secrets depth N.
	chain := func(levels int) memFS {
		m := memFS{"/etc/ipsec.secrets": "include level-1.secrets\n"}
		for i := 1; i <= levels; i++ {
			text := "@l" + strconv.Itoa(i) + " : PSK \"x\"\n"
			if i < levels {
				text += "include level-" + strconv.Itoa(i+1) + ".secrets\n"
			}
			m["/etc/level-"+strconv.Itoa(i)+".secrets"] = text
		}
		return m
	}
	st, err := parseMem(t, chain(10))
	if err != nil || st.Len() != 10 {
		t.Fatalf("10 levels: %v, %v", st, err)
	}
	_, err = parseMem(t, chain(11))
	pe := asParseError(t, err)
	if pe.Error() != "/etc/level-10.secrets:2: include nesting deeper than 10" {
		t.Errorf("11 levels: %v", err)
	}
	// Options.MaxInclude.
	_, err = Parse("/etc/ipsec.secrets", []byte(chain(3)["/etc/ipsec.secrets"]), Options{MaxInclude: 2, fsys: chain(3)})
	if pe := asParseError(t, err); pe.Error() != "/etc/level-2.secrets:2: include nesting deeper than 2" {
		t.Errorf("MaxInclude 2: %v", err)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.secrets"), Options{})
	pe := asParseError(t, err)
	if pe.Line != 0 || !errors.Is(err, fs.ErrNotExist) || !strings.HasSuffix(pe.Error(), "nope.secrets: open: no such file or directory") {
		t.Errorf("Load missing: %v", err)
	}
	// A directory is not a secrets file.
	if _, err := Load(t.TempDir(), Options{}); err == nil {
		t.Error("Load(directory) succeeded")
	}
}

// TestErrors checks the message and the file:line of every kind of mistake,
// and that no message ever contains the secret "s3cr3t".
func TestErrors(t *testing.T) {
	key := testKey(t, 0)
	block := rsaBlock(key, "@west ", false)
	drop := func(field string) string { // remove one field line
		var out []string
		for _, l := range strings.Split(block, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), field+":") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	swap := func(a, b string) string {
		lines := strings.Split(block, "\n")
		var ia, ib int
		for i, l := range lines {
			switch {
			case strings.HasPrefix(strings.TrimSpace(l), a+":"):
				ia = i
			case strings.HasPrefix(strings.TrimSpace(l), b+":"):
				ib = i
			}
		}
		lines[ia], lines[ib] = lines[ib], lines[ia]
		return strings.Join(lines, "\n")
	}
	const pre = "# line 1\n192.0.2.1 192.0.2.2 : PSK \"fine\"\n" // two good lines first
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unterminated quote", pre + `192.0.2.1 : PSK "s3cr3t`, `/etc/ipsec.secrets:3: unterminated quoted string`},
		{"unterminated single quote", pre + `: PSK 's3cr3t"`, `/etc/ipsec.secrets:3: unterminated quoted string`},
		{"unterminated quote in continuation", pre + "@a : RSA {\n\tModulus: \"s3cr3t\n\t}", `/etc/ipsec.secrets:4: unterminated quoted string`},
		{"junk after quote", pre + `: PSK "s3cr3t"x`, `/etc/ipsec.secrets:3: unexpected character after closing quote`},
		{"missing colon before PSK", pre + `192.0.2.1 192.0.2.2 PSK "s3cr3t"`, `/etc/ipsec.secrets:3: missing ':' before PSK`},
		{"missing colon before quoted", pre + `192.0.2.1 192.0.2.2 "s3cr3t"`, `/etc/ipsec.secrets:3: missing ':' before the secret`},
		{"missing colon before data", pre + `192.0.2.1 0x5333`, `/etc/ipsec.secrets:3: missing ':' before the secret`},
		{"missing colon at end", pre + "192.0.2.1\n  192.0.2.2\n\n", `/etc/ipsec.secrets:4: missing ':' between the indices and the secret`},
		{"missing secret", pre + `192.0.2.1 :`, `/etc/ipsec.secrets:3: missing secret after ':'`},
		{"missing PSK value", pre + `192.0.2.1 : PSK`, `/etc/ipsec.secrets:3: PSK: missing secret`},
		{"unknown kind", pre + `192.0.2.1 : FOO "s3cr3t"`, `/etc/ipsec.secrets:3: unknown secret kind`},
		{"unquoted secret", pre + `192.0.2.1 : s3cr3t`, `/etc/ipsec.secrets:3: unknown secret kind`},
		{"unsupported kind", pre + `: PIN %smartcard "s3cr3t"`, `/etc/ipsec.secrets:3: secret kind PIN is not supported`},
		{"bad hex", pre + `: PSK 0x12g4`, `/etc/ipsec.secrets:3: PSK: bad hex value: not a hex digit`},
		{"odd hex", pre + `: 0x123`, `/etc/ipsec.secrets:3: PSK: bad hex value: odd number of digits`},
		{"empty hex", pre + `: 0x`, `/etc/ipsec.secrets:3: PSK: no data after 0x`},
		{"bad base64", pre + `: PSK 0sczNjcjN0!!`, `/etc/ipsec.secrets:3: PSK: bad base64 value (at offset 8)`},
		{"bad base64 padding", pre + "\n: PSK 0sczNjcjN", `/etc/ipsec.secrets:4: PSK: bad base64 value`},
		{"PSK without prefix", pre + `: PSK s3cr3t`, `/etc/ipsec.secrets:3: PSK: an unquoted secret must start with 0x, 0s or 0t`},
		{"empty PSK", pre + `: PSK ""`, `/etc/ipsec.secrets:3: PSK: empty secret`},
		{"XAUTH bad", pre + `@carol : XAUTH 0xs3`, `/etc/ipsec.secrets:3: XAUTH: bad hex value`},
		{"trailing token", pre + `: PSK "s3cr3t" "more"`, `/etc/ipsec.secrets:3: unexpected token after the secret`},
		{"bad index", pre + `%anything : PSK "s3cr3t"`, `/etc/ipsec.secrets:3: index "%anything": unknown keyword`},
		{"bad DN index", pre + `"C=CH, junk" : PSK "s3cr3t"`, `/etc/ipsec.secrets:3: index "C=CH, junk": malformed DN`},
		{"subnet index", pre + `10.0.0.0/8 : PSK "s3cr3t"`, `/etc/ipsec.secrets:3: index "10.0.0.0/8": subnets are not indices`},
		{"zone index", pre + `fe80::1%eth0 : PSK "s3cr3t"`, `/etc/ipsec.secrets:3: index "fe80::1%eth0": an IP address index cannot have a zone`},
		{"entry indented at top", "  192.0.2.1 : PSK \"s3cr3t\"\n", `/etc/ipsec.secrets:1: entry is indented: entries must start in column 1`},
		{"entry indented at top after comments", "# c\n\n\t: PSK \"s3cr3t\"\n", `/etc/ipsec.secrets:3: entry is indented: entries must start in column 1`},
		{"entry indented after entry", pre + " 192.0.2.3 : PSK \"s3cr3t\"\n", `/etc/ipsec.secrets:3: entry is indented: entries must start in column 1`},
		{"continuation without entry", "# c\n   PSK \"s3cr3t\"\n: PSK \"x\"\n", `/etc/ipsec.secrets:2: continuation line without an entry`},
		{"include without name", pre + "include\n", `/etc/ipsec.secrets:3: include: missing file name`},
		{"include two names", pre + "include a b\n", `/etc/ipsec.secrets:3: unexpected token after include file name`},
		{"include bad pattern", pre + "include [\n", `/etc/ipsec.secrets:3: include /etc/[: syntax error in pattern`},
		{"RSA nothing", pre + "@west : RSA\n", `/etc/ipsec.secrets:3: RSA: missing '{' or key file name`},
		{"RSA missing field", pre + drop("Prime1"), `/etc/ipsec.secrets:12: RSA private key: Prime1 missing`},
		{"RSA missing first field", pre + drop("Modulus"), `/etc/ipsec.secrets:7: RSA private key: Modulus missing`},
		{"RSA missing last field", pre + drop("Coefficient"), `/etc/ipsec.secrets:16: RSA private key: Coefficient missing`},
		{"RSA wrong order", pre + swap("Prime1", "Prime2"), `/etc/ipsec.secrets:12: RSA private key: Prime2 out of order: expected Prime1`},
		{"RSA unterminated brace", pre + strings.Replace(block, "\t}", "}", 1), `/etc/ipsec.secrets:3: RSA private key: unterminated '{' (the closing '}' must be indented)`},
		{"RSA unterminated brace at EOF", pre + "@west : RSA {\n\tModulus: 0x00\n", `/etc/ipsec.secrets:3: RSA private key: unterminated '{'`},
		{"RSA unknown field", pre + "@west : RSA {\n\tModulus: 0x00\n\tPublicExp: 0x03\n\t}", `/etc/ipsec.secrets:5: RSA private key: unknown field "PublicExp"`},
		{"RSA value without name", pre + "@west : RSA {\n\tModulus: 0x00 0sczNjcjN0\n\t}", `/etc/ipsec.secrets:4: RSA private key: a value without a field name`},
		{"RSA duplicate field", pre + "@west : RSA {\n\tModulus: 0x00\n\tmodulus 0x00\n\t}", `/etc/ipsec.secrets:5: RSA private key: Modulus appears twice`},
		{"RSA missing value", pre + "@west : RSA {\n\tModulus:\n\t}", `/etc/ipsec.secrets:4: RSA private key: Modulus: missing value`},
		{"RSA bad base64", pre + "@west : RSA {\n\tModulus: 0s!!!!\n\t}", `/etc/ipsec.secrets:4: RSA private key: Modulus: bad base64 value (at offset 0)`},
		{"RSA bad hex", pre + "@west : RSA {\n\tModulus: 0x0g\n\t}", `/etc/ipsec.secrets:4: RSA private key: Modulus: bad hex value`},
		{"RSA quoted value", pre + "@west : RSA {\n\tModulus: \"s3cr3t\"\n\t}", `/etc/ipsec.secrets:4: RSA private key: Modulus: the value must be 0s (base64) or 0x (hex) data`},
		{"RSA token after brace", pre + strings.Replace(block, "\t}", "\t} extra", 1), `/etc/ipsec.secrets:17: unexpected token after the secret`},
		{"RSA inconsistent", pre + strings.Replace(block, "Exponent1: 0s", "Exponent1: 0sAQAB", 1), `/etc/ipsec.secrets:3: RSA private key: inconsistent key: Exponent1 is not PrivateExponent mod (Prime1-1)`},
		{"RSA file missing", pre + "@west : RSA west.pem\n", `/etc/ipsec.secrets:3: RSA private key file /etc/ipsec.d/private/west.pem: open: file does not exist`},
		{"RSA file missing absolute", pre + "@west : RSA \"/keys/west.pem\" \"s3cr3t\"\n", `/etc/ipsec.secrets:3: RSA private key file /keys/west.pem: open: file does not exist`},
		{"RSA file bad", pre + "@west : RSA /etc/bad.pem\n", `/etc/ipsec.secrets:3: RSA private key file /etc/bad.pem: neither a PEM nor a DER RSA private key`},
		{"RSA file passphrase then junk", pre + "@west : RSA /etc/west.pem %prompt junk\n", `/etc/ipsec.secrets:3: unexpected token after the secret`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMem(t, memFS{"/etc/ipsec.secrets": tc.text, "/etc/bad.pem": "not a key", "/etc/west.pem": westKeyPEM(t)})
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.text)
			}
			pe := asParseError(t, err)
			if !strings.HasPrefix(pe.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant prefix\n  %s", err, tc.want)
			}
			if strings.Contains(pe.Error(), "s3cr3t") || strings.Contains(pe.Error(), "czNjcjN0") {
				t.Errorf("error discloses the secret: %v", err)
			}
		})
	}
}

// An error in an included file names that file and line.
func TestErrorInInclude(t *testing.T) {
	_, err := parseMem(t, memFS{
		"/etc/ipsec.secrets":          ": PSK \"a\"\ninclude ipsec.d/*.secrets\n",
		"/etc/ipsec.d/a.secrets":      "\n\n\n\n\n\n@x : PSK \"unterminated\n",
		"/etc/ipsec.d/notsecrets.txt": "\"",
	})
	if pe := asParseError(t, err); pe.Error() != "/etc/ipsec.d/a.secrets:7: unterminated quoted string" {
		t.Errorf("got %v", err)
	}
}
