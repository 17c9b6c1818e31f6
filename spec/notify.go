package spec

// NotifyType is the Notify Message Type (RFC 2408 §3.14.1, RFC 2407 §4.6.3,
// RFC 3706 §5, IANA "Notify Message Types").
type NotifyType uint16

// Errors (RFC 2408 §3.14.1): 1..16383.
const (
	NotifyNone              NotifyType = 0
	InvalidPayloadType      NotifyType = 1
	DOINotSupported         NotifyType = 2
	SituationNotSupported   NotifyType = 3
	InvalidCookie           NotifyType = 4
	InvalidMajorVersion     NotifyType = 5
	InvalidMinorVersion     NotifyType = 6
	InvalidExchangeType     NotifyType = 7
	InvalidFlags            NotifyType = 8
	InvalidMessageID        NotifyType = 9
	InvalidProtocolID       NotifyType = 10
	InvalidSPI              NotifyType = 11
	InvalidTransformID      NotifyType = 12
	AttributesNotSupported  NotifyType = 13
	NoProposalChosen        NotifyType = 14
	BadProposalSyntax       NotifyType = 15
	PayloadMalformed        NotifyType = 16
	InvalidKeyInformation   NotifyType = 17
	InvalidIDInformation    NotifyType = 18
	InvalidCertEncoding     NotifyType = 19
	InvalidCertificate      NotifyType = 20
	CertTypeUnsupported     NotifyType = 21
	InvalidCertAuthority    NotifyType = 22
	InvalidHashInformation  NotifyType = 23
	AuthenticationFailed    NotifyType = 24
	InvalidSignature        NotifyType = 25
	AddressNotification     NotifyType = 26
	NotifySALifetime        NotifyType = 27
	CertificateUnavailable  NotifyType = 28
	UnsupportedExchangeType NotifyType = 29
	UnequalPayloadLengths   NotifyType = 30
)

// Status (RFC 2408 §3.14.1, RFC 2407 §4.6.3, RFC 3706 §5).
const (
	Connected         NotifyType = 16384 // RFC 2408
	ResponderLifetime NotifyType = 24576 // RFC 2407 §4.6.3.1
	ReplayStatus      NotifyType = 24577 // RFC 2407 §4.6.3.2
	InitialContact    NotifyType = 24578 // RFC 2407 §4.6.3.3
	RUThere           NotifyType = 36136 // RFC 3706 §5
	RUThereAck        NotifyType = 36137 // RFC 3706 §5
)

var notifyNames = nameTable{
	1: "INVALID_PAYLOAD_TYPE", 2: "DOI_NOT_SUPPORTED", 3: "SITUATION_NOT_SUPPORTED",
	4: "INVALID_COOKIE", 5: "INVALID_MAJOR_VERSION", 6: "INVALID_MINOR_VERSION",
	7: "INVALID_EXCHANGE_TYPE", 8: "INVALID_FLAGS", 9: "INVALID_MESSAGE_ID",
	10: "INVALID_PROTOCOL_ID", 11: "INVALID_SPI", 12: "INVALID_TRANSFORM_ID",
	13: "ATTRIBUTES_NOT_SUPPORTED", 14: "NO_PROPOSAL_CHOSEN", 15: "BAD_PROPOSAL_SYNTAX",
	16: "PAYLOAD_MALFORMED", 17: "INVALID_KEY_INFORMATION", 18: "INVALID_ID_INFORMATION",
	19: "INVALID_CERT_ENCODING", 20: "INVALID_CERTIFICATE", 21: "CERT_TYPE_UNSUPPORTED",
	22: "INVALID_CERT_AUTHORITY", 23: "INVALID_HASH_INFORMATION", 24: "AUTHENTICATION_FAILED",
	25: "INVALID_SIGNATURE", 26: "ADDRESS_NOTIFICATION", 27: "NOTIFY_SA_LIFETIME",
	28: "CERTIFICATE_UNAVAILABLE", 29: "UNSUPPORTED_EXCHANGE_TYPE", 30: "UNEQUAL_PAYLOAD_LENGTHS",
	16384: "CONNECTED", 24576: "IPSEC_RESPONDER_LIFETIME", 24577: "IPSEC_REPLAY_STATUS",
	24578: "IPSEC_INITIAL_CONTACT", 36136: "R_U_THERE", 36137: "R_U_THERE_ACK",
}

func (n NotifyType) String() string { return notifyNames.name(uint32(n), "NOTIFY") }

// IsError reports whether n is in the error range 1..16383 (RFC 2408 §3.14.1).
func (n NotifyType) IsError() bool { return n >= 1 && n < 16384 }
