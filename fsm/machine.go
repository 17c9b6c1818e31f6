package fsm

import (
	"cmp"
	"container/heap"
	"container/list"
	"crypto/rsa"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"time"

	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// Conn is what a negotiation needs to know of a connection: its ends,
// identities and proposals. The daemon owns the connection database and
// hands these out; the state machine never changes them.
type Conn struct {
	Name string
	// Instance tells a Road Warrior instance of a %any connection apart:
	// "[1] 192.0.2.7" (printed after the quoted name, as pluto does).
	Instance   string
	Local      netip.AddrPort // our IKE address and port
	Remote     netip.AddrPort // the peer's (unspecified address for %any)
	LocalID    ID
	RemoteID   ID // Type 0: any identity is accepted
	LocalNet   Client
	RemoteNet  Client
	HasClients bool // send IDci/IDcr in Quick Mode (either end has a subnet)
	Auth       spec.AuthMethod
	P1         proposal.Phase1Policy
	P2         proposal.Phase2Policy
	IPsec      bool // a phase-2 policy exists (--encrypt or --authenticate)
	// AggrMode initiates with Aggressive Mode and accepts it as responder
	// (pluto's --aggrmode); P1 must then have a single DH group.
	AggrMode bool
	// PFS requires perfect forward secrecy in Quick Mode; without a group in
	// P2 the group of the ISAKMP SA is proposed (pluto's --pfs).
	PFS bool
	// KeyingTries is how many times a failed negotiation is started anew
	// (0: forever).
	KeyingTries int
	// Rekeying (pluto's --rekeymargin, --rekeyfuzz, --dontrekey).
	RekeyMargin time.Duration
	RekeyFuzz   int // percent
	DontRekey   bool
	// Dead Peer Detection (RFC 3706): off when DPDDelay is 0.
	DPDDelay, DPDTimeout time.Duration
	DPDAction            string // clear, hold (default) or restart
	// ForceEncaps pretends a NAT in front of us so that NAT-T and
	// UDP-encapsulated ESP are used even without one (--forceencaps; needs
	// Config.NATTraversal).
	ForceEncaps bool
	// X.509 (x509.go): our certificate (DER) and when to send it.
	LocalCert []byte
	SendCert  SendCert
	// Remote access (xauth.go): our roles in XAUTH and ModeCfg after
	// phase 1 (pluto's --xauthserver/--xauthclient, --modecfgserver/
	// --modecfgclient of our end), the client pulling its configuration
	// with a REQUEST (--modecfgpull) instead of the server pushing a SET,
	// and what a ModeCfg server hands out besides the peer's address (the
	// peer's --client, a single IPv4 host): --modecfgdns1/2, --modecfgwins1/2.
	XAuthServer, XAuthClient     bool
	ModeCfgServer, ModeCfgClient bool
	ModeCfgPull                  bool
	ModeCfgDNS, ModeCfgWINS      []netip.Addr
}

// key identifies a connection or instance.
func (c *Conn) key() string { return c.Name + c.Instance }

// IPsecSA is a negotiated IPsec SA pair, what the kernel is told to install.
type IPsecSA struct {
	Proto       spec.ProtocolID
	Mode        spec.EncapsulationMode
	ESP         *proposal.ESPAlg
	InboundSPI  []byte // chosen by us
	OutboundSPI []byte // chosen by the peer
	InboundKey  []byte // KEYMAT for the inbound SA: cipher key then integrity key
	OutboundKey []byte
	Local       netip.AddrPort
	Remote      netip.AddrPort
	LocalNet    Client
	RemoteNet   Client
	Lifetime    time.Duration
	// Encap: ESP in UDP (RFC 3948) between the ports of Local and Remote
	// (NAT-T); Mode is then still tunnel or transport.
	Encap bool
	// PeerOA is the peer's original address from its NAT-OA payload
	// (transport mode through a NAT), when it sent one.
	PeerOA netip.Addr
	// InboundCPI and OutboundCPI (2 octets, ours and the peer's) are set
	// when IPComp (RFC 3173, DEFLATE) was negotiated alongside Proto: the
	// traffic is compressed, then protected by Proto.
	InboundCPI, OutboundCPI []byte
}

// Compressed reports whether the pair carries IPComp.
func (sa *IPsecSA) Compressed() bool { return len(sa.InboundCPI) == 2 && len(sa.OutboundCPI) == 2 }

// LogLine is one thing the machine has to say. State is nil for messages
// about packets that belong to no state.
type LogLine struct {
	State *State
	From  netip.AddrPort // for packets without state
	Code  int            // whack code: 0 comment, 3 serious, 4 success, 1xx new state, 10 retransmission, 31 failed
	Text  string
	Debug bool // only shown with debugging on
}

// Env is how the machine reaches the outside world. Its methods are called
// from the machine's goroutine, synchronously, in the order things happen.
type Env interface {
	// Send transmits an IKE message.
	Send(b []byte, from, to netip.AddrPort)
	// Log reports progress and problems (to whack and to the log).
	Log(l LogLine)
	// Release tells the daemon that the whack attached to a negotiation
	// will get no further lines.
	Release(whack any)
	// Rand fills b with random bytes.
	Rand(b []byte)
	// PSK returns the pre-shared key for a connection and the peer's identity.
	PSK(c *Conn, peer ID) ([]byte, bool)
	// LocalKey returns our RSA private key for c (signature authentication).
	LocalKey(c *Conn) (*rsa.PrivateKey, bool)
	// PeerKeys returns the RSA public keys that may authenticate peer on c.
	PeerKeys(c *Conn, peer ID) []*rsa.PublicKey
	// ResponderConn finds the connection for a Main Mode initiated by remote
	// to local; nil when there is none. For a %any (Road Warrior) connection
	// it returns an instance with the peer's address.
	ResponderConn(local, remote netip.AddrPort) *Conn
	// SwitchConn is asked, when the peer's phase-1 ID does not fit the
	// connection c (a responder), for a better connection for that ID from
	// the same local address that uses the same keys; nil to give up.
	SwitchConn(c *Conn, remote netip.AddrPort, peer ID) *Conn
	// QuickConn finds the connection for a Quick Mode on ISAKMP SA p1 with the
	// given clients (ours, theirs); nil when there is none.
	QuickConn(p1 *State, local, remote Client) *Conn
	// AllocSPI returns a fresh inbound SPI for proto (4 octets; 2 for a
	// CPI) for the SA on which we will receive from src (the peer) to dst
	// (our address); the kernel may allocate it there (XFRM_MSG_ALLOCSPI).
	AllocSPI(proto spec.ProtocolID, src, dst netip.Addr) []byte
	// Install installs an IPsec SA pair; inboundOnly installs just the
	// inbound half (a Quick Mode responder does that before QI2).
	Install(st *State, sa *IPsecSA, inboundOnly bool) error
	// Delete removes an IPsec SA pair installed for st.
	Delete(st *State, sa *IPsecSA)
}

// FailureWatcher is implemented by an Env that wants to know when a
// negotiation ends without an SA (pluto's routing: a connection whose
// %trap started it goes back to its trap). The machine calls
// NegotiationFailed after it has deleted a state that never became
// established — retransmissions exhausted, refused by the peer or by the
// kernel, timed out, or superseded; a new keying attempt (keyingtries)
// is started after the call.
type FailureWatcher interface {
	NegotiationFailed(st *State)
}

// KeyLogger is implemented by an Env that wants the key material of every
// SA it negotiates (pluto's --keylog, for Wireshark and ikedump). The
// machine calls it only when the Env implements it; nothing else ever sees
// these values.
type KeyLogger interface {
	LogKeys(k KeyRecord)
}

// KeyRecord is the key material of one SA. Phase1 records carry the cookies,
// the algorithms, g^xy, SKEYID and its descendants and the encryption key;
// phase-2 records carry the negotiated IPsec SA (SPIs and KEYMAT) and, with
// PFS, the Quick Mode g^xy.
type KeyRecord struct {
	State                             *State
	Phase1                            bool
	ICookie, RCookie                  [8]byte
	Cipher                            spec.OakleyEncryption
	KeyLen                            int // bytes of EncKey
	Hash                              spec.OakleyHash
	GXY                               []byte
	SKEYID, SKEYIDd, SKEYIDa, SKEYIDe []byte
	EncKey                            []byte
	IPsec                             *IPsecSA
}

func (m *Machine) logKeys(k KeyRecord) {
	if kl, ok := m.env.(KeyLogger); ok {
		kl.LogKeys(k)
	}
}

// Config holds the machine's tunables.
type Config struct {
	// RetransmitDelay is the first wait before a resend (doubled each time).
	RetransmitDelay time.Duration
	// MaxRetransmits is how many times a message is resent: the manual says a
	// message is sent at most three times.
	MaxRetransmits int
	// HalfOpenTimeout discards an unanswered responder state.
	HalfOpenTimeout time.Duration
	// MaxIKELifetime and MaxIPsecLifetime cap negotiated lifetimes.
	MaxIKELifetime, MaxIPsecLifetime time.Duration
	// UniqueIDs: a new ISAKMP SA for a peer ID replaces those of other
	// connections with the same peer ID (pluto's --uniqueids).
	UniqueIDs bool
	// NATTraversal offers and accepts NAT-T (pluto's --nat_traversal).
	NATTraversal bool
	// NATTPort is the port NAT-T floats to (spec.NATTPort when 0).
	NATTPort uint16
	// Flood resistance (flood.go). MaxHalfOpen caps the responder ISAKMP
	// states not yet authenticated (0: no cap); NewExchangeRate is how many
	// first messages per second one source address may send (burst: twice
	// that; 0: no limit); FirstResponseTimeout discards a responder state
	// that has seen only the first message (0: HalfOpenTimeout).
	MaxHalfOpen          int
	NewExchangeRate      int
	FirstResponseTimeout time.Duration
	// UnauthSignRate is how many RSA signatures per second the machine
	// makes for peers not yet authenticated (an Aggressive Mode responder
	// signs its first reply), burst twice that; 0: no limit.
	UnauthSignRate int
}

// DefaultConfig is pluto's: 10 s, 20 s, 40 s retransmissions, lifetimes at
// most one day.
var DefaultConfig = Config{
	RetransmitDelay:  10 * time.Second,
	MaxRetransmits:   2,
	HalfOpenTimeout:  70 * time.Second,
	MaxIKELifetime:   24 * time.Hour,
	MaxIPsecLifetime: 24 * time.Hour,

	MaxHalfOpen:          10000,
	NewExchangeRate:      50,
	FirstResponseTimeout: 30 * time.Second,
	UnauthSignRate:       100,
}

// State is a state object: one ISAKMP SA or one Quick Mode negotiation.
type State struct {
	Serial    uint64
	Kind      StateKind
	Conn      *Conn
	Parent    *State // the ISAKMP SA of a Quick Mode
	Initiator bool   // we initiated this exchange
	ICookie   [8]byte
	RCookie   [8]byte
	MsgID     uint32
	Local     netip.AddrPort
	Remote    netip.AddrPort
	Whack     any // the whack waiting for this negotiation, or nil
	Try       int // keying attempt, from 1

	// Negotiated.
	Auth       spec.AuthMethod
	P1         proposal.Phase1Choice
	P2         proposal.Phase2Choice
	p2pol      proposal.Phase2Policy // what a Quick Mode initiator proposed
	PeerID     ID
	peerIDBody []byte // the peer's phase-1 ID payload body as received (Aggressive Mode HASH_I)
	IPsec      *IPsecSA
	Since      time.Time
	Lifetime   time.Duration

	counted *Conn // the connection st is listed under in Machine.byConn (setConn)

	k *keys // phase-1 material (Main Mode) or phase-2 material (Quick Mode)

	lastSent    []byte
	lastRecv    []byte
	retransmits int
	dupReplies  int
	usedMsgIDs  map[uint32]bool // ISAKMP SA: message IDs seen or used (RFC 2408 §3.1); made on first use
	halfOpen    bool            // counted in Machine.halfOpen (flood.go)
	busy        bool            // DH work for it runs off the machine's goroutine (flood.go)
	young       *list.Element   // in Machine.young (flood.go)

	timer     timer         // retransmit, discard, replace or expire
	dpdTimer  timer         // Dead Peer Detection, on established ISAKMP SAs
	margin    time.Duration // rekey margin chosen at establishment
	replacing bool          // a rekey: do not start Quick Mode when this ISAKMP SA comes up

	// Dead Peer Detection (RFC 3706).
	peerDPD        bool      // the peer sent the DPD Vendor ID
	dpdSeq         uint32    // last R-U-THERE sequence number sent
	dpdLastHeard   time.Time // last authenticated message from the peer
	initialContact bool      // the peer sent INITIAL-CONTACT in this exchange

	// NAT traversal of an ISAKMP SA (natt.go).
	NATT  NATT
	gotCR bool // the peer sent a CR payload (x509.go)
	// XAUTH and ModeCfg (xauth.go).
	peerXAuth   bool          // the peer sent the XAUTH Vendor ID
	xauthDone   bool          // XAUTH finished (successfully, or the SA is being deleted)
	xauthFailed bool          // server: the STATUS sent was FAIL
	modecfgDone bool          // ModeCfg finished
	txAnswered  bool          // lastSent answers lastRecv (a transaction duplicate is answered)
	XAuthUser   string        // the XAUTH user name (server: as received and accepted)
	Lease       *ModeCfgLease // the ModeCfg configuration received (client) or handed out (server)
}

// timer is one armed event of a state, an entry of the machine's heap.
type timer struct {
	st    *State
	ev    Event
	at    time.Time
	index int // position in the heap, -1 when not armed
}

// keys is the secret material of a state. Go cannot guarantee that memory
// is wiped; zero() overwrites what it can when the exchange ends.
type keys struct {
	prf    oakley.PRF
	cipher oakley.Cipher
	group  *oakley.Group
	dh     *oakley.PrivateKey
	gxi    []byte
	gxr    []byte
	ni, nr []byte
	saiB   []byte // the initiator's SA body, for HASH_I/HASH_R
	set    oakley.KeySet
	encKey []byte
	iv     []byte // current CBC chain
	newIV  []byte // chain after the message being processed (committed on success)
	gxyQM  []byte
	pre    *dhResult // DH work done off the machine's goroutine (flood.go)
	// The XAUTH/ModeCfg Transaction exchange in progress: its message ID
	// and IV chain (each exchange starts from the phase-1 IV, iv above,
	// which it leaves alone for Quick Mode and Informational).
	txMsgID uint32
	txIV    []byte
}

// chain is the IV chain a message of exchange x continues.
func (k *keys) chain(x spec.ExchangeType) *[]byte {
	if x == spec.ExchangeModeCfg {
		return &k.txIV
	}
	return &k.iv
}

// shed drops what an established SA no longer needs: the DH private value,
// the public values, nonces and the SA body (memory per SA pair is a
// target); SKEYID_d/a, the encryption key and the IV chain stay.
func (k *keys) shed() {
	if k.dh != nil {
		k.dh.Zero()
		k.dh = nil
	}
	clear(k.gxyQM)
	k.gxi, k.gxr, k.ni, k.nr, k.saiB, k.gxyQM, k.newIV = nil, nil, nil, nil, nil, nil, nil
}

func (k *keys) zero() {
	if k == nil {
		return
	}
	if k.dh != nil {
		k.dh.Zero()
	}
	k.set.Zero()
	clear(k.encKey)
	clear(k.gxyQM)
}

// Name is how logs name the state: "west-east" #2.
func (st *State) Name() string {
	if st.Conn == nil {
		return fmt.Sprintf("#%d", st.Serial)
	}
	return fmt.Sprintf("%q%s #%d", st.Conn.Name, st.Conn.Instance, st.Serial)
}

// Digest is a received message as the processors see it (pluto's msg_digest).
type Digest struct {
	Msg     *payloads.Message
	From    netip.AddrPort
	To      netip.AddrPort
	Present PayloadSet

	// Filled by the processor: the reply's payload chain (plaintext).
	reply      []byte
	replyFirst spec.PayloadType
	// An IPsec SA the commit step installs before the reply is sent.
	install     *IPsecSA
	inboundOnly bool
	// replyMsgID, when set, sends the reply as the first message of a new
	// exchange with this message ID (XAUTH: the STATUS after the REPLY).
	replyMsgID uint32
}

// reply sets the payload chain to send back.
func (md *Digest) setReply(first spec.PayloadType, chain []byte) {
	md.replyFirst, md.reply = first, chain
}

// Machine is the IKEv1 engine: the state database, the demultiplexer and the
// timers. It is not safe for concurrent use: one goroutine owns it.
type Machine struct {
	env   Env
	cfg   Config
	guard *guard

	serial    uint64
	bySerial  map[uint64]*State
	byCookies map[[16]byte]*State // ISAKMP SAs by icookie|rcookie (rcookie zero while unknown)
	byMsgID   map[msgKey]*State
	timers    timerHeap
	// newest established SA of each kind per connection name (rekeying
	// replaces only the newest).
	newestISAKMP, newestIPsec map[string]uint64
	// byConn lists the states of each connection (Conn.key): isakmpFor
	// looks at a connection's few states, not at every state.
	byConn map[string][]*State
	now    time.Time

	// Flood resistance (flood.go).
	halfOpen int
	young    *list.List // responder states that have seen only a first message, oldest first
	limiter  *rateLimiter
	// signBucket is the global budget of Config.UnauthSignRate.
	signBucket bucket
	drops      map[string]*throttle
}

type msgKey struct {
	cookies [16]byte
	msgid   uint32
}

// NewMachine returns an engine that talks to the world through env.
func NewMachine(env Env, cfg Config) *Machine {
	if cfg.RetransmitDelay == 0 {
		cfg = DefaultConfig
	}
	m := &Machine{
		env:       env,
		cfg:       cfg,
		guard:     newGuard(),
		bySerial:  make(map[uint64]*State),
		byCookies: make(map[[16]byte]*State),
		byMsgID:   make(map[msgKey]*State),

		newestISAKMP: make(map[string]uint64),
		newestIPsec:  make(map[string]uint64),
		byConn:       make(map[string][]*State),
		young:        list.New(),
	}
	if cfg.NewExchangeRate > 0 {
		m.limiter = &rateLimiter{seed: maphash.MakeSeed()}
	}
	return m
}

func cookieKey(i, r [8]byte) [16]byte {
	var k [16]byte
	copy(k[:8], i[:])
	copy(k[8:], r[:])
	return k
}

func (m *Machine) newState(kind StateKind, c *Conn) *State {
	m.serial++
	st := &State{Serial: m.serial, Kind: kind, Conn: c, Since: m.now}
	st.timer = timer{st: st, index: -1}
	st.dpdTimer = timer{st: st, index: -1}
	m.bySerial[st.Serial] = st
	m.setConn(st, c)
	return st
}

// setConn makes c the connection of st, keeping byConn.
func (m *Machine) setConn(st *State, c *Conn) {
	m.uncount(st)
	st.Conn, st.counted = c, c
	if c != nil {
		m.byConn[c.key()] = append(m.byConn[c.key()], st)
	}
}

// uncount takes st out of byConn (deleted, or moving to another
// connection).
func (m *Machine) uncount(st *State) {
	if st.counted == nil {
		return
	}
	k := st.counted.key()
	list := slices.DeleteFunc(m.byConn[k], func(x *State) bool { return x == st })
	if len(list) == 0 {
		delete(m.byConn, k)
	} else {
		m.byConn[k] = list
	}
	st.counted = nil
}

// State returns the state with the given serial number.
func (m *Machine) State(serial uint64) *State { return m.bySerial[serial] }

// States returns every state, in serial order.
func (m *Machine) States() []*State {
	out := make([]*State, 0, len(m.bySerial))
	if uint64(len(m.bySerial))*8 < m.serial {
		// Most serials are gone (a long-running daemon): sort the live
		// ones rather than walk every serial ever given.
		for _, st := range m.bySerial {
			out = append(out, st)
		}
		slices.SortFunc(out, func(a, b *State) int { return cmp.Compare(a.Serial, b.Serial) })
		return out
	}
	for s := uint64(1); s <= m.serial; s++ {
		if st := m.bySerial[s]; st != nil {
			out = append(out, st)
		}
	}
	return out
}

func (m *Machine) log(st *State, code int, format string, a ...any) {
	m.env.Log(LogLine{State: st, Code: code, Text: fmt.Sprintf(format, a...)})
}

func (m *Machine) debug(st *State, format string, a ...any) {
	m.env.Log(LogLine{State: st, Text: fmt.Sprintf(format, a...), Debug: true})
}

func (m *Machine) logPacket(from netip.AddrPort, code int, format string, a ...any) {
	m.env.Log(LogLine{From: from, Code: code, Text: fmt.Sprintf(format, a...)})
}

func (m *Machine) random(n int) []byte {
	b := make([]byte, n)
	m.env.Rand(b)
	return b
}

func (m *Machine) newCookie() [8]byte {
	var c [8]byte
	for c == [8]byte{} {
		m.env.Rand(c[:])
	}
	return c
}

// newMsgID picks a random, non-zero message ID not used on p1 (RFC 2408 §3.1).
func (m *Machine) newMsgID(p1 *State) uint32 {
	for {
		var b [4]byte
		m.env.Rand(b[:])
		id := binary.BigEndian.Uint32(b[:])
		if id != 0 && !p1.usedMsgIDs[id] {
			p1.useMsgID(id)
			return id
		}
	}
}

// useMsgID records a message ID as used on ISAKMP SA p1.
func (p1 *State) useMsgID(id uint32) {
	if p1.usedMsgIDs == nil {
		p1.usedMsgIDs = make(map[uint32]bool)
	}
	p1.usedMsgIDs[id] = true
}

// ---- timers ----

type timerHeap []*timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) { t := x.(*timer); t.index = len(*h); *h = append(*h, t) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

// schedule arms st's main timer (one event at a time: the new one replaces it).
func (m *Machine) schedule(st *State, ev Event, after time.Duration) { m.arm(&st.timer, ev, after) }

func (m *Machine) arm(t *timer, ev Event, after time.Duration) {
	m.disarm(t)
	if ev == EventNull {
		return
	}
	t.ev, t.at = ev, m.now.Add(after)
	heap.Push(&m.timers, t)
}

func (m *Machine) disarm(t *timer) {
	if t.index >= 0 {
		heap.Remove(&m.timers, t.index)
	}
	t.ev = EventNull
}

// cancel disarms st's main timer.
func (m *Machine) cancel(st *State) { m.disarm(&st.timer) }

// NextTimeout returns when Tick should next be called (zero when no timer is armed).
func (m *Machine) NextTimeout() time.Time {
	if len(m.timers) == 0 {
		return time.Time{}
	}
	return m.timers[0].at
}

// Tick fires every timer due at now.
func (m *Machine) Tick(now time.Time) {
	m.now = now
	for len(m.timers) > 0 && !m.timers[0].at.After(now) {
		t := heap.Pop(&m.timers).(*timer)
		ev := t.ev
		t.ev = EventNull
		m.fire(t.st, ev)
	}
}

func (m *Machine) fire(st *State, ev Event) {
	switch ev {
	case EventRetransmit:
		m.retransmit(st)
	case EventSADiscard:
		if st.Kind.IsPhase15() {
			m.log(st, 3, "%s: the peer did not continue XAUTH/ModeCfg; deleting the ISAKMP SA", st.Kind)
			m.deleteState(st, true)
			return
		}
		m.debug(st, "discarding half-open state %s", st.Kind)
		m.deleteState(st, false)
	case EventSAReplace:
		m.replace(st)
	case EventSAExpire:
		m.log(st, 0, "%s: lifetime expired, deleting", st.Kind)
		m.deleteState(st, true)
	case EventDPD:
		m.dpd(st)
	}
}

// maxRetransmits is how often a state resends its last message, or answers
// a duplicate with it. QI2, the last message of Quick Mode, is never
// acknowledged: QUICK_R1 keeps resending QR1 longer (Openswan: up to 20
// times, 40 s apart; here 10 times, two intervals apart) and QUICK_I2
// answers each copy with QI2, so that a lossy path still ends with the
// IPsec SA on both sides.
func (m *Machine) maxRetransmits(k StateKind) int {
	if (k == StateQuickR1 || k == StateQuickI2) && m.cfg.MaxRetransmits > 0 {
		return max(m.cfg.MaxRetransmits, 10)
	}
	return m.cfg.MaxRetransmits
}

// retransmit resends the last message of an unanswered initiator state, or
// gives up after MaxRetransmits (pluto's retransmit_v1_msg).
func (m *Machine) retransmit(st *State) {
	if st.retransmits < m.maxRetransmits(st.Kind) {
		st.retransmits++
		delay := m.cfg.RetransmitDelay << min(st.retransmits, 1)
		if st.Kind != StateQuickR1 {
			delay = m.cfg.RetransmitDelay << st.retransmits
		}
		m.log(st, 10, "%s: retransmission; will wait %s for response", st.Kind, fmtDuration(delay))
		m.env.Send(st.lastSent, st.Local, st.Remote)
		m.schedule(st, EventRetransmit, delay)
		return
	}
	why := ""
	switch st.Kind {
	case StateMainI1, StateAggrI1:
		why = ".  No response (or no acceptable response) to our first IKE message"
	case StateMainI3:
		why = ".  Possible authentication failure: no acceptable response to our first encrypted message"
	case StateQuickI1:
		why = ".  No acceptable response to our first Quick Mode message: perhaps peer likes no proposal"
	}
	m.log(st, 31, "max number of retransmissions (%d) reached %s%s", st.retransmits, st.Kind, why)
	c := st.Conn
	// Phase 1 and Quick Mode alike (pluto's retransmit_v1_msg): a lost
	// exchange is started again while keying attempts remain.
	if st.Initiator && c != nil && (c.KeyingTries == 0 || max(st.Try, 1) < c.KeyingTries) && (st.Kind.IsPhase1() || st.Kind == StateQuickI1) {
		limit := "an unlimited number"
		if c.KeyingTries != 0 {
			limit = fmt.Sprintf("at most %d", c.KeyingTries)
		}
		try := max(st.Try, 1) + 1
		m.log(st, 0, "starting keying attempt %d of %s, but releasing whack", try, limit)
		w := st.Whack
		st.Whack = nil
		m.release(w)
		if p1 := st.Parent; st.Kind == StateQuickI1 && p1 != nil && m.bySerial[p1.Serial] == p1 && !p1.dpdLastHeard.After(st.Since) {
			// Nothing authenticated came back on the ISAKMP SA since this
			// Quick Mode began: the peer may have lost it (its Delete lost
			// too). Start over with a new one rather than retry on it.
			m.log(p1, 0, "no answer on this ISAKMP SA since Quick Mode #%d began; deleting it", st.Serial)
			m.deleteState(p1, true)
		}
		m.deleteState(st, false)
		m.initiate(c, nil, try)
		return
	}
	m.deleteState(st, st.Kind.IsPhase15())
}

func fmtDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

func (m *Machine) release(w any) {
	if w != nil {
		m.env.Release(w)
	}
}

// deleteState removes st (and, for an ISAKMP SA, nothing else: its Quick
// Mode children live on until their own end). With notify, a Delete
// payload is sent to the peer when the ISAKMP SA can protect it.
func (m *Machine) deleteState(st *State, notify bool) {
	if m.bySerial[st.Serial] != st {
		return
	}
	if notify {
		m.sendDelete(st)
	}
	m.cancel(st)
	// Only what was installed is removed: the full pair once established,
	// the inbound half in QUICK_R1 (pluto's IS_ONLY_INBOUND_IPSEC_SA_ESTABLISHED);
	// QUICK_I1 holds our SPI but has installed nothing.
	if st.IPsec != nil && (st.Kind.IsIPsecEstablished() || st.Kind == StateQuickR1) {
		m.env.Delete(st, st.IPsec)
	}
	delete(m.bySerial, st.Serial)
	m.uncount(st)
	m.setHalfOpen(st, false)
	m.setYoung(st)
	if st.k != nil {
		st.k.pre.zero()
	}
	if st.Kind.IsQuick() && st.Parent != nil {
		delete(m.byMsgID, msgKey{cookieKey(st.Parent.ICookie, st.Parent.RCookie), st.MsgID})
	} else {
		// A responder is also indexed by the initiator cookie alone until
		// MI2 (so that a duplicate MI1 finds it): remove both entries.
		for _, k := range [][16]byte{cookieKey(st.ICookie, st.RCookie), cookieKey(st.ICookie, [8]byte{})} {
			if m.byCookies[k] == st {
				delete(m.byCookies, k)
			}
		}
	}
	st.k.zero()
	if st.Whack != nil {
		w := st.Whack
		st.Whack = nil
		m.release(w)
	}
	if fw, ok := m.env.(FailureWatcher); ok && !st.Kind.IsISAKMPEstablished() && !st.Kind.IsIPsecEstablished() {
		fw.NegotiationFailed(st)
	}
}

// DeleteState deletes the state with the given serial, telling the peer.
func (m *Machine) DeleteState(now time.Time, serial uint64) bool {
	m.now = now
	st := m.bySerial[serial]
	if st == nil {
		return false
	}
	m.deleteState(st, true)
	return true
}

// Terminate deletes every state of the named connection, IPsec SAs first,
// telling the peer; it returns how many were deleted.
func (m *Machine) Terminate(now time.Time, conn string) int {
	m.now = now
	n := 0
	for _, quick := range []bool{true, false} {
		for _, st := range m.States() {
			if st.Conn != nil && st.Conn.Name == conn && st.Kind.IsQuick() == quick {
				m.deleteState(st, true)
				n++
			}
		}
	}
	return n
}

// Shutdown deletes every state, telling peers.
func (m *Machine) Shutdown(now time.Time) {
	m.now = now
	for _, quick := range []bool{true, false} {
		for _, st := range m.States() {
			if st.Kind.IsQuick() == quick {
				m.deleteState(st, true)
			}
		}
	}
}

// Timer returns the event armed for st and how long until it fires.
func (st *State) Timer(now time.Time) (Event, time.Duration) {
	if st.timer.index < 0 {
		return EventNull, 0
	}
	return st.timer.ev, st.timer.at.Sub(now)
}
