// Quick Mode keying material (RFC 2409 §5.5) and the key lengths of the
// IPsec transforms it keys (RFC 2407 §4.4 and §4.5, RFC 3602 §5.3, RFC 3686
// §5.1, RFC 4106 §8.1, RFC 4309 §7.1, RFC 4543, RFC 4868, RFC 3566).

package oakley

import (
	"fmt"

	"goswan/spec"
)

// KEYMAT returns length bytes of keying material for one IPsec SA
// (RFC 2409 §5.5):
//
//	KEYMAT = K1 | K2 | K3 | ...
//	K1 = prf(SKEYID_d, [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
//	K2 = prf(SKEYID_d, K1 | [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
//	...
//
// gxyQM is the Quick Mode Diffie-Hellman secret, nil without PFS. spi is
// the SPI of the SA being keyed, i.e. the one its receiver chose, so the two
// directions of a Quick Mode differ only in spi. niB and nrB are the Quick
// Mode nonce bodies. The encryption key comes first in KEYMAT and the
// integrity key follows it, as pluto and strongSwan take them.
func KEYMAT(p PRF, skeyidD, gxyQM []byte, proto spec.ProtocolID, spi, niB, nrB []byte, length int) []byte {
	if length <= 0 {
		return []byte{}
	}
	n := p.size
	out := make([]byte, 0, (length+n-1)/n*n)
	m := p.mac(skeyidD)
	pr := []byte{byte(proto)}
	for len(out) < length {
		if len(out) > 0 {
			m.Reset()
			m.Write(out[len(out)-n:])
		}
		m.Write(gxyQM)
		m.Write(pr)
		m.Write(spi)
		m.Write(niB)
		m.Write(nrB)
		out = m.Sum(out)
	}
	return out[:length:length]
}

// ESPKeyLen returns the number of KEYMAT bytes the ESP transform t consumes
// for its encryption (including any salt or nonce that RFCs take from
// KEYMAT), given the IPsec KEY_LENGTH attribute keyLenBits (0 when absent).
//
//   - ESP_3DES: 24; keyLenBits 0 or 192.
//   - ESP_AES (CBC, RFC 3602), ESP_CAMELLIA (RFC 4312): 16, 24 or 32; 0 means
//     128 bits, as in pluto (RFC 3602 §5.3 asks for the attribute).
//   - ESP_AES_CTR: key + 4-octet nonce (RFC 3686 §5.1).
//   - ESP_AES_GCM_8/12/16 and ESP_NULL_AUTH_AES_GMAC: key + 4-octet salt
//     (RFC 4106 §8.1, RFC 4543).
//   - ESP_AES_CCM_8/12/16: key + 3-octet salt (RFC 4309 §7.1).
//   - ESP_NULL: 0; keyLenBits must be 0.
//
// For all AES variants keyLenBits must be 0, 128, 192 or 256. Anything else,
// and any other transform, is an error.
func ESPKeyLen(t spec.TransformID, keyLenBits int) (encBytes int, err error) {
	aesKey := func() (int, error) {
		switch keyLenBits {
		case 0:
			return 16, nil
		case 128, 192, 256:
			return keyLenBits / 8, nil
		}
		return 0, fmt.Errorf("oakley: invalid key length %d for %s", keyLenBits, spec.TransformName(spec.ProtoESP, t))
	}
	switch t {
	case spec.ESP3DES:
		if keyLenBits != 0 && keyLenBits != 192 {
			return 0, fmt.Errorf("oakley: invalid key length %d for ESP_3DES", keyLenBits)
		}
		return 24, nil
	case spec.ESPAES, spec.ESPCamellia:
		return aesKey()
	case spec.ESPAESCTR, spec.ESPAESGCM8, spec.ESPAESGCM12, spec.ESPAESGCM16, spec.ESPNullAuthAESGMAC:
		k, err := aesKey()
		if err != nil {
			return 0, err
		}
		return k + 4, nil
	case spec.ESPAESCCM8, spec.ESPAESCCM12, spec.ESPAESCCM16:
		k, err := aesKey()
		if err != nil {
			return 0, err
		}
		return k + 3, nil
	case spec.ESPNull:
		if keyLenBits != 0 {
			return 0, fmt.Errorf("oakley: invalid key length %d for ESP_NULL", keyLenBits)
		}
		return 0, nil
	}
	return 0, fmt.Errorf("oakley: unsupported ESP transform %s", spec.TransformName(spec.ProtoESP, t))
}

// AuthKeyLen returns the number of KEYMAT bytes the IPsec authentication
// algorithm a consumes: the HMAC key is as long as the hash output
// (RFC 2403, RFC 2404, RFC 4868), AES-XCBC-MAC takes 16 (RFC 3566) and
// AUTH_ALGORITHM_NONE (AEAD ciphers) 0. The AES-GMAC algorithms (RFC 4543)
// take the AES key plus a 4-octet salt. Other algorithms are an error.
func AuthKeyLen(a spec.AuthAlgorithm) (int, error) {
	switch a {
	case spec.AuthAlgNone:
		return 0, nil
	case spec.AuthAlgHMACMD5:
		return 16, nil
	case spec.AuthAlgHMACSHA1:
		return 20, nil
	case spec.AuthAlgHMACSHA2256:
		return 32, nil
	case spec.AuthAlgHMACSHA2384:
		return 48, nil
	case spec.AuthAlgHMACSHA2512:
		return 64, nil
	case spec.AuthAlgAESXCBC:
		return 16, nil
	case spec.AuthAlgAES128GMAC:
		return 16 + 4, nil
	case spec.AuthAlgAES192GMAC:
		return 24 + 4, nil
	case spec.AuthAlgAES256GMAC:
		return 32 + 4, nil
	}
	return 0, fmt.Errorf("oakley: unsupported authentication algorithm %v", a)
}
