package whack

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// End describes one end of a connection: the options before --to fill
// Message.Left, those after it Message.Right. Empty or zero means unset.
type End struct {
	Host            string `json:"host,omitempty"`            // --host: IP address, %any, %defaultroute, %opportunistic, %group, %opportunisticgroup or a DNS name (pluto resolves it)
	ID              string `json:"id,omitempty"`              // --id: IP, @fqdn, user@fqdn, DN, %myid... (pluto decodes it)
	Cert            string `json:"cert,omitempty"`            // --cert: certificate file
	CA              string `json:"ca,omitempty"`              // --ca: distinguished name of the CA
	Groups          string `json:"groups,omitempty"`          // --groups: access control groups
	SendCert        string `json:"sendcert,omitempty"`        // --sendcert: yes|always|forced|ifasked|no|never
	CertType        int    `json:"certtype,omitempty"`        // --certtype: certificate encoding number
	IKEPort         int    `json:"ikeport,omitempty"`         // --ikeport: 1-65535
	NextHop         string `json:"nexthop,omitempty"`         // --nexthop: IP address, %direct or %defaultroute
	Client          string `json:"client,omitempty"`          // --client: subnet, canonical ("10.1.0.0/24"; a bare address becomes /32 or /128)
	ClientWithin    string `json:"clientwithin,omitempty"`    // --clientwithin: subnet, canonical
	ClientProtoPort string `json:"clientprotoport,omitempty"` // --clientprotoport: "tcp/http", "17/1701" (see ParseProtoPort)
	SrcIP           string `json:"srcip,omitempty"`           // --srcip: IP address
	Updown          string `json:"updown,omitempty"`          // --updown: updown command
	DNSKeyOnDemand  bool   `json:"dnskeyondemand,omitempty"`  // --dnskeyondemand
	XauthServer     bool   `json:"xauthserver,omitempty"`     // --xauthserver (alias --xauth)
	XauthClient     bool   `json:"xauthclient,omitempty"`     // --xauthclient
	ModecfgServer   bool   `json:"modecfgserver,omitempty"`   // --modecfgserver (alias --modeconfigserver)
	ModecfgClient   bool   `json:"modecfgclient,omitempty"`   // --modecfgclient (alias --modeconfigclient)
	// XauthName is the XAUTH user name of this end as an XAUTH client
	// (ipsec.conf leftxauthusername=, leftusername=; whack has no option
	// for it: --initiate --xauthuser gives one for that negotiation).
	XauthName string `json:"xauthname,omitempty"`
	// AddressPool is the address a ModeCfg server hands out to this end
	// (ipsec.conf rightaddresspool=, a single address: "a-a" or "a/32");
	// pluto uses it as this end's client when --client is not given.
	AddressPool string `json:"addresspool,omitempty"`
}

// ConnDesc is the connection description: set only when HasConnection.
// It is embedded in Message, so its fields read as m.Left, m.PSK, ...
type ConnDesc struct {
	Left  End `json:"left,omitzero"`
	Right End `json:"right,omitzero"`

	AddrFamily string `json:"addrfamily,omitempty"` // --ipv4/--ipv6: "ipv4" or "ipv6"; "" = as the addresses say

	// Policy.
	PSK                 bool   `json:"psk,omitempty"`                 // --psk
	RSASig              bool   `json:"rsasig,omitempty"`              // --rsasig
	Encrypt             bool   `json:"encrypt,omitempty"`             // --encrypt
	Authenticate        bool   `json:"authenticate,omitempty"`        // --authenticate
	Compress            bool   `json:"compress,omitempty"`            // --compress
	Tunnel              bool   `json:"tunnel,omitempty"`              // --tunnel
	PFS                 bool   `json:"pfs,omitempty"`                 // --pfs
	DisableArrivalCheck bool   `json:"disablearrivalcheck,omitempty"` // --disablearrivalcheck
	DontRekey           bool   `json:"dontrekey,omitempty"`           // --dontrekey
	AggrMode            bool   `json:"aggrmode,omitempty"`            // --aggrmode
	ModecfgPull         bool   `json:"modecfgpull,omitempty"`         // --modecfgpull
	ForceEncaps         bool   `json:"forceencaps,omitempty"`         // --forceencaps
	Shunt               string `json:"shunt,omitempty"`               // --initiateontraffic "trap", --pass "pass", --drop "drop", --reject "reject"; "" = trap
	Fail                string `json:"fail,omitempty"`                // --failnone "none", --failpass "pass", --faildrop "drop", --failreject "reject"

	// Algorithms, in ipsec.conf syntax; pluto parses them.
	IKE      string `json:"ike,omitempty"`      // --ike (alias --ikealg): "aes128-sha1-modp2048,3des-md5"
	ESP      string `json:"esp,omitempty"`      // --esp: "3des-md5;modp1024", "aes256-sha2_256"
	PFSGroup string `json:"pfsgroup,omitempty"` // --pfsgroup: modp1024 ... modp8192

	// Lifetimes and rekeying. On the command line in seconds ("3600"), or
	// with a unit ("90s", "9m", "1h", "1d", "1h30m"). Zero or nil = pluto's
	// default; where 0 is a meaningful value the field is a pointer.
	IKELifetime   time.Duration  `json:"ikelifetime,omitempty"`   // --ikelifetime (default 1h, at most 1 day)
	IPsecLifetime time.Duration  `json:"ipseclifetime,omitempty"` // --ipseclifetime (default 8h, at most 1 day)
	RekeyMargin   *time.Duration `json:"rekeymargin,omitempty"`   // --rekeymargin (default 9m)
	RekeyFuzz     *int           `json:"rekeyfuzz,omitempty"`     // --rekeyfuzz, percent: "100%" or "100" (default 100)
	KeyingTries   *int           `json:"keyingtries,omitempty"`   // --keyingtries: count, 0 = %forever (default 3)

	// Dead Peer Detection: delay and timeout come together.
	DPDDelay   time.Duration `json:"dpddelay,omitempty"`   // --dpddelay
	DPDTimeout time.Duration `json:"dpdtimeout,omitempty"` // --dpdtimeout
	DPDAction  string        `json:"dpdaction,omitempty"`  // --dpdaction: clear|hold|restart|restart_by_peer

	// Mode Config addresses handed out by a server.
	ModecfgDNS1  string `json:"modecfgdns1,omitempty"`  // --modecfgdns1
	ModecfgDNS2  string `json:"modecfgdns2,omitempty"`  // --modecfgdns2
	ModecfgWINS1 string `json:"modecfgwins1,omitempty"` // --modecfgwins1
	ModecfgWINS2 string `json:"modecfgwins2,omitempty"` // --modecfgwins2

	Metric int `json:"metric,omitempty"` // --metric: route metric
	MTU    int `json:"mtu,omitempty"`    // --mtu: route MTU
}

// Message is what whack sends to pluto. Every field is optional; the zero
// value means unset. pluto acts on it in Openswan's order: options (debug)
// → myid → delete → deletestate → crash → add connection → listen/unlisten
// → reread/list/purge → add key → route → unroute → initiate →
// opportunistic initiate → terminate → status → shutdown.
type Message struct {
	Label string `json:"label,omitempty"` // --label: prefix for diagnostics
	Name  string `json:"name,omitempty"`  // --name: the connection

	// HasConnection: a connection description is present (--to was
	// given): add the connection described by ConnDesc.
	HasConnection bool `json:"connection,omitempty"`
	ConnDesc

	// TunnelAddrFamily (--tunnelipv4/--tunnelipv6): "ipv4" or "ipv6", the
	// family of the client subnets or of --oppohere/--oppothere.
	TunnelAddrFamily string `json:"tunneladdrfamily,omitempty"`

	// Public key form.
	KeyID     string `json:"keyid,omitempty"`     // --keyid: whose key
	AddKey    bool   `json:"addkey,omitempty"`    // --addkey: add to the keys of KeyID instead of replacing them
	PubKeyRSA string `json:"pubkeyrsa,omitempty"` // --pubkeyrsa: 0s<base64> or 0x<hex> (see PubKey)

	MyID string `json:"myid,omitempty"` // --myid

	// Commands.
	Route        bool   `json:"route,omitempty"`        // --route
	Unroute      bool   `json:"unroute,omitempty"`      // --unroute
	Initiate     bool   `json:"initiate,omitempty"`     // --initiate
	Terminate    bool   `json:"terminate,omitempty"`    // --terminate
	Delete       bool   `json:"delete,omitempty"`       // --delete
	DeleteState  int    `json:"deletestate,omitempty"`  // --deletestate: state serial number (from 1)
	Crash        string `json:"crash,omitempty"`        // --crash: peer IP address whose states are deleted
	OppoHere     string `json:"oppohere,omitempty"`     // --oppohere: IP address (with OppoThere: opportunistic initiation)
	OppoThere    string `json:"oppothere,omitempty"`    // --oppothere: IP address
	Asynchronous bool   `json:"asynchronous,omitempty"` // --asynchronous: do not wait for the negotiation
	XauthName    string `json:"xauthname,omitempty"`    // --xauthname (alias --xauthuser)
	XauthPass    string `json:"xauthpass,omitempty"`    // --xauthpass
	Listen       bool   `json:"listen,omitempty"`       // --listen
	Unlisten     bool   `json:"unlisten,omitempty"`     // --unlisten

	// List: what the --list* options, --checkpubkeys and --listall ask
	// for, in order: pubkeys, certs, cacerts, acerts, aacerts, ocspcerts,
	// groups, crls, ocsp, events, checkpubkeys, all. See WantsList.
	List []string `json:"list,omitempty"`
	UTC  bool     `json:"utc,omitempty"` // --utc: list times in UTC
	// Reread: --rereadsecrets, --rereadcacerts, ... --rereadall as
	// secrets, cacerts, aacerts, ocspcerts, acerts, crls, all. See WantsReread.
	Reread    []string `json:"reread,omitempty"`
	PurgeOCSP bool     `json:"purgeocsp,omitempty"` // --purgeocsp

	Status bool `json:"status,omitempty"` // --status
	// JSON (--json, only with --status): pluto answers with one JSON
	// document (schema version 1, see the goswan/pluto package), sent as
	// "000 " lines that whack prints without their code.
	JSON     bool `json:"json,omitempty"`
	Shutdown bool `json:"shutdown,omitempty"` // --shutdown

	// Debug holds the --debug-* options in order, as names without the
	// "debug-" prefix (none, all, raw, crypt, parsing, emitting, control,
	// controlmore, lifecycle, klips, dns, oppo, oppoinfo, whackwatch,
	// pfkey, natt, x509, dpd, private); aliases are folded (netkey and
	// xfrm → klips, nat-t, nat_t and nattraversal → natt). Impair holds
	// the --impair-* options the same way. With Name set they apply to
	// that connection, without it to pluto as a whole (see HasDebug).
	Debug  []string `json:"debug,omitempty"`
	Impair []string `json:"impair,omitempty"`

	WhackRecord     string `json:"whackrecord,omitempty"`     // --whackrecord FILE
	WhackStopRecord bool   `json:"whackstoprecord,omitempty"` // --whackstoprecord

	// Local to whack; never sent.
	Ctlbase string `json:"-"` // --ctlbase: the socket is Ctlbase + ".ctl"
	Help    bool   `json:"-"` // --help was given
	Version bool   `json:"-"` // --version was given
}

// DefaultCtlbase is pluto's default control socket path without ".ctl".
const DefaultCtlbase = "/var/run/pluto/pluto"

// SocketPath returns the path of pluto's control socket.
func (m *Message) SocketPath() string {
	if m.Ctlbase == "" {
		return DefaultCtlbase + ".ctl"
	}
	return m.Ctlbase + ".ctl"
}

// HasDebug reports whether the message changes debugging or impairments.
func (m *Message) HasDebug() bool { return len(m.Debug) > 0 || len(m.Impair) > 0 }

// WantsList reports whether the list (e.g. "pubkeys") was asked for,
// directly or with --listall. "pubkeys" is also implied by --checkpubkeys.
func (m *Message) WantsList(what string) bool {
	return slices.Contains(m.List, what) || slices.Contains(m.List, "all") ||
		what == "pubkeys" && slices.Contains(m.List, "checkpubkeys")
}

// WantsReread reports whether the reread (e.g. "secrets") was asked for,
// directly or with --rereadall.
func (m *Message) WantsReread(what string) bool {
	return slices.Contains(m.Reread, what) || slices.Contains(m.Reread, "all")
}

// PubKey decodes PubKeyRSA (RFC 3110 key bytes).
func (m *Message) PubKey() ([]byte, error) { return decodeKeyData(m.PubKeyRSA) }

// Framing: Magic, a 4-byte big-endian body length, then the JSON body.
const (
	Magic          = "GSW1" // the digit is the protocol version
	HeaderSize     = 8
	MaxMessageSize = 64 << 10 // bytes of JSON body
)

// Errors from ReadMessage; pluto answers them with code 030
// (RCBadWhackMessage) and the error's text, which is written to be shown
// as is ("ignoring runt message from whack: ...").
var (
	ErrRunt      = errors.New("ignoring runt message from whack")
	ErrBadMagic  = errors.New("ignoring message from whack with bad magic")
	ErrOversize  = errors.New("ignoring oversize message from whack")
	ErrMalformed = errors.New("ignoring malformed message from whack")
)

// Marshal encodes the message with its framing.
func (m *Message) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(Magic)
	buf.Write([]byte{0, 0, 0, 0})
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("whack: encoding message: %w", err)
	}
	b := buf.Bytes()
	b = b[:len(b)-1] // Encode's newline
	n := len(b) - HeaderSize
	if n > MaxMessageSize {
		return nil, fmt.Errorf("whack: message too large (%d bytes, limit %d)", n, MaxMessageSize)
	}
	binary.BigEndian.PutUint32(b[4:8], uint32(n))
	return b, nil
}

// WriteMessage writes the framed message in one Write.
func WriteMessage(w io.Writer, m *Message) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// ReadMessage reads one framed message and validates it (Validate). It
// reads exactly the message and nothing after it, never more than
// HeaderSize+MaxMessageSize bytes. Errors about the message wrap ErrRunt,
// ErrBadMagic, ErrOversize or ErrMalformed; an I/O error is returned
// wrapped as is.
func ReadMessage(r io.Reader) (*Message, error) {
	var hdr [HeaderSize]byte
	n, err := io.ReadFull(r, hdr[:])
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w (%d bytes, need at least %d)", ErrRunt, n, HeaderSize)
		}
		return nil, fmt.Errorf("whack: reading message: %w", err)
	}
	if string(hdr[:4]) != Magic {
		return nil, fmt.Errorf("%w %q; should be %q", ErrBadMagic, hdr[:4], Magic)
	}
	size := binary.BigEndian.Uint32(hdr[4:])
	if size > MaxMessageSize {
		return nil, fmt.Errorf("%w (%d bytes, limit %d)", ErrOversize, size, MaxMessageSize)
	}
	body := make([]byte, size)
	if n, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w (body of %d bytes, length says %d)", ErrRunt, n, size)
		}
		return nil, fmt.Errorf("whack: reading message: %w", err)
	}
	return decodeBody(body)
}

func decodeBody(body []byte) (*Message, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	m := new(Message)
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return m, nil
}

// ReadAnswer reads whack's answer to a 040/041 prompt: one line ending in
// "\n", at most MaxAnswer bytes. It reads byte by byte so that nothing
// after the line is consumed.
func ReadAnswer(r io.Reader) (string, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				return string(bytes.TrimSuffix(line, []byte("\r"))), nil
			}
			if len(line) >= MaxAnswer {
				return "", fmt.Errorf("whack: answer longer than %d bytes", MaxAnswer)
			}
			line = append(line, b[0])
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", fmt.Errorf("whack: reading answer: %w", err)
		}
	}
}

// MaxAnswer bounds an answer to a prompt.
const MaxAnswer = 1023
