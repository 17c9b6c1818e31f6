package payloads

import (
	"bytes"
	"testing"

	"goswan/spec"
)

func TestHeaderRoundTrip(t *testing.T) {
	h := Header{
		ICookie: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, RCookie: [8]byte{8, 7, 6, 5, 4, 3, 2, 1},
		NextPayload: spec.PayloadHash, Version: 0x10, Exchange: spec.ExchangeQuick,
		Flags: spec.FlagEncryption | spec.FlagCommit, MessageID: 0xdeadbeef, Length: 0x01020304,
	}
	b := h.Append([]byte{0xff})
	if len(b) != 29 || b[0] != 0xff {
		t.Fatalf("Append did not append: %x", b)
	}
	want := unhex(t, "0102030405060708 0807060504030201 08 10 20 03 deadbeef 01020304")
	if !bytes.Equal(b[1:], want) {
		t.Fatalf("got %x\nwant %x", b[1:], want)
	}
	got, err := ParseHeader(b[1:])
	if err != nil || got != h {
		t.Fatalf("ParseHeader = %+v, %v", got, err)
	}
	if !got.Encrypted() || got.Major() != 1 || got.Minor() != 0 {
		t.Error("accessors")
	}
}

func TestHeaderErrors(t *testing.T) {
	good := msg(spec.PayloadNone, 0)
	for _, n := range []int{0, 1, 27} {
		_, err := ParseHeader(good[:n])
		wantNotify(t, err, spec.PayloadMalformed)
		_, err = DecodeMessage(good[:n])
		wantNotify(t, err, spec.PayloadMalformed)
	}
	if _, err := ParseHeader(good[:28]); err != nil {
		t.Error(err)
	}

	// Length field larger, then smaller, than the datagram.
	longer := bytes.Clone(good)
	longer[27]++
	e := wantNotify(t, decodeErr(longer), spec.UnequalPayloadLengths)
	if e.Offset != 24 || e.Payload != spec.PayloadNone {
		t.Errorf("error %+v", e)
	}
	shorter := append(bytes.Clone(good), 0, 0, 0, 0) // trailing octets beyond Length
	wantNotify(t, decodeErr(shorter), spec.UnequalPayloadLengths)
	tiny := bytes.Clone(good)
	tiny[27] = 4 // Length < 28
	wantNotify(t, decodeErr(tiny), spec.UnequalPayloadLengths)

	v2 := bytes.Clone(good)
	v2[17] = 0x20
	wantNotify(t, decodeErr(v2), spec.InvalidMajorVersion)
	v11 := bytes.Clone(good)
	v11[17] = 0x11
	wantNotify(t, decodeErr(v11), spec.InvalidMinorVersion)
}

func decodeErr(b []byte) error {
	_, err := DecodeMessage(b)
	return err
}
