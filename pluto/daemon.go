// Package pluto is the IKEv1 keying daemon: it owns the sockets, the
// connection database, the secrets, the whack control socket, the kernel
// interface and the clock, and drives the sans-I/O state machine of package
// fsm from one goroutine.
//
// One packet's path: a reader goroutine per UDP socket hands the datagram to
// the event loop (Daemon.run), which calls fsm.Machine.HandlePacket; the
// machine calls back into the Daemon (it implements fsm.Env) to send, log,
// look up connections and secrets and install SAs. Diffie-Hellman work runs
// on a bounded pool of workers (pool.go) and comes back on a queue of its
// own, served before packets. Whack messages share the packets' queue (in
// arrival order); the queue is bounded and the loop never waits on DH, so a
// whack waits at most for the packets queued before it.
package pluto

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"goswan/fsm"
	"goswan/pluto/certs"
	"goswan/pluto/secrets"
	"goswan/routing"
	"goswan/spec"
	"goswan/whack"
)

// Config is pluto's command line.
type Config struct {
	IKEPort     int
	Listen      []netip.Addr // --listen: only these addresses
	Interfaces  []string     // --interface: only these interfaces
	Ctlbase     string
	SecretsFile string
	IPsecDir    string
	// StrictCRLPolicy is --strictcrlpolicy: a peer certificate needs a
	// current CRL of its issuer.
	StrictCRLPolicy bool
	NoRetransmits   bool
	Debug           Debug
	Machine         fsm.Config
	Kernel          routing.Kernel
	Log             *Logger
	// Now is the clock (tests may replace it).
	Now func() time.Time
	// KeyLog is --keylog: the file the key material of every SA goes to
	// (keylog.go); "" for none.
	KeyLog string
	// Metrics is --metrics: host:port of the Prometheus endpoint
	// (metrics.go); "" for none.
	Metrics string
	// DHWorkers is the size of the Diffie-Hellman worker pool (pool.go);
	// 0: one per CPU.
	DHWorkers int
	// NAT traversal (natt.go): --nat_traversal, --keep_alive,
	// --force_keepalive, --disable_port_floating; NATTPort moves the
	// NAT-T port (4500) for tests.
	NATTraversal        bool
	KeepAlive           time.Duration
	ForceKeepalive      bool
	DisablePortFloating bool
	NATTPort            int
}

// Daemon is a running pluto.
type Daemon struct {
	cfg     Config
	m       *fsm.Machine
	conns   map[string]*Connection
	secrets *secrets.Store
	log     *Logger
	kernel  routing.Kernel
	kg      kernelGlue // kernel.go

	socks     map[netip.AddrPort]*net.UDPConn
	ctl       *net.UnixListener
	events    chan any // packets, whack messages, Do
	urgent    chan any // DH completions: served first
	dh        chan dhJob
	dhWorkers int
	done      chan struct{}
	wg        sync.WaitGroup
	myID      string
	// pubkeys are the peers' RSA public keys by identity (whack --keyid).
	pubkeys map[string][]*rsa.PublicKey
	// certs holds the CA certificates, CRLs and certificates in use (x509.go).
	certs *certs.Store
	// instances of %any connections by template name and peer address.
	instances      map[string]*Connection
	instanceSerial int
	sweepAt        int // instances: when to sweep the unused ones (roadwarrior.go)
	// Indexes of conns and instances (connindex.go): lookups per packet
	// must not scan 10,000 connections.
	idx       *connIndex
	instByKey map[string]*Connection       // by connKey
	instByTo  map[netip.Addr][]*Connection // by peer address
	// ifaceOf caches routing.InterfaceOf (a netlink dump each) for the
	// updown environment; --listen empties it.
	ifaceOf map[netip.Addr]string
	// Packets counted for trimIdle (trim.go).
	packetsSeen, packetsAtTick, packetsTrimmed uint64

	closeOnce sync.Once

	keylog  *keyLog  // --keylog (keylog.go)
	metrics *metrics // --metrics (metrics.go)
	// watchingMappings: the kernel reports NAT mapping changes (natt.go).
	watchingMappings bool
}

type packetEvent struct {
	b        []byte
	from, to netip.AddrPort
}

type whackEvent struct {
	msg *whack.Message
	w   *whackConn
}

type funcEvent func()

// New prepares a daemon: reads the secrets, opens the control socket and
// the IKE sockets. Run starts it.
func New(cfg Config) (*Daemon, error) {
	if cfg.IKEPort == 0 {
		cfg.IKEPort = spec.IKEPort
	}
	if cfg.Machine.RetransmitDelay == 0 {
		cfg.Machine = fsm.DefaultConfig
	}
	if cfg.NoRetransmits {
		cfg.Machine.MaxRetransmits = 0
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = NewStderrLogger(os.Stderr)
	}
	if cfg.Kernel == nil {
		cfg.Kernel = routing.NewNoStack()
	}
	// Without port floating only draft-00/01 NAT-T (non-IKE marker on
	// port 500) would remain, which goswan does not implement (nor does
	// libreswan): NAT-T is then neither offered nor accepted.
	cfg.Machine.NATTraversal = cfg.NATTraversal && !cfg.DisablePortFloating
	if cfg.NATTPort != 0 {
		cfg.Machine.NATTPort = uint16(cfg.NATTPort)
	}
	d := &Daemon{
		cfg:       cfg,
		conns:     make(map[string]*Connection),
		log:       cfg.Log,
		kernel:    cfg.Kernel,
		socks:     make(map[netip.AddrPort]*net.UDPConn),
		events:    make(chan any, 4096),
		urgent:    make(chan any, 1024),
		pubkeys:   make(map[string][]*rsa.PublicKey),
		certs:     certs.NewStore(),
		instances: make(map[string]*Connection),
		instByKey: make(map[string]*Connection),
		instByTo:  make(map[netip.Addr][]*Connection),
		done:      make(chan struct{}),
	}
	d.log.debug = cfg.Debug
	if cfg.NATTraversal && cfg.DisablePortFloating {
		d.log.Logf("NAT-Traversal: port floating disabled: NAT-T (RFC 3947, drafts 02/03) is neither offered nor accepted")
	}
	d.m = fsm.NewMachine(d, cfg.Machine)
	d.startPool(cfg.DHWorkers)
	if err := d.loadSecrets(); err != nil {
		d.log.Logf("%v", err)
	}
	d.certs.SetStrictCRLPolicy(cfg.StrictCRLPolicy)
	for _, load := range []func() error{d.loadCACerts, d.loadCRLs} {
		if err := load(); err != nil {
			d.log.Logf("%v", err)
		}
	}
	if err := d.openOps(); err != nil {
		return nil, err
	}
	if err := d.openControl(); err != nil {
		d.closeOps()
		return nil, err
	}
	if err := d.listen(); err != nil {
		d.ctl.Close()
		d.closeOps()
		return nil, err
	}
	return d, nil
}

// loadSecrets (re)reads the secrets file; a bad file keeps the old secrets.
func (d *Daemon) loadSecrets() error {
	if d.cfg.SecretsFile == "" {
		return nil
	}
	st, err := secrets.Load(d.cfg.SecretsFile, secrets.Options{IPsecDir: d.cfg.IPsecDir})
	if err != nil {
		return fmt.Errorf("loading secrets: %v", err)
	}
	d.secrets = st
	d.log.Logf("loaded %d secrets from %s", st.Len(), d.cfg.SecretsFile)
	return nil
}

// Run serves until Shutdown; it returns after every SA has been deleted.
func (d *Daemon) Run() {
	d.wg.Add(1)
	go d.acceptWhack()
	d.run()
}

// run is the event loop: the only goroutine that touches the machine, the
// connection database and the secrets.
func (d *Daemon) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var keepalive <-chan time.Time
	if d.nattOn() {
		t := time.NewTicker(d.keepAliveEvery())
		defer t.Stop()
		keepalive = t.C
	}
	trim := time.NewTicker(trimEvery)
	defer trim.Stop()
	for {
		d.armTimer(timer)
		select {
		case ev := <-d.urgent:
			d.handleEvent(ev)
			continue
		default:
		}
		select {
		case ev := <-d.urgent:
			d.handleEvent(ev)
		case ev := <-d.events:
			d.handleEvent(ev)
		case <-timer.C:
			d.m.Tick(d.cfg.Now())
			d.afterEvent()
		case <-keepalive:
			d.sendKeepalives()
		case <-trim.C:
			d.trimIdle()
		case <-d.done:
			d.m.Shutdown(d.cfg.Now())
			d.dropLeases()
			d.kernelShutdown()
			d.closeSockets()
			d.closeOps()
			return
		}
	}
}

func (d *Daemon) handleEvent(ev any) {
	switch e := ev.(type) {
	case packetEvent:
		d.packetsSeen++
		d.handlePacket(e)
	case whackEvent:
		d.handleWhack(e.msg, e.w)
	case funcEvent:
		e()
	}
	d.afterEvent()
}

func (d *Daemon) armTimer(t *time.Timer) {
	next := d.m.NextTimeout()
	wait := time.Hour
	if !next.IsZero() {
		wait = next.Sub(d.cfg.Now())
		if wait < 0 {
			wait = 0
		}
	}
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(wait)
}

// Do runs f on the event loop and waits for it (for tests and signals).
func (d *Daemon) Do(f func()) {
	ch := make(chan struct{})
	select {
	case d.events <- funcEvent(func() { f(); close(ch) }):
		select {
		case <-ch:
		case <-d.done:
		}
	case <-d.done:
	}
}

// Shutdown stops the daemon: every SA is deleted (peers told), sockets
// closed. Safe to call more than once and from any goroutine.
func (d *Daemon) Shutdown() {
	d.closeOnce.Do(func() {
		close(d.done)
		if d.ctl != nil {
			d.ctl.Close()
			os.Remove(d.cfg.Ctlbase + ".ctl")
		}
	})
}

// Done is closed when shutdown starts.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// ---- fsm.Env ----

// Send implements fsm.Env.
func (d *Daemon) Send(b []byte, from, to netip.AddrPort) {
	s := d.socks[from]
	if s == nil {
		for a, c := range d.socks {
			if a.Addr().Is4() == to.Addr().Is4() && !d.isNATTSocket(a) {
				s = c
				break
			}
		}
	} else if d.isNATTSocket(from) {
		b = append(append(make([]byte, 0, len(nonESPMarker)+len(b)), nonESPMarker...), b...)
	}
	if s == nil {
		d.log.Logf("no socket to send from %s to %s", from, to)
		return
	}
	if d.cfg.Debug&DebugRaw != 0 {
		d.log.Debugf("sending %d bytes from %s to %s", len(b), from, to)
	}
	if _, err := s.WriteToUDPAddrPort(b, to); err != nil {
		d.log.Logf("sendto %s failed: %v", to, err)
	}
}

// Log implements fsm.Env: to the log, and to the whack waiting on the state.
func (d *Daemon) Log(l fsm.LogLine) {
	if l.Debug {
		if d.cfg.Debug&DebugControl != 0 || d.cfg.Debug&DebugLifecycle != 0 {
			d.log.Debugf("%s%s", l.Prefix(), l.Text)
		}
		return
	}
	d.log.Logf("%s%s", l.Prefix(), l.Text)
	d.metrics.observe(l)
	if l.State != nil {
		if w, ok := l.State.Whack.(*whackConn); ok && w != nil {
			w.line(l.Code, l.Prefix()+l.Text)
		}
	}
}

// Release implements fsm.Env.
func (d *Daemon) Release(w any) {
	if wc, ok := w.(*whackConn); ok {
		wc.close()
	}
}

// Rand implements fsm.Env.
func (d *Daemon) Rand(b []byte) { rand.Read(b) }

// PSK implements fsm.Env: the secrets file, matched on our ID and the peer's.
func (d *Daemon) PSK(c *fsm.Conn, peer fsm.ID) ([]byte, bool) {
	if d.secrets == nil {
		return nil, false
	}
	local := c.LocalID
	if local.Type == 0 {
		local = fsm.AddrID(c.Local.Addr())
	}
	return d.secrets.PSK(local.String(), peer.String())
}

// ResponderConn implements fsm.Env.
func (d *Daemon) ResponderConn(local, remote netip.AddrPort) *fsm.Conn {
	return d.responderConn(local, remote)
}

// QuickConn implements fsm.Env.
func (d *Daemon) QuickConn(p1 *fsm.State, local, remote fsm.Client) *fsm.Conn {
	return d.quickConn(p1, local, remote)
}

// AllocSPI, Install and Delete (fsm.Env) are in kernel.go.
