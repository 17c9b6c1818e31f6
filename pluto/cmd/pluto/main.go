// Command pluto is the IKEv1 keying daemon (see the pluto manual page and
// CONTRACT.md for its options).
package main

import (
	"os"

	"goswan/pluto"
)

func main() { os.Exit(pluto.Main(os.Args[1:], os.Stdout, os.Stderr)) }
