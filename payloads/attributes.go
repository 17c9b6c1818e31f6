package payloads

// Data Attributes (RFC 2408 §3.3), used in Transform payloads (Oakley
// attributes of RFC 2409 Appendix A, IPsec DOI attributes of RFC 2407 §4.5)
// and in the ModeCfg ATTR payload.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!A!       Attribute Type        !    AF=0  Attribute Length     !
//	!F!                             !    AF=1  Attribute Value      !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                   AF=0  Attribute Value                       .
//	.                   AF=1  Not Transmitted                       .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// AF=1 is Type/Value (TV, "basic"): a two-octet value in the header. AF=0 is
// Type/Length/Value (TLV, "variable"). Attributes are packed with no padding.

import (
	"encoding/binary"

	"goswan/spec"
)

// Attribute is one data attribute.
type Attribute struct {
	Type uint16 // attribute class, without the AF bit
	TV   bool   // AF=1: Value is the two-octet value of the header
	// Value: for TV the two value octets, for TLV the value (any length,
	// possibly empty). Decoded values alias the input.
	Value []byte
}

// NewTV returns a TV (basic) attribute.
func NewTV(t, v uint16) Attribute {
	return Attribute{Type: t &^ spec.AttrTVBit, TV: true, Value: binary.BigEndian.AppendUint16(make([]byte, 0, 2), v)}
}

// NewTLV returns a TLV (variable) attribute carrying v.
func NewTLV(t uint16, v []byte) Attribute {
	return Attribute{Type: t &^ spec.AttrTVBit, Value: v}
}

// NewVariable returns an attribute of a variable-length class (life
// durations, RFC 2409 Appendix A, RFC 2407 §4.5) for value v: TV when it
// fits in 16 bits, else TLV of four octets, or eight when it needs them.
func NewVariable(t uint16, v uint64) Attribute {
	switch {
	case v <= 0xffff:
		return NewTV(t, uint16(v))
	case v <= 0xffffffff:
		return NewTLV(t, binary.BigEndian.AppendUint32(make([]byte, 0, 4), uint32(v)))
	}
	return NewTLV(t, binary.BigEndian.AppendUint64(make([]byte, 0, 8), v))
}

// Uint returns the value as a big-endian unsigned integer; ok is false when
// it is longer than eight octets. An empty TLV value is 0.
func (a Attribute) Uint() (v uint64, ok bool) {
	if len(a.Value) > 8 {
		return 0, false
	}
	for _, c := range a.Value {
		v = v<<8 | uint64(c)
	}
	return v, true
}

// Append appends the encoding of a to b. It panics if a TV value is not two
// octets or a TLV value is longer than 65535 octets.
func (a Attribute) Append(b []byte) []byte {
	t := a.Type &^ spec.AttrTVBit
	if a.TV {
		if len(a.Value) != 2 {
			panic("payloads: TV attribute value must be 2 octets")
		}
		return append(append16(b, t|spec.AttrTVBit), a.Value...)
	}
	if len(a.Value) > 0xffff {
		panic("payloads: TLV attribute value longer than 65535 octets")
	}
	return append(append16(append16(b, t), uint16(len(a.Value))), a.Value...)
}

// AppendAttributes appends the encoding of as to b.
func AppendAttributes(b []byte, as []Attribute) []byte {
	for i := range as {
		b = as[i].Append(b)
	}
	return b
}

// DecodeAttributes decodes a packed attribute list that fills b exactly
// (PAYLOAD_MALFORMED otherwise, or when it holds more than MaxAttributes).
// The values alias b; the result is nil for an empty list.
func DecodeAttributes(b []byte) ([]Attribute, error) {
	return decodeAttributes(b, 0, spec.PayloadNone, spec.PayloadMalformed)
}

// decodeAttributes counts, then fills one exactly sized slice. Errors name
// payload type pt and notification n, offsets are shifted by off.
func decodeAttributes(b []byte, off int, pt spec.PayloadType, n spec.NotifyType) ([]Attribute, error) {
	count, err := walkAttributes(b, off, nil, pt, n)
	if err != nil || count == 0 {
		return nil, err
	}
	as := make([]Attribute, count)
	walkAttributes(b, off, as, pt, n)
	return as, nil
}

// walkAttributes validates the list in b and returns the number of
// attributes; when dst is non-nil (and long enough) it also fills it.
func walkAttributes(b []byte, off int, dst []Attribute, pt spec.PayloadType, n spec.NotifyType) (int, error) {
	count := 0
	for len(b) > 0 {
		if count == MaxAttributes {
			return 0, errorf(n, pt, off, "more than %d attributes", MaxAttributes)
		}
		if len(b) < 4 {
			return 0, errorf(n, pt, off, "truncated attribute header: %d octets left", len(b))
		}
		t := uint16(be16(b))
		var a Attribute
		var l int
		if t&spec.AttrTVBit != 0 {
			a = Attribute{Type: t &^ spec.AttrTVBit, TV: true, Value: b[2:4]}
			l = 4
		} else {
			vl := be16(b[2:])
			if vl > len(b)-4 {
				return 0, errorf(n, pt, off, "attribute %d: TLV length %d overruns the %d octets left",
					t, vl, len(b)-4)
			}
			a = Attribute{Type: t, Value: b[4 : 4+vl]}
			l = 4 + vl
		}
		if dst != nil {
			dst[count] = a
		}
		count++
		b = b[l:]
		off += l
	}
	return count, nil
}

// Lookup returns the first attribute of class t in as.
func Lookup(as []Attribute, t uint16) (Attribute, bool) {
	t &^= spec.AttrTVBit
	for _, a := range as {
		if a.Type == t {
			return a, true
		}
	}
	return Attribute{}, false
}
