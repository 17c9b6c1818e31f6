package testvectors

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"goswan/ikedump/capture"
)

//go:embed data
var dataFS embed.FS

// Vector is one recorded exchange: Main Mode, one Quick Mode and the Delete
// informationals, between two of strongSwan 5.9.8 ("ss") and libreswan 4.10
// ("lsw").
type Vector struct {
	Name string
	// Auth is "psk" or "rsa" (params.txt auth=).
	Auth string
	// PSK is params.txt psk=. Both peers have it configured even in the
	// "rsa" vector, where it is not used.
	PSK []byte
	// Initiator and Responder are "ss" or "lsw".
	Initiator, Responder string
	// PFS is true when the Quick Mode used a Diffie-Hellman exchange (the
	// strongSwan log has a Quick Mode "DH secret").
	PFS bool
	// Params holds every key=value token of params.txt (first occurrence
	// wins), e.g. "proposals", "esp_proposals", "ike", "esp", "west", "east".
	Params map[string]string
	// Messages are the IKE messages of messages.hex in capture order.
	Messages []Message
	// Pcap is exchange.pcap.
	Pcap []byte
	// Keys is the strongSwan-side keys file (KeysFile): label -> every
	// value with that label, in the order of the log.
	Keys map[string][][]byte
	// KeysFile names the file Keys came from ("east-keys.txt" or
	// "west-keys.txt"); when both peers are strongSwan it is the
	// initiator's.
	KeysFile string
	// Expect holds the expected values, see the package documentation.
	Expect Expected
	// Files is the vector's directory: params.txt, notes.md, messages.hex,
	// exchange.pcap, *-keys.txt, config/...
	Files fs.FS
}

// Message is one IKE message of the exchange.
type Message struct {
	Frame    int // frame number in exchange.pcap
	Src, Dst netip.AddrPort
	Data     []byte // the ISAKMP message
}

// Expected holds the values an implementation must compute for the
// exchange, hex-decoded; a field is nil when the recording does not have it.
type Expected struct {
	CkyI, CkyR []byte // from the headers of messages 1 and 2
	Ni, Nr     []byte // nonce payload bodies of the Main Mode KE messages
	GXi, GXr   []byte // KE payload bodies (g^xi, g^xr)
	GXY        []byte // phase-1 DH shared secret g^xy

	SKEYID, SKEYIDd, SKEYIDa, SKEYIDe []byte
	EncKey                            []byte // phase-1 encryption key (SKEYID_e, expanded per RFC 2409 App. B)
	IV                                []byte // phase-1 initial IV, hash(g^xi | g^xr) truncated to the block size

	HashI, HashR []byte

	QM []QuickExpected // one per Quick Mode exchange, in order
}

// QuickExpected holds the values of one Quick Mode exchange.
type QuickExpected struct {
	MsgID               uint32
	GXY                 []byte // PFS shared secret, nil without PFS
	Hash1, Hash2, Hash3 []byte
	// SPIi is the SPI the initiator chose (its inbound SA, traffic
	// responder->initiator); SPIr the one the responder chose (traffic
	// initiator->responder).
	SPIi, SPIr []byte
	Protocol   uint8 // 3 = ESP
	// EncKeyIR and IntegKeyIR protect initiator->responder traffic (the SA
	// with SPIr): KEYMAT computed with SPIr.
	EncKeyIR, IntegKeyIR []byte
	// EncKeyRI and IntegKeyRI protect responder->initiator traffic (SPIi).
	EncKeyRI, IntegKeyRI []byte
	// SeedIR and SeedRI are the KEYMAT seeds, [g^xy |] protocol | SPI |
	// Ni_b | Nr_b, for SPIr and SPIi.
	SeedIR, SeedRI []byte
}

// Names returns the names of the recorded vectors, sorted.
func Names() []string {
	ents, err := fs.ReadDir(dataFS, "data")
	if err != nil {
		panic("testvectors: BUG: embedded data missing: " + err.Error())
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// All loads every vector, in Names order.
func All() ([]*Vector, error) {
	var vs []*Vector
	for _, n := range Names() {
		v, err := Load(n)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// File reads a file of the vector's directory, e.g. "notes.md" or
// "config/west.pub".
func (v *Vector) File(name string) ([]byte, error) {
	b, err := fs.ReadFile(v.Files, name)
	if err != nil {
		return nil, fmt.Errorf("testvectors: %s: %w", v.Name, err)
	}
	return b, nil
}

// PublicKeys returns the RSA public keys of an "rsa" vector, read from
// config/west.pub and config/east.pub (PEM "PUBLIC KEY"), keyed "west" and
// "east". A vector without such files gives an error wrapping
// fs.ErrNotExist.
func (v *Vector) PublicKeys() (map[string]*rsa.PublicKey, error) {
	keys := map[string]*rsa.PublicKey{}
	for _, host := range []string{"west", "east"} {
		b, err := fs.ReadFile(v.Files, "config/"+host+".pub")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("testvectors: %s: %w", v.Name, err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("testvectors: %s: config/%s.pub: no PEM block", v.Name, host)
		}
		var pub any
		switch blk.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(blk.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(blk.Bytes)
		default:
			err = fmt.Errorf("unexpected PEM type %q", blk.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("testvectors: %s: config/%s.pub: %w", v.Name, host, err)
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("testvectors: %s: config/%s.pub: %T is not an RSA key", v.Name, host, pub)
		}
		keys[host] = rk
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("testvectors: %s: no RSA public keys (auth=%s): %w", v.Name, v.Auth, fs.ErrNotExist)
	}
	return keys, nil
}

// Load parses the named vector.
func Load(name string) (*Vector, error) {
	if !fs.ValidPath(name) || strings.Contains(name, "/") || name == "." {
		return nil, fmt.Errorf("testvectors: bad vector name %q", name)
	}
	sub, err := fs.Sub(dataFS, path.Join("data", name))
	if err != nil {
		return nil, fmt.Errorf("testvectors: %s: %w", name, err)
	}
	v := &Vector{Name: name, Files: sub}
	if err := v.load(); err != nil {
		return nil, fmt.Errorf("testvectors: %s: %w", name, err)
	}
	return v, nil
}

func (v *Vector) load() error {
	b, err := fs.ReadFile(v.Files, "params.txt")
	if err != nil {
		return err
	}
	v.Params = parseParams(b)
	v.Auth = v.Params["auth"]
	if v.Auth != "psk" && v.Auth != "rsa" {
		return fmt.Errorf("params.txt: auth=%q", v.Auth)
	}
	v.PSK = []byte(v.Params["psk"])
	if v.Initiator, err = implName(v.Params["initiator"]); err != nil {
		return fmt.Errorf("params.txt: initiator: %w", err)
	}
	if v.Responder, err = implName(v.Params["responder"]); err != nil {
		return fmt.Errorf("params.txt: responder: %w", err)
	}

	if b, err = fs.ReadFile(v.Files, "messages.hex"); err != nil {
		return err
	}
	pkts, err := capture.ReadHex(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("messages.hex: %w", err)
	}
	for _, p := range pkts {
		v.Messages = append(v.Messages, Message{Frame: p.Frame, Src: p.Src, Dst: p.Dst, Data: p.Data})
	}
	if len(v.Messages) < 2 {
		return fmt.Errorf("messages.hex: %d messages", len(v.Messages))
	}
	if v.Pcap, err = fs.ReadFile(v.Files, "exchange.pcap"); err != nil {
		return err
	}

	if err := v.loadKeys(); err != nil {
		return err
	}
	_, v.PFS = v.Keys["DH secret"]
	if err := v.fillPhase1(); err != nil {
		return err
	}
	notes, err := fs.ReadFile(v.Files, "notes.md")
	if err != nil {
		return err
	}
	return v.fillQuick(notes)
}

// parseParams collects the key=value tokens of params.txt.
func parseParams(b []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		for _, tok := range strings.Fields(line) {
			k, val, ok := strings.Cut(tok, "=")
			if !ok || k == "" {
				continue
			}
			if _, seen := m[k]; !seen {
				m[k] = val
			}
		}
	}
	return m
}

// implName maps "ss", "ss-east", "lsw", "lsw-west" to "ss" or "lsw".
func implName(s string) (string, error) {
	impl, _, _ := strings.Cut(s, "-")
	if impl != "ss" && impl != "lsw" {
		return "", fmt.Errorf("unknown implementation %q", s)
	}
	return impl, nil
}

// hostOf returns "west" or "east" for an address, from params west=/east=.
func (v *Vector) hostOf(a netip.Addr) string {
	for _, h := range []string{"west", "east"} {
		if p, err := netip.ParseAddr(v.Params[h]); err == nil && p == a {
			return h
		}
	}
	return ""
}

// loadKeys picks the strongSwan-side keys file: the one with SKEYID in it;
// when both have it, the initiator's.
func (v *Vector) loadKeys() error {
	initHost := v.hostOf(v.Messages[0].Src.Addr())
	var cands []string
	parsed := map[string]map[string][][]byte{}
	for _, h := range []string{"west", "east"} {
		name := h + "-keys.txt"
		b, err := fs.ReadFile(v.Files, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		k, err := ParseKeys(b)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, ok := k["SKEYID"]; ok {
			cands = append(cands, h)
			parsed[h] = k
		}
	}
	switch {
	case len(cands) == 0:
		return errors.New("no strongSwan keys file (none has SKEYID)")
	case len(cands) == 1:
		v.KeysFile = cands[0] + "-keys.txt"
	case initHost != "":
		v.KeysFile = initHost + "-keys.txt"
	default:
		return errors.New("two strongSwan keys files and the initiator's host is unknown")
	}
	v.Keys = parsed[strings.TrimSuffix(v.KeysFile, "-keys.txt")]
	return nil
}

var keysHead = regexp.MustCompile(`^L(\d+)\s+(.*\S)\s+(\d+) bytes$`)

// ParseKeys parses a keys file written by extract_keys.py:
//
//	L1801   SKEYID                                                         16 bytes
//	        29dede0c9bd5f06b7d3e578262708b72
//
// into label -> values in file order. Each value's length must match its
// "N bytes".
func ParseKeys(b []byte) (map[string][][]byte, error) {
	keys := map[string][][]byte{}
	var (
		label string
		want  int
		cur   []byte
		line  int
		start int
	)
	done := func() error {
		if label == "" {
			return nil
		}
		if len(cur) != want {
			return fmt.Errorf("line %d: %s: %d octets, header says %d", start, label, len(cur), want)
		}
		keys[label] = append(keys[label], cur)
		label, cur = "", nil
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line++
		s := sc.Text()
		if strings.TrimSpace(s) == "" {
			continue
		}
		if s[0] == ' ' || s[0] == '\t' {
			if label == "" {
				return nil, fmt.Errorf("line %d: hex without a label", line)
			}
			h, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			cur = append(cur, h...)
			continue
		}
		m := keysHead.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("line %d: not a label line: %q", line, s)
		}
		if err := done(); err != nil {
			return nil, err
		}
		label, start = m[2], line
		want, _ = strconv.Atoi(m[3])
		cur = []byte{}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := done(); err != nil {
		return nil, err
	}
	return keys, nil
}

// first returns the first value recorded under label, or nil.
func (v *Vector) first(label string) []byte {
	return v.nth(label, 0)
}

func (v *Vector) nth(label string, i int) []byte {
	if vals := v.Keys[label]; i < len(vals) {
		return bytes.Clone(vals[i])
	}
	return nil
}

// ISAKMP constants used by the minimal payload walk.
const (
	hdrLen        = 28
	exchIDProt    = 2
	exchAggr      = 4
	exchQuick     = 32
	flagEncrypted = 0x01
	payloadKE     = 4
	payloadNonce  = 10
)

// payloadBodies walks the plaintext payload chain of an ISAKMP message and
// returns the body of the first payload of each type.
func payloadBodies(msg []byte) (map[uint8][]byte, error) {
	if len(msg) < hdrLen {
		return nil, fmt.Errorf("message of %d octets", len(msg))
	}
	end := int(binary.BigEndian.Uint32(msg[24:]))
	if end < hdrLen || end > len(msg) {
		return nil, fmt.Errorf("header length %d, message %d octets", end, len(msg))
	}
	bodies := map[uint8][]byte{}
	next, off := msg[16], hdrLen
	for i := 0; next != 0; i++ {
		if i == 64 || off+4 > end {
			return nil, fmt.Errorf("payload chain overruns the message at offset %d", off)
		}
		n := int(binary.BigEndian.Uint16(msg[off+2:]))
		if n < 4 || off+n > end {
			return nil, fmt.Errorf("payload type %d at offset %d: bad length %d", next, off, n)
		}
		if _, seen := bodies[next]; !seen {
			bodies[next] = msg[off+4 : off+n]
		}
		next, off = msg[off], off+n
	}
	return bodies, nil
}

func (v *Vector) fillPhase1() error {
	e := &v.Expect
	m1, m2 := v.Messages[0].Data, v.Messages[1].Data
	if len(m1) < hdrLen || len(m2) < hdrLen {
		return errors.New("messages 1 and 2 are shorter than an ISAKMP header")
	}
	e.CkyI = bytes.Clone(m1[0:8])
	e.CkyR = bytes.Clone(m2[8:16])

	initiator := v.Messages[0].Src
	for i, m := range v.Messages {
		d := m.Data
		if len(d) < hdrLen || (d[18] != exchIDProt && d[18] != exchAggr) || d[19]&flagEncrypted != 0 {
			continue
		}
		bodies, err := payloadBodies(d)
		if err != nil {
			return fmt.Errorf("message %d (frame %d): %w", i+1, m.Frame, err)
		}
		ke, nonce := bodies[payloadKE], bodies[payloadNonce]
		if ke == nil || nonce == nil {
			continue
		}
		if m.Src == initiator {
			e.GXi, e.Ni = bytes.Clone(ke), bytes.Clone(nonce)
		} else {
			e.GXr, e.Nr = bytes.Clone(ke), bytes.Clone(nonce)
		}
	}
	if e.GXi == nil || e.GXr == nil {
		return errors.New("no KE and nonce payloads from both sides in the Main Mode messages")
	}

	e.GXY = v.first("shared Diffie Hellman secret")
	e.SKEYID = v.first("SKEYID")
	e.SKEYIDd = v.first("SKEYID_d")
	e.SKEYIDa = v.first("SKEYID_a")
	e.SKEYIDe = v.first("SKEYID_e")
	e.EncKey = v.first("encryption key Ka")
	e.IV = v.first("initial IV")
	e.HashI = v.first("HASH_I")
	e.HashR = v.first("HASH_R")
	return nil
}

var notesSPIs = regexp.MustCompile("Quick Mode SPIs \\(initiator view, \\w+\\): (inbound|outbound) `([0-9a-f]{8})`, (inbound|outbound) `([0-9a-f]{8})`")

func (v *Vector) fillQuick(notes []byte) error {
	var ids []uint32
	for _, m := range v.Messages {
		d := m.Data
		if len(d) >= hdrLen && d[18] == exchQuick {
			if id := binary.BigEndian.Uint32(d[20:]); !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	// SPIs as the initiator reported them (one Quick Mode per recording).
	var noteSPIi, noteSPIr []byte
	if m := notesSPIs.FindSubmatch(notes); m != nil {
		for _, i := range []int{1, 3} {
			spi, _ := hex.DecodeString(string(m[i+1]))
			if string(m[i]) == "inbound" {
				noteSPIi = spi
			} else {
				noteSPIr = spi
			}
		}
	}
	for i, id := range ids {
		q := QuickExpected{
			MsgID:      id,
			GXY:        v.nth("DH secret", i),
			Hash1:      v.nth("Hash(1)", i),
			Hash2:      v.nth("Hash(2)", i),
			Hash3:      v.nth("Hash(3)", i),
			SeedIR:     v.nth("initiator SA seed", i),
			SeedRI:     v.nth("responder SA seed", i),
			EncKeyIR:   v.nth("encryption initiator key", i),
			IntegKeyIR: v.nth("integrity initiator key", i),
			EncKeyRI:   v.nth("encryption responder key", i),
			IntegKeyRI: v.nth("integrity responder key", i),
		}
		// strongSwan's "initiator SA seed" is built with the responder's
		// SPI (the SA carrying initiator->responder traffic) and its
		// "initiator key"s are that SA's keys; the package test checks this
		// against the notes and by recomputing KEYMAT.
		if i == 0 && noteSPIi != nil && noteSPIr != nil {
			q.SPIi, q.SPIr = noteSPIi, noteSPIr
		} else {
			q.SPIr = seedSPI(q.SeedIR, len(q.GXY))
			q.SPIi = seedSPI(q.SeedRI, len(q.GXY))
		}
		if s := q.SeedIR; len(s) > len(q.GXY) {
			q.Protocol = s[len(q.GXY)]
		}
		v.Expect.QM = append(v.Expect.QM, q)
	}
	return nil
}

// seedSPI extracts the SPI of a KEYMAT seed [g^xy |] protocol | SPI | ...
func seedSPI(seed []byte, gxyLen int) []byte {
	if len(seed) < gxyLen+5 {
		return nil
	}
	return bytes.Clone(seed[gxyLen+1 : gxyLen+5])
}
