package whack

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// LineWidth bounds a reply line without its newline, as pluto's LOG_WIDTH.
const LineWidth = 1024

// Reply writes pluto's answer lines to whack. The zero Reply (no whack
// attached, e.g. a negotiation started by the kernel) discards lines.
type Reply struct{ w io.Writer }

// NewReply returns a Reply writing to w (whack's connection).
func NewReply(w io.Writer) Reply { return Reply{w: w} }

// Attached reports whether the lines go anywhere.
func (r Reply) Attached() bool { return r.w != nil }

var newlines = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// Line writes "NNN text\n" in one Write: the code as three digits (0-999),
// the text with newlines and carriage returns turned into blanks, the line
// cut at LineWidth bytes (on a UTF-8 boundary).
func (r Reply) Line(code int, text string) error {
	if code < 0 || code > 999 {
		return fmt.Errorf("whack: reply code %d is not three digits", code)
	}
	if r.w == nil {
		return nil
	}
	text = strings.TrimRight(text, "\r\n")
	text = newlines.Replace(text)
	line := fmt.Sprintf("%03d %s", code, text)
	if len(line) > LineWidth {
		cut := LineWidth
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		line = line[:cut]
	}
	_, err := io.WriteString(r.w, line+"\n")
	return err
}

// Linef is Line with a format.
func (r Reply) Linef(code int, format string, args ...any) error {
	return r.Line(code, fmt.Sprintf(format, args...))
}
