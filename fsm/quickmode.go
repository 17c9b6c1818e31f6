package fsm

// Quick Mode (RFC 2409 §5.5), under the protection of an ISAKMP SA:
//
//	Initiator                                     Responder
//	HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] -->                    quick_outI1 / quick_inI1_outR1
//	           <-- HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr]        quick_inR1_outI2
//	HDR*, HASH(3)                               -->                    quick_inI2
//
//	HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ])
//	HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ])
//	HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
//	KEYMAT  = prf(SKEYID_d, [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b), expanded

import (
	"bytes"
	"net/netip"
	"time"

	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// hostClient is the traffic selector of a host without a subnet.
func hostClient(a netip.AddrPort) Client {
	addr := a.Addr().Unmap()
	return Client{Net: netip.PrefixFrom(addr, addr.BitLen())}
}

func (c *Conn) localClient() Client {
	if c.LocalNet.Net.IsValid() {
		return c.LocalNet
	}
	return hostClient(c.Local)
}

func (c *Conn) remoteClient() Client {
	if c.RemoteNet.Net.IsValid() {
		return c.RemoteNet
	}
	return hostClient(c.Remote)
}

func idPayload(c Client) *payloads.ID {
	id := c.IDPayload()
	return &payloads.ID{IDType: id.Type, ProtocolID: c.Proto, Port: c.Port, Data: id.Data}
}

// sealHash encodes ps (ps[0] a HASH payload with a zeroed placeholder of
// the right size), computes the hash over the encoded chain with fn and
// writes it into the placeholder.
func sealHash(ps []payloads.Payload, fn func(rest []byte) []byte) []byte {
	chain := payloads.EncodePayloads(ps)
	h := fn(payloads.PayloadSpan(ps, 1))
	copy(chain[spec.GenericHeaderLen:], h)
	return chain
}

// quickOutI1 starts Quick Mode for c on ISAKMP SA p1 (pluto's quick_outI1).
func (m *Machine) quickOutI1(p1 *State, c *Conn, whack any) *State {
	st := m.newQuickState(StateQuickI1, p1, c, m.newMsgID(p1))
	st.Initiator, st.Whack = true, whack
	k := st.k
	k.ni = m.random(nonceLen)
	pol := c.P2
	if pol.PFSGroup == spec.GroupNone && c.PFS {
		pol.PFSGroup = p1.P1.Alg.Group
	}
	pol.UDPEncap = udpEncap(p1)
	st.p2pol = pol
	espSPI, ahSPI, cpi := m.allocSPIs(st, pol)
	sa := proposal.BuildPhase2SA(pol, espSPI, ahSPI, cpi)
	ps := []payloads.Payload{&payloads.Hash{Data: make([]byte, k.prf.Size())}, sa, &payloads.Nonce{Data: k.ni}}
	if pol.PFSGroup != spec.GroupNone {
		g, err := oakley.GroupByID(pol.PFSGroup)
		if err == nil {
			k.group = g
			k.dh, err = g.GenerateKey(randReader{m})
		}
		if err != nil {
			m.log(st, 3, "cannot start Quick Mode: PFS group %s: %v", pol.PFSGroup, err)
			m.deleteState(st, false)
			return nil
		}
		ps = append(ps, &payloads.KE{Data: k.dh.Public()})
	}
	if c.HasClients {
		ps = append(ps, idPayload(c.localClient()), idPayload(c.remoteClient()))
	}
	ps = append(ps, natoaPayloads(p1, true, pol)...)
	a := p1.k.set.A
	chain := sealHash(ps, func(rest []byte) []byte { return oakley.QuickHash1(k.prf, a, st.MsgID, rest) })
	st.IPsec = &IPsecSA{InboundSPI: firstNonNil(espSPI, ahSPI), InboundCPI: cpi}
	h := payloads.Header{ICookie: st.ICookie, RCookie: st.RCookie, Version: payloads.Version,
		Exchange: spec.ExchangeQuick, MessageID: st.MsgID}
	st.lastSent = m.frame(st, h, spec.PayloadHash, chain, true)
	m.byMsgID[msgKey{cookieKey(st.ICookie, st.RCookie), st.MsgID}] = st
	m.log(st, StateQuickI1.Code(), "%s: initiate", StateQuickI1)
	m.env.Send(st.lastSent, st.Local, st.Remote)
	m.schedule(st, EventRetransmit, m.cfg.RetransmitDelay)
	return st
}

func firstNonNil(a, b []byte) []byte {
	if a != nil {
		return a
	}
	return b
}

// allocSPIs gets our inbound SPIs, for the SAs from the peer to us, for
// each protocol the policy proposes.
func (m *Machine) allocSPIs(st *State, p proposal.Phase2Policy) (esp, ah, cpi []byte) {
	src, dst := st.Remote.Addr().Unmap(), st.Local.Addr().Unmap()
	if len(p.ESP) > 0 {
		esp = m.env.AllocSPI(spec.ProtoESP, src, dst)
	}
	if len(p.AH) > 0 {
		ah = m.env.AllocSPI(spec.ProtoAH, src, dst)
	}
	if p.Compress {
		cpi = m.env.AllocSPI(spec.ProtoIPComp, src, dst)
	}
	return
}

// offersIPComp reports whether a proposal of sa is IPComp.
func offersIPComp(sa *payloads.SA) bool {
	for _, p := range sa.Proposals {
		if p.Protocol == spec.ProtoIPComp {
			return true
		}
	}
	return false
}

// leadingHash checks that a Quick Mode or Informational message starts with
// its HASH payload (RFC 2409 §5.5) and returns it with the rest of the message.
func leadingHash(md *Digest) (*payloads.Hash, []byte, error) {
	ps := md.Msg.Payloads
	h, ok := ps[0].(*payloads.Hash)
	if !ok {
		return nil, nil, notifyErr(spec.InvalidHashInformation, "HASH payload is not the first payload")
	}
	return h, payloads.PayloadSpan(ps, 1), nil
}

// quickIDs returns the IDci and IDcr payloads, if present (both or none).
func quickIDs(md *Digest) (ci, cr *payloads.ID, err error) {
	ids := md.Msg.All(spec.PayloadID)
	switch len(ids) {
	case 0:
		return nil, nil, nil
	case 2:
		return ids[0].(*payloads.ID), ids[1].(*payloads.ID), nil
	}
	return nil, nil, notifyErr(spec.InvalidIDInformation, "Quick Mode needs zero or two ID payloads, got %d", len(ids))
}

func clientOf(id *payloads.ID) (Client, error) {
	c, err := ClientFromID(id.IDType, id.Data, id.ProtocolID, id.Port)
	if err != nil {
		return Client{}, notifyErr(spec.InvalidIDInformation, "%v", err)
	}
	return c, nil
}

// pfsKE handles the KE payload of Quick Mode: required exactly when the
// chosen proposal has a PFS group.
func (m *Machine) pfsKE(st *State, md *Digest, group spec.Group) ([]byte, error) {
	ke, _ := md.Msg.Find(spec.PayloadKE).(*payloads.KE)
	if group == spec.GroupNone {
		if ke != nil {
			return nil, notifyErr(spec.InvalidKeyInformation, "KE payload without a PFS group in the proposal")
		}
		return nil, nil
	}
	if ke == nil {
		return nil, notifyErr(spec.InvalidKeyInformation, "missing KE payload for PFS group %s", group)
	}
	g, err := oakley.GroupByID(group)
	if err != nil {
		return nil, notifyErr(spec.NoProposalChosen, "PFS group %s: %v", group, err)
	}
	if len(ke.Data) != g.PublicLen() {
		return nil, notifyErr(spec.InvalidKeyInformation, "KE has %d octets, %s needs %d", len(ke.Data), group, g.PublicLen())
	}
	st.k.group = g
	return bytes.Clone(ke.Data), nil
}

// quickInI1OutR1: the responder's half of Quick Mode.
func quickInI1OutR1(m *Machine, st *State, md *Digest) error {
	p1 := st.Parent
	k := st.k
	h, rest, err := leadingHash(md)
	if err != nil {
		return err
	}
	if !oakley.Equal(oakley.QuickHash1(k.prf, p1.k.set.A, st.MsgID, rest), h.Data) {
		return notifyErr(spec.InvalidHashInformation, "received HASH(1) does not match computed value in Quick I1")
	}
	// Traffic selectors: theirs (IDci) and ours (IDcr); hosts when absent.
	ci, cr, err := quickIDs(md)
	if err != nil {
		return err
	}
	theirs, ours := hostClient(st.Remote), hostClient(st.Local)
	if ci != nil {
		if theirs, err = clientOf(ci); err != nil {
			return err
		}
		if ours, err = clientOf(cr); err != nil {
			return err
		}
		theirs, ours = natTransportIDs(p1, md, theirs, ours)
	}
	c := m.env.QuickConn(p1, ours, theirs)
	if c == nil || !c.IPsec {
		return notifyErr(spec.InvalidIDInformation, "cannot respond to IPsec SA request because no connection is known for %s...%s", ours, theirs)
	}
	m.setConn(st, c)
	pol := c.P2
	pol.UDPEncap = udpEncap(p1)
	sa := md.Msg.Find(spec.PayloadSA).(*payloads.SA)
	// Compression offered is accepted even without --compress (as pluto
	// does): a CPI is allocated when the peer offers IPComp.
	alloc := pol
	alloc.Compress = offersIPComp(sa)
	espSPI, ahSPI, cpi := m.allocSPIs(st, alloc)
	ch, err := proposal.SelectPhase2(sa, pol, minLife(c.P2.Lifetime, m.cfg.MaxIPsecLifetime), espSPI, ahSPI, cpi)
	if err != nil {
		return proposalErr(err)
	}
	if c.PFS && ch.PFSGroup == spec.GroupNone {
		return notifyErr(spec.NoProposalChosen, "we require PFS but Quick I1 SA specifies no GROUP_DESCRIPTION")
	}
	st.P2, st.Lifetime = ch, ch.Lifetime
	gx, err := m.pfsKE(st, md, ch.PFSGroup)
	if err != nil {
		return err
	}
	k.ni = bytes.Clone(md.Msg.Find(spec.PayloadNonce).(*payloads.Nonce).Data)
	k.nr = m.random(nonceLen)
	ps := []payloads.Payload{&payloads.Hash{Data: make([]byte, k.prf.Size())}, ch.Reply, &payloads.Nonce{Data: k.nr}}
	if gx != nil {
		if k.dh, err = k.group.GenerateKey(randReader{m}); err != nil {
			return notifyErr(spec.NotifyNone, "DH key generation failed: %v", err)
		}
		if k.gxyQM, err = k.dh.SharedSecret(gx); err != nil {
			return notifyErr(spec.InvalidKeyInformation, "peer's KE is unusable: %v", err)
		}
		ps = append(ps, &payloads.KE{Data: k.dh.Public()})
	}
	if proposed := proposedLifetime(ch.Reply); proposed > ch.Lifetime {
		// We shortened the lifetime: say so (RFC 2407 §4.6.3.1).
		attrs := payloads.AppendAttributes(nil, []payloads.Attribute{
			payloads.NewTV(uint16(spec.IPsecSALifeType), uint16(spec.LifeSeconds)),
			payloads.NewVariable(uint16(spec.IPsecSALifeDuration), uint64(ch.Lifetime/time.Second)),
		})
		ps = append(ps, &payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoESP,
			SPI: firstNonNil(espSPI, ahSPI), NotifyType: spec.ResponderLifetime, Data: attrs})
		m.log(st, 0, "responder lifetime: %ds instead of the proposed %ds", int(ch.Lifetime/time.Second), int(proposed/time.Second))
	}
	if ci != nil {
		// Echo the IDs exactly as received.
		ps = append(ps, &payloads.ID{IDType: ci.IDType, ProtocolID: ci.ProtocolID, Port: ci.Port, Data: ci.Data},
			&payloads.ID{IDType: cr.IDType, ProtocolID: cr.ProtocolID, Port: cr.Port, Data: cr.Data})
	}
	if ch.UDPEncap {
		ps = append(ps, natoaPayloads(p1, false, pol)...)
	}
	ni := k.ni
	chain := sealHash(ps, func(rest []byte) []byte { return oakley.QuickHash2(k.prf, p1.k.set.A, st.MsgID, ni, rest) })
	sa2, err := m.ipsecSA(st, ours, theirs, firstNonNil(espSPI, ahSPI), cpi)
	if err != nil {
		return err
	}
	if sa2.Encap {
		sa2.PeerOA = peerOA(md, true)
	}
	st.IPsec = sa2
	md.install, md.inboundOnly = sa2, true
	md.setReply(spec.PayloadHash, chain)
	return nil
}

// ipsecSA derives KEYMAT for both directions of the negotiated SA; with
// IPComp chosen, the CPIs (ourCPI, the one we proposed) come along.
func (m *Machine) ipsecSA(st *State, ours, theirs Client, ourSPI, ourCPI []byte) (*IPsecSA, error) {
	k, ch := st.k, st.P2
	sa := &IPsecSA{Mode: ch.Mode, Local: st.Local, Remote: st.Remote, LocalNet: ours, RemoteNet: theirs,
		Lifetime: ch.Lifetime, InboundSPI: bytes.Clone(ourSPI), Encap: ch.UDPEncap}
	var n int
	var err error
	switch {
	case ch.ESP != nil:
		sa.Proto, sa.ESP, sa.OutboundSPI = spec.ProtoESP, ch.ESP, bytes.Clone(ch.PeerESPSPI)
		n, err = ch.ESP.KeymatLen()
	case ch.AH != nil:
		sa.Proto, sa.OutboundSPI = spec.ProtoAH, bytes.Clone(ch.PeerAHSPI)
		n, err = oakley.AuthKeyLen(ch.AH.Integ)
	default:
		return nil, notifyErr(spec.NoProposalChosen, "no ESP or AH in the chosen proposal")
	}
	if err != nil {
		return nil, notifyErr(spec.NoProposalChosen, "%v", err)
	}
	if ch.IPComp {
		if len(ourCPI) != 2 || len(ch.PeerCPI) != 2 {
			return nil, notifyErr(spec.NoProposalChosen, "IPComp chosen without a CPI on both ends")
		}
		sa.InboundCPI, sa.OutboundCPI = bytes.Clone(ourCPI), bytes.Clone(ch.PeerCPI)
	}
	d := st.Parent.k.set.D
	sa.InboundKey = oakley.KEYMAT(k.prf, d, k.gxyQM, sa.Proto, sa.InboundSPI, k.ni, k.nr, n)
	sa.OutboundKey = oakley.KEYMAT(k.prf, d, k.gxyQM, sa.Proto, sa.OutboundSPI, k.ni, k.nr, n)
	m.logKeys(KeyRecord{State: st, ICookie: st.ICookie, RCookie: st.RCookie, GXY: k.gxyQM, IPsec: sa})
	return sa, nil
}

// quickInR1OutI2: the initiator checks the reply and confirms with HASH(3).
func quickInR1OutI2(m *Machine, st *State, md *Digest) error {
	p1 := st.Parent
	k := st.k
	h, rest, err := leadingHash(md)
	if err != nil {
		return err
	}
	if !oakley.Equal(oakley.QuickHash2(k.prf, p1.k.set.A, st.MsgID, k.ni, rest), h.Data) {
		return notifyErr(spec.InvalidHashInformation, "received HASH(2) does not match computed value in Quick R1")
	}
	c := st.Conn
	ci, cr, err := quickIDs(md)
	if err != nil {
		return err
	}
	if c.HasClients {
		if ci == nil {
			return notifyErr(spec.InvalidIDInformation, "IDci, IDcr payloads missing in message but we sent them")
		}
		a, err1 := clientOf(ci)
		b, err2 := clientOf(cr)
		if err1 != nil || err2 != nil || a != c.localClient() || b != c.remoteClient() {
			return notifyErr(spec.InvalidIDInformation, "IDci, IDcr payloads do not match our proposal")
		}
	}
	sa := md.Msg.Find(spec.PayloadSA).(*payloads.SA)
	ch, err := proposal.AcceptPhase2Reply(sa, st.p2pol, m.cfg.MaxIPsecLifetime)
	if err != nil {
		return proposalErr(err)
	}
	st.P2, st.Lifetime = ch, minLife(ch.Lifetime, c.P2.Lifetime)
	if rl := responderLifetime(md); rl > 0 && rl < st.Lifetime {
		m.log(st, 0, "peer's RESPONDER-LIFETIME shortens the IPsec SA lifetime to %ds", int(rl/time.Second))
		st.Lifetime = rl
	}
	gx, err := m.pfsKE(st, md, ch.PFSGroup)
	if err != nil {
		return err
	}
	if gx != nil {
		if k.dh == nil {
			return notifyErr(spec.InvalidKeyInformation, "responder chose PFS but we did not propose it")
		}
		if k.gxyQM, err = k.dh.SharedSecret(gx); err != nil {
			return notifyErr(spec.InvalidKeyInformation, "peer's KE is unusable: %v", err)
		}
	}
	k.nr = bytes.Clone(md.Msg.Find(spec.PayloadNonce).(*payloads.Nonce).Data)
	sa2, err := m.ipsecSA(st, c.localClient(), c.remoteClient(), st.IPsec.InboundSPI, st.IPsec.InboundCPI)
	if err != nil {
		return err
	}
	if sa2.Encap {
		sa2.PeerOA = peerOA(md, false)
	}
	st.IPsec = sa2
	md.install = sa2
	hash := oakley.QuickHash3(k.prf, p1.k.set.A, st.MsgID, k.ni, k.nr)
	md.setReply(spec.PayloadHash, payloads.EncodePayloads([]payloads.Payload{&payloads.Hash{Data: hash}}))
	return nil
}

// quickInI2: the responder verifies HASH(3) and installs the outbound SA.
func quickInI2(m *Machine, st *State, md *Digest) error {
	p1 := st.Parent
	k := st.k
	h, _, err := leadingHash(md)
	if err != nil {
		return err
	}
	if !oakley.Equal(oakley.QuickHash3(k.prf, p1.k.set.A, st.MsgID, k.ni, k.nr), h.Data) {
		return notifyErr(spec.InvalidHashInformation, "received HASH(3) does not match computed value in Quick I2")
	}
	md.install = st.IPsec
	return nil
}

// minLife returns the shorter of two lifetimes (0 means no limit).
func minLife(a, b time.Duration) time.Duration {
	if a <= 0 || (b > 0 && b < a) {
		return b
	}
	return a
}

// proposedLifetime reads the seconds lifetime of the first transform of sa
// (as received: the reply echoes the peer's attributes).
func proposedLifetime(sa *payloads.SA) time.Duration {
	if sa == nil || len(sa.Proposals) == 0 || len(sa.Proposals[0].Transforms) == 0 {
		return 0
	}
	return secondsLifetime(sa.Proposals[0].Transforms[0].Attributes)
}

// secondsLifetime finds a LIFE_DURATION that follows LIFE_TYPE seconds.
func secondsLifetime(attrs []payloads.Attribute) time.Duration {
	seconds := false
	for _, a := range attrs {
		v, ok := a.Uint()
		switch spec.IPsecAttr(a.Type) {
		case spec.IPsecSALifeType:
			seconds = ok && v == uint64(spec.LifeSeconds)
		case spec.IPsecSALifeDuration:
			if seconds && ok && v < 1<<32 {
				return time.Duration(v) * time.Second
			}
		}
	}
	return 0
}

// responderLifetime reads a RESPONDER-LIFETIME notification in md.
func responderLifetime(md *Digest) time.Duration {
	for _, p := range md.Msg.All(spec.PayloadN) {
		if n, ok := p.(*payloads.Notify); ok && n.NotifyType == spec.ResponderLifetime {
			if attrs, err := payloads.DecodeAttributes(n.Data); err == nil {
				return secondsLifetime(attrs)
			}
		}
	}
	return 0
}
