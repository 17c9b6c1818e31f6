package testvectors

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"goswan/ikedump/capture"
)

var wantNames = []string{
	"lsw-ss-aes128-sha1-modp2048",
	"lsw-ss-rsasig-aes128-sha1-modp2048",
	"ss-lsw-3des-md5-modp1536-pfs",
	"ss-ss-3des-md5-modp1024-pfs",
	"ss-ss-aes128-sha1-modp2048",
}

func TestNames(t *testing.T) {
	if got := Names(); !slices.Equal(got, wantNames) {
		t.Errorf("Names() = %q, want %q", got, wantNames)
	}
}

func all(t *testing.T) []*Vector {
	t.Helper()
	vs, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(wantNames) {
		t.Fatalf("All(): %d vectors", len(vs))
	}
	return vs
}

func TestLoadErrors(t *testing.T) {
	for _, n := range []string{"", ".", "..", "../data", "nope", "ss-ss-aes128-sha1-modp2048/config"} {
		if _, err := Load(n); err == nil {
			t.Errorf("Load(%q): no error", n)
		}
	}
}

func TestLoadReturnsCopies(t *testing.T) {
	a, err := Load(wantNames[0])
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(a.Expect.SKEYID)
	a.Expect.SKEYID[0] ^= 0xff
	a.Messages[0].Data[0] ^= 0xff
	a.Keys["SKEYID"][0][0] ^= 0xff
	b, err := Load(wantNames[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Expect.SKEYID, orig) || b.Messages[0].Data[0] == a.Messages[0].Data[0] || !bytes.Equal(b.Keys["SKEYID"][0], orig) {
		t.Error("a second Load shares memory with the first")
	}
}

// TestShape checks every vector's metadata and that each expected value is
// present with the length the negotiated algorithms imply.
func TestShape(t *testing.T) {
	for _, v := range all(t) {
		t.Run(v.Name, func(t *testing.T) {
			s := suiteOf(t, v)
			impls := strings.SplitN(v.Name, "-", 3)
			if v.Initiator != impls[0] || v.Responder != impls[1] {
				t.Errorf("initiator %q responder %q, name says %q %q", v.Initiator, v.Responder, impls[0], impls[1])
			}
			wantAuth := "psk"
			if strings.Contains(v.Name, "rsasig") {
				wantAuth = "rsa"
			}
			if v.Auth != wantAuth || string(v.PSK) != "harness-psk-0123456789" {
				t.Errorf("auth %q psk %q", v.Auth, v.PSK)
			}
			if v.PFS != strings.HasSuffix(v.Name, "-pfs") {
				t.Errorf("PFS %v", v.PFS)
			}
			if len(v.Pcap) < 24 || len(v.Keys) == 0 {
				t.Errorf("pcap %d octets, %d key labels", len(v.Pcap), len(v.Keys))
			}
			// The keys file is strongSwan's; with two strongSwans the
			// initiator's (west initiated both ss-ss recordings).
			wantFile := "east-keys.txt"
			if v.Initiator == "ss" && v.Responder == "ss" {
				wantFile = "west-keys.txt"
			}
			if v.KeysFile != wantFile {
				t.Errorf("KeysFile %q, want %q", v.KeysFile, wantFile)
			}

			e := v.Expect
			lens := []struct {
				name string
				b    []byte
				n    int
			}{
				{"CkyI", e.CkyI, 8}, {"CkyR", e.CkyR, 8},
				{"Ni", e.Ni, 32}, {"Nr", e.Nr, 32},
				{"GXi", e.GXi, s.dhLen}, {"GXr", e.GXr, s.dhLen}, {"GXY", e.GXY, s.dhLen},
				{"SKEYID", e.SKEYID, s.prfLen}, {"SKEYIDd", e.SKEYIDd, s.prfLen},
				{"SKEYIDa", e.SKEYIDa, s.prfLen}, {"SKEYIDe", e.SKEYIDe, s.prfLen},
				{"EncKey", e.EncKey, s.keyLen}, {"IV", e.IV, s.blockLen},
				{"HashI", e.HashI, s.prfLen}, {"HashR", e.HashR, s.prfLen},
			}
			if len(e.QM) != 1 {
				t.Fatalf("%d Quick Modes, want 1", len(e.QM))
			}
			q := e.QM[0]
			gxyLen := 0
			if v.PFS {
				gxyLen = s.dhLen
			}
			lens = append(lens, []struct {
				name string
				b    []byte
				n    int
			}{
				{"QM.Hash1", q.Hash1, s.prfLen}, {"QM.Hash2", q.Hash2, s.prfLen}, {"QM.Hash3", q.Hash3, s.prfLen},
				{"QM.SPIi", q.SPIi, 4}, {"QM.SPIr", q.SPIr, 4},
				{"QM.EncKeyIR", q.EncKeyIR, s.keyLen}, {"QM.EncKeyRI", q.EncKeyRI, s.keyLen},
				{"QM.IntegKeyIR", q.IntegKeyIR, s.prfLen}, {"QM.IntegKeyRI", q.IntegKeyRI, s.prfLen},
				{"QM.SeedIR", q.SeedIR, gxyLen + 1 + 4 + 32 + 32}, {"QM.SeedRI", q.SeedRI, gxyLen + 1 + 4 + 32 + 32},
			}...)
			for _, l := range lens {
				if l.b == nil || len(l.b) != l.n {
					t.Errorf("%s: %d octets (nil %v), want %d", l.name, len(l.b), l.b == nil, l.n)
				}
			}
			if v.PFS != (q.GXY != nil) || (v.PFS && len(q.GXY) != s.dhLen) {
				t.Errorf("QM.GXY: %d octets with PFS %v", len(q.GXY), v.PFS)
			}
			if q.Protocol != 3 {
				t.Errorf("QM.Protocol %d", q.Protocol)
			}
			if bytes.Equal(q.SPIi, q.SPIr) {
				t.Error("SPIi == SPIr")
			}
			// The Quick Mode message ID is that of messages 7-9.
			if id := binary.BigEndian.Uint32(v.Messages[6].Data[20:]); q.MsgID != id || q.MsgID == 0 {
				t.Errorf("QM.MsgID %08x, message 7 has %08x", q.MsgID, id)
			}
			// Cookies are those of every message.
			for i, m := range v.Messages[1:] {
				if !bytes.Equal(m.Data[:8], e.CkyI) || !bytes.Equal(m.Data[8:16], e.CkyR) {
					t.Errorf("message %d: cookies %x", i+2, m.Data[:16])
				}
			}
		})
	}
}

// TestSeeds checks the Quick Mode SPIs taken from notes.md against the
// KEYMAT seeds of the strongSwan log: "initiator SA seed" carries SPIr (the
// SA for initiator->responder traffic), "responder SA seed" SPIi.
func TestSeeds(t *testing.T) {
	for _, v := range all(t) {
		for _, q := range v.Expect.QM {
			gl := len(q.GXY)
			if got := seedSPI(q.SeedIR, gl); !bytes.Equal(got, q.SPIr) {
				t.Errorf("%s: initiator SA seed has SPI %x, SPIr is %x", v.Name, got, q.SPIr)
			}
			if got := seedSPI(q.SeedRI, gl); !bytes.Equal(got, q.SPIi) {
				t.Errorf("%s: responder SA seed has SPI %x, SPIi is %x", v.Name, got, q.SPIi)
			}
			if !bytes.Equal(q.SeedIR[:gl], q.GXY) || !bytes.Equal(q.SeedRI[:gl], q.GXY) {
				t.Errorf("%s: seeds do not start with the PFS g^xy", v.Name)
			}
			if !bytes.Equal(q.SeedIR[gl+5:], q.SeedRI[gl+5:]) {
				t.Errorf("%s: seeds differ in Ni_b | Nr_b", v.Name)
			}
		}
	}
}

// TestPcapMatchesMessages reads exchange.pcap and compares it with
// messages.hex.
func TestPcapMatchesMessages(t *testing.T) {
	for _, v := range all(t) {
		pkts, err := capture.ReadPcap(bytes.NewReader(v.Pcap))
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if len(pkts) != len(v.Messages) {
			t.Fatalf("%s: pcap has %d messages, hex %d", v.Name, len(pkts), len(v.Messages))
		}
		for i, p := range pkts {
			m := v.Messages[i]
			if p.Frame != m.Frame || p.Src != m.Src || p.Dst != m.Dst || !bytes.Equal(p.Data, m.Data) {
				t.Errorf("%s: message %d: pcap frame %d %v->%v %d octets, hex frame %d %v->%v %d octets",
					v.Name, i, p.Frame, p.Src, p.Dst, len(p.Data), m.Frame, m.Src, m.Dst, len(m.Data))
			}
		}
	}
}

// notesHex is a hex value as notes.md prints it: whole, or its first octets
// and the total length.
type notesHex struct {
	prefix []byte
	n      int
}

func (h notesHex) matches(b []byte) bool {
	return len(b) == h.n && bytes.HasPrefix(b, h.prefix)
}

func (h notesHex) String() string { return fmt.Sprintf("%x...(%d octets)", h.prefix, h.n) }

func parseNotesHex(t *testing.T, hx, n string) notesHex {
	t.Helper()
	b, err := hex.DecodeString(hx)
	if err != nil {
		t.Fatal(err)
	}
	h := notesHex{prefix: b, n: len(b)}
	if n != "" {
		h.n, _ = strconv.Atoi(n)
	}
	return h
}

// notesHexRE matches `hex` or `hex...(N bytes)`.
const notesHexRE = "`([0-9a-f]+)(?:\\.\\.\\.\\((\\d+) bytes\\))?`"

var (
	notesRow   = regexp.MustCompile(`^\| (\d+) \| ([0-9.]+) \| (\S+) -> (\S+) \| [^|]+ \| (\d+) \| 0x([0-9a-f]{2}) \| ([0-9a-f]{8}) \| (\d+) \|$`)
	notesValue = regexp.MustCompile(`^- (.+?): ` + notesHexRE + `$`)
	notesKey   = regexp.MustCompile(`^\| (.*) \| L\d+(?:, L\d+)* \| ` + notesHexRE + ` \|$`)
)

// TestNotes checks the message table, the "Values" list and the strongSwan
// key table of notes.md against the loaded vector.
func TestNotes(t *testing.T) {
	for _, v := range all(t) {
		t.Run(v.Name, func(t *testing.T) {
			notes, err := v.File("notes.md")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(notes), "\n")

			// Message table.
			var rows [][]string
			for _, l := range lines {
				if m := notesRow.FindStringSubmatch(l); m != nil {
					rows = append(rows, m)
				}
			}
			if len(rows) != len(v.Messages) {
				t.Fatalf("notes.md lists %d messages, vector has %d", len(rows), len(v.Messages))
			}
			for i, r := range rows {
				m := v.Messages[i]
				frame, _ := strconv.Atoi(r[1])
				exch, _ := strconv.Atoi(r[5])
				size, _ := strconv.Atoi(r[8])
				if m.Frame != frame || m.Src.String() != r[3] || m.Dst.String() != r[4] ||
					int(m.Data[18]) != exch || fmt.Sprintf("%02x", m.Data[19]) != r[6] ||
					fmt.Sprintf("%x", m.Data[20:24]) != r[7] || len(m.Data) != size {
					t.Errorf("message %d: notes row %q; have frame %d %v -> %v exch %d flags %02x msgid %x, %d octets",
						i, r[0], m.Frame, m.Src, m.Dst, m.Data[18], m.Data[19], m.Data[20:24], len(m.Data))
				}
			}

			// Values list.
			e := v.Expect
			byPrefix := map[string][]byte{
				"initiator cookie": e.CkyI, "responder cookie": e.CkyR,
				"g^xi ": e.GXi, "g^xr ": e.GXr, "Ni ": e.Ni, "Nr ": e.Nr,
			}
			seen := map[string]bool{}
			for _, l := range lines {
				m := notesValue.FindStringSubmatch(l)
				if m == nil {
					continue
				}
				for p, b := range byPrefix {
					if strings.HasPrefix(m[1], p) {
						seen[p] = true
						if h := parseNotesHex(t, m[2], m[3]); !h.matches(b) {
							t.Errorf("notes %q = %v, Expect has %x", m[1], h, b)
						}
					}
				}
			}
			if len(seen) != len(byPrefix) {
				t.Errorf("notes.md Values: found %d of %d", len(seen), len(byPrefix))
			}

			// The strongSwan table of the host whose keys file we use.
			host := strings.TrimSuffix(v.KeysFile, "-keys.txt")
			q := e.QM[0]
			want := map[string][]byte{
				"g^xy (DH shared secret)": e.GXY,
				"SKEYID":                  e.SKEYID, "SKEYID_d": e.SKEYIDd, "SKEYID_a": e.SKEYIDa, "SKEYID_e": e.SKEYIDe,
				"phase-1 encryption key": e.EncKey, "phase-1 initial IV": e.IV,
				"HASH_I": e.HashI, "HASH_R": e.HashR,
				"Quick Mode HASH(1)": q.Hash1, "Quick Mode HASH(2)": q.Hash2, "Quick Mode HASH(3)": q.Hash3,
				"KEYMAT seed for the initiator->responder SA":      q.SeedIR,
				"KEYMAT seed for the responder->initiator SA":      q.SeedRI,
				"KEYMAT: ESP encryption key, initiator->responder": q.EncKeyIR,
				"KEYMAT: ESP encryption key, responder->initiator": q.EncKeyRI,
				"KEYMAT: ESP integrity key, initiator->responder":  q.IntegKeyIR,
				"KEYMAT: ESP integrity key, responder->initiator":  q.IntegKeyRI,
			}
			in := false
			found := map[string]bool{}
			for _, l := range lines {
				if strings.HasPrefix(l, "#") {
					in = strings.HasPrefix(l, "### "+host+" (strongSwan)")
					continue
				}
				m := notesKey.FindStringSubmatch(l)
				if !in || m == nil {
					continue
				}
				for label, b := range want {
					if m[1] == label || strings.HasPrefix(m[1], label+" ") || strings.HasPrefix(m[1], label+":") {
						found[label] = true
						if h := parseNotesHex(t, m[2], m[3]); !h.matches(b) {
							t.Errorf("notes (%s) %q = %v, Expect has %x", host, m[1], h, b)
						}
					}
				}
			}
			for label := range want {
				if !found[label] {
					t.Errorf("notes.md %s (strongSwan) table: no row %q", host, label)
				}
			}
		})
	}
}

// TestBothStrongSwanSidesAgree compares the two keys files of the ss-ss
// vectors: both peers must have derived the same values.
func TestBothStrongSwanSidesAgree(t *testing.T) {
	labels := []string{
		"shared Diffie Hellman secret", "SKEYID", "SKEYID_d", "SKEYID_a", "SKEYID_e",
		"encryption key Ka", "initial IV", "HASH_I", "HASH_R", "Hash(1)", "Hash(2)", "Hash(3)",
		"DH secret", "initiator SA seed", "responder SA seed",
		"encryption initiator key", "encryption responder key",
		"integrity initiator key", "integrity responder key",
	}
	n := 0
	for _, v := range all(t) {
		if v.Initiator != "ss" || v.Responder != "ss" {
			continue
		}
		n++
		other := "east-keys.txt"
		if v.KeysFile == other {
			other = "west-keys.txt"
		}
		b, err := v.File(other)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := ParseKeys(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range labels {
			a, b := v.Keys[l], ok[l]
			if l == "DH secret" && !v.PFS {
				if a != nil || b != nil {
					t.Errorf("%s: %q without PFS", v.Name, l)
				}
				continue
			}
			if len(a) == 0 || len(a) != len(b) {
				t.Errorf("%s: %q: %d values in %s, %d in %s", v.Name, l, len(a), v.KeysFile, len(b), other)
				continue
			}
			for i := range a {
				if !bytes.Equal(a[i], b[i]) {
					t.Errorf("%s: %q #%d differs between %s and %s", v.Name, l, i, v.KeysFile, other)
				}
			}
		}
	}
	if n != 2 {
		t.Errorf("%d ss-ss vectors, want 2", n)
	}
}

// TestLibreswanKeymat checks that libreswan's ESP keys (its keys file,
// inbound and outbound in some order) are the two directions in Expect.
func TestLibreswanKeymat(t *testing.T) {
	for _, v := range all(t) {
		host := ""
		switch {
		case v.Initiator == "lsw":
			host = v.hostOf(v.Messages[0].Src.Addr())
		case v.Responder == "lsw":
			host = v.hostOf(v.Messages[0].Dst.Addr())
		default:
			continue
		}
		b, err := v.File(host + "-keys.txt")
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParseKeys(b)
		if err != nil {
			t.Fatalf("%s: %s-keys.txt: %v", v.Name, host, err)
		}
		q := v.Expect.QM[0]
		for label, want := range map[string][][]byte{
			"ESP enckey:":  {q.EncKeyIR, q.EncKeyRI},
			"ESP authkey:": {q.IntegKeyIR, q.IntegKeyRI},
		} {
			got := k[label]
			if len(got) != 2 || !(bytes.Equal(got[0], want[0]) && bytes.Equal(got[1], want[1]) ||
				bytes.Equal(got[0], want[1]) && bytes.Equal(got[1], want[0])) {
				t.Errorf("%s: libreswan %q = %x, want both of %x", v.Name, label, got, want)
			}
		}
	}
}

func TestParseKeysErrors(t *testing.T) {
	for _, in := range []string{
		"        00\n",
		"L1   x    2 bytes\n        00\n",
		"L1   x    1 bytes\n        zz\n",
		"garbage\n",
	} {
		if _, err := ParseKeys([]byte(in)); err == nil {
			t.Errorf("ParseKeys(%q): no error", in)
		}
	}
	k, err := ParseKeys([]byte("L7   a label   with spaces 20     2 bytes\n        ab\n        cd\nL9 a label   with spaces 20   0 bytes\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := k["a label   with spaces 20"]; len(got) != 2 || !bytes.Equal(got[0], []byte{0xab, 0xcd}) || len(got[1]) != 0 {
		t.Errorf("ParseKeys: %x", got)
	}
}

func TestFiles(t *testing.T) {
	for _, v := range all(t) {
		for _, f := range []string{"params.txt", "notes.md", "messages.hex", "exchange.pcap", "west-keys.txt", "east-keys.txt"} {
			if _, err := v.File(f); err != nil {
				t.Errorf("%s: %v", v.Name, err)
			}
		}
		cfg, err := fs.ReadDir(v.Files, "config")
		if err != nil || len(cfg) < 4 {
			t.Errorf("%s: config/: %d files, %v", v.Name, len(cfg), err)
		}
		if _, err := v.File("west-pluto.log"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: big logs must not be embedded: %v", v.Name, err)
		}
	}
}

// TestPublicKeys checks the RSA keys of the signature vector against the
// libreswan forms of the same keys (0s RFC 3110 rsasigkey, CKAID = SHA-1 of
// the modulus) and the PEM private keys.
func TestPublicKeys(t *testing.T) {
	for _, v := range all(t) {
		keys, err := v.PublicKeys()
		if v.Auth != "rsa" {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: PublicKeys() = %v, %v; want ErrNotExist", v.Name, keys, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 {
			t.Fatalf("%s: %d keys", v.Name, len(keys))
		}
		for host, pub := range keys {
			if pub.N.BitLen() < 2048 {
				t.Errorf("%s: %s key of %d bits", v.Name, host, pub.N.BitLen())
			}
			sig, err := v.File("config/" + host + ".rsasigkey")
			if err != nil {
				t.Fatal(err)
			}
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(sig)), "0s"))
			if err != nil || len(raw) < 2 || int(raw[0])+1 > len(raw) {
				t.Fatalf("%s: %s.rsasigkey: %v", v.Name, host, err)
			}
			e := new(big.Int).SetBytes(raw[1 : 1+raw[0]])
			n := new(big.Int).SetBytes(raw[1+raw[0]:])
			if e.Int64() != int64(pub.E) || n.Cmp(pub.N) != 0 {
				t.Errorf("%s: %s.rsasigkey differs from %s.pub", v.Name, host, host)
			}
			ckaid, err := v.File("config/" + host + ".ckaid")
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha1.Sum(pub.N.Bytes()); fmt.Sprintf("%x", sum) != strings.TrimSpace(string(ckaid)) {
				t.Errorf("%s: %s.ckaid is not SHA-1 of the modulus", v.Name, host)
			}
			kb, err := v.File("config/" + host + ".key")
			if err != nil {
				t.Fatal(err)
			}
			blk, _ := pem.Decode(kb)
			if blk == nil {
				t.Fatalf("%s: %s.key: no PEM", v.Name, host)
			}
			priv, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				t.Fatalf("%s: %s.key: %v", v.Name, host, err)
			}
			if rk, ok := priv.(*rsa.PrivateKey); !ok || !rk.PublicKey.Equal(pub) {
				t.Errorf("%s: %s.key does not match %s.pub", v.Name, host, host)
			}
		}
	}
}

func TestInitiatorAddress(t *testing.T) {
	for _, v := range all(t) {
		// The first message comes from the initiator; params.txt names
		// which implementation that is and where it ran.
		src := v.Messages[0].Src
		if !src.IsValid() || src.Port() != 500 {
			t.Errorf("%s: first message from %v", v.Name, src)
		}
		want := map[string]netip.Addr{
			"lsw-ss": netip.MustParseAddr("192.0.2.1"), // libreswan in west initiated
			"ss-lsw": netip.MustParseAddr("192.0.2.2"), // strongSwan in east initiated
			"ss-ss":  netip.MustParseAddr("192.0.2.1"),
		}[v.Params["pair"]]
		if src.Addr() != want {
			t.Errorf("%s: initiator %v, want %v", v.Name, src.Addr(), want)
		}
	}
}

// suite holds the lengths the negotiated algorithms of a vector imply
// (params.txt proposals=CIPHER-HASH-GROUP). The key schedule itself is
// checked against these values by the oakley and ikedump tests.
type suite struct{ prfLen, keyLen, blockLen, dhLen int }

func suiteOf(t *testing.T, v *Vector) suite {
	t.Helper()
	parts := strings.Split(v.Params["proposals"], "-")
	if len(parts) != 3 {
		t.Fatalf("proposals=%q", v.Params["proposals"])
	}
	var s suite
	switch parts[0] {
	case "aes128":
		s.keyLen, s.blockLen = 16, 16
	case "3des":
		s.keyLen, s.blockLen = 24, 8
	default:
		t.Fatalf("cipher %q", parts[0])
	}
	switch parts[1] {
	case "md5":
		s.prfLen = 16
	case "sha1":
		s.prfLen = 20
	default:
		t.Fatalf("hash %q", parts[1])
	}
	switch parts[2] {
	case "modp1024":
		s.dhLen = 128
	case "modp1536":
		s.dhLen = 192
	case "modp2048":
		s.dhLen = 256
	default:
		t.Fatalf("group %q", parts[2])
	}
	return s
}
