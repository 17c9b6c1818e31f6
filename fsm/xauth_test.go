package fsm

import (
	"crypto/rsa"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// remoteAccess is the test Env's side of XAUTH and ModeCfg.
type remoteAccess struct {
	user, pass string            // client credentials ("" user: none)
	users      map[string]string // server: accepted users
	leases     []*ModeCfgLease   // client: leases installed
	refuse     error             // client: ModeCfgLease fails with this
}

func (e *testEnv) XAuthCredentials(c *Conn) (string, []byte, bool) {
	if e.ra.user == "" {
		return "", nil, false
	}
	return e.ra.user, []byte(e.ra.pass), true
}

func (e *testEnv) XAuthVerify(c *Conn, user string, pass []byte) bool {
	want, ok := e.ra.users[user]
	return ok && subtle.ConstantTimeCompare([]byte(want), pass) == 1
}

func (e *testEnv) ModeCfgLease(st *State, l *ModeCfgLease) error {
	if e.ra.refuse != nil {
		return e.ra.refuse
	}
	e.ra.leases = append(e.ra.leases, l)
	if l.Address.IsValid() {
		st.Conn.LocalNet = Client{Net: netip.PrefixFrom(l.Address, 32)}
		st.Conn.HasClients = true
	}
	return nil
}

var (
	leaseAddr = netip.MustParseAddr("10.9.0.5")
	dns1      = netip.MustParseAddr("10.2.0.53")
	dns2      = netip.MustParseAddr("10.2.0.54")
	wins1     = netip.MustParseAddr("10.2.0.137")
)

type raOpts struct {
	pairOpts
	xauth, modecfg, pull, aggr bool
	rsa                        bool   // RSA signatures instead of the PSK
	pass                       string // the client's password (default right)
	serverXAuthOff             bool   // the server does not do XAUTH
}

// newRAPair: west is the road warrior client (initiator), east the server.
func newRAPair(t *testing.T, o raOpts) (*testNet, *testEnv, *testEnv) {
	t.Helper()
	n, west, east := newPair(t, o.pairOpts)
	wc, ec := west.conns[0], east.conns[0]
	if o.pass == "" {
		o.pass = "s3cret"
	}
	west.ra = remoteAccess{user: "alice", pass: o.pass}
	east.ra = remoteAccess{users: map[string]string{"alice": "s3cret", "bob": "other"}}
	if o.xauth {
		wc.XAuthClient = true
		ec.XAuthServer = !o.serverXAuthOff
	}
	if o.modecfg {
		wc.ModeCfgClient, ec.ModeCfgServer = true, true
		wc.ModeCfgPull, ec.ModeCfgPull = o.pull, o.pull
		wc.LocalNet = Client{}
		ec.RemoteNet = Client{Net: netip.PrefixFrom(leaseAddr, 32)}
		ec.ModeCfgDNS = []netip.Addr{dns1, dns2}
		ec.ModeCfgWINS = []netip.Addr{wins1}
	}
	wc.AggrMode, ec.AggrMode = o.aggr, o.aggr
	if o.rsa {
		wk, ek := testRSAKeys(t)
		for _, c := range []*Conn{wc, ec} {
			c.Auth, c.P1.Auth = spec.AuthRSASig, spec.AuthRSASig
		}
		west.psk, east.psk = nil, nil
		west.rsaKey, west.peerKeys = wk, []*rsa.PublicKey{&ek.PublicKey}
		east.rsaKey, east.peerKeys = ek, []*rsa.PublicKey{&wk.PublicKey}
	}
	if o.aggr {
		wc.P1.Algs = wc.P1.Algs[:1]
	}
	return n, west, east
}

func TestXAuthModeCfg(t *testing.T) {
	cases := []struct {
		name string
		o    raOpts
		east string // east's state summary when done
		// the client's transcript between MAIN_I4 and QUICK_I1
		middle []string
	}{
		{"xauth", raOpts{xauth: true}, "#1 STATE_MAIN_R3, #2 STATE_QUICK_R2", []string{
			`129 "west-east" #1: STATE_XAUTH_I0: XAUTH client - awaiting CFG_request`,
			`130 "west-east" #1: STATE_XAUTH_I1: XAUTH client - awaiting CFG_set`,
			`004 "west-east" #1: STATE_MAIN_I4: ISAKMP SA established`}},
		{"xauth+push", raOpts{xauth: true, modecfg: true}, "#1 STATE_MODE_CFG_R2, #2 STATE_QUICK_R2", []string{
			`129 "west-east" #1: STATE_XAUTH_I0: XAUTH client - awaiting CFG_request`,
			`130 "west-east" #1: STATE_XAUTH_I1: XAUTH client - awaiting CFG_set`,
			`004 "west-east" #1: STATE_MAIN_I4: ISAKMP SA established`,
			`128 "west-east" #1: STATE_MODE_CFG_I1: ModeCfg initiator - awaiting CFG_reply`,
			`004 "west-east" #1: STATE_MAIN_I4: ISAKMP SA established`}},
		{"xauth+pull", raOpts{xauth: true, modecfg: true, pull: true}, "#1 STATE_MODE_CFG_R2, #2 STATE_QUICK_R2", nil},
		{"push", raOpts{modecfg: true}, "#1 STATE_MODE_CFG_R2, #2 STATE_QUICK_R2", nil},
		{"pull", raOpts{modecfg: true, pull: true}, "#1 STATE_MODE_CFG_R2, #2 STATE_QUICK_R2", nil},
		{"aggr+xauth+pull", raOpts{xauth: true, modecfg: true, pull: true, aggr: true}, "#1 STATE_MODE_CFG_R2, #2 STATE_QUICK_R2", nil},
		{"rsa+xauth+push", raOpts{xauth: true, modecfg: true, rsa: true}, "#1 STATE_MODE_CFG_R2, #2 STATE_QUICK_R2", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, west, east := newRAPair(t, tc.o)
			w := "whack-1"
			west.m.Initiate(n.now, west.conns[0], w)
			n.pump(t)
			if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
				t.Fatalf("west: %s\n%s\neast:\n%s", got, west.allLines(), east.allLines())
			}
			if got := stateSummary(east.m); got != tc.east {
				t.Fatalf("east: %s\n%s", got, east.allLines())
			}
			// The XAUTH authentication methods were negotiated.
			p1w, p1e := west.m.State(1), east.m.State(1)
			wantAuth := spec.AuthPSK
			if tc.o.rsa {
				wantAuth = spec.AuthRSASig
			}
			if tc.o.xauth {
				wantAuth = spec.AuthXAuthInitPSK
				if tc.o.rsa {
					wantAuth = spec.AuthXAuthInitRSA
				}
				if p1e.XAuthUser != "alice" || !p1e.peerXAuth || !p1w.peerXAuth {
					t.Errorf("server: user %q, XAUTH VIDs seen %v/%v", p1e.XAuthUser, p1w.peerXAuth, p1e.peerXAuth)
				}
			}
			if p1w.Auth != wantAuth || p1e.Auth != wantAuth {
				t.Errorf("auth %s/%s, want %s", p1w.Auth, p1e.Auth, wantAuth)
			}
			var got []string // without the 000 comments
			for _, l := range west.whackLines(w) {
				if !strings.HasPrefix(l, "000 ") {
					got = append(got, l)
				}
			}
			if tc.middle != nil {
				i := indexOf(got, `004 "west-east" #1: STATE_MAIN_I4: ISAKMP SA established`)
				if i < 0 || len(got) < i+1+len(tc.middle)+2 {
					t.Fatalf("transcript:\n%s", strings.Join(got, "\n"))
				}
				for j, l := range tc.middle {
					if got[i+1+j] != l {
						t.Errorf("line %d = %q, want %q\n%s", i+1+j, got[i+1+j], l, strings.Join(got, "\n"))
					}
				}
			}
			if last := got[len(got)-1]; !strings.HasPrefix(last, `004 "west-east" #2: STATE_QUICK_I2`) {
				t.Errorf("last line %q", last)
			}
			wi, ei := west.installed, east.installed
			if len(wi) != 1 || len(ei) != 1 {
				t.Fatalf("installed %d/%d", len(wi), len(ei))
			}
			if !tc.o.modecfg {
				if len(west.ra.leases) != 0 {
					t.Errorf("leases without ModeCfg: %v", west.ra.leases)
				}
				return
			}
			// The client received the address, DNS and WINS; Phase 2 uses addr/32.
			if len(west.ra.leases) != 1 {
				t.Fatalf("leases %v", west.ra.leases)
			}
			l := west.ra.leases[0]
			if l.Address != leaseAddr || len(l.DNS) != 2 || l.DNS[0] != dns1 || l.DNS[1] != dns2 || len(l.WINS) != 1 || l.WINS[0] != wins1 {
				t.Errorf("lease %s", l)
			}
			host := Client{Net: netip.PrefixFrom(leaseAddr, 32)}
			if wi[0].LocalNet != host || ei[0].RemoteNet != host || wi[0].RemoteNet != eastNet {
				t.Errorf("phase 2 clients west %v<->%v east %v<->%v", wi[0].LocalNet, wi[0].RemoteNet, ei[0].LocalNet, ei[0].RemoteNet)
			}
			if east.m.State(1).Lease == nil || east.m.State(1).Lease.Address != leaseAddr {
				t.Errorf("server lease %v", east.m.State(1).Lease)
			}
			checkIndexes(t, west.m)
			checkIndexes(t, east.m)
		})
	}
}

func indexOf(ls []string, s string) int {
	for i, l := range ls {
		if l == s {
			return i
		}
	}
	return -1
}

// TestXAuthWrongPassword: the server sends STATUS FAIL, the client
// acknowledges, tells its whack and deletes the ISAKMP SA (telling the
// server); the server deletes too. No Quick Mode, nothing installed.
func TestXAuthWrongPassword(t *testing.T) {
	n, west, east := newRAPair(t, raOpts{xauth: true, modecfg: true, pass: "guess"})
	w := "whack-1"
	west.m.Initiate(n.now, west.conns[0], w)
	n.pump(t)
	if got := stateSummary(west.m); got != "" {
		t.Errorf("west states: %s\n%s", got, west.allLines())
	}
	if got := stateSummary(east.m); got != "" {
		t.Errorf("east states: %s\n%s", got, east.allLines())
	}
	if len(west.installed)+len(east.installed)+len(west.inbound)+len(east.inbound) != 0 || len(west.ra.leases) != 0 {
		t.Error("something was installed after a failed XAUTH")
	}
	if !east.hasLine(3, "XAUTH: User alice: Authentication Failed") {
		t.Errorf("server did not log the failure:\n%s", east.allLines())
	}
	got := west.whackLines(w)
	if i := indexOf(got, `037 "west-east" #1: XAUTH: the server refused our credentials (XAUTH-STATUS FAIL); deleting the ISAKMP SA`); i < 0 {
		t.Errorf("whack was not told:\n%s", strings.Join(got, "\n"))
	}
	if !west.wasReleased(w) {
		t.Error("whack not released")
	}
	// The client deleted first, telling the server (Delete payload), and
	// the server deleted on the ACK (or the Delete): either way it is gone
	// before its retransmission timer.
	if east.anyLine("max number of retransmissions") {
		t.Error("server waited for a timeout")
	}
	checkIndexes(t, west.m)
	checkIndexes(t, east.m)
}

// TestXAuthNoCredentials: a client without a password gives up at the
// server's request, with a clear error.
func TestXAuthNoCredentials(t *testing.T) {
	n, west, east := newRAPair(t, raOpts{xauth: true})
	west.ra.user = ""
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if countStates(west.m, nil) != 0 || !west.hasLine(3, "none is configured") {
		t.Errorf("west: %s\n%s", stateSummary(west.m), west.allLines())
	}
	n.advance(t, 2*time.Minute)
	if countStates(east.m, nil) != 0 {
		t.Errorf("east: %s", stateSummary(east.m))
	}
}

// TestXAuthMethodMismatch: a client that wants XAUTH proposes
// XAUTHInitPreShared; a server without XAUTH refuses it (and the reverse).
func TestXAuthMethodMismatch(t *testing.T) {
	n, west, east := newRAPair(t, raOpts{xauth: true, serverXAuthOff: true})
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if countStates(east.m, isISAKMP) != 0 || !east.anyLine("XAUTHInitPreShared") {
		t.Errorf("east accepted XAUTH it does not do:\n%s", east.allLines())
	}
	n, west, east = newRAPair(t, raOpts{})
	east.conns[0].XAuthServer = true
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if countStates(east.m, isISAKMP) != 0 {
		t.Errorf("XAUTH server accepted plain PSK:\n%s", east.allLines())
	}
}

// TestTransactionDuplicateAnswered: the client's REPLY is lost; the server
// resends its REQUEST, the client (now in XAUTH_I1) answers it again and
// everything completes.
func TestTransactionDuplicateAnswered(t *testing.T) {
	n, west, east := newRAPair(t, raOpts{xauth: true, modecfg: true})
	lost := 0
	n.drop = func(p packet) bool {
		m, err := payloads.DecodeMessage(p.b)
		if err == nil && p.from == westAddr && m.Header.Exchange == spec.ExchangeModeCfg && lost == 0 {
			lost++
			return true
		}
		return false
	}
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if west.m.State(1).Kind != StateXAuthI1 || east.m.State(1).Kind != StateXAuthR0 {
		t.Fatalf("after the loss: west %s east %s", stateSummary(west.m), stateSummary(east.m))
	}
	n.advance(t, 11*time.Second)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Fatalf("west: %s\n%s\neast:\n%s", got, west.allLines(), east.allLines())
	}
	if !west.anyLine("retransmitting in response to duplicate packet; already STATE_XAUTH_I1") {
		t.Error("the duplicate was not answered")
	}
}

// TestTransactionTampered: a Transaction message with a bad HASH or that
// does not decrypt changes nothing; Quick Mode is refused while XAUTH is
// in progress.
func TestTransactionTampered(t *testing.T) {
	n, west, east := newRAPair(t, raOpts{xauth: true})
	n.tap = func(p packet) []packet {
		m, err := payloads.DecodeMessage(p.b)
		if err == nil && p.from == eastAddr && m.Header.Exchange == spec.ExchangeModeCfg {
			bad := append([]byte(nil), p.b...)
			bad[len(bad)-1] ^= 1
			return []packet{{bad, p.from, p.to}}
		}
		return []packet{p}
	}
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if k := west.m.State(1).Kind; k != StateXAuthI0 {
		t.Fatalf("west in %s after a tampered REQUEST", k)
	}
	// A Quick Mode from the client before XAUTH is done is dropped by the
	// server (its ISAKMP SA is in XAUTH_R0).
	west.m.quickOutI1(west.m.State(1), west.conns[0], nil)
	n.tap = nil
	n.pump(t)
	if countStates(east.m, func(k StateKind) bool { return k.IsQuick() }) != 0 ||
		!east.anyLine("unestablished ISAKMP SA") {
		t.Errorf("server: %s\n%s", stateSummary(east.m), east.allLines())
	}
}

// TestModeCfgLeaseRefused: when the daemon cannot install the address the
// client deletes the ISAKMP SA.
func TestModeCfgLeaseRefused(t *testing.T) {
	n, west, _ := newRAPair(t, raOpts{modecfg: true})
	west.ra.refuse = errors.New("no such interface")
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if countStates(west.m, nil) != 0 || !west.hasLine(3, "cannot install address 10.9.0.5") {
		t.Errorf("west: %s\n%s", stateSummary(west.m), west.allLines())
	}
}

// FuzzTransaction: authenticated XAUTH/ModeCfg messages with arbitrary
// contents (ATTR type, identifier, attribute list, message ID), correctly
// hashed and encrypted under the ISAKMP SA, reach the server and the client
// at three points: both waiting (XAUTH_R0 / XAUTH_I0), the REPLY lost
// (XAUTH_R0 / XAUTH_I1), and all done. Nothing panics, the indexes stay
// consistent and no XAUTH/ModeCfg state outlives its timers. Run:
// go test ./fsm -run '^$' -fuzz FuzzTransaction -fuzztime 60s
func FuzzTransaction(f *testing.F) {
	f.Add(uint8(0), uint32(7), uint8(payloads.ModeCfgReply), []byte{0x40, 0x89, 0, 5, 'a', 'l', 'i', 'c', 'e', 0x40, 0x8a, 0, 6, 's', '3', 'c', 'r', 'e', 't'})
	f.Add(uint8(1), uint32(9), uint8(payloads.ModeCfgSet), []byte{0xc0, 0x8f, 0, 0})
	f.Add(uint8(2), uint32(11), uint8(payloads.ModeCfgRequest), []byte{0, 1, 0, 0, 0, 3, 0, 0})
	f.Add(uint8(1), uint32(0), uint8(payloads.ModeCfgSet), []byte{0, 1, 0, 4, 10, 9, 0, 5, 0, 3, 0, 3, 1, 2, 3})
	f.Fuzz(func(t *testing.T, stage uint8, msgid uint32, kind uint8, attrs []byte) {
		if len(attrs) > 2000 {
			attrs = attrs[:2000]
		}
		n, west, east := newRAPair(t, raOpts{xauth: true, modecfg: true, pull: stage&4 != 0})
		switch stage % 3 {
		case 0: // the REQUEST is lost
			n.drop = func(p packet) bool { return p.from == eastAddr && isTransaction(p.b) }
		case 1: // the REPLY is lost
			n.drop = func(p packet) bool { return p.from == westAddr && isTransaction(p.b) }
		}
		west.m.Initiate(n.now, west.conns[0], "w")
		n.pump(t)
		n.drop = nil
		for _, to := range []*testEnv{east, west} {
			p1 := to.m.State(1)
			if p1 == nil || p1.k == nil || p1.k.encKey == nil {
				continue
			}
			from := westAddr
			if to == west {
				from = eastAddr
			}
			b := sealTransaction(p1, msgid, kind, attrs)
			to.m.HandlePacket(n.now, b, from, p1.Local)
			to.m.HandlePacket(n.now, b, from, p1.Local) // and its duplicate
		}
		n.pump(t)
		checkIndexes(t, west.m)
		checkIndexes(t, east.m)
		for i := 1; i <= 10; i++ {
			n.advance(t, 10*time.Minute)
		}
		for _, e := range []*testEnv{west, east} {
			for _, st := range e.m.States() {
				if st.Kind.IsPhase15() {
					t.Fatalf("%s survives its timers", st.Kind)
				}
			}
			checkIndexes(t, e.m)
		}
	})
}

func isTransaction(b []byte) bool {
	m, err := payloads.DecodeMessage(b)
	return err == nil && m.Header.Exchange == spec.ExchangeModeCfg
}

// sealTransaction builds HDR*, HASH, ATTR(kind, attrs) for ISAKMP SA p1 with
// message ID msgid (0: the exchange in progress), hashed and encrypted as
// the peer would.
func sealTransaction(p1 *State, msgid uint32, kind uint8, attrs []byte) []byte {
	k := p1.k
	iv := k.txIV
	if msgid == 0 || msgid != k.txMsgID {
		if msgid == 0 {
			msgid = k.txMsgID
			if msgid == 0 {
				msgid = 1
			}
		}
		if msgid != k.txMsgID {
			iv = oakley.Phase2IV(k.prf, k.iv, msgid, k.cipher.BlockSize)
		}
	}
	attr := append([]byte{0, 0, 0, 0, kind, 0, 0x12, 0x34}, attrs...)
	binary.BigEndian.PutUint16(attr[2:], uint16(len(attr)))
	hash := append([]byte{byte(spec.PayloadAttr), 0, 0, byte(4 + k.prf.Size())}, oakley.InfoHash(k.prf, k.set.A, msgid, attr)...)
	ct, _ := k.cipher.Encrypt(k.encKey, iv, append(hash, attr...))
	h := payloads.Header{ICookie: p1.ICookie, RCookie: p1.RCookie, Version: payloads.Version, Exchange: spec.ExchangeModeCfg,
		Flags: spec.FlagEncryption, MessageID: msgid, NextPayload: spec.PayloadHash, Length: uint32(spec.HeaderLen + len(ct))}
	return append(h.Append(nil), ct...)
}

// TestXAuthRekey: the ISAKMP SA of an XAUTH+ModeCfg client is replaced
// before it expires; the new one goes through XAUTH and ModeCfg again
// (the same credentials, the same address) and ends established, while
// the IPsec SA lives on.
func TestXAuthRekey(t *testing.T) {
	o := raOpts{xauth: true, modecfg: true, pairOpts: pairOpts{rekey: true, ikeLife: 20 * time.Minute,
		ipsecLife: 2 * time.Hour, margin: 5 * time.Minute}}
	n, west, east := newRAPair(t, o)
	west.m.Initiate(n.now, west.conns[0], "w")
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Fatalf("west: %s", got)
	}
	// Replaced at 15 minutes (life 20, margin 5, no fuzz), the old one
	// gone at 20; look at 25.
	for elapsed := time.Duration(0); elapsed < 25*time.Minute; elapsed += 10 * time.Second {
		n.advance(t, 10*time.Second)
		if len(established(west.m, isIPsec)) == 0 {
			t.Fatalf("no IPsec SA at %s: %s\n%s", elapsed, stateSummary(west.m), west.allLines())
		}
	}
	wp, ep := established(west.m, isISAKMP), established(east.m, isISAKMP)
	if len(wp) != 1 || len(ep) != 1 || wp[0].Serial == 1 {
		t.Fatalf("ISAKMP SAs after the rekey: %s / %s\n%s", stateSummary(west.m), stateSummary(east.m), east.allLines())
	}
	if ep[0].Kind != StateModeCfgR2 || ep[0].XAuthUser != "alice" || wp[0].Lease == nil || wp[0].Lease.Address != leaseAddr {
		t.Errorf("new ISAKMP SA: east %s user %q, west lease %v", ep[0].Kind, ep[0].XAuthUser, wp[0].Lease)
	}
	if west.countLines(-1, "XAUTH: Successfully Authenticated") != 2 {
		t.Errorf("XAUTH not redone:\n%s", west.allLines())
	}
	checkIndexes(t, west.m)
	checkIndexes(t, east.m)
}

// TestXAuthModeCfgBehindNAT: a road warrior behind a source NAT (NAT-T
// floats to 4500 during Main Mode) does XAUTH and ModeCfg over 4500 and
// its Quick Mode uses the ModeCfg address.
func TestXAuthModeCfgBehindNAT(t *testing.T) {
	n, west, east, _ := newNATPair(t, natOpts{nat: true, wNATT: true, eNATT: true})
	wc, ec := west.conns[0], east.conns[0]
	west.ra = remoteAccess{user: "alice", pass: "s3cret"}
	east.ra = remoteAccess{users: map[string]string{"alice": "s3cret"}}
	wc.XAuthClient, ec.XAuthServer = true, true
	wc.ModeCfgClient, ec.ModeCfgServer = true, true
	wc.LocalNet = Client{}
	ec.RemoteNet = Client{Net: netip.PrefixFrom(leaseAddr, 32)}
	west.m.Initiate(n.now, wc, "w")
	n.pump(t)
	if got := stateSummary(west.m); got != "#1 STATE_MAIN_I4, #2 STATE_QUICK_I2" {
		t.Fatalf("west: %s\n%s\neast:\n%s", got, west.allLines(), east.allLines())
	}
	if got := stateSummary(east.m); got != "#1 STATE_MODE_CFG_R2, #2 STATE_QUICK_R2" {
		t.Fatalf("east: %s\n%s", got, east.allLines())
	}
	p1 := east.m.State(1)
	if p1.Remote.Port() == 500 || p1.Remote.Addr() != natPublic {
		t.Errorf("server's peer %s: not floated to the NAT's 4500 mapping", p1.Remote)
	}
	if ei := east.installed; len(ei) != 1 || ei[0].RemoteNet.Net != netip.PrefixFrom(leaseAddr, 32) {
		t.Errorf("server's SA: %+v", ei)
	}
}
