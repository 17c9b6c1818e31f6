package pluto

import "testing"

// TestTrimIdle: memory is given back only after a whole tick without
// packets following some traffic, and once per burst.
func TestTrimIdle(t *testing.T) {
	d := &Daemon{}
	d.trimIdle()
	if d.packetsTrimmed != 0 || d.packetsAtTick != 0 {
		t.Fatal("trimmed without traffic")
	}
	d.packetsSeen = 10
	d.trimIdle() // traffic during this tick: busy
	if d.packetsTrimmed != 0 {
		t.Fatal("trimmed while busy")
	}
	d.packetsSeen = 25
	d.trimIdle() // still busy
	if d.packetsTrimmed != 0 || d.packetsAtTick != 25 {
		t.Fatalf("busy tick: trimmed %d at %d", d.packetsTrimmed, d.packetsAtTick)
	}
	d.trimIdle() // a quiet tick: trim
	if d.packetsTrimmed != 25 {
		t.Fatalf("not trimmed after a quiet tick: %d", d.packetsTrimmed)
	}
	d.packetsAtTick = 99 // whatever it is: nothing arrived since the trim
	d.trimIdle()
	if d.packetsTrimmed != 25 {
		t.Fatal("trimmed again without traffic")
	}
}
