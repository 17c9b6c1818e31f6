package pluto

// The malformed-packet suite (issue #9): hostile datagrams sent over UDP to a
// running pluto (east, 127.0.0.2), from a stranger (127.0.0.3) and from the
// address of its genuine peer (west, 127.0.0.1, another pluto), including
// messages encrypted and authenticated with the keys of the ISAKMP SA west
// really has (west's own machine hands its key records to the test). After
// every case east's log shows why it dropped the message, whack --status
// answers, and west still negotiates with east. Every CVE of
// IKEV1-REFERENCE.md §6.2 is a named case.

import (
	"bytes"
	crand "crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"goswan/fsm"
	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// spyEnv is a daemon as its machine's Env, with every sent message and the
// phase-1 key material recorded for the test.
type spyEnv struct {
	*Daemon
	tap  *packetTap
	mu   sync.Mutex
	keys []fsm.KeyRecord
}

func (e *spyEnv) Send(b []byte, from, to netip.AddrPort) {
	e.tap.add(b, from, to)
	e.Daemon.Send(b, from, to)
}

func (e *spyEnv) LogKeys(k fsm.KeyRecord) {
	if k.Phase1 {
		c := k
		c.State = nil
		c.SKEYIDa, c.EncKey = bytes.Clone(k.SKEYIDa), bytes.Clone(k.EncKey)
		e.mu.Lock()
		e.keys = append(e.keys, c)
		e.mu.Unlock()
	}
	e.Daemon.LogKeys(k)
}

type hostile struct {
	t              *testing.T
	west, east     *testDaemon
	westAP, eastAP netip.AddrPort
	tap            *packetTap
	spy            *spyEnv // west's
	atk            *net.UDPConn
	atkAP          netip.AddrPort
	r              *rand.Rand
	ike            []proposal.IKEAlg
	statusMax      time.Duration
	cookies        int
}

const hostileIKE = "aes128-sha1-modp2048"

func newHostile(t *testing.T) *hostile {
	h := &hostile{t: t, tap: &packetTap{}, r: rand.New(rand.NewPCG(9, 9))}
	edit := func(c *Config) {
		c.Machine.RetransmitDelay = 200 * time.Millisecond
		c.Machine.HalfOpenTimeout = 1400 * time.Millisecond
		c.Machine.FirstResponseTimeout = 600 * time.Millisecond
	}
	h.west = startDaemonWith(t, "127.0.0.1", freePort(t, "127.0.0.1"), psk, nil, edit)
	h.east = startDaemonWith(t, "127.0.0.2", freePort(t, "127.0.0.2"),
		psk+"127.0.0.2 %any : PSK \"road-warrior-secret-0123\"\n", nil, func(c *Config) {
			edit(c)
			c.Debug = DebugControl // the debug lines name the drops of duplicates and busy states
		})
	h.west.d.Do(func() {
		h.spy = &spyEnv{Daemon: h.west.d, tap: h.tap}
		h.west.d.m = fsm.NewMachine(h.spy, h.west.d.cfg.Machine)
	})
	h.east.d.Do(func() {
		h.east.d.m = fsm.NewMachine(&spyEnv{Daemon: h.east.d, tap: h.tap}, h.east.d.cfg.Machine)
	})
	h.westAP = netip.AddrPortFrom(mustAddr("127.0.0.1"), uint16(h.west.port))
	h.eastAP = netip.AddrPortFrom(mustAddr("127.0.0.2"), uint16(h.east.port))
	ike := []string{"--ike", hostileIKE, "--esp", "aes128-sha1"}
	addConn(t, h.west, h.west, h.east, ike...)
	addConn(t, h.east, h.west, h.east, ike...)
	if out, code := h.east.whack(t, "--name", "rw", "--host", "127.0.0.2", "--ikeport", itoa(h.east.port),
		"--client", "10.2.0.0/24", "--to", "--host", "%any", "--psk", "--encrypt", "--tunnel", "--aggrmode",
		"--ike", hostileIKE); code != 0 {
		t.Fatalf("add rw: %d %s", code, out)
	}
	var err error
	if h.ike, err = proposal.ParseIKE(hostileIKE); err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.3")})
	if err != nil {
		t.Skipf("cannot bind 127.0.0.3: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	h.atk = c
	h.atkAP = netip.AddrPortFrom(mustAddr("127.0.0.3"), uint16(c.LocalAddr().(*net.UDPAddr).Port))
	h.negotiate("start")
	return h
}

// negotiate has west bring the connection up (a Quick Mode on the ISAKMP SA
// when there is one, else Main Mode first) and checks east's status.
func (h *hostile) negotiate(after string) {
	h.t.Helper()
	start := time.Now()
	st, code := h.east.whack(h.t, "--status")
	if d := time.Since(start); d > h.statusMax {
		h.statusMax = d
	}
	if code != 0 || !strings.Contains(st, `"west-east"`) {
		h.t.Fatalf("after %s: whack --status exit %d:\n%s", after, code, st)
	}
	out, code := h.west.whack(h.t, "--name", "west-east", "--initiate")
	if code != 0 || !strings.Contains(out, "IPsec SA established") {
		h.t.Fatalf("after %s: west cannot negotiate with east (exit %d):\n%s\neast log:\n%s", after, code, out, tail(h.east.log.String(), 60))
	}
}

func tail(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// fromStranger sends b to east from 127.0.0.3.
func (h *hostile) fromStranger(bs ...[]byte) {
	for _, b := range bs {
		if _, err := h.atk.WriteToUDPAddrPort(b, h.eastAP); err != nil {
			h.t.Fatal(err)
		}
	}
}

// fromWest sends b to east from west's IKE socket (its genuine address).
func (h *hostile) fromWest(bs ...[]byte) {
	for _, b := range bs {
		h.west.d.Send(b, h.westAP, h.eastAP)
	}
}

// recv reads what east sent the stranger within d.
func (h *hostile) recv(d time.Duration) [][]byte {
	var out [][]byte
	buf := make([]byte, 65536)
	deadline := time.Now().Add(d)
	for {
		h.atk.SetReadDeadline(deadline)
		n, err := h.atk.Read(buf)
		if err != nil {
			return out
		}
		out = append(out, bytes.Clone(buf[:n]))
	}
}

func (h *hostile) cookie() [8]byte {
	var c [8]byte
	h.cookies++
	binary.BigEndian.PutUint64(c[:], 0xbad0_0000_0000_0000|uint64(h.cookies))
	return c
}

func msg(hd payloads.Header, ps ...payloads.Payload) []byte {
	hd.Version = payloads.Version
	return payloads.Build(hd, ps...)
}

// phase1SA is the SA payload a road warrior would propose.
func (h *hostile) phase1SA() *payloads.SA {
	return proposal.BuildPhase1SA(proposal.Phase1Policy{Algs: h.ike, Auth: spec.AuthPSK, Lifetime: time.Hour})
}

// mi1 is a first Main Mode message with a fresh cookie; edit may change its SA.
func (h *hostile) mi1(edit func(sa *payloads.SA), extra ...payloads.Payload) ([]byte, [8]byte) {
	sa := h.phase1SA()
	if edit != nil {
		edit(sa)
	}
	ic := h.cookie()
	return msg(payloads.Header{ICookie: ic, Exchange: spec.ExchangeIDProt}, append([]payloads.Payload{sa}, extra...)...), ic
}

func setAttr(t *payloads.Transform, class, v uint16) {
	for i, a := range t.Attributes {
		if a.Type == class {
			t.Attributes[i] = payloads.NewTV(class, v)
			return
		}
	}
	t.Attributes = append(t.Attributes, payloads.NewTV(class, v))
}

// responder opens a MAIN_R1 state for the stranger and returns its cookies
// and the DH group to use for MI2.
func (h *hostile) responder() (ic, rc [8]byte) {
	h.t.Helper()
	h.recv(10 * time.Millisecond) // drain
	b, ic := h.mi1(nil)
	h.fromStranger(b)
	buf := make([]byte, 65536)
	h.atk.SetReadDeadline(time.Now().Add(time.Second))
	for {
		n, err := h.atk.Read(buf)
		if err != nil {
			break
		}
		if hd, err := payloads.ParseHeader(buf[:n]); err == nil && hd.ICookie == ic && hd.Exchange == spec.ExchangeIDProt {
			return ic, hd.RCookie
		}
	}
	h.t.Fatalf("no MR1 for the stranger:\n%s", tail(h.east.log.String(), 20))
	return
}

// mi2 is the stranger's MI2 for (ic, rc) with a real modp2048 KE.
func (h *hostile) mi2(ic, rc [8]byte, ke []byte, nonce bool) []byte {
	if ke == nil {
		g, _ := oakley.GroupByID(spec.GroupMODP2048)
		k, err := g.GenerateKey(crand.Reader)
		if err != nil {
			h.t.Fatal(err)
		}
		ke = k.Public()
	}
	ps := []payloads.Payload{&payloads.KE{Data: ke}}
	if nonce {
		ps = append(ps, &payloads.Nonce{Data: bytes.Repeat([]byte{7}, 32)})
	}
	return msg(payloads.Header{ICookie: ic, RCookie: rc, Exchange: spec.ExchangeIDProt}, ps...)
}

// sa1 is west's newest ISAKMP SA as west knows it: keys and the last
// phase-1 CBC block (the base of every phase-2 IV).
type sa1 struct {
	ic, rc [8]byte
	prf    oakley.PRF
	cipher oakley.Cipher
	a, key []byte
	lastIV []byte
}

func (h *hostile) isakmp() *sa1 {
	h.t.Helper()
	h.spy.mu.Lock()
	if len(h.spy.keys) == 0 {
		h.spy.mu.Unlock()
		h.t.Fatal("no key records from west")
	}
	k := h.spy.keys[len(h.spy.keys)-1]
	h.spy.mu.Unlock()
	s := &sa1{ic: k.ICookie, rc: k.RCookie, a: k.SKEYIDa, key: k.EncKey}
	var err error
	if s.prf, err = oakley.NewPRF(k.Hash); err != nil {
		h.t.Fatal(err)
	}
	if s.cipher, err = oakley.NewCipher(k.Cipher, 8*k.KeyLen); err != nil {
		h.t.Fatal(err)
	}
	s.lastIV = h.lastPhase1Block(s)
	return s
}

// lastPhase1Block is the last CBC block of the SA's last encrypted Main
// Mode message (MR3, sent by east; the tap records both daemons).
func (h *hostile) lastPhase1Block(s *sa1) []byte {
	h.tap.mu.Lock()
	defer h.tap.mu.Unlock()
	var last []byte
	for _, p := range h.tap.pkts {
		hd, err := payloads.ParseHeader(p.Data)
		if err == nil && hd.ICookie == s.ic && hd.RCookie == s.rc && hd.Exchange == spec.ExchangeIDProt && hd.Encrypted() {
			last = p.Data[len(p.Data)-s.cipher.BlockSize:]
		}
	}
	if last == nil {
		h.t.Fatalf("no encrypted Main Mode message for %x", s.ic)
	}
	return bytes.Clone(last)
}

// seal builds a protected message on s: HASH(1) (corrupted when asked) over
// the payloads, encrypted with the phase-2 IV of msgid.
func (s *sa1) seal(x spec.ExchangeType, msgid uint32, ps []payloads.Payload, corrupt bool) []byte {
	rest := payloads.EncodePayloads(ps)
	hash := oakley.InfoHash(s.prf, s.a, msgid, rest)
	if corrupt {
		hash[0] ^= 0x55
	}
	chain := payloads.EncodePayloads(append([]payloads.Payload{&payloads.Hash{Data: hash}}, ps...))
	return s.sealRaw(x, msgid, spec.PayloadHash, chain)
}

func (s *sa1) sealRaw(x spec.ExchangeType, msgid uint32, first spec.PayloadType, chain []byte) []byte {
	iv := oakley.Phase2IV(s.prf, s.lastIV, msgid, s.cipher.BlockSize)
	ct, _ := s.cipher.Encrypt(s.key, iv, chain)
	hd := payloads.Header{ICookie: s.ic, RCookie: s.rc, Version: payloads.Version, Exchange: x,
		Flags: spec.FlagEncryption, MessageID: msgid, NextPayload: first, Length: uint32(spec.HeaderLen + len(ct))}
	return append(hd.Append(nil), ct...)
}

// sent returns the messages from sent of exchange x (in order).
func (h *hostile) sent(from netip.AddrPort, x spec.ExchangeType) [][]byte {
	h.tap.mu.Lock()
	defer h.tap.mu.Unlock()
	var out [][]byte
	for _, p := range h.tap.pkts {
		if hd, err := payloads.ParseHeader(p.Data); err == nil && p.Src == from && hd.Exchange == x {
			out = append(out, p.Data)
		}
	}
	return out
}

// quickSA is a phase-2 SA proposal for ESP aes128-sha1 with our SPI.
func quickSA(t *testing.T) *payloads.SA {
	esp, _, err := proposal.ParseESP("aes128-sha1")
	if err != nil {
		t.Fatal(err)
	}
	return proposal.BuildPhase2SA(proposal.Phase2Policy{ESP: esp, Mode: spec.EncapTunnel, Lifetime: time.Hour},
		[]byte{0xde, 0xad, 0xbe, 0xef}, nil, nil)
}

func subnetID(s string) *payloads.ID {
	p := netip.MustParsePrefix(s)
	a := p.Addr().As4()
	mask := net.CIDRMask(p.Bits(), 32)
	return &payloads.ID{IDType: spec.IDIPv4AddrSubnet, Data: append(a[:], mask...)}
}

type hostileCase struct {
	name string
	send func(h *hostile)
	// want: what east's log must say about it (a regular expression).
	want string
	// after the case, west starts over with Main Mode (east deleted the
	// ISAKMP SA west has).
	restart bool
}

func hostileCases(t *testing.T) []hostileCase {
	trunc := func(h *hostile, cut int, fix bool) []byte {
		b, _ := h.mi1(nil)
		b = b[:cut]
		if fix && cut >= 28 {
			binary.BigEndian.PutUint32(b[24:], uint32(cut))
		}
		return b
	}
	withLen := func(h *hostile, n uint32) []byte {
		b, _ := h.mi1(nil)
		binary.BigEndian.PutUint32(b[24:], n)
		return b
	}
	return []hostileCase{
		// ---- framing ----
		{name: "truncated-header", send: func(h *hostile) { h.fromStranger(trunc(h, 20, false)) },
			want: `dropping malformed packet`},
		{name: "truncated-payload", send: func(h *hostile) { h.fromStranger(trunc(h, 60, true)) },
			want: `dropping malformed packet`},
		{name: "length-too-large", send: func(h *hostile) { b, _ := h.mi1(nil); h.fromStranger(withLen(h, uint32(len(b)+100))) },
			want: `dropping malformed packet`},
		{name: "length-too-small", send: func(h *hostile) { h.fromStranger(withLen(h, 32)) },
			want: `dropping malformed packet`},
		{name: "CVE-2004-0403-length-huge", send: func(h *hostile) { h.fromStranger(withLen(h, 0xffffffff)) },
			want: `dropping malformed packet`},
		{name: "payload-length-too-large", send: func(h *hostile) {
			b, _ := h.mi1(nil)
			binary.BigEndian.PutUint16(b[30:], 0xffff)
			h.fromStranger(b)
		}, want: `dropping malformed packet`},
		{name: "payload-length-too-small", send: func(h *hostile) {
			b, _ := h.mi1(nil)
			binary.BigEndian.PutUint16(b[30:], 3)
			h.fromStranger(b)
		}, want: `dropping malformed packet`},
		{name: "payload-loop-zero-length", send: func(h *hostile) {
			// A payload of length 0 would have a naive parser read it forever.
			b, _ := h.mi1(nil, &payloads.VendorID{Data: []byte{1}})
			binary.BigEndian.PutUint16(b[len(b)-3:], 0)
			h.fromStranger(b)
		}, want: `dropping malformed packet`},
		{name: "payload-chain-20000-empty", send: func(h *hostile) {
			// 20,000 empty payloads: long, linear, bounded work.
			ps := make([]payloads.Payload, 15000)
			for i := range ps {
				ps[i] = &payloads.VendorID{}
			}
			b, _ := h.mi1(nil, ps...)
			h.fromStranger(b)
		}, want: `dropping malformed packet: .*more than 64 payloads`},
		{name: "unknown-critical-payload", send: func(h *hostile) {
			b, _ := h.mi1(nil, &payloads.Unknown{PayloadType: 200, Data: []byte("critical?")})
			b[len(b)-12] = 0x80 // the reserved octet (IKEv2's critical bit)
			h.fromStranger(b)
		}, want: `payload type 200 is not understood`},
		{name: "unknown-payload", send: func(h *hostile) {
			b, _ := h.mi1(nil, &payloads.Unknown{PayloadType: 77, Data: []byte("x")})
			h.fromStranger(b)
		}, want: `payload type 77 is not understood`},
		{name: "attribute-flood", send: func(h *hostile) {
			b, _ := h.mi1(func(sa *payloads.SA) {
				tr := &sa.Proposals[0].Transforms[0]
				for i := range 6000 {
					tr.Attributes = append(tr.Attributes, payloads.NewTV(uint16(16384+i%1000), 1))
				}
			})
			h.fromStranger(b)
		}, want: `more than 128 attributes \(BAD_PROPOSAL_SYNTAX\)`},
		{name: "huge-sa-proposal", send: func(h *hostile) {
			b, _ := h.mi1(func(sa *payloads.SA) {
				p := &sa.Proposals[0]
				base := p.Transforms[0]
				p.Transforms = nil
				for i := range 255 {
					tr := base
					tr.Number = uint8(i + 1)
					tr.Attributes = append([]payloads.Attribute(nil), base.Attributes...)
					setAttr(&tr, uint16(spec.OakleyEncryptionAlgorithm), 65000+uint16(i%100)) // nothing we know
					tr.Attributes = append(tr.Attributes, payloads.Attribute{Type: 16300, Value: make([]byte, 200)})
					p.Transforms = append(p.Transforms, tr)
				}
			})
			h.fromStranger(b)
		}, want: `no acceptable Oakley Transform: peer offered OAKLEY_ENCRYPTION\(65000\)/128`},
		{name: "zero-initiator-cookie", send: func(h *hostile) {
			b, _ := h.mi1(nil)
			copy(b[:8], make([]byte, 8))
			h.fromStranger(b)
		}, want: `zero initiator cookie`},
		{name: "first-message-encrypted", send: func(h *hostile) {
			b, _ := h.mi1(nil)
			b[19] |= spec.FlagEncryption
			h.fromStranger(b)
		}, want: `Encrypted Flag is on`},
		{name: "wrong-message-id-main", send: func(h *hostile) {
			b, _ := h.mi1(nil)
			binary.BigEndian.PutUint32(b[20:], 0x1234)
			h.fromStranger(b)
		}, want: `non-zero Message ID 00001234`},
		{name: "wrong-message-id-quick-zero", send: func(h *hostile) {
			s := h.isakmp()
			h.fromWest(s.seal(spec.ExchangeQuick, 0, []payloads.Payload{quickSA(h.t), &payloads.Nonce{Data: make([]byte, 16)}}, false))
		}, want: `Quick Mode message with Message ID 0 is invalid`},
		{name: "quick-from-another-address", send: func(h *hostile) {
			s := h.isakmp()
			h.fromStranger(s.seal(spec.ExchangeQuick, 77, []payloads.Payload{quickSA(h.t), &payloads.Nonce{Data: make([]byte, 16)}}, false))
		}, want: `Quick Mode message from 127\.0\.0\.3:\d+, but the ISAKMP SA peer is 127\.0\.0\.1`},
		{name: "unsupported-exchange", send: func(h *hostile) {
			s := h.isakmp()
			h.fromWest(s.seal(spec.ExchangeNewGroup, 5, []payloads.Payload{&payloads.Nonce{Data: []byte{1}}}, false))
		}, want: `unsupported exchange type NEW_GROUP`},
		{name: "encrypted-garbage-informational", send: func(h *hostile) {
			s := h.isakmp()
			body := make([]byte, 64)
			crand.Read(body)
			hd := payloads.Header{ICookie: s.ic, RCookie: s.rc, Version: payloads.Version, Exchange: spec.ExchangeInfo,
				Flags: spec.FlagEncryption, MessageID: 0x5151, NextPayload: spec.PayloadHash, Length: uint32(28 + len(body))}
			h.fromWest(append(hd.Append(nil), body...))
		}, want: `dropping Informational Exchange message: message does not decrypt to valid payloads`},
		{name: "encrypted-garbage-quick", send: func(h *hostile) {
			s := h.isakmp()
			body := make([]byte, 96)
			crand.Read(body)
			hd := payloads.Header{ICookie: s.ic, RCookie: s.rc, Version: payloads.Version, Exchange: spec.ExchangeQuick,
				Flags: spec.FlagEncryption, MessageID: 0x6161, NextPayload: spec.PayloadHash, Length: uint32(28 + len(body))}
			h.fromWest(append(hd.Append(nil), body...))
		}, want: `STATE_QUICK_R0: message does not decrypt to valid payloads`},
		{name: "encrypted-garbage-unknown-cookies", send: func(h *hostile) {
			body := make([]byte, 64)
			crand.Read(body)
			hd := payloads.Header{ICookie: h.cookie(), RCookie: h.cookie(), Version: payloads.Version, Exchange: spec.ExchangeInfo,
				Flags: spec.FlagEncryption, MessageID: 9, NextPayload: spec.PayloadHash, Length: uint32(28 + len(body))}
			h.fromStranger(append(hd.Append(nil), body...))
		}, want: `Informational Exchange is for an unknown \(expired\?\) SA`},
		{name: "replay-main-mode", send: func(h *hostile) {
			mm := h.sent(h.westAP, spec.ExchangeIDProt)
			h.fromWest(mm[1], mm[2]) // MI2 and MI3 of the first exchange, again
		}, want: `retransmitting in response to duplicate packet|packet rejected: should have been encrypted|discarding duplicate`},
		{name: "replay-first-message", send: func(h *hostile) {
			// A replayed MI1 makes one half-open state, which is discarded.
			h.fromWest(h.sent(h.westAP, spec.ExchangeIDProt)[0])
		}, want: `STATE_MAIN_R1: sent MR1`},
		{name: "replay-quick-mode", send: func(h *hostile) {
			for _, b := range h.sent(h.westAP, spec.ExchangeQuick) {
				h.fromWest(b)
			}
		}, want: `discarding duplicate packet|unexpected message received in state STATE_QUICK_R2|does not decrypt`},
		{name: "replay-informational", send: func(h *hostile) {
			s := h.isakmp()
			b := s.seal(spec.ExchangeInfo, 0x4242, []payloads.Payload{&payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP,
				SPI: append(s.ic[:], s.rc[:]...), NotifyType: spec.RUThere, Data: []byte{0, 0, 0, 1}}}, false)
			h.fromWest(b, b)
		}, want: `zero or reused Message ID 00004242`},
		{name: "messages-for-deleted-state", restart: true, send: func(h *hostile) {
			s := h.isakmp()
			qm := h.sent(h.westAP, spec.ExchangeQuick)
			if out, code := h.west.whack(h.t, "--name", "west-east", "--terminate"); code != 0 {
				h.t.Fatalf("terminate: %s", out)
			}
			time.Sleep(50 * time.Millisecond) // east acts on the Delete
			h.fromWest(qm[0])
			h.fromWest(s.seal(spec.ExchangeInfo, 0x4343, []payloads.Payload{&payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP,
				SPI: append(s.ic[:], s.rc[:]...), NotifyType: spec.RUThere, Data: []byte{0, 0, 0, 2}}}, false))
		}, want: `Quick Mode message is for a non-existent or unestablished ISAKMP SA`},

		// ---- IKEV1-REFERENCE.md §6.2 ----
		{name: "CVE-2009-0790-dpd-without-state", send: func(h *hostile) {
			ic, rc := h.cookie(), h.cookie()
			n := &payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPI: append(ic[:], rc[:]...),
				NotifyType: spec.RUThere, Data: []byte{0, 0, 0, 1}}
			h.fromStranger(msg(payloads.Header{ICookie: ic, RCookie: rc, Exchange: spec.ExchangeInfo}, n))
			b := msg(payloads.Header{ICookie: ic, RCookie: rc, Exchange: spec.ExchangeInfo, MessageID: 3}, &payloads.Hash{Data: make([]byte, 20)}, n)
			b[19] |= spec.FlagEncryption
			h.fromStranger(b)
		}, want: `Informational Exchange is for an unknown \(expired\?\) SA`},
		{name: "CVE-2009-2185-malformed-x509-in-cr", send: func(h *hostile) {
			b, _ := h.mi1(nil, &payloads.Unknown{PayloadType: spec.PayloadCR, Data: append([]byte{4}, 0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06)})
			h.fromStranger(b)
		}, want: `127\.0\.0\.3 #\d+: STATE_MAIN_R1: sent MR1`},
		{name: "CVE-2010-3302-3308-modecfg-banner", send: func(h *hostile) {
			s := h.isakmp()
			// A Transaction exchange with a 60 KB banner attribute.
			attr := append([]byte{1, 0, 0, 0}, 0x70, 0x04, 0xea, 0x60)
			attr = append(attr, bytes.Repeat([]byte("`reboot`;"), 60000/9)...)
			attr = append(attr, bytes.Repeat([]byte{';'}, 60000-60000/9*9)...)
			h.fromWest(s.seal(spec.ExchangeModeCfg, 0x7a7a, []payloads.Payload{&payloads.Unknown{PayloadType: spec.PayloadAttr, Data: attr}}, false))
		}, want: `unsupported exchange type MODE_CFG|STATE_MAIN_R3: message for STATE_MAIN_R3 has an unexpected payload`},
		{name: "CVE-2011-3380-invalid-key-length", send: func(h *hostile) {
			b, _ := h.mi1(func(sa *payloads.SA) {
				setAttr(&sa.Proposals[0].Transforms[0], uint16(spec.OakleyKeyLength), 7)
			})
			h.fromStranger(b)
		}, want: `invalid key length 7 for OAKLEY_AES_CBC`},
		{name: "CVE-2011-4073-message-while-calculating", send: func(h *hostile) {
			ic, rc := h.responder()
			b := h.mi2(ic, rc, nil, true)
			h.fromStranger(b, b)
		}, want: `message received while calculating. Ignored.|retransmitting in response to duplicate packet; already STATE_MAIN_R2`},
		{name: "CVE-2013-2052-2053-2054-dn-overflow", send: func(h *hostile) {
			ke, _ := oakley.GroupByID(spec.GroupMODP2048)
			k, _ := ke.GenerateKey(crand.Reader)
			dn := append([]byte{0x30, 0x82, 0xff, 0xff, 0x31, 0x84}, bytes.Repeat([]byte{0x41}, 3000)...)
			b := msg(payloads.Header{ICookie: h.cookie(), Exchange: spec.ExchangeAggressive}, h.phase1SA(),
				&payloads.KE{Data: k.Public()}, &payloads.Nonce{Data: make([]byte, 32)},
				&payloads.ID{IDType: spec.IDDerASN1DN, Data: dn})
			h.fromStranger(b)
		}, want: `no suitable connection for peer 'ID_DER_ASN1_DN:3082ffff`},
		{name: "CVE-2013-6075-dn-id-length", send: func(h *hostile) {
			ke, _ := oakley.GroupByID(spec.GroupMODP2048)
			k, _ := ke.GenerateKey(crand.Reader)
			b := msg(payloads.Header{ICookie: h.cookie(), Exchange: spec.ExchangeAggressive}, h.phase1SA(),
				&payloads.KE{Data: k.Public()}, &payloads.Nonce{Data: make([]byte, 32)},
				&payloads.ID{IDType: spec.IDDerASN1DN, Data: []byte{0x30}})
			h.fromStranger(b)
		}, want: `no suitable connection for peer 'ID_DER_ASN1_DN:30'`},
		{name: "CVE-2013-6466-2014-2037-missing-payload", send: func(h *hostile) {
			ic, rc := h.responder()
			h.fromStranger(h.mi2(ic, rc, nil, false))
		}, want: `STATE_MAIN_R1: message for STATE_MAIN_R1 is missing a payload of type NONCE`},
		{name: "CVE-2015-3240-zero-ke", send: func(h *hostile) {
			ic, rc := h.responder()
			h.fromStranger(h.mi2(ic, rc, make([]byte, 256), true))
		}, want: `peer's KE is unusable`},
		{name: "CVE-2015-3204-fuzzed-first-message", send: func(h *hostile) {
			for range 80 {
				b, _ := h.mi1(nil)
				for range 1 + h.r.IntN(4) {
					b[h.r.IntN(len(b))] ^= byte(1 + h.r.IntN(255))
				}
				h.fromStranger(b)
			}
		}, want: `dropping malformed packet|NO_PROPOSAL_CHOSEN|STATE_MAIN_R1`},
		{name: "CVE-2016-5361-no-responder-retransmission", send: func(h *hostile) {
			// From an address of its own (the stranger's rate is spent).
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.4")})
			if err != nil {
				h.t.Skipf("cannot bind 127.0.0.4: %v", err)
			}
			defer c.Close()
			b, _ := h.mi1(nil)
			if _, err := c.WriteToUDPAddrPort(b, h.eastAP); err != nil {
				h.t.Fatal(err)
			}
			// Longer than the first-response timeout and three retransmit intervals.
			answers := 0
			buf := make([]byte, 65536)
			c.SetReadDeadline(time.Now().Add(900 * time.Millisecond))
			for {
				if _, err := c.Read(buf); err != nil {
					break
				}
				answers++
			}
			if answers != 1 {
				h.t.Errorf("one MI1 got %d answers (a responder must not retransmit)", answers)
			}
		}, want: `127\.0\.0\.4 #\d+: discarding half-open state STATE_MAIN_R1`},
		{name: "CVE-2019-10155-informational-hash", send: func(h *hostile) {
			s := h.isakmp()
			d := &payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{append(s.ic[:], s.rc[:]...)}}
			h.fromWest(s.seal(spec.ExchangeInfo, 0x1015, []payloads.Payload{d}, true))
		}, want: `received HASH\(1\) does not match computed value in Informational Exchange`},
		{name: "CVE-2020-1763-logging-crafted-informational", send: func(h *hostile) {
			ic := h.cookie()
			h.fromStranger(msg(payloads.Header{ICookie: ic, Exchange: spec.ExchangeInfo},
				&payloads.Notify{DOI: spec.DOIIPsec, Protocol: 77, SPI: make([]byte, 200), NotifyType: 65535, Data: bytes.Repeat([]byte{'%'}, 3000)},
				&payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3, 4}, {5, 6, 7, 8}}}))
		}, want: `ignoring informational payload, type NOTIFY\(65535\)`},
		{name: "CVE-2022-23094-no-state", send: func(h *hostile) {
			ic, rc := h.responder() // a state exists, but no ISAKMP SA
			h.fromStranger(msg(payloads.Header{ICookie: ic, RCookie: rc, Exchange: spec.ExchangeQuick, MessageID: 5, Flags: spec.FlagEncryption},
				&payloads.Hash{Data: make([]byte, 20)}))
			h.fromStranger(msg(payloads.Header{ICookie: ic, RCookie: rc, Exchange: spec.ExchangeInfo, MessageID: 6, Flags: spec.FlagEncryption},
				&payloads.Hash{Data: make([]byte, 20)}))
		}, want: `Quick Mode message is for a non-existent or unestablished ISAKMP SA`},
		{name: "CVE-2023-30570-aggressive-responder-cookie", send: func(h *hostile) {
			ke, _ := oakley.GroupByID(spec.GroupMODP2048)
			k, _ := ke.GenerateKey(crand.Reader)
			ps := []payloads.Payload{h.phase1SA(), &payloads.KE{Data: k.Public()}, &payloads.Nonce{Data: make([]byte, 32)},
				&payloads.ID{IDType: spec.IDIPv4Addr, Data: []byte{127, 0, 0, 3}}}
			h.fromStranger(msg(payloads.Header{ICookie: h.cookie(), RCookie: h.cookie(), Exchange: spec.ExchangeAggressive}, ps...))
			ic, rc := h.responder() // a Main Mode state: Aggressive Mode for it
			h.fromStranger(msg(payloads.Header{ICookie: ic, RCookie: rc, Exchange: spec.ExchangeAggressive}, ps...))
		}, want: `ISAKMP_XCHG_AGGR message for a state in STATE_MAIN_R1|AGGR.* message for a state in STATE_MAIN_R1`},
		{name: "CVE-2023-38711-quick-mode-id-types", send: func(h *hostile) {
			s := h.isakmp()
			ps := []payloads.Payload{quickSA(h.t), &payloads.Nonce{Data: make([]byte, 32)},
				&payloads.ID{IDType: spec.IDIPv4AddrRange, Data: []byte{10, 1, 0, 0, 10, 1, 0, 255}},
				&payloads.ID{IDType: spec.IDFQDN, Data: []byte("east.example")}}
			h.fromWest(s.seal(spec.ExchangeQuick, 0x3871, ps, false))
			ps[2] = &payloads.ID{IDType: spec.IDIPv6AddrRange, Data: []byte{1}}
			h.fromWest(s.seal(spec.ExchangeQuick, 0x3872, ps, false))
		}, want: `ID_FQDN with 12 octets is not a usable traffic selector`},
		{name: "CVE-2023-38712-repeated-delete", restart: true, send: func(h *hostile) {
			s := h.isakmp()
			spi := append(s.ic[:], s.rc[:]...)
			d := &payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{spi}}
			n := &payloads.Notify{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPI: spi, NotifyType: spec.RUThere, Data: []byte{0, 0, 0, 9}}
			d2 := &payloads.Delete{DOI: spec.DOIIPsec, Protocol: spec.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{spi, spi}}
			h.fromWest(s.seal(spec.ExchangeInfo, 0x3712, []payloads.Payload{d, n, d2, n}, false))
		}, want: `received Delete SA payload: deleting ISAKMP State`},
		{name: "CVE-2024-3652-peer-chosen-gmac", send: func(h *hostile) {
			s := h.isakmp()
			sa := quickSA(h.t)
			tr := &sa.Proposals[0].Transforms[0]
			tr.ID = 23         // ESP_NULL_AUTH_AES_GMAC
			setAttr(tr, 5, 11) // AUTH_ALGORITHM AES-GMAC-128 (with ESP: nonsense)
			sa.Proposals = append(sa.Proposals, payloads.Proposal{Number: 1, Protocol: spec.ProtoAH, SPI: []byte{1, 2, 3, 4},
				Transforms: []payloads.Transform{{Number: 1, ID: 11, Attributes: []payloads.Attribute{payloads.NewTV(5, 11), payloads.NewTV(4, 1)}}}})
			h.fromWest(s.seal(spec.ExchangeQuick, 0x3652, []payloads.Payload{sa, &payloads.Nonce{Data: make([]byte, 32)},
				subnetID("10.1.0.0/24"), subnetID("10.2.0.0/24")}, false))
		}, want: `no acceptable Proposal in IPsec SA: peer offered ESP_NULL_AUTH_AES_GMAC`},
		{name: "CVE-2013-6076-2009-1574-fragment", send: func(h *hostile) {
			b, _ := h.mi1(nil, &payloads.Unknown{PayloadType: spec.PayloadFragment, Data: []byte{0, 1, 1, 1, 0xde, 0xad}})
			h.fromStranger(b)
		}, want: `payload type 132 is not understood`},
		{name: "CVE-2016-10396-fragment-flood", send: func(h *hostile) {
			ps := make([]payloads.Payload, 3000)
			for i := range ps {
				ps[i] = &payloads.Unknown{PayloadType: spec.PayloadFragment, Data: []byte{0, 1, byte(i >> 8), byte(i), 0, 'x'}}
			}
			h.fromStranger(msg(payloads.Header{ICookie: h.cookie(), Exchange: spec.ExchangeIDProt}, ps...))
		}, want: `dropping malformed packet: .*more than 64 payloads`},
		{name: "CVE-2014-9221-private-dh-group", send: func(h *hostile) {
			b, _ := h.mi1(func(sa *payloads.SA) {
				setAttr(&sa.Proposals[0].Transforms[0], uint16(spec.OakleyGroupDescription), 1025)
			})
			h.fromStranger(b)
		}, want: `OAKLEY_GROUP\(1025\) is not supported`},
		{name: "CVE-2015-3991-ikev2-in-ikev1", send: func(h *hostile) {
			b, _ := h.mi1(nil)
			b[17] = 0x20 // IKEv2
			h.fromStranger(b)
			b, _ = h.mi1(nil, &payloads.Unknown{PayloadType: 33, Data: make([]byte, 8)}) // an IKEv2 SA payload
			h.fromStranger(b)
		}, want: `payload type 33 is not understood`},
		{name: "CVE-2015-4047-gssapi-xauth-auth-method", send: func(h *hostile) {
			b, _ := h.mi1(func(sa *payloads.SA) {
				setAttr(&sa.Proposals[0].Transforms[0], uint16(spec.OakleyAuthenticationMethod), 65001)
			})
			h.fromStranger(b)
		}, want: `XAUTHInitPreShared \(XAUTH/hybrid\) is not supported`},
		{name: "CVE-2018-5389-rsa-encryption-auth", send: func(h *hostile) {
			b, _ := h.mi1(func(sa *payloads.SA) {
				setAttr(&sa.Proposals[0].Transforms[0], uint16(spec.OakleyAuthenticationMethod), 4) // RSA encryption
			})
			h.fromStranger(b)
		}, want: `authentication OAKLEY_RSA_ENC, we use OAKLEY_PRESHARED_KEY`},
	}
}

// TestHostileUDP runs the malformed-packet suite against a running pluto.
func TestHostileUDP(t *testing.T) {
	h := newHostile(t)
	start := time.Now()
	cases := hostileCases(t)
	for _, c := range cases {
		ok := t.Run(c.name, func(t *testing.T) {
			h.t = t
			mark := len(h.east.log.String())
			c.send(h)
			re := regexp.MustCompile(c.want)
			deadline := time.Now().Add(2 * time.Second)
			for !re.MatchString(h.east.log.String()[mark:]) {
				if time.Now().After(deadline) {
					t.Fatalf("east's log does not say %q:\n%s\nwest:\n%s", c.want, tail(h.east.log.String()[mark:], 40), tail(h.west.log.String(), 5))
				}
				time.Sleep(5 * time.Millisecond)
			}
			for _, l := range strings.Split(h.east.log.String()[mark:], "\n") {
				if re.MatchString(l) {
					t.Logf("east: %s", l)
					break
				}
			}
			if c.restart {
				// West's ISAKMP SA may be gone on east: start over.
				h.west.whack(t, "--name", "west-east", "--terminate")
			}
			h.negotiate(c.name)
		})
		if !ok {
			break
		}
	}
	h.t = t
	// The half-open states the suite made go away.
	time.Sleep(1600 * time.Millisecond)
	var halfOpen int
	h.east.d.Do(func() { halfOpen = h.east.d.m.HalfOpen() })
	if halfOpen != 0 {
		st, _ := h.east.whack(t, "--status")
		t.Errorf("%d half-open states left:\n%s", halfOpen, st)
	}
	h.west.whack(t, "--name", "west-east", "--terminate")
	h.negotiate("the suite (a full Main Mode)")
	// Peers chose much of what was logged: no line is unbounded (CVE-2020-1763).
	for _, l := range strings.Split(h.east.log.String(), "\n") {
		if len(l) > maxLogLine+64 {
			t.Errorf("a log line of %d octets: %.200s...", len(l), l)
		}
	}
	if !strings.Contains(h.east.log.String(), "more octets)") {
		t.Error("the 3000-octet DN was logged whole")
	}
	t.Logf("%d hostile cases in %v; whack --status answered within %v every time", len(cases), time.Since(start).Round(time.Millisecond), h.statusMax.Round(time.Microsecond))
}

// TestHostileSignatures: the signature and certificate CVEs over UDP. A
// stranger at 127.0.0.5 runs Main Mode with signatures against east up to
// MI3 (it knows the keys: SKEYID for signatures needs no secret), then sends
// MI3s east must refuse: an empty signature (CVE-2013-2944), garbage of the
// right length and a signature by another key (CVE-2018-15836, racoon's
// CVE-2004-0155/0164/0607: never accept an unverified signature), a
// signature over another hash, and a malformed certificate (CVE-2009-2185,
// CVE-2017-11185 and CVE-2018-16151/16152/17540 class: robust DER). The
// refused MI3s leave east's state waiting, the genuine peer still
// negotiates, and a correct MI3 is then accepted: the refusals were the
// checks, not a broken exchange.
func TestHostileSignatures(t *testing.T) {
	eastKey, _ := rsa.GenerateKey(crand.Reader, 2048)
	peerKey, _ := rsa.GenerateKey(crand.Reader, 2048)
	otherKey, _ := rsa.GenerateKey(crand.Reader, 2048)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.5")})
	if err != nil {
		t.Skipf("cannot bind 127.0.0.5: %v", err)
	}
	defer c.Close()
	peerAP := netip.AddrPortFrom(mustAddr("127.0.0.5"), uint16(c.LocalAddr().(*net.UDPAddr).Port))
	west := startDaemon(t, "127.0.0.1", psk, 200*time.Millisecond)
	east := startDaemon(t, "127.0.0.2", psk+": RSA "+writeKey(t, eastKey)+"\n", 200*time.Millisecond)
	addConn(t, west, west, east)
	addConn(t, east, west, east)
	if out, code := east.whack(t, "--name", "sig", "--host", "127.0.0.2", "--ikeport", itoa(east.port),
		"--to", "--host", "127.0.0.5", "--ikeport", itoa(int(peerAP.Port())), "--rsasig", "--encrypt", "--tunnel",
		"--ike", hostileIKE); code != 0 {
		t.Fatalf("add: %d %s", code, out)
	}
	if out, code := east.whack(t, "--keyid", "127.0.0.5", "--pubkeyrsa", pubkeyArg(peerKey)); code != 0 {
		t.Fatalf("key: %d %s", code, out)
	}
	eastAP := netip.AddrPortFrom(mustAddr("127.0.0.2"), uint16(east.port))
	exchange := func(b []byte) []byte {
		t.Helper()
		if _, err := c.WriteToUDPAddrPort(b, eastAP); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 65536)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no answer: %v\n%s", err, tail(east.log.String(), 20))
		}
		return bytes.Clone(buf[:n])
	}
	ike, _ := proposal.ParseIKE(hostileIKE)
	sa := proposal.BuildPhase1SA(proposal.Phase1Policy{Algs: ike, Auth: spec.AuthRSASig, Lifetime: time.Hour})
	ic := [8]byte{0x51, 0x61}
	mr1, err := payloads.DecodeMessage(exchange(msg(payloads.Header{ICookie: ic, Exchange: spec.ExchangeIDProt}, sa)))
	if err != nil || mr1.Find(spec.PayloadSA) == nil {
		t.Fatalf("MR1: %v\n%s", err, tail(east.log.String(), 10))
	}
	rc := mr1.Header.RCookie
	g, _ := oakley.GroupByID(spec.GroupMODP2048)
	dh, _ := g.GenerateKey(crand.Reader)
	ni := bytes.Repeat([]byte{0x11}, 32)
	mr2, err := payloads.DecodeMessage(exchange(msg(payloads.Header{ICookie: ic, RCookie: rc, Exchange: spec.ExchangeIDProt},
		&payloads.KE{Data: dh.Public()}, &payloads.Nonce{Data: ni})))
	if err != nil || mr2.Find(spec.PayloadKE) == nil {
		t.Fatalf("MR2: %v", err)
	}
	gxr := mr2.Find(spec.PayloadKE).(*payloads.KE).Data
	nr := mr2.Find(spec.PayloadNonce).(*payloads.Nonce).Data
	gxy, err := dh.SharedSecret(gxr)
	if err != nil {
		t.Fatal(err)
	}
	prf, _ := oakley.NewPRF(spec.OakleySHA1)
	ciph, _ := oakley.NewCipher(spec.OakleyAESCBC, 128)
	set := oakley.DeriveKeySet(prf, oakley.SKEYIDSig(prf, ni, nr, gxy), gxy, ic[:], rc[:])
	key := oakley.EncryptionKey(prf, set.E, ciph.KeyLen)
	iv := oakley.Phase1IV(prf, dh.Public(), gxr, ciph.BlockSize)
	id := &payloads.ID{IDType: spec.IDIPv4Addr, Data: []byte{127, 0, 0, 5}}
	payloads.EncodePayloads([]payloads.Payload{id}) // sets its body for HASH_I
	hashI := oakley.HashI(prf, set.SKEYID, dh.Public(), gxr, ic[:], rc[:], sa.Body(), id.Body())
	mi3 := func(ps ...payloads.Payload) []byte {
		chain := payloads.EncodePayloads(append([]payloads.Payload{id}, ps...))
		ct, _ := ciph.Encrypt(key, iv, chain)
		hd := payloads.Header{ICookie: ic, RCookie: rc, Version: payloads.Version, Exchange: spec.ExchangeIDProt,
			Flags: spec.FlagEncryption, NextPayload: spec.PayloadID, Length: uint32(spec.HeaderLen + len(ct))}
		return append(hd.Append(nil), ct...)
	}
	sign := func(k *rsa.PrivateKey, h []byte) []byte {
		s, err := oakley.SignHash(k, h)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	garbage := make([]byte, 256)
	crand.Read(garbage)
	otherHash := bytes.Clone(hashI)
	otherHash[0] ^= 1
	cases := []struct {
		name string
		ps   []payloads.Payload
		want string
	}{
		{"CVE-2013-2944-empty-signature", []payloads.Payload{&payloads.Sig{}}, `RSA Signature check \(on 127\.0\.0\.5\) failed`},
		{"CVE-2018-15836-garbage-signature", []payloads.Payload{&payloads.Sig{Data: garbage}}, `RSA Signature check \(on 127\.0\.0\.5\) failed`},
		{"CVE-2004-0155-0164-0607-other-key", []payloads.Payload{&payloads.Sig{Data: sign(otherKey, hashI)}}, `RSA Signature check \(on 127\.0\.0\.5\) failed`},
		{"signature-over-another-hash", []payloads.Payload{&payloads.Sig{Data: sign(peerKey, otherHash)}}, `RSA Signature check \(on 127\.0\.0\.5\) failed`},
		{"CVE-2009-2185-2017-11185-malformed-certificate", []payloads.Payload{
			&payloads.Cert{Encoding: spec.CertX509Signature, Data: []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xf0, 0x30, 0x03, 0x02, 0x01}},
			&payloads.Sig{Data: garbage}}, `X\.509 certificate of '127\.0\.0\.5' refused: certificate 1 does not parse`},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			mark := len(east.log.String())
			if _, err := c.WriteToUDPAddrPort(mi3(cs.ps...), eastAP); err != nil {
				t.Fatal(err)
			}
			re := regexp.MustCompile(cs.want)
			deadline := time.Now().Add(2 * time.Second)
			for !re.MatchString(east.log.String()[mark:]) {
				if time.Now().After(deadline) {
					t.Fatalf("east's log does not say %q:\n%s", cs.want, tail(east.log.String()[mark:], 20))
				}
				time.Sleep(5 * time.Millisecond)
			}
			for _, l := range strings.Split(east.log.String()[mark:], "\n") {
				if re.MatchString(l) {
					t.Logf("east: %s", l)
					break
				}
			}
			if strings.Contains(east.log.String()[mark:], "ISAKMP SA established") {
				t.Fatalf("east accepted it:\n%s", east.log.String()[mark:])
			}
			if out, code := west.whack(t, "--name", "west-east", "--initiate"); code != 0 {
				t.Fatalf("west cannot negotiate after it: %d\n%s", code, out)
			}
		})
	}
	// The genuine MI3 on the same exchange is accepted.
	mark := len(east.log.String())
	exchange(mi3(&payloads.Sig{Data: sign(peerKey, hashI)}))
	for i := 0; i < 100 && !strings.Contains(east.log.String()[mark:], "ISAKMP SA established"); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(east.log.String()[mark:], `"sig" #`) || !strings.Contains(east.log.String()[mark:], "ISAKMP SA established") {
		t.Errorf("the genuine MI3 was refused:\n%s", east.log.String()[mark:])
	}
}

// TestRoadWarriorInstancesSwept: first messages from thousands of addresses
// to a %any connection make an instance each; those no state uses are
// forgotten when their number doubles, those in use stay.
func TestRoadWarriorInstancesSwept(t *testing.T) {
	east := startDaemon(t, "127.0.0.2", "127.0.0.2 %any : PSK \"road-warrior-secret-0123\"\n", 10*time.Second)
	if out, code := east.whack(t, "--name", "rw", "--host", "127.0.0.2", "--ikeport", itoa(east.port),
		"--to", "--host", "%any", "--psk", "--encrypt", "--tunnel", "--ike", hostileIKE); code != 0 {
		t.Fatalf("add rw: %d %s", code, out)
	}
	// A half-open state from 127.0.0.3 (its instance is in use).
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.3")})
	if err != nil {
		t.Skipf("cannot bind 127.0.0.3: %v", err)
	}
	defer c.Close()
	ike, _ := proposal.ParseIKE(hostileIKE)
	sa := proposal.BuildPhase1SA(proposal.Phase1Policy{Algs: ike, Auth: spec.AuthPSK, Lifetime: time.Hour})
	eastAP := netip.AddrPortFrom(mustAddr("127.0.0.2"), uint16(east.port))
	c.WriteToUDPAddrPort(msg(payloads.Header{ICookie: [8]byte{1, 2, 3}, Exchange: spec.ExchangeIDProt}, sa), eastAP)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 4096)); err != nil {
		t.Fatalf("no MR1: %v", err)
	}
	var count int
	east.d.Do(func() {
		for i := range 3000 {
			a := netip.AddrFrom4([4]byte{198, 51, byte(100 + i/256), byte(i)})
			east.d.ResponderConn(eastAP, netip.AddrPortFrom(a, 500))
		}
		count = len(east.d.instances)
	})
	if count >= 2048 || !strings.Contains(east.log.String(), "Road Warrior instances without states") {
		t.Errorf("%d instances after 3000 spoofed peers", count)
	}
	st, _ := east.whack(t, "--status")
	if !regexp.MustCompile(`"rw"\[1\] 127\.0\.0\.3`).MatchString(st) || !strings.Contains(st, "STATE_MAIN_R1") {
		t.Errorf("the instance in use was forgotten:\n%s", tail(st, 10))
	}
	t.Logf("3000 spoofed peers: %d instances left", count)
}
