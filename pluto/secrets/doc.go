// Package secrets reads ipsec.secrets(5) the way pluto does and finds the
// pre-shared key, RSA private key or XAUTH password for a pair of IDs.
//
// # File format
//
//	file    := { entry | "include" WS glob | comment }
//	entry   := [index {WS index}] ":" WS secret
//	index   := IP | @FQDN | user@FQDN | %any | %any6 | "DN" | @#hex | @~hex | name
//	                                         ; not subnets (refused)
//	secret  := ["PSK"] "quoted" | ["PSK"] 0x… | 0s… | 0t…
//	         | "RSA" "{" Modulus: v PublicExponent: v PrivateExponent: v
//	                     Prime1: v Prime2: v Exponent1: v Exponent2: v Coefficient: v "}"
//	         | "RSA" file ["passphrase" | %prompt]
//	         | "XAUTH" "password" | "XAUTH" 0x…/0s…/0t…
//
// Layout, as in pluto's lexer:
//
//   - An entry (a record) starts in column 1; its continuation lines are
//     indented. That includes the closing "}" of an RSA block.
//   - Blank lines and comment lines may appear anywhere, also inside a
//     record. "#" starts a comment at the beginning of a line or after white
//     space; elsewhere (inside a word or a quoted string) it is literal.
//   - Quoted strings use double or single quotes, end at the next quote of
//     the same kind on the same line and have no escapes: a backslash is a
//     backslash. Write a secret containing " in single quotes and vice versa.
//     A closing quote must be followed by white space, the end of the line,
//     or the entry separator (`"C=CH, CN=west": RSA ...`).
//   - A word ending in ":" is an index followed by the ":" separator
//     ("@west: RSA ..."), except when the whole word is an IPv6 address
//     such as "2001:db8::".
//   - Keywords (include, PSK, RSA, XAUTH, %prompt, %any, the RSA field names)
//     are case-insensitive. PSK is the default kind.
//
// Indices: IP addresses are kept in netip canonical form; %any, %any6,
// 0.0.0.0 and :: all become "%any". A quoted index, or a word containing "="
// that does not start with "@", is a DN. Other words (@fqdn, user@fqdn,
// @#hex key ids, bare names) are kept as written; pluto would resolve a bare
// host name with DNS, this package does not, so a bare name only equals the
// same bare name (and, for XAUTH, "carol" equals "@carol").
//
// Values: 0x is hex ("_" allowed between digits), 0s is padded standard
// base64, 0t is the rest of the word as text (ttodata(3)). Quoted PSK and
// XAUTH values are taken verbatim. Empty secrets are refused.
//
// RSA blocks hold the eight fields in the order above, one "Name: value" each
// (the ":" is optional), values as 0s or 0x data; the key must be consistent
// (crypto/rsa Validate, and the CRT values must agree) and between 512 and
// 8192 bits. "RSA file" reads a PEM or DER, PKCS#1 or PKCS#8 key; a relative
// path is taken from Options.IPsecDir/private. Encrypted key files are
// refused with ErrEncryptedKey for now; a passphrase or %prompt after an
// unencrypted file is ignored.
//
// Includes: the pattern is a glob(3) pattern (filepath.Glob; names starting
// with "." are only matched by a pattern element starting with "."),
// relative to the directory of the including file. A pattern without
// metacharacters must name an existing file; a pattern with metacharacters
// may match nothing (like "include /etc/ipsec.d/*.secrets"). Matched
// directories are skipped. Includes nest at most Options.MaxInclude (10)
// deep, and a file that includes itself, directly or not, is an error.
//
// Errors: pluto logs a bad entry and goes on; Load and Parse stop at the
// first problem and return a *ParseError "FILE:LINE: message", so a Store
// is always complete. Messages never contain a secret, not even a mistyped
// keyword that might be one.
//
// # Matching
//
// See Store.Find: the most specific entry wins (IDs matched exactly count
// most, %any is a wildcard that counts less, then pluto's ranking: both IDs
// matched, ours by a one-index entry, ours by a several-index entry for RSA,
// no index), and equally specific entries must agree on the secret. Main
// Mode PSK responders look the secret up by IP address, because the peer's
// ID payload is still encrypted; a Road Warrior therefore needs an entry
// with %any.
//
// # Secrecy
//
// Secret formats, logs (slog.LogValuer) and marshals (JSON) as a redacted
// description. The package never writes anything; keys are not zeroised
// (Go cannot guarantee it).
package secrets
