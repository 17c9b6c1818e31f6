package secrets

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Any is the canonical spelling of the wildcard index. %any, %any6, 0.0.0.0
// and :: all canonicalise to it.
const Any = "%any"

// idKind classifies an index or a looked-up ID.
type idKind uint8

const (
	idAny  idKind = iota + 1 // %any, %any6, 0.0.0.0, ::
	idIP                     // an IPv4 or IPv6 address
	idName                   // @fqdn, user@fqdn, @#hex, @~hex, or a bare name
	idDN                     // an X.500 distinguished name
)

// ident is a parsed index or ID. text is the canonical spelling kept in
// Secret.IDs; norm is the form compared by equal.
type ident struct {
	kind idKind
	ip   netip.Addr
	text string
	norm string
}

// parseID classifies an index as written in ipsec.secrets, or an ID handed to
// a lookup. quoted reports that the token was a quoted string, which in
// index position is a DN.
func parseID(s string, quoted bool) (ident, error) {
	if s == "" {
		return ident{}, errors.New("empty index")
	}
	if quoted || (s[0] != '@' && strings.Contains(s, "=")) {
		norm, err := normalizeDN(s)
		if err != nil {
			return ident{}, err
		}
		return ident{kind: idDN, text: s, norm: norm}, nil
	}
	switch strings.ToLower(s) {
	case "%any", "%any6":
		return ident{kind: idAny, text: Any, norm: Any}, nil
	}
	if s[0] == '%' {
		return ident{}, fmt.Errorf("unknown keyword %q (only %%any and %%any6 are indices)", s)
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return ident{}, errors.New("an IP address index cannot have a zone")
		}
		if a.IsUnspecified() {
			return ident{kind: idAny, text: Any, norm: Any}, nil
		}
		return ident{kind: idIP, ip: a, text: a.String(), norm: a.String()}, nil
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return ident{}, errors.New("subnets are not indices (pluto matches IDs, not address ranges)")
	}
	if s == "@" || strings.HasSuffix(s, "@") {
		return ident{}, errors.New("empty domain name")
	}
	// @fqdn, user@fqdn, @#hex key id, @~hex DER DN, or a bare host or user
	// name. pluto resolves bare host names with DNS when it loads the file;
	// we do not, so a bare name only ever equals the same bare name (and,
	// for XAUTH, @name).
	norm := strings.ToLower(s)
	if len(norm) > 1 && strings.HasSuffix(norm, ".") {
		norm = norm[:len(norm)-1]
	}
	return ident{kind: idName, text: s, norm: norm}, nil
}

// equal reports whether index a and ID b name the same identity, the way
// pluto's same_id compares them: IP addresses by value, domain names and
// user@fqdn case-insensitively ignoring one trailing dot, DNs attribute by
// attribute. It does not treat %any as a wildcard: matching does that.
// When xauth is set, a leading "@" is ignored on names (carol == @carol).
func (a ident) equal(b ident, xauth bool) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case idIP:
		return a.ip == b.ip
	case idName:
		if xauth {
			return strings.TrimPrefix(a.norm, "@") == strings.TrimPrefix(b.norm, "@")
		}
		return a.norm == b.norm
	default:
		return a.norm == b.norm
	}
}

// dnAttrAliases folds common alternative spellings of DN attribute types.
var dnAttrAliases = map[string]string{
	"EMAILADDRESS": "E",
	"EMAIL":        "E",
	"S":            "ST",
	"SP":           "ST",
}

// normalizeDN turns "C=CH, O=Example AG, CN=host" (or the slash form
// "/C=CH/O=Example AG/CN=host") into a comparison key: attribute types
// upper-cased, values lower-cased with runs of blanks collapsed, RDN order
// kept. pluto compares DN string values case-insensitively as well.
func normalizeDN(s string) (string, error) {
	s = strings.TrimSpace(s)
	sep := byte(',')
	if strings.HasPrefix(s, "/") {
		sep = '/'
		s = s[1:]
	}
	var rdns []string
	var cur strings.Builder
	inQuote, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			cur.WriteByte(c)
			escaped = false
		case c == '\\':
			cur.WriteByte(c)
			escaped = true
		case c == '"':
			inQuote = !inQuote
			cur.WriteByte(c)
		case c == sep && !inQuote:
			rdns = append(rdns, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	rdns = append(rdns, cur.String())
	var out strings.Builder
	for i, rdn := range rdns {
		typ, val, ok := strings.Cut(rdn, "=")
		typ = strings.ToUpper(strings.TrimSpace(typ))
		if !ok || typ == "" {
			return "", errors.New("malformed DN (expected \"C=CH, O=Example, CN=host\")")
		}
		if alias, ok := dnAttrAliases[typ]; ok {
			typ = alias
		}
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(typ)
		out.WriteByte('=')
		out.WriteString(strings.ToLower(strings.Join(strings.Fields(val), " ")))
	}
	return out.String(), nil
}
