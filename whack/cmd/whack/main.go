// Command whack controls a running pluto: it sends one request over pluto's
// control socket (/var/run/pluto/pluto.ctl, or --ctlbase PATH + ".ctl"),
// prints pluto's progress lines ("NNN text") as they arrive and exits with
// the status they imply. See package goswan/whack and whack --help.
package main

import (
	"os"

	"goswan/whack"
)

func main() { os.Exit(whack.Run(os.Args[1:], os.Stdout, os.Stderr)) }
