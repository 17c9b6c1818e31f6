// Command ipsec is the operator's front end, as in FreeS/WAN and Openswan:
//
//	ipsec pluto ARGS...          run pluto (pluto's options)
//	ipsec whack ARGS...          run whack (whack's options)
//	ipsec setup start|stop|restart|status
//	ipsec auto [--config FILE] [--ctlbase PATH] [--asynchronous] [--showonly] OP [NAME]
//	ipsec secrets                re-read ipsec.secrets (whack --rereadsecrets)
//	ipsec version
//
// ipsec auto operations: --add, --replace (delete the connection, then add
// it from ipsec.conf, with its RSA keys), --delete, --up, --down, --route,
// --unroute (these take the conn NAME; a conn with leftsubnets=/rightsubnets=
// stands for all its instances), --status [--json], --rereadsecrets,
// --rereadall, --ready (whack --listen). --showonly prints the whack
// messages as JSON instead of sending them.
//
// ipsec setup start starts pluto with the options of config setup
// (protostack=, plutodebug=, interfaces=, listen=, uniqueids=, keylog=,
// logfile=, ...; see package goswan/ipsecconf), then whack --listen, adds
// every conn with auto=add, route or start, routes those with auto=route
// (ondemand) and initiates those with auto=start without waiting. stop
// shuts pluto down (whack --shutdown, then SIGTERM), restart does both,
// status says whether pluto runs (exit 3 when not).
//
// Files, in order of precedence: --config FILE (also before the command:
// ipsec --config FILE auto ...), $IPSEC_CONF, $IPSEC_CONFS/ipsec.conf,
// /etc/ipsec.conf; the secrets file given to pluto: secretsfile= in config
// setup, $IPSEC_SECRETS, $IPSEC_CONFS/ipsec.secrets, /etc/ipsec.secrets;
// the control socket base: --ctlbase, $IPSEC_CTLBASE, /var/run/pluto/pluto.
//
// Exit status as whack's: 1 for a problem ipsec or whack finds itself (bad
// usage, a configuration error, no pluto), otherwise the status of pluto's
// answer (0 for success, 21 for an unknown connection, 31 for a failed
// negotiation...).
package main

import (
	"os"

	"goswan/pluto"
)

func main() {
	// pluto's daemon mode starts its own program again with --nofork
	// first; when that program is ipsec, this is where it arrives.
	if len(os.Args) > 1 && os.Args[1] == "--nofork" {
		os.Exit(pluto.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
