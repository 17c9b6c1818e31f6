package spec

// IDType is the identification type of an ID payload (RFC 2407 §4.6.2.1,
// RFC 3554 §4 for ID_LIST).
type IDType uint8

const (
	IDIPv4Addr       IDType = 1
	IDFQDN           IDType = 2
	IDUserFQDN       IDType = 3
	IDIPv4AddrSubnet IDType = 4
	IDIPv6Addr       IDType = 5
	IDIPv6AddrSubnet IDType = 6
	IDIPv4AddrRange  IDType = 7
	IDIPv6AddrRange  IDType = 8
	IDDerASN1DN      IDType = 9
	IDDerASN1GN      IDType = 10
	IDKeyID          IDType = 11
	IDList           IDType = 12
)

var idNames = nameTable{
	1: "ID_IPV4_ADDR", 2: "ID_FQDN", 3: "ID_USER_FQDN", 4: "ID_IPV4_ADDR_SUBNET",
	5: "ID_IPV6_ADDR", 6: "ID_IPV6_ADDR_SUBNET", 7: "ID_IPV4_ADDR_RANGE", 8: "ID_IPV6_ADDR_RANGE",
	9: "ID_DER_ASN1_DN", 10: "ID_DER_ASN1_GN", 11: "ID_KEY_ID", 12: "ID_LIST",
}

func (t IDType) String() string { return idNames.name(uint32(t), "ID") }

// AddrLen returns the exact identification-data length an address ID type
// needs (4 or 16 octets, doubled for subnets and ranges), or -1 when the type
// is variable length.
func (t IDType) AddrLen() int {
	switch t {
	case IDIPv4Addr:
		return 4
	case IDIPv4AddrSubnet, IDIPv4AddrRange:
		return 8
	case IDIPv6Addr:
		return 16
	case IDIPv6AddrSubnet, IDIPv6AddrRange:
		return 32
	}
	return -1
}

// CertEncoding is the encoding field of CERT and CR payloads (RFC 2408 §3.9).
type CertEncoding uint8

const (
	CertNone              CertEncoding = 0
	CertPKCS7             CertEncoding = 1
	CertPGP               CertEncoding = 2
	CertDNSSignedKey      CertEncoding = 3
	CertX509Signature     CertEncoding = 4
	CertX509KeyExchange   CertEncoding = 5
	CertKerberos          CertEncoding = 6
	CertCRL               CertEncoding = 7
	CertARL               CertEncoding = 8
	CertSPKI              CertEncoding = 9
	CertX509Attribute     CertEncoding = 10
	CertRawRSA            CertEncoding = 11 // draft / IKEv2 number, used by some IKEv1 peers
	CertHashURLX509       CertEncoding = 12
	CertHashURLX509Bundle CertEncoding = 13
)

var certNames = nameTable{
	0: "CERT_NONE", 1: "CERT_PKCS7_WRAPPED_X509", 2: "CERT_PGP", 3: "CERT_DNS_SIGNED_KEY",
	4: "CERT_X509_SIGNATURE", 5: "CERT_X509_KEY_EXCHANGE", 6: "CERT_KERBEROS_TOKENS", 7: "CERT_CRL",
	8: "CERT_ARL", 9: "CERT_SPKI", 10: "CERT_X509_ATTRIBUTE", 11: "CERT_RAW_RSA",
	12: "CERT_X509_CERT_URL", 13: "CERT_X509_BUNDLE_URL",
}

func (c CertEncoding) String() string { return certNames.name(uint32(c), "CERT") }

// IP protocol numbers used in ID payload protocol fields (IANA).
const (
	IPProtoAny    = 0
	IPProtoICMP   = 1
	IPProtoTCP    = 6
	IPProtoUDP    = 17
	IPProtoGRE    = 47
	IPProtoESP    = 50
	IPProtoAH     = 51
	IPProtoICMPv6 = 58
)
