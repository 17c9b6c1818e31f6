package fsm

import "strconv"

// StateKind is the state of a state object, numbered as FreeS/WAN's pluto
// numbered them (CONTRACT.md: the whack code of a new state is 100 + its
// number, so STATE_MAIN_I1 prints as 104 and STATE_QUICK_I1 as 112). States
// added later (Aggressive Mode, XAUTH, ModeCfg) take numbers after
// STATE_INFO_PROTECTED so these never change.
type StateKind uint8

const (
	StateUndefined        StateKind = 0
	StateOppoAcquire      StateKind = 1
	StateOppoGWDiscovered StateKind = 2

	// Main Mode (RFC 2409 §5): responder R0..R3, initiator I1..I4.
	StateMainR0 StateKind = 3
	StateMainI1 StateKind = 4
	StateMainR1 StateKind = 5
	StateMainI2 StateKind = 6
	StateMainR2 StateKind = 7
	StateMainI3 StateKind = 8
	StateMainR3 StateKind = 9
	StateMainI4 StateKind = 10

	// Quick Mode (RFC 2409 §5.5).
	StateQuickR0 StateKind = 11
	StateQuickI1 StateKind = 12
	StateQuickR1 StateKind = 13
	StateQuickI2 StateKind = 14
	StateQuickR2 StateKind = 15

	// Informational (RFC 2408 §4.8, RFC 2409 §5.7).
	StateInfo          StateKind = 16
	StateInfoProtected StateKind = 17

	// Aggressive Mode (RFC 2409 §5): numbered after the FreeS/WAN states.
	StateAggrR0 StateKind = 18
	StateAggrI1 StateKind = 19
	StateAggrR1 StateKind = 20
	StateAggrI2 StateKind = 21
	StateAggrR2 StateKind = 22

	// XAUTH (draft-beaulieu-ike-xauth-02) and ModeCfg (draft-dukes-ike-mode-cfg-02):
	// Transaction exchanges on an authenticated ISAKMP SA ("phase 1.5").
	// The ISAKMP SA's own state moves through these, as in pluto; Openswan
	// 2.6.38 gives them the same numbers (whack codes 123..130).
	StateXAuthR0   StateKind = 23 // server: REQUEST sent, expecting REPLY
	StateXAuthR1   StateKind = 24 // server: STATUS (SET) sent, expecting ACK
	StateModeCfgR0 StateKind = 25 // server: REQUEST received (pull)
	StateModeCfgR1 StateKind = 26 // server: SET sent (push), expecting ACK
	StateModeCfgR2 StateKind = 27 // server: ModeCfg done; the ISAKMP SA is established
	StateModeCfgI1 StateKind = 28 // client: REQUEST sent (pull) or waiting for SET (push)
	StateXAuthI0   StateKind = 29 // client: waiting for the REQUEST
	StateXAuthI1   StateKind = 30 // client: REPLY sent, expecting STATUS (SET)

	stateRoof StateKind = 31
)

var stateNames = [stateRoof]string{
	"STATE_UNDEFINED", "STATE_OPPO_ACQUIRE", "STATE_OPPO_GW_DISCOVERED",
	"STATE_MAIN_R0", "STATE_MAIN_I1", "STATE_MAIN_R1", "STATE_MAIN_I2",
	"STATE_MAIN_R2", "STATE_MAIN_I3", "STATE_MAIN_R3", "STATE_MAIN_I4",
	"STATE_QUICK_R0", "STATE_QUICK_I1", "STATE_QUICK_R1", "STATE_QUICK_I2", "STATE_QUICK_R2",
	"STATE_INFO", "STATE_INFO_PROTECTED",
	"STATE_AGGR_R0", "STATE_AGGR_I1", "STATE_AGGR_R1", "STATE_AGGR_I2", "STATE_AGGR_R2",
	"STATE_XAUTH_R0", "STATE_XAUTH_R1", "STATE_MODE_CFG_R0", "STATE_MODE_CFG_R1",
	"STATE_MODE_CFG_R2", "STATE_MODE_CFG_I1", "STATE_XAUTH_I0", "STATE_XAUTH_I1",
}

// Story is what pluto says about a state (Openswan 2.6 lib/libpluto/pluto_constants.c).
var stateStories = [stateRoof]string{
	"not defined and probably dead (internal)",
	"got ACQUIRE",
	"got TXT specifying gateway",
	"expecting MI1",
	"sent MI1, expecting MR1",
	"sent MR1, expecting MI2",
	"sent MI2, expecting MR2",
	"sent MR2, expecting MI3",
	"sent MI3, expecting MR3",
	"sent MR3, ISAKMP SA established",
	"ISAKMP SA established",
	"expecting QI1",
	"sent QI1, expecting QR1",
	"sent QR1, inbound IPsec SA installed, expecting QI2",
	"sent QI2, IPsec SA established",
	"IPsec SA established",
	"got Informational Message in clear",
	"got encrypted Informational Message",
	"expecting AI1",
	"sent AI1, expecting AR1",
	"sent AR1, expecting AI2",
	"sent AI2, ISAKMP SA established",
	"ISAKMP SA established",
	"XAUTH server - CFG_request sent, expecting CFG_reply",
	"XAUTH status sent, expecting Ack",
	"ModeCfg Reply sent",
	"ModeCfg Set sent, expecting Ack",
	"ModeCfg done, ISAKMP SA established",
	"ModeCfg initiator - awaiting CFG_reply",
	"XAUTH client - awaiting CFG_request",
	"XAUTH client - awaiting CFG_set",
}

func (s StateKind) String() string {
	if s < stateRoof {
		return stateNames[s]
	}
	return "STATE_" + strconv.Itoa(int(s))
}

// Story returns pluto's description of s.
func (s StateKind) Story() string {
	if s < stateRoof {
		return stateStories[s]
	}
	return "unknown state"
}

// IsISAKMPEstablished reports whether s is an established phase-1 state.
func (s StateKind) IsISAKMPEstablished() bool {
	return s == StateMainR3 || s == StateMainI4 || s == StateAggrI2 || s == StateAggrR2 || s == StateModeCfgR2
}

// IsPhase15 reports whether s is an XAUTH or ModeCfg state: the ISAKMP SA
// is authenticated and keyed, but Quick Mode waits.
func (s StateKind) IsPhase15() bool {
	return s >= StateXAuthR0 && s <= StateXAuthI1 && s != StateModeCfgR2
}

// IsISAKMPKeyed reports whether an ISAKMP SA in s can protect messages:
// established, or in XAUTH/ModeCfg.
func (s StateKind) IsISAKMPKeyed() bool { return s.IsISAKMPEstablished() || s.IsPhase15() }

// IsIPsecEstablished reports whether s is an established phase-2 state.
func (s StateKind) IsIPsecEstablished() bool { return s == StateQuickI2 || s == StateQuickR2 }

// IsPhase1 reports whether s belongs to an ISAKMP SA negotiation.
func (s StateKind) IsPhase1() bool {
	return (s >= StateMainR0 && s <= StateMainI4) || (s >= StateAggrR0 && s <= StateAggrR2)
}

// IsAggressive reports whether s belongs to an Aggressive Mode negotiation.
func (s StateKind) IsAggressive() bool { return s >= StateAggrR0 && s <= StateAggrR2 }

// IsQuick reports whether s belongs to a Quick Mode negotiation.
func (s StateKind) IsQuick() bool { return s >= StateQuickR0 && s <= StateQuickR2 }

// Code is the whack progress code for entering s: 004 (success) for
// established states, otherwise 100 + s (RC_NEW_STATE + state).
func (s StateKind) Code() int {
	if s.IsISAKMPEstablished() || s.IsIPsecEstablished() {
		return 4
	}
	return 100 + int(s)
}
