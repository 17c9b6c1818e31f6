package pluto

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"goswan/whack"
)

// whackConn is one whack connected to the control socket. Lines are written
// from the event loop; a whack that stops reading is cut off after a second
// rather than stalling the daemon.
type whackConn struct {
	mu     sync.Mutex
	c      net.Conn
	reply  whack.Reply
	closed bool
}

func (w *whackConn) line(code int, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.c.SetWriteDeadline(time.Now().Add(time.Second))
	if err := w.reply.Line(code, text); err != nil {
		w.closed = true
		w.c.Close()
	}
}

// buffered sends the lines f writes in 64 KiB writes rather than one write
// per line: whack --status with 10,000 connections and SA pairs is 100,000
// lines, and a write for each was most of its time.
func (w *whackConn) buffered(f func()) {
	bw := bufio.NewWriterSize(deadlineWriter{w.c}, 64<<10)
	w.mu.Lock()
	direct := w.reply
	w.reply = whack.NewReply(bw)
	w.mu.Unlock()
	f()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reply = direct
	if !w.closed && bw.Flush() != nil {
		w.closed = true
		w.c.Close()
	}
}

// deadlineWriter gives each write to whack a second.
type deadlineWriter struct{ c net.Conn }

func (d deadlineWriter) Write(b []byte) (int, error) {
	d.c.SetWriteDeadline(time.Now().Add(time.Second))
	return d.c.Write(b)
}

func (w *whackConn) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		w.c.Close()
	}
}

// openControl creates the control socket CTLBASE.ctl (mode 0600: whack is
// root's tool).
func (d *Daemon) openControl() error {
	path := d.cfg.Ctlbase + ".ctl"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %v", filepath.Dir(path), err)
	}
	os.Remove(path) // a leftover socket of a dead pluto (the lock file guards live ones)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("cannot open control socket %s: %v", path, err)
	}
	os.Chmod(path, 0o600)
	d.ctl = l
	return nil
}

func (d *Daemon) acceptWhack() {
	defer d.wg.Done()
	for {
		c, err := d.ctl.Accept()
		if err != nil {
			return
		}
		go d.readWhack(c)
	}
}

// readWhack reads one message (bounded in size and time) and queues it for
// the event loop.
func (d *Daemon) readWhack(c net.Conn) {
	w := &whackConn{c: c, reply: whack.NewReply(c)}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	msg, err := whack.ReadMessage(c)
	c.SetReadDeadline(time.Time{})
	if err != nil {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			w.line(whack.RCBadWhackMessage, err.Error())
		}
		w.close()
		return
	}
	select {
	case d.events <- whackEvent{msg: msg, w: w}:
	case <-d.done:
		w.close()
	}
}

// handleWhack carries out a whack message in pluto's order: options, myid,
// delete, deletestate, add connection, listen, reread, route, unroute,
// initiate, terminate, status, shutdown.
func (d *Daemon) handleWhack(m *whack.Message, w *whackConn) {
	keep := false // the whack stays attached to a negotiation
	defer func() {
		if !keep {
			w.close()
		}
	}()
	now := d.cfg.Now()
	if len(m.Debug) > 0 {
		dbg, err := ParseDebug(d.cfg.Debug, m.Debug)
		if err != nil {
			w.line(whack.RCBadWhackMessage, err.Error())
			return
		}
		if m.Name == "" {
			d.cfg.Debug = dbg
			d.log.debug = dbg
		}
	}
	if m.MyID != "" {
		d.myID = m.MyID
	}
	if m.Delete && m.Name != "" {
		if c := d.conns[m.Name]; c != nil {
			d.m.Terminate(now, m.Name)
			d.dropLease(c)
			d.forgetConn(c)
			delete(d.conns, m.Name)
			d.connsChanged()
			for k, inst := range d.instances {
				if inst.Template == m.Name {
					d.dropInstance(k)
				}
			}
		} else if !m.HasConnection {
			w.line(whack.RCUnknownName, fmt.Sprintf("no connection named %q", m.Name))
			return
		}
	}
	if m.DeleteState != 0 {
		if !d.m.DeleteState(now, uint64(m.DeleteState)) {
			w.line(whack.RCUnknownName, fmt.Sprintf("no state #%d to delete", m.DeleteState))
		}
	}
	if m.HasConnection {
		if !d.addConnection(m, w) {
			return
		}
	}
	if m.KeyID != "" {
		if err := d.addKey(m); err != nil {
			w.line(whack.RCBadWhackMessage, err.Error())
		}
	}
	if m.WantsReread("cacerts") {
		if err := d.loadCACerts(); err != nil {
			w.line(whack.RCLogSerious, err.Error())
		}
	}
	if m.WantsReread("crls") {
		if err := d.loadCRLs(); err != nil {
			w.line(whack.RCLogSerious, err.Error())
		}
	}
	if m.WantsList("pubkeys") || m.WantsList("all") {
		d.listPubkeys(w)
	}
	for _, what := range []string{"certs", "cacerts", "crls"} {
		if m.WantsList(what) {
			d.listCerts(w, what)
		}
	}
	if m.Listen {
		w.line(whack.RCLog, "listening for IKE messages")
		if err := d.listen(); err != nil {
			w.line(whack.RCLogSerious, err.Error())
		}
	}
	if m.Unlisten {
		w.line(whack.RCLog, "no longer listening for IKE messages")
		d.closeSockets()
	}
	if m.WantsReread("secrets") {
		if err := d.loadSecrets(); err != nil {
			w.line(whack.RCLogSerious, err.Error())
		}
	}
	if m.Route || m.Unroute || m.Initiate || m.Terminate {
		c := d.conns[m.Name]
		if c == nil {
			w.line(whack.RCUnknownName, fmt.Sprintf("no connection named %q", m.Name))
			return
		}
		if m.Route {
			d.route(c, w)
		}
		if m.Unroute {
			d.unrouteConn(c, w)
		}
		if m.Initiate {
			keep = d.initiate(c, m, w)
		}
		if m.Terminate {
			n := d.m.Terminate(now, c.Name)
			d.dropLease(c)
			w.line(whack.RCComment, fmt.Sprintf("%q: terminating SAs using this connection (%d)", c.Name, n))
		}
	}
	if m.Status {
		if m.JSON {
			w.buffered(func() { d.statusJSON(w) })
		} else {
			w.buffered(func() { d.status(w) })
		}
	}
	if m.Shutdown {
		d.log.Logf("shutting down")
		go d.Shutdown()
	}
}

// addConnection adds the connection described by m.
func (d *Daemon) addConnection(m *whack.Message, w *whackConn) bool {
	if d.conns[m.Name] != nil {
		w.line(whack.RCDupName, fmt.Sprintf("attempt to redefine connection %q", m.Name))
		return false
	}
	c, err := d.newConnection(m)
	if err != nil {
		w.line(whack.RCBadWhackMessage, fmt.Sprintf("%q: %v", m.Name, err))
		return false
	}
	d.conns[c.Name] = c
	d.connsChanged()
	d.rtSync(c) // the routing table (kernel.go)
	d.log.Logf("added connection description %q", c.Name)
	w.line(whack.RCLog, fmt.Sprintf("added connection description %q", c.Name))
	if !c.Oriented {
		w.line(whack.RCLogSerious, fmt.Sprintf("%q: neither end is an interface of this host: not oriented (whack --listen after adding the address)", c.Name))
	}
	return true
}

// route is whack --route; the routing table (kernel.go) refuses
// ISAKMP-only connections, templates and conflicting routes.
func (d *Daemon) route(c *Connection, w *whackConn) {
	if !c.Oriented {
		w.line(whack.RCOrient, "we cannot identify ourselves with either end of this connection")
		return
	}
	d.routeConn(c, w)
}

// initiate starts a negotiation; unless --asynchronous, the whack stays
// attached and sees its progress until the SA is up or pluto gives up.
func (d *Daemon) initiate(c *Connection, m *whack.Message, w *whackConn) bool {
	if !c.Oriented {
		w.line(whack.RCOrient, "we cannot identify ourselves with either end of this connection")
		return false
	}
	if !c.Conn.Remote.Addr().IsValid() {
		w.line(whack.RCNoPeerIP, fmt.Sprintf("%q: cannot initiate connection without knowing peer IP address", c.Name))
		return false
	}
	var attach any
	if !m.Asynchronous {
		attach = w
	}
	d.noteXAuthCredentials(c, m)
	d.initiateConn(c, attach)
	return attach != nil
}
