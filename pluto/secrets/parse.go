package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// DefaultIPsecDir is the ipsec.d directory used when Options.IPsecDir is
// empty (pluto's --ipsecdir default). RSA key files named by a relative path
// are looked up in its "private" subdirectory.
const DefaultIPsecDir = "/etc/ipsec.d"

// DefaultMaxInclude is the include nesting limit used when
// Options.MaxInclude is zero or negative (pluto's limit).
const DefaultMaxInclude = 10

// maxFileSize bounds every file read: secrets files, includes, key files.
const maxFileSize = 16 << 20

// Options configure Load and Parse.
type Options struct {
	// IPsecDir is the ipsec.d directory; "RSA file" entries with a relative
	// path are read from IPsecDir/private. Default DefaultIPsecDir.
	IPsecDir string
	// MaxInclude is how deeply include directives may nest. Default
	// DefaultMaxInclude.
	MaxInclude int

	fsys fileSystem // tests and fuzzing; nil means the OS
}

// ParseError reports a problem in a secrets file. Messages never contain the
// secrets themselves.
type ParseError struct {
	File string
	Line int // 0 when the problem is with the file as a whole
	Msg  string
	Err  error // the underlying error, if any (for errors.Is, e.g. fs.ErrNotExist)
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

func (e *ParseError) Unwrap() error { return e.Err }

// Load reads the secrets file at path, with its includes and key files.
// A missing file is an error. Every error is a *ParseError; loading stops at
// the first one, so a Store is either complete or absent.
func Load(path string, opts Options) (*Store, error) {
	fsys := opts.fsys
	if fsys == nil {
		fsys = osFS{}
	}
	data, err := fsys.ReadFile(path)
	if err != nil {
		return nil, &ParseError{File: path, Msg: errText(err), Err: err}
	}
	return Parse(path, data, opts)
}

// Parse parses data as the secrets file name. Includes are resolved relative
// to filepath.Dir(name); name itself is not read.
func Parse(name string, data []byte, opts Options) (*Store, error) {
	p := &parser{opts: opts, fsys: opts.fsys, store: &Store{}}
	if p.fsys == nil {
		p.fsys = osFS{}
	}
	if p.opts.IPsecDir == "" {
		p.opts.IPsecDir = DefaultIPsecDir
	}
	if p.opts.MaxInclude <= 0 {
		p.opts.MaxInclude = DefaultMaxInclude
	}
	if err := p.parseFile(name, data, 0); err != nil {
		return nil, err
	}
	return p.store, nil
}

// fileSystem is what the parser reads: the OS normally, a map in tests.
type fileSystem interface {
	ReadFile(name string) ([]byte, error)
	Glob(pattern string) ([]string, error)
}

var (
	errIsDir      = errors.New("is a directory")
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = fmt.Errorf("larger than %d bytes", maxFileSize)
)

type osFS struct{}

func (osFS) ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, &fs.PathError{Op: "read", Path: name, Err: errIsDir}
	case !fi.Mode().IsRegular():
		return nil, &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errTooLarge}
	}
	return data, nil
}

func (osFS) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// errText renders an I/O error without repeating the path the ParseError
// already names.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

type parser struct {
	opts  Options
	fsys  fileSystem
	store *Store
	open  []string // the files being read, outermost first, for loop detection
}

// token is a word of a secrets file. Quoted strings lose their quotes.
type token struct {
	text   string
	quoted bool
	line   int
}

func (t token) is(s string) bool { return !t.quoted && t.text == s }

// record is a maximal run of tokens whose first line starts in column 1 and
// whose other lines are indented (pluto's record).
type record struct {
	toks   []token
	line   int
	orphan bool // indented lines before the first record of the file
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// parseFile splits data into records and processes them in order.
func (p *parser) parseFile(name string, data []byte, depth int) error {
	p.open = append(p.open, fileKey(name))
	defer func() { p.open = p.open[:len(p.open)-1] }()

	var cur *record
	flush := func() error {
		if cur == nil || len(cur.toks) == 0 {
			return nil
		}
		r := cur
		cur = nil
		return p.record(name, depth, r)
	}
	lineNo := 0
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		lineNo++
		toks, err := lexLine(line, lineNo)
		if err != nil {
			// A record that this line does not continue comes first.
			if cur != nil && len(line) > 0 && !isSpace(line[0]) {
				if ferr := flush(); ferr != nil {
					return ferr
				}
			}
			return p.errorf(name, lineNo, "%s", err)
		}
		if len(toks) == 0 {
			continue // blank or comment line: never ends a record
		}
		if !isSpace(line[0]) {
			if err := flush(); err != nil {
				return err
			}
			cur = &record{line: lineNo}
		} else if cur == nil {
			cur = &record{line: lineNo, orphan: true}
		}
		cur.toks = append(cur.toks, toks...)
	}
	return flush()
}

// lexLine splits one line into tokens. '#' at the start of a token begins a
// comment; quoted strings (double or single quotes, no escapes) end at the
// next quote of the same kind on the same line; '{' and '}' at the start of
// a token stand alone.
func lexLine(line []byte, lineNo int) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return toks, nil
		}
		switch c := line[i]; c {
		case '#':
			return toks, nil
		case '"', '\'':
			end := bytes.IndexByte(line[i+1:], c)
			if end < 0 {
				return nil, errors.New("unterminated quoted string")
			}
			toks = append(toks, token{text: string(line[i+1 : i+1+end]), quoted: true, line: lineNo})
			i += end + 2
			if i < len(line) && line[i] == ':' && (i+1 == len(line) || isSpace(line[i+1])) {
				// "C=CH, CN=west": RSA ... (a quoted DN index and the separator)
				toks = append(toks, token{text: ":", line: lineNo})
				i++
			}
			if i < len(line) && !isSpace(line[i]) {
				return nil, errors.New("unexpected character after closing quote (a quoted string must be followed by white space)")
			}
		case '{', '}':
			toks = append(toks, token{text: string(c), line: lineNo})
			i++
		default:
			j := i
			for j < len(line) && !isSpace(line[j]) {
				j++
			}
			toks = append(toks, token{text: string(line[i:j]), line: lineNo})
			i = j
		}
	}
}

func (p *parser) errorf(file string, line int, format string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) record(file string, depth int, r *record) error {
	t := r.toks
	if r.orphan {
		if looksLikeEntry(t) {
			return p.errorf(file, r.line, "entry is indented: entries must start in column 1 (only continuation lines are indented)")
		}
		return p.errorf(file, r.line, "continuation line without an entry (indented lines continue the entry above)")
	}
	if !t[0].quoted && strings.EqualFold(t[0].text, "include") {
		return p.include(file, depth, r)
	}
	return p.entry(file, r)
}

// looksLikeEntry reports whether tokens contain an entry separator ":".
func looksLikeEntry(t []token) bool {
	for _, tok := range t {
		if !tok.quoted && (tok.text == ":" || (len(tok.text) > 1 && strings.HasSuffix(tok.text, ":"))) {
			return true
		}
	}
	return false
}

// trailing reports tokens left over after a complete record.
func (p *parser) trailing(file string, rest []token, prevLine int, what string) error {
	if len(rest) == 0 {
		return nil
	}
	if rest[0].line > prevLine && looksLikeEntry(rest) {
		return p.errorf(file, rest[0].line, "entry is indented: entries must start in column 1 (indented lines continue the entry above)")
	}
	return p.errorf(file, rest[0].line, "unexpected token after %s", what)
}

// include processes "include PATTERN".
func (p *parser) include(file string, depth int, r *record) error {
	t := r.toks
	if len(t) < 2 {
		return p.errorf(file, r.line, "include: missing file name")
	}
	if err := p.trailing(file, t[2:], t[1].line, "include file name"); err != nil {
		return err
	}
	pat := t[1].text
	if pat == "" {
		return p.errorf(file, t[1].line, "include: empty file name")
	}
	if !filepath.IsAbs(pat) {
		pat = filepath.Join(filepath.Dir(file), pat)
	}
	if depth+1 > p.opts.MaxInclude {
		return p.errorf(file, t[1].line, "include nesting deeper than %d", p.opts.MaxInclude)
	}
	var files []string
	globbed := hasMeta(pat)
	if globbed {
		m, err := p.fsys.Glob(pat)
		if err != nil {
			return &ParseError{File: file, Line: t[1].line, Msg: fmt.Sprintf("include %s: %v", pat, err), Err: err}
		}
		files = visible(pat, m)
	} else {
		files = []string{pat}
	}
	for _, f := range files {
		key := fileKey(f)
		for _, o := range p.open {
			if o == key {
				return p.errorf(file, t[1].line, "include loop: %s is already being read", f)
			}
		}
		data, err := p.fsys.ReadFile(f)
		if err != nil {
			if globbed && errors.Is(err, errIsDir) {
				continue
			}
			return &ParseError{File: file, Line: t[1].line, Msg: fmt.Sprintf("include %s: %s", f, errText(err)), Err: err}
		}
		if err := p.parseFile(f, data, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// hasMeta reports whether a path contains glob(3) metacharacters.
func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[\`) }

// visible drops the matches glob(3) would not return: names starting with
// "." matched by a pattern element that does not itself start with ".".
func visible(pattern string, matches []string) []string {
	pe := strings.Split(filepath.ToSlash(pattern), "/")
	var out []string
	for _, m := range matches {
		me := strings.Split(filepath.ToSlash(m), "/")
		hidden := false
		if len(me) == len(pe) {
			for i := range me {
				if strings.HasPrefix(me[i], ".") && !strings.HasPrefix(pe[i], ".") && hasMeta(pe[i]) {
					hidden = true
					break
				}
			}
		}
		if !hidden {
			out = append(out, m)
		}
	}
	return out
}

// fileKey identifies a file for include loop detection.
func fileKey(name string) string {
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return filepath.Clean(name)
}

// secretKeywords are the words that start a secret; seeing one among the
// indices means the ":" was forgotten.
func isSecretKeyword(s string) bool {
	switch strings.ToUpper(s) {
	case "PSK", "RSA", "XAUTH":
		return true
	}
	return false
}

// entry processes "[index ...] : secret".
func (p *parser) entry(file string, r *record) error {
	t := r.toks
	sec := &Secret{File: file, Line: r.line}
	i := 0
	for {
		if i == len(t) {
			return p.errorf(file, t[len(t)-1].line, "missing ':' between the indices and the secret")
		}
		tok := t[i]
		if tok.is(":") {
			i++
			break
		}
		switch {
		case !tok.quoted && isSecretKeyword(tok.text):
			return p.errorf(file, tok.line, "missing ':' before %s", strings.ToUpper(tok.text))
		case tok.quoted && !strings.Contains(tok.text, "="):
			return p.errorf(file, tok.line, "missing ':' before the secret (a quoted index must be a DN such as \"C=CH, O=Example, CN=host\")")
		case !tok.quoted && hasDataPrefix(tok.text) && !strings.Contains(tok.text, "."):
			return p.errorf(file, tok.line, "missing ':' before the secret")
		}
		text, sep := tok.text, false
		if !tok.quoted && len(text) > 1 && strings.HasSuffix(text, ":") {
			// "As a nod to convention", a trailing ':' is the separator,
			// unless the whole word is an IPv6 address ending in "::".
			if _, err := netip.ParseAddr(text); err != nil {
				text, sep = text[:len(text)-1], true
			}
		}
		id, err := parseID(text, tok.quoted)
		if err != nil {
			return p.errorf(file, tok.line, "index %q: %v", text, err)
		}
		sec.ids = append(sec.ids, id)
		sec.IDs = append(sec.IDs, id.text)
		i++
		if sep {
			break
		}
	}
	if i == len(t) {
		return p.errorf(file, t[len(t)-1].line, "missing secret after ':'")
	}
	n, err := p.secret(file, sec, t, i)
	if err != nil {
		return err
	}
	if err := p.trailing(file, t[n:], t[n-1].line, "the secret"); err != nil {
		return err
	}
	p.store.secrets = append(p.store.secrets, sec)
	return nil
}

// otherKinds are secret kinds of other ipsec.secrets dialects; naming them
// in an error is safe (they are keywords, not secrets).
var otherKinds = map[string]bool{"PIN": true, "ECDSA": true, "EAP": true, "NTLM": true, "P12": true, "BLISS": true, "PKCS8": true, "PPK": true}

// secret parses the secret starting at t[i] into sec and returns the index
// of the first token after it.
func (p *parser) secret(file string, sec *Secret, t []token, i int) (int, error) {
	tok := t[i]
	if tok.quoted {
		v, err := secretValue(tok)
		if err != nil {
			return 0, p.errorf(file, tok.line, "PSK: %v", err)
		}
		sec.Kind, sec.PSK = PSK, v
		return i + 1, nil
	}
	switch kw := strings.ToUpper(tok.text); kw {
	case "PSK", "XAUTH":
		sec.Kind = PSK
		if kw == "XAUTH" {
			sec.Kind = XAUTH
		}
		if i+1 == len(t) {
			return 0, p.errorf(file, tok.line, "%s: missing secret", sec.Kind)
		}
		v, err := secretValue(t[i+1])
		if err != nil {
			return 0, p.errorf(file, t[i+1].line, "%s: %v", sec.Kind, err)
		}
		sec.PSK = v
		return i + 2, nil
	case "RSA":
		sec.Kind = RSA
		if i+1 == len(t) {
			return 0, p.errorf(file, tok.line, "RSA: missing '{' or key file name")
		}
		if t[i+1].is("{") {
			return p.rsaBlock(file, sec, t, i+1)
		}
		return p.rsaFile(file, sec, t, i+1)
	default:
		if hasDataPrefix(tok.text) {
			v, err := secretValue(tok)
			if err != nil {
				return 0, p.errorf(file, tok.line, "PSK: %v", err)
			}
			sec.Kind, sec.PSK = PSK, v
			return i + 1, nil
		}
		if otherKinds[kw] {
			return 0, p.errorf(file, tok.line, "secret kind %s is not supported (PSK, RSA or XAUTH)", kw)
		}
		// The word may be a mistyped keyword or an unquoted secret: do not
		// echo it.
		return 0, p.errorf(file, tok.line, "unknown secret kind (expected PSK, RSA, XAUTH, a quoted string or 0x/0s/0t data)")
	}
}

// secretValue decodes a PSK or XAUTH value: a quoted string taken verbatim,
// or 0x/0s/0t data.
func secretValue(tok token) ([]byte, error) {
	var v []byte
	if tok.quoted {
		v = []byte(tok.text)
	} else {
		var err error
		if v, err = decodeData(tok.text); err != nil {
			return nil, err
		}
	}
	if len(v) == 0 {
		return nil, errors.New("empty secret")
	}
	return v, nil
}
