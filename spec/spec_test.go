package spec

import (
	"crypto/md5"
	"testing"
)

func TestNames(t *testing.T) {
	cases := []struct {
		got, want string
	}{
		{ExchangeIDProt.String(), "ID_PROT"},
		{ExchangeAggressive.String(), "AGGRESSIVE"},
		{ExchangeInfo.String(), "INFO"},
		{ExchangeQuick.String(), "QUICK"},
		{ExchangeType(99).String(), "EXCHANGE(99)"},
		{PayloadSA.String(), "SA"},
		{PayloadProposal.String(), "P"},
		{PayloadTransform.String(), "T"},
		{PayloadNonce.String(), "NONCE"},
		{PayloadVID.String(), "VID"},
		{PayloadNATD.String(), "NAT-D"},
		{PayloadNATDDraft.String(), "NAT-D"},
		{PayloadNATOA.String(), "NAT-OA"},
		{PayloadType(77).String(), "77"},
		{DOIIPsec.String(), "ISAKMP_DOI_IPSEC"},
		{SitIdentityOnly.String(), "SIT_IDENTITY_ONLY"},
		{ProtoESP.String(), "PROTO_IPSEC_ESP"},
		{TransformName(ProtoESP, ESPAES), "ESP_AES"},
		{TransformName(ProtoAH, AHSHA), "AH_SHA"},
		{TransformName(ProtoISAKMP, KeyIKE), "KEY_IKE"},
		{TransformName(ProtoIPComp, IPCompDeflate), "IPCOMP_DEFLATE"},
		{TransformName(ProtoESP, 17), "ESP(17)"},
		{OakleyEncryptionAlgorithm.String(), "OAKLEY_ENCRYPTION_ALGORITHM"},
		{OakleyLifeDuration.String(), "OAKLEY_LIFE_DURATION"},
		{OakleyAESCBC.String(), "OAKLEY_AES_CBC"},
		{Oakley3DESCBC.String(), "OAKLEY_3DES_CBC"},
		{OakleySHA1.String(), "OAKLEY_SHA1"},
		{AuthPSK.String(), "OAKLEY_PRESHARED_KEY"},
		{AuthRSASig.String(), "OAKLEY_RSA_SIG"},
		{GroupMODP2048.String(), "OAKLEY_GROUP_MODP2048"},
		{GroupECP256.ShortName(), "ecp256"},
		{IPsecEncapsulationMode.String(), "ENCAPSULATION_MODE"},
		{EncapTunnel.String(), "ENCAPSULATION_MODE_TUNNEL"},
		{EncapUDPTunnelDraft.String(), "ENCAPSULATION_MODE_UDP_TUNNEL_DRAFTS"},
		{AuthAlgHMACSHA1.String(), "AUTH_ALGORITHM_HMAC_SHA1"},
		{IDIPv4AddrSubnet.String(), "ID_IPV4_ADDR_SUBNET"},
		{IDDerASN1DN.String(), "ID_DER_ASN1_DN"},
		{CertX509Signature.String(), "CERT_X509_SIGNATURE"},
		{NoProposalChosen.String(), "NO_PROPOSAL_CHOSEN"},
		{PayloadMalformed.String(), "PAYLOAD_MALFORMED"},
		{ResponderLifetime.String(), "IPSEC_RESPONDER_LIFETIME"},
		{InitialContact.String(), "IPSEC_INITIAL_CONTACT"},
		{RUThere.String(), "R_U_THERE"},
		{RUThereAck.String(), "R_U_THERE_ACK"},
		{NotifyType(12345).String(), "NOTIFY(12345)"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestWireValues pins numbers that interop depends on to their RFC values.
func TestWireValues(t *testing.T) {
	pins := []struct {
		name      string
		got, want uint32
	}{
		{"ID_PROT", uint32(ExchangeIDProt), 2},
		{"QUICK", uint32(ExchangeQuick), 32},
		{"NAT-D", uint32(PayloadNATD), 20},
		{"NAT-D draft", uint32(PayloadNATDDraft), 130},
		{"NAT-OA draft", uint32(PayloadNATOADraft), 131},
		{"ESP_AES_GCM_16", uint32(ESPAESGCM16), 20},
		{"MODP2048", uint32(GroupMODP2048), 14},
		{"ECP_521", uint32(GroupECP521), 21},
		{"R_U_THERE", uint32(RUThere), 36136},
		{"INITIAL_CONTACT", uint32(InitialContact), 24578},
		{"UDP_TUNNEL_RFC", uint32(EncapUDPTunnel), 3},
		{"XAUTHInitPreShared", uint32(AuthXAuthInitPSK), 65001},
	}
	for _, p := range pins {
		if p.got != p.want {
			t.Errorf("%s = %d, want %d", p.name, p.got, p.want)
		}
	}
}

func TestPredicates(t *testing.T) {
	if !PayloadNATDDraft.IsNATD() || !PayloadNATD.IsNATD() || PayloadNATOA.IsNATD() {
		t.Error("IsNATD")
	}
	if PayloadType(77).Known() || !PayloadHash.Known() || PayloadNone.Known() {
		t.Error("Known")
	}
	if ProtoESP.SPISize() != 4 || ProtoIPComp.SPISize() != 2 || ProtoISAKMP.SPISize() != 16 {
		t.Error("SPISize")
	}
	if IDIPv6AddrSubnet.AddrLen() != 32 || IDFQDN.AddrLen() != -1 {
		t.Error("AddrLen")
	}
	if !ESPIsAEAD(ESPAESGCM16) || ESPIsAEAD(ESPAES) {
		t.Error("ESPIsAEAD")
	}
	if AuthXAuthInitPSK.Base() != AuthPSK || AuthHybridInitRSA.Base() != AuthRSASig || AuthPSK.Base() != AuthPSK {
		t.Error("Base")
	}
	if !InvalidHashInformation.IsError() || InitialContact.IsError() {
		t.Error("IsError")
	}
}

func TestVendorIDName(t *testing.T) {
	cases := map[string][]byte{
		"RFC 3947":            {0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f},
		"Dead Peer Detection": {0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00},
		"XAUTH":               {0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12},
		"":                    {1, 2, 3},
	}
	for want, vid := range cases {
		if got := VendorIDName(vid); got != want {
			t.Errorf("VendorIDName(%x) = %q, want %q", vid, got, want)
		}
	}
}

// TestNATTVendorIDs: the NAT-T Vendor IDs are the MD5 of their names
// (RFC 3947 §3.1; the drafts' own strings).
func TestNATTVendorIDs(t *testing.T) {
	for name, vid := range map[string][]byte{
		"RFC 3947":                        VIDNATTRFC3947,
		"draft-ietf-ipsec-nat-t-ike-03":   VIDNATTDraft03,
		"draft-ietf-ipsec-nat-t-ike-02\n": VIDNATTDraft02n,
		"draft-ietf-ipsec-nat-t-ike-02":   VIDNATTDraft02,
	} {
		sum := md5.Sum([]byte(name))
		if string(sum[:]) != string(vid) {
			t.Errorf("%q: MD5 %x, constant %x", name, sum, vid)
		}
		if VendorIDName(vid) == "" {
			t.Errorf("%q: VendorIDName does not know %x", name, vid)
		}
	}
}
