package payloads

// Vendor ID Payload (RFC 2408 §3.16)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                        Vendor ID (VID)                        ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Usually a hash of a vendor string; announces NAT-T (RFC 3947 §3.1), DPD
// (RFC 3706 §4), XAUTH, fragmentation and peer software.

import "goswan/spec"

// VendorID is the Vendor ID payload.
type VendorID struct {
	Generic
	Data []byte
}

func (*VendorID) Type() spec.PayloadType { return spec.PayloadVID }

// AppendBody implements Payload.
func (p *VendorID) AppendBody(b []byte) []byte { return append(b, p.Data...) }

// Name returns a human name for a well-known Vendor ID ("RFC 3947", "Dead
// Peer Detection", ...) or "".
func (p *VendorID) Name() string { return spec.VendorIDName(p.Data) }

func (p *VendorID) decode(_ spec.PayloadType, b []byte, _ int) error {
	p.Data = b
	return nil
}
