package fsm

// XAUTH (draft-beaulieu-ike-xauth-02) and ModeCfg (draft-dukes-ike-mode-cfg-02):
// Transaction exchanges (ISAKMP exchange type 6) on an authenticated ISAKMP
// SA, before any Quick Mode ("phase 1.5"). Every message is
//
//	HDR*, HASH, ATTR        HASH = prf(SKEYID_a, M-ID | ATTR)
//
// and each exchange has its own message ID and IV chain, which starts from
// the last phase-1 IV as an Informational exchange does. The ISAKMP SA's
// state moves through the XAUTH and MODE_CFG states as in pluto:
//
//	server (--xauthserver)                     client (--xauthclient)
//	MAIN_R3 -> XAUTH_R0  REQUEST(name, password) -->        MAIN_I4 -> XAUTH_I0
//	                     <-- REPLY(name, password)          XAUTH_I0 -> XAUTH_I1
//	XAUTH_R0 -> XAUTH_R1 SET(STATUS OK|FAIL) -->  (new M-ID)
//	                     <-- ACK(STATUS)                    XAUTH_I1 -> MAIN_I4
//	XAUTH_R1 -> MAIN_R3  (FAIL: the ISAKMP SA is deleted, peer told)
//
//	ModeCfg push (server sends SET)            ModeCfg pull (--modecfgpull)
//	-> MODE_CFG_R1  SET(address, DNS, WINS) -->         MODE_CFG_I1 REQUEST -->
//	                <-- ACK   MODE_CFG_I1 -> MAIN_I4      <-- REPLY  MODE_CFG_R0 -> MODE_CFG_R2
//	MODE_CFG_R1 -> MODE_CFG_R2                          MODE_CFG_I1 -> MAIN_I4
//
// XAUTH comes first, then ModeCfg; the Quick Mode an initiating whack asked
// for starts when both are done, with the ModeCfg address as our client
// (addr/32). The server hands out the peer's --client (a single IPv4 host)
// and --modecfgdns1/2, --modecfgwins1/2.
//
// With XAUTH the phase-1 authentication method is XAUTHInitPreShared (or
// XAUTHInitRSA) when the initiator is the XAUTH client and
// XAUTHRespPreShared (XAUTHRespRSA) when it is the server, as libreswan and
// strongSwan do; the plain method is then refused, and without XAUTH the
// XAUTH methods are.

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// RemoteAccess is implemented by an Env that supports XAUTH and ModeCfg.
// Without it an XAUTH server refuses every user and a client has nothing to
// send.
type RemoteAccess interface {
	// XAuthCredentials returns the user name and password the XAUTH
	// client of c sends (whack --xauthuser/--xauthpass, or ipsec.secrets).
	XAuthCredentials(c *Conn) (user string, pass []byte, ok bool)
	// XAuthVerify checks a user name and password an XAUTH client of c
	// sent (ipsec.secrets XAUTH entries; compared in constant time).
	XAuthVerify(c *Conn, user string, pass []byte) bool
	// ModeCfgLease hands the configuration a ModeCfg client received to
	// the daemon, which installs the address and makes addr/32 the local
	// client of st.Conn for Quick Mode. An error fails the ISAKMP SA.
	ModeCfgLease(st *State, l *ModeCfgLease) error
}

// ModeCfgLease is a ModeCfg configuration: what a server handed out or a
// client received.
type ModeCfgLease struct {
	Address netip.Addr   // INTERNAL_IP4_ADDRESS (invalid when none)
	DNS     []netip.Addr // INTERNAL_IP4_DNS
	WINS    []netip.Addr // INTERNAL_IP4_NBNS
}

func (l *ModeCfgLease) String() string {
	var b strings.Builder
	if l.Address.IsValid() {
		fmt.Fprintf(&b, "address %s", l.Address)
	} else {
		b.WriteString("no address")
	}
	for _, a := range l.DNS {
		fmt.Fprintf(&b, ", DNS %s", a)
	}
	for _, a := range l.WINS {
		fmt.Fprintf(&b, ", WINS %s", a)
	}
	return b.String()
}

// maxLeaseServers bounds the DNS and WINS servers a client accepts (each
// is an address; more are ignored, as Openswan's fixed buffers should have).
const maxLeaseServers = 4

// usesXAuth reports whether c does XAUTH in either role.
func (c *Conn) usesXAuth() bool { return c.XAuthServer || c.XAuthClient }

// phase1Policy is c's phase-1 policy for a negotiation in which we are the
// initiator or not: with XAUTH the authentication method becomes the XAUTH
// variant that names who the XAUTH client is.
func (c *Conn) phase1Policy(initiator bool) proposal.Phase1Policy {
	p := c.P1
	if !c.usesXAuth() {
		return p
	}
	initIsClient := initiator == c.XAuthClient
	switch p.Auth.Base() {
	case spec.AuthPSK:
		p.Auth = spec.AuthXAuthRespPSK
		if initIsClient {
			p.Auth = spec.AuthXAuthInitPSK
		}
	case spec.AuthRSASig:
		p.Auth = spec.AuthXAuthRespRSA
		if initIsClient {
			p.Auth = spec.AuthXAuthInitRSA
		}
	}
	return p
}

// vendorIDs are the Vendor ID payloads of our first phase-1 message.
func (c *Conn) vendorIDs() []payloads.Payload {
	ps := []payloads.Payload{&payloads.VendorID{Data: dpdVendorID}}
	if c.usesXAuth() {
		ps = append(ps, &payloads.VendorID{Data: spec.VIDXAUTH})
	}
	return ps
}

// leaseFor is what a ModeCfg server hands out on c: the peer's client
// when it is a single IPv4 host, and the configured DNS and WINS servers.
func (c *Conn) leaseFor() *ModeCfgLease {
	l := &ModeCfgLease{DNS: c.ModeCfgDNS, WINS: c.ModeCfgWINS}
	if n := c.RemoteNet.Net; n.IsValid() && n.Addr().Is4() && n.Bits() == 32 {
		l.Address = n.Addr()
	}
	return l
}

func (m *Machine) remoteAccess() RemoteAccess {
	ra, _ := m.env.(RemoteAccess)
	return ra
}

// phase15 starts what follows an authenticated ISAKMP SA st: XAUTH, then
// ModeCfg. It reports whether something was started (or is awaited), in
// which case Quick Mode waits.
func (m *Machine) phase15(st *State) bool {
	c := st.Conn
	if c == nil {
		return false
	}
	switch {
	case c.XAuthServer && !st.xauthDone:
		m.log(st, 0, "XAUTH: Sending Username/Password request (%s->XAUTH_R0)", st.Kind)
		m.startTransaction(st, StateXAuthR0, &payloads.Attr{Kind: payloads.ModeCfgRequest, Attributes: []payloads.Attribute{
			payloads.NewTLV(uint16(spec.XAuthUserName), nil), payloads.NewTLV(uint16(spec.XAuthUserPassword), nil)}})
	case c.XAuthClient && !st.xauthDone:
		m.await(st, StateXAuthI0)
	case c.ModeCfgServer && !c.ModeCfgPull && !st.modecfgDone:
		l := c.leaseFor()
		st.Lease = l
		m.log(st, 0, "modecfg: Sending %s (%s->MODE_CFG_R1)", l, st.Kind)
		m.startTransaction(st, StateModeCfgR1, &payloads.Attr{Kind: payloads.ModeCfgSet, Attributes: leaseAttrs(l, nil)})
	case c.ModeCfgClient && !st.modecfgDone:
		if !c.ModeCfgPull {
			m.await(st, StateModeCfgI1)
			break
		}
		m.log(st, 0, "modecfg: Sending IP request (%s->MODE_CFG_I1)", st.Kind)
		m.startTransaction(st, StateModeCfgI1, &payloads.Attr{Kind: payloads.ModeCfgRequest, Attributes: []payloads.Attribute{
			payloads.NewTLV(uint16(spec.InternalIP4Address), nil), payloads.NewTLV(uint16(spec.InternalIP4Netmask), nil),
			payloads.NewTLV(uint16(spec.InternalIP4DNS), nil), payloads.NewTLV(uint16(spec.InternalIP4NBNS), nil)}})
	default:
		return false
	}
	return true
}

// enter moves st into kind outside the table (the first message of a
// Transaction exchange is sent, or awaited) and announces it.
func (m *Machine) enter(st *State, kind StateKind) {
	st.Kind = kind
	m.announce(st)
}

// await enters a client state that waits for the server's first message;
// the ISAKMP SA is deleted when it does not come.
func (m *Machine) await(st *State, kind StateKind) {
	m.enter(st, kind)
	st.retransmits = 0
	m.schedule(st, EventSADiscard, m.cfg.HalfOpenTimeout)
}

// newTransaction picks the message ID of a new Transaction exchange on st
// and starts its IV chain from the phase-1 IV.
func (m *Machine) newTransaction(st *State) uint32 {
	k := st.k
	id := m.newMsgID(st)
	k.txMsgID, k.txIV = id, oakley.Phase2IV(k.prf, k.iv, id, k.cipher.BlockSize)
	return id
}

// attrChain encodes HASH, ATTR for message msgid of a Transaction exchange.
func (m *Machine) attrChain(st *State, msgid uint32, a *payloads.Attr) []byte {
	k := st.k
	ps := []payloads.Payload{&payloads.Hash{Data: make([]byte, k.prf.Size())}, a}
	return sealHash(ps, func(rest []byte) []byte { return oakley.InfoHash(k.prf, k.set.A, msgid, rest) })
}

// startTransaction sends the first message of a new Transaction exchange
// on st, enters kind and retransmits until answered.
func (m *Machine) startTransaction(st *State, kind StateKind, a *payloads.Attr) {
	id := m.newTransaction(st)
	a.Identifier = uint16(id)
	h := payloads.Header{ICookie: st.ICookie, RCookie: st.RCookie, Version: payloads.Version,
		Exchange: spec.ExchangeModeCfg, MessageID: id}
	st.lastSent = m.frame(st, h, spec.PayloadHash, m.attrChain(st, id, a), true)
	st.txAnswered = false
	m.enter(st, kind)
	m.env.Send(st.lastSent, st.Local, st.Remote)
	st.retransmits = 0
	m.schedule(st, EventRetransmit, m.cfg.RetransmitDelay)
}

// replyAttr leaves a in md as the reply in the same exchange.
func (m *Machine) replyAttr(st *State, md *Digest, a *payloads.Attr) {
	md.setReply(spec.PayloadHash, m.attrChain(st, md.Msg.Header.MessageID, a))
}

// transactionPacket demultiplexes a Transaction (XAUTH/ModeCfg) message:
// it belongs to the ISAKMP SA of its cookies, which must be keyed; a new
// message ID starts a new exchange (its IV from the phase-1 IV).
func (m *Machine) transactionPacket(md *Digest, raw []byte) {
	h := &md.Msg.Header
	p1 := m.byCookies[cookieKey(h.ICookie, h.RCookie)]
	switch {
	case p1 == nil:
		m.logPacket(md.From, 3, "XAUTH/ModeCfg message is for a non-existent ISAKMP SA; dropped")
		return
	case !p1.Kind.IsISAKMPKeyed() || p1.k == nil || p1.k.encKey == nil:
		m.log(p1, 3, "XAUTH/ModeCfg message received in %s, before the ISAKMP SA is established; dropped", p1.Kind)
		return
	case h.Flags&spec.FlagEncryption == 0:
		m.log(p1, 3, "XAUTH/ModeCfg message is not encrypted; dropped")
		return
	case h.MessageID == 0:
		m.log(p1, 3, "XAUTH/ModeCfg message with Message ID 0 is invalid; dropped")
		return
	case md.From != p1.Remote && p1.NATT.Method == NATTNone:
		// (Behind a NAT the peer may have moved: the message is
		// authenticated first, then the address followed, as in Quick Mode.)
		m.log(p1, 3, "XAUTH/ModeCfg message from %s, but the ISAKMP SA peer is %s; dropped", md.From, p1.Remote)
		return
	}
	k := p1.k
	if h.MessageID == k.txMsgID {
		if p1.lastRecv != nil && string(p1.lastRecv) == string(raw) {
			// The peer did not get our answer: send it again (at most twice).
			if p1.txAnswered && p1.dupReplies < m.cfg.MaxRetransmits {
				p1.dupReplies++
				m.log(p1, 0, "retransmitting in response to duplicate packet; already %s", p1.Kind)
				m.env.Send(p1.lastSent, p1.Local, p1.Remote)
			} else {
				m.debug(p1, "discarding duplicate packet; already %s", p1.Kind)
			}
			return
		}
	} else if p1.usedMsgIDs[h.MessageID] {
		m.log(p1, 3, "XAUTH/ModeCfg message with a reused Message ID %08x; dropped", h.MessageID)
		return
	}
	oldID, oldIV, oldKind := k.txMsgID, k.txIV, p1.Kind
	if h.MessageID != k.txMsgID {
		k.txMsgID, k.txIV = h.MessageID, oakley.Phase2IV(k.prf, k.iv, h.MessageID, k.cipher.BlockSize)
	}
	// A REQUEST to a --modecfgpull server arrives on an established SA.
	if c := p1.Conn; p1.Kind.IsISAKMPEstablished() && c != nil && c.ModeCfgServer && c.ModeCfgPull {
		p1.Kind = StateModeCfgR0
	}
	if m.process(p1, md, raw) {
		p1.useMsgID(h.MessageID)
		return
	}
	if m.bySerial[p1.Serial] == p1 && p1.Kind == StateModeCfgR0 {
		p1.Kind = oldKind
	}
	if m.bySerial[p1.Serial] == p1 && k.txMsgID == h.MessageID && h.MessageID != oldID {
		k.txMsgID, k.txIV = oldID, oldIV
	}
}

// attrOf checks the HASH of a Transaction message and returns its ATTR
// payload, which must be of one of the given kinds.
func (m *Machine) attrOf(st *State, md *Digest, kinds ...uint8) (*payloads.Attr, error) {
	h, rest, err := leadingHash(md)
	if err != nil {
		return nil, err
	}
	k := st.k
	if !oakley.Equal(oakley.InfoHash(k.prf, k.set.A, md.Msg.Header.MessageID, rest), h.Data) {
		return nil, notifyErr(spec.InvalidHashInformation, "received HASH does not match computed value in XAUTH/ModeCfg message; message ignored")
	}
	a := md.Msg.Find(spec.PayloadAttr).(*payloads.Attr)
	for _, kd := range kinds {
		if a.Kind == kd {
			return a, nil
		}
	}
	var want []string
	for _, kd := range kinds {
		want = append(want, attrKindName(kd))
	}
	return nil, notifyErr(spec.NotifyNone, "expecting ModeCfg %s, got %s; message ignored", strings.Join(want, " or "), attrKindName(a.Kind))
}

func attrKindName(k uint8) string {
	switch k {
	case payloads.ModeCfgRequest:
		return "REQUEST"
	case payloads.ModeCfgReply:
		return "REPLY"
	case payloads.ModeCfgSet:
		return "SET"
	case payloads.ModeCfgAck:
		return "ACK"
	}
	return fmt.Sprintf("type %d", k)
}

// printable renders a peer-supplied string for logs: bounded, control
// characters escaped (CVE-2010-3302: nothing from the peer reaches a log or
// a shell unsanitized).
func printable(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
	}
	s := fmt.Sprintf("%q", b)
	return s[1 : len(s)-1]
}

// ---- server ----

// xauthInR0: REPLY(name, password) --> SET(STATUS) in a new exchange.
func xauthInR0(m *Machine, st *State, md *Digest) error {
	a, err := m.attrOf(st, md, payloads.ModeCfgReply)
	if err != nil {
		return err
	}
	var user, pass []byte
	var gotUser, gotPass bool
	for _, at := range a.Attributes {
		switch spec.ModeCfgAttr(at.Type) {
		case spec.XAuthType:
			if v, _ := at.Uint(); !at.TV || v != spec.XAuthTypeGeneric {
				return notifyErr(spec.NotifyNone, "XAUTH: unsupported XAUTH-TYPE %d", v)
			}
		case spec.XAuthUserName:
			if gotUser || at.TV {
				return notifyErr(spec.NotifyNone, "XAUTH: malformed or repeated XAUTH-USER-NAME")
			}
			user, gotUser = at.Value, true
		case spec.XAuthUserPassword:
			if gotPass || at.TV {
				return notifyErr(spec.NotifyNone, "XAUTH: malformed or repeated XAUTH-USER-PASSWORD")
			}
			pass, gotPass = at.Value, true
			// Some clients (Android) send the password NUL-terminated.
			pass = bytes.TrimSuffix(pass, []byte{0})
		default:
			m.debug(st, "XAUTH: ignoring attribute %s in REPLY", spec.ModeCfgAttr(at.Type))
		}
	}
	if !gotUser || !gotPass {
		return notifyErr(spec.NotifyNone, "XAUTH: REPLY lacks the user name or the password")
	}
	status := uint16(spec.XAuthStatusFail)
	name := printable(user)
	switch ra := m.remoteAccess(); {
	case bytes.IndexByte(user, 0) >= 0 || bytes.IndexByte(pass, 0) >= 0:
		m.log(st, 3, "XAUTH: User %s: Authentication Failed: NUL character in user name or password", name)
	case ra == nil || !ra.XAuthVerify(st.Conn, string(user), pass):
		m.log(st, 3, "XAUTH: User %s: Authentication Failed: Incorrect Username or Password", name)
	default:
		status = spec.XAuthStatusOK
		st.XAuthUser = string(user)
		m.log(st, 0, "XAUTH: User %s: Authentication Successful", name)
	}
	clear(pass)
	st.xauthFailed = status == spec.XAuthStatusFail
	id := m.newTransaction(st)
	st.k.newIV = nil
	md.replyMsgID = id
	md.setReply(spec.PayloadHash, m.attrChain(st, id, &payloads.Attr{Kind: payloads.ModeCfgSet, Identifier: uint16(id),
		Attributes: []payloads.Attribute{payloads.NewTV(uint16(spec.XAuthStatus), status)}}))
	return nil
}

// xauthInR1: ACK -->. XAUTH is over: on success ModeCfg or Quick Mode
// follows; after a FAIL the ISAKMP SA is deleted (the peer has been told).
func xauthInR1(m *Machine, st *State, md *Digest) error {
	if _, err := m.attrOf(st, md, payloads.ModeCfgAck); err != nil {
		return err
	}
	st.xauthDone = true
	if st.xauthFailed {
		return &NotifyError{Notify: spec.NotifyNone, Fatal: true,
			Reason: "XAUTH: the client acknowledged the failed authentication; deleting the ISAKMP SA"}
	}
	return nil
}

// modecfgInR0: REQUEST --> REPLY (the client pulls its configuration).
func modecfgInR0(m *Machine, st *State, md *Digest) error {
	a, err := m.attrOf(st, md, payloads.ModeCfgRequest)
	if err != nil {
		return err
	}
	if st.Conn.XAuthServer && (!st.xauthDone || st.xauthFailed) {
		return notifyErr(spec.NotifyNone, "modecfg: REQUEST before XAUTH succeeded; message ignored")
	}
	l := st.Conn.leaseFor()
	st.Lease = l
	asked := map[spec.ModeCfgAttr]bool{}
	for _, at := range a.Attributes {
		asked[spec.ModeCfgAttr(at.Type)] = true
	}
	m.log(st, 0, "modecfg: Sending %s", l)
	st.modecfgDone = true
	m.replyAttr(st, md, &payloads.Attr{Kind: payloads.ModeCfgReply, Identifier: a.Identifier, Attributes: leaseAttrs(l, asked)})
	return nil
}

// modecfgInR1: ACK --> (the client took the configuration we pushed).
func modecfgInR1(m *Machine, st *State, md *Digest) error {
	if _, err := m.attrOf(st, md, payloads.ModeCfgAck); err != nil {
		return err
	}
	st.modecfgDone = true
	m.log(st, 0, "modecfg: the client acknowledged %s", st.Lease)
	return nil
}

// leaseAttrs encodes l; with asked (a REQUEST) the netmask is added when
// asked for.
func leaseAttrs(l *ModeCfgLease, asked map[spec.ModeCfgAttr]bool) []payloads.Attribute {
	var as []payloads.Attribute
	if l.Address.IsValid() {
		a4 := l.Address.As4()
		as = append(as, payloads.NewTLV(uint16(spec.InternalIP4Address), a4[:]))
		if asked[spec.InternalIP4Netmask] {
			as = append(as, payloads.NewTLV(uint16(spec.InternalIP4Netmask), []byte{255, 255, 255, 255}))
		}
	}
	for _, d := range l.DNS {
		if d.Is4() {
			a4 := d.As4()
			as = append(as, payloads.NewTLV(uint16(spec.InternalIP4DNS), a4[:]))
		}
	}
	for _, w := range l.WINS {
		if w.Is4() {
			a4 := w.As4()
			as = append(as, payloads.NewTLV(uint16(spec.InternalIP4NBNS), a4[:]))
		}
	}
	return as
}

// ---- client ----

// xauthInI0: REQUEST --> REPLY(name, password).
func xauthInI0(m *Machine, st *State, md *Digest) error {
	a, err := m.attrOf(st, md, payloads.ModeCfgRequest)
	if err != nil {
		return err
	}
	ra := m.remoteAccess()
	var user string
	var pass []byte
	ok := false
	if ra != nil {
		user, pass, ok = ra.XAuthCredentials(st.Conn)
	}
	if !ok {
		return &NotifyError{Notify: spec.NotifyNone, Fatal: true,
			Reason: "XAUTH: the server asks for a user name and password, but none is configured (whack --xauthuser/--xauthpass or an XAUTH entry in ipsec.secrets)"}
	}
	var reply []payloads.Attribute
	for _, at := range a.Attributes {
		switch spec.ModeCfgAttr(at.Type) {
		case spec.XAuthType:
			if v, _ := at.Uint(); v != spec.XAuthTypeGeneric {
				return &NotifyError{Notify: spec.NotifyNone, Fatal: true, Reason: fmt.Sprintf("XAUTH: unsupported XAUTH-TYPE %d", v)}
			}
			reply = append(reply, payloads.NewTV(uint16(spec.XAuthType), spec.XAuthTypeGeneric))
		case spec.XAuthUserName:
			reply = append(reply, payloads.NewTLV(uint16(spec.XAuthUserName), []byte(user)))
		case spec.XAuthUserPassword:
			reply = append(reply, payloads.NewTLV(uint16(spec.XAuthUserPassword), bytes.Clone(pass)))
		case spec.XAuthMessage:
			m.log(st, 0, "XAUTH: server says %q", printable(at.Value))
		}
	}
	if len(reply) == 0 {
		return notifyErr(spec.NotifyNone, "XAUTH: the REQUEST asks for neither user name nor password; message ignored")
	}
	m.log(st, 0, "XAUTH: Answering XAUTH challenge with user='%s'", printable([]byte(user)))
	m.replyAttr(st, md, &payloads.Attr{Kind: payloads.ModeCfgReply, Identifier: a.Identifier, Attributes: reply})
	for _, r := range reply {
		if r.Type == uint16(spec.XAuthUserPassword) {
			defer clear(r.Value)
		}
	}
	return nil
}

// xauthInI1: SET(STATUS) --> ACK. A FAIL is acknowledged, reported and the
// ISAKMP SA deleted.
func xauthInI1(m *Machine, st *State, md *Digest) error {
	a, err := m.attrOf(st, md, payloads.ModeCfgSet)
	if err != nil {
		return err
	}
	status, got := uint64(spec.XAuthStatusFail), false
	for _, at := range a.Attributes {
		if spec.ModeCfgAttr(at.Type) == spec.XAuthStatus && at.TV {
			status, _ = at.Uint()
			got = true
		}
	}
	if !got {
		return notifyErr(spec.NotifyNone, "XAUTH: SET without XAUTH-STATUS; message ignored")
	}
	st.xauthDone = true
	ack := &payloads.Attr{Kind: payloads.ModeCfgAck, Identifier: a.Identifier,
		Attributes: []payloads.Attribute{payloads.NewTV(uint16(spec.XAuthStatus), uint16(status))}}
	if status != spec.XAuthStatusOK {
		// Acknowledge, so that the server knows we heard, then give up.
		m.sendInExchange(st, md, ack)
		m.log(st, 37, "XAUTH: the server refused our credentials (XAUTH-STATUS FAIL); deleting the ISAKMP SA")
		return &NotifyError{Notify: spec.NotifyNone, Fatal: true, Reason: "XAUTH: authentication failed"}
	}
	m.log(st, 0, "XAUTH: Successfully Authenticated")
	m.replyAttr(st, md, ack)
	return nil
}

// sendInExchange sends a in md's exchange at once (a processor that fails
// but must still answer).
func (m *Machine) sendInExchange(st *State, md *Digest, a *payloads.Attr) {
	k := st.k
	if k.newIV != nil {
		k.txIV, k.newIV = k.newIV, nil
	}
	h := payloads.Header{ICookie: st.ICookie, RCookie: st.RCookie, Version: payloads.Version,
		Exchange: spec.ExchangeModeCfg, MessageID: md.Msg.Header.MessageID}
	m.env.Send(m.frame(st, h, spec.PayloadHash, m.attrChain(st, md.Msg.Header.MessageID, a), true), st.Local, st.Remote)
}

// modecfgInI1: REPLY --> (pull), or SET --> ACK (push). The configuration
// goes to the daemon; Quick Mode follows with the address as our client.
func modecfgInI1(m *Machine, st *State, md *Digest) error {
	kind := uint8(payloads.ModeCfgSet)
	if st.Conn.ModeCfgPull {
		kind = payloads.ModeCfgReply
	}
	a, err := m.attrOf(st, md, kind)
	if err != nil {
		return err
	}
	l := &ModeCfgLease{}
	var acked []payloads.Attribute
	for _, at := range a.Attributes {
		t := spec.ModeCfgAttr(at.Type)
		switch t {
		case spec.InternalIP4Address, spec.InternalIP4DNS, spec.InternalIP4NBNS:
			if at.TV || len(at.Value) == 0 {
				continue
			}
			if len(at.Value) != 4 {
				return &NotifyError{Notify: spec.NotifyNone, Fatal: true,
					Reason: fmt.Sprintf("modecfg: %s of %d octets", t, len(at.Value))}
			}
			addr := netip.AddrFrom4([4]byte(at.Value))
			switch {
			case t == spec.InternalIP4Address:
				l.Address = addr
			case t == spec.InternalIP4DNS && len(l.DNS) < maxLeaseServers:
				l.DNS = append(l.DNS, addr)
			case t == spec.InternalIP4NBNS && len(l.WINS) < maxLeaseServers:
				l.WINS = append(l.WINS, addr)
			}
			acked = append(acked, payloads.NewTLV(uint16(t), nil))
		default:
			m.debug(st, "modecfg: ignoring attribute %s", t)
		}
	}
	if l.Address.IsValid() && (l.Address.IsUnspecified() || l.Address.IsMulticast() || l.Address == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return &NotifyError{Notify: spec.NotifyNone, Fatal: true, Reason: fmt.Sprintf("modecfg: refusing address %s", l.Address)}
	}
	ra := m.remoteAccess()
	if ra == nil {
		return &NotifyError{Notify: spec.NotifyNone, Fatal: true, Reason: "modecfg: this daemon cannot install a ModeCfg address"}
	}
	if err := ra.ModeCfgLease(st, l); err != nil {
		return &NotifyError{Notify: spec.NotifyNone, Fatal: true, Reason: fmt.Sprintf("modecfg: cannot install %s: %v", l, err)}
	}
	st.Lease = l
	st.modecfgDone = true
	m.log(st, 0, "modecfg: received %s", l)
	if a.Kind == payloads.ModeCfgSet {
		m.replyAttr(st, md, &payloads.Attr{Kind: payloads.ModeCfgAck, Identifier: a.Identifier, Attributes: acked})
	}
	return nil
}

// noteXAuthVendorID records the peer's XAUTH Vendor ID.
func noteXAuthVendorID(st *State, v []byte) {
	if bytes.Equal(v, spec.VIDXAUTH) {
		st.peerXAuth = true
	}
}
