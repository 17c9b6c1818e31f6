package fsm

import (
	"fmt"
	"strings"
)

// RenderMarkdown renders Table for auditors: a Markdown table per exchange
// and role, and a state diagram. spec/ikev1-states.md is this output; a
// test fails when the file and the table disagree (go test ./fsm -update
// rewrites it).
func RenderMarkdown() string {
	var b strings.Builder
	b.WriteString("# IKEv1 state machine\n\n")
	b.WriteString("Generated from `fsm/table.go` by `fsm.RenderMarkdown` (`go test ./fsm -update`); do not edit.\n\n")
	b.WriteString("Each row is one transition: a message arriving in state *From* (for the listed\n")
	b.WriteString("authentication methods) is checked for the *Required* payloads (exactly once each) and\n")
	b.WriteString("*Optional* ones (any number; N and VID are allowed everywhere) before the *Processor*\n")
	b.WriteString("runs; on success the state becomes *To*, the reply is sent, and the *Timer* is armed.\n")
	b.WriteString("A row without *To* changes nothing.\n\n")
	b.WriteString("Flags: I initiator, FE first encrypted input, IE input encrypted, OE output encrypted,\n")
	b.WriteString("D answer a duplicate with our last message, R send a reply, P2 start pending Quick Modes.\n")
	b.WriteString("Whack code of a new state: 100 + number (004 when established).\n\n")

	sections := []struct {
		title string
		keep  func(r *Row) bool
	}{
		{"Main Mode, initiator", func(r *Row) bool { return r.From.IsPhase1() && r.Flags&FlagInitiator != 0 }},
		{"Main Mode, responder", func(r *Row) bool { return r.From.IsPhase1() && r.Flags&FlagInitiator == 0 }},
		{"Quick Mode, initiator", func(r *Row) bool { return r.From.IsQuick() && r.Flags&FlagInitiator != 0 }},
		{"Quick Mode, responder", func(r *Row) bool { return r.From.IsQuick() && r.Flags&FlagInitiator == 0 }},
		{"Informational", func(r *Row) bool { return r.From == StateInfo || r.From == StateInfoProtected }},
	}
	for _, s := range sections {
		fmt.Fprintf(&b, "## %s\n\n", s.title)
		b.WriteString("| From | To | Auth | Flags | Required | Optional | Timer | Processor | Exchange | Story of To |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
		for i := range Table {
			r := &Table[i]
			if !s.keep(r) {
				continue
			}
			to, story := "-", "-"
			if r.To != StateUndefined {
				to = fmt.Sprintf("%s (%d)", r.To, r.To)
				story = r.To.Story()
			}
			fmt.Fprintf(&b, "| %s (%d) | %s | %s | %s | %s | %s | %s | `%s` | %s | %s |\n",
				r.From, r.From, to, r.Auth, r.Flags, orDash(r.Required.String()), orDash(r.Optional.String()),
				r.Timeout, r.Name, r.Flow, story)
		}
		b.WriteString("\n")
	}
	b.WriteString("## Diagram\n\n```mermaid\nstateDiagram-v2\n")
	b.WriteString("    [*] --> STATE_MAIN_I1: whack --initiate (main_outI1)\n")
	b.WriteString("    [*] --> STATE_MAIN_R0: MI1 received\n")
	b.WriteString("    STATE_MAIN_I4 --> STATE_QUICK_I1: P2 (quick_outI1)\n")
	b.WriteString("    [*] --> STATE_QUICK_R0: QI1 received\n")
	seen := map[string]bool{}
	for _, r := range Table {
		if r.To == StateUndefined {
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

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
