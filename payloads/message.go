package payloads

// ISAKMP message (RFC 2408 §3.1, §3.2): the header, then a chain of payloads
// linked by the Next Payload field of the header and of each generic payload
// header, ending at a payload whose Next Payload is NONE (0).
//
//	+--------+-----------------+-----------------+-----+----------------+
//	| header | np1 . len1 body | np2 . len2 body | ... | 0 . lenN body  | [padding]
//	+--------+-----------------+-----------------+-----+----------------+
//	 np=type1  np1=type2         np2=type3              (decrypted only)
//
// When the E flag is set the body after the header is ciphertext; once
// decrypted it is the same chain followed by the cipher's padding.

import (
	"goswan/spec"
)

// Message is a decoded ISAKMP message.
type Message struct {
	Header Header
	// Raw is the whole datagram as received (aliases the decoder's input).
	Raw []byte
	// Payloads is the decoded chain; nil while the body is encrypted and
	// SetDecrypted has not been called.
	Payloads []Payload
	// Padding is what follows the last payload: the cipher's padding of a
	// decrypted body, or a clear message's padding to 4 octets.
	Padding []byte
}

// DecodeMessage decodes one ISAKMP datagram. It checks:
//
//   - at least 28 octets (PAYLOAD_MALFORMED);
//   - the header Length equals len(b) (UNEQUAL_PAYLOAD_LENGTHS). pluto
//     ignores extra octets after Length (old Cisco clients append 16 zero
//     octets); a daemon that wants that tolerance truncates b to
//     ParseHeader(b).Length itself before calling DecodeMessage, which keeps
//     this decoder exact: Encode reproduces every accepted datagram;
//   - major version 1 (INVALID_MAJOR_VERSION), minor version 0
//     (INVALID_MINOR_VERSION).
//
// With the E flag set the body is left undecoded (m.Body() is the
// ciphertext, Payloads nil) until SetDecrypted. Otherwise the payload chain
// is decoded, and octets after the last payload are an error
// (UNEQUAL_PAYLOAD_LENGTHS), except 1 to 3 zero octets that make the
// message a multiple of 4 long: libreswan pads its clear messages so
// (ikepad=yes, its default); they are kept in Padding. Everything decoded
// aliases b.
func DecodeMessage(b []byte) (*Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	if uint64(h.Length) != uint64(len(b)) {
		return nil, errorf(spec.UnequalPayloadLengths, spec.PayloadNone, 24,
			"header length %d, datagram length %d", h.Length, len(b))
	}
	if h.Major() != spec.MajorVersion {
		return nil, errorf(spec.InvalidMajorVersion, spec.PayloadNone, 17,
			"major version %d, want %d", h.Major(), spec.MajorVersion)
	}
	if h.Minor() != spec.MinorVersion {
		return nil, errorf(spec.InvalidMinorVersion, spec.PayloadNone, 17,
			"minor version %d, want %d", h.Minor(), spec.MinorVersion)
	}
	m := &Message{Header: h, Raw: b}
	if h.Encrypted() {
		return m, nil
	}
	ps, pad, err := decodeChain(h.NextPayload, b[spec.HeaderLen:], spec.HeaderLen, true)
	if err != nil {
		return nil, err
	}
	if len(pad) != 0 && !isIKEPad(pad, len(b)) {
		return nil, errorf(spec.UnequalPayloadLengths, spec.PayloadNone, len(b)-len(pad),
			"%d octets after the last payload", len(pad))
	}
	m.Payloads, m.Padding = ps, pad
	return m, nil
}

// isIKEPad reports whether pad, at the end of a clear message n octets
// long, is padding to a multiple of 4 octets: 1 to 3 zero octets.
func isIKEPad(pad []byte, n int) bool {
	if len(pad) > 3 || n%4 != 0 {
		return false
	}
	for _, c := range pad {
		if c != 0 {
			return false
		}
	}
	return true
}

// Body returns the octets after the header, up to the header's Length: the
// ciphertext of an encrypted message.
func (m *Message) Body() []byte {
	if len(m.Raw) < spec.HeaderLen {
		return nil
	}
	end := len(m.Raw)
	if uint64(m.Header.Length) < uint64(end) {
		end = max(int(m.Header.Length), spec.HeaderLen)
	}
	return m.Raw[spec.HeaderLen:end]
}

// SetDecrypted decodes the decrypted body of m (starting with a payload of
// type m.Header.NextPayload) and sets Payloads and Padding, which alias
// plaintext. Octets after the last payload are the cipher's padding. Error
// offsets count from the start of the message as if plaintext replaced the
// ciphertext. On error m is unchanged.
func (m *Message) SetDecrypted(plaintext []byte) error {
	ps, pad, err := decodeChain(m.Header.NextPayload, plaintext, spec.HeaderLen, true)
	if err != nil {
		return err
	}
	m.Payloads, m.Padding = ps, pad
	return nil
}

// DecodePayloads walks the next-payload chain in body starting with a
// payload of type first, until a payload whose Next Payload is NONE. With
// allowPadding (decrypted bodies) the octets after the last payload are
// returned as padding; without it they are an error
// (UNEQUAL_PAYLOAD_LENGTHS). The payloads alias body; error offsets count
// from the start of body. The returned slice is never nil on success.
func DecodePayloads(first spec.PayloadType, body []byte, allowPadding bool) (payloads []Payload, padding []byte, err error) {
	return decodeChain(first, body, 0, allowPadding)
}

// decodeChain is DecodePayloads with error offsets shifted by base.
//
// The first pass walks the generic headers only: it bounds the chain
// (MaxPayloads, lengths inside body) and counts payloads per kind, so the
// second pass can allocate the payload list and the payload structs in one
// slice per kind.
func decodeChain(first spec.PayloadType, body []byte, base int, allowPadding bool) ([]Payload, []byte, error) {
	var counts [numKinds]int
	n, off := 0, 0
	for np := first; np != spec.PayloadNone; {
		if n == MaxPayloads {
			return nil, nil, errorf(spec.PayloadMalformed, np, base+off,
				"more than %d payloads", MaxPayloads)
		}
		if len(body)-off < spec.GenericHeaderLen {
			return nil, nil, errorf(spec.PayloadMalformed, np, base+off,
				"truncated generic payload header: %d octets left", len(body)-off)
		}
		l := be16(body[off+2:])
		if l < spec.GenericHeaderLen || l > len(body)-off {
			return nil, nil, errorf(spec.PayloadMalformed, np, base+off,
				"payload length %d not within %d..%d", l, spec.GenericHeaderLen, len(body)-off)
		}
		counts[kindOf(np)]++
		n++
		np = spec.PayloadType(body[off])
		off += l
	}
	padding := body[off:]
	if len(padding) != 0 && !allowPadding {
		return nil, nil, errorf(spec.UnequalPayloadLengths, spec.PayloadNone, base+off,
			"%d octets after the last payload", len(padding))
	}

	var (
		ps      = make([]Payload, n)
		sas     pool[SA]
		kes     pool[KE]
		ids     pool[ID]
		certs   pool[Cert]
		crs     pool[CR]
		hashes  pool[Hash]
		sigs    pool[Sig]
		nonces  pool[Nonce]
		notes   pool[Notify]
		dels    pool[Delete]
		vids    pool[VendorID]
		attrs   pool[Attr]
		natds   pool[NATD]
		natoas  pool[NATOA]
		unknown pool[Unknown]
	)
	off = 0
	np := first
	for i := range ps {
		k := kindOf(np)
		var p decoder
		switch k {
		case kindSA:
			p = sas.next(counts[k])
		case kindKE:
			p = kes.next(counts[k])
		case kindID:
			p = ids.next(counts[k])
		case kindCert:
			p = certs.next(counts[k])
		case kindCR:
			p = crs.next(counts[k])
		case kindHash:
			p = hashes.next(counts[k])
		case kindSig:
			p = sigs.next(counts[k])
		case kindNonce:
			p = nonces.next(counts[k])
		case kindNotify:
			p = notes.next(counts[k])
		case kindDelete:
			p = dels.next(counts[k])
		case kindVID:
			p = vids.next(counts[k])
		case kindAttr:
			p = attrs.next(counts[k])
		case kindNATD:
			p = natds.next(counts[k])
		case kindNATOA:
			p = natoas.next(counts[k])
		default:
			p = unknown.next(counts[k])
		}
		l := be16(body[off+2:])
		raw := body[off : off+l]
		g := p.generic()
		g.raw = raw
		g.Reserved = raw[1]
		if err := p.decode(np, raw[spec.GenericHeaderLen:], base+off+spec.GenericHeaderLen); err != nil {
			return nil, nil, err
		}
		ps[i] = p
		np = spec.PayloadType(raw[0])
		off += l
	}
	return ps, padding, nil
}

// Encode re-encodes m: the header with Length recomputed, then the payloads
// marshalled from their fields, then Padding. NextPayload is taken from the
// first payload when there is one. For a decoded message this reproduces
// Raw byte for byte. A message whose body is still encrypted (E flag,
// Payloads nil) encodes as header plus ciphertext; a decrypted one encodes
// in the clear (with the E flag still set: encryption is the caller's
// business). Encode does not modify m or its payloads; Build and
// EncodePayloads are the functions that point Raw at their output.
func (m *Message) Encode() []byte {
	h := m.Header
	if m.Payloads == nil && h.Encrypted() {
		body := m.Body()
		out := make([]byte, spec.HeaderLen, spec.HeaderLen+len(body))
		out = append(out, body...)
		h.Length = uint32(len(out))
		h.put(out)
		return out
	}
	if len(m.Payloads) > 0 {
		h.NextPayload = m.Payloads[0].Type()
	}
	out := make([]byte, spec.HeaderLen, spec.HeaderLen+sizeHint(m.Payloads)+len(m.Padding))
	out = appendChain(out, m.Payloads, false)
	out = append(out, m.Padding...)
	h.Length = uint32(len(out))
	h.put(out)
	return out
}

// EncodePayloads marshals ps as a chain (each Next Payload names the
// following payload, the last is NONE) and points each payload's Raw at its
// bytes in the result.
func EncodePayloads(ps []Payload) []byte {
	return appendChain(make([]byte, 0, sizeHint(ps)), ps, true)
}

// Build encodes a whole message: h with NextPayload and Length filled in
// (and Version set to 0x10 when zero), then the chain of ps. Like
// EncodePayloads it points each payload's Raw at its bytes in the result, so
// a caller can compute a hash over PayloadSpan(ps, 1) and copy it into the
// body of a HASH payload built with a placeholder of the right length.
func Build(h Header, ps ...Payload) []byte {
	if h.Version == 0 {
		h.Version = Version
	}
	h.NextPayload = spec.PayloadNone
	if len(ps) > 0 {
		h.NextPayload = ps[0].Type()
	}
	out := make([]byte, spec.HeaderLen, spec.HeaderLen+sizeHint(ps))
	out = appendChain(out, ps, true)
	h.Length = uint32(len(out))
	h.put(out)
	return out
}

// sizeHint estimates the encoded size of ps: exact for unmodified decoded
// payloads.
func sizeHint(ps []Payload) int {
	n := 0
	for _, p := range ps {
		if r := p.Raw(); r != nil {
			n += len(r)
		} else {
			n += 64
		}
	}
	return n
}

// appendChain appends the chain of ps to b. With setRaw, each payload of
// this package gets Raw pointing into the result.
func appendChain(b []byte, ps []Payload, setRaw bool) []byte {
	start := len(b)
	prev := -1
	for _, p := range ps {
		t := p.Type()
		if t == spec.PayloadNone {
			panic("payloads: cannot encode a payload of type NONE")
		}
		if prev >= 0 {
			b[prev] = byte(t)
		}
		at := len(b)
		var rsv uint8
		if g, ok := p.(hasGeneric); ok {
			rsv = g.generic().Reserved
		}
		b = append(b, byte(spec.PayloadNone), rsv, 0, 0)
		b = p.AppendBody(b)
		putLen(b, at, at+2, p.Type().String()+" payload")
		prev = at
	}
	if setRaw {
		off := start
		for _, p := range ps {
			l := be16(b[off+2:])
			if g, ok := p.(hasGeneric); ok {
				g.generic().raw = b[off : off+l]
			}
			off += l
		}
	}
	return b
}

// Find returns the first payload of type t (exact type: the draft NAT-D
// number 130 does not match PayloadNATD), or nil.
func (m *Message) Find(t spec.PayloadType) Payload {
	for _, p := range m.Payloads {
		if p.Type() == t {
			return p
		}
	}
	return nil
}

// All returns the payloads of type t in order.
func (m *Message) All(t spec.PayloadType) []Payload {
	var out []Payload
	for _, p := range m.Payloads {
		if p.Type() == t {
			out = append(out, p)
		}
	}
	return out
}

// PayloadSpan returns the concatenation of Raw() of ps[from:], what Quick
// Mode HASH(1) and HASH(2) cover ("the entire message after the HASH
// payload", RFC 2409 §5.5). When those payloads lie back to back in one
// buffer (decoded together, or encoded by Build or EncodePayloads) the
// result is a sub-slice of that buffer and nothing is copied. It returns nil
// when from is out of range.
func PayloadSpan(ps []Payload, from int) []byte {
	if from < 0 || from >= len(ps) {
		return nil
	}
	var cur []byte // contiguous run so far
	total := 0
	contiguous := true
	for _, p := range ps[from:] {
		r := p.Raw()
		total += len(r)
		if len(r) == 0 || !contiguous {
			continue
		}
		switch {
		case len(cur) == 0:
			cur = r
		case adjacent(cur, r):
			cur = cur[:len(cur)+len(r)]
		default:
			contiguous = false
		}
	}
	if contiguous {
		return cur
	}
	out := make([]byte, 0, total)
	for _, p := range ps[from:] {
		out = append(out, p.Raw()...)
	}
	return out
}

// adjacent reports whether b starts right where a ends in the same backing
// array, and a can be extended over b.
func adjacent(a, b []byte) bool {
	if cap(a)-len(a) < len(b) {
		return false
	}
	return &a[:len(a)+1][len(a)] == &b[0]
}
