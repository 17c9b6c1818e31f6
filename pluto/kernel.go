package pluto

import (
	"crypto/rand"
	"encoding/binary"
	"sync"

	"goswan/fsm"
	"goswan/spec"
)

// Kernel is where negotiated SAs go. The nostack kernel records them; the
// XFRM one (--use-netkey) installs them.
type Kernel interface {
	Name() string
	AllocSPI(proto spec.ProtocolID) []byte
	Install(sa *fsm.IPsecSA, inboundOnly bool) error
	Delete(sa *fsm.IPsecSA)
}

// NoStack is --use-nostack: negotiate everything, install nothing (the
// seed's "compiled without KLIPS").
type NoStack struct {
	mu   sync.Mutex
	spis map[uint32]bool
	sas  map[uint32]*fsm.IPsecSA // by inbound SPI
}

func NewNoStack() *NoStack {
	return &NoStack{spis: map[uint32]bool{}, sas: map[uint32]*fsm.IPsecSA{}}
}

func (k *NoStack) Name() string { return "nostack" }

// AllocSPI returns a random unused SPI above 0x1000 (pluto leaves
// 0x100-0xFFF for manual keying; IPComp CPIs are 2 octets above 0x100).
func (k *NoStack) AllocSPI(proto spec.ProtocolID) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		var b [4]byte
		rand.Read(b[:])
		v := binary.BigEndian.Uint32(b[:])
		if proto == spec.ProtoIPComp {
			v = 0x100 + v%0xfe00
			if !k.spis[v] {
				k.spis[v] = true
				return []byte{byte(v >> 8), byte(v)}
			}
			continue
		}
		if v >= 0x1000 && !k.spis[v] {
			k.spis[v] = true
			return b[:]
		}
	}
}

func (k *NoStack) Install(sa *fsm.IPsecSA, inboundOnly bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(sa.InboundSPI) == 4 {
		k.sas[binary.BigEndian.Uint32(sa.InboundSPI)] = sa
	}
	return nil
}

func (k *NoStack) Delete(sa *fsm.IPsecSA) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(sa.InboundSPI) == 4 {
		v := binary.BigEndian.Uint32(sa.InboundSPI)
		delete(k.sas, v)
		delete(k.spis, v)
	}
}

// Installed returns how many SA pairs are recorded.
func (k *NoStack) Installed() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.sas)
}
