package fsm

// Main Mode (RFC 2409 §5, identity protection exchange), pre-shared keys:
//
//	Initiator                          Responder
//	HDR, SA                     -->                       main_outI1 / main_inI1_outR1
//	                            <--    HDR, SA            main_inR1_outI2
//	HDR, KE, Ni                 -->                       main_inI2_outR2
//	                            <--    HDR, KE, Nr        main_inR2_outI3
//	HDR*, IDii, HASH_I          -->                       main_inI3_outR3
//	                            <--    HDR*, IDir, HASH_R main_inR3

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"net/netip"
	"time"

	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// nonceLen is the length of the nonces we send (RFC 2409 §5: 8..256 octets).
const nonceLen = 32

// Initiate starts negotiating c for a whack (which may be nil): Quick Mode
// at once when an ISAKMP SA for c is up, otherwise Main Mode first.
func (m *Machine) Initiate(now time.Time, c *Conn, whack any) {
	m.now = now
	m.initiate(c, whack, 1)
}

func (m *Machine) initiate(c *Conn, whack any, try int) {
	if p1 := m.isakmpFor(c); p1 != nil {
		if c.IPsec {
			if st := m.quickOutI1(p1, c, whack); st != nil {
				st.Try = try
			}
		} else {
			m.log(p1, 0, "ISAKMP SA already established")
			m.release(whack)
		}
		return
	}
	if c.AggrMode {
		m.aggrOutI1(c, whack, try, false)
		return
	}
	m.mainOutI1(c, whack, try, false)
}

// mainOutI1 starts Main Mode for c (pluto's main_outI1). With replacing,
// the new ISAKMP SA replaces an old one and starts no Quick Mode itself.
func (m *Machine) mainOutI1(c *Conn, whack any, try int, replacing bool) {
	m.mainOutI1At(c, whack, try, replacing, c.Local, c.Remote)
}

// mainOutI1At is mainOutI1 between the given addresses: a replacement for
// an SA through a NAT starts where the old one had floated to (the NAT-T
// port, whose NAT mapping the keepalives kept open).
func (m *Machine) mainOutI1At(c *Conn, whack any, try int, replacing bool, local, remote netip.AddrPort) {
	st := m.newState(StateMainI1, c)
	st.Initiator, st.Whack, st.Try, st.replacing = true, whack, try, replacing
	st.ICookie = m.newCookie()
	st.Local, st.Remote = local, remote
	st.NATT.Floated = local.Port() == m.nattPort() && m.cfg.NATTraversal
	st.k = &keys{}
	sa := proposal.BuildPhase1SA(c.phase1Policy(true))
	chain := payloads.EncodePayloads(append(append([]payloads.Payload{sa}, c.vendorIDs()...), m.nattVIDs(st)...))
	st.k.saiB = bytes.Clone(sa.Body())
	h := payloads.Header{ICookie: st.ICookie, Version: payloads.Version, Exchange: spec.ExchangeIDProt}
	st.lastSent = m.frame(st, h, spec.PayloadSA, chain, false)
	m.byCookies[cookieKey(st.ICookie, [8]byte{})] = st
	m.log(st, StateMainI1.Code(), "%s: initiate", StateMainI1)
	m.env.Send(st.lastSent, st.Local, st.Remote)
	m.schedule(st, EventRetransmit, m.cfg.RetransmitDelay)
}

// otherPhase1With reports whether a phase-1 state other than st exists
// with st's peer (any connection, established or not).
func (m *Machine) otherPhase1With(st *State) bool {
	for _, o := range m.bySerial {
		if o != st && o.Kind.IsPhase1() && o.Remote.Addr() == st.Remote.Addr() {
			return true
		}
	}
	return false
}

// isakmpFor returns an established ISAKMP SA for c's peer, the newest.
func (m *Machine) isakmpFor(c *Conn) *State {
	var best *State
	for _, st := range m.byConn[c.key()] {
		// (Addresses only: NAT-T moves an ISAKMP SA to another port.)
		if st.Kind.IsISAKMPEstablished() && st.Conn != nil && st.Conn.key() == c.key() && st.Remote.Addr() == c.Remote.Addr() {
			if best == nil || st.Serial > best.Serial {
				best = st
			}
		}
	}
	return best
}

// proposalErr turns a proposal refusal into the notification to send.
func proposalErr(err error) error {
	var pe *proposal.Error
	if errors.As(err, &pe) {
		return &NotifyError{Notify: pe.Notify, Reason: pe.Reason}
	}
	return notifyErr(spec.NoProposalChosen, "%v", err)
}

// setupPhase1 prepares the algorithms chosen for the ISAKMP SA.
func (m *Machine) setupPhase1(st *State, ch proposal.Phase1Choice) error {
	k := st.k
	var err error
	if k.prf, err = oakley.NewPRF(ch.Alg.Hash); err != nil {
		return notifyErr(spec.NoProposalChosen, "hash %s: %v", ch.Alg.Hash, err)
	}
	if k.cipher, err = oakley.NewCipher(ch.Alg.Enc, ch.Alg.KeyLen); err != nil {
		return notifyErr(spec.NoProposalChosen, "cipher %s: %v", ch.Alg.Enc, err)
	}
	if k.group, err = oakley.GroupByID(ch.Alg.Group); err != nil {
		return notifyErr(spec.NoProposalChosen, "group %s: %v", ch.Alg.Group, err)
	}
	st.P1, st.Auth, st.Lifetime = ch, ch.Auth, minLife(ch.Lifetime, st.Conn.P1.Lifetime)
	return nil
}

// mainInI1OutR1: HDR, SA --> HDR, SA. The responder picks the first
// acceptable transform.
func mainInI1OutR1(m *Machine, st *State, md *Digest) error {
	ch, err := m.selectPhase1(st, md)
	if err != nil {
		return err
	}
	md.setReply(spec.PayloadSA, payloads.EncodePayloads(append(append([]payloads.Payload{ch.Reply}, st.Conn.vendorIDs()...), m.nattVIDs(st)...)))
	return nil
}

// selectPhase1 is the responder's choice from the initiator's SA (Main and
// Aggressive Mode): the first acceptable transform, its algorithms set up,
// SAi_b kept for the authentication hashes.
func (m *Machine) selectPhase1(st *State, md *Digest) (proposal.Phase1Choice, error) {
	sa := md.Msg.Find(spec.PayloadSA).(*payloads.SA)
	ch, err := proposal.SelectPhase1(sa, st.Conn.phase1Policy(false), m.cfg.MaxIKELifetime)
	if err != nil {
		return ch, proposalErr(err)
	}
	if err := m.setupPhase1(st, ch); err != nil {
		return ch, err
	}
	st.k.saiB = bytes.Clone(sa.Body())
	noteVendorIDs(st, md)
	m.noteNATTVendorIDs(st, md)
	return ch, nil
}

// mainInR1OutI2: HDR, SA --> HDR, KE, Ni. The initiator checks the choice
// and sends its DH value and nonce.
func mainInR1OutI2(m *Machine, st *State, md *Digest) error {
	sa := md.Msg.Find(spec.PayloadSA).(*payloads.SA)
	ch, err := proposal.AcceptPhase1Reply(sa, st.Conn.phase1Policy(true), m.cfg.MaxIKELifetime)
	if err != nil {
		return proposalErr(err)
	}
	if err := m.setupPhase1(st, ch); err != nil {
		return err
	}
	noteVendorIDs(st, md)
	m.noteNATTVendorIDs(st, md)
	// Now the responder's cookie is known: index by the full pair.
	delete(m.byCookies, cookieKey(st.ICookie, [8]byte{}))
	st.RCookie = md.Msg.Header.RCookie
	m.byCookies[cookieKey(st.ICookie, st.RCookie)] = st
	return m.outKENonce(st, md, true, m.natdPayloads(st, st.Local, st.Remote)...)
}

// outKENonce generates our DH value and nonce and replies with KE, Ni/Nr
// and the extra payloads (NAT-D).
func (m *Machine) outKENonce(st *State, md *Digest, initiator bool, extra ...payloads.Payload) error {
	k := st.k
	dh, err := m.dhKey(st)
	if err != nil {
		return notifyErr(spec.NotifyNone, "DH key generation failed: %v", err)
	}
	k.dh = dh
	nonce := m.random(nonceLen)
	if initiator {
		k.gxi, k.ni = dh.Public(), nonce
	} else {
		k.gxr, k.nr = dh.Public(), nonce
	}
	md.setReply(spec.PayloadKE, payloads.EncodePayloads(append([]payloads.Payload{
		&payloads.KE{Data: dh.Public()}, &payloads.Nonce{Data: nonce},
	}, extra...)))
	return nil
}

// peerKE reads and checks the peer's KE and nonce (CVE-2015-3240: a
// degenerate DH value is refused, never asserted on).
func (m *Machine) peerKE(st *State, md *Digest) (gx, nonce []byte, err error) {
	ke := md.Msg.Find(spec.PayloadKE).(*payloads.KE)
	n := md.Msg.Find(spec.PayloadNonce).(*payloads.Nonce)
	if len(ke.Data) != st.k.group.PublicLen() {
		return nil, nil, notifyErr(spec.InvalidKeyInformation, "KE has %d octets, %s needs %d",
			len(ke.Data), st.k.group.ID, st.k.group.PublicLen())
	}
	return bytes.Clone(ke.Data), bytes.Clone(n.Data), nil
}

// mainInI2OutR2: HDR, KE, Ni --> HDR, KE, Nr [, CR]. The responder computes
// the shared secret and SKEYID (the PSK is found by address: the ID is still
// to come, encrypted).
func mainInI2OutR2(m *Machine, st *State, md *Digest) error {
	gxi, ni, err := m.peerKE(st, md)
	if err != nil {
		return err
	}
	st.k.gxi, st.k.ni = gxi, ni
	m.natDetect(st, md)
	m.noteCR(st, md)
	if err := m.outKENonce(st, md, false, append(m.natdPayloads(st, md.To, md.From), m.crPayloads(st)...)...); err != nil {
		return err
	}
	return m.deriveSKEYID(st, AddrID(st.Remote.Addr()))
}

// mainInR2OutI3: HDR, KE, Nr [, CR] --> HDR*, IDii, [CERT, CR,] HASH_I (or SIG_I).
func mainInR2OutI3(m *Machine, st *State, md *Digest) error {
	gxr, nr, err := m.peerKE(st, md)
	if err != nil {
		return err
	}
	st.k.gxr, st.k.nr = gxr, nr
	m.natDetect(st, md)
	m.float(st)
	m.noteCR(st, md)
	peer := st.Conn.RemoteID
	if peer.Type == 0 {
		peer = AddrID(st.Remote.Addr())
	}
	if err := m.deriveSKEYID(st, peer); err != nil {
		return err
	}
	id := m.localIDPayload(st)
	k := st.k
	hash := oakley.HashI(k.prf, k.set.SKEYID, k.gxi, k.gxr, st.ICookie[:], st.RCookie[:], k.saiB, id.Body())
	auth, err := m.authPayload(st, hash)
	if err != nil {
		return err
	}
	ps := append(append([]payloads.Payload{id}, m.certPayloads(st, true)...), auth)
	if !m.otherPhase1With(st) && !st.replacing {
		// Our first ISAKMP SA with this peer: tell it to drop anything it
		// still has from us (RFC 2407 §4.6.3.3). Not while another is up or
		// being negotiated with it (another connection to the same peer):
		// the peer would delete that one.
		ps = append(ps, &payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP,
			SPI: cookiePair(st), NotifyType: spec.InitialContact})
	}
	md.setReply(spec.PayloadID, payloads.EncodePayloads(ps))
	return nil
}

// localIDPayload builds our phase-1 ID payload (protocol and port zero)
// and encodes it so that its body is available for HASH_I/HASH_R.
func (m *Machine) localIDPayload(st *State) *payloads.ID {
	id := st.Conn.LocalID
	if id.Type == 0 {
		id = AddrID(st.Local.Addr())
	}
	p := &payloads.ID{IDType: id.Type, Data: id.Data}
	payloads.EncodePayloads([]payloads.Payload{p})
	return p
}

// deriveSKEYID computes g^xy, SKEYID, SKEYID_d/a/e, the encryption key and
// the phase-1 IV (RFC 2409 §5, Appendix B).
func (m *Machine) deriveSKEYID(st *State, peer ID) error {
	k := st.k
	peerPub := k.gxr
	if !st.Initiator {
		peerPub = k.gxi
	}
	gxy, err := m.sharedSecret(st, peerPub)
	if err != nil {
		return notifyErr(spec.InvalidKeyInformation, "peer's KE is unusable: %v", err)
	}
	defer clear(gxy)
	var skeyid []byte
	switch st.Auth.Base() {
	case spec.AuthPSK:
		psk, ok := m.env.PSK(st.Conn, peer)
		if !ok {
			return notifyErr(spec.AuthenticationFailed, "Can't authenticate: no preshared key found for `%s' and `%s'",
				m.localID(st), peer)
		}
		skeyid = oakley.SKEYIDPSK(k.prf, psk, k.ni, k.nr)
	case spec.AuthRSASig:
		skeyid = oakley.SKEYIDSig(k.prf, k.ni, k.nr, gxy)
	default:
		return notifyErr(spec.InvalidKeyInformation, "authentication method %s is not supported", st.Auth)
	}
	k.set = oakley.DeriveKeySet(k.prf, skeyid, gxy, st.ICookie[:], st.RCookie[:])
	clear(skeyid)
	k.encKey = oakley.EncryptionKey(k.prf, k.set.E, k.cipher.KeyLen)
	k.iv = oakley.Phase1IV(k.prf, k.gxi, k.gxr, k.cipher.BlockSize)
	m.logKeys(KeyRecord{State: st, Phase1: true, ICookie: st.ICookie, RCookie: st.RCookie,
		Cipher: k.cipher.ID, KeyLen: k.cipher.KeyLen, Hash: k.prf.Hash(), GXY: gxy,
		SKEYID: k.set.SKEYID, SKEYIDd: k.set.D, SKEYIDa: k.set.A, SKEYIDe: k.set.E, EncKey: k.encKey})
	return nil
}

func (m *Machine) localID(st *State) ID {
	if st.Conn.LocalID.Type != 0 {
		return st.Conn.LocalID
	}
	return AddrID(st.Local.Addr())
}

// checkPeerID accepts the peer's ID payload when the connection does not
// name the peer, or names exactly this identity.
func (m *Machine) checkPeerID(st *State, id *payloads.ID) error {
	got := ID{Type: id.IDType, Data: bytes.Clone(id.Data)}
	want := st.Conn.RemoteID
	if want.Type == 0 {
		want = AddrID(st.Remote.Addr())
	}
	if !want.Matches(got) {
		// A responder may switch to a connection made for this identity
		// (pluto's refine_host_connection), if it uses the same keys.
		if st.Initiator {
			return notifyErr(spec.InvalidIDInformation, "we require peer to have ID '%s', but peer declares '%s'", want, got)
		}
		var c *Conn
		if es, ok := m.env.(EarlySwitcher); ok && st.k != nil && st.k.set.SKEYID == nil {
			c = es.SwitchConnEarly(st.Conn, st.Remote, got) // Aggressive Mode: no key chosen yet
		} else {
			c = m.env.SwitchConn(st.Conn, st.Remote, got)
		}
		if c == nil {
			return notifyErr(spec.InvalidIDInformation, "no suitable connection for peer '%s' (%q requires '%s')", got, st.Conn.Name, want)
		}
		m.log(st, 0, "switched from %q to %q for peer ID '%s'", st.Conn.Name, c.Name, got)
		m.setConn(st, c)
	}
	st.PeerID = got
	st.peerIDBody = bytes.Clone(id.Body())
	return nil
}

// mainInI3OutR3: HDR*, IDii, [CERT, CR,] HASH_I --> HDR*, IDir, [CERT,] HASH_R.
func mainInI3OutR3(m *Machine, st *State, md *Digest) error {
	m.noteCR(st, md)
	id := md.Msg.Find(spec.PayloadID).(*payloads.ID)
	if err := m.checkPeerID(st, id); err != nil {
		return err
	}
	k := st.k
	want := oakley.HashI(k.prf, k.set.SKEYID, k.gxi, k.gxr, st.ICookie[:], st.RCookie[:], k.saiB, id.Body())
	if err := m.verifyAuth(st, md, want); err != nil {
		return err
	}
	noteInitialContact(st, md)
	ours := m.localIDPayload(st)
	hash := oakley.HashR(k.prf, k.set.SKEYID, k.gxi, k.gxr, st.ICookie[:], st.RCookie[:], k.saiB, ours.Body())
	auth, err := m.authPayload(st, hash)
	if err != nil {
		return err
	}
	ps := append(append([]payloads.Payload{ours}, m.certPayloads(st, false)...), auth)
	md.setReply(spec.PayloadID, payloads.EncodePayloads(ps))
	return nil
}

// mainInR3: HDR*, IDir, HASH_R -->. The ISAKMP SA is established.
func mainInR3(m *Machine, st *State, md *Digest) error {
	id := md.Msg.Find(spec.PayloadID).(*payloads.ID)
	if err := m.checkPeerID(st, id); err != nil {
		return err
	}
	k := st.k
	want := oakley.HashR(k.prf, k.set.SKEYID, k.gxi, k.gxr, st.ICookie[:], st.RCookie[:], k.saiB, id.Body())
	if err := m.verifyAuth(st, md, want); err != nil {
		return err
	}
	noteInitialContact(st, md)
	return nil
}

// authPayload authenticates hash (HASH_I or HASH_R): the HASH payload
// itself with pre-shared keys, an RSA signature over it otherwise (RFC 2409
// §5.1: PKCS#1 v1.5 over the raw hash).
func (m *Machine) authPayload(st *State, hash []byte) (payloads.Payload, error) {
	if st.Auth.Base() != spec.AuthRSASig {
		return &payloads.Hash{Data: hash}, nil
	}
	key, ok := m.env.LocalKey(st.Conn)
	if !ok {
		return nil, notifyErr(spec.AuthenticationFailed, "unable to locate my private key for RSA Signature")
	}
	sig, err := oakley.SignHash(key, hash)
	if err != nil {
		return nil, notifyErr(spec.AuthenticationFailed, "RSA signature failed: %v", err)
	}
	return &payloads.Sig{Data: sig}, nil
}

// verifyAuth checks the peer's HASH or SIG payload against want, in
// constant time for hashes and strictly (re-encode and compare) for
// signatures (CVE-2018-15836).
func (m *Machine) verifyAuth(st *State, md *Digest, want []byte) error {
	if st.Auth.Base() != spec.AuthRSASig {
		got := md.Msg.Find(spec.PayloadHash).(*payloads.Hash)
		if !oakley.Equal(want, got.Data) {
			return notifyErr(spec.InvalidHashInformation, "received Hash Payload does not match computed value")
		}
		return nil
	}
	sig := md.Msg.Find(spec.PayloadSig).(*payloads.Sig)
	certKey, err := m.peerCertKey(st, md)
	if err != nil {
		return err
	}
	keys, how := m.env.PeerKeys(st.Conn, st.PeerID), ""
	if certKey != nil {
		// The certificate the peer sent (checked by the Env) is the key.
		keys, how = []*rsa.PublicKey{certKey}, " (X.509 certificate)"
	}
	if len(keys) == 0 {
		return notifyErr(spec.AuthenticationFailed, "no RSA public key known for '%s' and no certificate received", st.PeerID)
	}
	for _, k := range keys {
		if oakley.VerifyHash(k, want, sig.Data) == nil {
			m.log(st, 0, "authenticated peer '%s' with a %d-bit RSA signature%s", st.PeerID, k.N.BitLen(), how)
			return nil
		}
	}
	return notifyErr(spec.InvalidSignature, "RSA Signature check (on %s) failed: no public key verifies it", st.PeerID)
}

// noteInitialContact records an INITIAL-CONTACT notification in the
// (decrypted, authenticated) last Main Mode message.
func noteInitialContact(st *State, md *Digest) {
	for _, p := range md.Msg.All(spec.PayloadN) {
		if n, ok := p.(*payloads.Notify); ok && n.NotifyType == spec.InitialContact {
			st.initialContact = true
		}
	}
}

// releasePending starts the Quick Mode an initiating whack asked for, once
// its ISAKMP SA is up (pluto's SMF_RELEASE_PENDING_P2).
func (m *Machine) releasePending(p1 *State) {
	if !p1.Initiator || p1.Conn == nil {
		return
	}
	w := p1.Whack
	p1.Whack = nil
	if p1.Conn.IPsec && !p1.replacing {
		m.quickOutI1(p1, p1.Conn, w)
		return
	}
	m.release(w)
}

// unexpected handles a message in a state that expects none.
func unexpected(m *Machine, st *State, md *Digest) error {
	return errors.New("unexpected message received in state " + st.Kind.String())
}

// randReader adapts Env.Rand to io.Reader for key generation.
type randReader struct{ m *Machine }

func (r randReader) Read(b []byte) (int, error) {
	r.m.env.Rand(b)
	return len(b), nil
}
