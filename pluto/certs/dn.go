package certs

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// attrType is one attribute type of pluto's DN string form.
type attrType struct {
	name string // the name FormatDN prints
	oid  string // dotted
	ia5  bool   // encoded as IA5String (email, domainComponent, unstructuredName)
}

// attrTypes follows pluto's x501rdns table (lib/libopenswan/x509dn.c), in
// its order, plus STREET and postalCode. Note pluto's spelling: S is the
// surname (2.5.4.4), SN the serialNumber (2.5.4.5), E the email address.
var attrTypes = []attrType{
	{"ND", "0.2.262.1.10.7.20", false},
	{"UID", "0.9.2342.19200300.100.1.1", false},
	{"DC", "0.9.2342.19200300.100.1.25", true},
	{"CN", "2.5.4.3", false},
	{"S", "2.5.4.4", false},
	{"SN", "2.5.4.5", false},
	{"C", "2.5.4.6", false},
	{"L", "2.5.4.7", false},
	{"ST", "2.5.4.8", false},
	{"STREET", "2.5.4.9", false},
	{"O", "2.5.4.10", false},
	{"OU", "2.5.4.11", false},
	{"T", "2.5.4.12", false},
	{"D", "2.5.4.13", false},
	{"postalCode", "2.5.4.17", false},
	{"N", "2.5.4.41", false},
	{"G", "2.5.4.42", false},
	{"I", "2.5.4.43", false},
	{"ID", "2.5.4.45", false},
	{"E", "1.2.840.113549.1.9.1", true},
	{"UN", "1.2.840.113549.1.9.2", true},
	{"TCGID", "1.3.6.1.4.1.1201.1.1.2.2.75", false},
}

// attrAliases are further spellings ParseDN accepts (case-insensitively).
var attrAliases = map[string]string{
	"SERIALNUMBER":     "SN",
	"EMAIL":            "E",
	"EMAILADDRESS":     "E",
	"UNSTRUCTUREDNAME": "UN",
}

var (
	attrByName = map[string]*attrType{} // upper-cased name → type
	attrByOID  = map[string]*attrType{} // OID contents → type
)

func init() {
	for i := range attrTypes {
		a := &attrTypes[i]
		attrByName[strings.ToUpper(a.name)] = a
		b, err := oidBytes(a.oid)
		if err != nil {
			panic("certs: bad OID in attrTypes: " + a.oid)
		}
		attrByOID[string(b)] = a
	}
	for alias, name := range attrAliases {
		attrByName[alias] = attrByName[strings.ToUpper(name)]
	}
}

// maxDNString bounds the DN strings ParseDN reads.
const maxDNString = 8192

// ParseDN converts pluto's string form of a distinguished name,
// "C=CH, O=Linux strongSwan, CN=west", to the DER of its RDNSequence, one
// single-valued RDN per attribute in the order written (pluto's atodn).
//
// Attribute types are the names of pluto's table, case-insensitively: C, ST,
// L, O, OU, CN, E (also Email, emailAddress), DC, UID, S (surname), SN
// (also serialNumber), T, D, N, G, I, ID, UN, ND, TCGID, STREET,
// postalCode, or a dotted OID such as 2.5.4.3. Separators are commas; a DN
// starting with "/" uses the slash form "/C=CH/O=Linux strongSwan/CN=west".
// Blanks around types and values are ignored. A value may be quoted
// ("O=\"Acme, Inc.\""); inside and outside quotes a backslash escapes the
// next character or, followed by two hex digits, gives that octet. A value
// "#hex" is the DER of the value itself (RFC 4514).
//
// Values are encoded as PrintableString when they fit, IA5String for E, DC
// and UN, UTF8String otherwise (T61String for octets that are not UTF-8).
func ParseDN(s string) ([]byte, error) {
	if len(s) > maxDNString {
		return nil, fmt.Errorf("DN longer than %d characters", maxDNString)
	}
	// Leading blanks go; trailing ones are dropped by the value parser
	// unless escaped with a backslash.
	t := strings.TrimRight(strings.TrimLeft(s, " \t\r\n"), "\r\n")
	if strings.TrimSpace(t) == "" {
		return nil, errors.New("empty DN")
	}
	p := dnParser{s: t, sep: ','}
	if t[0] == '/' {
		p.sep = '/'
		p.i = 1
	}
	var rdns []byte
	for {
		ava, err := p.ava()
		if err != nil {
			return nil, fmt.Errorf("DN %q: %v", s, err)
		}
		rdns = appendTLV(rdns, tagSet, ava)
		p.skipBlanks()
		if p.i >= len(p.s) {
			break
		}
		p.i++ // the separator
	}
	return appendTLV(nil, tagSequence, rdns), nil
}

type dnParser struct {
	s   string
	i   int
	sep byte
}

func (p *dnParser) skipBlanks() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// ava reads "type=value" up to the next separator or the end and returns
// the DER AttributeTypeAndValue.
func (p *dnParser) ava() ([]byte, error) {
	p.skipBlanks()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '=' && p.s[p.i] != p.sep {
		p.i++
	}
	typ := strings.TrimSpace(p.s[start:p.i])
	if p.i >= len(p.s) || p.s[p.i] != '=' {
		if typ == "" {
			return nil, errors.New("empty RDN")
		}
		return nil, fmt.Errorf("missing '=' after %q", typ)
	}
	p.i++ // '='
	if typ == "" {
		return nil, errors.New("missing attribute type before '='")
	}
	oid, ia5, err := lookupAttr(typ)
	if err != nil {
		return nil, err
	}
	p.skipBlanks()
	var value []byte // a whole DER value TLV
	switch {
	case p.i < len(p.s) && p.s[p.i] == '"':
		raw, err := p.quoted()
		if err != nil {
			return nil, err
		}
		value = encodeValue(raw, ia5)
		p.skipBlanks()
		if p.i < len(p.s) && p.s[p.i] != p.sep {
			return nil, fmt.Errorf("unexpected %q after the quoted value of %s", p.s[p.i], typ)
		}
	case p.i < len(p.s) && p.s[p.i] == '#':
		value, err = p.hexValue()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", typ, err)
		}
	default:
		raw, err := p.unquoted()
		if err != nil {
			return nil, err
		}
		value = encodeValue(raw, ia5)
	}
	body := appendTLV(nil, tagOID, oid)
	body = append(body, value...)
	return appendTLV(nil, tagSequence, body), nil
}

func lookupAttr(typ string) (oid []byte, ia5 bool, err error) {
	if a, ok := attrByName[strings.ToUpper(typ)]; ok {
		b, _ := oidBytes(a.oid)
		return b, a.ia5, nil
	}
	if typ[0] >= '0' && typ[0] <= '9' {
		b, err := oidBytes(typ)
		if err != nil {
			return nil, false, fmt.Errorf("attribute type %q: %v", typ, err)
		}
		if a, ok := attrByOID[string(b)]; ok {
			return b, a.ia5, nil
		}
		return b, false, nil
	}
	return nil, false, fmt.Errorf("unknown attribute type %q (use C, ST, L, O, OU, CN, E, DC, UID, SN, ... or a dotted OID)", typ)
}

// escape decodes the backslash sequence at p.i (just after the backslash).
func (p *dnParser) escape(out []byte) ([]byte, error) {
	if p.i >= len(p.s) {
		return nil, errors.New("DN ends with a backslash")
	}
	if p.i+1 < len(p.s) && isHex(p.s[p.i]) && isHex(p.s[p.i+1]) {
		out = append(out, unhex(p.s[p.i])<<4|unhex(p.s[p.i+1]))
		p.i += 2
		return out, nil
	}
	out = append(out, p.s[p.i])
	p.i++
	return out, nil
}

func (p *dnParser) quoted() ([]byte, error) {
	p.i++ // opening quote
	var out []byte
	for {
		if p.i >= len(p.s) {
			return nil, errors.New("unbalanced quotes")
		}
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return out, nil
		case '\\':
			var err error
			if out, err = p.escape(out); err != nil {
				return nil, err
			}
		default:
			out = append(out, c)
		}
	}
}

// unquoted reads up to the next unescaped separator; unescaped trailing
// blanks are dropped.
func (p *dnParser) unquoted() ([]byte, error) {
	var out []byte
	keep := 0 // length of out without the trailing unescaped blanks
	for p.i < len(p.s) && p.s[p.i] != p.sep {
		c := p.s[p.i]
		p.i++
		if c == '\\' {
			var err error
			if out, err = p.escape(out); err != nil {
				return nil, err
			}
			keep = len(out)
			continue
		}
		out = append(out, c)
		if c != ' ' && c != '\t' {
			keep = len(out)
		}
	}
	return out[:keep], nil
}

func (p *dnParser) hexValue() ([]byte, error) {
	p.i++ // '#'
	start := p.i
	for p.i < len(p.s) && isHex(p.s[p.i]) {
		p.i++
	}
	b, err := hex.DecodeString(p.s[start:p.i])
	if err != nil || len(b) == 0 {
		return nil, errors.New("#value needs an even number of hex digits")
	}
	p.skipBlanks()
	if p.i < len(p.s) && p.s[p.i] != p.sep {
		return nil, fmt.Errorf("unexpected %q in #value", p.s[p.i])
	}
	_, _, whole, rest, err := readTLV(b)
	if err != nil || len(rest) != 0 {
		return nil, errors.New("#value is not one DER element")
	}
	return whole, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// encodeValue picks the string type for a value the way pluto does
// (PrintableString when possible), with UTF8String instead of T61String
// for UTF-8 text.
func encodeValue(v []byte, ia5 bool) []byte {
	switch {
	case ia5 && isASCII(v):
		return appendTLV(nil, tagIA5String, v)
	case !ia5 && isPrintable(v):
		return appendTLV(nil, tagPrintableString, v)
	case utf8.Valid(v):
		return appendTLV(nil, tagUTF8String, v)
	}
	return appendTLV(nil, tagT61String, v)
}

func isASCII(v []byte) bool {
	for _, c := range v {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// isPrintable reports whether v fits a PrintableString (X.680 §41.4).
func isPrintable(v []byte) bool {
	for _, c := range v {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(" '()+,-./:=?", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// ava is one decoded AttributeTypeAndValue.
type ava struct {
	oid   []byte // OID contents
	tag   byte   // value tag
	value []byte // value contents
	whole []byte // value TLV
}

// parseRDNs decodes the DER of a Name into its attributes, flattened in
// order (multi-valued RDNs contribute their attributes one after another,
// as pluto's same_dn and dntoa walk them).
func parseRDNs(der []byte) ([]ava, error) {
	if len(der) == 0 {
		return nil, errors.New("empty DN")
	}
	tag, seq, _, rest, err := readTLV(der)
	if err != nil {
		return nil, err
	}
	if tag != tagSequence {
		return nil, errors.New("DN is not a SEQUENCE")
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data after DN")
	}
	var out []ava
	for len(seq) > 0 {
		var set []byte
		tag, set, _, seq, err = readTLV(seq)
		if err != nil {
			return nil, err
		}
		if tag != tagSet {
			return nil, errors.New("RDN is not a SET")
		}
		if len(set) == 0 {
			return nil, errors.New("empty RDN")
		}
		for len(set) > 0 {
			var atv []byte
			tag, atv, _, set, err = readTLV(set)
			if err != nil {
				return nil, err
			}
			if tag != tagSequence {
				return nil, errors.New("attributeTypeAndValue is not a SEQUENCE")
			}
			var a ava
			tag, a.oid, _, atv, err = readTLV(atv)
			if err != nil {
				return nil, err
			}
			if tag != tagOID {
				return nil, errors.New("attributeType is not an OID")
			}
			if _, err := oidString(a.oid); err != nil {
				return nil, err
			}
			a.tag, a.value, a.whole, atv, err = readTLV(atv)
			if err != nil {
				return nil, err
			}
			if len(atv) != 0 {
				return nil, errors.New("trailing data in attributeTypeAndValue")
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// text decodes a string value; ok is false for values that are not
// strings or not well formed.
func (a ava) text() (string, bool) {
	switch a.tag {
	case tagUTF8String:
		return string(a.value), utf8.Valid(a.value)
	case tagPrintableString, tagIA5String, tagNumericString, tagVisibleString, tagT61String:
		if utf8.Valid(a.value) {
			return string(a.value), true
		}
		r := make([]rune, len(a.value)) // Latin-1
		for i, c := range a.value {
			r[i] = rune(c)
		}
		return string(r), true
	case tagBMPString:
		if len(a.value)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(a.value)/2)
		for i := range u {
			u[i] = uint16(a.value[2*i])<<8 | uint16(a.value[2*i+1])
		}
		for i := 0; i < len(u); i++ {
			switch {
			case utf16.IsSurrogate(rune(u[i])):
				if u[i] >= 0xdc00 || i+1 >= len(u) || u[i+1] < 0xdc00 || u[i+1] > 0xdfff {
					return "", false
				}
				i++
			}
		}
		return string(utf16.Decode(u)), true
	case tagUniversalString:
		if len(a.value)%4 != 0 {
			return "", false
		}
		var sb strings.Builder
		for i := 0; i < len(a.value); i += 4 {
			r := rune(uint32(a.value[i])<<24 | uint32(a.value[i+1])<<16 | uint32(a.value[i+2])<<8 | uint32(a.value[i+3]))
			if !utf8.ValidRune(r) {
				return "", false
			}
			sb.WriteRune(r)
		}
		return sb.String(), true
	}
	return "", false
}

// FormatDN converts the DER of a distinguished name to pluto's string
// form, "C=CH, O=Linux strongSwan, CN=west": attributes in the order the
// DER has them, separated by ", ", named as ParseDN reads them (dotted OID
// for others). Values that would not read back are quoted ("O=\"Acme,
// Inc.\""), control characters escaped as \XX, and values that are not
// character strings written as #hex. ParseDN(FormatDN(der)) is the same
// name (SameDN).
func FormatDN(der []byte) (string, error) {
	avas, err := parseRDNs(der)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for i, a := range avas {
		if i > 0 {
			sb.WriteString(", ")
		}
		if t, ok := attrByOID[string(a.oid)]; ok {
			sb.WriteString(t.name)
		} else {
			s, _ := oidString(a.oid)
			sb.WriteString(s)
		}
		sb.WriteByte('=')
		if s, ok := a.text(); ok {
			writeValue(&sb, s)
		} else {
			sb.WriteByte('#')
			sb.WriteString(hex.EncodeToString(a.whole))
		}
	}
	return sb.String(), nil
}

func writeValue(sb *strings.Builder, s string) {
	quote := strings.ContainsAny(s, ",\"\\") || strings.HasPrefix(s, "#") ||
		strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") ||
		strings.HasPrefix(s, "\t") || strings.HasSuffix(s, "\t")
	if quote {
		sb.WriteByte('"')
	}
	for _, r := range s {
		switch {
		case quote && (r == '"' || r == '\\'):
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && !unicode.IsGraphic(r)):
			var buf [utf8.UTFMax]byte
			for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
				fmt.Fprintf(sb, "\\%02X", c)
			}
		default:
			sb.WriteRune(r)
		}
	}
	if quote {
		sb.WriteByte('"')
	}
}

// SameDN reports whether two DER distinguished names are the same name,
// as pluto's same_dn: the same attribute types in the same order, string
// values equal ignoring case (whatever their string types); values that
// are not strings must be identical.
func SameDN(a, b []byte) bool {
	ok, _ := matchDN(a, b, false)
	return ok
}

// MatchDN is SameDN where an attribute value "*" in pattern matches any
// value (pluto's match_dn for rightid="C=CH, O=Acme, CN=*"); wildcards is
// the number of such attributes, fewer meaning a better match.
func MatchDN(dn, pattern []byte) (ok bool, wildcards int) {
	return matchDN(dn, pattern, true)
}

func matchDN(a, b []byte, wild bool) (bool, int) {
	if !wild && len(a) > 0 && bytes.Equal(a, b) {
		_, err := parseRDNs(a)
		return err == nil, 0
	}
	x, err := parseRDNs(a)
	if err != nil {
		return false, 0
	}
	y, err := parseRDNs(b)
	if err != nil || len(x) != len(y) {
		return false, 0
	}
	n := 0
	for i := range x {
		if !bytes.Equal(x[i].oid, y[i].oid) {
			return false, 0
		}
		sx, okx := x[i].text()
		sy, oky := y[i].text()
		if wild && oky && sy == "*" {
			n++
			continue
		}
		if okx && oky {
			if !strings.EqualFold(sx, sy) {
				return false, 0
			}
		} else if !bytes.Equal(x[i].whole, y[i].whole) {
			return false, 0
		}
	}
	return true, n
}
