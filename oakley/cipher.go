// Phase 1 encryption: the encryption key and IV derivation of RFC 2409
// Appendix B, CBC encryption of ISAKMP message bodies (RFC 2408 §3.1 "E"
// flag, RFC 2409 Appendix B) and AES-CBC in IKE (RFC 3602 §5).

package oakley

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"encoding/binary"
	"errors"
	"fmt"

	"goswan/spec"
)

// Cipher describes a negotiated phase 1 encryption algorithm: CBC mode with
// the given key length and block size, both in bytes.
type Cipher struct {
	ID        spec.OakleyEncryption
	KeyLen    int // bytes
	BlockSize int // bytes
}

// NewCipher validates an OAKLEY_ENCRYPTION_ALGORITHM / OAKLEY_KEY_LENGTH pair
// (keyLenBits is 0 when the attribute is absent) and returns its Cipher.
//
//   - 3DES-CBC: fixed 192-bit key; keyLenBits must be 0 or 192.
//   - AES-CBC: keyLenBits must be 128, 192 or 256. RFC 3602 §5.3 requires
//     the Key Length attribute, so 0 is rejected.
//
// Key lengths are validated per cipher (the CVE-2011-3380 lesson: an
// unchecked peer key length must never reach the cipher). Any other algorithm
// is an error.
func NewCipher(id spec.OakleyEncryption, keyLenBits int) (Cipher, error) {
	switch id {
	case spec.Oakley3DESCBC:
		if keyLenBits != 0 && keyLenBits != 192 {
			return Cipher{}, fmt.Errorf("oakley: invalid key length %d for %v", keyLenBits, id)
		}
		return Cipher{ID: id, KeyLen: 24, BlockSize: des.BlockSize}, nil
	case spec.OakleyAESCBC:
		switch keyLenBits {
		case 128, 192, 256:
			return Cipher{ID: id, KeyLen: keyLenBits / 8, BlockSize: aes.BlockSize}, nil
		case 0:
			return Cipher{}, fmt.Errorf("oakley: %v requires a key length attribute", id)
		}
		return Cipher{}, fmt.Errorf("oakley: invalid key length %d for %v", keyLenBits, id)
	}
	return Cipher{}, fmt.Errorf("oakley: unsupported encryption algorithm %v", id)
}

// EncryptionKey returns the phase 1 encryption key of keyLen bytes
// (RFC 2409 Appendix B). When SKEYID_e is long enough its first keyLen bytes
// are the key; otherwise it is expanded:
//
//	Ka = K1 | K2 | K3 | ...   truncated to keyLen
//	K1 = prf(SKEYID_e, 0)     (a single zero octet)
//	K2 = prf(SKEYID_e, K1)
//	K3 = prf(SKEYID_e, K2)
//
// This is the behaviour of pluto and strongSwan (for example 3DES with MD5).
func EncryptionKey(p PRF, skeyidE []byte, keyLen int) []byte {
	if keyLen <= 0 {
		return []byte{}
	}
	if len(skeyidE) >= keyLen {
		return append([]byte(nil), skeyidE[:keyLen]...)
	}
	n := p.size
	out := make([]byte, 0, (keyLen+n-1)/n*n)
	m := p.mac(skeyidE)
	m.Write([]byte{0})
	out = m.Sum(out)
	for len(out) < keyLen {
		m.Reset()
		m.Write(out[len(out)-n:])
		out = m.Sum(out)
	}
	return out[:keyLen:keyLen]
}

// Phase1IV returns the IV for the first encrypted Main Mode (or Aggressive
// Mode) message (RFC 2409 Appendix B): the plain hash, not the prf, of the
// two public values, truncated to the cipher block size:
//
//	IV = hash(g^xi | g^xr)
//
// blockSize must be positive and not exceed p.Size(); it panics otherwise
// (every supported hash is at least 16 bytes, every supported block at most
// 16, so only a programming error can trigger it).
func Phase1IV(p PRF, gxi, gxr []byte, blockSize int) []byte {
	checkBlockSize(p, blockSize)
	return p.Digest(gxi, gxr)[:blockSize:blockSize]
}

func checkBlockSize(p PRF, blockSize int) {
	if blockSize <= 0 || blockSize > p.size {
		panic(fmt.Sprintf("oakley: BUG: IV block size %d with a %d-byte hash", blockSize, p.size))
	}
}

// Phase2IV returns the first IV of a Quick Mode or Informational exchange
// with message ID msgid (RFC 2409 Appendix B):
//
//	IV = hash(last phase 1 CBC output block | M-ID)
//
// where M-ID is in network byte order and the last phase 1 block is the last
// ciphertext block of the final Main Mode message (the "next IV" of the
// phase 1 chain). blockSize must not exceed p.Size() (see [Phase1IV]).
func Phase2IV(p PRF, lastPhase1Block []byte, msgid uint32, blockSize int) []byte {
	var mid [4]byte
	binary.BigEndian.PutUint32(mid[:], msgid)
	checkBlockSize(p, blockSize)
	return p.Digest(lastPhase1Block, mid[:])[:blockSize:blockSize]
}

// block returns the block cipher keyed with key.
func (c Cipher) block(key []byte) (cipher.Block, error) {
	if len(key) != c.KeyLen {
		return nil, fmt.Errorf("oakley: %v key is %d bytes, want %d", c.ID, len(key), c.KeyLen)
	}
	switch c.ID {
	case spec.Oakley3DESCBC:
		return des.NewTripleDESCipher(key)
	case spec.OakleyAESCBC:
		return aes.NewCipher(key)
	}
	return nil, fmt.Errorf("oakley: unsupported encryption algorithm %v", c.ID)
}

// errNotBlocks is returned by Decrypt for a body that is empty or not a
// whole number of blocks.
var errNotBlocks = errors.New("oakley: encrypted body is not a positive multiple of the block size")

// Decrypt decrypts an encrypted ISAKMP message body (everything after the
// header) in CBC mode. It returns the plaintext, padding included, and the
// IV for the next message of the same CBC chain: the last ciphertext block
// (RFC 2409 Appendix B). Padding is not stripped: IKEv1 padding is whatever
// follows the payload chain, which the payload parser finds.
//
// It fails when the ciphertext is empty or not a multiple of the block size,
// or when key or iv has the wrong length. ciphertext is not modified.
func (c Cipher) Decrypt(key, iv, ciphertext []byte) (plaintext, nextIV []byte, err error) {
	bs := c.BlockSize
	if bs <= 0 || len(ciphertext) == 0 || len(ciphertext)%bs != 0 {
		return nil, nil, errNotBlocks
	}
	if len(iv) != bs {
		return nil, nil, fmt.Errorf("oakley: IV is %d bytes, want %d", len(iv), bs)
	}
	b, err := c.block(key)
	if err != nil {
		return nil, nil, err
	}
	nextIV = append([]byte(nil), ciphertext[len(ciphertext)-bs:]...)
	plaintext = make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(plaintext, ciphertext)
	return plaintext, nextIV, nil
}

// Encrypt encrypts an ISAKMP message body in CBC mode and returns the
// ciphertext and the IV for the next message of the chain (its last block).
//
// Padding follows pluto: the plaintext is padded with zero octets up to the
// next multiple of the block size, and not at all when it already is one.
// (RFC 2409 §5.3 describes padding whose last octet holds the pad length,
// for the payloads encrypted under Ke_i/Ke_r in revised public key mode;
// neither pluto nor strongSwan applies it to message encryption, and both
// find the end of the payload chain instead of trusting padding.)
// strongSwan always adds 1..BlockSize zero octets, which Decrypt accepts
// like any other padding.
//
// key and iv are always locally derived, so a wrong length is a programming
// error and Encrypt panics on it; plaintext is not modified.
func (c Cipher) Encrypt(key, iv, plaintext []byte) (ciphertext, nextIV []byte) {
	bs := c.BlockSize
	b, err := c.block(key)
	if err != nil {
		panic("oakley: BUG: Encrypt: " + err.Error())
	}
	if len(iv) != bs {
		panic(fmt.Sprintf("oakley: BUG: Encrypt: IV is %d bytes, want %d", len(iv), bs))
	}
	n := (len(plaintext) + bs - 1) / bs * bs
	if n == 0 {
		n = bs // an empty body still needs one block on the wire
	}
	ciphertext = make([]byte, n)
	copy(ciphertext, plaintext) // the tail stays zero: the padding
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(ciphertext, ciphertext)
	nextIV = append([]byte(nil), ciphertext[n-bs:]...)
	return ciphertext, nextIV
}
