package payloads

// Hash Payload (RFC 2408 §3.11)
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                                                               !
//	~                           Hash Data                           ~
//	!                                                               !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// HASH_I/HASH_R in Phase 1 (RFC 2409 §5), HASH(1..3) in Quick Mode (§5.5),
// the informational HASH (§5.7). Its length is the negotiated PRF's output
// size, which the daemon checks (INVALID_HASH_INFORMATION).

import "goswan/spec"

// Hash is the Hash payload.
type Hash struct {
	Generic
	Data []byte
}

func (*Hash) Type() spec.PayloadType { return spec.PayloadHash }

// AppendBody implements Payload.
func (p *Hash) AppendBody(b []byte) []byte { return append(b, p.Data...) }

func (p *Hash) decode(_ spec.PayloadType, b []byte, _ int) error {
	p.Data = b
	return nil
}
