// Package oakley implements the IKEv1 cryptography of RFC 2409 (and the
// groups of RFC 3526 and RFC 5903): the negotiated pseudo-random function,
// SKEYID and its derivatives, the phase 1 encryption key and IV chain of
// Appendix B, the authentication hashes of Main Mode, Quick Mode and
// Informational exchanges, Quick Mode KEYMAT, Diffie-Hellman and the raw
// PKCS#1 v1.5 RSA signatures of signature authentication.
//
// Everything here is a pure function of its arguments: no I/O, no goroutines,
// no clock. The only randomness comes from the io.Reader passed to
// [Group.GenerateKey]. The package is on the hot path of the daemon, so it
// avoids needless allocation: each call keys one HMAC and reuses it for every
// block it produces.
//
// # Conventions
//
//   - "_b" arguments (Ni_b, SAi_b, IDii_b ...) are payload bodies without the
//     generic payload header, as RFC 2409 §5 defines them.
//   - Message IDs are passed as uint32 and hashed big-endian (network order).
//   - Secret comparisons use [Equal] (constant time); the package's own source
//     never uses bytes.Equal, and a test enforces it.
//   - Functions never panic on peer-controlled input; they return errors
//     (wrapping [ErrInvalidKE] for bad key-exchange data). A few functions that
//     only ever see locally derived values (keys, IVs, block sizes) document
//     that they panic on a programming error instead.
//
// # Side channels
//
// Symmetric primitives, HMAC, crypto/ecdh and crypto/rsa come from the Go
// standard library and are constant time. MODP Diffie-Hellman uses math/big,
// which is not: its running time depends on the private exponent. The
// exponents are ephemeral (one public value and one shared secret each),
// which limits what a timing attacker can average over; a constant-time
// modular exponentiation is not available outside the standard library's
// internal packages. ECP groups do not have this caveat.
//
// # Zeroization
//
// [KeySet.Zero] and [PrivateKey.Zero] overwrite the secrets they hold. Go
// cannot guarantee zeroization: the garbage collector may have moved or
// copied the memory, and hash and cipher implementations keep internal state
// that this package cannot reach. Zero narrows the window; it is not a
// guarantee.
package oakley
