// SKEYID and the phase 1 keying material derived from it (RFC 2409 §5).

package oakley

// SKEYIDPSK returns SKEYID for pre-shared key authentication (RFC 2409 §5):
//
//	SKEYID = prf(pre-shared-key, Ni_b | Nr_b)
func SKEYIDPSK(p PRF, psk, ni, nr []byte) []byte {
	return p.Sum(psk, ni, nr)
}

// SKEYIDSig returns SKEYID for signature authentication (RFC 2409 §5):
//
//	SKEYID = prf(Ni_b | Nr_b, g^xy)
func SKEYIDSig(p PRF, ni, nr, gxy []byte) []byte {
	key := make([]byte, 0, len(ni)+len(nr))
	key = append(key, ni...)
	key = append(key, nr...)
	out := p.Sum(key, gxy)
	clear(key)
	return out
}

// KeySet holds SKEYID and the three keys derived from it (RFC 2409 §5).
// The four slices share one backing array; each has its capacity clipped to
// its length, so appending to one never overwrites another.
type KeySet struct {
	SKEYID []byte // root secret, depends on the authentication method
	D      []byte // SKEYID_d: derives Quick Mode KEYMAT
	A      []byte // SKEYID_a: keys the HASH payloads of phase 2 and Informational
	E      []byte // SKEYID_e: source of the phase 1 encryption key (Appendix B)
}

// DeriveKeySet derives SKEYID_d, SKEYID_a and SKEYID_e from SKEYID
// (RFC 2409 §5):
//
//	SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//	SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//	SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
//
// where 0, 1 and 2 are single octets. The returned KeySet holds its own copy
// of skeyid.
func DeriveKeySet(p PRF, skeyid, gxy, ckyI, ckyR []byte) KeySet {
	n := p.size
	buf := make([]byte, len(skeyid), len(skeyid)+3*n)
	copy(buf, skeyid)
	m := p.mac(skeyid)

	m.Write(gxy)
	m.Write(ckyI)
	m.Write(ckyR)
	m.Write([]byte{0})
	buf = m.Sum(buf)
	d := buf[len(buf)-n:]

	m.Reset()
	m.Write(d)
	m.Write(gxy)
	m.Write(ckyI)
	m.Write(ckyR)
	m.Write([]byte{1})
	buf = m.Sum(buf)
	a := buf[len(buf)-n:]

	m.Reset()
	m.Write(a)
	m.Write(gxy)
	m.Write(ckyI)
	m.Write(ckyR)
	m.Write([]byte{2})
	buf = m.Sum(buf)

	s := len(skeyid)
	return KeySet{
		SKEYID: buf[:s:s],
		D:      buf[s : s+n : s+n],
		A:      buf[s+n : s+2*n : s+2*n],
		E:      buf[s+2*n : s+3*n : s+3*n],
	}
}

// Zero overwrites every key of k with zeros and clears the slices. Go cannot
// guarantee zeroization (copies made by the runtime or by callers are out of
// reach); see the package documentation.
func (k *KeySet) Zero() {
	clear(k.SKEYID)
	clear(k.D)
	clear(k.A)
	clear(k.E)
	*k = KeySet{}
}
