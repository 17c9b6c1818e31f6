package pluto

// pluto --keylog FILE: the key material of every SA, for Wireshark and
// ikedump (the daemon implements fsm.KeyLogger).
//
// The file is created with mode 0600 (an existing file is appended to and
// set to 0600), written only when --keylog (or keylog= in ipsec.conf) asks
// for it, one write per SA, so that every line is on disk as soon as the SA
// has its keys. Lines starting with '#' are comments. Per ISAKMP SA:
//
//	# "west-east" #1: ISAKMP SA 127.0.0.1:500 -> 127.0.0.2:500 initiator; icookie 5d1c... rcookie 9a0e...; OAKLEY_AES_CBC 128 OAKLEY_SHA1
//	5d1c2a4b6e8f0a1c,3f1e...
//	# ikedump --gxy 0efd37...
//
// The second line is an entry of Wireshark's IKEv1 decryption table
// (initiator cookie, phase-1 encryption key: tshark -o
// "uat:ikev1_decryption_table:LINE"). Per IPsec SA pair:
//
//	# "west-east" #2: ESP SAs tunnel AES_CBC_128-HMAC_SHA1_96; outbound 127.0.0.1 -> 127.0.0.2 SPI 0x8d727391, inbound SPI 0xc66770a2
//	"IPv4","127.0.0.1","127.0.0.2","0x8d727391","AES-CBC [RFC3602]","0x1f...","HMAC-SHA-1-96 [RFC2404]","0x99..."
//	"IPv4","127.0.0.2","127.0.0.1","0xc66770a2","AES-CBC [RFC3602]","0x5e...","HMAC-SHA-1-96 [RFC2404]","0x0b..."
//	# ikedump --gxy 7c03...        (only with PFS: the g^xy of this Quick Mode)
//
// The quoted lines are entries of Wireshark's ESP SA table (tshark -o
// 'uat:esp_sa:LINE'). So the file splits into Wireshark's own UAT files:
//
//	grep -v '^#' keylog | grep -v '^"' > ~/.config/wireshark/ikev1_decryption_table
//	grep '^"' keylog > ~/.config/wireshark/esp_sa
//
// and the "# ikedump --gxy" lines, in order, are ikedump's --gxy arguments
// for the exchange (Main Mode first, then each PFS Quick Mode); the PSK is
// never written. AH SAs, and ciphers Wireshark cannot decrypt, get a
// comment with their KEYMAT instead of an ESP line.

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"goswan/fsm"
	"goswan/fsm/proposal"
	"goswan/oakley"
	"goswan/spec"
)

// keyLog is an open --keylog file; only the event loop writes it.
type keyLog struct {
	f    *os.File
	path string
}

func openKeyLog(path string) (*keyLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--keylog: %v", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("--keylog: %v", err)
	}
	kl := &keyLog{f: f, path: path}
	if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
		kl.write("# goswan pluto key log: SECRET key material of every SA (see pluto/keylog.go for the format)\n" +
			"# non-comment lines: Wireshark uat:ikev1_decryption_table entries (ICOOKIE,ENCKEY) and uat:esp_sa entries (quoted)\n")
	}
	return kl, nil
}

func (kl *keyLog) write(s string) error {
	_, err := kl.f.WriteString(s)
	return err
}

func (kl *keyLog) close() {
	if kl != nil {
		kl.f.Close()
	}
}

// LogKeys implements fsm.KeyLogger: it writes nothing unless --keylog was given.
func (d *Daemon) LogKeys(k fsm.KeyRecord) {
	if d.keylog == nil {
		return
	}
	if err := d.keylog.write(formatKeyRecord(k, d.cfg.Now())); err != nil {
		d.log.Logf("--keylog %s: %v", d.keylog.path, err)
	}
}

func stateLabel(st *fsm.State) string {
	if st == nil {
		return "?"
	}
	return st.Name()
}

// formatKeyRecord renders one record in the --keylog format.
func formatKeyRecord(k fsm.KeyRecord, now time.Time) string {
	var b strings.Builder
	st := k.State
	if k.Phase1 {
		role := "responder"
		var local, remote string
		if st != nil {
			if st.Initiator {
				role = "initiator"
			}
			local, remote = st.Local.String(), st.Remote.String()
		}
		fmt.Fprintf(&b, "# %s: ISAKMP SA %s -> %s %s; icookie %x rcookie %x; %s %d %s; %s\n",
			stateLabel(st), local, remote, role, k.ICookie, k.RCookie, k.Cipher, k.KeyLen*8, k.Hash,
			now.UTC().Format(time.RFC3339))
		fmt.Fprintf(&b, "%x,%x\n", k.ICookie, k.EncKey)
		if len(k.GXY) > 0 {
			fmt.Fprintf(&b, "# ikedump --gxy %x\n", k.GXY)
		}
		return b.String()
	}
	sa := k.IPsec
	if sa == nil {
		return ""
	}
	mode := "transport"
	if sa.Mode == spec.EncapTunnel {
		mode = "tunnel"
	}
	local, remote := sa.Local.Addr().Unmap(), sa.Remote.Addr().Unmap()
	proto := "ESP"
	alg := ""
	switch {
	case sa.ESP != nil:
		alg = sa.ESP.XfrmName()
	case st != nil && st.P2.AH != nil:
		proto, alg = "AH", st.P2.AH.XfrmName()
	case sa.Proto == spec.ProtoAH:
		proto = "AH"
	}
	fmt.Fprintf(&b, "# %s: %s SAs %s %s; outbound %s -> %s SPI 0x%x, inbound SPI 0x%x; %s\n",
		stateLabel(st), proto, mode, alg, local, remote, sa.OutboundSPI, sa.InboundSPI, now.UTC().Format(time.RFC3339))
	family := "IPv4"
	if local.Is6() {
		family = "IPv6"
	}
	lines, why := espSALines(family, sa)
	if why != "" {
		fmt.Fprintf(&b, "# no Wireshark ESP SA entry (%s); KEYMAT outbound 0x%x inbound 0x%x\n", why, sa.OutboundKey, sa.InboundKey)
	}
	b.WriteString(lines)
	if len(k.GXY) > 0 {
		fmt.Fprintf(&b, "# ikedump --gxy %x\n", k.GXY)
	}
	return b.String()
}

// espSALines renders the two Wireshark esp_sa entries of an ESP SA pair
// (outbound first), or says why there are none.
func espSALines(family string, sa *fsm.IPsecSA) (string, string) {
	if sa.ESP == nil {
		return "", "not ESP"
	}
	enc, integ, ok := wiresharkESPNames(*sa.ESP)
	if !ok {
		return "", "Wireshark cannot decrypt " + sa.ESP.XfrmName()
	}
	encLen, err := oakley.ESPKeyLen(sa.ESP.Enc, sa.ESP.KeyLen)
	if sa.ESP.Enc == spec.ESPNull {
		encLen, err = 0, nil
	}
	if err != nil {
		return "", err.Error()
	}
	authLen, err := oakley.AuthKeyLen(sa.ESP.Integ)
	if err != nil {
		return "", err.Error()
	}
	var b strings.Builder
	line := func(src, dst string, spi, keymat []byte) {
		if len(keymat) < encLen+authLen {
			fmt.Fprintf(&b, "# KEYMAT for SPI 0x%x too short (%d octets, need %d)\n", spi, len(keymat), encLen+authLen)
			return
		}
		fmt.Fprintf(&b, "%q,%q,%q,%q,%q,%q,%q,%q\n", family, src, dst, "0x"+hex.EncodeToString(spi),
			enc, hexKey(keymat[:encLen]), integ, hexKey(keymat[encLen:encLen+authLen]))
	}
	local, remote := sa.Local.Addr().Unmap().String(), sa.Remote.Addr().Unmap().String()
	line(local, remote, sa.OutboundSPI, sa.OutboundKey)
	line(remote, local, sa.InboundSPI, sa.InboundKey)
	return b.String(), ""
}

func hexKey(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return "0x" + hex.EncodeToString(b)
}

// wiresharkESPNames maps an ESP algorithm to the names of Wireshark's ESP
// SA table (packet-ipsec.c).
func wiresharkESPNames(a proposal.ESPAlg) (enc, integ string, ok bool) {
	switch a.Enc {
	case spec.ESPNull:
		enc = "NULL"
	case spec.ESP3DES:
		enc = "TripleDES-CBC [RFC2451]"
	case spec.ESPAES:
		enc = "AES-CBC [RFC3602]"
	case spec.ESPAESCTR:
		enc = "AES-CTR [RFC3686]"
	case spec.ESPDES:
		enc = "DES-CBC [RFC2405]"
	case spec.ESPCAST:
		enc = "CAST5-CBC [RFC2144]"
	case spec.ESPBlowfish:
		enc = "BLOWFISH-CBC [RFC2451]"
	case spec.ESPAESGCM8:
		enc = "AES-GCM with 8 octet ICV [RFC4106]"
	case spec.ESPAESGCM12:
		enc = "AES-GCM with 12 octet ICV [RFC4106]"
	case spec.ESPAESGCM16:
		enc = "AES-GCM with 16 octet ICV [RFC4106]"
	default:
		return "", "", false
	}
	switch a.Integ {
	case spec.AuthAlgNone:
		integ = "NULL"
	case spec.AuthAlgHMACMD5:
		integ = "HMAC-MD5-96 [RFC2403]"
	case spec.AuthAlgHMACSHA1:
		integ = "HMAC-SHA-1-96 [RFC2404]"
	case spec.AuthAlgHMACSHA2256:
		integ = "HMAC-SHA-256-128 [RFC4868]"
	case spec.AuthAlgHMACSHA2384:
		integ = "HMAC-SHA-384-192 [RFC4868]"
	case spec.AuthAlgHMACSHA2512:
		integ = "HMAC-SHA-512-256 [RFC4868]"
	default:
		return "", "", false
	}
	return enc, integ, true
}
