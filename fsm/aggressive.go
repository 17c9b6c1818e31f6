package fsm

// Aggressive Mode (RFC 2409 §5), only when a connection asks for it
// (--aggrmode): three messages instead of six, identities in the clear and,
// with pre-shared keys, HASH_R open to offline guessing of the key.
//
//	Initiator                                    Responder
//	HDR, SA, KE, Ni, IDii                  -->                               aggr_outI1 / aggr_inI1_outR1
//	            <-- HDR, SA, KE, Nr, IDir, HASH_R (or SIG_R)                 aggr_inR1_outI2
//	HDR*, HASH_I (or SIG_I)                -->                               aggr_inI2
//
// The last message is sent encrypted (as pluto does); either form is
// accepted (libreswan PR #230: some peers send it in the clear).

import (
	"bytes"
	"net/netip"

	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// EarlySwitcher is implemented by an Env that can switch a responder to
// another connection before any key is chosen (Aggressive Mode: the ID
// comes first, in the clear), so that connection's own pre-shared key may
// differ from the one the first connection would have used. Without it,
// SwitchConn is asked, which keeps the key.
type EarlySwitcher interface {
	SwitchConnEarly(c *Conn, remote netip.AddrPort, peer ID) *Conn
}

// aggrOutI1 starts Aggressive Mode for c (pluto's aggr_outI1).
func (m *Machine) aggrOutI1(c *Conn, whack any, try int, replacing bool) {
	st := m.newState(StateAggrI1, c)
	st.Initiator, st.Whack, st.Try, st.replacing = true, whack, try, replacing
	st.ICookie = m.newCookie()
	st.Local, st.Remote = c.Local, c.Remote
	st.Auth = c.Auth
	st.k = &keys{}
	m.byCookies[cookieKey(st.ICookie, [8]byte{})] = st
	groups := proposal.Groups(c.P1.Algs)
	if len(groups) != 1 {
		m.log(st, 3, "Aggressive Mode needs exactly one DH group in --ike, the connection has %d", len(groups))
		m.deleteState(st, false)
		return
	}
	g, err := oakley.GroupByID(groups[0])
	if err == nil {
		st.k.group = g
		st.k.dh, err = g.GenerateKey(randReader{m})
	}
	if err != nil {
		m.log(st, 3, "cannot start Aggressive Mode: group %s: %v", groups[0], err)
		m.deleteState(st, false)
		return
	}
	if c.Auth.Base() == spec.AuthPSK {
		m.log(st, 3, "Aggressive Mode with a pre-shared key: the responder's HASH_R exposes the key to offline guessing")
	}
	st.k.gxi, st.k.ni = st.k.dh.Public(), m.random(nonceLen)
	sa := proposal.BuildPhase1SA(c.phase1Policy(true))
	id := m.localIDPayload(st)
	ps := []payloads.Payload{sa, &payloads.KE{Data: st.k.gxi}, &payloads.Nonce{Data: st.k.ni}, id}
	ps = append(append(ps, m.crPayloads(st)...), c.vendorIDs()...)
	chain := payloads.EncodePayloads(append(ps, m.nattVIDs(st)...))
	st.k.saiB = bytes.Clone(sa.Body())
	h := payloads.Header{ICookie: st.ICookie, Version: payloads.Version, Exchange: spec.ExchangeAggressive}
	st.lastSent = m.frame(st, h, spec.PayloadSA, chain, false)
	m.log(st, StateAggrI1.Code(), "%s: initiate", StateAggrI1)
	m.env.Send(st.lastSent, st.Local, st.Remote)
	m.schedule(st, EventRetransmit, m.cfg.RetransmitDelay)
}

// aggrInI1OutR1: the responder chooses, computes the keys and authenticates
// at once.
func aggrInI1OutR1(m *Machine, st *State, md *Digest) error {
	ch, err := m.selectPhase1(st, md)
	if err != nil {
		return err
	}
	gxi, ni, err := m.peerKE(st, md)
	if err != nil {
		return err
	}
	st.k.gxi, st.k.ni = gxi, ni
	m.noteCR(st, md)
	id := md.Msg.Find(spec.PayloadID).(*payloads.ID)
	if err := m.checkPeerID(st, id); err != nil {
		return err
	}
	// Our KE and nonce (outKENonce's reply is replaced below).
	if err := m.outKENonce(st, md, false); err != nil {
		return err
	}
	if err := m.deriveSKEYID(st, st.PeerID); err != nil {
		return err
	}
	if st.Auth.Base() == spec.AuthRSASig && !m.allowUnauthSign(st, md) {
		return &NotifyError{Reason: "signature budget for unauthenticated peers exhausted", Logged: true}
	}
	k := st.k
	ours := m.localIDPayload(st)
	hash := oakley.HashR(k.prf, k.set.SKEYID, k.gxi, k.gxr, st.ICookie[:], st.RCookie[:], k.saiB, ours.Body())
	auth, err := m.authPayload(st, hash)
	if err != nil {
		return err
	}
	ps := []payloads.Payload{ch.Reply, &payloads.KE{Data: k.gxr}, &payloads.Nonce{Data: k.nr}, ours}
	ps = append(append(ps, m.certPayloads(st, true)...), auth)
	ps = append(ps, st.Conn.vendorIDs()...)
	ps = append(ps, m.nattVIDs(st)...)
	md.setReply(spec.PayloadSA, payloads.EncodePayloads(append(ps, m.natdPayloads(st, md.To, md.From)...)))
	return nil
}

// aggrInR1OutI2: the initiator checks the choice and HASH_R, then
// authenticates itself.
func aggrInR1OutI2(m *Machine, st *State, md *Digest) error {
	c := st.Conn
	sa := md.Msg.Find(spec.PayloadSA).(*payloads.SA)
	ch, err := proposal.AcceptPhase1Reply(sa, c.phase1Policy(true), m.cfg.MaxIKELifetime)
	if err != nil {
		return proposalErr(err)
	}
	if ch.Alg.Group != st.k.group.ID {
		return notifyErr(spec.NoProposalChosen, "responder chose group %s, our KE is %s", ch.Alg.Group, st.k.group.ID)
	}
	if err := m.setupPhase1(st, ch); err != nil {
		return err
	}
	noteVendorIDs(st, md)
	m.noteNATTVendorIDs(st, md)
	delete(m.byCookies, cookieKey(st.ICookie, [8]byte{}))
	st.RCookie = md.Msg.Header.RCookie
	m.byCookies[cookieKey(st.ICookie, st.RCookie)] = st
	gxr, nr, err := m.peerKE(st, md)
	if err != nil {
		return err
	}
	st.k.gxr, st.k.nr = gxr, nr
	m.noteCR(st, md)
	id := md.Msg.Find(spec.PayloadID).(*payloads.ID)
	if err := m.checkPeerID(st, id); err != nil {
		return err
	}
	if err := m.deriveSKEYID(st, st.PeerID); err != nil {
		return err
	}
	k := st.k
	want := oakley.HashR(k.prf, k.set.SKEYID, k.gxi, k.gxr, st.ICookie[:], st.RCookie[:], k.saiB, id.Body())
	if err := m.verifyAuth(st, md, want); err != nil {
		return err
	}
	ours := m.localIDPayload(st)
	hash := oakley.HashI(k.prf, k.set.SKEYID, k.gxi, k.gxr, st.ICookie[:], st.RCookie[:], k.saiB, ours.Body())
	auth, err := m.authPayload(st, hash)
	if err != nil {
		return err
	}
	// NAT-D, and the move to the NAT-T port, come with our third message.
	m.natDetect(st, md)
	m.float(st)
	ps := append(m.certPayloads(st, false), auth)
	md.setReply(ps[0].Type(), payloads.EncodePayloads(append(ps, m.natdPayloads(st, st.Local, st.Remote)...)))
	return nil
}

// aggrInI2: the responder verifies HASH_I (or SIG_I), over the initiator's
// ID payload as received in the first message.
func aggrInI2(m *Machine, st *State, md *Digest) error {
	k := st.k
	want := oakley.HashI(k.prf, k.set.SKEYID, k.gxi, k.gxr, st.ICookie[:], st.RCookie[:], k.saiB, st.peerIDBody)
	if err := m.verifyAuth(st, md, want); err != nil {
		return err
	}
	m.natDetect(st, md)
	return nil
}
