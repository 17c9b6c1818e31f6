package pluto

import (
	"runtime"
	"time"
)

// The Diffie-Hellman worker pool (fsm.Offloader). The machine hands over
// the DH work of a Main Mode or Aggressive Mode message (key generation and
// shared secret, about 0.5 ms with modp2048); a worker computes it and
// queues the completion on the urgent queue, where the event loop runs it on
// the machine's goroutine. The queue is bounded: when it is full the message
// is dropped (the peer retransmits), so a flood of KE messages costs
// bounded memory and leaves the event loop free for whack and for
// established peers.

// dhQueuePerWorker bounds the jobs waiting for each worker.
const dhQueuePerWorker = 32

type dhJob struct {
	work func()
	done func(time.Time)
}

func (d *Daemon) startPool(workers int) {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	d.dhWorkers = workers
	d.dh = make(chan dhJob, workers*dhQueuePerWorker)
	for range workers {
		go d.dhWorker()
	}
}

func (d *Daemon) dhWorker() {
	for {
		select {
		case j := <-d.dh:
			j.work()
			select {
			case d.urgent <- funcEvent(func() { j.done(d.cfg.Now()) }):
			case <-d.done:
				return
			}
		case <-d.done:
			return
		}
	}
}

// Offload implements fsm.Offloader.
func (d *Daemon) Offload(work func(), done func(time.Time)) bool {
	select {
	case d.dh <- dhJob{work, done}:
		return true
	default:
		return false
	}
}
