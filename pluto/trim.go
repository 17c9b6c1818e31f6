package pluto

import (
	"runtime/debug"
	"time"
)

// trimEvery is how often the event loop looks for the end of a burst.
const trimEvery = 500 * time.Millisecond

// trimIdle returns freed memory to the operating system once IKE traffic
// has paused for a whole trimEvery after a burst: the garbage of a burst of
// negotiations (DH temporaries, messages, digests) otherwise keeps the
// resident size at the burst's peak until a collection that an idle daemon
// may not make for minutes. Under steady traffic it does nothing.
func (d *Daemon) trimIdle() {
	n := d.packetsSeen
	if n == d.packetsTrimmed {
		return // nothing since the last trim
	}
	if n != d.packetsAtTick {
		d.packetsAtTick = n // still busy
		return
	}
	debug.FreeOSMemory()
	d.packetsTrimmed = n
}
