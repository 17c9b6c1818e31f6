package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"goswan/testvectors"
)

// writeVector puts a vector's capture and public keys into a temporary
// directory and returns the ikedump arguments that the recorded logs allow.
func writeVector(t *testing.T, v *testvectors.Vector, file string) []string {
	t.Helper()
	dir := t.TempDir()
	data, err := v.File(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--json", "--gxy", hex.EncodeToString(v.Expect.GXY)}
	for _, q := range v.Expect.QM {
		if q.GXY != nil {
			args = append(args, "--gxy", hex.EncodeToString(q.GXY))
		}
	}
	if v.Auth == "psk" {
		args = append(args, "--psk", string(v.PSK))
	} else {
		for _, name := range []string{"west", "east"} {
			pem, err := v.File("config/" + name + ".pub")
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, name+".pub")
			if err := os.WriteFile(p, pem, 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--pubkey", p)
		}
	}
	return append(args, path)
}

type jsonReport struct {
	Messages []struct {
		Exchange      string   `json:"exchange"`
		Payloads      []string `json:"payloads"`
		ReencodeEqual bool     `json:"reencode_equal"`
		Decrypted     bool     `json:"decrypted"`
		Encrypted     bool     `json:"encrypted"`
		Error         string   `json:"error"`
	} `json:"messages"`
	Phase1 struct {
		SKEYID  *string `json:"skeyid"`
		EncKey  *string `json:"enc_key"`
		HashIOK *bool   `json:"hash_i_ok"`
		HashROK *bool   `json:"hash_r_ok"`
	} `json:"phase1"`
	Quick []struct {
		Hash1OK *bool   `json:"hash1_ok"`
		Hash2OK *bool   `json:"hash2_ok"`
		Hash3OK *bool   `json:"hash3_ok"`
		KeymatI *string `json:"keymat_i"`
		KeymatR *string `json:"keymat_r"`
	} `json:"quick"`
}

// TestJSONEveryVector is the contract check: ikedump --json on each recorded
// vector (pcap and hex) exits 0 with every hash verified.
func TestJSONEveryVector(t *testing.T) {
	vs, err := testvectors.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		for _, file := range []string{"exchange.pcap", "messages.hex"} {
			t.Run(v.Name+"/"+file, func(t *testing.T) {
				var out, errb bytes.Buffer
				code := run(writeVector(t, v, file), &out, &errb)
				if code != 0 {
					t.Fatalf("exit %d, stderr %q, out:\n%s", code, errb.String(), out.String())
				}
				var r jsonReport
				if err := json.Unmarshal(out.Bytes(), &r); err != nil {
					t.Fatalf("output is not JSON: %v", err)
				}
				if len(r.Messages) != len(v.Messages) {
					t.Errorf("%d messages, want %d", len(r.Messages), len(v.Messages))
				}
				for i, m := range r.Messages {
					if !m.ReencodeEqual || m.Error != "" || (m.Encrypted && !m.Decrypted) || len(m.Payloads) == 0 {
						t.Errorf("message %d: %+v", i, m)
					}
				}
				ok := func(b *bool) bool { return b != nil && *b }
				if !ok(r.Phase1.HashIOK) || !ok(r.Phase1.HashROK) || r.Phase1.SKEYID == nil {
					t.Errorf("phase1: %+v", r.Phase1)
				}
				if len(r.Quick) == 0 {
					t.Fatal("no quick mode")
				}
				for _, q := range r.Quick {
					if !ok(q.Hash1OK) || !ok(q.Hash2OK) || !ok(q.Hash3OK) || q.KeymatI == nil || q.KeymatR == nil {
						t.Errorf("quick: %+v", q)
					}
				}
			})
		}
	}
}

func TestTextWrongPSK(t *testing.T) {
	v, err := testvectors.Load("ss-ss-3des-md5-modp1024-pfs")
	if err != nil {
		t.Fatal(err)
	}
	args := writeVector(t, v, "exchange.pcap")
	args = args[1:] // text output
	for i := range args {
		if args[i] == "--psk" {
			args[i+1] = "wrong"
		}
	}
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(out.String(), "FAILED: HASH_I mismatch") {
		t.Errorf("output does not name the HASH_I mismatch:\n%s", out.String())
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"--bogus", "x"}, {"a", "b"}, {"--gxy", "zz", "f"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"/nonexistent/capture"}, &out, &errb); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}
