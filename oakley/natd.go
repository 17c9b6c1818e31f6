package oakley

import (
	"encoding/binary"
	"net/netip"
)

// NATDHash is the body of a NAT-D payload (RFC 3947 §3.2; the same in
// draft-ietf-ipsec-nat-t-ike-02/03): the negotiated hash, not the prf, of
// CKY-I | CKY-R | IP | Port, the address in network order (4 or 16
// octets) and the port as two octets.
func NATDHash(p PRF, icky, rcky []byte, a netip.AddrPort) []byte {
	ip := a.Addr().Unmap().AsSlice()
	port := binary.BigEndian.AppendUint16(nil, a.Port())
	return p.Digest(icky, rcky, ip, port)
}
