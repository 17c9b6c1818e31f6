// Package whack is the control protocol between whack and pluto, and
// whack's command line.
//
// # The command line
//
// ParseArgs implements the option syntax of the whack manual page
// (connection form with --to, key form, listen, route/unroute,
// initiate/terminate, delete, deletestate, status, debug, shutdown, lists
// and rereads, --ctlbase, --optionsfrom, --label), plus --ike and --esp in
// ipsec.conf syntax. An unknown option is an error; nothing is dropped.
// Durations are seconds as the manual says ("3600"), or with a unit
// ("9m", "1h", "1d").
//
// # The wire protocol
//
// whack connects to pluto's Unix stream socket (CTLBASE.ctl) and sends one
// message:
//
//	"GSW1"  4 bytes, Magic; the digit is the protocol version
//	length  4 bytes, big endian: the size of the body, at most MaxMessageSize
//	body    JSON encoding of Message (unknown fields are an error)
//
// pluto answers with lines "NNN text\n" (Reply), NNN being one of the RC*
// codes, and closes the connection when it is done. A line 040 (a secret)
// or 041 (a user name) is a prompt: whack writes the answer back as one
// line ending in "\n" (ReadAnswer reads it on pluto's side) and goes on
// reading. A message pluto cannot accept is answered with
// "030 ignoring ... message from whack ..." (the text of ReadMessage's
// error).
//
// # Exit status
//
// whack exits 1 when it finds a problem itself (bad options, no socket),
// otherwise with ExitStatus of the codes it received.
package whack
