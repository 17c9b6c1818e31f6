package fsm

import "goswan/spec"

// This file is the IKEv1 state machine: one row per (state, auth method)
// transition, in the order of pluto's state_microcode_table (Openswan
// programs/pluto/ikev1.c). Everything else in the package is driven by it:
// the demultiplexer picks the row for the state a message arrives in, checks
// the payloads the row requires before the processor runs, decrypts when the
// row says so, and commits the transition (new state, reply, timer) only when
// the processor succeeds. The looplab/fsm guard and the auditor's document
// spec/ikev1-states.md are both derived from Table.

// Flags describe a transition (pluto's SMF_* bits).
type Flags uint16

const (
	// FlagInitiator: we are the initiator of this exchange (SMF_INITIATOR).
	FlagInitiator Flags = 1 << iota
	// FlagFirstEncryptedInput: the first encrypted message of the exchange;
	// keys must be ready before it is decrypted (SMF_FIRST_ENCRYPTED_INPUT).
	FlagFirstEncryptedInput
	// FlagInputEncrypted: the message must arrive encrypted (SMF_INPUT_ENCRYPTED).
	FlagInputEncrypted
	// FlagOutputEncrypted: the reply is sent encrypted (SMF_OUTPUT_ENCRYPTED).
	FlagOutputEncrypted
	// FlagRetransmitOnDuplicate: a duplicate of the last message received
	// in this state is answered with our last message (SMF_RETRANSMIT_ON_DUPLICATE).
	FlagRetransmitOnDuplicate
	// FlagReply: the transition sends a message (SMF_REPLY).
	FlagReply
	// FlagReleasePendingP2: phase 1 is complete; start queued Quick Modes
	// (SMF_RELEASE_PENDING_P2).
	FlagReleasePendingP2

	// FlagEncrypted is input and output encrypted (SMF_ENCRYPTED).
	FlagEncrypted = FlagInputEncrypted | FlagOutputEncrypted
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagInitiator, "I"}, {FlagFirstEncryptedInput, "FE"}, {FlagInputEncrypted, "IE"},
	{FlagOutputEncrypted, "OE"}, {FlagRetransmitOnDuplicate, "D"}, {FlagReply, "R"},
	{FlagReleasePendingP2, "P2"},
}

// String abbreviates the flags as the auditor's table does: "I,OE,R".
func (f Flags) String() string {
	s := ""
	for _, n := range flagNames {
		if f&n.f != 0 {
			if s != "" {
				s += ","
			}
			s += n.name
		}
	}
	if s == "" {
		return "-"
	}
	return s
}

// AuthSet is the set of authentication methods a row applies to.
type AuthSet uint8

const (
	AuthSetPSK AuthSet = 1 << iota // pre-shared key
	AuthSetSig                     // DSS and RSA signatures
	AuthSetAll AuthSet = AuthSetPSK | AuthSetSig
)

func (a AuthSet) String() string {
	switch a {
	case AuthSetPSK:
		return "PSK"
	case AuthSetSig:
		return "SIG"
	case AuthSetAll:
		return "ALL"
	}
	return "-"
}

// authSetOf maps a negotiated authentication method to its row set.
func authSetOf(m spec.AuthMethod) AuthSet {
	switch m.Base() {
	case spec.AuthPSK:
		return AuthSetPSK
	case spec.AuthRSASig, spec.AuthDSSSig:
		return AuthSetSig
	}
	return 0
}

// Event is the timer a transition arms in its new state.
type Event uint8

const (
	EventNull       Event = iota // nothing (the state waits for something else)
	EventRetransmit              // resend our last message unless answered
	EventSADiscard               // half-open responder state: discard, never retransmit (CVE-2016-5361)
	EventSAReplace               // established: replace before expiry
	EventSAExpire                // established: delete
	EventDPD                     // established ISAKMP SA: Dead Peer Detection (its own timer)
)

var eventNames = [...]string{"EVENT_NULL", "EVENT_RETRANSMIT", "EVENT_SA_DISCARD", "EVENT_SA_REPLACE", "EVENT_SA_EXPIRE", "EVENT_DPD"}

func (e Event) String() string { return eventNames[e] }

// Processor handles one message for one row. It reads the state and the
// digest, computes, and leaves its reply in md; it performs no I/O and does
// not change st.Kind (the commit step does).
type Processor func(m *Machine, st *State, md *Digest) error

// Row is one transition of the state machine.
type Row struct {
	From, To  StateKind // To is StateUndefined for "no transition"
	Auth      AuthSet
	Flags     Flags
	Required  PayloadSet // each must appear exactly once
	Optional  PayloadSet // any number (N and VID are allowed everywhere)
	Timeout   Event
	Name      string // pluto's processor name, for grepping pluto docs and our logs
	Flow      string // the exchange in RFC 2409 notation
	Processor Processor
}

// Payloads allowed in every message (pluto's everywhere_payloads).
var everywhere = Payloads(spec.PayloadN, spec.PayloadVID)

var (
	vc   = Payloads(spec.PayloadVID, spec.PayloadCR)
	natd = Payloads(spec.PayloadNATD, spec.PayloadNATDDraft)
	qopt = Payloads(spec.PayloadKE, spec.PayloadID, spec.PayloadNATOA, spec.PayloadNATOADraft)

	attrHash = Payloads(spec.PayloadAttr, spec.PayloadHash)
	p        = Payloads
)

// Table is the IKEv1 transition table. Main Mode rows come first, then
// Aggressive Mode, Quick Mode, XAUTH and ModeCfg, then Informational.
var Table = []Row{
	// ---- Main Mode (RFC 2409 §5) ----
	{From: StateMainR0, To: StateMainR1, Auth: AuthSetAll, Flags: FlagReply,
		Required: p(spec.PayloadSA), Optional: vc, Timeout: EventSADiscard,
		Name: "main_inI1_outR1", Flow: "HDR, SA --> HDR, SA", Processor: mainInI1OutR1},
	{From: StateMainI1, To: StateMainI2, Auth: AuthSetAll, Flags: FlagInitiator | FlagReply,
		Required: p(spec.PayloadSA), Optional: vc, Timeout: EventRetransmit,
		Name: "main_inR1_outI2", Flow: "HDR, SA --> HDR, KE, Ni", Processor: mainInR1OutI2},
	{From: StateMainR1, To: StateMainR2, Auth: AuthSetPSK | AuthSetSig, Flags: FlagReply | FlagRetransmitOnDuplicate,
		Required: p(spec.PayloadKE, spec.PayloadNonce), Optional: vc.Union(natd), Timeout: EventRetransmit,
		Name: "main_inI2_outR2", Flow: "HDR, KE, Ni --> HDR, KE, Nr", Processor: mainInI2OutR2},
	{From: StateMainI2, To: StateMainI3, Auth: AuthSetPSK | AuthSetSig, Flags: FlagInitiator | FlagOutputEncrypted | FlagReply,
		Required: p(spec.PayloadKE, spec.PayloadNonce), Optional: vc.Union(natd), Timeout: EventRetransmit,
		Name: "main_inR2_outI3", Flow: "HDR, KE, Nr --> HDR*, IDii, HASH_I (or SIG_I)", Processor: mainInR2OutI3},
	{From: StateMainR2, To: StateMainR3, Auth: AuthSetPSK,
		Flags:    FlagFirstEncryptedInput | FlagEncrypted | FlagReply | FlagReleasePendingP2 | FlagRetransmitOnDuplicate,
		Required: p(spec.PayloadID, spec.PayloadHash), Optional: vc, Timeout: EventSAReplace,
		Name: "main_inI3_outR3", Flow: "HDR*, IDii, HASH_I --> HDR*, IDir, HASH_R", Processor: mainInI3OutR3},
	{From: StateMainR2, To: StateMainR3, Auth: AuthSetSig,
		Flags:    FlagFirstEncryptedInput | FlagEncrypted | FlagReply | FlagReleasePendingP2 | FlagRetransmitOnDuplicate,
		Required: p(spec.PayloadID, spec.PayloadSig), Optional: vc.Union(p(spec.PayloadCert)), Timeout: EventSAReplace,
		Name: "main_inI3_outR3", Flow: "HDR*, IDii, [CERT,] SIG_I --> HDR*, IDir, [CERT,] SIG_R", Processor: mainInI3OutR3},
	{From: StateMainI3, To: StateMainI4, Auth: AuthSetPSK,
		Flags:    FlagInitiator | FlagFirstEncryptedInput | FlagEncrypted | FlagReleasePendingP2,
		Required: p(spec.PayloadID, spec.PayloadHash), Optional: vc, Timeout: EventSAReplace,
		Name: "main_inR3", Flow: "HDR*, IDir, HASH_R -->", Processor: mainInR3},
	{From: StateMainI3, To: StateMainI4, Auth: AuthSetSig,
		Flags:    FlagInitiator | FlagFirstEncryptedInput | FlagEncrypted | FlagReleasePendingP2,
		Required: p(spec.PayloadID, spec.PayloadSig), Optional: vc.Union(p(spec.PayloadCert)), Timeout: EventSAReplace,
		Name: "main_inR3", Flow: "HDR*, IDir, [CERT,] SIG_R -->", Processor: mainInR3},
	{From: StateMainR3, Auth: AuthSetAll, Flags: FlagEncrypted | FlagRetransmitOnDuplicate,
		Timeout: EventNull, Name: "unexpected", Flow: "(duplicate of MI3: answered with MR3)", Processor: unexpected},
	{From: StateMainI4, Auth: AuthSetAll, Flags: FlagInitiator | FlagEncrypted,
		Timeout: EventNull, Name: "unexpected", Flow: "(nothing expected)", Processor: unexpected},

	// ---- Aggressive Mode (RFC 2409 §5), only with --aggrmode ----
	{From: StateAggrR0, To: StateAggrR1, Auth: AuthSetAll, Flags: FlagReply,
		Required: p(spec.PayloadSA, spec.PayloadKE, spec.PayloadNonce, spec.PayloadID), Optional: vc.Union(natd), Timeout: EventSADiscard,
		Name: "aggr_inI1_outR1", Flow: "HDR, SA, KE, Ni, IDii --> HDR, SA, KE, Nr, IDir, HASH_R (or SIG_R)", Processor: aggrInI1OutR1},
	{From: StateAggrI1, To: StateAggrI2, Auth: AuthSetPSK, Flags: FlagInitiator | FlagOutputEncrypted | FlagReply | FlagReleasePendingP2,
		Required: p(spec.PayloadSA, spec.PayloadKE, spec.PayloadNonce, spec.PayloadID, spec.PayloadHash), Optional: vc.Union(natd), Timeout: EventSAReplace,
		Name: "aggr_inR1_outI2", Flow: "HDR, SA, KE, Nr, IDir, HASH_R --> HDR*, HASH_I", Processor: aggrInR1OutI2},
	{From: StateAggrI1, To: StateAggrI2, Auth: AuthSetSig, Flags: FlagInitiator | FlagOutputEncrypted | FlagReply | FlagReleasePendingP2,
		Required: p(spec.PayloadSA, spec.PayloadKE, spec.PayloadNonce, spec.PayloadID, spec.PayloadSig), Optional: vc.Union(natd).Union(p(spec.PayloadCert)), Timeout: EventSAReplace,
		Name: "aggr_inR1_outI2", Flow: "HDR, SA, KE, Nr, IDir, [CERT,] SIG_R --> HDR*, SIG_I", Processor: aggrInR1OutI2},
	{From: StateAggrR1, To: StateAggrR2, Auth: AuthSetPSK, Flags: FlagFirstEncryptedInput | FlagReleasePendingP2 | FlagRetransmitOnDuplicate,
		Required: p(spec.PayloadHash), Optional: vc.Union(natd), Timeout: EventSAReplace,
		Name: "aggr_inI2", Flow: "HDR(*), HASH_I --> (encrypted or not)", Processor: aggrInI2},
	{From: StateAggrR1, To: StateAggrR2, Auth: AuthSetSig, Flags: FlagFirstEncryptedInput | FlagReleasePendingP2 | FlagRetransmitOnDuplicate,
		Required: p(spec.PayloadSig), Optional: vc.Union(natd).Union(p(spec.PayloadCert)), Timeout: EventSAReplace,
		Name: "aggr_inI2", Flow: "HDR(*), [CERT,] SIG_I --> (encrypted or not)", Processor: aggrInI2},
	{From: StateAggrI2, Auth: AuthSetAll, Flags: FlagInitiator | FlagRetransmitOnDuplicate,
		Timeout: EventNull, Name: "unexpected", Flow: "(duplicate of AR1: answered with AI2)", Processor: unexpected},
	{From: StateAggrR2, Auth: AuthSetAll, Flags: FlagEncrypted,
		Timeout: EventNull, Name: "unexpected", Flow: "(nothing expected)", Processor: unexpected},

	// ---- Quick Mode (RFC 2409 §5.5) ----
	{From: StateQuickR0, To: StateQuickR1, Auth: AuthSetAll, Flags: FlagEncrypted | FlagReply,
		Required: p(spec.PayloadHash, spec.PayloadSA, spec.PayloadNonce), Optional: qopt, Timeout: EventRetransmit,
		Name: "quick_inI1_outR1", Flow: "HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] --> HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr]",
		Processor: quickInI1OutR1},
	{From: StateQuickI1, To: StateQuickI2, Auth: AuthSetAll, Flags: FlagInitiator | FlagEncrypted | FlagReply,
		Required: p(spec.PayloadHash, spec.PayloadSA, spec.PayloadNonce), Optional: qopt, Timeout: EventSAReplace,
		Name: "quick_inR1_outI2", Flow: "HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] --> HDR*, HASH(3)",
		Processor: quickInR1OutI2},
	// D: pluto resends QR1 from QUICK_R1 on a timer; our responders never
	// retransmit on their own (Row.Armed), so a lost QR1 is recovered by
	// answering the initiator's resent QI1 instead (as libreswan does).
	{From: StateQuickR1, To: StateQuickR2, Auth: AuthSetAll, Flags: FlagEncrypted | FlagRetransmitOnDuplicate,
		Required: p(spec.PayloadHash), Timeout: EventSAReplace,
		Name: "quick_inI2", Flow: "HDR*, HASH(3) -->", Processor: quickInI2},
	{From: StateQuickI2, Auth: AuthSetAll, Flags: FlagInitiator | FlagEncrypted | FlagRetransmitOnDuplicate,
		Timeout: EventNull, Name: "unexpected", Flow: "(duplicate of QR1: answered with QI2)", Processor: unexpected},
	{From: StateQuickR2, Auth: AuthSetAll, Flags: FlagEncrypted,
		Timeout: EventNull, Name: "unexpected", Flow: "(nothing expected)", Processor: unexpected},

	// ---- XAUTH (draft-beaulieu-ike-xauth-02) and ModeCfg (draft-dukes-ike-mode-cfg-02) ----
	// Transaction exchanges on an established ISAKMP SA (xauth.go), whose
	// own state moves through these. The first message of each exchange is
	// sent outside the table when phase 1 (or XAUTH) completes
	// (xauth_send_request -> XAUTH_R0, modecfg_send_set -> MODE_CFG_R1,
	// modecfg_send_request -> MODE_CFG_I1), as is the client's wait for
	// the server (-> XAUTH_I0, -> MODE_CFG_I1 when pushed); a REQUEST to a
	// --modecfgpull server enters MODE_CFG_R0. Duplicates of the last
	// Transaction message we answered are answered again in any state.
	{From: StateXAuthR0, To: StateXAuthR1, Auth: AuthSetAll, Flags: FlagInitiator | FlagEncrypted | FlagReply,
		Required: attrHash, Timeout: EventRetransmit,
		Name: "xauth_inR0", Flow: "HDR*, HASH, ATTR(REPLY: name, password) --> HDR*, HASH, ATTR(SET: STATUS) (new M-ID)", Processor: xauthInR0},
	{From: StateXAuthR1, To: StateMainR3, Auth: AuthSetAll, Flags: FlagInitiator | FlagEncrypted,
		Required: attrHash, Timeout: EventSAReplace,
		Name: "xauth_inR1", Flow: "HDR*, HASH, ATTR(ACK) --> (after FAIL: ISAKMP SA deleted)", Processor: xauthInR1},
	{From: StateModeCfgR0, To: StateModeCfgR2, Auth: AuthSetAll, Flags: FlagEncrypted | FlagReply,
		Required: attrHash, Timeout: EventSAReplace,
		Name: "modecfg_inR0", Flow: "HDR*, HASH, ATTR(REQUEST) --> HDR*, HASH, ATTR(REPLY: address, DNS, WINS)", Processor: modecfgInR0},
	{From: StateModeCfgR1, To: StateModeCfgR2, Auth: AuthSetAll, Flags: FlagInitiator | FlagEncrypted,
		Required: attrHash, Timeout: EventSAReplace,
		Name: "modecfg_inR1", Flow: "HDR*, HASH, ATTR(ACK) -->", Processor: modecfgInR1},
	{From: StateModeCfgR2, Auth: AuthSetAll, Flags: FlagEncrypted,
		Timeout: EventNull, Name: "unexpected", Flow: "(nothing expected)", Processor: unexpected},
	{From: StateModeCfgI1, To: StateMainI4, Auth: AuthSetAll, Flags: FlagEncrypted | FlagReply | FlagReleasePendingP2,
		Required: attrHash, Timeout: EventSAReplace,
		Name: "modecfg_inI1", Flow: "HDR*, HASH, ATTR(REPLY) --> (pull); HDR*, HASH, ATTR(SET) --> HDR*, HASH, ATTR(ACK) (push)", Processor: modecfgInI1},
	{From: StateXAuthI0, To: StateXAuthI1, Auth: AuthSetAll, Flags: FlagEncrypted | FlagReply,
		Required: attrHash, Timeout: EventRetransmit,
		Name: "xauth_inI0", Flow: "HDR*, HASH, ATTR(REQUEST) --> HDR*, HASH, ATTR(REPLY: name, password)", Processor: xauthInI0},
	{From: StateXAuthI1, To: StateMainI4, Auth: AuthSetAll, Flags: FlagEncrypted | FlagReply | FlagReleasePendingP2,
		Required: attrHash, Timeout: EventSAReplace,
		Name: "xauth_inI1", Flow: "HDR*, HASH, ATTR(SET: STATUS) --> HDR*, HASH, ATTR(ACK) (FAIL: ISAKMP SA deleted)", Processor: xauthInI1},

	// ---- Informational (RFC 2408 §4.8, RFC 2409 §5.7) ----
	{From: StateInfo, Auth: AuthSetAll,
		Optional: p(spec.PayloadN, spec.PayloadD), Timeout: EventNull,
		Name: "informational", Flow: "HDR, N/D --> (logged, not trusted)", Processor: informational},
	{From: StateInfoProtected, Auth: AuthSetAll, Flags: FlagEncrypted,
		Required: p(spec.PayloadHash), Optional: p(spec.PayloadN, spec.PayloadD), Timeout: EventNull,
		Name: "informational", Flow: "HDR*, HASH(1), N/D -->", Processor: informational},
}

// Armed is the timer the commit step really arms in the new state. It is
// the row's Timeout (pluto's), except that a responder never retransmits on
// its own (CVE-2016-5361): its EVENT_RETRANSMIT becomes EVENT_SA_DISCARD
// after Config.HalfOpenTimeout; and until rekeying exists an established SA
// gets EVENT_SA_EXPIRE at the end of its lifetime instead of EVENT_SA_REPLACE.
func (r *Row) Armed() Event {
	switch r.Timeout {
	case EventRetransmit:
		// Responders never retransmit Main Mode on their own (CVE-2016-5361:
		// unauthenticated amplification); QR1 is protected by an
		// authenticated ISAKMP SA, and resending it recovers a lost QI2.
		if r.Flags&FlagInitiator == 0 && !r.From.IsQuick() {
			return EventSADiscard
		}
	}
	return r.Timeout
}

// rowIndex[s] is the index of the first row for state s (pluto's
// ike_microcode_index); -1 when s has no rows.
var rowIndex [stateRoof]int

func init() {
	for i := range rowIndex {
		rowIndex[i] = -1
	}
	for i := range Table {
		if rowIndex[Table[i].From] < 0 {
			rowIndex[Table[i].From] = i
		}
	}
}

// rowFor returns the row for a message arriving in state s negotiated with
// auth method a, or nil.
func rowFor(s StateKind, a AuthSet) *Row {
	if s >= stateRoof || rowIndex[s] < 0 {
		return nil
	}
	for i := rowIndex[s]; i < len(Table) && Table[i].From == s; i++ {
		if Table[i].Auth&a != 0 {
			return &Table[i]
		}
	}
	return nil
}
