package whack

import (
	"bytes"
	"strings"
	"testing"
)

func TestReplyLine(t *testing.T) {
	tests := []struct {
		code int
		text string
		want string
	}{
		{RCSuccess, `"west-east" #1: STATE_MAIN_I4: ISAKMP SA established`, "004 \"west-east\" #1: STATE_MAIN_I4: ISAKMP SA established\n"},
		{RCComment, "", "000 \n"},
		{RCNewState + 4, "a\nb\r\nc\n", "104 a b c\n"},
		{RCNotification + 14, "NO_PROPOSAL_CHOSEN", "214 NO_PROPOSAL_CHOSEN\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := NewReply(&b).Line(tt.code, tt.text); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("Line(%d, %q) wrote %q, want %q", tt.code, tt.text, b.String(), tt.want)
		}
	}
}

func TestReplyLineWidth(t *testing.T) {
	var b bytes.Buffer
	r := NewReply(&b)
	r.Line(RCLog, strings.Repeat("y", 2000))
	if line := b.String(); len(line) != LineWidth+1 || !strings.HasSuffix(line, "y\n") {
		t.Errorf("ASCII line of %d bytes", len(line))
	}
	b.Reset()
	// "002 x" then 2-byte runes: byte 1024 is inside a rune, so the line
	// stops one byte earlier.
	r.Line(RCLog, "x"+strings.Repeat("é", 1000))
	line := b.String()
	if len(line) != LineWidth || !strings.HasSuffix(line, "é\n") || !strings.HasPrefix(line, "002 xé") {
		t.Errorf("line of %d bytes: ...%q", len(line), line[len(line)-8:])
	}
}

func TestReplyRejectsBadCode(t *testing.T) {
	var b bytes.Buffer
	for _, c := range []int{-1, 1000} {
		if err := NewReply(&b).Line(c, "x"); err == nil {
			t.Errorf("code %d accepted", c)
		}
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q", b.String())
	}
}

func TestReplyDetached(t *testing.T) {
	var r Reply
	if r.Attached() || r.Line(RCLog, "nobody listens") != nil || r.Linef(RCLog, "%d", 1) != nil {
		t.Error("the zero Reply should discard lines")
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		codes []int
		want  int
	}{
		{nil, 0},
		{[]int{0, 2, 3, 1}, 0},
		{[]int{104, 106, 108, 4, 112, 4}, 0},
		{[]int{104, 106, 108, 31, 0}, 31},
		{[]int{21}, 21},
		{[]int{4, 3, 2, 0}, 0},
		{[]int{4, 10}, 10},
		{[]int{31, 4}, 0},
		{[]int{112, 40, 41}, 112},
		{[]int{214, 2}, 214},
	}
	for _, tt := range tests {
		if got := ExitStatus(tt.codes); got != tt.want {
			t.Errorf("ExitStatus(%v) = %d, want %d", tt.codes, got, tt.want)
		}
	}
}
