package spec

// AttrTVBit is the AF bit of a data attribute: set means Type/Value (2-octet
// value in the header), clear means Type/Length/Value (RFC 2408 §3.3).
const AttrTVBit = 0x8000

// OakleyAttr is a Phase 1 (ISAKMP transform) attribute class (RFC 2409 Appendix A).
type OakleyAttr uint16

const (
	OakleyEncryptionAlgorithm  OakleyAttr = 1  // B (basic)
	OakleyHashAlgorithm        OakleyAttr = 2  // B
	OakleyAuthenticationMethod OakleyAttr = 3  // B
	OakleyGroupDescription     OakleyAttr = 4  // B
	OakleyGroupType            OakleyAttr = 5  // B
	OakleyGroupPrime           OakleyAttr = 6  // V (variable)
	OakleyGroupGeneratorOne    OakleyAttr = 7  // V
	OakleyGroupGeneratorTwo    OakleyAttr = 8  // V
	OakleyGroupCurveA          OakleyAttr = 9  // V
	OakleyGroupCurveB          OakleyAttr = 10 // V
	OakleyLifeType             OakleyAttr = 11 // B
	OakleyLifeDuration         OakleyAttr = 12 // V: TV or TLV (RFC 2409 App. A)
	OakleyPRF                  OakleyAttr = 13 // B
	OakleyKeyLength            OakleyAttr = 14 // B
	OakleyFieldSize            OakleyAttr = 15 // B
	OakleyGroupOrder           OakleyAttr = 16 // V
)

var oakleyAttrNames = nameTable{
	1: "OAKLEY_ENCRYPTION_ALGORITHM", 2: "OAKLEY_HASH_ALGORITHM", 3: "OAKLEY_AUTHENTICATION_METHOD",
	4: "OAKLEY_GROUP_DESCRIPTION", 5: "OAKLEY_GROUP_TYPE", 6: "OAKLEY_GROUP_PRIME",
	7: "OAKLEY_GROUP_GENERATOR_ONE", 8: "OAKLEY_GROUP_GENERATOR_TWO", 9: "OAKLEY_GROUP_CURVE_A",
	10: "OAKLEY_GROUP_CURVE_B", 11: "OAKLEY_LIFE_TYPE", 12: "OAKLEY_LIFE_DURATION",
	13: "OAKLEY_PRF", 14: "OAKLEY_KEY_LENGTH", 15: "OAKLEY_FIELD_SIZE", 16: "OAKLEY_GROUP_ORDER",
}

func (a OakleyAttr) String() string { return oakleyAttrNames.name(uint32(a), "OAKLEY_ATTR") }

// Variable reports whether class a is a variable-length (V) class, which RFC
// 2409 Appendix A requires to be sent TLV unless it fits in two octets.
func (a OakleyAttr) Variable() bool {
	switch a {
	case OakleyGroupPrime, OakleyGroupGeneratorOne, OakleyGroupGeneratorTwo,
		OakleyGroupCurveA, OakleyGroupCurveB, OakleyLifeDuration, OakleyGroupOrder:
		return true
	}
	return false
}

// OakleyEncryption values (RFC 2409 Appendix A, RFC 3602, RFC 4312).
type OakleyEncryption uint16

const (
	OakleyDESCBC      OakleyEncryption = 1
	OakleyIDEACBC     OakleyEncryption = 2
	OakleyBlowfishCBC OakleyEncryption = 3
	OakleyRC5CBC      OakleyEncryption = 4
	Oakley3DESCBC     OakleyEncryption = 5
	OakleyCASTCBC     OakleyEncryption = 6
	OakleyAESCBC      OakleyEncryption = 7 // RFC 3602 §5; requires OAKLEY_KEY_LENGTH
	OakleyCamelliaCBC OakleyEncryption = 8 // RFC 4312
	OakleySerpentCBC  OakleyEncryption = 65004
	OakleyTwofishCBC  OakleyEncryption = 65005
)

var oakleyEncNames = nameTable{
	1: "OAKLEY_DES_CBC", 2: "OAKLEY_IDEA_CBC", 3: "OAKLEY_BLOWFISH_CBC", 4: "OAKLEY_RC5_R16_B64_CBC",
	5: "OAKLEY_3DES_CBC", 6: "OAKLEY_CAST_CBC", 7: "OAKLEY_AES_CBC", 8: "OAKLEY_CAMELLIA_CBC",
	65004: "OAKLEY_SERPENT_CBC", 65005: "OAKLEY_TWOFISH_CBC",
}

func (e OakleyEncryption) String() string { return oakleyEncNames.name(uint32(e), "OAKLEY_ENCRYPTION") }

// OakleyHash values (RFC 2409 Appendix A, RFC 4868 §2.2 numbers from IANA).
type OakleyHash uint16

const (
	OakleyMD5     OakleyHash = 1
	OakleySHA1    OakleyHash = 2
	OakleyTiger   OakleyHash = 3
	OakleySHA2256 OakleyHash = 4
	OakleySHA2384 OakleyHash = 5
	OakleySHA2512 OakleyHash = 6
)

var oakleyHashNames = nameTable{
	1: "OAKLEY_MD5", 2: "OAKLEY_SHA1", 3: "OAKLEY_TIGER", 4: "OAKLEY_SHA2_256",
	5: "OAKLEY_SHA2_384", 6: "OAKLEY_SHA2_512",
}

func (h OakleyHash) String() string { return oakleyHashNames.name(uint32(h), "OAKLEY_HASH") }

// AuthMethod values (RFC 2409 Appendix A, RFC 4754 §3, draft-beaulieu-ike-xauth-02 §7.2,
// draft-ietf-ipsec-isakmp-hybrid-auth-05).
type AuthMethod uint16

const (
	AuthPSK             AuthMethod = 1
	AuthDSSSig          AuthMethod = 2
	AuthRSASig          AuthMethod = 3
	AuthRSAEnc          AuthMethod = 4
	AuthRSARevisedEnc   AuthMethod = 5
	AuthECDSAP256       AuthMethod = 9
	AuthECDSAP384       AuthMethod = 10
	AuthECDSAP521       AuthMethod = 11
	AuthHybridInitRSA   AuthMethod = 64221
	AuthHybridRespRSA   AuthMethod = 64222
	AuthHybridInitDSS   AuthMethod = 64223
	AuthHybridRespDSS   AuthMethod = 64224
	AuthXAuthInitPSK    AuthMethod = 65001
	AuthXAuthRespPSK    AuthMethod = 65002
	AuthXAuthInitDSS    AuthMethod = 65003
	AuthXAuthRespDSS    AuthMethod = 65004
	AuthXAuthInitRSA    AuthMethod = 65005
	AuthXAuthRespRSA    AuthMethod = 65006
	AuthXAuthInitRSAEnc AuthMethod = 65007
	AuthXAuthRespRSAEnc AuthMethod = 65008
	AuthXAuthInitRSARev AuthMethod = 65009
	AuthXAuthRespRSARev AuthMethod = 65010
)

var authNames = nameTable{
	1: "OAKLEY_PRESHARED_KEY", 2: "OAKLEY_DSS_SIG", 3: "OAKLEY_RSA_SIG", 4: "OAKLEY_RSA_ENC",
	5: "OAKLEY_RSA_REVISED_MODE", 9: "OAKLEY_ECDSA_P256", 10: "OAKLEY_ECDSA_P384", 11: "OAKLEY_ECDSA_P521",
	64221: "HybridInitRSA", 64222: "HybridRespRSA", 64223: "HybridInitDSS", 64224: "HybridRespDSS",
	65001: "XAUTHInitPreShared", 65002: "XAUTHRespPreShared", 65003: "XAUTHInitDSS",
	65004: "XAUTHRespDSS", 65005: "XAUTHInitRSA", 65006: "XAUTHRespRSA", 65007: "XAUTHInitRSAEncryption",
	65008: "XAUTHRespRSAEncryption", 65009: "XAUTHInitRSARevisedEncryption", 65010: "XAUTHRespRSARevisedEncryption",
}

func (a AuthMethod) String() string { return authNames.name(uint32(a), "OAKLEY_AUTH") }

// Base returns the underlying method of an XAUTH or hybrid variant (what
// pluto's xauth_calcbaseauth does): XAUTHInitPreShared is PSK, and so on.
func (a AuthMethod) Base() AuthMethod {
	switch a {
	case AuthXAuthInitPSK, AuthXAuthRespPSK:
		return AuthPSK
	case AuthXAuthInitDSS, AuthXAuthRespDSS, AuthHybridInitDSS, AuthHybridRespDSS:
		return AuthDSSSig
	case AuthXAuthInitRSA, AuthXAuthRespRSA, AuthHybridInitRSA, AuthHybridRespRSA:
		return AuthRSASig
	case AuthXAuthInitRSAEnc, AuthXAuthRespRSAEnc:
		return AuthRSAEnc
	case AuthXAuthInitRSARev, AuthXAuthRespRSARev:
		return AuthRSARevisedEnc
	}
	return a
}

// GroupType values (RFC 2409 Appendix A).
type GroupType uint16

const (
	GroupTypeMODP GroupType = 1
	GroupTypeECP  GroupType = 2
	GroupTypeEC2N GroupType = 3
)

var groupTypeNames = nameTable{1: "OAKLEY_GROUP_TYPE_MODP", 2: "OAKLEY_GROUP_TYPE_ECP", 3: "OAKLEY_GROUP_TYPE_EC2N"}

func (g GroupType) String() string { return groupTypeNames.name(uint32(g), "OAKLEY_GROUP_TYPE") }

// LifeType values, shared by Phase 1 and the IPsec DOI (RFC 2409 App. A, RFC 2407 §4.5).
type LifeType uint16

const (
	LifeSeconds   LifeType = 1
	LifeKilobytes LifeType = 2
)

var lifeTypeNames = nameTable{1: "OAKLEY_LIFE_SECONDS", 2: "OAKLEY_LIFE_KILOBYTES"}

func (l LifeType) String() string { return lifeTypeNames.name(uint32(l), "OAKLEY_LIFE") }

// IPsecAttr is a Phase 2 (IPsec DOI) SA attribute class (RFC 2407 §4.5, RFC 4304 §2).
type IPsecAttr uint16

const (
	IPsecSALifeType         IPsecAttr = 1
	IPsecSALifeDuration     IPsecAttr = 2 // variable length
	IPsecGroupDescription   IPsecAttr = 3
	IPsecEncapsulationMode  IPsecAttr = 4
	IPsecAuthAlgorithm      IPsecAttr = 5
	IPsecKeyLength          IPsecAttr = 6
	IPsecKeyRounds          IPsecAttr = 7
	IPsecCompressDictSize   IPsecAttr = 8
	IPsecCompressPrivateAlg IPsecAttr = 9  // variable length
	IPsecECNTunnel          IPsecAttr = 10 // RFC 3168 §9.2.1
	IPsecESN                IPsecAttr = 11 // RFC 4304
)

var ipsecAttrNames = nameTable{
	1: "SA_LIFE_TYPE", 2: "SA_LIFE_DURATION", 3: "GROUP_DESCRIPTION", 4: "ENCAPSULATION_MODE",
	5: "AUTH_ALGORITHM", 6: "KEY_LENGTH", 7: "KEY_ROUNDS", 8: "COMPRESS_DICT_SIZE",
	9: "COMPRESS_PRIVATE_ALG", 10: "ECN_TUNNEL", 11: "ESN",
}

func (a IPsecAttr) String() string { return ipsecAttrNames.name(uint32(a), "IPSEC_ATTR") }

// Variable reports whether class a is variable length (RFC 2407 §4.5).
func (a IPsecAttr) Variable() bool {
	return a == IPsecSALifeDuration || a == IPsecCompressPrivateAlg
}

// EncapsulationMode values (RFC 2407 §4.5, RFC 3947 §5.2, draft-ietf-ipsec-nat-t-ike-02/03).
type EncapsulationMode uint16

const (
	EncapTunnel            EncapsulationMode = 1
	EncapTransport         EncapsulationMode = 2
	EncapUDPTunnel         EncapsulationMode = 3
	EncapUDPTransport      EncapsulationMode = 4
	EncapUDPTunnelDraft    EncapsulationMode = 61443
	EncapUDPTransportDraft EncapsulationMode = 61444
)

var encapNames = nameTable{
	1: "ENCAPSULATION_MODE_TUNNEL", 2: "ENCAPSULATION_MODE_TRANSPORT",
	3: "ENCAPSULATION_MODE_UDP_TUNNEL_RFC", 4: "ENCAPSULATION_MODE_UDP_TRANSPORT_RFC",
	61443: "ENCAPSULATION_MODE_UDP_TUNNEL_DRAFTS", 61444: "ENCAPSULATION_MODE_UDP_TRANSPORT_DRAFTS",
}

func (e EncapsulationMode) String() string { return encapNames.name(uint32(e), "ENCAPSULATION_MODE") }

// Base returns tunnel or transport for a UDP-encapsulated mode (RFC 3947
// or draft numbers) and whether e was one; other modes are returned as
// they are.
func (e EncapsulationMode) Base() (EncapsulationMode, bool) {
	switch e {
	case EncapUDPTunnel, EncapUDPTunnelDraft:
		return EncapTunnel, true
	case EncapUDPTransport, EncapUDPTransportDraft:
		return EncapTransport, true
	}
	return e, false
}

// AuthAlgorithm is the IPsec DOI Authentication Algorithm attribute value
// (RFC 2407 §4.5, RFC 4868 §2.4, RFC 4543 §4, IANA).
type AuthAlgorithm uint16

const (
	AuthAlgNone        AuthAlgorithm = 0
	AuthAlgHMACMD5     AuthAlgorithm = 1
	AuthAlgHMACSHA1    AuthAlgorithm = 2
	AuthAlgDESMAC      AuthAlgorithm = 3
	AuthAlgKPDK        AuthAlgorithm = 4
	AuthAlgHMACSHA2256 AuthAlgorithm = 5
	AuthAlgHMACSHA2384 AuthAlgorithm = 6
	AuthAlgHMACSHA2512 AuthAlgorithm = 7
	AuthAlgHMACRIPEMD  AuthAlgorithm = 8
	AuthAlgAESXCBC     AuthAlgorithm = 9
	AuthAlgSigRSA      AuthAlgorithm = 10
	AuthAlgAES128GMAC  AuthAlgorithm = 11
	AuthAlgAES192GMAC  AuthAlgorithm = 12
	AuthAlgAES256GMAC  AuthAlgorithm = 13
)

var authAlgNames = nameTable{
	0: "AUTH_ALGORITHM_NONE", 1: "AUTH_ALGORITHM_HMAC_MD5", 2: "AUTH_ALGORITHM_HMAC_SHA1",
	3: "AUTH_ALGORITHM_DES_MAC", 4: "AUTH_ALGORITHM_KPDK", 5: "AUTH_ALGORITHM_HMAC_SHA2_256",
	6: "AUTH_ALGORITHM_HMAC_SHA2_384", 7: "AUTH_ALGORITHM_HMAC_SHA2_512", 8: "AUTH_ALGORITHM_HMAC_RIPEMD",
	9: "AUTH_ALGORITHM_AES_XCBC", 10: "AUTH_ALGORITHM_SIG_RSA", 11: "AUTH_ALGORITHM_AES_128_GMAC",
	12: "AUTH_ALGORITHM_AES_192_GMAC", 13: "AUTH_ALGORITHM_AES_256_GMAC",
}

func (a AuthAlgorithm) String() string { return authAlgNames.name(uint32(a), "AUTH_ALGORITHM") }
