package whack

// Reply codes: the three digits at the start of every line pluto sends back
// to whack (Openswan include/oswlog.h, FreeS/WAN numbering; see
// IKEV1-REFERENCE.md §2.1). The duplicated values 30-32 are in the original.
const (
	RCComment          = 0 // a comment; never counted for the exit status
	RCWhackProblem     = 1 // whack itself found a problem
	RCLog              = 2 // also sent to the log
	RCLogSerious       = 3 // a serious log line
	RCSuccess          = 4 // an SA was established; counts as exit status 0
	RCRetransmission   = 10
	RCDupName          = 20 // a connection with that name already exists
	RCUnknownName      = 21 // no connection with that name
	RCOrient           = 22 // cannot decide which end we are
	RCClash            = 23 // clash between connections
	RCDeaf             = 24 // not listening
	RCRoute            = 25 // routing failed
	RCRtBusy           = 26 // route is in use by another connection
	RCBadID            = 27
	RCNoKey            = 28
	RCNoPeerIP         = 29
	RCInitShunt        = 30
	RCBadWhackMessage  = 30 // pluto rejected the message from whack
	RCWildcard         = 31
	RCNoRetransmission = 31 // max number of retransmissions reached
	RCNoValidPIN       = 32
	RCInternalErr      = 32
	RCOppoFailure      = 33
	RCNoAlgo           = 34
	RCCryptoFailed     = 35
	RCAggrAlgo         = 36
	RCFatal            = 37
	RCEnterSecret      = 40  // pluto asks for a secret (XAUTH password, passphrase)
	RCXauthPrompt      = 41  // pluto asks for a user name
	RCNewState         = 100 // 100 + state number: progress of a state
	RCNotification     = 200 // 200 + notification type
)

// ExitStatus computes whack's exit status from the codes of the lines pluto
// sent, in order (CONTRACT.md): the code of the last line that is not a
// comment or log line (000-003 are not counted), with the success code 004
// counted as 0; 0 when there were no such lines.
//
// The prompts 040 and 041 are not progress lines either: whack answers them
// and they do not change the status (as in Openswan's whack).
func ExitStatus(codes []int) int {
	status := 0
	for _, c := range codes {
		switch {
		case c < 0, c <= RCLogSerious:
			// comment or log line (or garbage): not counted
		case c == RCEnterSecret, c == RCXauthPrompt:
			// a prompt, answered by whack
		case c == RCSuccess:
			status = 0
		default:
			status = c
		}
	}
	return status
}
