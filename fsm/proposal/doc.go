// Package proposal is pluto's proposal policy for IKEv1: it parses the
// algorithm strings of ipsec.conf and whack (ike=, esp=/phase2alg=, ah=),
// builds the SA payloads an initiator sends, selects the transform a
// responder accepts, and checks the answer an initiator receives.
//
// Everything is a pure function of its arguments: no I/O, no clock, no
// state. Peer input is never trusted: every function returns an error (never
// panics) on any SA payload the payloads decoder accepts, and the fuzz
// target FuzzSelect checks that.
//
// # Algorithm strings
//
// ike= is a comma-separated list of CIPHER[-HASH][-GROUP] or
// CIPHER[-HASH];GROUP ("aes128-sha1-modp2048", "3des-md5;modp1024",
// "aes256-sha2_256", "aes-sha1"). esp= (phase2alg=) is a comma-separated
// list of CIPHER[-INTEG] with an optional PFS group, written ";GROUP" (pluto)
// or "-GROUP" (strongSwan); all groups of one string must agree. ah= is a
// comma-separated list of INTEG. Names are case-insensitive.
//
//	ciphers (IKE, ESP)  3des, aes (= aes128), aes128, aes192, aes256
//	                    (also aes_cbc, aes_cbc128, aes_cbc_128, aes_128 ...)
//	AEAD (ESP only)     aes_gcm8|12|16[_128|_192|_256] (strongSwan:
//	                    aes128gcm16 ...); aes_gcm = aes_gcm16_128
//	hashes/integrity    md5, sha1 (sha), sha2_256 (sha256, sha2),
//	                    sha2_384 (sha384), sha2_512 (sha512); ESP
//	                    integrity is HMAC with the RFC 2404/4868
//	                    truncation (96, 128, 192, 256 bits)
//	groups              modp1024 (dh2), modp1536 (dh5), modp2048 (dh14),
//	                    modp3072..modp8192 (dh15..dh18), ecp256, ecp384,
//	                    ecp521 (dh19..dh21); modp768 (dh1) is refused as
//	                    too weak, every group must be one oakley.GroupByID
//	                    supports
//
// Choices made where pluto, libreswan and strongSwan differ:
//
//   - "aes" without a key length is aes128, in ike= as in esp= (Openswan
//     2.6: the cipher's default key length). libreswan expands it to 256 and
//     128; write "aes128,aes256" for that.
//   - A missing hash expands to sha2_256 then sha1, a missing group to
//     modp2048 then modp1536, a missing ESP integrity to sha2_256 then sha1.
//     The expansion nests cipher, then hash, then group: "aes128" is
//     aes128-sha2_256-modp2048, aes128-sha2_256-modp1536,
//     aes128-sha1-modp2048, aes128-sha1-modp1536.
//   - Duplicates are dropped (the first stays); a string that expands to
//     more than MaxAlgs algorithms is an error.
//
// Defaults, when the connection has no ike= or esp=:
//
//	DefaultIKE  aes128, aes256, 3des  x  sha2_256, sha1  x  modp2048, modp1536
//	            (12 transforms, in that nesting order: the preferred cipher
//	            first, and within it the stronger hash and group first)
//	DefaultESP  aes128-sha2_256, aes128-sha1, aes256-sha2_256, aes256-sha1,
//	            aes_gcm16_128, aes_gcm16_256, 3des-sha1
//	DefaultAH   sha2_256, sha1
//
// # What is sent (BuildPhase1SA, BuildPhase2SA)
//
// The layout follows pluto's out_sa (Openswan 2.6 spdb_struct.c, libreswan
// 4.x ikev1_spdb_struct.c) and is checked byte for byte against libreswan
// 4.10's recorded MI1 and QI1 (testdata/recorded.txt):
//
//   - DOI IPsec, SIT_IDENTITY_ONLY, one proposal conjunction numbered
//     ProposalNumber (0, as pluto numbers them: "for (pcn = 0; ...)
//     proposal.isap_proposal = pcn"), transforms numbered from 0.
//   - Phase 1: one PROTO_ISAKMP proposal, SPI size 0, one KEY_IKE transform
//     per algorithm with OAKLEY_LIFE_TYPE seconds, OAKLEY_LIFE_DURATION,
//     ENCRYPTION_ALGORITHM, HASH_ALGORITHM, AUTHENTICATION_METHOD,
//     GROUP_DESCRIPTION, [KEY_LENGTH for AES].
//   - Phase 2: AH, ESP, IPComp proposals (those the policy asks for) sharing
//     the proposal number: an "AND" bundle (RFC 2408 §4.2). ESP and AH
//     transforms carry [GROUP_DESCRIPTION with PFS], ENCAPSULATION_MODE,
//     SA_LIFE_TYPE seconds, SA_LIFE_DURATION, AUTH_ALGORITHM (not for
//     AEAD), [KEY_LENGTH for AES]. The IPComp proposal has a 2-octet CPI and
//     one IPCOMP_DEFLATE transform with [ENCAPSULATION_MODE, tunnel mode
//     only: IPComp defaults to transport], SA_LIFE_TYPE, SA_LIFE_DURATION.
//   - Durations are TV when they fit 16 bits, else a 4-octet TLV (pluto's
//     out_attr); lifetimes beyond 2^32-1 seconds are clamped.
//
// # What is accepted (SelectPhase1, SelectPhase2 and the Accept functions)
//
// Proposals and transforms are examined in the peer's order and the first
// acceptable one wins (pluto). A few defects fail the whole SA payload, as
// in pluto, with the notification in *Error:
//
//	DOI other than IPsec                            DOI_NOT_SUPPORTED
//	situation other than SIT_IDENTITY_ONLY          SITUATION_NOT_SUPPORTED
//	a repeated attribute (a second life type/
//	duration pair of the other type is allowed),
//	a life duration without a life type before it,
//	a life type without a duration after it          BAD_PROPOSAL_SYNTAX
//	phase 1: a transform without encryption, hash,
//	authentication or group                         BAD_PROPOSAL_SYNTAX
//	phase 2: an ESP/AH transform without
//	ENCAPSULATION_MODE, an AH transform without or
//	with a mismatching AUTH_ALGORITHM, transforms
//	with different GROUP_DESCRIPTIONs, two
//	proposals of one protocol in one bundle          BAD_PROPOSAL_SYNTAX
//	phase 2: a protocol other than AH, ESP, IPComp  INVALID_PROTOCOL_ID
//	phase 2: an AH/ESP SPI below 0x100, a CPI
//	outside 0x100..0xefff that is not the
//	well-known IPCOMP_DEFLATE, a 4-octet CPI field
//	whose high octets are not zero                  INVALID_SPI
//
// Anything else only makes a transform (or bundle) unacceptable, and when
// nothing is acceptable the answer is NO_PROPOSAL_CHOSEN with a reason that
// lists what the peer offered and what the policy accepts.
//
// Phase 1 (responder): proposals whose protocol is not PROTO_ISAKMP and
// transforms whose id is not KEY_IKE are skipped; more than one proposal is
// allowed (libreswan) and the first acceptable transform of the first
// proposal that has one wins. A transform is acceptable when its cipher,
// key length, hash and group are one of the policy's algorithms and its
// authentication method is the policy's. XAUTH and hybrid methods, OAKLEY_PRF,
// custom groups (group type, prime, generators, curves, order), field size
// and unknown attributes make it unacceptable. AES needs KEY_LENGTH 128, 192
// or 256; 3DES accepts no KEY_LENGTH but 192 (CVE-2011-3380). The lifetime
// is the proposed number of seconds (3600 when absent, pluto's default)
// capped at maxLifetime (no cap when maxLifetime <= 0); a zero duration is
// not acceptable; kilobyte lifetimes are accepted and ignored. The reply is
// the received proposal with only the chosen transform, its attributes
// echoed as received (RFC 2409 §5, pluto).
//
// Phase 2 (responder): consecutive proposals with the same number are one
// bundle; zero-transform proposals are skipped (pluto). The first bundle
// wins whose members each have an acceptable transform (the first one in
// the proposal) and which covers the policy: ESP exactly when p.ESP is not
// empty, AH exactly when p.AH is not empty. IPComp is accepted whenever it
// is offered with an IPCOMP_DEFLATE transform, whatever p.Compress says
// (pluto: "compress=no" still accepts a compression proposal), provided the
// caller passes a CPI: pass ourCPI == nil when compression is impossible and
// bundles containing IPComp are then skipped. PFS: all transforms carry the
// same group (or none); when p.PFSGroup is set the peer must propose exactly
// that group; when it is not (pfs=no) a proposed group is still accepted
// (pluto) if oakley supports it and it is not modp768. ENCAPSULATION_MODE
// must equal p.Mode for ESP and AH (IPComp's is not checked: pluto only
// logs a disagreement); the UDP encapsulation modes of NAT-T are not
// accepted yet. AES-CBC and AES-GCM without KEY_LENGTH mean 128 bits
// (pluto); AEAD transforms must not carry AUTH_ALGORITHM; other ESP
// transforms must. Unknown attributes (KEY_ROUNDS, compression dictionary,
// ECN, ESN ...) make a transform unacceptable. The lifetime is the smallest
// proposed seconds of the chosen transforms (28800 when absent, RFC 2407
// §4.5) capped at maxLifetime. The reply holds the chosen bundle, AH then
// ESP then IPComp as pluto emits it, each with our SPI/CPI and the chosen
// transform echoed.
//
// Initiator (AcceptPhase1Reply, AcceptPhase2Reply): the answer must hold
// one proposal (one bundle) with exactly one transform per protocol
// (BAD_PROPOSAL_SYNTAX otherwise) that is acceptable under the policy we
// offered (NO_PROPOSAL_CHOSEN otherwise); proposal and transform numbers are
// not compared with ours, because strongSwan renumbers them (it answers
// libreswan's proposal 0 with proposal 1). In phase 2 the protocols must be
// the ones we asked for (IPComp may be dropped by the peer, never added) and
// the PFS group must equal ours (none for none). A phase-2 answer with more
// than one bundle is taken as pluto takes it: the first acceptable bundle
// wins (strongSwan answers an IPComp offer with its choice, ESP and IPComp
// under one number, followed by the same ESP alone under the next).
package proposal
