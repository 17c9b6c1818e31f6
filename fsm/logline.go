package fsm

import "fmt"

// Prefix is how pluto names the subject of a log line: `"conn" #serial: `
// for a state, `packet from ADDR: ` for a packet without one.
func (l LogLine) Prefix() string {
	switch {
	case l.State != nil && l.State.Conn != nil:
		return fmt.Sprintf("%q%s #%d: ", l.State.Conn.Name, l.State.Conn.Instance, l.State.Serial)
	case l.State != nil && l.State.Serial != 0:
		return fmt.Sprintf("#%d: ", l.State.Serial)
	case l.From.IsValid():
		return fmt.Sprintf("packet from %s: ", l.From)
	}
	return ""
}

// Whack formats the line as pluto sends it to whack: "NNN prefix text".
func (l LogLine) Whack() string { return fmt.Sprintf("%03d %s%s", l.Code, l.Prefix(), l.Text) }
