package pluto

// pluto --metrics ADDR: Prometheus metrics in the text exposition format
// (version 0.0.4) at http://ADDR/metrics. Off by default; ADDR is
// host:port, normally a loopback address.
//
//	pluto_up                                           gauge, 1
//	pluto_connections                                  gauge: connections in the database
//	pluto_states{kind="STATE_MAIN_I4"}                 gauge: state objects by kind (every kind, 0 included)
//	pluto_isakmp_sas / pluto_ipsec_sas                 gauge: established SAs
//	pluto_negotiations_started_total{phase,role}       counter: phase "isakmp" (Main/Aggressive Mode) or "ipsec" (Quick Mode), role "initiator" or "responder"
//	pluto_negotiations_established_total{phase}        counter
//	pluto_negotiations_failed_total{reason}            counter, reason: retransmit_timeout (031: no answer), no_proposal,
//	                                                   authentication, identity, malformed, other (003 lines of a refused message)
//	pluto_notifications_received_total{type}           counter: Notification payloads the peer sent ("NO_PROPOSAL_CHOSEN", ...)
//	pluto_retransmits_total                            counter: messages sent again (010 lines)
//
// The counters are derived from the log lines the state machine emits (their
// whack codes), so they count exactly what the log shows.

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"goswan/fsm"
)

// metrics holds the counters; Log (on the event loop) adds, the HTTP
// handler reads.
type metrics struct {
	mu          sync.Mutex
	started     map[[2]string]uint64 // phase, role
	established map[string]uint64    // phase
	failed      map[string]uint64    // reason
	notifies    map[string]uint64    // notification type
	retransmits uint64

	ln  net.Listener
	srv *http.Server
}

func newMetrics() *metrics {
	return &metrics{started: map[[2]string]uint64{}, established: map[string]uint64{},
		failed: map[string]uint64{}, notifies: map[string]uint64{}}
}

// startMetrics listens on addr and serves /metrics for d.
func (d *Daemon) startMetrics(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics: %v", err)
	}
	mt := newMetrics()
	mt.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprint(w, d.metricsText())
	})
	mt.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	d.metrics = mt
	go mt.srv.Serve(ln)
	d.log.Logf("metrics on http://%s/metrics", ln.Addr())
	return nil
}

// MetricsAddr is the address --metrics listens on (nil without it).
func (d *Daemon) MetricsAddr() net.Addr {
	if d.metrics == nil {
		return nil
	}
	return d.metrics.ln.Addr()
}

func (mt *metrics) close() {
	if mt != nil && mt.srv != nil {
		mt.srv.Close()
	}
}

// observe counts one log line of the state machine.
func (mt *metrics) observe(l fsm.LogLine) {
	if mt == nil || l.Debug {
		return
	}
	mt.mu.Lock()
	defer mt.mu.Unlock()
	switch l.Code {
	case fsm.StateMainI1.Code(), fsm.StateAggrI1.Code():
		mt.started[[2]string{"isakmp", "initiator"}]++
	case fsm.StateMainR1.Code(), fsm.StateAggrR1.Code():
		mt.started[[2]string{"isakmp", "responder"}]++
	case fsm.StateQuickI1.Code():
		mt.started[[2]string{"ipsec", "initiator"}]++
	case fsm.StateQuickR1.Code():
		mt.started[[2]string{"ipsec", "responder"}]++
	case 4:
		if l.State != nil {
			if l.State.Kind.IsIPsecEstablished() {
				mt.established["ipsec"]++
			} else if l.State.Kind.IsISAKMPEstablished() {
				mt.established["isakmp"]++
			}
		}
	case 10:
		mt.retransmits++
	case 31:
		mt.failed["retransmit_timeout"]++
	case 3:
		if n, ok := strings.CutPrefix(l.Text, "received notification "); ok {
			mt.notifies[n]++
		} else if l.State != nil && strings.HasPrefix(l.Text, l.State.Kind.String()+": ") {
			mt.failed[failReason(l.Text)]++
		}
	}
}

// failReason classifies the reason a message was refused (fsm's reject line).
func failReason(text string) string {
	t := strings.ToLower(text)
	switch {
	case strings.Contains(t, "proposal") || strings.Contains(t, "no acceptable") || strings.Contains(t, "transform"):
		return "no_proposal"
	case strings.Contains(t, "hash") || strings.Contains(t, "signature") || strings.Contains(t, "authentic") ||
		strings.Contains(t, "psk") || strings.Contains(t, "secret") || strings.Contains(t, "key"):
		return "authentication"
	case strings.Contains(t, " id ") || strings.Contains(t, " id") || strings.Contains(t, "identit"):
		return "identity"
	case strings.Contains(t, "payload") || strings.Contains(t, "malformed"):
		return "malformed"
	}
	return "other"
}

// metricsText renders the exposition; state gauges are read on the event loop.
func (d *Daemon) metricsText() string {
	kinds := map[string]int{}
	var conns, isakmp, ipsec, halfOpen int
	d.Do(func() {
		conns = len(d.conns)
		halfOpen = d.m.HalfOpen()
		for _, st := range d.m.States() {
			kinds[st.Kind.String()]++
			if st.Kind.IsISAKMPEstablished() {
				isakmp++
			}
			if st.Kind.IsIPsecEstablished() {
				ipsec++
			}
		}
	})
	var b strings.Builder
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	metric("pluto_up", "gauge", "1 while pluto runs.")
	b.WriteString("pluto_up 1\n")
	metric("pluto_connections", "gauge", "Connections in pluto's database.")
	fmt.Fprintf(&b, "pluto_connections %d\n", conns)
	metric("pluto_states", "gauge", "State objects by state kind.")
	for k := fsm.StateKind(0); k < 64; k++ {
		name := k.String()
		if k == fsm.StateUndefined || strings.Trim(strings.TrimPrefix(name, "STATE_"), "0123456789") == "" {
			continue
		}
		fmt.Fprintf(&b, "pluto_states{kind=%q} %d\n", name, kinds[name])
	}
	metric("pluto_halfopen_isakmp_sas", "gauge", "Responder ISAKMP SAs not yet authenticated (flood resistance, --max-halfopen).")
	fmt.Fprintf(&b, "pluto_halfopen_isakmp_sas %d\n", halfOpen)
	metric("pluto_isakmp_sas", "gauge", "Established ISAKMP SAs.")
	fmt.Fprintf(&b, "pluto_isakmp_sas %d\n", isakmp)
	metric("pluto_ipsec_sas", "gauge", "Established IPsec SA pairs.")
	fmt.Fprintf(&b, "pluto_ipsec_sas %d\n", ipsec)

	mt := d.metrics
	mt.mu.Lock()
	defer mt.mu.Unlock()
	metric("pluto_negotiations_started_total", "counter", "Negotiations started, by phase and role.")
	for _, phase := range []string{"isakmp", "ipsec"} {
		for _, role := range []string{"initiator", "responder"} {
			fmt.Fprintf(&b, "pluto_negotiations_started_total{phase=%q,role=%q} %d\n", phase, role, mt.started[[2]string{phase, role}])
		}
	}
	metric("pluto_negotiations_established_total", "counter", "Negotiations that established an SA, by phase.")
	for _, phase := range []string{"isakmp", "ipsec"} {
		fmt.Fprintf(&b, "pluto_negotiations_established_total{phase=%q} %d\n", phase, mt.established[phase])
	}
	metric("pluto_negotiations_failed_total", "counter", "Negotiation failures, by reason (no answer, or a refused message).")
	for _, r := range []string{"retransmit_timeout", "no_proposal", "authentication", "identity", "malformed", "other"} {
		fmt.Fprintf(&b, "pluto_negotiations_failed_total{reason=%q} %d\n", r, mt.failed[r])
	}
	metric("pluto_notifications_received_total", "counter", "Notification payloads received, by type.")
	types := make([]string, 0, len(mt.notifies))
	for t := range mt.notifies {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Fprintf(&b, "pluto_notifications_received_total{type=%q} %d\n", t, mt.notifies[t])
	}
	metric("pluto_retransmits_total", "counter", "IKE messages retransmitted.")
	fmt.Fprintf(&b, "pluto_retransmits_total %d\n", mt.retransmits)
	return b.String()
}

// openOps opens what the operator asked for besides IKE: --keylog and
// --metrics.
func (d *Daemon) openOps() error {
	if d.cfg.KeyLog != "" {
		kl, err := openKeyLog(d.cfg.KeyLog)
		if err != nil {
			return err
		}
		d.keylog = kl
		d.log.Logf("logging SA keys to %s (--keylog)", d.cfg.KeyLog)
	}
	if d.cfg.Metrics != "" {
		if err := d.startMetrics(d.cfg.Metrics); err != nil {
			d.keylog.close()
			d.keylog = nil
			return err
		}
	}
	return nil
}

// closeOps closes the key log and the metrics listener.
func (d *Daemon) closeOps() {
	d.keylog.close()
	d.metrics.close()
}
