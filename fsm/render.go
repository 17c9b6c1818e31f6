package fsm

import (
	"fmt"
	"strings"

	"goswan/spec"
)

// RenderMarkdown renders Table for auditors: the states, a Markdown table
// per exchange and role, and a state diagram. spec/ikev1-states.md is this
// output; a test fails when the file and the table disagree
// (go test ./fsm -run TestStateDoc -update rewrites it).
func RenderMarkdown() string {
	var b strings.Builder
	b.WriteString("# IKEv1 state machine\n\n")
	b.WriteString("Generated from `fsm/table.go` by `fsm.RenderMarkdown`; do not edit. After changing the\n")
	b.WriteString("table run `go test ./fsm -run TestStateDoc -update`.\n\n")
	b.WriteString("Each row is one transition: a message arriving in state *From* (negotiated with one of\n")
	b.WriteString("the *Auth* methods) must carry each *Required* payload exactly once and may carry the\n")
	b.WriteString("*Optional* ones (N and VID are allowed everywhere); anything else is refused before the\n")
	b.WriteString("*Processor* runs. When the processor succeeds the state becomes *To*, the reply (if any)\n")
	b.WriteString("is sent and the *Timer* is armed; when it fails nothing changes (a half-open responder\n")
	b.WriteString("state, R0, is deleted). A row without *To* changes nothing: it answers duplicates or\n")
	b.WriteString("logs an unexpected message. The first message of each exchange is sent outside the\n")
	b.WriteString("table, by `main_outI1` and `quick_outI1`; the XAUTH and ModeCfg states are entered when\n")
	b.WriteString("phase 1 completes (see the diagram).\n\n")
	b.WriteString("*Flags*: I we are the initiator, FE first encrypted input (keys must be ready),\n")
	b.WriteString("IE input encrypted, OE output encrypted, D answer a byte-identical duplicate with our\n")
	b.WriteString("last message (at most twice), R send a reply (a ModeCfg client acknowledges a SET, not a\n")
	b.WriteString("REPLY), P2 start the pending Quick Mode.\n\n")
	b.WriteString("*Timer* is what is armed in the new state. Where it differs from pluto's, pluto's is\n")
	b.WriteString("given in brackets: responders never retransmit on their own (CVE-2016-5361), a\n")
	b.WriteString("half-open state is discarded instead; established SAs expire at the end of their\n")
	b.WriteString("lifetime (no rekeying yet).\n\n")

	b.WriteString("## States\n\n")
	b.WriteString("The whack code of a line announcing a new state is 100 + the state's number, or 004 for\n")
	b.WriteString("an established state.\n\n")
	b.WriteString("| Number | State | Whack code | Story |\n|---|---|---|---|\n")
	for s := StateKind(0); s < stateRoof; s++ {
		if !inTable(s) {
			continue
		}
		fmt.Fprintf(&b, "| %d | %s | %03d | %s |\n", s, s, s.Code(), s.Story())
	}
	b.WriteString("\n")

	sections := []struct {
		title string
		keep  func(r *Row) bool
	}{
		{"Main Mode, initiator", func(r *Row) bool { return r.From.IsPhase1() && !r.From.IsAggressive() && r.Flags&FlagInitiator != 0 }},
		{"Main Mode, responder", func(r *Row) bool { return r.From.IsPhase1() && !r.From.IsAggressive() && r.Flags&FlagInitiator == 0 }},
		{"Aggressive Mode, initiator (--aggrmode)", func(r *Row) bool { return r.From.IsAggressive() && r.Flags&FlagInitiator != 0 }},
		{"Aggressive Mode, responder (--aggrmode)", func(r *Row) bool { return r.From.IsAggressive() && r.Flags&FlagInitiator == 0 }},
		{"Quick Mode, initiator", func(r *Row) bool { return r.From.IsQuick() && r.Flags&FlagInitiator != 0 }},
		{"Quick Mode, responder", func(r *Row) bool { return r.From.IsQuick() && r.Flags&FlagInitiator == 0 }},
		{"XAUTH and ModeCfg, server", func(r *Row) bool { return isPhase15Row(r) && isServerKind(r.From) }},
		{"XAUTH and ModeCfg, client", func(r *Row) bool { return isPhase15Row(r) && !isServerKind(r.From) }},
		{"Informational", func(r *Row) bool { return r.From == StateInfo || r.From == StateInfoProtected }},
	}
	for _, s := range sections {
		fmt.Fprintf(&b, "## %s\n\n", s.title)
		b.WriteString("| From | To | Auth | Flags | Required | Optional | Timer | Processor | Exchange |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
		for i := range Table {
			r := &Table[i]
			if !s.keep(r) {
				continue
			}
			to := "-"
			if r.To != StateUndefined {
				to = r.To.String()
			}
			timer := r.Armed().String()
			if r.Armed() != r.Timeout {
				timer += " [" + r.Timeout.String() + "]"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | `%s` | %s |\n",
				r.From, to, r.Auth, r.Flags, docPayloads(r.Required), docPayloads(r.Optional),
				timer, r.Name, r.Flow)
		}
		b.WriteString("\n")
	}

	b.WriteString("## Diagram\n\n")
	b.WriteString("Transitions of the table, plus how states are created (outside the table).\n\n")
	b.WriteString("```mermaid\nstateDiagram-v2\n")
	b.WriteString("    [*] --> STATE_MAIN_I1: whack initiate, main_outI1\n")
	b.WriteString("    [*] --> STATE_MAIN_R0: MI1 received\n")
	b.WriteString("    [*] --> STATE_AGGR_I1: whack initiate with --aggrmode, aggr_outI1\n")
	b.WriteString("    [*] --> STATE_AGGR_R0: AI1 received for an --aggrmode connection\n")
	seen := map[string]bool{}
	for _, r := range Table {
		if r.To == StateUndefined || !r.From.IsPhase1() && !r.From.IsPhase15() {
			continue
		}
		line := fmt.Sprintf("    %s --> %s: %s\n", r.From, r.To, r.Name)
		if !seen[line] {
			seen[line] = true
			b.WriteString(line)
		}
	}
	b.WriteString("    STATE_MAIN_R3 --> STATE_XAUTH_R0: --xauthserver, xauth_send_request\n")
	b.WriteString("    STATE_MAIN_I4 --> STATE_XAUTH_I0: --xauthclient, await the request\n")
	b.WriteString("    STATE_MAIN_R3 --> STATE_MODE_CFG_R1: --modecfgserver (push), modecfg_send_set\n")
	b.WriteString("    STATE_MAIN_R3 --> STATE_MODE_CFG_R0: --modecfgserver --modecfgpull, REQUEST received\n")
	b.WriteString("    STATE_MAIN_I4 --> STATE_MODE_CFG_I1: --modecfgclient, modecfg_send_request (pull) or await the SET\n")
	b.WriteString("    [*] --> STATE_QUICK_I1: P2 or whack initiate on an ISAKMP SA, quick_outI1\n")
	b.WriteString("    [*] --> STATE_QUICK_R0: QI1 received on an ISAKMP SA\n")
	for _, r := range Table {
		if r.To == StateUndefined || r.From.IsPhase1() || r.From.IsPhase15() {
			continue
		}
		line := fmt.Sprintf("    %s --> %s: %s\n", r.From, r.To, r.Name)
		if !seen[line] {
			seen[line] = true
			b.WriteString(line)
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// inTable reports whether s is the From or To of some row.
func inTable(s StateKind) bool {
	for _, r := range Table {
		if s != StateUndefined && (r.From == s || r.To == s) {
			return true
		}
	}
	return false
}

// docPayloads names the payloads of s, telling the draft NAT-T numbers
// (which print like the RFC ones) apart.
func docPayloads(s PayloadSet) string {
	var names []string
	for _, t := range s.Types() {
		switch t {
		case spec.PayloadNATDDraft, spec.PayloadNATOADraft:
			names = append(names, fmt.Sprintf("%s(draft %d)", t, t))
		default:
			names = append(names, t.String())
		}
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, " ")
}

// isPhase15Row reports whether r is an XAUTH or ModeCfg row.
func isPhase15Row(r *Row) bool { return r.From.IsPhase15() || r.From == StateModeCfgR2 }

// isServerKind reports whether s is an XAUTH/ModeCfg server state.
func isServerKind(s StateKind) bool { return s >= StateXAuthR0 && s <= StateModeCfgR2 }
