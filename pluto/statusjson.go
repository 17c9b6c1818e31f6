package pluto

// whack --status --json: pluto's state as one JSON document.
//
// # Schema, version 1
//
// The document is an object; StatusDoc and the types below are its schema
// (the json tags are the member names). Members are never left out: a value
// that does not apply is null (objects), "" (strings), 0 (numbers) or []
// (lists). Compatible additions (new members) keep version 1; a member that
// changes meaning or disappears bumps "version".
//
//	{
//	  "version": 1,
//	  "pluto": {"version": "goswan pluto 0.1.0", "time": "2024-05-01T12:00:00Z",
//	            "myid": "", "debug": "none", "kernel": "nostack"},
//	  "interfaces": [{"address": "127.0.0.1", "port": 500}],
//	  "connections": [{
//	    "name": "west-east", "instance": "", "oriented": true,
//	    "left_host": "127.0.0.1", "right_host": "127.0.0.2",
//	    "local":  {"host": "127.0.0.1", "port": 500, "id": "", "client": "10.1.0.0/24", "protoport": ""},
//	    "remote": {"host": "127.0.0.2", "port": 500, "id": "", "client": "10.2.0.0/24", "protoport": ""},
//	    "policy": {"string": "PSK+ENCRYPT+TUNNEL+UP", "auth": "psk", "encrypt": true,
//	               "authenticate": false, "compress": false, "tunnel": true, "pfs": false,
//	               "dont_rekey": false, "aggressive": false},
//	    "ike_algorithms": ["aes128-sha1-modp2048"],
//	    "esp_algorithms": ["aes128-sha1"], "ah_algorithms": [], "pfs_group": "",
//	    "lifetimes": {"ike_seconds": 3600, "ipsec_seconds": 28800, "rekey_margin_seconds": 540,
//	                  "rekey_fuzz_percent": 100, "keying_tries": 3},
//	    "dpd": null,
//	    "routing": "erouted", "eroute_owner": 2, "newest_isakmp_sa": 1, "newest_ipsec_sa": 2
//	  }],
//	  "states": [{
//	    "serial": 2, "connection": "west-east", "kind": "STATE_QUICK_I2", "kind_number": 14,
//	    "phase": 2, "story": "sent QI2, IPsec SA established", "established": true,
//	    "initiator": true, "local": "127.0.0.1:500", "remote": "127.0.0.2:500", "parent": 1,
//	    "timer": {"event": "EVENT_SA_REPLACE", "in_seconds": 27829},
//	    "isakmp": null,
//	    "ipsec": {"protocol": "esp", "mode": "tunnel", "outbound_spi": "8d727391",
//	              "inbound_spi": "c66770a2", "algorithm": "aes128-sha1",
//	              "xfrm": "AES_CBC_128-HMAC_SHA1_96", "pfs_group": "", "ipcomp": false,
//	              "lifetime_seconds": 28800,
//	              "local_client": "10.1.0.0/24", "remote_client": "10.2.0.0/24"}
//	  }]
//	}
//
// Connections are in name order, then the instances of Road Warrior
// templates (same name, "instance" set); states in serial order. SPIs are
// 8 lower-case hex digits without "0x" (outbound: the peer's, inbound:
// ours); cookies 16. "routing" is pluto's word, as whack --status prints it:
// "unrouted", "prospective erouted" (routed, no IPsec SA), "erouted", "erouted
// HOLD", "eroute eclipsed", "fail erouted", "unrouted HOLD", "keyed, unrouted". "pfs_group" of a connection is "" without PFS,
// "phase1" when --pfs uses the group of the ISAKMP SA, else the group
// ("modp2048"). "timer" is null when no timer is armed; "in_seconds" may be
// 0 for a timer that is due. A state's "isakmp" object is set for phase-1
// states (Main and Aggressive Mode) once the proposal is chosen:
// {"icookie", "rcookie", "algorithm" (ike= spelling), "auth"
// ("OAKLEY_PRESHARED_KEY", ...), "lifetime_seconds", "peer_id" ("" until
// authenticated)}; "ipsec" is set for Quick Mode states once the SA is
// negotiated. An unoriented connection has null "local" and "remote" and
// its hosts in "left_host" and "right_host" (set in every connection).
//
// The document travels as whack lines "000 <line of the indented
// document>"; whack --json prints them without the code.

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"goswan/fsm"
	"goswan/fsm/proposal"
	"goswan/spec"
	"goswan/whack"
)

// StatusJSONVersion is the "version" of the document whack --status --json
// prints.
const StatusJSONVersion = 1

// StatusDoc is the whole document.
type StatusDoc struct {
	Version     int               `json:"version"`
	Pluto       PlutoStatus       `json:"pluto"`
	Interfaces  []InterfaceStatus `json:"interfaces"`
	Connections []ConnStatus      `json:"connections"`
	States      []StateStatus     `json:"states"`
}

// PlutoStatus describes the daemon.
type PlutoStatus struct {
	Version string `json:"version"` // pluto.Version
	Time    string `json:"time"`    // now, RFC 3339, UTC
	MyID    string `json:"myid"`    // whack --myid; "" when none
	Debug   string `json:"debug"`   // "none" or "control+lifecycle"
	Kernel  string `json:"kernel"`  // "nostack", "netkey"...
}

// InterfaceStatus is one address pluto listens on.
type InterfaceStatus struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
}

// EndStatus is one end of an oriented connection.
type EndStatus struct {
	Host      string `json:"host"` // address, or "%any"
	Port      int    `json:"port"` // IKE port
	ID        string `json:"id"`   // configured identity; "" means the address
	Client    string `json:"client"`
	ProtoPort string `json:"protoport"` // --clientprotoport as given
}

// PolicyStatus is the policy of a connection.
type PolicyStatus struct {
	String       string `json:"string"` // pluto's "PSK+ENCRYPT+TUNNEL+PFS+UP"
	Auth         string `json:"auth"`   // "psk" or "rsasig"
	Encrypt      bool   `json:"encrypt"`
	Authenticate bool   `json:"authenticate"`
	Compress     bool   `json:"compress"`
	Tunnel       bool   `json:"tunnel"`
	PFS          bool   `json:"pfs"`
	DontRekey    bool   `json:"dont_rekey"`
	Aggressive   bool   `json:"aggressive"`
}

// LifetimeStatus holds a connection's lifetimes and rekeying settings.
type LifetimeStatus struct {
	IKESeconds         int64 `json:"ike_seconds"`
	IPsecSeconds       int64 `json:"ipsec_seconds"`
	RekeyMarginSeconds int64 `json:"rekey_margin_seconds"`
	RekeyFuzzPercent   int   `json:"rekey_fuzz_percent"`
	KeyingTries        int   `json:"keying_tries"` // 0: forever
}

// DPDStatus is Dead Peer Detection of a connection (null when off).
type DPDStatus struct {
	DelaySeconds   int64  `json:"delay_seconds"`
	TimeoutSeconds int64  `json:"timeout_seconds"`
	Action         string `json:"action"`
}

// ConnStatus is one connection.
type ConnStatus struct {
	Name         string         `json:"name"`
	Instance     string         `json:"instance"` // Road Warrior instance "[1] 192.0.2.9"; "" otherwise
	Oriented     bool           `json:"oriented"`
	LeftHost     string         `json:"left_host"`
	RightHost    string         `json:"right_host"`
	Local        *EndStatus     `json:"local"`
	Remote       *EndStatus     `json:"remote"`
	Policy       PolicyStatus   `json:"policy"`
	IKE          []string       `json:"ike_algorithms"`
	ESP          []string       `json:"esp_algorithms"`
	AH           []string       `json:"ah_algorithms"`
	PFSGroup     string         `json:"pfs_group"`
	Lifetimes    LifetimeStatus `json:"lifetimes"`
	DPD          *DPDStatus     `json:"dpd"`
	Routing      string         `json:"routing"`
	ErouteOwner  uint64         `json:"eroute_owner"` // the state whose SA the eroute uses; 0 for none
	NewestISAKMP uint64         `json:"newest_isakmp_sa"`
	NewestIPsec  uint64         `json:"newest_ipsec_sa"`
}

// TimerStatus is the event armed on a state.
type TimerStatus struct {
	Event     string `json:"event"` // EVENT_RETRANSMIT, EVENT_SA_REPLACE, ...
	InSeconds int64  `json:"in_seconds"`
}

// ISAKMPStatus is the negotiated ISAKMP SA of a phase-1 state.
type ISAKMPStatus struct {
	ICookie         string `json:"icookie"`
	RCookie         string `json:"rcookie"`
	Algorithm       string `json:"algorithm"`
	Auth            string `json:"auth"`
	LifetimeSeconds int64  `json:"lifetime_seconds"`
	PeerID          string `json:"peer_id"`
	// NATT is the NAT-T method and detection result ("RFC 3947
	// (NAT-Traversal): i am NATed"); absent without NAT-T.
	NATT string `json:"nat_traversal,omitempty"`
}

// IPsecStatus is the negotiated IPsec SA pair of a Quick Mode state.
type IPsecStatus struct {
	Protocol    string `json:"protocol"` // "esp" or "ah"
	Mode        string `json:"mode"`     // "tunnel" or "transport"
	OutboundSPI string `json:"outbound_spi"`
	InboundSPI  string `json:"inbound_spi"`
	Algorithm   string `json:"algorithm"` // esp= spelling
	Xfrm        string `json:"xfrm"`      // status spelling
	PFSGroup    string `json:"pfs_group"`
	IPComp      bool   `json:"ipcomp"`
	// OutboundCPI and InboundCPI are IPComp's CPIs (hex), when compressing.
	OutboundCPI     string `json:"outbound_cpi,omitempty"`
	InboundCPI      string `json:"inbound_cpi,omitempty"`
	LifetimeSeconds int64  `json:"lifetime_seconds"`
	LocalClient     string `json:"local_client"`
	RemoteClient    string `json:"remote_client"`
	// UDPEncap is NAT-T's ESP in UDP, with the ports.
	UDPEncap *UDPEncapStatus `json:"udp_encap,omitempty"`
}

// UDPEncapStatus is the UDP encapsulation of an IPsec SA through a NAT.
type UDPEncapStatus struct {
	LocalPort  uint16 `json:"local_port"`
	RemotePort uint16 `json:"remote_port"`
}

// StateStatus is one state object.
type StateStatus struct {
	Serial      uint64        `json:"serial"`
	Connection  string        `json:"connection"`
	Kind        string        `json:"kind"`
	KindNumber  int           `json:"kind_number"`
	Phase       int           `json:"phase"` // 1: ISAKMP SA, 2: Quick Mode
	Story       string        `json:"story"`
	Established bool          `json:"established"`
	Initiator   bool          `json:"initiator"`
	Local       string        `json:"local"`
	Remote      string        `json:"remote"`
	Parent      uint64        `json:"parent"` // the ISAKMP SA of a Quick Mode; 0 otherwise
	Timer       *TimerStatus  `json:"timer"`
	ISAKMP      *ISAKMPStatus `json:"isakmp"`
	IPsec       *IPsecStatus  `json:"ipsec"`
	// XAUTH and ModeCfg on an ISAKMP SA: the user the server accepted,
	// the configuration handed out (server) or received (client).
	XAuthUser string         `json:"xauth_user,omitempty"`
	ModeCfg   *ModeCfgStatus `json:"modecfg,omitempty"`
}

// ModeCfgStatus is a ModeCfg configuration.
type ModeCfgStatus struct {
	Address string   `json:"address,omitempty"`
	DNS     []string `json:"dns,omitempty"`
	WINS    []string `json:"wins,omitempty"`
}

func modecfgJSON(l *fsm.ModeCfgLease) *ModeCfgStatus {
	if l == nil {
		return nil
	}
	ms := &ModeCfgStatus{}
	if l.Address.IsValid() {
		ms.Address = l.Address.String()
	}
	for _, a := range l.DNS {
		ms.DNS = append(ms.DNS, a.String())
	}
	for _, a := range l.WINS {
		ms.WINS = append(ms.WINS, a.String())
	}
	return ms
}

// statusDoc builds the document (on the event loop).
func (d *Daemon) statusDoc() *StatusDoc {
	now := d.cfg.Now()
	doc := &StatusDoc{Version: StatusJSONVersion,
		Pluto: PlutoStatus{Version: Version, Time: now.UTC().Format(time.RFC3339), MyID: d.myID,
			Debug: d.cfg.Debug.String(), Kernel: d.kernel.Name()},
		Interfaces: []InterfaceStatus{}, Connections: []ConnStatus{}, States: []StateStatus{}}
	for _, a := range d.listening() {
		doc.Interfaces = append(doc.Interfaces, InterfaceStatus{Address: a.Addr().String(), Port: int(a.Port())})
	}
	states := d.m.States()
	newest := newestByConn(states)
	for _, c := range append(d.sortedConns(), d.sortedInstances()...) {
		doc.Connections = append(doc.Connections, d.connJSON(c, newest[&c.Conn]))
	}
	for _, st := range states {
		doc.States = append(doc.States, stateJSON(st, now))
	}
	return doc
}

func (d *Daemon) connJSON(c *Connection, est newestSAs) ConnStatus {
	fc := &c.Conn
	desc := &c.Desc
	cs := ConnStatus{Name: c.Name, Instance: fc.Instance, Oriented: c.Oriented, LeftHost: desc.Left.Host, RightHost: desc.Right.Host,
		IKE: []string{}, ESP: []string{}, AH: []string{}, Routing: "unrouted"}
	if c.Oriented {
		end := func(e whack.End, ap string, port uint16, client fsm.Client) *EndStatus {
			es := &EndStatus{Host: ap, Port: int(port), ID: e.ID, ProtoPort: e.ClientProtoPort}
			if client.Net.IsValid() {
				es.Client = client.Net.String()
			}
			return es
		}
		remote := "%any"
		if fc.Remote.Addr().IsValid() {
			remote = fc.Remote.Addr().String()
		}
		cs.Local = end(c.This, fc.Local.Addr().String(), fc.Local.Port(), fc.LocalNet)
		cs.Remote = end(c.That, remote, fc.Remote.Port(), fc.RemoteNet)
	}
	auth := "psk"
	if fc.Auth == spec.AuthRSASig {
		auth = "rsasig"
	}
	cs.Policy = PolicyStatus{String: c.PolicyString(), Auth: auth, Encrypt: desc.Encrypt,
		Authenticate: desc.Authenticate, Compress: desc.Compress, Tunnel: fc.P2.Mode == spec.EncapTunnel,
		PFS: fc.PFS, DontRekey: desc.DontRekey, Aggressive: desc.AggrMode}
	for _, a := range fc.P1.Algs {
		cs.IKE = append(cs.IKE, a.String())
	}
	for _, a := range fc.P2.ESP {
		cs.ESP = append(cs.ESP, a.String())
	}
	for _, a := range fc.P2.AH {
		cs.AH = append(cs.AH, a.String())
	}
	switch {
	case fc.P2.PFSGroup != spec.GroupNone:
		cs.PFSGroup = fc.P2.PFSGroup.ShortName()
	case fc.PFS:
		cs.PFSGroup = "phase1"
	}
	cs.Lifetimes = LifetimeStatus{IKESeconds: secs(fc.P1.Lifetime), IPsecSeconds: secs(fc.P2.Lifetime),
		RekeyMarginSeconds: secs(c.RekeyMargin), RekeyFuzzPercent: c.RekeyFuzz, KeyingTries: fc.KeyingTries}
	if fc.DPDDelay > 0 {
		action := fc.DPDAction
		if action == "" {
			action = "hold"
		}
		cs.DPD = &DPDStatus{DelaySeconds: secs(fc.DPDDelay), TimeoutSeconds: secs(fc.DPDTimeout), Action: action}
	}
	if c.Oriented {
		rs, owner := d.routeState(c)
		cs.Routing, cs.ErouteOwner = rs.String(), owner
	}
	if est.isakmp != nil {
		cs.NewestISAKMP = est.isakmp.Serial
	}
	if est.ipsec != nil {
		cs.NewestIPsec = est.ipsec.Serial
	}
	return cs
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

func stateJSON(st *fsm.State, now time.Time) StateStatus {
	ss := StateStatus{Serial: st.Serial, Kind: st.Kind.String(), KindNumber: int(st.Kind), Phase: 1,
		Story: st.Kind.Story(), Established: st.Kind.IsISAKMPEstablished() || st.Kind.IsIPsecEstablished(),
		Initiator: st.Initiator, Local: st.Local.String(), Remote: st.Remote.String()}
	if st.Conn != nil {
		ss.Connection = st.Conn.Name
	}
	if st.Kind.IsQuick() {
		ss.Phase = 2
		if st.Parent != nil {
			ss.Parent = st.Parent.Serial
		}
	}
	if ev, in := st.Timer(now); ev != fsm.EventNull {
		if in < 0 {
			in = 0
		}
		ss.Timer = &TimerStatus{Event: ev.String(), InSeconds: secs(in)}
	}
	ss.XAuthUser, ss.ModeCfg = st.XAuthUser, modecfgJSON(st.Lease)
	if !st.Kind.IsQuick() && st.P1.Alg != (proposal.IKEAlg{}) {
		is := &ISAKMPStatus{ICookie: fmt.Sprintf("%x", st.ICookie), RCookie: fmt.Sprintf("%x", st.RCookie),
			Algorithm: st.P1.Alg.String(), Auth: st.P1.Auth.String(), LifetimeSeconds: secs(st.P1.Lifetime)}
		if st.PeerID.Type != 0 {
			is.PeerID = st.PeerID.String()
		}
		if st.NATT.Method != fsm.NATTNone {
			is.NATT = st.NATT.Method.String() + ": " + st.NATT.Result()
		}
		ss.ISAKMP = is
	}
	if sa := st.IPsec; sa != nil && st.Kind.IsQuick() {
		ip := &IPsecStatus{Protocol: strings.ToLower(protoName(sa.Proto)), Mode: "transport",
			OutboundSPI: fmt.Sprintf("%x", sa.OutboundSPI), InboundSPI: fmt.Sprintf("%x", sa.InboundSPI),
			IPComp: st.P2.IPComp, LifetimeSeconds: secs(sa.Lifetime),
			LocalClient: clientOr(sa.LocalNet, sa.Local).Net.String(), RemoteClient: clientOr(sa.RemoteNet, sa.Remote).Net.String()}
		if sa.Mode == spec.EncapTunnel {
			ip.Mode = "tunnel"
		}
		if sa.Encap {
			ip.UDPEncap = &UDPEncapStatus{LocalPort: sa.Local.Port(), RemotePort: sa.Remote.Port()}
		}
		if sa.Compressed() {
			ip.OutboundCPI, ip.InboundCPI = fmt.Sprintf("%x", sa.OutboundCPI), fmt.Sprintf("%x", sa.InboundCPI)
		}
		switch {
		case sa.ESP != nil:
			ip.Algorithm, ip.Xfrm = sa.ESP.String(), sa.ESP.XfrmName()
		case st.P2.AH != nil:
			ip.Algorithm, ip.Xfrm = st.P2.AH.String(), st.P2.AH.XfrmName()
		}
		if st.P2.PFSGroup != spec.GroupNone {
			ip.PFSGroup = st.P2.PFSGroup.ShortName()
		}
		ss.IPsec = ip
	}
	return ss
}

func protoName(p spec.ProtocolID) string {
	if p == spec.ProtoAH {
		return "AH"
	}
	return "ESP"
}

// statusJSON writes the document to whack as "000 " lines.
func (d *Daemon) statusJSON(w *whackConn) {
	b, err := json.MarshalIndent(d.statusDoc(), "", "  ")
	if err != nil {
		w.line(whack.RCInternalErr, fmt.Sprintf("cannot encode status: %v", err))
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		w.line(whack.RCComment, l)
	}
}
