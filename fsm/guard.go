package fsm

import (
	"context"

	lfsm "github.com/looplab/fsm"
)

// guard is the looplab/fsm view of Table: one event per row that changes
// state, named after the row's processor, from the row's state to its next
// state. It is derived from Table (never written twice) and consulted at
// every commit, so a transition the table does not declare cannot happen.
type guard struct {
	f *lfsm.FSM
}

func newGuard() *guard {
	return &guard{f: lfsm.NewFSM(StateUndefined.String(), guardEvents(), lfsm.Callbacks{})}
}

// guardEvents derives the looplab events from Table.
func guardEvents() lfsm.Events {
	var evs lfsm.Events
	for _, r := range Table {
		if r.To == StateUndefined {
			continue
		}
		evs = append(evs, lfsm.EventDesc{Name: r.Name, Src: []string{r.From.String()}, Dst: r.To.String()})
	}
	return evs
}

// allow reports whether row is a legal transition.
func (g *guard) allow(r *Row) bool {
	g.f.SetState(r.From.String())
	if err := g.f.Event(context.Background(), r.Name); err != nil {
		return false
	}
	return g.f.Current() == r.To.String()
}
