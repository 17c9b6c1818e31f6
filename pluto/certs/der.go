package certs

import (
	"errors"
	"strconv"
	"strings"
)

// A minimal, bounded DER reader and writer for X.501 names. Only what a
// distinguished name needs: single-octet tags, definite lengths, nothing
// read past the end of its input (CVE-2009-2185, CVE-2013-2052: the ASN.1
// and DN parsers of pluto crashed on crafted input).

// ASN.1 universal tags used in names.
const (
	tagOID             = 0x06
	tagUTF8String      = 0x0c
	tagNumericString   = 0x12
	tagPrintableString = 0x13
	tagT61String       = 0x14
	tagIA5String       = 0x16
	tagVisibleString   = 0x1a
	tagUniversalString = 0x1c
	tagBMPString       = 0x1e
	tagSequence        = 0x30
	tagSet             = 0x31
)

// maxDERLen bounds every length read, far above any real name.
const maxDERLen = 1 << 20

var errTruncated = errors.New("truncated DER")

// readTLV splits one element off b: its tag, its contents, its whole
// encoding and the rest of b.
func readTLV(b []byte) (tag byte, content, whole, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, nil, errTruncated
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, nil, errors.New("multi-octet DER tag")
	}
	n, hdr := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 {
			return 0, nil, nil, nil, errors.New("indefinite DER length")
		}
		if k > 3 || len(b) < 2+k {
			return 0, nil, nil, nil, errors.New("bad DER length")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		if n < 0x80 || (k > 1 && b[2] == 0) {
			return 0, nil, nil, nil, errors.New("non-minimal DER length")
		}
		hdr += k
	}
	if n > maxDERLen || len(b)-hdr < n {
		return 0, nil, nil, nil, errTruncated
	}
	return tag, b[hdr : hdr+n], b[:hdr+n], b[hdr+n:], nil
}

// appendTLV appends the DER encoding of one element.
func appendTLV(dst []byte, tag byte, content []byte) []byte {
	dst = append(dst, tag)
	n := len(content)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n < 0x100:
		dst = append(dst, 0x81, byte(n))
	case n < 0x10000:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, content...)
}

// maxArc bounds OID arcs so that every OID read can be written back.
const maxArc = 1 << 56

// oidString decodes the contents of an OBJECT IDENTIFIER into dotted form.
func oidString(b []byte) (string, error) {
	if len(b) == 0 {
		return "", errors.New("empty OID")
	}
	var sb strings.Builder
	first := true
	for len(b) > 0 {
		var v uint64
		i := 0
		for {
			if i >= len(b) {
				return "", errors.New("truncated OID")
			}
			c := b[i]
			if i == 0 && c == 0x80 {
				return "", errors.New("non-minimal OID")
			}
			if v > (1<<57)-1 {
				return "", errors.New("OID arc too large")
			}
			v = v<<7 | uint64(c&0x7f)
			i++
			if c&0x80 == 0 {
				break
			}
		}
		b = b[i:]
		if v > maxArc+80 || (!first && v > maxArc) {
			return "", errors.New("OID arc too large")
		}
		if first {
			x := v / 40
			if x > 2 {
				x = 2
			}
			sb.WriteString(strconv.FormatUint(x, 10))
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(v-40*x, 10))
			first = false
			continue
		}
		sb.WriteByte('.')
		sb.WriteString(strconv.FormatUint(v, 10))
	}
	return sb.String(), nil
}

// oidBytes encodes a dotted OID ("2.5.4.3") as OBJECT IDENTIFIER contents.
func oidBytes(s string) ([]byte, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, errors.New("an OID needs at least two arcs")
	}
	arcs := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return nil, errors.New("malformed OID")
		}
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil || v > maxArc {
			return nil, errors.New("malformed OID")
		}
		arcs[i] = v
	}
	if arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) {
		return nil, errors.New("malformed OID")
	}
	var out []byte
	put := func(v uint64) {
		var tmp [10]byte
		i := len(tmp) - 1
		tmp[i] = byte(v & 0x7f)
		for v >>= 7; v > 0; v >>= 7 {
			i--
			tmp[i] = byte(v&0x7f) | 0x80
		}
		out = append(out, tmp[i:]...)
	}
	put(arcs[0]*40 + arcs[1])
	for _, v := range arcs[2:] {
		put(v)
	}
	return out, nil
}
