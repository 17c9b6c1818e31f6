package ipsecconf

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PlutoOptions is how config setup says pluto is to be started.
type PlutoOptions struct {
	// Args are pluto's options (without --nofork, --ctlbase and, unless
	// secretsfile= is set, --secretsfile).
	Args []string
	// LogFile (logfile=, plutostderrlog=): pluto runs with --stderrlog and
	// its standard error appended to this file. "" means syslog.
	LogFile string
	// MyID (myid=) is sent with whack --myid once pluto runs.
	MyID string
	// Warnings are settings accepted but without effect here.
	Warnings []string
}

func (s *Setup) errorf(v Value, keyword, format string, a ...any) *Error {
	return &Error{Pos: v.Pos, Section: "config setup", Keyword: keyword, Msg: fmt.Sprintf(format, a...)}
}

// check applies the rules of config setup that involve more than one value.
func (s *Setup) check() []*Error {
	var errs []*Error
	if v, ok := s.Get("ikev1-policy"); ok && !strings.EqualFold(v.Value, "accept") {
		errs = append(errs, s.errorf(v, "ikev1-policy", "ikev1-policy=%s: goswan speaks IKEv1 only, so it must be accept", v.Value))
	}
	if a, ok := s.Get("logfile"); ok {
		if b, ok := s.Get("plutostderrlog"); ok && a.Value != b.Value {
			errs = append(errs, s.errorf(b, "plutostderrlog", "plutostderrlog=%s conflicts with logfile=%s (at %s)", b.Value, a.Value, a.Pos))
		}
	}
	return errs
}

// PlutoOptions translates config setup into pluto's command line:
//
//	protostack=netkey|xfrm   --use-netkey      (nostack|none: --use-nostack; auto or unset: --use-auto)
//	uniqueids=yes (default)  --uniqueids
//	plutodebug="a b"         --debug-a --debug-b
//	interfaces="..."         --interface NAME per word (VIRT=PHYS: PHYS; %defaultroute: the default route's interface; %none: none)
//	listen=ADDR              --listen ADDR
//	ikeport=N                --ikeport N       (goswan extension)
//	keylog=FILE              --keylog FILE     (goswan extension)
//	metrics=HOST:PORT        --metrics ADDR    (goswan extension)
//	secretsfile= ipsecdir=   --secretsfile --ipsecdir
//	perpeerlog= perpeerlogdir=  --perpeerlog --perpeerlogbase
//	strictcrlpolicy=yes      --strictcrlpolicy
//	plutoopts="..."          appended as they are
//
//	nat_traversal=yes        --nat_traversal
//	keep_alive=D             --keep_alive SECONDS
//	force_keepalive=yes      --force_keepalive
//	disable_port_floating=yes  --disable_port_floating
//
// virtual_private= is accepted with a warning (not implemented).
func (s *Setup) PlutoOptions(r Resolver) (*PlutoOptions, error) {
	if r == nil {
		r = DefaultResolver
	}
	o := &PlutoOptions{}
	add := func(a ...string) { o.Args = append(o.Args, a...) }
	stack := "auto"
	if v, ok := s.Get("protostack"); ok {
		stack = strings.ToLower(v.Value)
	}
	switch stack {
	case "netkey", "xfrm":
		add("--use-netkey")
	case "nostack", "none":
		add("--use-nostack")
	default:
		add("--use-auto")
	}
	if v, ok := s.Get("uniqueids"); !ok {
		add("--uniqueids")
	} else if b, _ := yesNo(v.Value); b {
		add("--uniqueids")
	}
	if v, ok := s.Get("plutodebug"); ok {
		for _, w := range strings.Fields(v.Value) {
			if d := debugWords[strings.ToLower(w)]; d != "" {
				add("--debug-" + d)
			}
		}
	}
	if v, ok := s.Get("interfaces"); ok {
		for _, w := range strings.Fields(v.Value) {
			switch {
			case w == "%none":
			case w == "%defaultroute":
				rt, err := r.DefaultRoute(false)
				if err != nil {
					o.Warnings = append(o.Warnings, fmt.Sprintf("%s: interfaces=%%defaultroute: %v; listening on every interface", v.Pos, err))
					continue
				}
				add("--interface", rt.Interface)
			default:
				if _, phys, ok := strings.Cut(w, "="); ok {
					w = phys
				}
				add("--interface", w)
			}
		}
	}
	for _, kw := range []struct{ key, opt string }{
		{"listen", "--listen"}, {"ikeport", "--ikeport"}, {"keylog", "--keylog"}, {"metrics", "--metrics"},
		{"secretsfile", "--secretsfile"}, {"ipsecdir", "--ipsecdir"}, {"perpeerlogdir", "--perpeerlogbase"},
	} {
		if v, ok := s.Get(kw.key); ok {
			add(kw.opt, v.Value)
		}
	}
	for _, kw := range []struct{ key, opt string }{{"perpeerlog", "--perpeerlog"}, {"strictcrlpolicy", "--strictcrlpolicy"}} {
		if v, ok := s.Get(kw.key); ok {
			if b, _ := yesNo(v.Value); b {
				add(kw.opt)
			}
		}
	}
	if v, ok := s.Get("logfile"); ok {
		o.LogFile = v.Value
	} else if v, ok := s.Get("plutostderrlog"); ok {
		o.LogFile = v.Value
	}
	if o.LogFile != "" {
		add("--stderrlog")
	}
	if v, ok := s.Get("myid"); ok {
		o.MyID = v.Value
	}
	for _, kw := range []struct{ key, opt string }{
		{"nat_traversal", "--nat_traversal"}, {"force_keepalive", "--force_keepalive"},
		{"disable_port_floating", "--disable_port_floating"},
	} {
		if v, ok := s.Get(kw.key); ok {
			if b, _ := yesNo(v.Value); b {
				add(kw.opt)
			}
		}
	}
	if v, ok := s.Get("keep_alive"); ok {
		d, err := parseDuration(v.Value)
		if err != nil || d < time.Second {
			return nil, s.errorf(v, "keep_alive", "bad value keep_alive=%q: at least 1 second", v.Value)
		}
		add("--keep_alive", strconv.Itoa(int(d/time.Second)))
	}
	if v, ok := s.Get("virtual_private"); ok {
		o.Warnings = append(o.Warnings, fmt.Sprintf("%s: virtual_private= is not implemented (peers behind a NAT may use any private address); ignored", v.Pos))
	}
	if v, ok := s.Get("plutoopts"); ok {
		words, err := splitWords(v.Value)
		if err != nil {
			return nil, s.errorf(v, "plutoopts", "bad value plutoopts=%q: %v", v.Value, err)
		}
		add(words...)
	}
	return o, nil
}

// splitWords splits on blanks, with '...' quoting (the value of plutoopts=
// is double-quoted already).
func splitWords(s string) ([]string, error) {
	var out []string
	var w strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			quoted, in = !quoted, true
		case (c == ' ' || c == '\t') && !quoted:
			if in {
				out = append(out, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated ' quote")
	}
	if in {
		out = append(out, w.String())
	}
	return out, nil
}
