package fsm

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lfsm "github.com/looplab/fsm"

	"goswan/spec"
)

var update = flag.Bool("update", false, "rewrite spec/ikev1-states.md from the transition table")

const stateDoc = "../spec/ikev1-states.md"

// TestStateDoc: spec/ikev1-states.md is what RenderMarkdown makes of Table.
func TestStateDoc(t *testing.T) {
	got := RenderMarkdown()
	if *update {
		if err := os.WriteFile(stateDoc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(stateDoc)
	if err != nil {
		t.Fatalf("%v: spec/ikev1-states.md is missing: run go test ./fsm -run TestStateDoc -update", err)
	}
	if string(want) != got {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
		i := 0
		for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
			i++
		}
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		p, _ := filepath.Abs(stateDoc)
		t.Fatalf("spec/ikev1-states.md is out of date: run go test ./fsm -run TestStateDoc -update\n"+
			"%s line %d:\n  file:  %q\n  table: %q", p, i+1, w, g)
	}
}

// TestStateDocContent: the document has one table per exchange and role,
// every row, and a diagram edge per state change.
func TestStateDocContent(t *testing.T) {
	doc := RenderMarkdown()
	for _, h := range []string{"## States", "## Main Mode, initiator", "## Main Mode, responder",
		"## Quick Mode, initiator", "## Quick Mode, responder", "## Informational", "```mermaid\nstateDiagram-v2\n"} {
		if !strings.Contains(doc, h) {
			t.Errorf("document lacks %q", h)
		}
	}
	rows := 0
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "| STATE_") {
			rows++
		}
	}
	if rows != len(Table) {
		t.Errorf("document has %d transition rows, table %d", rows, len(Table))
	}
	for _, r := range Table {
		if r.To != StateUndefined && !strings.Contains(doc, "    "+r.From.String()+" --> "+r.To.String()+": "+r.Name+"\n") {
			t.Errorf("diagram lacks %s --> %s", r.From, r.To)
		}
	}
	if strings.Contains(doc, "NAT-D NAT-D ") || strings.Contains(doc, "NAT-OA NAT-OA ") {
		t.Error("draft NAT-T payloads are not told apart from the RFC ones")
	}
}

// ---- guard ----

// TestGuardAllowsTable: every state-changing row passes the guard.
func TestGuardAllowsTable(t *testing.T) {
	g := newGuard()
	for i := range Table {
		r := &Table[i]
		if r.To == StateUndefined {
			continue
		}
		if !g.allow(r) {
			t.Errorf("row %d %s --> %s (%s) refused", i, r.From, r.To, r.Name)
		}
	}
}

// TestGuardRefusesMadeUpRows: a transition the table does not declare is
// refused, whatever processor name it borrows.
func TestGuardRefusesMadeUpRows(t *testing.T) {
	g := newGuard()
	bad := []Row{
		{From: StateMainI1, To: StateQuickR2, Name: "quick_inI2"},             // real name, wrong source
		{From: StateMainI1, To: StateQuickR2, Name: "main_inR1_outI2"},        // right source and name, wrong destination
		{From: StateMainR0, To: StateMainR3, Name: "main_inI1_outR1"},         // skipping states
		{From: StateMainI1, To: StateMainI2, Name: "no_such_processor"},       // unknown name
		{From: StateMainR2, To: StateMainR3, Name: "main_inR3"},               // another row's name
		{From: StateQuickR1, To: StateQuickR2, Name: "unexpected"},            // name of a non-transition
		{From: StateMainI4, To: StateMainI1, Name: "main_inR1_outI2"},         // backwards
		{From: StateUndefined, To: StateMainR1, Name: "main_inI1_outR1"},      // from nowhere
		{From: StateInfoProtected, To: StateMainI4, Name: "informational"},    // informational changes nothing
		{From: StateQuickI1, To: StateQuickI2, Name: "quick_inI1_outR1"},      // responder's name
		{From: StateQuickR0, To: StateQuickR0, Name: "quick_inI1_outR1"},      // self loop
		{From: StateMainR3, To: StateUndefined, Name: "unexpected"},           // rows without To never commit
		{From: StateKind(200), To: StateMainI2, Name: "main_inR1_outI2"},      // out of range
		{From: StateMainI1, To: StateKind(200), Name: "main_inR1_outI2"},      // out of range
		{From: StateMainI2, To: StateMainI3, Name: "Main_inR2_outI3"},         // names are exact
		{From: StateMainI2, To: StateMainI3, Name: ""},                        // no name
		{From: StateQuickI2, To: StateQuickR2, Name: "quick_inR1_outI2"},      // wrong source
		{From: StateMainR1, To: StateMainR2, Name: "main_inI2_outR2 "},        // trailing space
		{From: StateMainI3, To: StateMainR3, Name: "main_inR3"},               // wrong role
		{From: StateMainR2, To: StateMainI4, Name: "main_inI3_outR3"},         // wrong role
		{From: StateQuickR1, To: StateQuickI2, Name: "quick_inI2"},            // wrong role
		{From: StateMainR0, To: StateMainR1, Name: "main_inI2_outR2"},         // neighbour's name
		{From: StateMainI1, To: StateMainI2, Name: "main_inI1_outR1"},         // responder's name
		{From: StateMainR1, To: StateMainR2, Name: "main_inR2_outI3"},         // initiator's name
		{From: StateQuickR0, To: StateQuickR1, Name: "quick_inR1_outI2"},      // initiator's name
		{From: StateMainI3, To: StateMainI4, Name: "main_inI3_outR3"},         // responder's name
		{From: StateInfo, To: StateInfoProtected, Name: "informational"},      // no informational transition
		{From: StateMainI4, To: StateQuickI1, Name: "quick_outI1"},            // outside the table
		{From: StateMainR3, To: StateQuickR0, Name: "main_inI3_outR3"},        // outside the table
		{From: StateQuickI2, To: StateQuickI2, Name: "unexpected"},            // non-transition
		{From: StateQuickR2, To: StateUndefined, Name: "quick_inI2"},          // to nowhere
		{From: StateMainI2, To: StateMainI4, Name: "main_inR2_outI3"},         // skipping
		{From: StateMainI3, To: StateMainI3, Name: "main_inR3"},               // self loop
		{From: StateMainR2, To: StateMainR2, Name: "main_inI3_outR3"},         // self loop
		{From: StateQuickI1, To: StateQuickR1, Name: "quick_inR1_outI2"},      // wrong role
		{From: StateQuickR1, To: StateQuickR1, Name: "quick_inI2"},            // self loop
		{From: StateMainI1, To: StateMainI2, Name: "MAIN_INR1_OUTI2"},         // case matters
		{From: StateAggrR0, To: StateAggrR2, Name: "aggr_inI1_outR1"},         // wrong next state
		{From: StateOppoAcquire, To: StateMainI1, Name: "main_outI1"},         // not in the table
		{From: StateMainR0, To: StateMainR1, Name: "main_inI1_outR1\x00"},     // NUL
		{From: StateMainI1, To: StateQuickR2, Name: "main_inR1_outI2"},        // the brief's example
		{From: StateMainI1, To: StateQuickR2, Name: "quick_inR1_outI2"},       // the brief's example
		{From: StateMainI1, To: StateQuickR2, Name: "not_a_processor_at_all"}, // unknown name
	}
	for _, r := range bad {
		r := r
		if g.allow(&r) {
			t.Errorf("guard allowed %s --> %s by %q", r.From, r.To, r.Name)
		}
	}
	// A refusal leaves the guard usable for the real rows.
	for i := range Table {
		if Table[i].To != StateUndefined && !g.allow(&Table[i]) {
			t.Errorf("after refusals, row %d refused", i)
		}
	}
}

// TestGuardEventsDerived: the looplab machine is the table, once.
func TestGuardEventsDerived(t *testing.T) {
	evs := guardEvents()
	var want lfsm.Events
	for _, r := range Table {
		if r.To != StateUndefined {
			want = append(want, lfsm.EventDesc{Name: r.Name, Src: []string{r.From.String()}, Dst: r.To.String()})
		}
	}
	if len(evs) != len(want) {
		t.Fatalf("guardEvents has %d events, table %d state-changing rows", len(evs), len(want))
	}
	for i := range evs {
		e, w := evs[i], want[i]
		if e.Name != w.Name || e.Dst != w.Dst || len(e.Src) != 1 || e.Src[0] != w.Src[0] {
			t.Errorf("event %d = %+v, want %+v", i, e, w)
		}
	}
	// The looplab FSM knows exactly these (event, source) pairs.
	g := newGuard()
	for _, st := range allKinds() {
		g.f.SetState(st.String())
		for _, name := range processorNames() {
			can := g.f.Can(name)
			declared := false
			for _, r := range Table {
				if r.From == st && r.Name == name && r.To != StateUndefined {
					declared = true
				}
			}
			if can != declared {
				t.Errorf("looplab: Can(%s) in %s = %v, table says %v", name, st, can, declared)
			}
		}
	}
}

func allKinds() []StateKind {
	var ks []StateKind
	for s := StateKind(0); s < stateRoof; s++ {
		ks = append(ks, s)
	}
	return ks
}

func processorNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range Table {
		if !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r.Name)
		}
	}
	return out
}

// ---- table sanity ----

// TestTableGroupedByFrom: rows of one state form one run (rowFor walks from
// rowIndex while From matches, as pluto's ike_microcode_index does).
func TestTableGroupedByFrom(t *testing.T) {
	done := map[StateKind]bool{}
	for i, r := range Table {
		if i > 0 && Table[i-1].From == r.From {
			continue
		}
		if done[r.From] {
			t.Errorf("row %d: rows for %s are not contiguous", i, r.From)
		}
		done[r.From] = true
		if rowIndex[r.From] != i {
			t.Errorf("rowIndex[%s] = %d, want %d", r.From, rowIndex[r.From], i)
		}
	}
}

// TestTableRows: every row is complete and the auth sets of one state do
// not overlap (the first match would hide the others).
func TestTableRows(t *testing.T) {
	for i, r := range Table {
		if r.Processor == nil || r.Name == "" || r.Flow == "" {
			t.Errorf("row %d (%s): processor, name and flow are required", i, r.From)
		}
		if r.Auth == 0 {
			t.Errorf("row %d (%s): no auth method", i, r.From)
		}
		if r.From == StateUndefined || r.From >= stateRoof || r.To >= stateRoof {
			t.Errorf("row %d: bad states %d --> %d", i, r.From, r.To)
		}
		if int(r.Timeout) >= len(eventNames) {
			t.Errorf("row %d: bad timeout %d", i, r.Timeout)
		}
		if r.To != StateUndefined {
			if r.Timeout == EventNull {
				t.Errorf("row %d %s --> %s: no timer armed in the new state", i, r.From, r.To)
			}
			if r.To.IsISAKMPEstablished() || r.To.IsIPsecEstablished() {
				if r.Timeout != EventSAReplace && r.Timeout != EventSAExpire {
					t.Errorf("row %d: established %s armed with %s", i, r.To, r.Timeout)
				}
			}
			// XAUTH/ModeCfg states belong to the ISAKMP SA: they lead back
			// to its established state.
			isakmp := func(k StateKind) bool { return k.IsPhase1() || k.IsPhase15() || k == StateModeCfgR2 }
			if isakmp(r.To) != isakmp(r.From) || r.To.IsQuick() != r.From.IsQuick() {
				t.Errorf("row %d: %s --> %s crosses exchanges", i, r.From, r.To)
			}
		}
		if r.Flags&FlagReply != 0 && r.To == StateUndefined {
			t.Errorf("row %d: a reply without a transition", i)
		}
		// FE without IE: the input may come encrypted or not (only the last
		// Aggressive Mode message, whose encryption peers disagree on).
		if r.Flags&FlagFirstEncryptedInput != 0 && r.Flags&FlagInputEncrypted == 0 && r.From != StateAggrR1 {
			t.Errorf("row %d: FE without IE", i)
		}
		for j := i + 1; j < len(Table) && Table[j].From == r.From; j++ {
			if Table[j].Auth&r.Auth != 0 {
				t.Errorf("rows %d and %d for %s overlap in auth %s", i, j, r.From, Table[j].Auth&r.Auth)
			}
		}
	}
	// Every state the table leads to has rows of its own (a message there is
	// answered or refused by the table, not by accident).
	for _, r := range Table {
		if r.To != StateUndefined && rowIndex[r.To] < 0 {
			t.Errorf("%s has no rows", r.To)
		}
	}
	// rowFor finds the row by auth method.
	if r := rowFor(StateMainR2, AuthSetPSK); r == nil || !r.Required.Has(spec.PayloadHash) {
		t.Error("rowFor(MAIN_R2, PSK) is not the HASH row")
	}
	if r := rowFor(StateMainR2, AuthSetSig); r == nil || !r.Required.Has(spec.PayloadSig) {
		t.Error("rowFor(MAIN_R2, SIG) is not the SIG row")
	}
	if rowFor(StateOppoAcquire, AuthSetAll) != nil || rowFor(StateKind(250), AuthSetAll) != nil || rowFor(StateMainR0, 0) != nil {
		t.Error("rowFor found a row where there is none")
	}
}

// TestResponderNeverRetransmits: CVE-2016-5361. A Main Mode responder's
// state is discarded, never retransmitted: no unauthenticated message is
// resent on a timer. The Quick Mode responder does resend QR1, which travels
// under an authenticated ISAKMP SA (a lost QI2 is recovered that way).
func TestResponderNeverRetransmits(t *testing.T) {
	if r := rowFor(StateMainR0, AuthSetAll); r == nil || r.Timeout != EventSADiscard || r.Armed() == EventRetransmit {
		t.Errorf("MAIN_R0 row: %+v", r)
	}
	if r := rowFor(StateQuickR0, AuthSetAll); r == nil || r.Armed() != EventRetransmit {
		t.Errorf("QUICK_R0 row does not retransmit QR1: %+v", r)
	}
	for i, r := range Table {
		if r.Flags&FlagInitiator == 0 && !r.From.IsQuick() && r.Armed() == EventRetransmit {
			t.Errorf("row %d (%s, responder) arms EVENT_RETRANSMIT", i, r.From)
		}
		if r.Flags&FlagInitiator != 0 && r.To != StateUndefined && !r.To.IsISAKMPEstablished() &&
			!r.To.IsIPsecEstablished() && r.Armed() != EventRetransmit {
			t.Errorf("row %d (%s, initiator) waits for an answer without retransmitting", i, r.From)
		}
	}
}

// TestResponderAnswersDuplicates: since a responder never retransmits on
// its own, every responder state that has sent a reply must answer a
// duplicate of the message that brought it there (D on its own row), or a
// lost reply could never be recovered.
func TestResponderAnswersDuplicates(t *testing.T) {
	for _, r := range Table {
		if r.Flags&FlagInitiator != 0 || r.Flags&FlagReply == 0 || r.To == StateUndefined {
			continue
		}
		if isPhase15Row(&r) {
			// Transaction exchanges: transactionPacket answers a duplicate
			// of the last message we answered in whatever state it finds
			// the ISAKMP SA (TestTransactionDuplicateAnswered).
			continue
		}
		for i := rowIndex[r.To]; i >= 0 && i < len(Table) && Table[i].From == r.To; i++ {
			if Table[i].Flags&FlagRetransmitOnDuplicate == 0 {
				t.Errorf("%s sent a reply, but its row %d does not answer duplicates", r.To, i)
			}
		}
	}
}
