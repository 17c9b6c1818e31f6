package proposal

import (
	"fmt"
	"strings"

	"goswan/spec"
)

// Error is a negotiation failure: Notify is the ISAKMP notification the
// daemon sends (RFC 2408 §3.14.1), Reason what it logs.
type Error struct {
	Notify spec.NotifyType
	Reason string
}

func (e *Error) Error() string { return "proposal: " + e.Reason }

// errorf returns an *Error as an error (never a typed nil).
func errorf(n spec.NotifyType, format string, args ...any) error {
	return &Error{Notify: n, Reason: fmt.Sprintf(format, args...)}
}

// maxListed bounds how many offered transforms an error reason describes:
// a hostile SA may hold 255 of them.
const maxListed = 8

// offerList collects descriptions of what the peer offered and why it was
// refused, for the NO_PROPOSAL_CHOSEN reason.
type offerList struct {
	items []string
	more  int
}

func (l *offerList) add(s string) {
	if len(l.items) == maxListed {
		l.more++
		return
	}
	l.items = append(l.items, s)
}

func (l *offerList) String() string {
	if len(l.items) == 0 {
		return "nothing usable"
	}
	s := strings.Join(l.items, ", ")
	if l.more > 0 {
		s += fmt.Sprintf(" and %d more", l.more)
	}
	return s
}

// joinLimited joins the String of up to maxListed elements of xs.
func joinLimited[T fmt.Stringer](xs []T) string {
	var b strings.Builder
	for i, x := range xs {
		if i == maxListed {
			fmt.Fprintf(&b, " and %d more", len(xs)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x.String())
	}
	if len(xs) == 0 {
		return "nothing"
	}
	return b.String()
}

// trimOakley removes the "oakley: " prefix of errors from package oakley so
// that they read well inside a reason.
func trimOakley(err error) string {
	return strings.TrimPrefix(err.Error(), "oakley: ")
}
