// Package testvectors holds recorded IKEv1 exchanges between strongSwan 5.9.8
// and libreswan 4.10, with the key material both daemons logged, as embedded
// data, so that tests of other packages run without the recording harness.
//
// Each vector is one Main Mode + Quick Mode negotiation followed by the
// Delete informationals, captured on the west veth (192.0.2.1; east is
// 192.0.2.2), all on UDP 500. The vectors are:
//
//	lsw-ss-aes128-sha1-modp2048         libreswan (west) initiates, strongSwan (east) responds, PSK
//	lsw-ss-rsasig-aes128-sha1-modp2048  the same with RSA signatures (config/west.pub, east.pub)
//	ss-lsw-3des-md5-modp1536-pfs        strongSwan (east) initiates, libreswan (west) responds, PSK, QM PFS
//	ss-ss-3des-md5-modp1024-pfs         strongSwan (west) to strongSwan (east), PSK, QM PFS
//	ss-ss-aes128-sha1-modp2048          strongSwan (west) to strongSwan (east), PSK
//
// ESP uses the IKE cipher and integrity algorithm of the vector (and its DH
// group for PFS). Every recording has exactly one Quick Mode. See
// data/README.md for the files of a vector.
//
// # Where the expected values come from
//
// libreswan 4.10 keeps g^xy, SKEYID* and the phase-1 key inside NSS and does
// not log them, so Vector.Keys and most of Expected come from the
// strongSwan side's keys file (Vector.KeysFile; with two strongSwans, the
// initiator's). Values visible on the wire come from the messages:
//
//	Expected field   source
//	CkyI             header of message 1, octets 0-7
//	CkyR             header of message 2, octets 8-15
//	GXi, Ni          KE (4) and NONCE (10) payload bodies of the plaintext
//	                 Main Mode message from the initiator (MM3)
//	GXr, Nr          the same from the responder (MM4)
//	GXY              "shared Diffie Hellman secret"
//	SKEYID           "SKEYID"
//	SKEYIDd/a/e      "SKEYID_d", "SKEYID_a", "SKEYID_e"
//	EncKey           "encryption key Ka" (SKEYID_e cut or expanded per
//	                 RFC 2409 Appendix B to the cipher's key length)
//	IV               "initial IV" (hash(g^xi | g^xr) cut to the block size)
//	HashI, HashR     "HASH_I", "HASH_R"
//
//	QuickExpected    source (the i-th value of the label for the i-th QM)
//	MsgID            header of the Quick Mode messages
//	GXY              "DH secret" (only with PFS)
//	Hash1/2/3        "Hash(1)", "Hash(2)", "Hash(3)"
//	SPIi, SPIr       notes.md "Quick Mode SPIs (initiator view, ...)":
//	                 inbound = SPIi, outbound = SPIr (else from the seeds)
//	Protocol         octet after the PFS g^xy in "initiator SA seed"
//	SeedIR           "initiator SA seed"  = [g^xy |] protocol | SPIr | Ni_b | Nr_b
//	SeedRI           "responder SA seed"  = [g^xy |] protocol | SPIi | Ni_b | Nr_b
//	EncKeyIR         "encryption initiator key"
//	IntegKeyIR       "integrity initiator key"
//	EncKeyRI         "encryption responder key"
//	IntegKeyRI       "integrity responder key"
//
// In strongSwan's log "initiator" in "initiator SA seed" and "encryption
// initiator key" means the SA that carries traffic from the IKE initiator to
// the responder: its seed holds the SPI the responder chose (SPIr), and its
// keys are KEYMAT computed with SPIr. The package tests check this by
// recomputing KEYMAT = prf(SKEYID_d, seed) | ... from SKEYID_d and the
// decrypted Quick Mode nonces, by finding SPIi in the initiator's Quick Mode
// SA payload and SPIr in the responder's, and against the libreswan side's
// "ESP enckey"/"ESP authkey" values and the notes.md tables.
//
// The tests also re-derive SKEYID (from the PSK, or for signatures from the
// nonces and g^xy), SKEYID_d/a/e, the encryption key and IV, decrypt Main Mode
// messages 5 and 6 and the Quick Mode, recompute HASH_I, HASH_R and HASH(1),
// HASH(2), HASH(3), and verify the RSA signatures of the signature vector, so
// every value in Expected is known to be consistent with the messages.
//
// Keys keeps every label of the strongSwan keys file with all its values in
// log order, including those Expected does not name ("plain" and
// "encrypted" message bodies, "IV", "next IV for MID 0", "next IV for MID
// <decimal message ID>", "HASH_I data", "HASH_R data", "natd_hash", ...).
package testvectors
