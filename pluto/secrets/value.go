package secrets

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"unicode"
)

// hasDataPrefix reports whether s starts like ttodata(3) data: 0x (hex), 0s
// (base64) or 0t (text), either case.
func hasDataPrefix(s string) bool {
	return len(s) >= 2 && s[0] == '0' && strings.IndexByte("xXsStT", s[1]) >= 0
}

// decodeData decodes ttodata(3) data: 0x hex (underscores allowed between
// digits for readability), 0s base64 (standard alphabet, padded), 0t text.
// Errors never quote the data.
func decodeData(s string) ([]byte, error) {
	if !hasDataPrefix(s) {
		return nil, errors.New("an unquoted secret must start with 0x, 0s or 0t (or be quoted)")
	}
	body := s[2:]
	if body == "" {
		return nil, fmt.Errorf("no data after %s", s[:2])
	}
	switch s[1] {
	case 'x', 'X':
		h := strings.ReplaceAll(body, "_", "")
		if len(h)%2 != 0 {
			return nil, errors.New("bad hex value: odd number of digits")
		}
		out := make([]byte, len(h)/2)
		for i := 0; i < len(h); i += 2 {
			hi, ok1 := unhex(h[i])
			lo, ok2 := unhex(h[i+1])
			if !ok1 || !ok2 {
				return nil, errors.New("bad hex value: not a hex digit")
			}
			out[i/2] = hi<<4 | lo
		}
		return out, nil
	case 's', 'S':
		out, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			var ce base64.CorruptInputError
			if errors.As(err, &ce) {
				return nil, fmt.Errorf("bad base64 value (at offset %d)", int64(ce))
			}
			return nil, errors.New("bad base64 value")
		}
		return out, nil
	default: // 't', 'T'
		return []byte(body), nil
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// rsaFields are the fields of an RSA { } block, in their required order
// (BIND 8.2 names, PKCS#1 RSAPrivateKey order).
var rsaFields = [...]string{"Modulus", "PublicExponent", "PrivateExponent", "Prime1", "Prime2", "Exponent1", "Exponent2", "Coefficient"}

const (
	fModulus = iota
	fPublicExponent
	fPrivateExponent
	fPrime1
	fPrime2
	fExponent1
	fExponent2
	fCoefficient
)

// RSA key size limits (pluto's RSA_MIN_OCTETS and RSA_MAX_OCTETS).
const (
	minRSABits = 512
	maxRSABits = 8192
)

func rsaField(name string) int {
	for i, f := range rsaFields {
		if strings.EqualFold(name, f) {
			return i
		}
	}
	return -1
}

// printableWord reports whether s is short and looks like a keyword, so
// that echoing it in an error cannot disclose key material.
func printableWord(s string) bool {
	if len(s) == 0 || len(s) > 24 || hasDataPrefix(s) {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// rsaBlock parses "{ Modulus: v PublicExponent: v ... }" starting at the
// "{" token t[i] and returns the index after the "}".
func (p *parser) rsaBlock(file string, sec *Secret, t []token, i int) (int, error) {
	open := t[i]
	type pair struct {
		field int
		line  int
	}
	var pairs []pair
	var values [len(rsaFields)][]byte
	var seen [len(rsaFields)]bool
	j := i + 1
	for {
		if j == len(t) {
			return 0, p.errorf(file, open.line, "RSA private key: unterminated '{' (the closing '}' must be indented)")
		}
		tok := t[j]
		if tok.is("}") {
			break
		}
		if tok.quoted {
			return 0, p.errorf(file, tok.line, "RSA private key: unexpected quoted string where a field name belongs")
		}
		if tok.is("{") || tok.is(":") {
			return 0, p.errorf(file, tok.line, "RSA private key: unexpected '%s' where a field name belongs", tok.text)
		}
		name, colon := tok.text, false
		if len(name) > 1 && strings.HasSuffix(name, ":") {
			name, colon = name[:len(name)-1], true
		}
		f := rsaField(name)
		switch {
		case f >= 0:
		case printableWord(name):
			return 0, p.errorf(file, tok.line, "RSA private key: unknown field %q", name)
		default:
			return 0, p.errorf(file, tok.line, "RSA private key: a value without a field name")
		}
		if seen[f] {
			return 0, p.errorf(file, tok.line, "RSA private key: %s appears twice", rsaFields[f])
		}
		j++
		if !colon && j < len(t) && t[j].is(":") {
			j++
		}
		if j == len(t) || t[j].is("}") {
			return 0, p.errorf(file, tok.line, "RSA private key: %s: missing value", rsaFields[f])
		}
		v := t[j]
		if v.quoted {
			return 0, p.errorf(file, v.line, "RSA private key: %s: the value must be 0s (base64) or 0x (hex) data, not a quoted string", rsaFields[f])
		}
		data, err := decodeData(v.text)
		if err != nil {
			return 0, p.errorf(file, v.line, "RSA private key: %s: %v", rsaFields[f], err)
		}
		if len(data) > maxRSABits/8+1 {
			return 0, p.errorf(file, v.line, "RSA private key: %s: longer than %d bits", rsaFields[f], maxRSABits)
		}
		values[f], seen[f] = data, true
		pairs = append(pairs, pair{f, tok.line})
		j++
	}
	closeLine := t[j].line
	j++
	for f := range rsaFields {
		if !seen[f] {
			line := closeLine
			if f < len(pairs) {
				line = pairs[f].line
			}
			return 0, p.errorf(file, line, "RSA private key: %s missing", rsaFields[f])
		}
	}
	for k, pr := range pairs {
		if pr.field != k {
			return 0, p.errorf(file, pr.line, "RSA private key: %s out of order: expected %s (the order is %s)",
				rsaFields[pr.field], rsaFields[k], strings.Join(rsaFields[:], ", "))
		}
	}
	key, err := buildRSA(values)
	if err != nil {
		return 0, p.errorf(file, open.line, "RSA private key: %v", err)
	}
	sec.RSA = key
	return j, nil
}

// buildRSA assembles and checks a key from the eight RSA { } values.
func buildRSA(v [len(rsaFields)][]byte) (*rsa.PrivateKey, error) {
	n := func(f int) *big.Int { return new(big.Int).SetBytes(v[f]) }
	N, E := n(fModulus), n(fPublicExponent)
	if bits := N.BitLen(); bits < minRSABits || bits > maxRSABits {
		return nil, fmt.Errorf("the Modulus of %d bits is outside %d..%d", bits, minRSABits, maxRSABits)
	}
	if !E.IsInt64() || E.Int64() < 3 || E.Int64() > 1<<31-1 || E.Bit(0) == 0 {
		return nil, errors.New("the PublicExponent is out of range (odd, 3 to 2^31-1)")
	}
	for _, f := range []int{fPrivateExponent, fPrime1, fPrime2, fExponent1, fExponent2, fCoefficient} {
		if n(f).Sign() == 0 {
			return nil, fmt.Errorf("the %s is zero", rsaFields[f])
		}
	}
	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: N, E: int(E.Int64())},
		D:         n(fPrivateExponent),
		Primes:    []*big.Int{n(fPrime1), n(fPrime2)},
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("inconsistent key: %v", err)
	}
	key.Precompute()
	switch {
	case key.Precomputed.Dp == nil || key.Precomputed.Dp.Cmp(n(fExponent1)) != 0:
		return nil, errors.New("inconsistent key: Exponent1 is not PrivateExponent mod (Prime1-1)")
	case key.Precomputed.Dq == nil || key.Precomputed.Dq.Cmp(n(fExponent2)) != 0:
		return nil, errors.New("inconsistent key: Exponent2 is not PrivateExponent mod (Prime2-1)")
	case key.Precomputed.Qinv == nil || key.Precomputed.Qinv.Cmp(n(fCoefficient)) != 0:
		return nil, errors.New("inconsistent key: Coefficient is not the inverse of Prime2 mod Prime1")
	}
	return key, nil
}

// rsaFile parses `file ["passphrase" | %prompt]` starting at t[i] and loads
// the key.
func (p *parser) rsaFile(file string, sec *Secret, t []token, i int) (int, error) {
	name := t[i]
	j := i + 1
	if j < len(t) && !(t[j].line > name.line && looksLikeEntry(t[j:])) {
		// A passphrase or %prompt. Only encrypted files need one, and those
		// are refused; for an unencrypted file it is ignored, as OpenSSL does.
		j++
	}
	path := name.text
	if path == "" || name.is("}") {
		return 0, p.errorf(file, name.line, "RSA: missing key file name")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.opts.IPsecDir, "private", path)
	}
	data, err := p.fsys.ReadFile(path)
	if err != nil {
		return 0, &ParseError{File: file, Line: name.line, Msg: fmt.Sprintf("RSA private key file %s: %s", path, errText(err)), Err: err}
	}
	key, err := parseKeyFile(data)
	if err != nil {
		return 0, &ParseError{File: file, Line: name.line, Msg: fmt.Sprintf("RSA private key file %s: %v", path, err), Err: err}
	}
	sec.RSA = key
	return j, nil
}

// ErrEncryptedKey is wrapped by the ParseError for an encrypted key file.
var ErrEncryptedKey = errors.New("the key file is encrypted; encrypted RSA key files are not supported yet (decrypt it, e.g. openssl pkey -in key.pem -out key.pem, or use an RSA { } block)")

// parseKeyFile decodes an unencrypted RSA private key: PEM or DER, PKCS#1
// or PKCS#8.
func parseKeyFile(data []byte) (*rsa.PrivateKey, error) {
	var key *rsa.PrivateKey
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		if bytes.Contains(data, []byte("-----BEGIN")) {
			return nil, errors.New("malformed PEM")
		}
		k, err := parseDER(data)
		if err != nil {
			return nil, errors.New("neither a PEM nor a DER RSA private key (PKCS#1 or PKCS#8)")
		}
		key = k
	case block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["DEK-Info"] != "" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED"):
		return nil, ErrEncryptedKey
	case block.Type == "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("malformed PKCS#1 RSA private key")
		}
		key = k
	case block.Type == "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("malformed PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("not an RSA key (%T)", k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("PEM block %q is not an RSA private key", block.Type)
	}
	if bits := key.N.BitLen(); bits < minRSABits || bits > maxRSABits {
		return nil, fmt.Errorf("modulus of %d bits is outside %d..%d", bits, minRSABits, maxRSABits)
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("inconsistent key: %v", err)
	}
	key.Precompute()
	return key, nil
}

func parseDER(der []byte) (*rsa.PrivateKey, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key (%T)", k)
	}
	return rk, nil
}
