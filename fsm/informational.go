package fsm

// Informational exchanges (RFC 2408 §4.8, RFC 2409 §5.7): Notifications and
// Deletes. Once an ISAKMP SA is established they travel encrypted, with
// HASH(1) = prf(SKEYID_a, M-ID | N/D) first; that hash is always verified
// (CVE-2019-10155). Clear ones are logged and trusted for nothing.

import (
	"bytes"
	"net/netip"

	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// informational processes the N and D payloads of an Informational message
// received on ISAKMP SA p1 (or, in the clear, on no state at all).
func informational(m *Machine, p1 *State, md *Digest) error {
	protected := md.Msg.Header.Flags&spec.FlagEncryption != 0
	// Before the ISAKMP SA is established (MAIN_I3: the responder refuses
	// our MI3) the peer is not authenticated: its notifications are only
	// logged.
	established := p1.Kind.IsISAKMPKeyed()
	if protected {
		h, rest, err := leadingHash(md)
		if err != nil {
			return err
		}
		want := oakley.InfoHash(p1.k.prf, p1.k.set.A, md.Msg.Header.MessageID, rest)
		if !oakley.Equal(want, h.Data) {
			return notifyErr(spec.InvalidHashInformation, "received HASH(1) does not match computed value in Informational Exchange; message ignored")
		}
		if established {
			m.notePeerAddress(p1, md)
		}
	}
	for _, p := range md.Msg.Payloads {
		// Re-check p1 after each payload: a Delete may have removed it (CVE-2023-38712).
		alive := p1.Serial != 0 && m.bySerial[p1.Serial] == p1 && established
		switch pl := p.(type) {
		case *payloads.Notify:
			if !protected {
				m.logInfo(p1, md, "ignoring informational payload, type %s", pl.NotifyType)
				continue
			}
			if !established {
				m.log(p1, 3, "received notification %s before the ISAKMP SA is established (the peer refuses our authentication?)", pl.NotifyType)
				continue
			}
			p1.dpdLastHeard = m.now
			if pl.NotifyType == spec.RUThere || pl.NotifyType == spec.RUThereAck {
				if alive {
					m.dpdNotify(p1, pl)
				}
				continue
			}
			m.log(p1, 3, "received notification %s", pl.NotifyType)
		case *payloads.Delete:
			if !protected || !alive {
				m.logInfo(p1, md, "ignoring Delete SA payload: not protected by an established ISAKMP SA")
				continue
			}
			m.processDelete(p1, pl)
		}
	}
	return nil
}

func (m *Machine) logInfo(p1 *State, md *Digest, format string, a ...any) {
	if p1 == nil || p1.Serial == 0 {
		m.logPacket(md.From, 3, format, a...)
		return
	}
	m.log(p1, 3, format, a...)
}

// processDelete acts on one authenticated Delete payload: only SAs of this
// peer are touched.
func (m *Machine) processDelete(p1 *State, d *payloads.Delete) {
	switch d.Protocol {
	case spec.ProtoISAKMP:
		for _, spi := range d.SPIs {
			if len(spi) != 16 {
				m.log(p1, 3, "ignoring Delete SA payload: ISAKMP SPI of %d octets", len(spi))
				continue
			}
			var ic, rc [8]byte
			copy(ic[:], spi[:8])
			copy(rc[:], spi[8:])
			st := m.byCookies[cookieKey(ic, rc)]
			if st == nil || st.Remote.Addr() != p1.Remote.Addr() {
				m.log(p1, 3, "ignoring Delete SA payload: ISAKMP SA not found (maybe expired)")
				continue
			}
			m.log(st, 0, "received Delete SA payload: deleting ISAKMP State #%d", st.Serial)
			m.deleteState(st, false)
		}
	case spec.ProtoESP, spec.ProtoAH:
		for _, spi := range d.SPIs {
			st := m.findIPsec(p1, d.Protocol, spi)
			if st == nil {
				m.log(p1, 3, "ignoring Delete SA payload: %s SA(0x%x) not found (maybe expired)", d.Protocol, spi)
				continue
			}
			m.log(st, 0, "received Delete SA payload: deleting IPSEC State #%d", st.Serial)
			m.deleteState(st, false)
		}
	default:
		m.log(p1, 3, "ignoring Delete SA payload: protocol %s", d.Protocol)
	}
}

// findIPsec finds the IPsec state of p1's peer whose outbound SPI (the
// peer's inbound, which is what the peer deletes) is spi.
func (m *Machine) findIPsec(p1 *State, proto spec.ProtocolID, spi []byte) *State {
	for _, st := range m.bySerial {
		if st.Kind.IsQuick() && st.IPsec != nil && st.Remote.Addr() == p1.Remote.Addr() &&
			st.IPsec.Proto == proto && bytes.Equal(st.IPsec.OutboundSPI, spi) {
			return st
		}
	}
	return nil
}

// sendInfo sends a protected Informational message on ISAKMP SA p1 carrying
// payload (a Notify or Delete), with its own message ID and IV.
func (m *Machine) sendInfo(p1 *State, payload payloads.Payload) {
	if p1 == nil || !p1.Kind.IsISAKMPKeyed() || p1.k == nil || p1.k.encKey == nil {
		return
	}
	k := p1.k
	msgid := m.newMsgID(p1)
	ps := []payloads.Payload{&payloads.Hash{Data: make([]byte, k.prf.Size())}, payload}
	chain := sealHash(ps, func(rest []byte) []byte { return oakley.InfoHash(k.prf, k.set.A, msgid, rest) })
	iv := oakley.Phase2IV(k.prf, k.iv, msgid, k.cipher.BlockSize)
	ct, _ := k.cipher.Encrypt(k.encKey, iv, chain)
	h := payloads.Header{ICookie: p1.ICookie, RCookie: p1.RCookie, Version: payloads.Version,
		Exchange: spec.ExchangeInfo, Flags: spec.FlagEncryption, MessageID: msgid,
		NextPayload: spec.PayloadHash, Length: uint32(spec.HeaderLen + len(ct))}
	out := append(h.Append(make([]byte, 0, int(h.Length))), ct...)
	m.env.Send(out, p1.Local, p1.Remote)
}

// sendDelete tells the peer that st is gone (RFC 2408 §3.15).
func (m *Machine) sendDelete(st *State) {
	switch {
	case st.Kind.IsIPsecEstablished() && st.IPsec != nil && st.Parent != nil:
		p1 := m.liveParent(st)
		if p1 == nil {
			return
		}
		m.log(st, 0, "deleting IPsec SA %s 0x%x", protoShort(st.IPsec.Proto), st.IPsec.InboundSPI)
		m.sendInfo(p1, &payloads.Delete{DOI: spec.DOIIPsec, Protocol: st.IPsec.Proto,
			SPISize: uint8(len(st.IPsec.InboundSPI)), SPIs: [][]byte{st.IPsec.InboundSPI}})
	case st.Kind.IsISAKMPKeyed():
		spi := append(bytes.Clone(st.ICookie[:]), st.RCookie[:]...)
		m.sendInfo(st, &payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{spi}})
	}
}

// liveParent returns st's ISAKMP SA if it still exists, or another
// established one to the same peer.
func (m *Machine) liveParent(st *State) *State {
	if p := st.Parent; p != nil && m.bySerial[p.Serial] == p && p.Kind.IsISAKMPEstablished() {
		return p
	}
	if st.Conn != nil {
		return m.isakmpFor(st.Conn)
	}
	return nil
}

// sendEncryptedNotify reports an error in Quick Mode msgid over p1.
func (m *Machine) sendEncryptedNotify(p1 *State, n spec.NotifyType, msgid uint32) {
	m.sendInfo(p1, &payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, NotifyType: n})
}

// sendClearNotifyFor answers a failed phase-1 message of st in the clear
// (nothing is protected yet, or the peer could not decrypt it anyway).
func (m *Machine) sendClearNotifyFor(st *State, n spec.NotifyType) {
	m.clearNotify(st.ICookie, st.RCookie, n, st.Local, st.Remote)
}

// sendClearNotify answers a packet that created no state.
func (m *Machine) sendClearNotify(md *Digest, n spec.NotifyType) {
	h := md.Msg.Header
	m.clearNotify(h.ICookie, h.RCookie, n, md.To, md.From)
}

func (m *Machine) clearNotify(ic, rc [8]byte, n spec.NotifyType, from, to netip.AddrPort) {
	spi := append(bytes.Clone(ic[:]), rc[:]...)
	b := payloads.Build(payloads.Header{ICookie: ic, RCookie: rc, Exchange: spec.ExchangeInfo},
		&payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPI: spi, NotifyType: n})
	m.env.Send(b, from, to)
}
