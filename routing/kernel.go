package routing

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"goswan/fsm"
	"goswan/fsm/proposal"
	"goswan/spec"
)

// Kernel is where negotiated IPsec SAs go, with the policies (eroutes)
// that send the connection's traffic through them. NoStack
// (--use-nostack) records them; XFRM (--use-netkey) installs them in Linux.
// The daemon calls a Kernel from its event loop; implementations are also
// safe for concurrent use.
type Kernel interface {
	// Name is the stack's name as pluto prints it ("nostack", "netkey";
	// PLUTO_STACK of the updown script).
	Name() string
	// AllocSPI returns a fresh SPI (4 octets), or a CPI (2 octets) for
	// IPComp, on which we will receive from src to dst. src and dst may be
	// invalid when the caller does not know them; the SPI is then chosen
	// at random. SPIs are never below 0x1000 (pluto leaves 0x100-0xFFF to
	// manual keying); CPIs are in 0x100-0xEFFF (RFC 3173).
	AllocSPI(proto spec.ProtocolID, src, dst netip.Addr) []byte
	// Install installs an IPsec SA pair. inboundOnly installs the inbound
	// SA and the policies admitting the peer's traffic (a Quick Mode
	// responder does that before QI2); otherwise whatever of the pair is
	// not installed yet, and the outbound policy. On error nothing of this
	// call is left in the kernel.
	Install(sa *KernelSA, inboundOnly bool) error
	// Delete removes everything Install put in the kernel for the pair
	// (also when only the inbound half was installed). An outbound policy
	// of a routed connection reverts to its trap.
	Delete(sa *KernelSA) error
	// Route installs the trap policy of a routed connection (whack
	// --route): outbound traffic of its clients is held back and the
	// kernel asks for keys (ACQUIRE). Unroute removes it.
	Route(p *KernelPolicy) error
	Unroute(p *KernelPolicy) error
	// Updown does what the default updown script ("ipsec _updown") would
	// do on this stack for u.Verb; it is called instead of a script when
	// the connection has no --updown.
	Updown(u *Updown) error
	// Close releases the kernel interface. Installed SAs stay.
	Close() error
}

// KernelPolicy is the traffic of one connection as the kernel's policy
// database sees it: the clients (the selectors) and the outer addresses,
// protocol and mode of the SAs the traffic goes through (the template).
type KernelPolicy struct {
	Conn  string          // connection name
	ReqID uint32          // ties the policies to the connection's SAs
	Proto spec.ProtocolID // ESP or AH
	// Compress: IPComp (DEFLATE) under Proto. As strongSwan and libreswan
	// install it, the IPComp SA has Mode and Proto's SA is in transport
	// mode inside it; the templates are IPComp (optional inbound: the
	// sender may leave small packets uncompressed) then Proto.
	Compress bool
	Mode     spec.EncapsulationMode
	// Local and Remote are the outer (IKE host) addresses.
	Local, Remote netip.Addr
	// LocalNet and RemoteNet are the clients: subnets with an optional
	// protocol and port; a host without a subnet is its address /32 (/128).
	LocalNet, RemoteNet fsm.Client
}

// KernelSA is a negotiated IPsec SA pair as the kernel is told about it.
type KernelSA struct {
	KernelPolicy
	ESP                     *proposal.ESPAlg // Proto ESP
	AH                      *proposal.AHAlg  // Proto AH
	InboundSPI, OutboundSPI uint32
	// InboundCPI and OutboundCPI are the IPComp SAs' CPIs (Compress).
	InboundCPI, OutboundCPI uint32
	// InboundKey and OutboundKey are the KEYMAT of each direction: the
	// cipher key (with the 4-octet salt for AES-GCM) then the integrity key.
	InboundKey, OutboundKey []byte
	// Lifetime is the negotiated lifetime: the hard limit of the kernel SA.
	Lifetime time.Duration
	// Encap is NAT-T's ESP in UDP (RFC 3948, XFRM's UDP_ENCAP_ESPINUDP)
	// between LocalPort and RemotePort; nil for plain ESP.
	Encap *Encap
}

// Encap is the UDP encapsulation of an SA pair through a NAT.
type Encap struct {
	LocalPort, RemotePort uint16
	// PeerOA is the peer's original address (NAT-OA, transport mode),
	// when known.
	PeerOA netip.Addr
}

// EncapUpdater is implemented by kernels that can move the UDP
// encapsulation of an installed pair to new ports (a peer behind a NAT
// whose mapping changed) without reinstalling it.
type EncapUpdater interface {
	UpdateEncap(sa *KernelSA) error
}

// NewKernelSA converts the state machine's SA pair for a connection. ah is
// the negotiated AH algorithm (fsm.IPsecSA carries only ESP's). A
// connection end without a subnet becomes its host address.
func NewKernelSA(sa *fsm.IPsecSA, conn string, reqid uint32, ah *proposal.AHAlg) (*KernelSA, error) {
	if sa == nil {
		return nil, fmt.Errorf("kernel: no SA")
	}
	k := &KernelSA{
		KernelPolicy: KernelPolicy{Conn: conn, ReqID: reqid, Proto: sa.Proto, Mode: sa.Mode,
			Local: sa.Local.Addr().Unmap(), Remote: sa.Remote.Addr().Unmap(),
			LocalNet: clientOrHost(sa.LocalNet, sa.Local.Addr()), RemoteNet: clientOrHost(sa.RemoteNet, sa.Remote.Addr())},
		ESP: sa.ESP, AH: ah, InboundKey: sa.InboundKey, OutboundKey: sa.OutboundKey, Lifetime: sa.Lifetime,
	}
	if sa.Encap {
		k.Encap = &Encap{LocalPort: sa.Local.Port(), RemotePort: sa.Remote.Port(), PeerOA: sa.PeerOA}
	}
	var err error
	if k.InboundSPI, err = SPIValue(sa.InboundSPI); err != nil {
		return nil, fmt.Errorf("kernel: inbound %v", err)
	}
	if len(sa.OutboundSPI) != 0 {
		if k.OutboundSPI, err = SPIValue(sa.OutboundSPI); err != nil {
			return nil, fmt.Errorf("kernel: outbound %v", err)
		}
	}
	if sa.Compressed() {
		k.Compress = true
		k.InboundCPI, _ = SPIValue(sa.InboundCPI)
		k.OutboundCPI, _ = SPIValue(sa.OutboundCPI)
	}
	return k, nil
}

func clientOrHost(c fsm.Client, host netip.Addr) fsm.Client {
	if c.Net.IsValid() {
		if a := c.Net.Addr(); a.Is4In6() && c.Net.Bits() >= 96 {
			c.Net = netip.PrefixFrom(a.Unmap(), c.Net.Bits()-96).Masked()
		}
		return c
	}
	a := host.Unmap()
	return fsm.Client{Net: netip.PrefixFrom(a, a.BitLen())}
}

// SPIValue reads a 4-octet SPI or a 2-octet CPI.
func SPIValue(b []byte) (uint32, error) {
	switch len(b) {
	case 4:
		return binary.BigEndian.Uint32(b), nil
	case 2:
		return uint32(binary.BigEndian.Uint16(b)), nil
	}
	return 0, fmt.Errorf("SPI of %d octets", len(b))
}

// SPIBytes returns the 4-octet SPI v.
func SPIBytes(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// Pair is how logs name an SA pair: "ESP=>0x8d727391 <0xc66770a2".
func (sa *KernelSA) Pair() string {
	s := fmt.Sprintf("%s=>0x%08x <0x%08x", protoName(sa.Proto), sa.OutboundSPI, sa.InboundSPI)
	if sa.Compress {
		s += fmt.Sprintf(" IPCOMP=>0x%08x <0x%08x", sa.OutboundCPI, sa.InboundCPI)
	}
	return s
}

func protoName(p spec.ProtocolID) string {
	switch p {
	case spec.ProtoESP:
		return "ESP"
	case spec.ProtoAH:
		return "AH"
	case spec.ProtoIPComp:
		return "IPCOMP"
	}
	return fmt.Sprintf("protocol %d", p)
}

// Tunnel reports tunnel mode.
func (p *KernelPolicy) Tunnel() bool { return p.Mode == spec.EncapTunnel }

// MinSPI is the lowest SPI we allocate: pluto leaves 0x100-0xFFF for
// manually keyed SAs (and 1-255 are reserved by IANA).
const MinSPI = 0x1000

// MinCPI and MaxCPI bound the CPIs we allocate: the range RFC 3173 §3.3
// leaves to negotiation.
const (
	MinCPI = 0x100
	MaxCPI = 0xefff
)

// Reqids per connection start above the range pluto leaves for manual
// keying (IPSEC_MANUAL_REQID_MAX 0x3fff) and go up in steps of 4 like
// Openswan's gen_reqid (one per AH, ESP, IPComp).
const (
	firstReqID = 0x4000
	reqIDStep  = 4
)

// ReqIDs hands out one reqid per connection name.
type ReqIDs struct {
	mu   sync.Mutex
	ids  map[string]uint32
	used map[uint32]bool
	next uint32
}

// Get returns the reqid of conn, allocating one the first time.
func (r *ReqIDs) Get(conn string) uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.ids[conn]; ok {
		return id
	}
	if r.ids == nil {
		r.ids, r.used, r.next = map[string]uint32{}, map[uint32]bool{}, firstReqID
	}
	for r.used[r.next] {
		r.next += reqIDStep
		if r.next < firstReqID {
			r.next = firstReqID
		}
	}
	id := r.next
	r.ids[conn], r.used[id] = id, true
	r.next += reqIDStep
	return id
}

// Lookup returns the connection that has reqid.
func (r *ReqIDs) Lookup(reqid uint32) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c, id := range r.ids {
		if id == reqid {
			return c, true
		}
	}
	return "", false
}

// Release forgets conn's reqid (the connection was deleted).
func (r *ReqIDs) Release(conn string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.ids[conn]; ok {
		delete(r.ids, conn)
		delete(r.used, id)
	}
}

// spiSet picks random SPIs and CPIs not handed out before.
type spiSet map[uint32]bool

func (s spiSet) random(proto spec.ProtocolID) uint32 {
	for {
		var b [4]byte
		rand.Read(b[:])
		v := binary.BigEndian.Uint32(b[:])
		if proto == spec.ProtoIPComp {
			v = MinCPI + v%(MaxCPI-MinCPI+1)
		}
		if (proto == spec.ProtoIPComp || v >= MinSPI) && !s[v] {
			s[v] = true
			return v
		}
	}
}

func spiBytes(proto spec.ProtocolID, v uint32) []byte {
	if proto == spec.ProtoIPComp {
		return []byte{byte(v >> 8), byte(v)}
	}
	return SPIBytes(v)
}

// NoStack is --use-nostack: negotiate everything, install nothing (the
// seed's "compiled without KLIPS"). It records the installed pairs.
type NoStack struct {
	mu     sync.Mutex
	spis   spiSet
	sas    map[uint32]*KernelSA // by inbound SPI
	routed map[string]bool
}

// NewNoStack returns an empty nostack kernel.
func NewNoStack() *NoStack {
	return &NoStack{spis: spiSet{}, sas: map[uint32]*KernelSA{}, routed: map[string]bool{}}
}

// Name implements Kernel.
func (k *NoStack) Name() string { return "nostack" }

// AllocSPI implements Kernel: a random unused SPI.
func (k *NoStack) AllocSPI(proto spec.ProtocolID, src, dst netip.Addr) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return spiBytes(proto, k.spis.random(proto))
}

// Install implements Kernel.
func (k *NoStack) Install(sa *KernelSA, inboundOnly bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sas[sa.InboundSPI] = sa
	return nil
}

// UpdateEncap implements EncapUpdater: the recorded pair takes the new
// ports.
func (k *NoStack) UpdateEncap(sa *KernelSA) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sas[sa.InboundSPI] == nil {
		return fmt.Errorf("kernel: no SA 0x%08x to update", sa.InboundSPI)
	}
	k.sas[sa.InboundSPI] = sa
	return nil
}

// SA returns the recorded pair with this inbound SPI, or nil.
func (k *NoStack) SA(inboundSPI uint32) *KernelSA {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sas[inboundSPI]
}

// Delete implements Kernel.
func (k *NoStack) Delete(sa *KernelSA) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.sas, sa.InboundSPI)
	delete(k.spis, sa.InboundSPI)
	return nil
}

// Route implements Kernel.
func (k *NoStack) Route(p *KernelPolicy) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.routed[p.Conn] = true
	return nil
}

// Unroute implements Kernel.
func (k *NoStack) Unroute(p *KernelPolicy) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.routed, p.Conn)
	return nil
}

// Updown implements Kernel: without a stack there is nothing to route.
func (k *NoStack) Updown(u *Updown) error { return nil }

// Close implements Kernel.
func (k *NoStack) Close() error { return nil }

// Installed returns how many SA pairs are recorded.
func (k *NoStack) Installed() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.sas)
}

// Routed returns how many connections have a trap recorded.
func (k *NoStack) Routed() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.routed)
}

// Mapping is the kernel's report that authenticated ESP in UDP for our
// inbound SA SPI (to Dst) now comes from NewSrc instead of OldSrc: a NAT
// in front of the peer changed its mapping.
type Mapping struct {
	Dst            netip.Addr
	SPI, ReqID     uint32
	OldSrc, NewSrc netip.AddrPort
}

// MappingWatcher is a kernel that reports NAT mapping changes.
type MappingWatcher interface {
	// WatchMapping calls f, from a goroutine of its own, for each change
	// until the returned Closer is closed.
	WatchMapping(f func(Mapping)) (io.Closer, error)
}
