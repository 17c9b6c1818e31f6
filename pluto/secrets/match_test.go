package secrets

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const (
	ipA = "192.0.2.1"    // us
	ipB = "192.0.2.2"    // the peer
	ipC = "198.51.100.7" // somebody else
)

// distractors never match PSK(ipA, ipB).
var distractors = []string{
	ipB + ` : PSK "peer-only"`,         // one index that is the peer, not us
	ipA + " " + ipC + ` : PSK "us-C"`,  // several indices, only ours matches (PSK is symmetric)
	ipC + " 203.0.113.9 : PSK \"C-D\"", // neither
	`@a @b : PSK "names"`,
	ipA + " " + ipB + ` : XAUTH "xauth"`, // another kind
	`%any ` + ipC + ` : PSK "any-C"`,     // the peer index does not match and ours is only %any
}

// TestPSKSpecificity removes the most specific entry one at a time and
// checks that the next one wins, whatever the file order.
func TestPSKSpecificity(t *testing.T) {
	ranked := []string{
		ipA + " " + ipB + ` : PSK "both-exact"`,
		ipA + ` %any : PSK "ours-exact-peer-any"`,
		ipA + ` : PSK "ours-exact-peer-default"`,
		`%any ` + ipB + ` : PSK "ours-any-peer-exact"`,
		`%any : PSK "any"`,
		`: PSK "default"`,
	}
	for i := range ranked {
		want := strings.Split(ranked[i], `"`)[1]
		for _, order := range []string{"forward", "reverse"} {
			lines := append(slices.Clone(ranked[i:]), distractors...)
			if order == "reverse" {
				slices.Reverse(lines)
			}
			st := mustParse(t, strings.Join(lines, "\n"))
			psk, ok := st.PSK(ipA, ipB)
			if !ok || string(psk) != want {
				t.Errorf("%s, best entry %q: PSK = %q, %v; want %q", order, ranked[i], psk, ok, want)
			}
		}
	}
	// Only distractors: no match.
	st := mustParse(t, strings.Join(distractors, "\n"))
	if psk, ok := st.PSK(ipA, ipB); ok {
		t.Errorf("distractors matched: %q", psk)
	}
	if _, err := st.Find(PSK, ipA, ipB); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find: %v, want ErrNotFound", err)
	}
}

func TestPSKRules(t *testing.T) {
	st := mustParse(t, `
192.0.2.1 %any : PSK "road-warrior"
192.0.2.1 192.0.2.2 : PSK "site"
2001:db8::1 2001:db8::2 : PSK "v6"
@west @east : PSK "names"
"C=CH, O=Example, CN=west" "C=CH, O=Example, CN=east" : PSK "dns"
192.0.2.9 : PSK "one-index"
`)
	for _, tc := range []struct{ local, remote, want string }{
		{ipA, ipB, "site"},
		{ipB, ipA, "site"},                                              // both sides use the same line
		{ipA, ipC, "road-warrior"},                                      // an IP no entry names falls back to %any
		{ipA, "2001:db8::99", "road-warrior"},                           // %any also covers IPv6 (%any6 is the same index)
		{ipA, "@roadwarrior", "road-warrior"},                           // and any other ID
		{ipA, "0.0.0.0", "road-warrior"},                                // a %any peer (pluto's Road Warrior lookup)
		{"2001:DB8:0::1", "2001:db8::2", "v6"},                          // canonical IPv6
		{"@WEST.", "@east", "names"},                                    // FQDNs: case and one trailing dot ignored
		{"C=CH,O=example,  CN=west", "c=ch, o=EXAMPLE, cn=east", "dns"}, // DNs: spacing and case
		{"192.0.2.9", "", "one-index"},                                  // peer unknown: a one-index entry still matches
		{"192.0.2.9", ipC, "one-index"},
		{ipA, "", ""},                 // peer unknown: a two-index entry cannot match (and %any needs a peer)
		{ipC, ipA, "road-warrior"},    // the road warrior's end of the same line: %any is us, the peer is named
		{ipC, ipB, ""},                // one %any cannot stand for both ends
		{ipC, "192.0.2.9", ""},        // the peer alone never matches
		{"@east", "", ""},             // nor the peer of a two-index entry
		{"", ipA, ""},                 // we have no ID
		{"@west", ipB, ""},            // kinds differ: @west vs an IP peer
		{"192.0.2.10", "@nobody", ""}, // no %any on our side with a named peer
	} {
		psk, ok := st.PSK(tc.local, tc.remote)
		if string(psk) != tc.want || ok != (tc.want != "") {
			t.Errorf("PSK(%q, %q) = %q, %v; want %q", tc.local, tc.remote, psk, ok, tc.want)
		}
	}
}

func TestTies(t *testing.T) {
	// Equally specific entries that agree are fine.
	st := mustParse(t, "192.0.2.1 192.0.2.2 : PSK \"same\"\n192.0.2.2 192.0.2.1 : PSK 0t"+"same\n")
	if psk, ok := st.PSK(ipA, ipB); !ok || string(psk) != "same" {
		t.Errorf("agreeing tie: %q, %v", psk, ok)
	}
	// Disagreeing ones are refused.
	st = mustParse(t, "# c\n192.0.2.1 192.0.2.2 : PSK \"one\"\n192.0.2.2 192.0.2.1 : PSK \"two\"\n: PSK \"default\"\n")
	if psk, ok := st.PSK(ipA, ipB); ok {
		t.Errorf("disagreeing tie: %q", psk)
	}
	_, err := st.Find(PSK, ipA, ipB)
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Entries) != 2 || amb.Entries[0].Line != 2 || amb.Entries[1].Line != 3 {
		t.Fatalf("Find: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "/etc/ipsec.secrets:2, /etc/ipsec.secrets:3") || strings.Contains(msg, "one") || strings.Contains(msg, "two") {
		t.Errorf("AmbiguousError: %s", msg)
	}
	// A tie below the best match does not matter.
	st = mustParse(t, "192.0.2.1 %any : PSK \"x\"\n192.0.2.1 %any : PSK \"y\"\n192.0.2.1 192.0.2.2 : PSK \"z\"\n")
	if psk, ok := st.PSK(ipA, ipB); !ok || string(psk) != "z" {
		t.Errorf("tie below best: %q, %v", psk, ok)
	}
	if psk, ok := st.PSK(ipA, ipC); ok {
		t.Errorf("tie at best for a road warrior: %q", psk)
	}
}

func TestRSARules(t *testing.T) {
	k0 := rsaBlock(testKey(t, 0), "", false)
	k1 := rsaBlock(testKey(t, 1), "", true)
	with := func(indices, block string) string { return indices + block }
	ranked := []string{
		with("@west ", k0),          // one index, ours
		with("@west @alias ", k1),   // several indices, ours among them: enough for RSA
		with("%any ", k0),           // wildcard
		with("%any @somebody ", k1), // wildcard among several
		with("", k0),                // the default key
	}
	for i := range ranked {
		st := mustParse(t, strings.Join(append(slices.Clone(ranked[i:]), with("@east ", k1)), "\n"))
		sec, err := st.Find(RSA, "@west", "")
		if err != nil || sec != st.Secrets()[0] {
			t.Errorf("best entry %d: got %v, %v", i, sec, err)
		}
		if _, ok := st.RSAKey("@west"); !ok {
			t.Errorf("best entry %d: RSAKey failed", i)
		}
	}
	// The default key serves any local ID; a named one only its own.
	st := mustParse(t, with("@east ", k1)+with("", k0))
	if k, ok := st.RSAKey("@east"); !ok || !k.Equal(testKey(t, 1)) {
		t.Error("RSAKey(@east) is not key 1")
	}
	if k, ok := st.RSAKey("192.0.2.77"); !ok || !k.Equal(testKey(t, 0)) {
		t.Error("RSAKey(other) is not the default key 0")
	}
	// Two default keys must be the same key.
	if _, ok := mustParse(t, with("", k0)+with("", k0)).RSAKey("@x"); !ok {
		t.Error("two identical default keys refused")
	}
	st = mustParse(t, with("", k0)+with("", k1))
	if _, ok := st.RSAKey("@x"); ok {
		t.Error("two different default keys accepted")
	}
	// RSA secrets are not PSKs.
	if _, ok := st.PSK("@x", "@y"); ok {
		t.Error("PSK found among RSA keys")
	}
}

func TestXAUTH(t *testing.T) {
	st := mustParse(t, `
@carol : XAUTH "carol-pw"
dave : XAUTH 0tdave-pw
@eve : PSK "not-an-xauth-secret"
carol@example.com : XAUTH 'mail-pw'
`)
	for user, want := range map[string]string{
		"carol": "carol-pw", "@carol": "carol-pw", "CAROL": "carol-pw",
		"dave": "dave-pw", "@dave": "dave-pw",
		"carol@example.com": "mail-pw",
		"eve":               "", "@eve": "", "mallory": "",
	} {
		pw, ok := st.XAUTH(user)
		if string(pw) != want || ok != (want != "") {
			t.Errorf("XAUTH(%q) = %q, %v; want %q", user, pw, ok, want)
		}
	}
	st = mustParse(t, "@carol : XAUTH \"carol-pw\"\n: XAUTH \"shared\"\n")
	if pw, ok := st.XAUTH("mallory"); !ok || string(pw) != "shared" {
		t.Errorf("default XAUTH: %q, %v", pw, ok)
	}
	if pw, ok := st.XAUTH("carol"); !ok || string(pw) != "carol-pw" {
		t.Errorf("XAUTH(carol) with a default: %q, %v", pw, ok)
	}
}

// The slices PSK and XAUTH return are copies.
func TestLookupCopies(t *testing.T) {
	st := mustParse(t, `: PSK "abc"`)
	psk, _ := st.PSK(ipA, ipB)
	psk[0] = 'X'
	if again, _ := st.PSK(ipA, ipB); string(again) != "abc" {
		t.Errorf("PSK changed to %q", again)
	}
	sl := st.Secrets()
	sl[0] = nil
	if st.Secrets()[0] == nil {
		t.Error("Secrets returned the store's slice")
	}
}
