// Command ikedump decodes a capture of an IKEv1 exchange and, given the
// keying inputs, derives all keys, decrypts every message and verifies every
// hash, saying exactly which step failed.
//
//	ikedump [--psk SECRET] [--gxy HEX]... [--pubkey FILE]... [--json] FILE
//
// FILE is a pcap capture (UDP 500/4500) or a hex file (one message per run of
// hex lines). Exit status: 0 when every message decoded (and, with keys, every
// hash verified), 1 otherwise, 2 on bad usage.
package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"goswan/ikedump"
	"goswan/ikedump/capture"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ikedump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	psk := fs.String("psk", "", "pre-shared key (a literal; 0x... is hex, 0s... is base64, as in ipsec.secrets)")
	var gxy, pubkeys listFlag
	fs.Var(&gxy, "gxy", "DH shared secret g^xy as hex: Main Mode first, then each PFS Quick Mode in order (repeatable)")
	fs.Var(&pubkeys, "pubkey", "PEM public key or certificate to verify SIG payloads (repeatable)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the step-by-step trace")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ikedump [--psk SECRET] [--gxy HEX]... [--pubkey FILE]... [--json] FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	var opts ikedump.Options
	if *psk != "" {
		b, err := parseSecret(*psk)
		if err != nil {
			fmt.Fprintf(stderr, "ikedump: --psk: %v\n", err)
			return 2
		}
		opts.PSK = b
	}
	for i, g := range gxy {
		b, err := hex.DecodeString(strings.TrimPrefix(strings.ReplaceAll(g, ":", ""), "0x"))
		if err != nil || len(b) == 0 {
			fmt.Fprintf(stderr, "ikedump: --gxy number %d is not hex\n", i+1)
			return 2
		}
		opts.GXY = append(opts.GXY, b)
	}
	for _, f := range pubkeys {
		k, err := readPublicKey(f)
		if err != nil {
			fmt.Fprintf(stderr, "ikedump: --pubkey %s: %v\n", f, err)
			return 2
		}
		opts.PubKeys = append(opts.PubKeys, k)
	}
	pkts, err := capture.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "ikedump: %v\n", err)
		return 1
	}
	rep := ikedump.Analyze(pkts, opts)
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ikedump: %v\n", err)
		return 1
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// parseSecret reads a PSK in ipsec.secrets spelling: 0x hex, 0s base64, or
// the literal text.
func parseSecret(s string) ([]byte, error) {
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		return hex.DecodeString(strings.ReplaceAll(s[2:], "_", ""))
	case strings.HasPrefix(s, "0s"):
		return base64.StdEncoding.DecodeString(s[2:])
	}
	return []byte(s), nil
}

// readPublicKey loads an RSA public key from a PEM "PUBLIC KEY", "RSA PUBLIC
// KEY" or "CERTIFICATE" block.
func readPublicKey(path string) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return nil, errors.New("no PEM public key or certificate found")
		}
		switch blk.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(blk.Bytes)
			if err != nil {
				return nil, err
			}
			if rk, ok := k.(*rsa.PublicKey); ok {
				return rk, nil
			}
			return nil, errors.New("not an RSA key")
		case "RSA PUBLIC KEY":
			return x509.ParsePKCS1PublicKey(blk.Bytes)
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, err
			}
			if rk, ok := c.PublicKey.(*rsa.PublicKey); ok {
				return rk, nil
			}
			return nil, errors.New("certificate key is not RSA")
		}
	}
}
