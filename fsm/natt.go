package fsm

// NAT traversal (RFC 3947; draft-ietf-ipsec-nat-t-ike-02 and -03, which
// older peers use, with payload numbers 130/131 and encapsulation modes
// 61443/61444):
//
//	MM1/MM2   VID(RFC 3947, draft-03, draft-02\n, draft-02) / VID(chosen)
//	MM3/MM4   NAT-D(remote), NAT-D(local): HASH(CKY-I | CKY-R | IP | Port)
//	MM5 on    UDP 4500 with the non-ESP marker, when a NAT was detected
//	QM        UDP-Encapsulated-Tunnel/Transport modes; NAT-OA for transport
//
// Aggressive Mode carries the VIDs in its first two messages, NAT-D in the
// last two, and the initiator floats with its third message. Once NAT-T is
// in use, an authenticated message from a new address or port moves the
// peer (a NAT mapping changed): every state with that peer follows, and the
// kernel's UDP-encapsulated SAs are updated (PeerMover).

import (
	"bytes"
	"net/netip"
	"time"

	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// NATTMethod is the NAT-T variant negotiated through Vendor IDs, in order
// of preference.
type NATTMethod uint8

const (
	NATTNone    NATTMethod = iota
	NATTDraft02            // draft-ietf-ipsec-nat-t-ike-02 (also "02\n")
	NATTDraft03            // draft-ietf-ipsec-nat-t-ike-03
	NATTRFC                // RFC 3947
)

// String names the method as pluto's NAT-T log lines do.
func (n NATTMethod) String() string {
	switch n {
	case NATTDraft02, NATTDraft03:
		return "draft-ietf-ipsec-nat-t-ike-02/03"
	case NATTRFC:
		return "RFC 3947 (NAT-Traversal)"
	}
	return "none"
}

// natdType is the NAT-D payload number of the method.
func (n NATTMethod) natdType() spec.PayloadType {
	if n == NATTRFC {
		return spec.PayloadNATD
	}
	return spec.PayloadNATDDraft
}

func (n NATTMethod) natoaType() spec.PayloadType {
	if n == NATTRFC {
		return spec.PayloadNATOA
	}
	return spec.PayloadNATOADraft
}

// NATT is what an ISAKMP SA knows about NAT traversal.
type NATT struct {
	Method NATTMethod // NATTNone: not negotiated
	Me     bool       // a NAT is in front of us (or --forceencaps pretends so)
	Peer   bool       // a NAT is in front of the peer
	Forced bool       // --forceencaps
	// Floated: the exchange has moved to the NAT-T port (UDP 4500, non-ESP
	// marker).
	Floated bool
}

// Detected reports whether IPsec SAs must be UDP-encapsulated.
func (n NATT) Detected() bool { return n.Method != NATTNone && (n.Me || n.Peer) }

// Result is the detection result in pluto's words.
func (n NATT) Result() string {
	switch {
	case n.Me && n.Peer:
		return "both are NATed"
	case n.Me:
		return "i am NATed"
	case n.Peer:
		return "peer is NATed"
	}
	return "no NAT detected"
}

// PeerMover is implemented by an Env whose kernel must follow a peer
// behind a NAT whose address or port changed: sa (installed for st) now
// has the new Remote (and Local) ports.
type PeerMover interface {
	PeerMoved(st *State, sa *IPsecSA)
}

// nattPort is the port NAT-T moves to.
func (m *Machine) nattPort() uint16 {
	if m.cfg.NATTPort != 0 {
		return m.cfg.NATTPort
	}
	return spec.NATTPort
}

// nattVIDs are the NAT-T Vendor IDs to send: all we support in a first
// message, the chosen one in a reply.
func (m *Machine) nattVIDs(st *State) []payloads.Payload {
	if !m.cfg.NATTraversal {
		return nil
	}
	if st.Initiator {
		return []payloads.Payload{&payloads.VendorID{Data: spec.VIDNATTRFC3947},
			&payloads.VendorID{Data: spec.VIDNATTDraft03}, &payloads.VendorID{Data: spec.VIDNATTDraft02n},
			&payloads.VendorID{Data: spec.VIDNATTDraft02}}
	}
	switch st.NATT.Method {
	case NATTRFC:
		return []payloads.Payload{&payloads.VendorID{Data: spec.VIDNATTRFC3947}}
	case NATTDraft03:
		return []payloads.Payload{&payloads.VendorID{Data: spec.VIDNATTDraft03}}
	case NATTDraft02:
		return []payloads.Payload{&payloads.VendorID{Data: spec.VIDNATTDraft02}}
	}
	return nil
}

// noteNATTVendorIDs picks the best NAT-T method the peer's Vendor IDs
// announce (nothing when NAT-T is off here).
func (m *Machine) noteNATTVendorIDs(st *State, md *Digest) {
	if !m.cfg.NATTraversal {
		return
	}
	best := NATTNone
	for _, p := range md.Msg.All(spec.PayloadVID) {
		v, ok := p.(*payloads.VendorID)
		if !ok {
			continue
		}
		n := NATTNone
		switch {
		case bytes.Equal(v.Data, spec.VIDNATTRFC3947):
			n = NATTRFC
		case bytes.Equal(v.Data, spec.VIDNATTDraft03):
			n = NATTDraft03
		case bytes.Equal(v.Data, spec.VIDNATTDraft02), bytes.Equal(v.Data, spec.VIDNATTDraft02n):
			n = NATTDraft02
		}
		best = max(best, n)
	}
	st.NATT.Method = best
	st.NATT.Forced = st.Conn != nil && st.Conn.ForceEncaps
	if md.To.Port() == m.nattPort() {
		st.NATT.Floated = true
	}
	if best != NATTNone {
		m.debug(st, "NAT-Traversal: enabling method %s", best)
	}
}

// natdPayloads are our NAT-D payloads: the hash of the peer's address and
// port as we send to it, then ours. --forceencaps hashes our address with
// port 0, so that the peer sees a NAT in front of us (as Openswan does).
func (m *Machine) natdPayloads(st *State, local, remote netip.AddrPort) []payloads.Payload {
	if st.NATT.Method == NATTNone {
		return nil
	}
	prf := st.k.prf
	if st.NATT.Forced {
		local = netip.AddrPortFrom(local.Addr(), 0)
	}
	t := st.NATT.Method.natdType()
	return []payloads.Payload{
		&payloads.NATD{PayloadType: t, Hash: oakley.NATDHash(prf, st.ICookie[:], st.RCookie[:], remote)},
		&payloads.NATD{PayloadType: t, Hash: oakley.NATDHash(prf, st.ICookie[:], st.RCookie[:], local)},
	}
}

// natDetect compares the peer's NAT-D payloads in md with the addresses
// the message really had: the first is us as the peer saw us, the others
// the peer as it sent.
func (m *Machine) natDetect(st *State, md *Digest) {
	if st.NATT.Method == NATTNone {
		return
	}
	var hashes [][]byte
	for _, p := range md.Msg.Payloads {
		if n, ok := p.(*payloads.NATD); ok {
			hashes = append(hashes, n.Hash)
		}
	}
	if len(hashes) < 2 {
		m.log(st, 0, "NAT-Traversal: peer announced %s but sent %d NAT-D payloads; assuming no NAT", st.NATT.Method, len(hashes))
		st.NATT.Method = NATTNone
		return
	}
	prf := st.k.prf
	st.NATT.Me = !oakley.Equal(hashes[0], oakley.NATDHash(prf, st.ICookie[:], st.RCookie[:], md.To))
	peer := oakley.NATDHash(prf, st.ICookie[:], st.RCookie[:], md.From)
	st.NATT.Peer = true
	for _, h := range hashes[1:] {
		if oakley.Equal(h, peer) {
			st.NATT.Peer = false
		}
	}
	if st.NATT.Forced {
		st.NATT.Me = true
	}
	m.log(st, 0, "NAT-Traversal: Result using %s: %s", st.NATT.Method, st.NATT.Result())
}

// float moves an initiator's exchange to the NAT-T port when a NAT was
// detected (RFC 3947 §4: from Main Mode message 5, Aggressive Mode message
// 3); from then on the non-ESP marker precedes every IKE message.
func (m *Machine) float(st *State) {
	if !st.NATT.Detected() || st.NATT.Floated {
		return
	}
	p := m.nattPort()
	st.Local = netip.AddrPortFrom(st.Local.Addr(), p)
	st.Remote = netip.AddrPortFrom(st.Remote.Addr(), p)
	st.NATT.Floated = true
	m.debug(st, "NAT-T: floating to %s -> %s", st.Local, st.Remote)
}

// isakmpOf is the ISAKMP SA that st belongs to (st itself in phase 1).
func isakmpOf(st *State) *State {
	if st.Parent != nil {
		return st.Parent
	}
	return st
}

// notePeerAddress follows a peer behind a NAT: an authenticated message
// (the caller has checked it) from another address or port than the
// ISAKMP SA's moves every state with that peer, and the kernel's SAs.
func (m *Machine) notePeerAddress(st *State, md *Digest) {
	p1 := isakmpOf(st)
	if p1.NATT.Method == NATTNone || (md.From == p1.Remote && md.To == p1.Local) {
		return
	}
	if md.To.Port() == m.nattPort() {
		p1.NATT.Floated = true
	}
	m.movePeer(p1, p1.Local, p1.Remote, md.To, md.From, "")
}

// PeerMapping is the kernel's report that authenticated ESP in UDP for our
// inbound SA (SPI, to local) came from newRemote instead of oldRemote:
// the peer and every state with it move there (as strongSwan does), so
// that our traffic and IKE messages reach it through its NAT's new
// mapping. It reports whether anything moved.
func (m *Machine) PeerMapping(now time.Time, local netip.Addr, spi []byte, oldRemote, newRemote netip.AddrPort) bool {
	m.now = now
	for _, st := range m.bySerial {
		sa := st.IPsec
		if !st.Kind.IsIPsecEstablished() || sa == nil || !sa.Encap || !bytes.Equal(sa.InboundSPI, spi) || sa.Local.Addr() != local {
			continue
		}
		if sa.Remote != oldRemote || newRemote == oldRemote {
			return false // already moved (an IKE message came first), or stale
		}
		m.movePeer(st, st.Local, st.Remote, st.Local, newRemote, " (kernel: ESP in UDP from there)")
		return true
	}
	return false
}

// movePeer moves every state between oldL and oldR (and its kernel SAs) to
// newL, newR.
func (m *Machine) movePeer(st *State, oldL, oldR, newL, newR netip.AddrPort, why string) {
	if oldR != newR {
		m.log(st, 0, "NAT-T: peer %s is now at %s%s", oldR, newR, why)
	}
	for _, s := range m.bySerial {
		if s.Remote != oldR || s.Local != oldL {
			continue
		}
		s.Local, s.Remote = newL, newR
		if !s.Kind.IsQuick() && newL.Port() == m.nattPort() {
			s.NATT.Floated = true
		}
		if s.IPsec == nil || s.IPsec.Remote != oldR {
			continue
		}
		s.IPsec.Local, s.IPsec.Remote = newL, newR
		if s.Kind.IsIPsecEstablished() || s.Kind == StateQuickR1 {
			if pm, ok := m.env.(PeerMover); ok {
				pm.PeerMoved(s, s.IPsec)
			}
		}
	}
}

// udpEncap is the Quick Mode encapsulation family for p1.
func udpEncap(p1 *State) proposal.UDPEncap {
	switch {
	case !p1.NATT.Detected():
		return proposal.UDPEncapNone
	case p1.NATT.Method == NATTRFC:
		return proposal.UDPEncapRFC
	}
	return proposal.UDPEncapDraft
}

// natoaPayloads are the NAT-OA payloads of a transport-mode Quick Mode
// through a NAT (RFC 3947 §5.2: NAT-OAi, the initiator's original address,
// then NAT-OAr, the responder's; the drafts send only the sender's own).
func natoaPayloads(p1 *State, initiator bool, pol proposal.Phase2Policy) []payloads.Payload {
	if pol.UDPEncap == proposal.UDPEncapNone || pol.Mode != spec.EncapTransport {
		return nil
	}
	oa := func(a netip.Addr) payloads.Payload {
		a = a.Unmap()
		t := spec.IDIPv4Addr
		if a.Is6() {
			t = spec.IDIPv6Addr
		}
		return &payloads.NATOA{PayloadType: p1.NATT.Method.natoaType(), IDType: t, Addr: a.AsSlice()}
	}
	local, remote := p1.Local.Addr(), p1.Remote.Addr()
	if p1.NATT.Method != NATTRFC {
		return []payloads.Payload{oa(local)}
	}
	if initiator {
		return []payloads.Payload{oa(local), oa(remote)}
	}
	return []payloads.Payload{oa(remote), oa(local)}
}

// natTransportIDs maps the host IDs of a transport-mode Quick Mode through
// a NAT to the addresses the SAs really have: an IDci that is the
// initiator's original address (its NAT-OA) is the address we see it at,
// an IDcr that is the address it believes we have (its NAT-OAr), ours.
func natTransportIDs(p1 *State, md *Digest, theirs, ours Client) (Client, Client) {
	if !p1.NATT.Detected() {
		return theirs, ours
	}
	host := func(c Client, a netip.Addr) bool {
		return a.IsValid() && c.Net == netip.PrefixFrom(a, a.BitLen())
	}
	if oa := peerOA(md, true); host(theirs, oa) && oa != p1.Remote.Addr() {
		h := hostClient(p1.Remote)
		h.Proto, h.Port = theirs.Proto, theirs.Port
		theirs = h
	}
	if oa := peerOA(md, false); p1.NATT.Method == NATTRFC && host(ours, oa) && oa != p1.Local.Addr() {
		h := hostClient(p1.Local)
		h.Proto, h.Port = ours.Proto, ours.Port
		ours = h
	}
	return theirs, ours
}

// peerOA reads the peer's original address from the NAT-OA payloads of a
// Quick Mode message (RFC: NAT-OAi from the initiator, NAT-OAr from the
// responder; drafts: the only one). Invalid when there is none.
func peerOA(md *Digest, fromInitiator bool) netip.Addr {
	var oas []netip.Addr
	for _, p := range md.Msg.Payloads {
		if n, ok := p.(*payloads.NATOA); ok {
			if a, ok := n.IP(); ok {
				oas = append(oas, a.Unmap())
			}
		}
	}
	switch {
	case len(oas) == 0:
		return netip.Addr{}
	case len(oas) == 1 || fromInitiator:
		return oas[0]
	}
	return oas[1]
}
