// Authentication hashes: HASH_I and HASH_R of phase 1 (RFC 2409 §5), HASH(1),
// HASH(2) and HASH(3) of Quick Mode (RFC 2409 §5.5) and the HASH(1) of
// Informational exchanges (RFC 2409 §5.7).

package oakley

import "encoding/binary"

// HashI returns the initiator's phase 1 authentication hash (RFC 2409 §5):
//
//	HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
//
// saiB is the body of the initiator's SA payload (without the generic
// payload header) and idiiB the body of its ID payload. With signature
// authentication the result is what gets signed (see [SignHash]).
func HashI(p PRF, skeyid, gxi, gxr, ckyI, ckyR, saiB, idiiB []byte) []byte {
	return p.Sum(skeyid, gxi, gxr, ckyI, ckyR, saiB, idiiB)
}

// HashR returns the responder's phase 1 authentication hash (RFC 2409 §5):
//
//	HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
//
// Note that SAi_b is the initiator's SA payload here too.
func HashR(p PRF, skeyid, gxi, gxr, ckyI, ckyR, saiB, idirB []byte) []byte {
	return p.Sum(skeyid, gxr, gxi, ckyR, ckyI, saiB, idirB)
}

// QuickHash1 returns HASH(1) of Quick Mode (RFC 2409 §5.5):
//
//	HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ])
//
// rest is the message from the first payload after the HASH payload to the
// end of the payload chain, generic headers included, padding excluded.
func QuickHash1(p PRF, skeyidA []byte, msgid uint32, rest []byte) []byte {
	var mid [4]byte
	binary.BigEndian.PutUint32(mid[:], msgid)
	return p.Sum(skeyidA, mid[:], rest)
}

// QuickHash2 returns HASH(2) of Quick Mode (RFC 2409 §5.5):
//
//	HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ])
//
// niB is the body of the initiator's Quick Mode nonce and rest the responder
// message after its HASH payload (as for [QuickHash1]).
func QuickHash2(p PRF, skeyidA []byte, msgid uint32, niB, rest []byte) []byte {
	var mid [4]byte
	binary.BigEndian.PutUint32(mid[:], msgid)
	return p.Sum(skeyidA, mid[:], niB, rest)
}

// QuickHash3 returns HASH(3) of Quick Mode (RFC 2409 §5.5):
//
//	HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
//
// where 0 is a single zero octet.
func QuickHash3(p PRF, skeyidA []byte, msgid uint32, niB, nrB []byte) []byte {
	var mid [5]byte // 0 | M-ID
	binary.BigEndian.PutUint32(mid[1:], msgid)
	return p.Sum(skeyidA, mid[:], niB, nrB)
}

// InfoHash returns the HASH(1) of an Informational exchange protected by an
// ISAKMP SA (RFC 2409 §5.7), the same formula as Quick Mode HASH(1):
//
//	HASH(1) = prf(SKEYID_a, M-ID | N/D)
//
// rest is the message after the HASH payload (the Notification or Delete
// payload, generic header included, padding excluded).
func InfoHash(p PRF, skeyidA []byte, msgid uint32, rest []byte) []byte {
	return QuickHash1(p, skeyidA, msgid, rest)
}
