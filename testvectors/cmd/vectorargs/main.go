// Command vectorargs prints, one per line, the ikedump arguments that the
// recorded logs of a test vector provide: --psk, --gxy for Main Mode and for
// each PFS Quick Mode, and --pubkey files for signature vectors.
//
//	vectorargs NAME
package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"goswan/testvectors"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: vectorargs NAME")
		os.Exit(2)
	}
	v, err := testvectors.Load(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "vectorargs:", err)
		os.Exit(1)
	}
	if v.Auth == "psk" {
		fmt.Printf("--psk\n%s\n", v.PSK)
	} else {
		for _, name := range []string{"west", "east"} {
			fmt.Printf("--pubkey\n%s\n", filepath.Join("testvectors", "data", v.Name, "config", name+".pub"))
		}
	}
	fmt.Printf("--gxy\n%s\n", hex.EncodeToString(v.Expect.GXY))
	for _, q := range v.Expect.QM {
		if q.GXY != nil {
			fmt.Printf("--gxy\n%s\n", hex.EncodeToString(q.GXY))
		}
	}
}
