package pluto

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"goswan/pluto/secrets"
)

func writeKey(t *testing.T, k *rsa.PrivateKey) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "key.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func pubkeyArg(k *rsa.PrivateKey) string {
	return "0s" + base64.StdEncoding.EncodeToString(secrets.RFC3110(&k.PublicKey))
}

// TestRSASigTwoDaemons: --rsasig with raw keys: private keys from
// ipsec.secrets (": RSA file"), the peer's public key from whack's key form.
func TestRSASigTwoDaemons(t *testing.T) {
	wk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := rsa.GenerateKey(rand.Reader, 2048)
	west := startDaemon(t, "127.0.0.1", ": RSA "+writeKey(t, wk)+"\n", 0)
	east := startDaemon(t, "127.0.0.2", ": RSA "+writeKey(t, ek)+"\n", 0)
	for _, d := range []*testDaemon{west, east} {
		args := []string{"--name", "west-east", "--host", west.addr, "--ikeport", itoa(west.port), "--client", "10.1.0.0/24",
			"--to", "--host", east.addr, "--ikeport", itoa(east.port), "--client", "10.2.0.0/24", "--rsasig", "--encrypt", "--tunnel"}
		if out, code := d.whack(t, args...); code != 0 {
			t.Fatalf("add: %d %s", code, out)
		}
	}
	if out, code := west.whack(t, "--keyid", "127.0.0.2", "--pubkeyrsa", pubkeyArg(ek)); code != 0 {
		t.Fatalf("key: %d %s", code, out)
	}
	if out, code := east.whack(t, "--keyid", "127.0.0.1", "--pubkeyrsa", pubkeyArg(wk)); code != 0 {
		t.Fatalf("key: %d %s", code, out)
	}
	if out, _ := west.whack(t, "--listpubkeys"); !strings.Contains(out, "2048 RSA Key "+secrets.KeyID(&ek.PublicKey)+", '127.0.0.2'") {
		t.Errorf("--listpubkeys:\n%s", out)
	}
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	if code != 0 {
		t.Fatalf("initiate: %d\n%s\n%s\n%s", code, out, west.log, east.log)
	}
	checkTranscript(t, out)
	if !strings.Contains(east.log.String(), "authenticated peer '127.0.0.1' with a 2048-bit RSA signature") {
		t.Errorf("east log:\n%s", east.log)
	}
	if st, _ := west.whack(t, "--status"); !strings.Contains(st, "policy: RSASIG+ENCRYPT+TUNNEL+UP") {
		t.Errorf("status:\n%s", st)
	}
	// A bad key blob is refused with the option named.
	if out, code := west.whack(t, "--keyid", "127.0.0.2", "--pubkeyrsa", "0sAAAA"); code == 0 || !strings.Contains(out, "--pubkeyrsa") {
		t.Errorf("bad key accepted: %d %s", code, out)
	}
}
func itoa(i int) string { return strconv.Itoa(i) }
