package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"testing"
)

// Printing, logging or marshalling a Secret by mistake must not disclose it.
func TestRedaction(t *testing.T) {
	const psk, pw = "s3cr3t-psk-value", "xauth-pw-value!"
	key := testKey(t, 0)
	st := mustParse(t, `192.0.2.1 192.0.2.2 : PSK "`+psk+`"
@carol : XAUTH 0t`+pw+`
`+rsaBlock(key, `"C=CH, O=Example, CN=west" `, false))

	// What must never appear: the secrets in every encoding fmt might use.
	var forbidden []string
	for _, s := range []string{psk, pw} {
		forbidden = append(forbidden, s, hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s))),
			base64.StdEncoding.EncodeToString([]byte(s)), fmt.Sprint([]byte(s)))
	}
	for _, n := range []string{key.D.String(), key.Primes[0].String(), key.Primes[1].String(), key.Precomputed.Dp.String()} {
		forbidden = append(forbidden, n[:20])
	}
	for _, b := range [][]byte{key.D.Bytes(), key.Primes[0].Bytes(), key.Precomputed.Qinv.Bytes()} {
		forbidden = append(forbidden, hex.EncodeToString(b)[:20], base64.StdEncoding.EncodeToString(b)[:20])
	}
	check := func(what, out string) {
		t.Helper()
		for _, f := range forbidden {
			if strings.Contains(out, f) {
				t.Errorf("%s discloses a secret (%.12s…):\n%s", what, f, out)
				return
			}
		}
	}

	secs := st.Secrets()
	if got, want := secs[0].String(), `/etc/ipsec.secrets:1: 192.0.2.1 192.0.2.2 : PSK "..." (16 bytes)`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
	if got, want := secs[1].String(), `/etc/ipsec.secrets:2: @carol : XAUTH "..." (15 bytes)`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
	if got, want := secs[2].String(), `/etc/ipsec.secrets:3: "C=CH, O=Example, CN=west" : RSA {...} (2048 bits, keyid `+KeyID(&key.PublicKey)+")"; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}

	type holder struct {
		S  *Secret
		V  Secret
		Ss []*Secret
	}
	values := map[string]any{
		"*Secret":   secs[0],
		"Secret":    *secs[0],
		"xauth":     secs[1],
		"rsa":       secs[2],
		"rsa value": *secs[2],
		"[]*Secret": secs,
		"[]Secret":  []Secret{*secs[0], *secs[1], *secs[2]},
		"map":       map[string]*Secret{"a": secs[0]},
		"holder":    holder{S: secs[0], V: *secs[1], Ss: secs},
		"*holder":   &holder{S: secs[0], V: *secs[1], Ss: secs},
		"*Store":    st,
		"Store":     *st,
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			check(name+" "+verb, fmt.Sprintf(verb, v))
		}
		check(name+" Sprint", fmt.Sprint(v))
		check(name+" Sprintln", fmt.Sprintln(v))

		var buf bytes.Buffer
		log.New(&buf, "", 0).Print(v)
		check(name+" log", buf.String())

		for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
			buf.Reset()
			slog.New(h).Info("loaded", "secret", v)
			check(name+" slog", buf.String())
		}
		if js, err := json.Marshal(v); err == nil {
			check(name+" json", string(js))
		}
	}
	// fmt cannot call methods through unexported fields; a *Secret there
	// prints as an address with the usual verbs (but a bad verb such as %s
	// on the enclosing struct makes fmt dump it: documented on Secret).
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		check("unexported *Secret "+verb, fmt.Sprintf(verb, struct{ s *Secret }{secs[0]}))
	}
	// The redacted form is what shows up.
	if out := fmt.Sprintf("%+v", secs[0]); !strings.Contains(out, `PSK "..." (16 bytes)`) {
		t.Errorf("%%+v = %s", out)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "s", secs[0])
	if !strings.Contains(buf.String(), `"s":"/etc/ipsec.secrets:1: 192.0.2.1 192.0.2.2 : PSK \"...\" (16 bytes)"`) {
		t.Errorf("slog JSON: %s", buf.String())
	}
	if out := fmt.Sprintf("%v", st); out != "secrets.Store(3 secrets)" {
		t.Errorf("Store %%v = %s", out)
	}
}
