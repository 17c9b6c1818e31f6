package pluto

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"goswan/fsm"
	"goswan/pluto/certs"
	"goswan/pluto/secrets"
	"goswan/whack"
)

// Public keys of peers, from whack's key form (--keyid ID --pubkeyrsa 0s...,
// --addkey to add rather than replace), by identity (fsm.ID.String()).

// ParseRFC3110 decodes an RFC 3110 §2 RSA key blob: exponent length (one
// octet, or zero then two octets), exponent, modulus.
func ParseRFC3110(b []byte) (*rsa.PublicKey, error) {
	if len(b) < 3 {
		return nil, errors.New("RSA public key too short")
	}
	n := int(b[0])
	b = b[1:]
	if n == 0 {
		n = int(b[0])<<8 | int(b[1])
		b = b[2:]
	}
	if n == 0 || n > 8 || len(b) <= n {
		return nil, fmt.Errorf("RSA public key: bad exponent length %d", n)
	}
	e := new(big.Int).SetBytes(b[:n])
	mod := new(big.Int).SetBytes(b[n:])
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		return nil, errors.New("RSA public key: bad exponent")
	}
	if mod.BitLen() < 1024 || mod.BitLen() > 8192 {
		return nil, fmt.Errorf("RSA public key: %d-bit modulus out of range (1024..8192)", mod.BitLen())
	}
	return &rsa.PublicKey{N: mod, E: int(e.Int64())}, nil
}

// addKey handles whack's key form.
func (d *Daemon) addKey(m *whack.Message) error {
	id, err := certs.ParseID(m.KeyID)
	if err != nil {
		return fmt.Errorf("--keyid: %v", err)
	}
	blob, err := m.PubKey()
	if err != nil {
		return fmt.Errorf("--pubkeyrsa: %v", err)
	}
	if len(blob) == 0 {
		if !m.AddKey {
			delete(d.pubkeys, id.String())
		}
		return nil
	}
	k, err := ParseRFC3110(blob)
	if err != nil {
		return fmt.Errorf("--pubkeyrsa: %v", err)
	}
	if !m.AddKey {
		d.pubkeys[id.String()] = nil
	}
	d.pubkeys[id.String()] = append(d.pubkeys[id.String()], k)
	d.log.Logf("added RSA public key %s for '%s'", secrets.KeyID(k), id)
	return nil
}

// listPubkeys writes whack --listpubkeys.
func (d *Daemon) listPubkeys(w *whackConn) {
	w.line(whack.RCComment, "List of Public Keys:")
	for _, c := range d.sortedIDs() {
		for _, k := range d.pubkeys[c] {
			w.line(whack.RCComment, fmt.Sprintf("  %d RSA Key %s, '%s'", k.N.BitLen(), secrets.KeyID(k), c))
		}
	}
}

func (d *Daemon) sortedIDs() []string {
	ids := make([]string, 0, len(d.pubkeys))
	for id := range d.pubkeys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// LocalKey implements fsm.Env: our private key from ipsec.secrets, the one
// of our --cert if there is one, else found by our ID.
func (d *Daemon) LocalKey(c *fsm.Conn) (*rsa.PrivateKey, bool) {
	if d.secrets == nil {
		return nil, false
	}
	if conn := d.connOfConn(c); conn != nil && conn.thisCert != nil {
		return d.certKey(conn.thisCert)
	}
	local := c.LocalID
	if local.Type == 0 {
		local = fsm.AddrID(c.Local.Addr())
	}
	return d.secrets.RSAKey(local.String())
}

// PeerKeys implements fsm.Env: the public keys whack gave for the peer's
// ID, and the key of that end's --cert when the peer is its subject.
func (d *Daemon) PeerKeys(c *fsm.Conn, peer fsm.ID) []*rsa.PublicKey {
	keys := d.pubkeys[peer.String()]
	if conn := d.connOfConn(c); conn != nil && conn.thatCert != nil && certs.Matches(conn.thatCert, peer) {
		if pub, ok := conn.thatCert.PublicKey.(*rsa.PublicKey); ok {
			keys = append(append([]*rsa.PublicKey(nil), keys...), pub)
		}
	}
	return keys
}
