package spec

import "strconv"

// ISAKMP header constants (RFC 2408 §3.1).
const (
	HeaderLen        = 28 // octets in the fixed ISAKMP header
	GenericHeaderLen = 4  // octets in the generic payload header (RFC 2408 §3.2)
	MajorVersion     = 1  // ISAKMP major version (RFC 2408 §3.1)
	MinorVersion     = 0  // ISAKMP minor version (RFC 2408 §3.1)
	CookieLen        = 8  // initiator and responder cookie length

	// Flags (RFC 2408 §3.1).
	FlagEncryption = 0x01 // E: payloads after the header are encrypted
	FlagCommit     = 0x02 // C: commit; pluto ignores it (logged)
	FlagAuthOnly   = 0x04 // A: authentication only

	// NonESPMarker is the four zero octets that precede IKE on UDP 4500 (RFC 3948 §2.2).
	NonESPMarkerLen = 4

	// Ports.
	IKEPort  = 500  // RFC 2408 §2.5.2
	NATTPort = 4500 // RFC 3947 §4
	MinNonce = 8    // RFC 2409 §5: nonce length 8..256 octets
	MaxNonce = 256
)

// ExchangeType is the ISAKMP exchange type (RFC 2408 §3.1, RFC 2409 §5, IANA
// "Exchange Type" registry).
type ExchangeType uint8

const (
	ExchangeNone       ExchangeType = 0
	ExchangeBase       ExchangeType = 1
	ExchangeIDProt     ExchangeType = 2 // Main Mode
	ExchangeAuthOnly   ExchangeType = 3
	ExchangeAggressive ExchangeType = 4
	ExchangeInfo       ExchangeType = 5
	ExchangeModeCfg    ExchangeType = 6 // Transaction (draft-ietf-ipsec-isakmp-mode-cfg)
	ExchangeQuick      ExchangeType = 32
	ExchangeNewGroup   ExchangeType = 33
)

var exchangeNames = nameTable{
	0: "NONE", 1: "BASE", 2: "ID_PROT", 3: "AUTH_ONLY", 4: "AGGRESSIVE",
	5: "INFO", 6: "MODE_CFG", 32: "QUICK", 33: "NEW_GROUP",
}

func (x ExchangeType) String() string { return exchangeNames.name(uint32(x), "EXCHANGE") }

// PayloadType is the "next payload" value (RFC 2408 §3.1, RFC 3947 §3 and §5,
// draft-ietf-ipsec-nat-t-ike-02/03 private numbers, draft-ietf-ipsec-isakmp-mode-cfg).
type PayloadType uint8

const (
	PayloadNone       PayloadType = 0
	PayloadSA         PayloadType = 1
	PayloadProposal   PayloadType = 2
	PayloadTransform  PayloadType = 3
	PayloadKE         PayloadType = 4
	PayloadID         PayloadType = 5
	PayloadCert       PayloadType = 6
	PayloadCR         PayloadType = 7
	PayloadHash       PayloadType = 8
	PayloadSig        PayloadType = 9
	PayloadNonce      PayloadType = 10
	PayloadN          PayloadType = 11
	PayloadD          PayloadType = 12
	PayloadVID        PayloadType = 13
	PayloadAttr       PayloadType = 14 // ModeCfg / XAUTH attributes
	PayloadNATD       PayloadType = 20 // RFC 3947
	PayloadNATOA      PayloadType = 21 // RFC 3947
	PayloadNATDDraft  PayloadType = 130
	PayloadNATOADraft PayloadType = 131
	PayloadFragment   PayloadType = 132 // IKEv1 fragmentation (Cisco/strongSwan)
)

var payloadNames = nameTable{
	0: "NONE", 1: "SA", 2: "P", 3: "T", 4: "KE", 5: "ID", 6: "CERT", 7: "CR",
	8: "HASH", 9: "SIG", 10: "NONCE", 11: "N", 12: "D", 13: "VID", 14: "ATTR",
	20: "NAT-D", 21: "NAT-OA", 130: "NAT-D", 131: "NAT-OA", 132: "FRAG",
}

// String returns the short name ikedump and logs use ("SA", "NONCE", "NAT-D");
// an unknown type prints as its decimal number.
func (p PayloadType) String() string {
	if s, ok := payloadNames[uint32(p)]; ok {
		return s
	}
	return itoa(uint32(p))
}

// Known reports whether p is a payload type this implementation can parse.
func (p PayloadType) Known() bool {
	_, ok := payloadNames[uint32(p)]
	return ok && p != PayloadNone
}

// IsNATD reports whether p is a NAT-D payload (RFC or draft number).
func (p PayloadType) IsNATD() bool { return p == PayloadNATD || p == PayloadNATDDraft }

// IsNATOA reports whether p is a NAT-OA payload (RFC or draft number).
func (p PayloadType) IsNATOA() bool { return p == PayloadNATOA || p == PayloadNATOADraft }

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
