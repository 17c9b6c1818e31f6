package proposal

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"goswan/payloads"
	"goswan/spec"
)

// fuzzPolicies are the policies every fuzzed SA is checked against.
func fuzzPolicies() ([]Phase1Policy, []Phase2Policy) {
	p1 := []Phase1Policy{
		{Auth: spec.AuthPSK},
		{Algs: []IKEAlg{{Enc: spec.OakleyAESCBC, KeyLen: 128, Hash: spec.OakleySHA1, Group: spec.GroupMODP2048}}, Auth: spec.AuthPSK},
		{Algs: []IKEAlg{{Enc: spec.Oakley3DESCBC, Hash: spec.OakleyMD5, Group: spec.GroupMODP1024},
			{Enc: spec.Oakley3DESCBC, Hash: spec.OakleyMD5, Group: spec.GroupMODP1536}}, Auth: spec.AuthPSK},
		{Auth: spec.AuthRSASig},
	}
	esp := append(DefaultESP(), ESPAlg{Enc: spec.ESP3DES, Integ: spec.AuthAlgHMACMD5}, ESPAlg{Enc: spec.ESPAES, KeyLen: 128, Integ: spec.AuthAlgHMACSHA1})
	p2 := []Phase2Policy{
		{ESP: esp, Mode: spec.EncapTunnel},
		{ESP: esp, Mode: spec.EncapTunnel, PFSGroup: spec.GroupMODP1024},
		{ESP: esp, Mode: spec.EncapTunnel, PFSGroup: spec.GroupMODP1536},
		{ESP: esp, AH: DefaultAH(), Compress: true, Mode: spec.EncapTransport},
		{AH: append(DefaultAH(), AHAlg{Integ: spec.AuthAlgHMACMD5}), Mode: spec.EncapTunnel},
	}
	return p1, p2
}

// checkErr fails unless err is nil or a *Error with a notification.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Notify == spec.NotifyNone || e.Reason == "" {
		t.Fatalf("bad error %#v", err)
	}
	if len(e.Reason) > 8192 {
		t.Fatalf("reason of %d octets", len(e.Reason))
	}
}

// FuzzSelect decodes an SA payload body and runs every selection function
// on it: none may panic, errors are *Error, and a responder's reply is one
// the initiator with the same policy accepts, with the same result.
func FuzzSelect(f *testing.F) {
	for _, name := range []string{"mm1-lsw", "mm2-ss-to-lsw", "mm1-lsw-rsa", "mm1-ss", "mm2-ss", "mm1-ss-3des1024", "mm1-ss-3des1536", "mm2-lsw-3des1536"} {
		f.Add(mmSA(f, name).Body())
	}
	for _, name := range []string{"qm1-lsw", "qm2-ss-to-lsw", "qm1-ss", "qm2-ss", "qm1-ss-pfs1024", "qm2-ss-pfs1024", "qm1-ss-pfs1536", "qm2-lsw-pfs1536"} {
		f.Add(qmSA(f, name).Body())
	}
	f.Add(body(BuildPhase1SA(Phase1Policy{Auth: spec.AuthPSK})))
	ah := DefaultAH()
	f.Add(body(BuildPhase2SA(Phase2Policy{ESP: DefaultESP(), AH: ah, Compress: true, PFSGroup: spec.GroupMODP2048},
		ourESP, ourAH, ourCPI)))
	f.Add(body(BuildPhase2SA(Phase2Policy{ESP: DefaultESP(), Compress: true, Mode: spec.EncapTransport}, ourESP, nil, ourCPI)))

	p1s, p2s := fuzzPolicies()
	f.Fuzz(func(t *testing.T, b []byte) {
		sa, ok := decodeSABody(b)
		if !ok {
			return
		}
		for _, p := range p1s {
			for _, max := range []time.Duration{0, 2 * time.Hour} {
				c, err := SelectPhase1(sa, p, max)
				checkErr(t, err)
				if err == nil {
					r, err := AcceptPhase1Reply(roundTrip(t, c.Reply), p, max)
					if err != nil {
						t.Fatalf("own reply refused: %v", err)
					}
					if r.Alg != c.Alg || r.Auth != c.Auth || r.Lifetime != c.Lifetime {
						t.Fatalf("reply accepted as %+v, chosen %+v", r, c)
					}
				}
				_, err = AcceptPhase1Reply(sa, p, max)
				checkErr(t, err)
			}
		}
		for _, p := range p2s {
			for _, cpi := range [][]byte{nil, ourCPI} {
				c, err := SelectPhase2(sa, p, time.Hour, ourESP, ourAH, cpi)
				checkErr(t, err)
				if err == nil {
					// The initiator proposed the group and the
					// compression the responder chose.
					q := p
					q.PFSGroup, q.Compress = c.PFSGroup, c.IPComp
					r, err := AcceptPhase2Reply(roundTrip(t, c.Reply), q, time.Hour)
					if err != nil {
						t.Fatalf("own reply refused: %v", err)
					}
					if (r.ESP == nil) != (c.ESP == nil) || (r.ESP != nil && *r.ESP != *c.ESP) ||
						(r.AH == nil) != (c.AH == nil) || (r.AH != nil && *r.AH != *c.AH) ||
						r.IPComp != c.IPComp || r.Lifetime != c.Lifetime || r.PFSGroup != c.PFSGroup ||
						(c.ESP != nil && !bytes.Equal(r.PeerESPSPI, ourESP)) {
						t.Fatalf("reply accepted as %+v, chosen %+v", r, c)
					}
				}
				_, err = AcceptPhase2Reply(sa, p, 0)
				checkErr(t, err)
			}
		}
	})
}

// The reply of a responder never aliases the received datagram.
func TestReplyDoesNotAlias(t *testing.T) {
	raw := rec(t, "mm1-lsw")
	m, err := payloads.DecodeMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	c, err := SelectPhase1(m.Find(spec.PayloadSA).(*payloads.SA), pskPolicy(t, "aes128-sha1-modp2048"), 0)
	if err != nil {
		t.Fatal(err)
	}
	before := body(c.Reply)
	for i := range raw {
		raw[i] = 0xee
	}
	if after := body(c.Reply); !bytes.Equal(before, after) {
		t.Error("reply changed with the received buffer")
	}
}
