package spec

import "encoding/hex"

// Well-known Vendor ID payload contents (RFC 3947 §3.1, RFC 3706 §4 and the
// values strongSwan and libreswan send), used to name a received VID in logs.
var vendorIDs = []struct{ hex, name string }{
	{"4a131c81070358455c5728f20e95452f", "RFC 3947"},
	{"4df37928e9fc4fd1b3262170d515c662", "draft-ietf-ipsec-nat-t-ike-00"},
	{"cd60464335df21f87cfdb2fc68b6a448", "draft-ietf-ipsec-nat-t-ike-02"},
	{"90cb80913ebb696e086381b5ec427b1f", "draft-ietf-ipsec-nat-t-ike-02_n"},
	{"7d9419a65310ca6f2c179d9215529d56", "draft-ietf-ipsec-nat-t-ike-03"},
	{"afcad71368a1f1c96b8696fc77570100", "Dead Peer Detection"},
	{"09002689dfd6b712", "XAUTH"},
	{"4048b7d56ebce88525e7de7f00d6c2d380000000", "FRAGMENTATION"},
	{"4048b7d56ebce88525e7de7f00d6c2d3", "FRAGMENTATION"},
	{"12f5f28c457168a9702d9fe274cc0100", "Cisco-Unity"},
	{"882fe56d6fd20dbc2251613b2ebe5beb", "strongSwan"},
	{"4f45", "Openswan/libreswan"},
}

// VendorIDName returns a human name for a known Vendor ID, or "" when unknown.
// Prefix matches are accepted for IDs that carry a version suffix (libreswan
// and Openswan send "OE" followed by a version string).
func VendorIDName(vid []byte) string {
	h := hex.EncodeToString(vid)
	for _, v := range vendorIDs {
		if h == v.hex {
			return v.name
		}
	}
	for _, v := range vendorIDs {
		if len(v.hex) < len(h) && h[:len(v.hex)] == v.hex {
			return v.name
		}
	}
	return ""
}

// Vendor IDs we send and look for, as bytes (the table above names them).
var (
	// VIDNATTRFC3947 is MD5("RFC 3947"): NAT-T per RFC 3947 (payloads
	// 20/21, encapsulation modes 3/4).
	VIDNATTRFC3947 = mustHex("4a131c81070358455c5728f20e95452f")
	// VIDNATTDraft03 is MD5("draft-ietf-ipsec-nat-t-ike-03"); the drafts
	// use payloads 130/131 and encapsulation modes 61443/61444.
	VIDNATTDraft03 = mustHex("7d9419a65310ca6f2c179d9215529d56")
	// VIDNATTDraft02n is MD5("draft-ietf-ipsec-nat-t-ike-02\n"), the
	// misspelt draft-02 ID many implementations send.
	VIDNATTDraft02n = mustHex("90cb80913ebb696e086381b5ec427b1f")
	// VIDNATTDraft02 is MD5("draft-ietf-ipsec-nat-t-ike-02").
	VIDNATTDraft02 = mustHex("cd60464335df21f87cfdb2fc68b6a448")
	// VIDDPD announces Dead Peer Detection (RFC 3706 §4).
	VIDDPD = mustHex("afcad71368a1f1c96b8696fc77570100")
	// VIDXAUTH announces XAUTH (draft-beaulieu-ike-xauth).
	VIDXAUTH = mustHex("09002689dfd6b712")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
