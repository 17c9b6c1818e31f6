package pluto

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"goswan/fsm"
	"goswan/fsm/proposal"
	"goswan/pluto/certs"
	"goswan/spec"
	"goswan/whack"
)

// Connection is a named connection of the database: the whack description
// it came from and, once oriented, the negotiation policy the state machine
// uses.
type Connection struct {
	Name string
	// Template names the %any connection this is an instance of ("" for
	// connections added by whack).
	Template string
	Desc     whack.ConnDesc
	// This and That are the ends once oriented (This is us).
	This, That whack.End
	Oriented   bool
	Conn       fsm.Conn
	// Routed mirrors the routing table (kernel.go): the connection is
	// routed, by whack --route or for its IPsec SAs.
	Routed bool

	RekeyMargin time.Duration
	RekeyFuzz   int

	// X.509 (x509.go): the ends' --cert and the peer's --ca (DER DN).
	thisCert, thatCert *x509.Certificate
	thatCA             []byte

	// XAUTH client credentials from whack --initiate (xauth.go), and the
	// ModeCfg configuration this end received.
	XAuthUser string
	XAuthPass []byte
	Lease     *fsm.ModeCfgLease
}

// PolicyString is pluto's policy summary: "PSK+ENCRYPT+TUNNEL+PFS+UP".
func (c *Connection) PolicyString() string {
	var p []string
	d := &c.Desc
	if d.PSK {
		p = append(p, "PSK")
	}
	if d.RSASig && !d.PSK {
		p = append(p, "RSASIG")
	}
	if d.Encrypt {
		p = append(p, "ENCRYPT")
	}
	if d.Authenticate {
		p = append(p, "AUTHENTICATE")
	}
	if d.Compress {
		p = append(p, "COMPRESS")
	}
	if c.Conn.P2.Mode == spec.EncapTunnel {
		p = append(p, "TUNNEL")
	}
	if d.PFS {
		p = append(p, "PFS")
	}
	if d.DontRekey {
		p = append(p, "DONT_REKEY")
	}
	if d.AggrMode {
		p = append(p, "AGGRESSIVE")
	}
	p = append(p, "UP")
	return strings.Join(p, "+")
}

// endAddr is an end's IKE address: host and port.
func endAddr(e whack.End, defPort int) (netip.AddrPort, error) {
	port := e.IKEPort
	if port == 0 {
		port = defPort
	}
	if e.Host == "%any" || e.Host == "%any6" {
		return netip.AddrPortFrom(netip.Addr{}, uint16(port)), nil
	}
	a, err := netip.ParseAddr(e.Host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("--host %q: not an IP address (DNS names, %%defaultroute and %%opportunistic are not supported)", e.Host)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
}

// ours reports whether an IKE address is one pluto listens on.
func (d *Daemon) ours(a netip.AddrPort) bool {
	if !a.Addr().IsValid() {
		return false
	}
	for _, l := range d.listening() {
		if l == a {
			return true
		}
	}
	return false
}

// orient decides which end is us: the end whose host and IKE port pluto
// listens on (so two daemons on one host with different ports orient
// opposite ways).
func (d *Daemon) orient(c *Connection) error {
	l, err := endAddr(c.Desc.Left, d.cfg.IKEPort)
	if err != nil {
		return err
	}
	r, err := endAddr(c.Desc.Right, d.cfg.IKEPort)
	if err != nil {
		return err
	}
	lo, ro := d.ours(l), d.ours(r)
	switch {
	case lo && ro:
		return fmt.Errorf("both ends of the connection are interfaces of this host (%s and %s)", l, r)
	case !lo && !ro:
		c.Oriented = false
		return nil
	case lo:
		c.This, c.That = c.Desc.Left, c.Desc.Right
		c.Conn.Local, c.Conn.Remote = l, r
	default:
		c.This, c.That = c.Desc.Right, c.Desc.Left
		c.Conn.Local, c.Conn.Remote = r, l
	}
	c.Oriented = true
	return d.policy(c)
}

// newConnection checks a whack connection description and builds the
// connection; errors name the offending option.
func (d *Daemon) newConnection(m *whack.Message) (*Connection, error) {
	c := &Connection{Name: m.Name, Desc: m.ConnDesc}
	for _, e := range []whack.End{m.Left, m.Right} {
		if _, err := endAddr(e, d.cfg.IKEPort); err != nil {
			return nil, err
		}
	}
	if err := d.orient(c); err != nil {
		return nil, err
	}
	if !c.Oriented {
		// Check the policy anyway so that errors show at once.
		if err := d.policy(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// policy fills c.Conn from the description and the orientation.
func (d *Daemon) policy(c *Connection) error {
	desc := &c.Desc
	fc := &c.Conn
	fc.Name = c.Name
	fc.Auth = spec.AuthPSK
	if desc.RSASig && !desc.PSK {
		fc.Auth = spec.AuthRSASig
	}
	fc.KeyingTries = whack.DefaultKeyingTries
	if desc.KeyingTries != nil {
		fc.KeyingTries = *desc.KeyingTries
	}
	c.RekeyMargin, c.RekeyFuzz = whack.DefaultRekeyMargin, whack.DefaultRekeyFuzz
	if desc.RekeyMargin != nil {
		c.RekeyMargin = *desc.RekeyMargin
	}
	if desc.RekeyFuzz != nil {
		c.RekeyFuzz = *desc.RekeyFuzz
	}
	fc.RekeyMargin, fc.RekeyFuzz, fc.DontRekey = c.RekeyMargin, c.RekeyFuzz, desc.DontRekey
	fc.AggrMode = desc.AggrMode
	fc.ForceEncaps = desc.ForceEncaps
	if desc.ForceEncaps && !d.cfg.NATTraversal {
		d.log.Logf("%q: --forceencaps has no effect without pluto --nat_traversal", c.Name)
	}
	fc.DPDDelay, fc.DPDTimeout, fc.DPDAction = desc.DPDDelay, desc.DPDTimeout, desc.DPDAction
	if fc.DPDDelay > 0 && fc.DPDTimeout == 0 {
		fc.DPDTimeout = 4 * fc.DPDDelay
	}
	ikeLife := desc.IKELifetime
	if ikeLife == 0 {
		ikeLife = whack.DefaultIKELifetime
	}
	if ikeLife > d.cfg.Machine.MaxIKELifetime {
		return fmt.Errorf("--ikelifetime: %s exceeds the maximum of %s", ikeLife, d.cfg.Machine.MaxIKELifetime)
	}
	ipsecLife := desc.IPsecLifetime
	if ipsecLife == 0 {
		ipsecLife = whack.DefaultIPsecLifetime
	}
	if ipsecLife > d.cfg.Machine.MaxIPsecLifetime {
		return fmt.Errorf("--ipseclifetime: %s exceeds the maximum of %s", ipsecLife, d.cfg.Machine.MaxIPsecLifetime)
	}
	algs := proposal.DefaultIKE()
	if desc.IKE != "" {
		var err error
		if algs, err = proposal.ParseIKE(desc.IKE); err != nil {
			return fmt.Errorf("--ike: %v", err)
		}
	}
	fc.P1 = proposal.Phase1Policy{Algs: algs, Auth: fc.Auth, Lifetime: ikeLife}

	fc.IPsec = desc.Encrypt || desc.Authenticate
	p2 := proposal.Phase2Policy{Lifetime: ipsecLife, Compress: desc.Compress, Mode: spec.EncapTransport}
	if desc.Encrypt {
		p2.ESP = proposal.DefaultESP()
		if desc.ESP != "" {
			esp, g, err := proposal.ParseESP(desc.ESP)
			if err != nil {
				return fmt.Errorf("--esp: %v", err)
			}
			p2.ESP, p2.PFSGroup = esp, g
		}
	} else if desc.Authenticate {
		p2.AH = proposal.DefaultAH()
		if desc.ESP != "" {
			ah, err := proposal.ParseAH(desc.ESP)
			if err != nil {
				return fmt.Errorf("--esp: %v", err)
			}
			p2.AH = ah
		}
	}
	if desc.PFSGroup != "" {
		algs, err := proposal.ParseIKE("3des-sha1-" + desc.PFSGroup)
		if err != nil {
			return fmt.Errorf("--pfsgroup: %q is not a DH group", desc.PFSGroup)
		}
		p2.PFSGroup = algs[0].Group
	}
	fc.PFS = desc.PFS || p2.PFSGroup != spec.GroupNone
	// Clients: a connection with a subnet on either end is a tunnel.
	fc.LocalNet, fc.RemoteNet, fc.HasClients = fsm.Client{}, fsm.Client{}, false
	if c.Oriented {
		var err error
		if fc.LocalNet, err = client(c.This, "--client (this end)"); err != nil {
			return err
		}
		if fc.RemoteNet, err = client(c.That, "--client (that end)"); err != nil {
			return err
		}
		fc.HasClients = c.This.Client != "" || c.That.Client != ""
		if fc.LocalID, err = d.endID(c.This); err != nil {
			return err
		}
		if fc.RemoteID, err = d.endID(c.That); err != nil {
			return err
		}
		if err := d.endCerts(c); err != nil {
			return err
		}
	}
	if desc.Tunnel || fc.HasClients || fc.ModeCfgClient {
		p2.Mode = spec.EncapTunnel
	}
	fc.P2 = p2
	return remoteAccessPolicy(c)
}

func client(e whack.End, what string) (fsm.Client, error) {
	if e.Client == "" {
		return fsm.Client{}, nil
	}
	p, err := netip.ParsePrefix(e.Client)
	if err != nil {
		return fsm.Client{}, fmt.Errorf("%s %q: %v", what, e.Client, err)
	}
	c := fsm.Client{Net: p.Masked()}
	if e.ClientProtoPort != "" {
		pp, err := whack.ParseProtoPort(e.ClientProtoPort)
		if err != nil {
			return fsm.Client{}, fmt.Errorf("--clientprotoport: %v", err)
		}
		c.Proto, c.Port = pp.Proto, pp.Port
	}
	return c, nil
}

func (d *Daemon) endID(e whack.End) (fsm.ID, error) {
	s := e.ID
	if s == "" || s == "%none" {
		return fsm.ID{}, nil
	}
	if s == "%myid" {
		if d.myID == "" {
			return fsm.ID{}, fmt.Errorf("--id %%myid: no %%myid is set (whack --myid)")
		}
		s = d.myID
	}
	id, err := certs.ParseID(s)
	if err != nil {
		return fsm.ID{}, fmt.Errorf("--id: %v", err)
	}
	return id, nil
}

// sortedConns returns the connections in name order (shared: callers must
// not modify it).
func (d *Daemon) sortedConns() []*Connection { return d.index().sorted }

// responderConn implements fsm.Env.ResponderConn: an oriented connection on
// the local address for this peer, an exact peer before a %any one (which
// is instantiated for the peer: a Road Warrior).
func (d *Daemon) responderConn(local, remote netip.AddrPort) *fsm.Conn {
	if d.isNATTSocket(local) {
		// A peer behind a NAT starts a new exchange on the NAT-T port
		// (a rekey): the connection is the one of the IKE port.
		local = netip.AddrPortFrom(local.Addr(), uint16(d.cfg.IKEPort))
	}
	idx := d.index()
	for _, c := range idx.byRemote[remote.Addr()] {
		if c.Conn.Local == local {
			return &c.Conn
		}
	}
	for _, c := range idx.wild {
		if c.Conn.Local == local {
			return &d.instance(c, remote).Conn
		}
	}
	return nil
}

// quickConn implements fsm.Env.QuickConn: the ISAKMP SA's own connection
// if it has these clients, else a connection of this peer with these
// clients; failing that, a %any connection with these clients,
// instantiated for the peer. Any of them must accept the peer's phase-1
// ID (an IPsec SA never goes to a connection made for another identity).
func (d *Daemon) quickConn(p1 *fsm.State, local, remote fsm.Client) *fsm.Conn {
	idx := d.index()
	fitsConn := func(fc *fsm.Conn) bool {
		want := fc.RemoteID
		if want.Type == 0 {
			want = fsm.AddrID(p1.Remote.Addr())
		}
		return fc.Local.Addr() == p1.Local.Addr() && want.Matches(p1.PeerID) &&
			clientOr(fc.LocalNet, p1.Local) == local && clientOr(fc.RemoteNet, p1.Remote) == remote
	}
	fits := func(c *Connection) bool { return fitsConn(&c.Conn) }
	if p1.Conn != nil && fitsConn(p1.Conn) {
		return p1.Conn
	}
	for _, list := range [][]*Connection{idx.byRemote[p1.Remote.Addr()], d.instByTo[p1.Remote.Addr()]} {
		for _, c := range list {
			if fits(c) {
				return &c.Conn
			}
		}
	}
	for _, c := range idx.wild {
		if fits(c) {
			return &d.instance(c, p1.Remote).Conn
		}
	}
	return nil
}

func clientOr(c fsm.Client, host netip.AddrPort) fsm.Client {
	if c.Net.IsValid() {
		return c
	}
	a := host.Addr().Unmap()
	return fsm.Client{Net: netip.PrefixFrom(a, a.BitLen())}
}
