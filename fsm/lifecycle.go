package fsm

// The life of an established SA (pluto's rekeying rules, RFC 3706 DPD):
//
//	established  EVENT_SA_REPLACE at lifetime - margin (initiator:
//	             margin = rekeymargin x (1 + random x rekeyfuzz%); responder:
//	             rekeymargin / 2, so the initiator rekeys first), or
//	             EVENT_SA_EXPIRE at lifetime with --dontrekey or a short life
//	REPLACE      if st is still the newest SA of its kind for its connection:
//	             start its replacement (Quick Mode on a live ISAKMP SA, else
//	             Main Mode first); then EXPIRE when the margin has run out
//	EXPIRE       delete, telling the peer
//	DPD          every dpddelay an R-U-THERE; no authenticated word from the
//	             peer for dpdtimeout: dpdaction (clear, hold, restart)

import (
	"cmp"
	"encoding/binary"
	"slices"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

// Dead Peer Detection Vendor ID (RFC 3706 §5.1).
var dpdVendorID = []byte{0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00}

func isDPDVendorID(b []byte) bool {
	return len(b) >= len(dpdVendorID) && string(b[:len(dpdVendorID)]) == string(dpdVendorID)
}

// noteVendorIDs records what the peer's Vendor IDs announce.
func noteVendorIDs(st *State, md *Digest) {
	for _, p := range md.Msg.All(spec.PayloadVID) {
		if v, ok := p.(*payloads.VendorID); ok {
			if isDPDVendorID(v.Data) {
				st.peerDPD = true
			}
			noteXAuthVendorID(st, v.Data)
		}
	}
}

// scheduleEstablished arms the replace or expire event of a newly
// established SA and records it as the newest of its kind.
func (m *Machine) scheduleEstablished(st *State) {
	c := st.Conn
	life := st.Lifetime
	if life <= 0 {
		life = time.Hour
	}
	if c != nil {
		if st.Kind.IsISAKMPEstablished() {
			m.newestISAKMP[c.key()] = st.Serial
		} else {
			m.newestIPsec[c.key()] = st.Serial
		}
	}
	if c == nil || c.DontRekey {
		m.schedule(st, EventSAExpire, life)
		return
	}
	margin := c.RekeyMargin
	if st.Initiator {
		var b [8]byte
		m.env.Rand(b[:])
		frac := float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53) // [0,1)
		margin += time.Duration(float64(margin) * float64(c.RekeyFuzz) / 100 * frac)
	} else {
		margin /= 2
	}
	st.margin = margin
	if life > margin {
		m.schedule(st, EventSAReplace, life-margin)
	} else {
		m.schedule(st, EventSAExpire, life)
	}
}

// isNewest reports whether st is the newest established SA of its kind for
// its connection.
func (m *Machine) isNewest(st *State) bool {
	if st.Conn == nil {
		return false
	}
	if st.Kind.IsISAKMPEstablished() {
		return m.newestISAKMP[st.Conn.key()] == st.Serial
	}
	return m.newestIPsec[st.Conn.key()] == st.Serial
}

// replace handles EVENT_SA_REPLACE: rekey st if it is the newest of its
// kind, then let it expire when its margin runs out.
func (m *Machine) replace(st *State) {
	c := st.Conn
	if m.isNewest(st) && c != nil {
		switch {
		case st.Kind.IsIPsecEstablished():
			m.log(st, 0, "%s: replacing IPsec SA before it expires", st.Kind)
			if p1 := m.isakmpFor(c); p1 != nil {
				m.quickOutI1(p1, c, nil)
			} else if st.IPsec != nil && st.IPsec.Encap {
				m.mainOutI1At(c, nil, 1, false, st.Local, st.Remote)
			} else {
				m.mainOutI1(c, nil, 1, false)
			}
		case st.Kind.IsISAKMPEstablished():
			m.log(st, 0, "%s: replacing ISAKMP SA before it expires", st.Kind)
			if st.NATT.Floated {
				m.mainOutI1At(c, nil, 1, true, st.Local, st.Remote)
			} else {
				m.mainOutI1(c, nil, 1, true)
			}
		}
	} else {
		m.debug(st, "not replacing %s: a newer SA exists", st.Kind)
	}
	m.schedule(st, EventSAExpire, st.margin)
}

// afterISAKMPEstablished applies INITIAL-CONTACT and --uniqueids, and
// starts DPD.
func (m *Machine) afterISAKMPEstablished(st *State) {
	if st.initialContact || m.cfg.UniqueIDs {
		// One pass over the states for those of this peer's address (a
		// scan per establishment, not a sorted copy of every state), then
		// in serial order.
		var same []*State
		for _, old := range m.bySerial {
			if old != st && old.Remote.Addr() == st.Remote.Addr() {
				same = append(same, old)
			}
		}
		slices.SortFunc(same, func(a, b *State) int { return cmp.Compare(a.Serial, b.Serial) })
		for _, old := range same {
			if old == st || old.PeerID.Type == 0 && !old.Kind.IsQuick() {
				continue
			}
			peer := old.PeerID
			if old.Kind.IsQuick() && old.Parent != nil {
				peer = old.Parent.PeerID
			}
			if !peer.Equal(st.PeerID) || old.Remote.Addr() != st.Remote.Addr() {
				continue
			}
			sameConn := old.Conn != nil && st.Conn != nil && old.Conn.Name == st.Conn.Name
			switch {
			case st.initialContact:
				// The peer rebooted: what we had with it is gone on its side.
				m.log(old, 0, "deleting %s: peer sent INITIAL-CONTACT", old.Kind)
				m.deleteState(old, false)
			case !sameConn && old.Kind.IsISAKMPEstablished():
				m.log(old, 0, "uniqueids: deleting older ISAKMP SA for the same peer ID '%s'", peer)
				m.deleteState(old, true)
			}
		}
	}
	st.dpdLastHeard = m.now
	if c := st.Conn; c != nil && c.DPDDelay > 0 {
		if st.peerDPD {
			m.arm(&st.dpdTimer, EventDPD, c.DPDDelay)
		} else {
			m.log(st, 0, "DPD: not enabled because remote peer did not advertise DPD support")
		}
	}
}

// dpd handles the DPD timer of an ISAKMP SA.
func (m *Machine) dpd(st *State) {
	c := st.Conn
	if c == nil || c.DPDDelay <= 0 || !st.Kind.IsISAKMPEstablished() {
		return
	}
	if m.now.Sub(st.dpdLastHeard) >= c.DPDTimeout && st.dpdSeq != 0 {
		m.log(st, 0, "DPD: no response from peer for %s, declaring peer dead; dpdaction=%s", fmtDuration(m.now.Sub(st.dpdLastHeard)), dpdAction(c))
		m.peerDead(st)
		return
	}
	st.dpdSeq++
	if st.dpdSeq == 0 {
		st.dpdSeq = 1
	}
	var seq [4]byte
	binary.BigEndian.PutUint32(seq[:], st.dpdSeq)
	m.debug(st, "DPD: sending R_U_THERE %d", st.dpdSeq)
	m.sendInfo(st, &payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP,
		SPI: cookiePair(st), NotifyType: spec.RUThere, Data: seq[:]})
	next := c.DPDDelay
	if left := c.DPDTimeout - m.now.Sub(st.dpdLastHeard); left > 0 && left < next {
		next = left
	}
	m.arm(&st.dpdTimer, EventDPD, next)
}

func dpdAction(c *Conn) string {
	if c.DPDAction == "" {
		return "hold"
	}
	return c.DPDAction
}

// peerDead applies dpdaction to everything of st's connection with this peer.
func (m *Machine) peerDead(p1 *State) {
	c := p1.Conn
	for _, quick := range []bool{true, false} {
		for _, st := range m.States() {
			if st.Conn == c && st.Remote.Addr() == p1.Remote.Addr() && st.Kind.IsQuick() == quick {
				m.deleteState(st, false)
			}
		}
	}
	if dpdAction(c) == "restart" {
		m.log(nil, 0, "DPD: restarting connection %q", c.Name)
		m.mainOutI1(c, nil, 1, false)
	}
}

// dpdNotify handles R-U-THERE and R-U-THERE-ACK received on ISAKMP SA p1
// (already decrypted and its HASH(1) verified).
func (m *Machine) dpdNotify(p1 *State, n *payloads.Notify) {
	if len(n.Data) != 4 || len(n.SPI) != 16 || string(n.SPI) != string(cookiePair(p1)) {
		m.log(p1, 3, "DPD: ignoring %s with bad SPI or sequence number", n.NotifyType)
		return
	}
	seq := binary.BigEndian.Uint32(n.Data)
	switch n.NotifyType {
	case spec.RUThere:
		m.debug(p1, "DPD: received R_U_THERE %d, answering", seq)
		m.sendInfo(p1, &payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP,
			SPI: cookiePair(p1), NotifyType: spec.RUThereAck, Data: n.Data})
		p1.dpdLastHeard = m.now
	case spec.RUThereAck:
		if p1.dpdSeq == 0 || seq != p1.dpdSeq {
			m.log(p1, 3, "DPD: ignoring R_U_THERE_ACK %d: we sent %d", seq, p1.dpdSeq)
			return
		}
		p1.dpdLastHeard = m.now
	}
}

func cookiePair(st *State) []byte {
	b := make([]byte, 16)
	copy(b, st.ICookie[:])
	copy(b[8:], st.RCookie[:])
	return b
}
