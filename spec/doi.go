package spec

// DOI is the Domain of Interpretation (RFC 2408 §3.4, RFC 2407 §4.2).
type DOI uint32

const (
	DOIISAKMP DOI = 0
	DOIIPsec  DOI = 1 // RFC 2407
)

var doiNames = nameTable{0: "ISAKMP_DOI_ISAKMP", 1: "ISAKMP_DOI_IPSEC"}

func (d DOI) String() string { return doiNames.name(uint32(d), "DOI") }

// Situation bits of the IPsec DOI (RFC 2407 §4.2).
type Situation uint32

const (
	SitIdentityOnly Situation = 0x01
	SitSecrecy      Situation = 0x02
	SitIntegrity    Situation = 0x04
)

var situationNames = nameTable{1: "SIT_IDENTITY_ONLY", 2: "SIT_SECRECY", 4: "SIT_INTEGRITY"}

func (s Situation) String() string { return situationNames.name(uint32(s), "SIT") }

// ProtocolID is the protocol of a proposal, notification or delete
// (RFC 2407 §4.4.1, IANA "IPSEC Security Protocol Identifiers").
type ProtocolID uint8

const (
	ProtoReserved ProtocolID = 0
	ProtoISAKMP   ProtocolID = 1
	ProtoAH       ProtocolID = 2
	ProtoESP      ProtocolID = 3
	ProtoIPComp   ProtocolID = 4
)

var protocolNames = nameTable{0: "PROTO_RESERVED", 1: "PROTO_ISAKMP", 2: "PROTO_IPSEC_AH", 3: "PROTO_IPSEC_ESP", 4: "PROTO_IPCOMP"}

func (p ProtocolID) String() string { return protocolNames.name(uint32(p), "PROTO") }

// SPISize is the SPI length a protocol carries in proposals and deletes:
// ISAKMP may send 0 or 16 (the cookie pair), AH and ESP 4, IPComp 2 (CPI)
// (RFC 2407 §4.4.1, RFC 2408 §3.5).
func (p ProtocolID) SPISize() int {
	switch p {
	case ProtoAH, ProtoESP:
		return 4
	case ProtoIPComp:
		return 2
	case ProtoISAKMP:
		return 16
	}
	return 0
}

// TransformID is a transform identifier; its meaning depends on the protocol
// of the proposal (RFC 2407 §4.4.2-§4.4.5).
type TransformID uint8

// ISAKMP transform (RFC 2407 §4.4.2).
const KeyIKE TransformID = 1

// AH transforms (RFC 2407 §4.4.3, IANA).
const (
	AHMD5        TransformID = 2
	AHSHA        TransformID = 3
	AHDES        TransformID = 4
	AHSHA2_256   TransformID = 5
	AHSHA2_384   TransformID = 6
	AHSHA2_512   TransformID = 7
	AHRIPEMD     TransformID = 8
	AHAESXCBCMAC TransformID = 9
	AHRSA        TransformID = 10
	AHAES128GMAC TransformID = 11
	AHAES192GMAC TransformID = 12
	AHAES256GMAC TransformID = 13
)

// ESP transforms (RFC 2407 §4.4.4, RFC 3602, RFC 3686, RFC 4106, RFC 4309, RFC 4543, IANA).
const (
	ESPDESIV64         TransformID = 1
	ESPDES             TransformID = 2
	ESP3DES            TransformID = 3
	ESPRC5             TransformID = 4
	ESPIDEA            TransformID = 5
	ESPCAST            TransformID = 6
	ESPBlowfish        TransformID = 7
	ESP3IDEA           TransformID = 8
	ESPDESIV32         TransformID = 9
	ESPRC4             TransformID = 10
	ESPNull            TransformID = 11
	ESPAES             TransformID = 12
	ESPAESCTR          TransformID = 13
	ESPAESCCM8         TransformID = 14
	ESPAESCCM12        TransformID = 15
	ESPAESCCM16        TransformID = 16
	ESPAESGCM8         TransformID = 18
	ESPAESGCM12        TransformID = 19
	ESPAESGCM16        TransformID = 20
	ESPSEEDCBC         TransformID = 21
	ESPCamellia        TransformID = 22
	ESPNullAuthAESGMAC TransformID = 23
)

// IPComp transforms (RFC 2407 §4.4.5).
const (
	IPCompOUI     TransformID = 1
	IPCompDeflate TransformID = 2
	IPCompLZS     TransformID = 3
	IPCompLZJH    TransformID = 4
)

var (
	isakmpTransformNames = nameTable{1: "KEY_IKE"}
	ahTransformNames     = nameTable{
		2: "AH_MD5", 3: "AH_SHA", 4: "AH_DES", 5: "AH_SHA2_256", 6: "AH_SHA2_384",
		7: "AH_SHA2_512", 8: "AH_RIPEMD", 9: "AH_AES_XCBC_MAC", 10: "AH_RSA",
		11: "AH_AES_128_GMAC", 12: "AH_AES_192_GMAC", 13: "AH_AES_256_GMAC",
	}
	espTransformNames = nameTable{
		1: "ESP_DES_IV64", 2: "ESP_DES", 3: "ESP_3DES", 4: "ESP_RC5", 5: "ESP_IDEA",
		6: "ESP_CAST", 7: "ESP_BLOWFISH", 8: "ESP_3IDEA", 9: "ESP_DES_IV32", 10: "ESP_RC4",
		11: "ESP_NULL", 12: "ESP_AES", 13: "ESP_AES_CTR", 14: "ESP_AES_CCM_8",
		15: "ESP_AES_CCM_12", 16: "ESP_AES_CCM_16", 18: "ESP_AES_GCM_8", 19: "ESP_AES_GCM_12",
		20: "ESP_AES_GCM_16", 21: "ESP_SEED_CBC", 22: "ESP_CAMELLIA", 23: "ESP_NULL_AUTH_AES_GMAC",
	}
	ipcompTransformNames = nameTable{1: "IPCOMP_OUI", 2: "IPCOMP_DEFLATE", 3: "IPCOMP_LZS", 4: "IPCOMP_LZJH"}
)

// TransformName returns the name of transform id t under protocol p.
func TransformName(p ProtocolID, t TransformID) string {
	switch p {
	case ProtoISAKMP:
		return isakmpTransformNames.name(uint32(t), "KEY")
	case ProtoAH:
		return ahTransformNames.name(uint32(t), "AH")
	case ProtoESP:
		return espTransformNames.name(uint32(t), "ESP")
	case ProtoIPComp:
		return ipcompTransformNames.name(uint32(t), "IPCOMP")
	}
	return "TRANSFORM(" + itoa(uint32(t)) + ")"
}

// ESPIsAEAD reports whether an ESP transform carries its own integrity
// (no Authentication Algorithm attribute; RFC 4106 §8.4, RFC 4309 §7.4).
func ESPIsAEAD(t TransformID) bool {
	switch t {
	case ESPAESCCM8, ESPAESCCM12, ESPAESCCM16, ESPAESGCM8, ESPAESGCM12, ESPAESGCM16, ESPNullAuthAESGMAC:
		return true
	}
	return false
}
