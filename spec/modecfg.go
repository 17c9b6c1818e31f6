package spec

import "strconv"

// ModeCfgAttr is an attribute class of the ATTR payload: ModeCfg
// (draft-dukes-ike-mode-cfg-02 §3.3, draft-ietf-ipsec-isakmp-mode-cfg-05)
// and XAUTH (draft-beaulieu-ike-xauth-02 §6).
type ModeCfgAttr uint16

const (
	InternalIP4Address  ModeCfgAttr = 1
	InternalIP4Netmask  ModeCfgAttr = 2
	InternalIP4DNS      ModeCfgAttr = 3
	InternalIP4NBNS     ModeCfgAttr = 4 // WINS
	InternalAddrExpiry  ModeCfgAttr = 5
	InternalIP4DHCP     ModeCfgAttr = 6
	ApplicationVersion  ModeCfgAttr = 7
	InternalIP4Subnet   ModeCfgAttr = 13
	SupportedAttributes ModeCfgAttr = 14

	XAuthType         ModeCfgAttr = 16520
	XAuthUserName     ModeCfgAttr = 16521
	XAuthUserPassword ModeCfgAttr = 16522
	XAuthPasscode     ModeCfgAttr = 16523
	XAuthMessage      ModeCfgAttr = 16524
	XAuthChallenge    ModeCfgAttr = 16525
	XAuthDomain       ModeCfgAttr = 16526
	XAuthStatus       ModeCfgAttr = 16527
	XAuthNextPin      ModeCfgAttr = 16528
	XAuthAnswer       ModeCfgAttr = 16529
)

// XAUTH-STATUS values and the generic XAUTH-TYPE.
const (
	XAuthStatusFail  = 0
	XAuthStatusOK    = 1
	XAuthTypeGeneric = 0
)

var modeCfgAttrNames = map[ModeCfgAttr]string{
	1: "INTERNAL_IP4_ADDRESS", 2: "INTERNAL_IP4_NETMASK", 3: "INTERNAL_IP4_DNS", 4: "INTERNAL_IP4_NBNS",
	5: "INTERNAL_ADDRESS_EXPIRY", 6: "INTERNAL_IP4_DHCP", 7: "APPLICATION_VERSION",
	13: "INTERNAL_IP4_SUBNET", 14: "SUPPORTED_ATTRIBUTES",
	16520: "XAUTH-TYPE", 16521: "XAUTH-USER-NAME", 16522: "XAUTH-USER-PASSWORD", 16523: "XAUTH-PASSCODE",
	16524: "XAUTH-MESSAGE", 16525: "XAUTH-CHALLENGE", 16526: "XAUTH-DOMAIN", 16527: "XAUTH-STATUS",
	16528: "XAUTH-NEXT-PIN", 16529: "XAUTH-ANSWER",
}

func (a ModeCfgAttr) String() string {
	if n, ok := modeCfgAttrNames[a]; ok {
		return n
	}
	return "MODECFG_ATTR_" + strconv.Itoa(int(a))
}
