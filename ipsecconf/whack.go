package ipsecconf

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"goswan/fsm/proposal"
	"goswan/whack"
)

// Instance is one connection pluto is given for a conn: the conn itself,
// or, with leftsubnets=/rightsubnets=, one per pair of subnets, named
// "NAME/LxR" (L and R count from 1 in a subnets= list, 0 on a side without
// one), as libreswan names them.
type Instance struct {
	Name        string
	LeftSubnet  string // canonical; "" for the host itself
	RightSubnet string
}

// Instances lists the connections pluto is given for c.
func (c *Conn) Instances() ([]Instance, error) {
	var sides [2][]string
	listed := [2]bool{}
	for i, side := range []string{"left", "right"} {
		one, hasOne := c.Get(side + "subnet")
		many, hasMany := c.Get(side + "subnets")
		switch {
		case hasOne && hasMany:
			return nil, c.errorf(many.Pos, side+"subnets", "%ssubnet= and %ssubnets= cannot both be given", side, side)
		case hasMany:
			l, err := subnetList(many.Value)
			if err != nil {
				return nil, c.errorf(many.Pos, side+"subnets", "bad value %ssubnets=%q: %v", side, many.Value, err)
			}
			sides[i], listed[i] = l, true
		case hasOne:
			s, err := canonSubnet(one.Value)
			if err != nil {
				return nil, c.errorf(one.Pos, side+"subnet", "bad value %ssubnet=%q: %v", side, one.Value, err)
			}
			sides[i] = []string{s}
		default:
			sides[i] = []string{""}
		}
	}
	var out []Instance
	for li, l := range sides[0] {
		for ri, r := range sides[1] {
			name := c.Name
			if listed[0] || listed[1] {
				ln, rn := 0, 0
				if listed[0] {
					ln = li + 1
				}
				if listed[1] {
					rn = ri + 1
				}
				name = fmt.Sprintf("%s/%dx%d", c.Name, ln, rn)
			}
			out = append(out, Instance{Name: name, LeftSubnet: l, RightSubnet: r})
		}
	}
	return out, nil
}

// Names returns the names of c's instances (just c.Name without
// subnets= lists).
func (c *Conn) Names() []string {
	inst, err := c.Instances()
	if err != nil {
		return []string{c.Name}
	}
	names := make([]string, len(inst))
	for i, in := range inst {
		names[i] = in.Name
	}
	return names
}

// Messages returns what `ipsec auto --add` sends pluto for c: one
// connection message per instance, each with Delete set (an existing
// connection of that name is replaced, as Openswan's starter does), then
// one public-key message per leftrsasigkey=/rightrsasigkey=
// (rsasigkey2= adds a second key). Host names and %defaultroute are
// resolved with r (DefaultResolver when nil). Every message passes
// whack.Message.Validate. Errors are *Error.
func (c *Conn) Messages(r Resolver) ([]*whack.Message, error) {
	if r == nil {
		r = DefaultResolver
	}
	insts, err := c.Instances()
	if err != nil {
		return nil, err
	}
	base, hosts, err := c.connMessage(r)
	if err != nil {
		return nil, err
	}
	var out []*whack.Message
	for _, in := range insts {
		m := *base
		m.Name, m.Delete = in.Name, true
		m.Left.Client, m.Right.Client = in.LeftSubnet, in.RightSubnet
		// A ModeCfg pool of one address is that end's client.
		if m.Left.Client == "" && m.Left.AddressPool != "" {
			m.Left.Client = m.Left.AddressPool + "/32"
		}
		if m.Right.Client == "" && m.Right.AddressPool != "" {
			m.Right.Client = m.Right.AddressPool + "/32"
		}
		if err := m.Validate(); err != nil {
			return nil, c.errorf(Pos{}, "", "whack refuses the connection: %v", strings.TrimPrefix(err.Error(), "whack: "))
		}
		out = append(out, &m)
	}
	keys, err := c.keyMessages(hosts)
	if err != nil {
		return nil, err
	}
	return append(out, keys...), nil
}

// Check converts c as Messages does, except that a conn whose hosts need
// resolving (DNS names, %defaultroute) is only checked as far as possible
// without.
func (c *Conn) Check() error {
	_, err := c.Messages(offlineResolver{})
	if errors.Is(err, errOffline) {
		return nil
	}
	return err
}

func (c *Conn) str(key, def string) (string, Pos) {
	if v, ok := c.Get(key); ok {
		return v.Value, v.Pos
	}
	return def, Pos{}
}

func (c *Conn) flag(key string, def bool) (bool, Pos) {
	v, ok := c.Get(key)
	if !ok {
		return def, Pos{}
	}
	b, _ := yesNo(v.Value) // checked when read
	return b, v.Pos
}

func (c *Conn) duration(key string) (time.Duration, bool) {
	v, ok := c.Get(key)
	if !ok {
		return 0, false
	}
	d, _ := parseDuration(v.Value)
	return d, true
}

// oneOfKeys returns the value of the first of several alias keywords set;
// different values under two of them are an error.
func (c *Conn) oneOfKeys(keys ...string) (Value, string, bool, error) {
	var got Value
	gotKey := ""
	for _, k := range keys {
		v, ok := c.Get(k)
		if !ok {
			continue
		}
		if gotKey != "" && !strings.EqualFold(v.Value, got.Value) {
			return v, k, true, c.errorf(v.Pos, k, "%s=%s conflicts with %s=%s (at %s)", k, v.Value, gotKey, got.Value, got.Pos)
		}
		if gotKey == "" {
			got, gotKey = v, k
		}
	}
	return got, gotKey, gotKey != "", nil
}

// connMessage builds the connection description shared by the instances;
// hosts are the resolved host addresses (invalid for %any).
func (c *Conn) connMessage(r Resolver) (*whack.Message, [2]netip.Addr, error) {
	var hosts [2]netip.Addr
	m := &whack.Message{HasConnection: true}
	d := &m.ConnDesc

	if v, ok := c.Get("keyexchange"); ok && strings.EqualFold(v.Value, "ikev2") {
		return nil, hosts, c.errorf(v.Pos, "keyexchange", "keyexchange=ikev2: goswan speaks IKEv1 only")
	}
	if v, ok := c.Get("ikev2"); ok {
		if l := strings.ToLower(v.Value); l == "insist" || l == "yes" {
			return nil, hosts, c.errorf(v.Pos, "ikev2", "ikev2=%s: goswan speaks IKEv1 only (use ikev2=no, never, permit or propose)", v.Value)
		}
	}
	if v, ok := c.Get("connaddrfamily"); ok {
		d.AddrFamily = strings.ToLower(v.Value)
	}

	typ, _ := c.str("type", "tunnel")
	switch strings.ToLower(typ) {
	case "tunnel":
		d.Tunnel = true
	case "passthrough", "pass":
		d.Shunt = "pass"
	case "drop", "reject":
		d.Shunt = strings.ToLower(typ)
	}
	if d.Shunt == "" {
		authby, apos := c.str("authby", "rsasig")
		switch strings.ToLower(authby) {
		case "secret":
			d.PSK = true
		case "rsasig":
			d.RSASig = true
		case "secret|rsasig", "rsasig|secret":
			d.PSK, d.RSASig = true, true
		case "never":
			return nil, hosts, c.errorf(apos, "authby", "authby=never is only for type=passthrough, drop or reject")
		}
		phase2, _ := c.str("phase2", "esp")
		ah := strings.EqualFold(phase2, "ah")
		d.Encrypt, d.Authenticate = !ah, ah
		d.PFS, _ = c.flag("pfs", true)
		d.Compress, _ = c.flag("compress", false)
		esp, key, ok, err := c.oneOfKeys("esp", "phase2alg")
		if err != nil {
			return nil, hosts, err
		}
		if ok {
			if ah {
				if _, err := proposal.ParseAH(esp.Value); err != nil {
					return nil, hosts, c.errorf(esp.Pos, key, "bad value %s=%q for phase2=ah: %v", key, esp.Value, err)
				}
			} else if _, _, err := proposal.ParseESP(esp.Value); err != nil {
				return nil, hosts, c.errorf(esp.Pos, key, "bad value %s=%q: %v", key, esp.Value, err)
			}
			d.ESP = esp.Value
		}
		if v, ok := c.Get("ike"); ok {
			d.IKE = v.Value
		}
		if v, ok := c.Get("pfsgroup"); ok {
			d.PFSGroup = strings.ToLower(v.Value)
		}
	}

	if life, ok := c.duration("ikelifetime"); ok {
		d.IKELifetime = life
	}
	if v, _, ok, err := c.oneOfKeys("salifetime", "keylife", "lifetime"); err != nil {
		return nil, hosts, err
	} else if ok {
		d.IPsecLifetime, _ = parseDuration(v.Value)
	}
	if rekey, _ := c.flag("rekey", true); !rekey {
		d.DontRekey = true
	}
	if v, ok := c.duration("rekeymargin"); ok {
		d.RekeyMargin = &v
	}
	if v, ok := c.Get("rekeyfuzz"); ok {
		n, _ := parsePercent(v.Value)
		d.RekeyFuzz = &n
	}
	tries := 0 // ipsec.conf's default: %forever
	if v, ok := c.Get("keyingtries"); ok {
		tries, _ = parseKeyingTries(v.Value)
	}
	d.KeyingTries = &tries
	delay, hasDelay := c.duration("dpddelay")
	timeout, hasTimeout := c.duration("dpdtimeout")
	if hasDelay || hasTimeout {
		// Openswan sends DPD only when both are set; here the missing one
		// takes its default (30 s, 120 s).
		if !hasDelay {
			delay = 30 * time.Second
		}
		if !hasTimeout {
			timeout = 120 * time.Second
		}
		d.DPDDelay, d.DPDTimeout = delay, timeout
		if v, ok := c.Get("dpdaction"); ok {
			d.DPDAction = strings.ToLower(v.Value)
		}
	}
	if v, _, ok, err := c.oneOfKeys("aggrmode", "aggressive"); err != nil {
		return nil, hosts, err
	} else if ok {
		d.AggrMode, _ = yesNo(v.Value)
	}
	if v, ok := c.Get("encapsulation"); ok && strings.EqualFold(v.Value, "yes") {
		d.ForceEncaps = true
	}
	if f, _ := c.flag("forceencaps", false); f {
		d.ForceEncaps = true
	}
	if v, ok := c.Get("metric"); ok {
		fmt.Sscan(v.Value, &d.Metric)
	}
	if v, ok := c.Get("mtu"); ok {
		fmt.Sscan(v.Value, &d.MTU)
	}
	if v, ok := c.Get("failureshunt"); ok {
		d.Fail = strings.ToLower(v.Value)
		if d.Fail == "passthrough" {
			d.Fail = "pass"
		}
	}
	d.DisableArrivalCheck, _ = c.flag("disablearrivalcheck", false)
	d.ModecfgPull, _ = c.flag("modecfgpull", false)
	d.ModecfgDNS1, _ = c.str("modecfgdns1", "")
	d.ModecfgDNS2, _ = c.str("modecfgdns2", "")
	d.ModecfgWINS1, _ = c.str("modecfgwins1", "")
	d.ModecfgWINS2, _ = c.str("modecfgwins2", "")

	for i, side := range []string{"left", "right"} {
		e := &d.Left
		if i == 1 {
			e = &d.Right
		}
		a, err := c.end(side, e, d, r)
		if err != nil {
			return nil, hosts, err
		}
		hosts[i] = a
	}
	return m, hosts, nil
}

// end fills one end from leftX= (or rightX=) and returns the host address.
func (c *Conn) end(side string, e *whack.End, d *whack.ConnDesc, r Resolver) (netip.Addr, error) {
	hv, ok := c.Get(side)
	if !ok {
		return netip.Addr{}, c.errorf(Pos{}, side, "%s= is not set", side)
	}
	v6 := d.AddrFamily == "ipv6"
	var addr netip.Addr
	switch h := hv.Value; h {
	case "%any", "%any6":
		e.Host = "%any"
		if h == "%any6" && d.AddrFamily == "" {
			d.AddrFamily = "ipv6"
		}
	case "%defaultroute":
		rt, err := r.DefaultRoute(v6)
		if errors.Is(err, errOffline) {
			return addr, err
		}
		if err != nil {
			return addr, c.errorf(hv.Pos, side, "%s=%%defaultroute: %v", side, err)
		}
		addr = rt.Addr
		if _, set := c.Get(side + "nexthop"); !set && rt.Gateway.IsValid() {
			e.NextHop = rt.Gateway.String()
		}
	case "%opportunistic", "%opportunisticgroup", "%group":
		return addr, c.errorf(hv.Pos, side, "%s=%s: opportunistic encryption is not supported", side, h)
	default:
		if a, err := netip.ParseAddr(h); err == nil {
			addr = a.Unmap()
		} else {
			a, err := r.LookupHost(h, v6)
			if errors.Is(err, errOffline) {
				return addr, err
			}
			if err != nil {
				return addr, c.errorf(hv.Pos, side, "%s=%s: %v", side, h, err)
			}
			addr = a.Unmap()
		}
	}
	if addr.IsValid() {
		e.Host = addr.String()
	}
	e.ID, _ = c.str(side+"id", "")
	e.Cert, _ = c.str(side+"cert", "")
	e.CA, _ = c.str(side+"ca", "")
	e.Groups, _ = c.str(side+"groups", "")
	if v, ok := c.Get(side + "sendcert"); ok {
		e.SendCert = strings.ToLower(v.Value)
	}
	e.Updown, _ = c.str(side+"updown", "")
	if v, ok := c.Get(side + "nexthop"); ok {
		e.NextHop = v.Value
		if v.Value == "%defaultroute" {
			if rt, err := r.DefaultRoute(v6); err == nil && rt.Gateway.IsValid() {
				e.NextHop = rt.Gateway.String()
			} else if errors.Is(err, errOffline) {
				return addr, err
			}
		}
	}
	if v, ok := c.Get(side + "subnetwithin"); ok {
		e.ClientWithin, _ = canonSubnet(v.Value)
	}
	e.ClientProtoPort, _ = c.str(side+"protoport", "")
	e.SrcIP, _ = c.str(side+"sourceip", "")
	if v, ok := c.Get(side + "ikeport"); ok {
		fmt.Sscan(v.Value, &e.IKEPort)
	}
	e.XauthServer, _ = c.flag(side+"xauthserver", false)
	e.XauthClient, _ = c.flag(side+"xauthclient", false)
	e.ModecfgServer, _ = c.flag(side+"modecfgserver", false)
	e.ModecfgClient, _ = c.flag(side+"modecfgclient", false)
	e.XauthName, _ = c.str(side+"xauthusername", "")
	if e.XauthName == "" {
		e.XauthName, _ = c.str(side+"username", "")
	}
	if v, ok := c.Get(side + "addresspool"); ok {
		a, _ := PoolAddress(v.Value)
		e.AddressPool = a.String()
	}
	return addr, nil
}

// keyMessages are the whack key forms of leftrsasigkey= and friends: the
// key belongs to the end's ID (leftid=), or to its address.
func (c *Conn) keyMessages(hosts [2]netip.Addr) ([]*whack.Message, error) {
	var out []*whack.Message
	for i, side := range []string{"left", "right"} {
		for _, k := range []struct {
			key string
			add bool
		}{{side + "rsasigkey", false}, {side + "rsasigkey2", true}} {
			v, ok := c.Get(k.key)
			if !ok || strings.HasPrefix(v.Value, "%") {
				continue
			}
			keyid, _ := c.str(side+"id", "")
			if keyid == "" || strings.HasPrefix(keyid, "%") {
				if !hosts[i].IsValid() {
					return nil, c.errorf(v.Pos, k.key, "%s needs %sid= when %s= is not an address", k.key, side, side)
				}
				keyid = hosts[i].String()
			}
			m := &whack.Message{KeyID: keyid, AddKey: k.add, PubKeyRSA: v.Value}
			if err := m.Validate(); err != nil {
				return nil, c.errorf(v.Pos, k.key, "bad value %s: %v", k.key, err)
			}
			out = append(out, m)
		}
	}
	return out, nil
}
