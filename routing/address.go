package routing

import (
	"net/netip"
	"sync"
)

// AddressKernel is implemented by a kernel backend that can give this host
// an address a ModeCfg server handed out (the XAUTH/ModeCfg client's
// "virtual IP"): XFRM adds it to the loopback interface, nostack records
// it. The Phase 2 policy then uses it as our client (addr/32).
type AddressKernel interface {
	AddAddress(a netip.Addr) error
	DelAddress(a netip.Addr) error
}

// nostackAddrs records the addresses of a NoStack kernel.
var nostackAddrs = struct {
	sync.Mutex
	m map[*NoStack]map[netip.Addr]bool
}{m: map[*NoStack]map[netip.Addr]bool{}}

// AddAddress implements AddressKernel: recorded only.
func (k *NoStack) AddAddress(a netip.Addr) error {
	nostackAddrs.Lock()
	defer nostackAddrs.Unlock()
	if nostackAddrs.m[k] == nil {
		nostackAddrs.m[k] = map[netip.Addr]bool{}
	}
	nostackAddrs.m[k][a] = true
	return nil
}

// DelAddress implements AddressKernel.
func (k *NoStack) DelAddress(a netip.Addr) error {
	nostackAddrs.Lock()
	defer nostackAddrs.Unlock()
	delete(nostackAddrs.m[k], a)
	return nil
}

// Addresses returns the addresses recorded by AddAddress.
func (k *NoStack) Addresses() []netip.Addr {
	nostackAddrs.Lock()
	defer nostackAddrs.Unlock()
	var out []netip.Addr
	for a := range nostackAddrs.m[k] {
		out = append(out, a)
	}
	return out
}
