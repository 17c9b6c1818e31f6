package pluto

// XAUTH and ModeCfg glue (fsm/xauth.go does the exchanges): the roles and
// ModeCfg settings of a connection, the credentials of an XAUTH client
// (whack --initiate --xauthuser/--xauthpass, else the ipsec.secrets XAUTH
// entry of that user), the check of a server (an ipsec.secrets entry
// `@user : XAUTH "password"` that names the user; no default entry), and
// the address a ModeCfg client receives (added to the host through the
// kernel backend and used as our client, addr/32, for Quick Mode).

import (
	"crypto/subtle"
	"fmt"
	"net/netip"
	"strings"

	"goswan/fsm"
	"goswan/pluto/secrets"
	"goswan/routing"
	"goswan/whack"
)

// remoteAccessPolicy fills the XAUTH and ModeCfg fields of c.Conn. The
// flags of the peer's end count for ours too: a peer that is the XAUTH
// client makes us the server, and so on.
func remoteAccessPolicy(c *Connection) error {
	fc, desc := &c.Conn, &c.Desc
	this, that := c.This, c.That
	if !c.Oriented {
		this, that = desc.Left, desc.Right
	}
	fc.XAuthServer = this.XauthServer || that.XauthClient
	fc.XAuthClient = this.XauthClient || that.XauthServer
	fc.ModeCfgServer = this.ModecfgServer || that.ModecfgClient
	fc.ModeCfgClient = this.ModecfgClient || that.ModecfgServer
	if c.Oriented && fc.XAuthServer && fc.XAuthClient {
		return fmt.Errorf("--xauthserver and --xauthclient: this end cannot be both XAUTH server and client")
	}
	if c.Oriented && fc.ModeCfgServer && fc.ModeCfgClient {
		return fmt.Errorf("--modecfgserver and --modecfgclient: this end cannot be both ModeCfg server and client")
	}
	fc.ModeCfgPull = desc.ModecfgPull
	fc.ModeCfgDNS, fc.ModeCfgWINS = nil, nil
	for _, o := range []struct {
		name, val string
		to        *[]netip.Addr
	}{
		{"--modecfgdns1", desc.ModecfgDNS1, &fc.ModeCfgDNS}, {"--modecfgdns2", desc.ModecfgDNS2, &fc.ModeCfgDNS},
		{"--modecfgwins1", desc.ModecfgWINS1, &fc.ModeCfgWINS}, {"--modecfgwins2", desc.ModecfgWINS2, &fc.ModeCfgWINS},
	} {
		if o.val == "" {
			continue
		}
		a, err := netip.ParseAddr(o.val)
		if err != nil || !a.Is4() {
			return fmt.Errorf("%s %q: not an IPv4 address", o.name, o.val)
		}
		*o.to = append(*o.to, a)
	}
	if c.Oriented && fc.ModeCfgServer {
		if n := fc.RemoteNet.Net; !n.IsValid() || !n.Addr().Is4() || n.Bits() != 32 {
			return fmt.Errorf("--modecfgserver: the peer's --client must be the single IPv4 address to hand out (a /32), not %q", c.That.Client)
		}
	}
	return nil
}

// noteXAuthCredentials keeps the user name and password whack --initiate
// gave for c (used when the server asks; otherwise the end's xauthusername=
// from ipsec.conf and that user's XAUTH entry in ipsec.secrets).
func (d *Daemon) noteXAuthCredentials(c *Connection, m *whack.Message) {
	if m.XauthName != "" {
		c.XAuthUser = m.XauthName
	}
	if m.XauthPass != "" {
		c.XAuthPass = []byte(m.XauthPass)
	}
}

// XAuthCredentials implements fsm.RemoteAccess.
func (d *Daemon) XAuthCredentials(fc *fsm.Conn) (string, []byte, bool) {
	c := d.connByKey(connKey(fc))
	if c == nil {
		return "", nil, false
	}
	user := c.XAuthUser
	if user == "" {
		user = c.This.XauthName // ipsec.conf leftxauthusername=
	}
	if user == "" {
		return "", nil, false
	}
	if c.XAuthPass != nil && user == c.XAuthUser {
		return user, c.XAuthPass, true
	}
	if d.secrets != nil {
		if p, ok := d.secrets.XAUTH(user); ok {
			return user, p, true
		}
	}
	return "", nil, false
}

// XAuthVerify implements fsm.RemoteAccess: an XAUTH entry that names the
// user, its password compared in constant time.
func (d *Daemon) XAuthVerify(fc *fsm.Conn, user string, pass []byte) bool {
	if d.secrets == nil || user == "" {
		return false
	}
	sec, err := d.secrets.Find(secrets.XAUTH, user, "")
	if err != nil || sec == nil {
		return false
	}
	named := false
	for _, id := range sec.IDs {
		if strings.TrimPrefix(id, "@") == user {
			named = true
		}
	}
	return named && subtle.ConstantTimeCompare(sec.PSK, pass) == 1
}

// ModeCfgLease implements fsm.RemoteAccess: the address is added to the
// host (kernel backend) and becomes our client for Quick Mode.
func (d *Daemon) ModeCfgLease(st *fsm.State, l *fsm.ModeCfgLease) error {
	c := d.connOfState(st)
	if c == nil {
		return fmt.Errorf("connection %q is gone", st.Conn.Name)
	}
	if l.Address.IsValid() {
		ak, ok := d.kernel.(routing.AddressKernel)
		if !ok {
			return fmt.Errorf("the %s kernel backend cannot add addresses", d.kernel.Name())
		}
		if err := ak.AddAddress(l.Address); err != nil {
			return err
		}
		c.Conn.LocalNet = fsm.Client{Net: netip.PrefixFrom(l.Address, 32)}
		c.Conn.HasClients = true
	}
	c.Lease = l
	return nil
}

// dropLease takes the ModeCfg address of c off the host when its SAs are
// terminated or it is deleted; c's client is its configured one again.
func (d *Daemon) dropLease(c *Connection) {
	if c.Lease == nil {
		return
	}
	if ak, ok := d.kernel.(routing.AddressKernel); ok && c.Lease.Address.IsValid() {
		if err := ak.DelAddress(c.Lease.Address); err != nil {
			d.log.Logf("modecfg: cannot remove %s: %v", c.Lease.Address, err)
		}
	}
	c.Lease = nil
	if c.Oriented {
		if err := d.policy(c); err != nil {
			d.log.Logf("%q: %v", c.Name, err)
		}
	}
}

// dropLeases drops every ModeCfg address (shutdown).
func (d *Daemon) dropLeases() {
	for _, c := range append(d.sortedConns(), d.sortedInstances()...) {
		d.dropLease(c)
	}
}
