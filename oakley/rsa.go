// RSA signatures of IKEv1 signature authentication (RFC 2409 §5.1): the SIG
// payload carries a PKCS#1 v1.5 signature (RFC 8017 §8.2) of HASH_I or
// HASH_R itself, with no DigestInfo around it, as pluto and strongSwan do.

package oakley

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
)

// SignHash signs the raw authentication hash (HASH_I or HASH_R) with
// PKCS#1 v1.5 padding and no DigestInfo (RFC 2409 §5.1). The signature is
// exactly as long as the modulus. PKCS#1 v1.5 signing is deterministic;
// crypto/rsa blinds the private operation itself.
func SignHash(priv *rsa.PrivateKey, hash []byte) ([]byte, error) {
	if priv == nil {
		return nil, errors.New("oakley: nil RSA private key")
	}
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.Hash(0), hash)
	if err != nil {
		return nil, fmt.Errorf("oakley: RSA signature: %w", err)
	}
	return sig, nil
}

// VerifyHash verifies a SIG payload body against the expected
// authentication hash (RFC 2409 §5.1). It is strict: the signature must be
// exactly as long as the modulus, and crypto/rsa re-encodes the expected
// padded block and compares it whole, so no garbage can hide in the padding
// or after the hash (the lesson of CVE-2018-15836 and the earlier
// Bleichenbacher-2006 parsing bugs). A signature that wraps the hash in a
// DigestInfo does not verify.
func VerifyHash(pub *rsa.PublicKey, hash, sig []byte) error {
	if pub == nil || pub.N == nil {
		return errors.New("oakley: nil RSA public key")
	}
	if len(sig) != pub.Size() {
		return fmt.Errorf("oakley: RSA signature is %d bytes, modulus is %d", len(sig), pub.Size())
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.Hash(0), hash, sig); err != nil {
		return fmt.Errorf("oakley: RSA signature does not verify: %w", err)
	}
	return nil
}
