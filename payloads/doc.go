// Package payloads decodes and encodes ISAKMP (IKEv1) messages: the fixed
// header of RFC 2408 §3.1 and every payload an IKEv1 daemon meets (RFC 2408
// §3.2-§3.15, RFC 2407 §4.6, RFC 2409, RFC 3947 NAT-D/NAT-OA and the
// ModeCfg/XAUTH attribute payload of draft-ietf-ipsec-isakmp-mode-cfg).
//
// Each payload type lives in its own file, headed by its RFC diagram:
//
//	header.go     ISAKMP header                 RFC 2408 §3.1
//	payload.go    generic payload header        RFC 2408 §3.2
//	message.go    the next-payload chain, Message, Build, PayloadSpan
//	attributes.go data attributes (TV/TLV)      RFC 2408 §3.3
//	sa.go         SA, Proposal, Transform        RFC 2408 §3.4-§3.6, RFC 2407 §4.6.1
//	ke.go         KE                            RFC 2408 §3.7
//	id.go         ID                            RFC 2408 §3.8, RFC 2407 §4.6.2
//	cert.go       CERT                          RFC 2408 §3.9
//	certreq.go    CR                            RFC 2408 §3.10
//	hash.go       HASH                          RFC 2408 §3.11
//	sig.go        SIG                           RFC 2408 §3.12
//	nonce.go      NONCE                         RFC 2408 §3.13
//	notify.go     N                             RFC 2408 §3.14
//	delete.go     D                             RFC 2408 §3.15
//	vendorid.go   VID                           RFC 2408 §3.16
//	attr.go       ATTR (ModeCfg, type 14)       draft-ietf-ipsec-isakmp-mode-cfg-05 §3.2
//	natd.go       NAT-D (20, draft 130)         RFC 3947 §3.2
//	natoa.go      NAT-OA (21, draft 131)        RFC 3947 §5.2
//	unknown.go    anything else, kept raw
//
// # Aliasing
//
// Decoding never copies: every []byte in a decoded payload (Raw, Body, Data,
// SPI, attribute values, ...) is a sub-slice of the buffer that was decoded.
// The caller must not modify or reuse that buffer while the payloads are in
// use, and must copy (bytes.Clone) whatever it keeps longer. Raw and Body are
// the bytes exactly as received, so hashes (HASH_I over SAi_b and IDii_b,
// Quick Mode HASH(1) over the rest of the message) are computed over them and
// never over a re-encoding. Build and EncodePayloads point Raw of the payloads
// they encode at the bytes they produced.
//
// # Decoding is syntactic
//
// The decoder checks structure (lengths, substructure chains, counts, sizes
// fixed by the RFCs) and reports failures as *Error carrying the
// Notification a responder would send. It does not check semantics that need
// configuration or state (which transforms are acceptable, whether a payload
// is expected in this exchange, SPI values, DOI/situation support): those
// belong to the daemon. It never panics and never reads out of bounds, on any
// input (see the fuzz targets).
//
// # Reserved fields
//
// RFC 2408 says RESERVED fields are sent as zero; pluto reads all of them as
// "zero, ignore violations" (ft_zig in libreswan's packet.c). This package
// does the same: a nonzero reserved field is accepted and kept, so that
// re-encoding a decoded message reproduces it byte for byte. Where they are
// kept:
//
//	generic payload header RESERVED       Generic.Reserved (every payload)
//	Proposal RESERVED                     Proposal.Reserved
//	Transform RESERVED / RESERVED2        Transform.Reserved / Transform.Reserved2
//	NAT-OA RESERVED (3 octets after type) NATOA.Reserved2
//	ATTR RESERVED (after Type)            Attr.Reserved2
//
// Locally built payloads leave them zero.
//
// # Unknown payload types
//
// RFC 2408 §5.1 says a message with an unknown next-payload type is answered
// with INVALID-PAYLOAD-TYPE, and pluto does so; other implementations skip
// such payloads. Because every ISAKMP payload starts with the same generic
// header, the chain can always be walked past a payload of unknown type, so
// the decoder keeps it as an *Unknown holding the raw body, and lets the
// daemon decide: RejectUnknown returns the INVALID_PAYLOAD_TYPE *Error that
// pluto's behaviour calls for (the Proposal and Transform types 2 and 3 are
// not valid at the outer level and count as unknown there; so does the IKEv1
// fragment payload 132, which a daemon reassembles before ordinary decoding).
//
// # Resource bounds
//
// A hostile datagram cannot make the decoder allocate much: payloads per
// chain are capped by MaxPayloads, proposals per SA by MaxProposals,
// transforms per SA by MaxTransforms, attributes per list by MaxAttributes
// and SPIs per Delete by MaxDeleteSPIs. Within those caps every decoded
// element is backed by at least four input octets, so the decoded structures
// stay within a small constant factor (about eight) of the input size. The
// chain walk follows next-payload fields, each payload advances by at least
// its four-octet header, so no input can loop.
//
// # Encoding
//
// Every payload type encodes from its exported fields (Payload.AppendBody);
// next-payload and length fields are always recomputed. Attributes keep their
// TV or TLV form as received (a four-octet TLV life duration stays TLV even
// if it would fit TV). Encoders panic on values that cannot be represented
// on the wire (a payload longer than 65535 octets, more than 255 transforms
// or SPI octets, a TV attribute whose value is not two octets, a Delete SPI
// whose length is not SPISize): those are programming errors, and a decoded
// message never contains them.
package payloads
