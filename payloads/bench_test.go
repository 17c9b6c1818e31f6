package payloads

import (
	"testing"

	"goswan/spec"
)

func benchDecode(b *testing.B, in []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := DecodeMessage(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMainMode decodes Main Mode 1 (SA + 5 VIDs).
func BenchmarkDecodeMainMode(b *testing.B) { benchDecode(b, frame(b, ssVector, "frame 1")) }

// BenchmarkDecodeMainModeKE decodes Main Mode 3 (KE NONCE NAT-D NAT-D).
func BenchmarkDecodeMainModeKE(b *testing.B) { benchDecode(b, frame(b, ssVector, "frame 3")) }

// BenchmarkDecodeQuickMode decodes the decrypted QM2 body (HASH SA NONCE ID ID).
func BenchmarkDecodeQuickMode(b *testing.B) {
	in := plaintext(b, "qm2")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := DecodePayloads(spec.PayloadHash, in, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeMainMode re-encodes a decoded Main Mode 1.
func BenchmarkEncodeMainMode(b *testing.B) {
	m, err := DecodeMessage(frame(b, ssVector, "frame 1"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Encode()
	}
}

// BenchmarkEncodeQuickMode builds a Quick Mode message from decoded QM2
// payloads (header + HASH SA NONCE ID ID).
func BenchmarkEncodeQuickMode(b *testing.B) {
	ps, _, err := DecodePayloads(spec.PayloadHash, plaintext(b, "qm2"), true)
	if err != nil {
		b.Fatal(err)
	}
	h := Header{Exchange: spec.ExchangeQuick, Flags: spec.FlagEncryption, MessageID: 1}
	b.ReportAllocs()
	for b.Loop() {
		Build(h, ps...)
	}
}
