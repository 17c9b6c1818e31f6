package payloads

import (
	"fmt"

	"goswan/spec"
)

// Resource caps applied while decoding (see the package documentation).
// Exceeding one is a decoding error: PAYLOAD_MALFORMED for the chain, Delete
// and ATTR payloads, BAD_PROPOSAL_SYNTAX inside an SA payload.
const (
	MaxPayloads   = 64  // payloads in one next-payload chain
	MaxProposals  = 64  // proposals in one SA payload
	MaxTransforms = 255 // transforms in one SA payload, all proposals together
	MaxAttributes = 128 // data attributes in one transform or ATTR payload
	MaxDeleteSPIs = 256 // SPIs in one Delete payload
)

// Error is a decoding failure. Notify is the ISAKMP Notification a
// responder would send for it (RFC 2408 §3.14.1); Payload is the payload
// being decoded (PayloadNone for the header and the chain as a whole);
// Offset is the octet offset of the offending field in the buffer given to
// the decoder (for Message.SetDecrypted, in the message as if the plaintext
// replaced the ciphertext, that is counting the 28 header octets).
type Error struct {
	Notify  spec.NotifyType
	Payload spec.PayloadType
	Offset  int
	Err     error
}

func (e *Error) Error() string {
	if e.Payload == spec.PayloadNone {
		return fmt.Sprintf("payloads: offset %d: %v (%s)", e.Offset, e.Err, e.Notify)
	}
	return fmt.Sprintf("payloads: %s payload at offset %d: %v (%s)", e.Payload, e.Offset, e.Err, e.Notify)
}

func (e *Error) Unwrap() error { return e.Err }

// errorf builds an *Error; it returns the error interface so that callers
// can never produce a typed nil.
func errorf(n spec.NotifyType, t spec.PayloadType, off int, format string, args ...any) error {
	return &Error{Notify: n, Payload: t, Offset: off, Err: fmt.Errorf(format, args...)}
}
