package ipsecconf

import (
	"fmt"
	"slices"
	"strings"
)

// Value is a keyword's value and where it was written (for a conn, possibly
// in a section it took it from through also= or %default).
type Value struct {
	Value string
	Pos   Pos
}

// Config is a loaded ipsec.conf.
type Config struct {
	// File is the main file; Files every file read, includes too.
	File  string
	Files []string
	// Setup is the config setup section (empty when there is none).
	Setup *Setup
	// Conns are the conn sections other than %default, in file order,
	// each with also= and %default applied.
	Conns []*Conn
}

// Setup is the config setup section.
type Setup struct {
	Pos    Pos
	values map[string]Value
}

// Get returns the value of a keyword of config setup.
func (s *Setup) Get(key string) (Value, bool) {
	v, ok := s.values[key]
	if ok && v.Value == "" {
		return v, false
	}
	return v, ok
}

// Conn is a conn section with also= and %default applied.
type Conn struct {
	Name   string
	Pos    Pos // the conn line
	values map[string]Value
}

// Get returns the value of a keyword (unset when absent or given empty).
func (c *Conn) Get(key string) (Value, bool) {
	v, ok := c.values[key]
	if ok && v.Value == "" {
		return v, false
	}
	return v, ok
}

// Auto is the conn's auto= value ("ignore" when unset); ondemand is route.
func (c *Conn) Auto() string {
	v, ok := c.Get("auto")
	if !ok {
		return "ignore"
	}
	a := strings.ToLower(v.Value)
	if a == "ondemand" {
		return "route"
	}
	return a
}

func (c *Conn) label() string { return fmt.Sprintf("conn %q", c.Name) }

// errorf is an error about the conn at pos (the conn line when pos is zero).
func (c *Conn) errorf(pos Pos, keyword, format string, a ...any) *Error {
	if pos.File == "" {
		pos = c.Pos
	}
	return &Error{Pos: pos, Section: c.label(), Keyword: keyword, Msg: fmt.Sprintf(format, a...)}
}

// Conn returns the conn named name, or nil.
func (cfg *Config) Conn(name string) *Conn {
	for _, c := range cfg.Conns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Load reads an ipsec.conf file and what it includes, checks every keyword
// and value, resolves also= and conn %default, and checks each conn as far
// as it can be checked without resolving host names (Conn.Check; conns
// with auto=ignore and no left= or right= are left for later). Errors
// are an ErrorList naming file, line, section and keyword.
func Load(path string) (*Config, error) {
	p := &parser{}
	p.readFile(path, 0, nil)
	cfg := &Config{File: path, Files: p.files, Setup: &Setup{values: map[string]Value{}}}
	errs := p.errs
	defaults := map[string]Value{}
	raw := map[string]*section{}
	var setupSeen *section
	for _, s := range p.sections {
		switch {
		case s.kind == "config":
			if setupSeen != nil {
				errs = append(errs, &Error{Pos: s.pos, Msg: fmt.Sprintf("second config setup section (first at %s)", setupSeen.pos)})
				continue
			}
			setupSeen = s
			cfg.Setup.Pos = s.pos
			for _, e := range s.kvs {
				cfg.Setup.values[e.key] = Value{e.val, e.pos}
			}
		case s.name == "%default":
			for _, e := range s.kvs {
				if prev, ok := defaults[e.key]; ok {
					errs = append(errs, &Error{Pos: e.pos, Section: s.label(), Keyword: e.key,
						Msg: fmt.Sprintf("keyword %q already has a default (at %s)", e.key, prev.Pos)})
					continue
				}
				defaults[e.key] = Value{e.val, e.pos}
			}
		default:
			if prev := raw[s.name]; prev != nil {
				errs = append(errs, &Error{Pos: s.pos, Msg: fmt.Sprintf("duplicate conn %q (first at %s)", s.name, prev.pos)})
				continue
			}
			raw[s.name] = s
			cfg.Conns = append(cfg.Conns, &Conn{Name: s.name, Pos: s.pos})
		}
	}
	for _, c := range cfg.Conns {
		values := map[string]Value{}
		if err := resolveAlso(raw, raw[c.Name], values, []string{c.Name}, true); err != nil {
			errs = append(errs, err)
		}
		for k, v := range defaults {
			if _, ok := values[k]; !ok {
				values[k] = v
			}
		}
		c.values = values
	}
	if len(errs) == 0 {
		errs = append(errs, cfg.Setup.check()...)
		for _, c := range cfg.Conns {
			// A conn that is not loaded at start and lacks an end is a
			// base for also= (or Openswan's policy-group stubs): it is
			// checked when it is added.
			_, l := c.Get("left")
			_, r := c.Get("right")
			if c.Auto() == "ignore" && !(l && r) {
				continue
			}
			if err := c.Check(); err != nil {
				errs = append(errs, err.(*Error))
			}
		}
	}
	if len(errs) > 0 {
		return cfg, errs
	}
	return cfg, nil
}

// resolveAlso adds s's keywords to values (those already there win), then
// those of the conns it names with also=, in order. auto= is not taken
// from an also= section (only from the conn itself or %default), so that a
// base section's auto=ignore does not switch off the conns that use it.
func resolveAlso(raw map[string]*section, s *section, values map[string]Value, chain []string, top bool) *Error {
	for _, e := range s.kvs {
		if e.key == "also" || (!top && e.key == "auto") {
			continue
		}
		if _, ok := values[e.key]; !ok {
			values[e.key] = Value{e.val, e.pos}
		}
	}
	for _, e := range s.kvs {
		if e.key != "also" {
			continue
		}
		target := raw[e.val]
		if target == nil {
			return &Error{Pos: e.pos, Section: s.label(), Keyword: "also", Msg: fmt.Sprintf("also=%s: no conn %q", e.val, e.val)}
		}
		for _, n := range chain {
			if n == e.val {
				return &Error{Pos: e.pos, Section: s.label(), Keyword: "also",
					Msg: fmt.Sprintf("also=%s: loop (%s -> %s)", e.val, strings.Join(chain, " -> "), e.val)}
			}
		}
		if err := resolveAlso(raw, target, values, append(slices.Clone(chain), e.val), false); err != nil {
			return err
		}
	}
	return nil
}
