//go:build !linux

package routing

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"syscall"

	"goswan/spec"
)

// XFRM is Linux only; elsewhere it cannot be opened.
type XFRM struct{}

// ErrNoXFRM and ErrNoESP are what Probe reports (wrapped with the reason).
var (
	ErrNoXFRM = errors.New("netlink XFRM is not available")
	ErrNoESP  = errors.New("the kernel has XFRM but no ESP")
)

var errNotLinux = fmt.Errorf("%w: not Linux", ErrNoXFRM)

// NewXFRM fails: XFRM is Linux's.
func NewXFRM() (*XFRM, error) { return nil, errNotLinux }

// Probe reports that there is no XFRM.
func Probe() error { return errNotLinux }

func (x *XFRM) Name() string                                               { return "netkey" }
func (x *XFRM) AllocSPI(proto spec.ProtocolID, src, dst netip.Addr) []byte { return nil }
func (x *XFRM) Install(sa *KernelSA, inboundOnly bool) error               { return errNotLinux }
func (x *XFRM) Delete(sa *KernelSA) error                                  { return errNotLinux }
func (x *XFRM) Route(p *KernelPolicy) error                                { return errNotLinux }
func (x *XFRM) Unroute(p *KernelPolicy) error                              { return errNotLinux }
func (x *XFRM) Updown(u *Updown) error                                     { return nil }
func (x *XFRM) Close() error                                               { return nil }

func (x *XFRM) UpdateEncap(sa *KernelSA) error { return errNotLinux }

// SetUDPEncap fails: the kernel's ESP-in-UDP decapsulation is Linux's.
func SetUDPEncap(c syscall.RawConn) error { return errNotLinux }

func (x *XFRM) WatchMapping(f func(Mapping)) (io.Closer, error) { return nil, errNotLinux }
