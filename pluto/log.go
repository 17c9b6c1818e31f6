package pluto

import (
	"fmt"
	"io"
	"log/syslog"
	"strings"
	"sync"
)

// Debug is the set of --debug-* categories.
type Debug uint32

const (
	DebugRaw Debug = 1 << iota
	DebugCrypt
	DebugParsing
	DebugEmitting
	DebugControl
	DebugLifecycle
	DebugKlips
	DebugDNS
	DebugOppo
	DebugControlMore
	DebugPrivate
	DebugNATT
	DebugDPD
	DebugX509
	DebugPFKey
	DebugAll Debug = DebugPrivate - 1 | DebugNATT | DebugDPD | DebugX509 | DebugPFKey // all but private
)

var debugNames = map[string]Debug{
	"raw": DebugRaw, "crypt": DebugCrypt, "parsing": DebugParsing, "emitting": DebugEmitting,
	"control": DebugControl, "lifecycle": DebugLifecycle, "klips": DebugKlips, "dns": DebugDNS,
	"oppo": DebugOppo, "controlmore": DebugControlMore, "private": DebugPrivate, "natt": DebugNATT,
	"dpd": DebugDPD, "x509": DebugX509, "pfkey": DebugPFKey, "all": DebugAll, "none": 0,
}

// ParseDebug applies debug category names ("all", "none", "control", ...).
func ParseDebug(d Debug, names []string) (Debug, error) {
	for _, n := range names {
		n = strings.TrimPrefix(n, "debug-")
		v, ok := debugNames[n]
		if !ok {
			return d, fmt.Errorf("unknown debug category %q", n)
		}
		if n == "none" {
			d = 0
			continue
		}
		d |= v
	}
	return d, nil
}

// String lists the categories that are on: "none" or "control+lifecycle".
func (d Debug) String() string {
	if d == 0 {
		return "none"
	}
	var s []string
	for _, n := range []string{"raw", "crypt", "parsing", "emitting", "control", "lifecycle", "klips", "dns", "oppo", "controlmore", "private", "natt", "dpd", "x509", "pfkey"} {
		if d&debugNames[n] != 0 {
			s = append(s, n)
		}
	}
	return strings.Join(s, "+")
}

// Logger writes pluto's log: to syslog (facility authpriv) or, with
// --stderrlog, to standard error. Debug lines start with "| ".
type Logger struct {
	mu    sync.Mutex
	w     io.Writer
	sys   *syslog.Writer
	debug Debug
}

// NewStderrLogger logs to w.
func NewStderrLogger(w io.Writer) *Logger { return &Logger{w: w} }

// NewSyslogLogger logs to syslog, facility authpriv.
func NewSyslogLogger() (*Logger, error) {
	s, err := syslog.New(syslog.LOG_AUTHPRIV|syslog.LOG_WARNING, "pluto")
	if err != nil {
		return nil, err
	}
	return &Logger{sys: s}, nil
}

// Logf logs one line.
func (l *Logger) Logf(format string, a ...any) { l.write(fmt.Sprintf(format, a...), false) }

// Debugf logs one debugging line ("| " prefixed).
func (l *Logger) Debugf(format string, a ...any) { l.write("| "+fmt.Sprintf(format, a...), true) }

// maxLogLine bounds a log line (pluto's LOG_WIDTH): peers choose much of
// what is logged (identities, proposals), and a log line is no place for
// 60 KB of it (CVE-2020-1763: bound the log paths too).
const maxLogLine = 1024

// logSafe bounds s and replaces control characters, so that nothing from
// the wire can forge a log line of its own.
func logSafe(s string) string {
	clean := len(s) <= maxLogLine
	for i := 0; clean && i < len(s); i++ {
		if s[i] < 0x20 && s[i] != '\t' || s[i] == 0x7f {
			clean = false
		}
	}
	if clean {
		return s
	}
	b := []byte(s[:min(len(s), maxLogLine)])
	for i, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			b[i] = '?'
		}
	}
	if len(s) > maxLogLine {
		b = fmt.Appendf(b, "... (%d more octets)", len(s)-maxLogLine)
	}
	return string(b)
}

func (l *Logger) write(s string, debug bool) {
	s = logSafe(s)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sys != nil {
		if debug {
			l.sys.Debug(s)
		} else {
			l.sys.Warning(s)
		}
		return
	}
	if l.w != nil {
		io.WriteString(l.w, s+"\n")
	}
}
