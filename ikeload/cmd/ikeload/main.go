// Command ikeload drives many IKEv1 Main Mode + Quick Mode negotiations
// (PSK) in parallel against a responder and reports handshakes per second,
// latency percentiles and failures by reason (see package ikeload).
//
//	ikeload --target 192.0.2.2 --sources 198.51.100.0/24 --psk SECRET -n 2000 -c 200
package main

import (
	"os"

	"goswan/ikeload"
)

func main() { os.Exit(ikeload.Main(os.Args[1:], os.Stdout, os.Stderr)) }
