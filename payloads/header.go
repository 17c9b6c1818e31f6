package payloads

// ISAKMP Header (RFC 2408 §3.1)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                          Initiator                            !
//	!                            Cookie                             !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                          Responder                            !
//	!                            Cookie                             !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                          Message ID                           !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                            Length                             !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import (
	"encoding/binary"

	"goswan/spec"
)

// Version is the version octet of IKEv1 messages: major 1, minor 0.
const Version = spec.MajorVersion<<4 | spec.MinorVersion

// Header is the fixed 28-octet ISAKMP header.
type Header struct {
	ICookie, RCookie [spec.CookieLen]byte
	NextPayload      spec.PayloadType // type of the first payload
	Version          uint8            // major<<4 | minor: 0x10
	Exchange         spec.ExchangeType
	Flags            uint8 // spec.FlagEncryption, spec.FlagCommit, spec.FlagAuthOnly
	MessageID        uint32
	Length           uint32 // whole message, header included
}

// ParseHeader decodes the first 28 octets of b. It checks only that they
// are there (PAYLOAD_MALFORMED otherwise); DecodeMessage checks the rest.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < spec.HeaderLen {
		return Header{}, errorf(spec.PayloadMalformed, spec.PayloadNone, 0,
			"truncated ISAKMP header: %d octets, need %d", len(b), spec.HeaderLen)
	}
	var h Header
	copy(h.ICookie[:], b[0:8])
	copy(h.RCookie[:], b[8:16])
	h.NextPayload = spec.PayloadType(b[16])
	h.Version = b[17]
	h.Exchange = spec.ExchangeType(b[18])
	h.Flags = b[19]
	h.MessageID = binary.BigEndian.Uint32(b[20:24])
	h.Length = binary.BigEndian.Uint32(b[24:28])
	return h, nil
}

// Append appends the 28-octet encoding of h to b, fields as they are (no
// length is computed).
func (h *Header) Append(b []byte) []byte {
	b = append(b, make([]byte, spec.HeaderLen)...)
	h.put(b[len(b)-spec.HeaderLen:])
	return b
}

// put writes h into b[:28].
func (h *Header) put(b []byte) {
	_ = b[27]
	copy(b[0:8], h.ICookie[:])
	copy(b[8:16], h.RCookie[:])
	b[16] = byte(h.NextPayload)
	b[17] = h.Version
	b[18] = byte(h.Exchange)
	b[19] = h.Flags
	binary.BigEndian.PutUint32(b[20:24], h.MessageID)
	binary.BigEndian.PutUint32(b[24:28], h.Length)
}

// Major returns the major version (1 for IKEv1, 2 for IKEv2).
func (h *Header) Major() uint8 { return h.Version >> 4 }

// Minor returns the minor version.
func (h *Header) Minor() uint8 { return h.Version & 0x0f }

// Encrypted reports whether the E flag is set: the body is ciphertext.
func (h *Header) Encrypted() bool { return h.Flags&spec.FlagEncryption != 0 }
