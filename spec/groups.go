package spec

// Group is the Oakley/IKE Diffie-Hellman group number, used both in the
// OAKLEY_GROUP_DESCRIPTION attribute and the IPsec GROUP_DESCRIPTION (PFS)
// attribute (RFC 2409 §6, RFC 3526, RFC 5114, RFC 5903, RFC 6932, RFC 8031).
type Group uint16

const (
	GroupNone         Group = 0
	GroupMODP768      Group = 1 // RFC 2409 §6.1
	GroupMODP1024     Group = 2 // RFC 2409 §6.2
	GroupEC2N155      Group = 3
	GroupEC2N185      Group = 4
	GroupMODP1536     Group = 5  // RFC 3526 §2
	GroupMODP2048     Group = 14 // RFC 3526 §3
	GroupMODP3072     Group = 15
	GroupMODP4096     Group = 16
	GroupMODP6144     Group = 17
	GroupMODP8192     Group = 18
	GroupECP256       Group = 19 // RFC 5903 §3.1
	GroupECP384       Group = 20
	GroupECP521       Group = 21
	GroupMODP1024S160 Group = 22 // RFC 5114: avoid
	GroupMODP2048S224 Group = 23
	GroupMODP2048S256 Group = 24
	GroupECP192       Group = 25
	GroupECP224       Group = 26
	GroupBrainpool224 Group = 27 // RFC 6932
	GroupBrainpool256 Group = 28
	GroupBrainpool384 Group = 29
	GroupBrainpool512 Group = 30
	GroupCurve25519   Group = 31
	GroupCurve448     Group = 32
)

var groupNames = nameTable{
	0: "OAKLEY_GROUP_NONE", 1: "OAKLEY_GROUP_MODP768", 2: "OAKLEY_GROUP_MODP1024",
	3: "OAKLEY_GROUP_GP155", 4: "OAKLEY_GROUP_GP185", 5: "OAKLEY_GROUP_MODP1536",
	14: "OAKLEY_GROUP_MODP2048", 15: "OAKLEY_GROUP_MODP3072", 16: "OAKLEY_GROUP_MODP4096",
	17: "OAKLEY_GROUP_MODP6144", 18: "OAKLEY_GROUP_MODP8192", 19: "OAKLEY_GROUP_ECP_256",
	20: "OAKLEY_GROUP_ECP_384", 21: "OAKLEY_GROUP_ECP_521", 22: "OAKLEY_GROUP_DH22",
	23: "OAKLEY_GROUP_DH23", 24: "OAKLEY_GROUP_DH24", 25: "OAKLEY_GROUP_ECP_192",
	26: "OAKLEY_GROUP_ECP_224", 27: "OAKLEY_GROUP_BRAINPOOL_P224R1", 28: "OAKLEY_GROUP_BRAINPOOL_P256R1",
	29: "OAKLEY_GROUP_BRAINPOOL_P384R1", 30: "OAKLEY_GROUP_BRAINPOOL_P512R1",
	31: "OAKLEY_GROUP_CURVE25519", 32: "OAKLEY_GROUP_CURVE448",
}

func (g Group) String() string { return groupNames.name(uint32(g), "OAKLEY_GROUP") }

// ShortName returns the ipsec.conf spelling: "modp2048", "ecp256", "dh22".
func (g Group) ShortName() string {
	switch g {
	case GroupMODP768:
		return "modp768"
	case GroupMODP1024:
		return "modp1024"
	case GroupMODP1536:
		return "modp1536"
	case GroupMODP2048:
		return "modp2048"
	case GroupMODP3072:
		return "modp3072"
	case GroupMODP4096:
		return "modp4096"
	case GroupMODP6144:
		return "modp6144"
	case GroupMODP8192:
		return "modp8192"
	case GroupECP256:
		return "ecp256"
	case GroupECP384:
		return "ecp384"
	case GroupECP521:
		return "ecp521"
	case GroupCurve25519:
		return "curve25519"
	}
	return "dh" + itoa(uint32(g))
}
