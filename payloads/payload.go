package payloads

// Generic Payload Header (RFC 2408 §3.2), first four octets of every payload
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Payload Length counts the generic header too, so it is at least 4.

import (
	"encoding/binary"

	"goswan/spec"
)

// Payload is one decoded (or locally built) payload. The concrete types are
// pointers: *SA, *KE, *ID, *Cert, *CR, *Hash, *Sig, *Nonce, *Notify,
// *Delete, *VendorID, *Attr, *NATD, *NATOA and *Unknown.
type Payload interface {
	// Type is the payload type that announces this payload in the
	// previous next-payload field.
	Type() spec.PayloadType
	// Raw is the payload exactly as received, generic header included;
	// nil for a payload built locally until Build or EncodePayloads
	// encodes it.
	Raw() []byte
	// Body is Raw()[4:]: the received body, what RFC 2409 calls SAi_b,
	// IDii_b, Ni_b. Hashes are computed over it, never over a re-encoding.
	Body() []byte
	// AppendBody appends the body encoded from the exported fields (no
	// generic header) to b.
	AppendBody(b []byte) []byte
}

// Generic is embedded in every payload type: it holds the received bytes and
// the RESERVED octet of the generic payload header.
type Generic struct {
	raw []byte
	// Reserved is the generic header's RESERVED octet as received. RFC
	// 2408 sends zero; like pluto, the decoder tolerates other values and
	// keeps them so that re-encoding is exact.
	Reserved uint8
}

// Raw returns the payload as received, generic header included.
func (g *Generic) Raw() []byte { return g.raw }

// Body returns the received payload without its generic header.
func (g *Generic) Body() []byte {
	if len(g.raw) < spec.GenericHeaderLen {
		return nil
	}
	return g.raw[spec.GenericHeaderLen:]
}

func (g *Generic) generic() *Generic { return g }

// hasGeneric is implemented by every payload type of this package.
type hasGeneric interface{ generic() *Generic }

// decoder is implemented by every payload type of this package: decode
// fills the type-specific fields from body, whose first octet is at offset
// off in the decoder's input (for error reports).
type decoder interface {
	Payload
	hasGeneric
	decode(t spec.PayloadType, body []byte, off int) error
}

// Understood reports whether this package decodes payload type t into a
// typed payload; anything else is kept as *Unknown.
func Understood(t spec.PayloadType) bool { return kindOf(t) != kindUnknown }

type kind uint8

const (
	kindUnknown kind = iota
	kindSA
	kindKE
	kindID
	kindCert
	kindCR
	kindHash
	kindSig
	kindNonce
	kindNotify
	kindDelete
	kindVID
	kindAttr
	kindNATD
	kindNATOA
	numKinds
)

func kindOf(t spec.PayloadType) kind {
	switch t {
	case spec.PayloadSA:
		return kindSA
	case spec.PayloadKE:
		return kindKE
	case spec.PayloadID:
		return kindID
	case spec.PayloadCert:
		return kindCert
	case spec.PayloadCR:
		return kindCR
	case spec.PayloadHash:
		return kindHash
	case spec.PayloadSig:
		return kindSig
	case spec.PayloadNonce:
		return kindNonce
	case spec.PayloadN:
		return kindNotify
	case spec.PayloadD:
		return kindDelete
	case spec.PayloadVID:
		return kindVID
	case spec.PayloadAttr:
		return kindAttr
	case spec.PayloadNATD, spec.PayloadNATDDraft:
		return kindNATD
	case spec.PayloadNATOA, spec.PayloadNATOADraft:
		return kindNATOA
	}
	return kindUnknown
}

// RejectUnknown applies pluto's policy for payload types it does not know
// (RFC 2408 §5.1): it returns an *Error with INVALID_PAYLOAD_TYPE naming the
// first *Unknown in ps, or nil when there is none. The error's Offset counts
// from the start of the chain (the first octet of ps[0]).
func RejectUnknown(ps []Payload) error {
	off := 0
	for _, p := range ps {
		if u, ok := p.(*Unknown); ok {
			return errorf(spec.InvalidPayloadType, u.PayloadType, off,
				"payload type %d is not understood", uint8(u.PayloadType))
		}
		off += len(p.Raw())
	}
	return nil
}

// pool hands out elements of one slice, allocated on first use with the
// number of payloads of that kind the chain holds, so that a chain costs one
// allocation per payload kind rather than one per payload.
type pool[T any] []T

func (p *pool[T]) next(n int) *T {
	if len(*p) == 0 {
		*p = make([]T, n)
	}
	x := &(*p)[0]
	*p = (*p)[1:]
	return x
}

func be16(b []byte) int    { return int(binary.BigEndian.Uint16(b)) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

func append16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
func append32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// putLen writes the length of b[start:] as a 16-bit field at b[at:],
// panicking if it does not fit (an encoder misuse, see the package doc).
func putLen(b []byte, start, at int, what string) {
	n := len(b) - start
	if n > 0xffff {
		panic("payloads: " + what + " longer than 65535 octets")
	}
	binary.BigEndian.PutUint16(b[at:], uint16(n))
}
