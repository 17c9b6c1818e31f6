// Package ikedump decodes recorded IKEv1 exchanges and, given the keying
// inputs (the pre-shared key and the Diffie-Hellman shared secrets), derives
// every key, decrypts every encrypted message and verifies every hash.
//
// It is the analysis behind the ikedump command (see CONTRACT.md): an interop
// tester feeds it a capture of a failed negotiation and reads which step
// failed. The analysis follows the exchange the way a peer would:
//
//	Main Mode 1-2   SA proposal and choice              -> cipher, PRF, group, auth
//	Main Mode 3-4   KE and nonces                       -> g^xi, g^xr, Ni, Nr
//	keys            SKEYID, SKEYID_d/a/e, Ka, IV        (RFC 2409 §5, App. B)
//	Main Mode 5-6   decrypt, HASH_I / HASH_R or SIG     (RFC 2409 §5.1, §5.4)
//	Quick Mode      per message ID: IV, HASH(1..3), KEYMAT (RFC 2409 §5.5)
//	Informational   IV, HASH(1)                         (RFC 2409 §5.7)
//
// Each step records its outcome; the first failure names the likely cause.
package ikedump

import (
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"

	"goswan/ikedump/capture"
	"goswan/oakley"
	"goswan/payloads"
	"goswan/spec"
)

// Options are the keying inputs. Everything is optional; what cannot be
// computed without them is left out of the report, never invented.
type Options struct {
	PSK     []byte           // pre-shared key, for PSK authentication
	GXY     [][]byte         // g^xy of Main Mode, then of each PFS Quick Mode in order
	PubKeys []*rsa.PublicKey // for signature authentication: SIG payloads are verified with these
}

// Report is the result of an analysis. Its JSON form is the contract's.
type Report struct {
	Messages []MessageReport `json:"messages"`
	Phase1   *Phase1Report   `json:"phase1,omitempty"`
	Quick    []QuickReport   `json:"quick"`

	// Steps is the human-readable trace, in order; failed steps start with "FAILED".
	Steps []string `json:"-"`
	// Failures counts decode errors and hash mismatches; the exit status is 1 when non-zero.
	Failures int `json:"-"`
}

// MessageReport describes one message.
type MessageReport struct {
	Index         int      `json:"index"`
	Frame         int      `json:"frame"`
	Src           string   `json:"src,omitempty"`
	Dst           string   `json:"dst,omitempty"`
	Exchange      string   `json:"exchange"`
	MsgID         string   `json:"msgid"`
	Encrypted     bool     `json:"encrypted"`
	Decrypted     bool     `json:"decrypted"`
	Payloads      []string `json:"payloads"`
	ReencodeEqual bool     `json:"reencode_equal"`
	HashOK        *bool    `json:"hash_ok,omitempty"` // Informational HASH(1), when decrypted
	Error         string   `json:"error"`

	msg *payloads.Message
	pkt capture.Packet
}

// Phase1Report holds the derived Main Mode keys and authentication results.
type Phase1Report struct {
	ICookie   string  `json:"icookie"`
	RCookie   string  `json:"rcookie"`
	Cipher    string  `json:"cipher,omitempty"`
	KeyLen    int     `json:"key_length,omitempty"`
	Hash      string  `json:"hash,omitempty"`
	Auth      string  `json:"auth,omitempty"`
	Group     string  `json:"group,omitempty"`
	SKEYID    *string `json:"skeyid"`
	SKEYIDd   *string `json:"skeyid_d"`
	SKEYIDa   *string `json:"skeyid_a"`
	SKEYIDe   *string `json:"skeyid_e"`
	EncKey    *string `json:"enc_key"`
	IV        *string `json:"iv,omitempty"`
	HashIOK   *bool   `json:"hash_i_ok"`
	HashROK   *bool   `json:"hash_r_ok"`
	LastBlock *string `json:"last_block,omitempty"` // last phase-1 CBC block, the seed of phase-2 IVs
}

// QuickReport holds one Quick Mode exchange.
type QuickReport struct {
	MsgID    string  `json:"msgid"`
	PFS      bool    `json:"pfs"`
	Protocol string  `json:"protocol,omitempty"`
	Hash1OK  *bool   `json:"hash1_ok"`
	Hash2OK  *bool   `json:"hash2_ok"`
	Hash3OK  *bool   `json:"hash3_ok"`
	SPIi     *string `json:"spi_i"`
	SPIr     *string `json:"spi_r"`
	KeymatI  *string `json:"keymat_i"`
	KeymatR  *string `json:"keymat_r"`
}

// phase1 is the working state of a Main Mode analysis.
type phase1 struct {
	rep      *Phase1Report
	icky     []byte
	rcky     []byte
	initAddr netip.AddrPort

	saiB       []byte // SA body of Main Mode 1
	chosen     *payloads.Transform
	prf        oakley.PRF
	cipher     oakley.Cipher
	auth       spec.AuthMethod
	group      *oakley.Group
	gxi, gxr   []byte
	ni, nr     []byte
	keys       oakley.KeySet
	encKey     []byte
	haveKeys   bool
	iv         []byte // CBC chain for message ID 0
	lastP1     []byte // last phase-1 block once Main Mode is complete
	encCount   int    // encrypted Main Mode messages seen
	mainDone   bool
	quickIndex int // how many PFS g^xy values have been consumed
	pubKeys    []*rsa.PublicKey
}

// Analyze decodes packets and, with opts, derives keys and verifies hashes.
func Analyze(pkts []capture.Packet, opts Options) *Report {
	r := &Report{Quick: []QuickReport{}}
	seen := make(map[string]bool)
	var p1 *phase1
	quick := make(map[uint32]*quickState)

	for i, pkt := range pkts {
		mr := MessageReport{Index: i, Frame: pkt.Frame, Payloads: []string{}, pkt: pkt}
		if pkt.Src.IsValid() {
			mr.Src, mr.Dst = pkt.Src.String(), pkt.Dst.String()
		}
		m, err := payloads.DecodeMessage(pkt.Data)
		if err != nil {
			mr.Exchange = "?"
			if len(pkt.Data) >= spec.HeaderLen {
				if h, herr := payloads.ParseHeader(pkt.Data); herr == nil {
					mr.Exchange = h.Exchange.String()
					mr.MsgID = fmt.Sprintf("%08x", h.MessageID)
				}
			}
			mr.Error = err.Error()
			r.fail("message %d (frame %d): decode: %v", i, pkt.Frame, err)
			r.Messages = append(r.Messages, mr)
			continue
		}
		mr.msg = m
		mr.Exchange = m.Header.Exchange.String()
		mr.MsgID = fmt.Sprintf("%08x", m.Header.MessageID)
		mr.Encrypted = m.Header.Flags&spec.FlagEncryption != 0
		mr.ReencodeEqual = string(m.Encode()) == string(pkt.Data)
		if !mr.ReencodeEqual {
			mr.Error = "re-encoding differs from the received bytes"
			r.fail("message %d (frame %d): re-encoding differs from the received bytes", i, pkt.Frame)
		}
		setPayloadNames(&mr)
		r.step("message %d (frame %d)%s: %s msgid %s%s: %s", i, pkt.Frame, addrs(pkt),
			mr.Exchange, mr.MsgID, encMark(mr.Encrypted), payloadList(&mr))

		// A retransmission is byte-identical; it changes no IV and no state.
		key := string(pkt.Data)
		dup := seen[key]
		seen[key] = true
		if dup {
			r.step("  retransmission of an earlier message: skipped for key derivation")
			r.Messages = append(r.Messages, mr)
			continue
		}

		switch m.Header.Exchange {
		case spec.ExchangeIDProt:
			if p1 == nil || (m.Header.RCookie == [8]byte{} && string(p1.icky) != string(m.Header.ICookie[:])) {
				if p1 != nil {
					r.step("  a second Main Mode exchange: only the first is analysed")
				} else {
					p1 = newPhase1(r, m, pkt)
					p1.pubKeys = opts.PubKeys
				}
			}
			if p1 != nil && string(p1.icky) == string(m.Header.ICookie[:]) {
				p1.mainMode(r, &mr, opts)
			}
		case spec.ExchangeQuick:
			if p1 == nil || !p1.mainDone {
				r.step("  Quick Mode before an analysed Main Mode: cannot decrypt")
				break
			}
			qs := quick[m.Header.MessageID]
			if qs == nil {
				qs = &quickState{rep: &QuickReport{MsgID: mr.MsgID}}
				quick[m.Header.MessageID] = qs
				r.Quick = append(r.Quick, QuickReport{})
				qs.index = len(r.Quick) - 1
			}
			p1.quickMode(r, qs, &mr, opts)
			r.Quick[qs.index] = *qs.rep
		case spec.ExchangeInfo:
			if mr.Encrypted && p1 != nil && p1.mainDone {
				p1.informational(r, &mr)
			}
		}
		r.Messages = append(r.Messages, mr)
	}
	if p1 != nil {
		r.Phase1 = p1.rep
		p1.keys.Zero()
	}
	if r.Failures == 0 {
		r.step("result: every message decoded%s", verifiedSuffix(r))
	} else {
		r.step("result: %d failure(s)", r.Failures)
	}
	return r
}

func verifiedSuffix(r *Report) string {
	n := 0
	if p := r.Phase1; p != nil {
		for _, b := range []*bool{p.HashIOK, p.HashROK} {
			if b != nil && *b {
				n++
			}
		}
	}
	for _, q := range r.Quick {
		for _, b := range []*bool{q.Hash1OK, q.Hash2OK, q.Hash3OK} {
			if b != nil && *b {
				n++
			}
		}
	}
	for _, m := range r.Messages {
		if m.HashOK != nil && *m.HashOK {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d hashes verified", n)
}

func (r *Report) step(format string, a ...any) {
	r.Steps = append(r.Steps, fmt.Sprintf(format, a...))
}

func (r *Report) fail(format string, a ...any) {
	r.Failures++
	r.Steps = append(r.Steps, "FAILED: "+fmt.Sprintf(format, a...))
}

func newPhase1(r *Report, m *payloads.Message, pkt capture.Packet) *phase1 {
	p := &phase1{
		rep:      &Phase1Report{ICookie: hex.EncodeToString(m.Header.ICookie[:])},
		icky:     append([]byte(nil), m.Header.ICookie[:]...),
		initAddr: pkt.Src,
	}
	return p
}

// fromInitiator tells whether a Main Mode message was sent by the initiator:
// by address when the capture has addresses, otherwise by its place in the
// exchange (odd messages are the initiator's).
func (p *phase1) fromInitiator(pkt capture.Packet, ordinalOdd bool) bool {
	if p.initAddr.IsValid() && pkt.Src.IsValid() {
		return pkt.Src == p.initAddr
	}
	return ordinalOdd
}

func (p *phase1) mainMode(r *Report, mr *MessageReport, opts Options) {
	m := mr.msg
	if !mr.Encrypted {
		if sa, ok := m.Find(spec.PayloadSA).(*payloads.SA); ok {
			if m.Header.RCookie == [8]byte{} {
				p.saiB = sa.Body()
				r.step("  MM1: initiator proposes %d proposal(s)", len(sa.Proposals))
			} else {
				p.rcky = append([]byte(nil), m.Header.RCookie[:]...)
				p.rep.RCookie = hex.EncodeToString(p.rcky)
				p.choose(r, sa)
			}
		}
		if ke, ok := m.Find(spec.PayloadKE).(*payloads.KE); ok {
			nonce, _ := m.Find(spec.PayloadNonce).(*payloads.Nonce)
			var nb []byte
			if nonce != nil {
				nb = nonce.Body()
			}
			if p.fromInitiator(mr.pkt, p.gxi == nil) && p.gxi == nil {
				p.gxi, p.ni = ke.Data, nb
				r.step("  MM3: g^xi %d bytes, Ni %d bytes", len(p.gxi), len(p.ni))
			} else {
				p.gxr, p.nr = ke.Data, nb
				r.step("  MM4: g^xr %d bytes, Nr %d bytes", len(p.gxr), len(p.nr))
				p.derive(r, opts)
			}
		}
		return
	}
	// Encrypted Main Mode: 5 (initiator) then 6 (responder).
	p.encCount++
	if !p.haveKeys {
		r.step("  encrypted Main Mode message: no keys (give --psk and --gxy)")
		return
	}
	ct := m.Body()
	pt, next, err := p.cipher.Decrypt(p.encKey, p.iv, ct)
	if err != nil {
		mr.Error = err.Error()
		r.fail("decrypt MM%d: %v", 4+p.encCount, err)
		return
	}
	initiator := p.fromInitiator(mr.pkt, p.encCount == 1)
	which, hashName := "MM5", "HASH_I"
	if !initiator {
		which, hashName = "MM6", "HASH_R"
	}
	if err := m.SetDecrypted(pt); err != nil {
		mr.Error = "decrypted body does not parse: " + err.Error()
		ok := false
		if initiator {
			p.rep.HashIOK = &ok
		} else {
			p.rep.HashROK = &ok
		}
		r.fail("%s mismatch: %s does not decrypt to a valid payload chain with the derived keys "+
			"(%v): the PSK or g^xy is wrong", hashName, which, err)
		return
	}
	p.iv = next
	mr.Decrypted = true
	checkPlainReencode(r, mr, pt)
	setPayloadNames(mr)
	r.step("  %s decrypted: %s", which, payloadList(mr))

	id, _ := m.Find(spec.PayloadID).(*payloads.ID)
	if id == nil {
		r.fail("%s has no ID payload", which)
		return
	}
	var computed []byte
	if initiator {
		computed = oakley.HashI(p.prf, p.keys.SKEYID, p.gxi, p.gxr, p.icky, p.rcky, p.saiB, id.Body())
	} else {
		computed = oakley.HashR(p.prf, p.keys.SKEYID, p.gxi, p.gxr, p.icky, p.rcky, p.saiB, id.Body())
	}
	ok, detail := p.verifyAuth(m, computed)
	if ok != nil {
		if initiator {
			p.rep.HashIOK = ok
		} else {
			p.rep.HashROK = ok
		}
		if *ok {
			r.step("  %s verified (%s)", hashName, detail)
		} else {
			r.fail("%s mismatch: %s", hashName, detail)
		}
	} else {
		r.step("  %s not verified: %s", hashName, detail)
	}
	if !initiator {
		p.mainDone = true
		p.lastP1 = p.iv
		s := hex.EncodeToString(p.lastP1)
		p.rep.LastBlock = &s
		r.step("  ISAKMP SA established; last phase-1 block %s", s)
	}
}

// verifyAuth checks HASH (PSK) or SIG (signatures) against computed.
func (p *phase1) verifyAuth(m *payloads.Message, computed []byte) (*bool, string) {
	switch p.auth.Base() {
	case spec.AuthRSASig:
		sig, _ := m.Find(spec.PayloadSig).(*payloads.Sig)
		if sig == nil {
			f := false
			return &f, "no SIG payload"
		}
		if len(p.pubKeys) == 0 {
			return nil, "signature authentication: give --pubkey to verify the SIG payload"
		}
		for _, k := range p.pubKeys {
			if oakley.VerifyHash(k, computed, sig.Data) == nil {
				t := true
				return &t, fmt.Sprintf("RSA signature over %x", computed)
			}
		}
		f := false
		return &f, fmt.Sprintf("no given public key verifies the signature over %x", computed)
	default:
		h, _ := m.Find(spec.PayloadHash).(*payloads.Hash)
		if h == nil {
			f := false
			return &f, "no HASH payload"
		}
		ok := oakley.Equal(computed, h.Data)
		if ok {
			return &ok, hex.EncodeToString(computed)
		}
		return &ok, fmt.Sprintf("computed %x, received %x: wrong PSK?", computed, h.Data)
	}
}

// choose reads the responder's chosen transform from Main Mode 2.
func (p *phase1) choose(r *Report, sa *payloads.SA) {
	if len(sa.Proposals) == 0 || len(sa.Proposals[0].Transforms) == 0 {
		r.fail("MM2: SA has no transform")
		return
	}
	t := &sa.Proposals[0].Transforms[0]
	p.chosen = t
	var enc spec.OakleyEncryption
	var hash spec.OakleyHash
	var group spec.Group
	keyLen := 0
	prfSet := false
	for _, a := range t.Attributes {
		v, _ := a.Uint()
		switch spec.OakleyAttr(a.Type) {
		case spec.OakleyEncryptionAlgorithm:
			enc = spec.OakleyEncryption(v)
		case spec.OakleyHashAlgorithm:
			hash = spec.OakleyHash(v)
		case spec.OakleyAuthenticationMethod:
			p.auth = spec.AuthMethod(v)
		case spec.OakleyGroupDescription:
			group = spec.Group(v)
		case spec.OakleyKeyLength:
			keyLen = int(v)
		case spec.OakleyPRF:
			prfSet = true
		}
	}
	p.rep.Cipher, p.rep.KeyLen, p.rep.Hash = enc.String(), keyLen, hash.String()
	p.rep.Auth, p.rep.Group = p.auth.String(), group.String()
	r.step("  MM2: responder chose %s/%d %s %s %s", enc, keyLen, hash, p.auth, group)
	if prfSet {
		r.fail("MM2: OAKLEY_PRF attribute is not supported (the HMAC of the hash is the PRF)")
		return
	}
	var err error
	if p.prf, err = oakley.NewPRF(hash); err != nil {
		r.fail("MM2: hash %s: %v", hash, err)
		return
	}
	if p.cipher, err = oakley.NewCipher(enc, keyLen); err != nil {
		r.fail("MM2: cipher %s/%d: %v", enc, keyLen, err)
		return
	}
	if p.group, err = oakley.GroupByID(group); err != nil {
		r.fail("MM2: group %s: %v", group, err)
	}
}

// derive computes SKEYID and its descendants once both KE payloads are known.
func (p *phase1) derive(r *Report, opts Options) {
	if p.chosen == nil || p.group == nil || p.gxi == nil {
		r.step("  keys: the proposal or the initiator's KE is missing")
		return
	}
	if len(opts.GXY) == 0 {
		r.step("  keys: no --gxy given; encrypted messages cannot be decrypted")
		return
	}
	gxy := opts.GXY[0]
	if len(gxy) != p.group.SecretLen() {
		r.fail("keys: --gxy has %d bytes, %s needs %d", len(gxy), p.group.ID, p.group.SecretLen())
		return
	}
	var skeyid []byte
	switch p.auth.Base() {
	case spec.AuthPSK:
		if opts.PSK == nil {
			r.step("  keys: PSK authentication and no --psk given")
			return
		}
		skeyid = oakley.SKEYIDPSK(p.prf, opts.PSK, p.ni, p.nr)
	case spec.AuthRSASig, spec.AuthDSSSig:
		skeyid = oakley.SKEYIDSig(p.prf, p.ni, p.nr, gxy)
	default:
		r.fail("keys: authentication method %s is not supported", p.auth)
		return
	}
	p.keys = oakley.DeriveKeySet(p.prf, skeyid, gxy, p.icky, p.rcky)
	p.encKey = oakley.EncryptionKey(p.prf, p.keys.E, p.cipher.KeyLen)
	p.iv = oakley.Phase1IV(p.prf, p.gxi, p.gxr, p.cipher.BlockSize)
	p.haveKeys = true
	p.rep.SKEYID = hexp(p.keys.SKEYID)
	p.rep.SKEYIDd = hexp(p.keys.D)
	p.rep.SKEYIDa = hexp(p.keys.A)
	p.rep.SKEYIDe = hexp(p.keys.E)
	p.rep.EncKey = hexp(p.encKey)
	p.rep.IV = hexp(p.iv)
	r.step("  SKEYID   %x", p.keys.SKEYID)
	r.step("  SKEYID_d %x", p.keys.D)
	r.step("  SKEYID_a %x", p.keys.A)
	r.step("  SKEYID_e %x", p.keys.E)
	r.step("  Ka       %x", p.encKey)
	r.step("  IV       %x", p.iv)
}

// quickState is the working state of one Quick Mode exchange.
type quickState struct {
	rep       *QuickReport
	index     int
	iv        []byte
	count     int
	ni, nr    []byte
	gxy       []byte
	pfs       bool
	proto     spec.ProtocolID
	spiI      []byte
	spiR      []byte
	keymatLen int
}

// decryptPhase2 decrypts a Quick Mode or Informational message whose IV
// chain starts from the last phase-1 block and the message ID.
func (p *phase1) decryptPhase2(r *Report, mr *MessageReport, iv []byte, what string) (next []byte, ok bool) {
	m := mr.msg
	pt, next, err := p.cipher.Decrypt(p.encKey, iv, m.Body())
	if err != nil {
		mr.Error = err.Error()
		r.fail("decrypt %s: %v", what, err)
		return nil, false
	}
	if err := m.SetDecrypted(pt); err != nil {
		mr.Error = "decrypted body does not parse: " + err.Error()
		r.fail("%s does not decrypt to a valid payload chain (%v): wrong phase-2 IV or keys", what, err)
		return nil, false
	}
	mr.Decrypted = true
	checkPlainReencode(r, mr, pt)
	setPayloadNames(mr)
	r.step("  %s decrypted: %s", what, payloadList(mr))
	return next, true
}

// hashAndRest splits a decrypted phase-2 message into its leading HASH
// payload and the bytes of every payload after it (RFC 2409 §5.5).
func hashAndRest(m *payloads.Message) (*payloads.Hash, []byte) {
	if len(m.Payloads) == 0 {
		return nil, nil
	}
	h, ok := m.Payloads[0].(*payloads.Hash)
	if !ok {
		return nil, nil
	}
	return h, payloads.PayloadSpan(m.Payloads, 1)
}

func (p *phase1) quickMode(r *Report, qs *quickState, mr *MessageReport, opts Options) {
	m := mr.msg
	qs.count++
	msgid := m.Header.MessageID
	if qs.iv == nil {
		qs.iv = oakley.Phase2IV(p.prf, p.lastP1, msgid, p.cipher.BlockSize)
		r.step("  Quick Mode %08x: IV %x", msgid, qs.iv)
	}
	what := fmt.Sprintf("QM%d", qs.count)
	next, ok := p.decryptPhase2(r, mr, qs.iv, what)
	if !ok {
		f := false
		switch qs.count {
		case 1:
			qs.rep.Hash1OK = &f
		case 2:
			qs.rep.Hash2OK = &f
		default:
			qs.rep.Hash3OK = &f
		}
		return
	}
	qs.iv = next
	h, rest := hashAndRest(m)
	if h == nil {
		r.fail("%s: first payload is not HASH", what)
		return
	}
	switch qs.count {
	case 1:
		computed := oakley.QuickHash1(p.prf, p.keys.A, msgid, rest)
		qs.rep.Hash1OK = p.check(r, "HASH(1)", computed, h.Data)
		qs.ni = nonceBody(m)
		if ke, ok := m.Find(spec.PayloadKE).(*payloads.KE); ok && ke != nil {
			qs.pfs = true
			qs.rep.PFS = true
		}
		if sa, ok := m.Find(spec.PayloadSA).(*payloads.SA); ok && len(sa.Proposals) > 0 {
			qs.spiI = sa.Proposals[0].SPI
			qs.proto = sa.Proposals[0].Protocol
			qs.rep.Protocol = qs.proto.String()
			qs.rep.SPIi = hexp(qs.spiI)
		}
	case 2:
		computed := oakley.QuickHash2(p.prf, p.keys.A, msgid, qs.ni, rest)
		qs.rep.Hash2OK = p.check(r, "HASH(2)", computed, h.Data)
		qs.nr = nonceBody(m)
		if sa, ok := m.Find(spec.PayloadSA).(*payloads.SA); ok && len(sa.Proposals) > 0 {
			prop := sa.Proposals[0]
			qs.spiR = prop.SPI
			qs.rep.SPIr = hexp(qs.spiR)
			if len(prop.Transforms) > 0 {
				n, err := keymatLen(prop.Protocol, &prop.Transforms[0])
				if err != nil {
					r.fail("QM2: transform %s: %v", spec.TransformName(prop.Protocol, prop.Transforms[0].ID), err)
				} else {
					qs.keymatLen = n
					r.step("  QM2: responder chose %s, %d bytes of KEYMAT per SA",
						spec.TransformName(prop.Protocol, prop.Transforms[0].ID), n)
				}
			}
		}
		p.keymat(r, qs, opts)
	default:
		computed := oakley.QuickHash3(p.prf, p.keys.A, msgid, qs.ni, qs.nr)
		qs.rep.Hash3OK = p.check(r, "HASH(3)", computed, h.Data)
	}
}

func (p *phase1) keymat(r *Report, qs *quickState, opts Options) {
	if qs.spiI == nil || qs.spiR == nil || qs.keymatLen == 0 && qs.proto != spec.ProtoIPComp {
		return
	}
	var gxy []byte
	if qs.pfs {
		p.quickIndex++
		if p.quickIndex >= len(opts.GXY) {
			r.step("  KEYMAT: Quick Mode uses PFS; give its g^xy as --gxy number %d", p.quickIndex+1)
			return
		}
		gxy = opts.GXY[p.quickIndex]
	}
	ki := oakley.KEYMAT(p.prf, p.keys.D, gxy, qs.proto, qs.spiI, qs.ni, qs.nr, qs.keymatLen)
	kr := oakley.KEYMAT(p.prf, p.keys.D, gxy, qs.proto, qs.spiR, qs.ni, qs.nr, qs.keymatLen)
	qs.rep.KeymatI, qs.rep.KeymatR = hexp(ki), hexp(kr)
	r.step("  KEYMAT (SPI %x, initiator's inbound) %x", qs.spiI, ki)
	r.step("  KEYMAT (SPI %x, responder's inbound) %x", qs.spiR, kr)
}

func (p *phase1) informational(r *Report, mr *MessageReport) {
	m := mr.msg
	msgid := m.Header.MessageID
	iv := oakley.Phase2IV(p.prf, p.lastP1, msgid, p.cipher.BlockSize)
	if _, ok := p.decryptPhase2(r, mr, iv, "Informational "+mr.MsgID); !ok {
		f := false
		mr.HashOK = &f
		return
	}
	h, rest := hashAndRest(m)
	if h == nil {
		f := false
		mr.HashOK = &f
		r.fail("Informational %s: first payload is not HASH (CVE-2019-10155: it must be verified)", mr.MsgID)
		return
	}
	mr.HashOK = p.check(r, "Informational HASH(1)", oakley.InfoHash(p.prf, p.keys.A, msgid, rest), h.Data)
}

func (p *phase1) check(r *Report, name string, computed, received []byte) *bool {
	ok := oakley.Equal(computed, received)
	if ok {
		r.step("  %s verified %x", name, computed)
	} else {
		r.fail("%s mismatch: computed %x, received %x", name, computed, received)
	}
	return &ok
}

// keymatLen returns how much KEYMAT one SA of the chosen transform needs:
// the cipher key (with salt or nonce) followed by the integrity key.
func keymatLen(proto spec.ProtocolID, t *payloads.Transform) (int, error) {
	keyBits := 0
	auth := spec.AuthAlgNone
	for _, a := range t.Attributes {
		v, _ := a.Uint()
		switch spec.IPsecAttr(a.Type) {
		case spec.IPsecKeyLength:
			keyBits = int(v)
		case spec.IPsecAuthAlgorithm:
			auth = spec.AuthAlgorithm(v)
		}
	}
	switch proto {
	case spec.ProtoESP:
		enc, err := oakley.ESPKeyLen(t.ID, keyBits)
		if err != nil {
			return 0, err
		}
		integ, err := oakley.AuthKeyLen(auth)
		if err != nil {
			return 0, err
		}
		return enc + integ, nil
	case spec.ProtoAH:
		return oakley.AuthKeyLen(auth)
	case spec.ProtoIPComp:
		return 0, nil
	}
	return 0, errors.New("unknown protocol")
}

// checkPlainReencode verifies that the decrypted payloads re-encode to the
// decrypted bytes (payload chain plus padding).
func checkPlainReencode(r *Report, mr *MessageReport, plaintext []byte) {
	again := mr.msg.Encode()[spec.HeaderLen:] // Encode leaves the received Raw slices alone
	if string(again) != string(plaintext) {
		mr.ReencodeEqual = false
		mr.Error = "decrypted payloads re-encode differently"
		r.fail("message %d: decrypted payloads re-encode differently", mr.Index)
	}
}

func nonceBody(m *payloads.Message) []byte {
	if n, ok := m.Find(spec.PayloadNonce).(*payloads.Nonce); ok && n != nil {
		return n.Body()
	}
	return nil
}

func setPayloadNames(mr *MessageReport) {
	mr.Payloads = mr.Payloads[:0]
	if mr.msg == nil {
		return
	}
	for _, p := range mr.msg.Payloads {
		mr.Payloads = append(mr.Payloads, p.Type().String())
	}
}

func payloadList(mr *MessageReport) string {
	if mr.Encrypted && !mr.Decrypted {
		return fmt.Sprintf("(encrypted, %d bytes)", len(mr.msg.Body()))
	}
	s := ""
	for i, n := range mr.Payloads {
		if i > 0 {
			s += " "
		}
		s += n
	}
	return s
}

func addrs(pkt capture.Packet) string {
	if !pkt.Src.IsValid() {
		return ""
	}
	return " " + pkt.Src.String() + " -> " + pkt.Dst.String()
}

func encMark(e bool) string {
	if e {
		return " [E]"
	}
	return ""
}

func hexp(b []byte) *string {
	if b == nil {
		return nil
	}
	s := hex.EncodeToString(b)
	return &s
}
