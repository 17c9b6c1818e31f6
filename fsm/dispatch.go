package fsm

// One packet, from socket to state change (pluto's process_v1_packet and
// complete_v1_state_transition):
//
//	HandlePacket   decode the header and payload chain (payloads.DecodeMessage)
//	demux          find the state by cookies and message ID, or make one
//	duplicate?     byte-identical to the last message: resend our reply or drop
//	rowFor         the Table row for the state and its auth method
//	decrypt        when the row expects encryption: IV chain, CBC, payload chain
//	checkPayloads  the row's required and optional payloads, before any processor
//	Processor      computes; leaves a reply in the digest
//	commit         guard (looplab/fsm), new state, reply encrypted and sent, timer, log

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// NotifyError is a processor's refusal: the reason is logged and, where the
// RFC says so, Notify is sent to the peer.
type NotifyError struct {
	Notify spec.NotifyType
	Reason string
	// Fatal deletes the state, telling the peer (an XAUTH failure).
	Fatal bool
	// Logged: the reason has been logged already (throttled, for floods).
	Logged bool
}

func (e *NotifyError) Error() string { return e.Reason }

func notifyErr(n spec.NotifyType, format string, a ...any) error {
	return &NotifyError{Notify: n, Reason: fmt.Sprintf(format, a...)}
}

// HandlePacket processes one received datagram (the non-ESP marker, if any,
// already removed). Nothing a peer sends can make it panic: bad input is
// dropped and logged with the reason.
func (m *Machine) HandlePacket(now time.Time, b []byte, from, to netip.AddrPort) {
	m.now = now
	msg, err := payloads.DecodeMessage(b)
	if err != nil {
		m.logPacket(from, 3, "dropping malformed packet: %v", err)
		return
	}
	h := &msg.Header
	if h.ICookie == [8]byte{} {
		m.logPacket(from, 3, "dropping packet with zero initiator cookie")
		return
	}
	if h.Flags&spec.FlagCommit != 0 {
		m.debug(nil, "packet from %s has the Commit Flag set but Pluto doesn't implement this feature; ignoring flag", from)
	}
	md := &Digest{Msg: msg, From: from, To: to}
	switch h.Exchange {
	case spec.ExchangeIDProt, spec.ExchangeAggressive:
		m.mainModePacket(md, b)
	case spec.ExchangeQuick:
		m.quickPacket(md, b)
	case spec.ExchangeInfo:
		m.infoPacket(md, b)
	case spec.ExchangeModeCfg:
		m.transactionPacket(md, b)
	default:
		m.logPacket(from, 3, "dropping packet with unsupported exchange type %s", h.Exchange)
	}
}

// mainModePacket demultiplexes Main Mode and Aggressive Mode messages: by
// cookies, a new responder state for a first message.
func (m *Machine) mainModePacket(md *Digest, raw []byte) {
	h := &md.Msg.Header
	aggr := h.Exchange == spec.ExchangeAggressive
	if h.MessageID != 0 {
		m.logPacket(md.From, 3, "Main Mode message has non-zero Message ID %08x; dropped", h.MessageID)
		return
	}
	if h.RCookie == [8]byte{} && h.Flags&spec.FlagEncryption != 0 {
		// Checked before a state is made: a state made for it would be
		// refused by its row and never deleted.
		m.logPacket(md.From, 3, "initial Main Mode message is invalid: its Encrypted Flag is on; dropped")
		return
	}
	st := m.byCookies[cookieKey(h.ICookie, h.RCookie)]
	if st != nil && st.Initiator && h.RCookie == [8]byte{} {
		// Our own MI1 reflected back: a reply always has the responder's cookie.
		m.log(st, 3, "Main Mode message with a zero responder cookie is not a reply; dropped")
		return
	}
	if st == nil && h.RCookie != [8]byte{} {
		// MR1: our MainI1 state does not know the responder cookie yet.
		if i := m.byCookies[cookieKey(h.ICookie, [8]byte{})]; i != nil && (i.Kind == StateMainI1 || i.Kind == StateAggrI1) {
			st = i
		}
	}
	if st != nil && st.Kind.IsAggressive() != aggr {
		m.log(st, 3, "%s message for a state in %s; dropped", h.Exchange, st.Kind)
		return
	}
	if st == nil {
		if h.RCookie != [8]byte{} {
			m.logPacket(md.From, 3, "Main Mode message is for a non-existent (expired?) ISAKMP SA; dropped")
			return
		}
		if !m.admitNew(md) {
			return
		}
		c := m.env.ResponderConn(md.To, md.From)
		if c == nil {
			m.logPacket(md.From, 3, "initial %s message received on %s but no connection has been authorized", h.Exchange, md.To)
			m.sendClearNotify(md, spec.NoProposalChosen)
			return
		}
		kind := StateMainR0
		if aggr {
			if !c.AggrMode {
				m.logPacket(md.From, 3, "initial Aggressive Mode message for %q, which does not allow Aggressive Mode", c.Name)
				m.sendClearNotify(md, spec.NoProposalChosen)
				return
			}
			kind = StateAggrR0
		}
		st = m.newState(kind, c)
		m.setHalfOpen(st, true)
		m.setYoung(st)
		st.ICookie = h.ICookie
		st.RCookie = m.newCookie()
		st.Local, st.Remote = md.To, md.From
		st.k = &keys{}
		m.byCookies[cookieKey(st.ICookie, st.RCookie)] = st
		// A duplicate MI1 (zero responder cookie) must find this state too.
		m.byCookies[cookieKey(st.ICookie, [8]byte{})] = st
		m.debug(st, "responding to %s from %s", h.Exchange, md.From)
	} else if st.busy {
		m.debug(st, "message received while calculating. Ignored.")
		return
	} else if m.duplicate(st, raw) {
		return
	}
	m.process(st, md, raw)
}

func (m *Machine) quickPacket(md *Digest, raw []byte) {
	h := &md.Msg.Header
	p1 := m.byCookies[cookieKey(h.ICookie, h.RCookie)]
	if p1 == nil || !p1.Kind.IsISAKMPEstablished() {
		m.logPacket(md.From, 3, "Quick Mode message is for a non-existent or unestablished ISAKMP SA; dropped")
		return
	}
	if h.MessageID == 0 {
		m.log(p1, 3, "Quick Mode message with Message ID 0 is invalid; dropped")
		return
	}
	// Through a NAT the peer may have moved: it is followed once the
	// message authenticates (notePeerAddress).
	if md.From != p1.Remote && p1.NATT.Method == NATTNone {
		m.log(p1, 3, "Quick Mode message from %s, but the ISAKMP SA peer is %s; dropped", md.From, p1.Remote)
		return
	}
	key := msgKey{cookieKey(h.ICookie, h.RCookie), h.MessageID}
	st := m.byMsgID[key]
	if st == nil {
		if p1.usedMsgIDs[h.MessageID] {
			m.log(p1, 3, "Quick Mode message with a reused Message ID %08x; dropped", h.MessageID)
			return
		}
		if h.Flags&spec.FlagEncryption == 0 {
			m.log(p1, 3, "Quick Mode message is not encrypted; dropped")
			return
		}
		p1.useMsgID(h.MessageID)
		st = m.newQuickState(StateQuickR0, p1, p1.Conn, h.MessageID)
		st.Whack = nil
		m.byMsgID[key] = st
	} else if m.duplicate(st, raw) {
		return
	}
	m.process(st, md, raw)
}

// newQuickState makes a Quick Mode state under ISAKMP SA p1 with its IV.
func (m *Machine) newQuickState(kind StateKind, p1 *State, c *Conn, msgid uint32) *State {
	st := m.newState(kind, c)
	st.Parent, st.MsgID = p1, msgid
	st.ICookie, st.RCookie = p1.ICookie, p1.RCookie
	st.Local, st.Remote = p1.Local, p1.Remote
	st.Auth = p1.Auth
	pk := p1.k
	st.k = &keys{prf: pk.prf, cipher: pk.cipher,
		iv: oakley.Phase2IV(pk.prf, pk.iv, msgid, pk.cipher.BlockSize)}
	return st
}

func (m *Machine) infoPacket(md *Digest, raw []byte) {
	h := &md.Msg.Header
	p1 := m.byCookies[cookieKey(h.ICookie, h.RCookie)]
	if p1 == nil {
		p1 = m.byCookies[cookieKey(h.ICookie, [8]byte{})]
	}
	encrypted := h.Flags&spec.FlagEncryption != 0
	if !encrypted {
		if p1 != nil && p1.Kind.IsISAKMPKeyed() {
			m.log(p1, 3, "Informational Exchange message must be encrypted; dropped")
			return
		}
		// Unauthenticated: log what it says, trust nothing.
		info := &State{Kind: StateInfo}
		info.timer.index, info.dpdTimer.index = -1, -1
		if p1 != nil {
			info = p1
		}
		m.runInfo(info, StateInfo, md, raw)
		return
	}
	if p1 == nil {
		m.logPacket(md.From, 3, "Informational Exchange is for an unknown (expired?) SA with MSGID:0x%08x; dropped", h.MessageID)
		return
	}
	// MAIN_I3 has its keys too: a responder that refuses MI3 tells why
	// in an encrypted notification (logged, nothing else: informational).
	if p1.k == nil || p1.k.encKey == nil || !(p1.Kind.IsISAKMPKeyed() || p1.Kind == StateMainI3) {
		m.log(p1, 3, "encrypted Informational Exchange message is invalid because no key is known; dropped")
		return
	}
	if h.MessageID == 0 || p1.usedMsgIDs[h.MessageID] {
		m.log(p1, 3, "Informational Exchange message with a zero or reused Message ID %08x; dropped", h.MessageID)
		return
	}
	if md.From != p1.Remote && p1.NATT.Method == NATTNone {
		m.log(p1, 3, "Informational Exchange message from %s, but the ISAKMP SA peer is %s; dropped", md.From, p1.Remote)
		return
	}
	m.runInfo(p1, StateInfoProtected, md, raw)
}

// runInfo processes an Informational message on behalf of p1 (which keeps
// its own state): the row is INFO or INFO_PROTECTED.
func (m *Machine) runInfo(p1 *State, kind StateKind, md *Digest, raw []byte) {
	row := rowFor(kind, AuthSetAll)
	if kind == StateInfoProtected {
		k, msgid := p1.k, md.Msg.Header.MessageID
		iv := oakley.Phase2IV(k.prf, k.iv, msgid, k.cipher.BlockSize)
		_, err := m.decrypt(p1, md, iv)
		if err != nil && p1.Kind == StateMainI3 {
			// libreswan, refusing MI3, has no "last phase-1 IV" yet and
			// hashes the Message ID alone.
			_, err = m.decrypt(p1, md, oakley.Phase2IV(k.prf, nil, msgid, k.cipher.BlockSize))
		}
		if err != nil {
			m.log(p1, 3, "dropping Informational Exchange message: %v", err)
			return
		}
	}
	if err := m.checkPayloads(row, md); err != nil {
		m.log(p1, 3, "dropping Informational Exchange message: %v", err)
		return
	}
	if err := row.Processor(m, p1, md); err != nil {
		m.log(p1, 3, "Informational Exchange message: %v", err)
		return
	}
	if kind == StateInfoProtected && m.bySerial[p1.Serial] == p1 {
		p1.useMsgID(md.Msg.Header.MessageID)
	}
}

// duplicate handles a byte-identical copy of the last message a state
// received: answered with our last message when the state's row allows it
// (at most twice), otherwise dropped.
func (m *Machine) duplicate(st *State, raw []byte) bool {
	if st.lastRecv == nil || string(st.lastRecv) != string(raw) {
		return false
	}
	row := rowFor(st.Kind, authOrAll(st.Auth))
	if row != nil && row.Flags&FlagRetransmitOnDuplicate != 0 && st.lastSent != nil && st.dupReplies < m.maxRetransmits(st.Kind) {
		st.dupReplies++
		m.log(st, 0, "retransmitting in response to duplicate packet; already %s", st.Kind)
		m.env.Send(st.lastSent, st.Local, st.Remote)
	} else {
		m.debug(st, "discarding duplicate packet; already %s", st.Kind)
	}
	return true
}

func authOrAll(a spec.AuthMethod) AuthSet {
	if s := authSetOf(a); s != 0 {
		return s
	}
	return AuthSetAll
}

// process runs the row for st on md and commits the transition; it
// reports whether the transition was committed.
func (m *Machine) process(st *State, md *Digest, raw []byte) bool {
	row := rowFor(st.Kind, authOrAll(st.Auth))
	if row == nil {
		m.log(st, 3, "no transition from %s for this authentication method; dropped", st.Kind)
		return false
	}
	encrypted := md.Msg.Header.Flags&spec.FlagEncryption != 0
	switch {
	case row.Flags&FlagInputEncrypted != 0 && !encrypted:
		m.log(st, 3, "packet rejected: should have been encrypted")
		return false
	case row.Flags&FlagInputEncrypted == 0 && encrypted && row.Flags&FlagFirstEncryptedInput == 0:
		// (A row with FE but not IE takes either: the last Aggressive Mode
		// message is encrypted by some peers and not by others.)
		m.log(st, 3, "packet rejected: should not have been encrypted")
		return false
	}
	if encrypted {
		if st.k == nil || st.k.encKey == nil && st.Parent == nil {
			m.log(st, 3, "discarding encrypted message: no keys yet")
			return false
		}
		next, err := m.decrypt(st, md, *st.k.chain(md.Msg.Header.Exchange))
		if err != nil {
			m.reject(st, md, row, notifyErr(spec.PayloadMalformed, "%v", err))
			return false
		}
		st.k.newIV = next
	}
	if err := m.checkPayloads(row, md); err != nil {
		m.reject(st, md, row, err)
		return false
	}
	if row.To == StateUndefined {
		if err := row.Processor(m, st, md); err != nil {
			m.log(st, 3, "%v", err)
		}
		return false
	}
	if m.offload(st, row, md, raw) {
		return false // processed (and committed) when the DH work is done
	}
	err := row.Processor(m, st, md)
	if st.k != nil && st.k.pre != nil {
		st.k.pre.zero()
		st.k.pre = nil
	}
	if err != nil {
		m.reject(st, md, row, err)
		return false
	}
	if row.Flags&(FlagInputEncrypted|FlagFirstEncryptedInput) != 0 {
		// Authenticated: a peer behind a NAT may have moved.
		m.notePeerAddress(st, md)
	}
	if md.install != nil {
		if err := m.env.Install(st, md.install, md.inboundOnly); err != nil {
			m.installFailed(st, err)
			return false
		}
	}
	m.commit(st, md, row, raw)
	return true
}

// installFailed ends the Quick Mode st whose SA pair the kernel (or the
// routing rules) refused; the Env has taken out whatever that Install put
// in. The whack attached hears why (RC_INTERNALERR, with the kernel's
// error) and is released; what was installed before (a responder's
// inbound half) goes. The peer is told to delete what it installed for
// this exchange (a Delete of our inbound SPI, its outbound) unless it has
// installed nothing yet: a responder in QUICK_R0 stays silent, as pluto
// does, and the initiator's retransmissions fail the same way until it
// gives up.
func (m *Machine) installFailed(st *State, err error) {
	m.log(st, 32, "state transition function for %s had internal error: %v", st.Kind, err)
	if st.Kind == StateQuickR0 {
		st.IPsec = nil
	} else if p1 := m.liveParent(st); p1 != nil && st.IPsec != nil && len(st.IPsec.InboundSPI) > 0 {
		m.log(st, 0, "deleting IPsec SA %s 0x%x: it could not be installed", protoShort(st.IPsec.Proto), st.IPsec.InboundSPI)
		m.sendInfo(p1, &payloads.Delete{DOI: spec.DOIIPsec, Protocol: st.IPsec.Proto,
			SPISize: uint8(len(st.IPsec.InboundSPI)), SPIs: [][]byte{st.IPsec.InboundSPI}})
	}
	m.deleteState(st, false)
}

// decrypt decrypts md's body under st's keys with iv, decodes the payload
// chain and returns the IV that follows. One outcome is observable: the
// message is usable or it is not (no padding oracle).
func (m *Machine) decrypt(st *State, md *Digest, iv []byte) ([]byte, error) {
	k := st.k
	if st.Parent != nil {
		k = &keys{prf: st.k.prf, cipher: st.k.cipher, encKey: st.Parent.k.encKey}
	}
	pt, next, err := k.cipher.Decrypt(k.encKey, iv, md.Msg.Body())
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt: %v", err)
	}
	if err := md.Msg.SetDecrypted(pt); err != nil {
		m.debug(st, "decrypted payloads do not parse: %v", err)
		return nil, errors.New("message does not decrypt to valid payloads (wrong keys, e.g. a pre-shared key mismatch?)")
	}
	return next, nil
}

// checkPayloads enforces the row's payload lists before the processor runs
// (the lesson of CVE-2013-6466: a missing payload must never reach a processor).
func (m *Machine) checkPayloads(row *Row, md *Digest) error {
	if err := payloads.RejectUnknown(md.Msg.Payloads); err != nil {
		return notifyErr(spec.InvalidPayloadType, "%v", err)
	}
	var counts [256]uint8
	for _, p := range md.Msg.Payloads {
		t := p.Type()
		if counts[t] < 255 {
			counts[t]++
		}
		md.Present.Add(t)
		if !row.Required.Has(t) && !row.Optional.Has(t) && !everywhere.Has(t) {
			return notifyErr(spec.InvalidPayloadType, "message for %s has an unexpected payload of type %s", row.From, t)
		}
	}
	for _, t := range row.Required.Types() {
		switch counts[t] {
		case 0:
			return notifyErr(spec.PayloadMalformed, "message for %s is missing a payload of type %s", row.From, t)
		case 1:
		default:
			if !row.Optional.Has(t) {
				return notifyErr(spec.PayloadMalformed, "message for %s has more than one payload of type %s", row.From, t)
			}
		}
	}
	return nil
}

// reject logs a failed message and answers with a Notification where pluto
// would. A half-open responder state that failed on its first message is
// deleted; other states keep waiting (the peer may still send a good one).
func (m *Machine) reject(st *State, md *Digest, row *Row, err error) {
	var ne *NotifyError
	if !errors.As(err, &ne) {
		ne = &NotifyError{Notify: spec.PayloadMalformed, Reason: err.Error()}
	}
	if !ne.Logged {
		m.log(st, 3, "%s: %s", st.Kind, ne.Reason)
	}
	if ne.Notify != spec.NotifyNone {
		switch {
		case st.Kind.IsQuick() && st.Parent != nil:
			m.sendEncryptedNotify(st.Parent, ne.Notify, st.MsgID)
		case st.Kind.IsPhase15():
			m.sendEncryptedNotify(st, ne.Notify, st.k.txMsgID)
		default:
			m.sendClearNotifyFor(st, ne.Notify)
		}
	}
	if st.Kind == StateMainR0 || st.Kind == StateAggrR0 || st.Kind == StateQuickR0 {
		m.deleteState(st, false)
	}
	if ne.Fatal {
		m.deleteState(st, true)
	}
}

// commit completes a successful transition: the guard derived from Table
// confirms it, the new state is entered, the reply sent and the timer armed.
func (m *Machine) commit(st *State, md *Digest, row *Row, raw []byte) {
	if !m.guard.allow(row) {
		m.log(st, 32, "BUG: transition %s -> %s refused by the guard", row.From, row.To)
		return
	}
	from := st.Kind
	st.Kind = row.To
	if st.Parent != nil && st.Kind.IsQuick() {
		st.Parent.dpdLastHeard = m.now // an authenticated message on the ISAKMP SA
	}
	st.lastRecv = append(st.lastRecv[:0], raw...)
	st.dupReplies = 0
	if st.k != nil && st.k.newIV != nil {
		*st.k.chain(md.Msg.Header.Exchange), st.k.newIV = st.k.newIV, nil
	}
	st.txAnswered = false
	if row.Flags&FlagReply != 0 && md.replyFirst != spec.PayloadNone {
		// (A ModeCfg client answers a SET with an ACK, a REPLY with nothing.)
		m.sendReply(st, md, row.Flags&FlagOutputEncrypted != 0)
		st.txAnswered = md.replyMsgID == 0
	}
	if st.Kind.IsPhase1() {
		st.P1.Reply = nil // sent (a resend is lastSent): half-open states stay small
	}
	if from == StateMainR1 || from == StateAggrR1 {
		// No longer reachable by the initiator cookie alone.
		if m.byCookies[cookieKey(st.ICookie, [8]byte{})] == st {
			delete(m.byCookies, cookieKey(st.ICookie, [8]byte{}))
		}
	}
	st.retransmits = 0
	// Responders never retransmit on their own (CVE-2016-5361): a
	// half-open state is discarded when the initiator gives up (Row.Armed).
	switch row.Armed() {
	case EventRetransmit:
		m.schedule(st, EventRetransmit, m.cfg.RetransmitDelay)
	case EventSADiscard:
		m.schedule(st, EventSADiscard, m.discardAfter(st.Kind))
	case EventSAReplace, EventSAExpire:
		st.Since = m.now
		m.scheduleEstablished(st)
	default:
		m.cancel(st)
	}
	m.announce(st)
	if st.Kind.IsISAKMPEstablished() {
		m.setHalfOpen(st, false)
	}
	m.setYoung(st)
	if st.Kind.IsISAKMPEstablished() || st.Kind.IsIPsecEstablished() {
		st.k.shed()
		st.P1.Reply, st.P2.Reply = nil, nil
	}
	if st.Kind.IsISAKMPEstablished() {
		if from.IsPhase1() {
			m.afterISAKMPEstablished(st)
		}
		if m.phase15(st) {
			return // XAUTH or ModeCfg first: Quick Mode waits
		}
	}
	if row.Flags&FlagReleasePendingP2 != 0 && st.Kind.IsISAKMPEstablished() {
		m.releasePending(st)
	}
	if st.Kind.IsIPsecEstablished() && st.Whack != nil {
		w := st.Whack
		st.Whack = nil
		m.release(w)
	}
}

// announce logs the state change as pluto does: "STATE_X: story details".
func (m *Machine) announce(st *State) {
	details := ""
	if st.Kind.IsIPsecEstablished() && st.IPsec != nil {
		sa := st.IPsec
		details = fmt.Sprintf("%s=>0x%x <0x%x", protoShort(sa.Proto), sa.OutboundSPI, sa.InboundSPI)
		if sa.Compressed() {
			// pluto prints the CPIs as 4-octet numbers
			details += fmt.Sprintf(" IPCOMP=>0x0000%x <0x0000%x", sa.OutboundCPI, sa.InboundCPI)
		}
		details = " {" + details + "}"
	}
	m.log(st, st.Kind.Code(), "%s: %s%s", st.Kind, st.Kind.Story(), details)
}

func protoShort(p spec.ProtocolID) string {
	switch p {
	case spec.ProtoAH:
		return "AH"
	case spec.ProtoIPComp:
		return "IPCOMP"
	}
	return "ESP"
}

// sendReply frames, encrypts and sends the reply a processor left in md.
func (m *Machine) sendReply(st *State, md *Digest, encrypt bool) {
	h := payloads.Header{
		ICookie: st.ICookie, RCookie: st.RCookie, Version: payloads.Version,
		Exchange: md.Msg.Header.Exchange, MessageID: md.Msg.Header.MessageID,
	}
	if md.replyMsgID != 0 {
		h.MessageID = md.replyMsgID
	}
	st.lastSent = m.frame(st, h, md.replyFirst, md.reply, encrypt)
	m.env.Send(st.lastSent, st.Local, st.Remote)
}

// frame builds a whole message: header, then the payload chain, encrypted
// under st's IV chain when asked (the chain then moves on to the last
// ciphertext block).
func (m *Machine) frame(st *State, h payloads.Header, first spec.PayloadType, chain []byte, encrypt bool) []byte {
	h.NextPayload = first
	body := chain
	if encrypt {
		h.Flags |= spec.FlagEncryption
		k := st.k
		key := k.encKey
		if st.Parent != nil {
			key = st.Parent.k.encKey
		}
		iv := k.chain(h.Exchange)
		ct, next := k.cipher.Encrypt(key, *iv, chain)
		*iv = next
		body = ct
	}
	h.Length = uint32(spec.HeaderLen + len(body))
	out := h.Append(make([]byte, 0, int(h.Length)))
	return append(out, body...)
}
