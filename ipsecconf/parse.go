package ipsecconf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// Pos is where something was written: file and line (from 1).
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Error is one problem of a configuration, located: "FILE:LINE: conn
// "NAME": unknown keyword "lefsubnet"".
type Error struct {
	Pos     Pos
	Section string // `conn "west-east"`, "config setup", or "" for the file level
	Keyword string // the keyword concerned, if any
	Msg     string
}

func (e *Error) Error() string {
	s := e.Pos.String() + ": "
	if e.Section != "" {
		s += e.Section + ": "
	}
	return s + e.Msg
}

// ErrorList is every problem found in a configuration, in file order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Limits.
const (
	maxIncludeDepth = 10
	maxFileSize     = 4 << 20
	maxErrors       = 50
)

// kv is one "keyword=value" line.
type kv struct {
	key, val string
	pos      Pos
}

// section is a "config setup" or "conn NAME" section as written.
type section struct {
	kind string // "config" or "conn"
	name string
	pos  Pos
	kvs  []kv
	seen map[string]Pos
}

func (s *section) label() string {
	if s.kind == "config" {
		return "config setup"
	}
	return fmt.Sprintf("conn %q", s.name)
}

type parser struct {
	sections []*section
	cur      *section
	version  *kv
	files    []string
	errs     ErrorList
}

func (p *parser) errorf(pos Pos, sec *section, keyword, format string, a ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	e := &Error{Pos: pos, Keyword: keyword, Msg: fmt.Sprintf(format, a...)}
	if sec != nil {
		e.Section = sec.label()
	}
	p.errs = append(p.errs, e)
}

// readFile parses one file (and what it includes). from is the include
// line, for errors about the file itself.
func (p *parser) readFile(path string, depth int, from *Pos) {
	b, err := readLimited(path)
	if err != nil {
		pos := Pos{File: path}
		if from != nil {
			pos = *from
		}
		p.errorf(pos, nil, "", "%v", err)
		return
	}
	p.files = append(p.files, path)
	// A section ends with its file: an included file starts afresh, and the
	// including file's section does not continue after the include line.
	p.cur = nil
	lines := strings.Split(string(b), "\n")
	for i, raw := range lines {
		pos := Pos{File: path, Line: i + 1}
		line, err := stripComment(strings.TrimRight(raw, "\r"))
		if err != nil {
			p.errorf(pos, p.cur, "", "%v", err)
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			p.keywordLine(strings.TrimSpace(line), pos)
			continue
		}
		p.sectionLine(line, pos, depth)
	}
	p.cur = nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cannot open %s: no such file", path)
		}
		return nil, fmt.Errorf("cannot open %s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return b, nil
}

// stripComment removes a comment: '#' at the start of the line or after
// white space, outside double quotes.
func stripComment(line string) (string, error) {
	inQuote := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '"':
			inQuote = !inQuote
		case c == '#' && !inQuote && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return strings.TrimRight(line[:i], " \t"), nil
		}
	}
	if inQuote {
		return "", errors.New("unterminated quoted string")
	}
	return strings.TrimRight(line, " \t"), nil
}

// sectionLine handles a line starting in column 1: version, config setup,
// conn NAME, include FILE.
func (p *parser) sectionLine(line string, pos Pos, depth int) {
	f := strings.Fields(line)
	switch f[0] {
	case "version":
		if len(f) != 2 || (f[1] != "2" && f[1] != "2.0") {
			p.errorf(pos, nil, "", "unsupported version line %q (this is version 2.0)", line)
			return
		}
		if p.version != nil {
			p.errorf(pos, nil, "", "second version line (first at %s)", p.version.pos)
			return
		}
		p.version = &kv{key: "version", val: f[1], pos: pos}
		p.cur = nil
	case "include":
		if len(f) != 2 {
			p.errorf(pos, nil, "", "include takes one file name (wildcards allowed), not %q", line)
			return
		}
		p.include(f[1], pos, depth)
	case "config":
		if len(f) != 2 || f[1] != "setup" {
			p.errorf(pos, nil, "", "bad section %q: the only config section is \"config setup\"", line)
			p.cur = &section{kind: "bad", seen: map[string]Pos{}}
			return
		}
		p.newSection("config", "setup", pos)
	case "conn":
		if len(f) != 2 {
			p.errorf(pos, nil, "", "bad section %q: want \"conn NAME\"", line)
			p.cur = &section{kind: "bad", seen: map[string]Pos{}}
			return
		}
		if err := checkConnName(f[1]); err != nil {
			p.errorf(pos, nil, "", "bad conn name %q: %v", f[1], err)
			p.cur = &section{kind: "bad", seen: map[string]Pos{}}
			return
		}
		p.newSection("conn", f[1], pos)
	default:
		if k, _, ok := strings.Cut(f[0], "="); ok {
			p.errorf(pos, nil, "", "keyword %q must be indented: only section lines (config setup, conn NAME, include, version) start in column 1", k)
		} else {
			p.errorf(pos, nil, "", "bad section %q: want config setup, conn NAME, include FILE or version 2.0", line)
		}
		p.cur = &section{kind: "bad", seen: map[string]Pos{}}
	}
}

func checkConnName(n string) error {
	if len(n) > 200 {
		return errors.New("longer than 200 bytes")
	}
	for _, r := range n {
		if r < 0x21 || r == 0x7f || r == '"' || r == '\'' || r == '\\' || !unicode.IsPrint(r) {
			return errors.New("quotes, backslashes and control characters are not allowed")
		}
	}
	if strings.HasPrefix(n, "%") && n != "%default" {
		return errors.New("only %default starts with %")
	}
	return nil
}

func (p *parser) newSection(kind, name string, pos Pos) {
	s := &section{kind: kind, name: name, pos: pos, seen: map[string]Pos{}}
	p.sections = append(p.sections, s)
	p.cur = s
}

// include reads the files a pattern names, relative to the including
// file's directory. A pattern with wildcards may match nothing; a plain
// name must exist.
func (p *parser) include(pattern string, pos Pos, depth int) {
	if depth+1 > maxIncludeDepth {
		p.errorf(pos, nil, "", "include %s: nested more than %d deep", pattern, maxIncludeDepth)
		return
	}
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(pos.File), pattern)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		p.errorf(pos, nil, "", "include %s: %v", pattern, err)
		return
	}
	if len(matches) == 0 {
		if !strings.ContainsAny(pattern, "*?[") {
			p.errorf(pos, nil, "", "include %s: no such file", pattern)
		}
		return
	}
	for _, m := range matches {
		p.readFile(m, depth+1, &pos)
	}
	p.cur = nil
}

// keywordLine handles an indented "keyword=value" line.
func (p *parser) keywordLine(line string, pos Pos) {
	sec := p.cur
	if sec == nil {
		p.errorf(pos, nil, "", "indented line %q outside a section (a section starts with config setup or conn NAME in column 1)", line)
		return
	}
	key, val, ok := strings.Cut(line, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" || strings.ContainsAny(key, " \t\"") {
		p.errorf(pos, sec, "", "%q is not keyword=value", line)
		return
	}
	if sec.kind == "bad" {
		return // the section line was reported
	}
	v, err := unquote(strings.TrimSpace(val))
	if err != nil {
		p.errorf(pos, sec, key, "%s=%s: %v", key, strings.TrimSpace(val), err)
		return
	}
	spec := lookupKeyword(sec.kind, key)
	if spec == nil {
		p.errorf(pos, sec, key, "unknown keyword %q", key)
		return
	}
	if first, dup := sec.seen[key]; dup && !spec.repeat {
		p.errorf(pos, sec, key, "duplicate keyword %q (first at %s)", key, first)
		return
	}
	sec.seen[key] = pos
	if v != "" && spec.check != nil {
		if err := spec.check(v); err != nil {
			p.errorf(pos, sec, key, "bad value %s=%q: %v", key, v, err)
			return
		}
	}
	if sec.kind == "conn" && sec.name == "%default" && key == "also" {
		p.errorf(pos, sec, key, "conn %%default may not contain also=")
		return
	}
	sec.kvs = append(sec.kvs, kv{key: key, val: v, pos: pos})
}

// unquote reads a value: "quoted" (no escapes), {a list}, or a word
// without blanks.
func unquote(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, `"`):
		if len(v) < 2 || !strings.HasSuffix(v, `"`) || strings.Contains(v[1:len(v)-1], `"`) {
			return "", errors.New("badly quoted value")
		}
		return v[1 : len(v)-1], nil
	case strings.HasPrefix(v, "{"):
		if !strings.HasSuffix(v, "}") {
			return "", errors.New("unterminated {list}")
		}
		return v, nil
	case strings.ContainsAny(v, " \t"):
		return "", errors.New("a value with blanks must be quoted")
	case strings.Contains(v, `"`):
		return "", errors.New("stray quote in value")
	}
	return v, nil
}
