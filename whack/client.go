package whack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"
)

// Version is printed by --version.
const Version = "0.1.0"

// Run is whack's main: it parses args, sends the message to pluto, copies
// every reply line to stdout as received and returns the exit status
// (CONTRACT.md): 1 when whack itself finds a problem (bad options, no
// socket), otherwise ExitStatus of the reply codes. Prompts (040, 041) are
// answered from --xauthpass/--xauthname or with a line read from os.Stdin.
func Run(args []string, stdout, stderr io.Writer) int {
	return RunWithInput(args, os.Stdin, stdout, stderr)
}

// RunWithInput is Run reading prompt answers from stdin.
func RunWithInput(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	m, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return RCWhackProblem
	}
	switch {
	case m.Help:
		io.WriteString(stdout, usage)
		return 0
	case m.Version:
		fmt.Fprintf(stdout, "whack (goswan) %s\n", Version)
		return 0
	}
	return Send(m, stdin, stdout, stderr)
}

// Send is whack's work once the arguments are parsed: it sends m to pluto
// (m.SocketPath()), copies every reply line to stdout as received and
// returns the exit status as Run does. Prompts (040, 041) are answered from
// m.XauthPass/m.XauthName or with a line read from stdin. With m.JSON (and
// m.Status) the "000 " lines are the JSON document: they are printed
// without their code, and any other line goes to stderr. Programs that
// build messages themselves (the ipsec front end) use it.
func Send(m *Message, stdin io.Reader, stdout, stderr io.Writer) int {
	problem := func(format string, a ...any) int {
		if m.Label != "" {
			format = m.Label + ": " + format
		}
		fmt.Fprintf(stderr, "whack: "+format+"\n", a...)
		return RCWhackProblem
	}

	msg, err := m.Marshal()
	if err != nil {
		return problem("%v", unprefixed(err))
	}
	path := m.SocketPath()
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return problem("Pluto is not running (no %q)", path)
		}
		if errors.Is(err, fs.ErrPermission) {
			return problem("no right to communicate with pluto (%q)", path)
		}
		return problem("cannot reach pluto: %v", err)
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return problem("is Pluto running? connect() for %q failed (%v)", path, errors.Unwrap(err))
		}
		return problem("connect() for %q failed (%v)", path, err)
	}
	defer conn.Close()
	if _, err := conn.Write(msg); err != nil {
		return problem("write() failed (%v)", err)
	}

	var (
		codes []int
		in    *bufio.Reader // stdin, read only for prompts
		cont  bool          // the next chunk continues an overlong line
		// jsonLine: with m.JSON, the current line is part of the document
		jsonLine bool
	)
	answer := func(given string) error {
		if given == "" {
			if in == nil {
				in = bufio.NewReader(stdin)
			}
			line, err := in.ReadString('\n')
			if err != nil && (err != io.EOF || line == "") {
				if err == io.EOF {
					err = errors.New("no answer on standard input")
				}
				return err
			}
			given = trimEOL(line)
		}
		if len(given) > MaxAnswer {
			given = given[:MaxAnswer]
		}
		_, err := io.WriteString(conn, given+"\n")
		return err
	}
	br := bufio.NewReaderSize(conn, 4096)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			complete := line[len(line)-1] == '\n'
			out, text := stdout, line
			if m.JSON {
				if !cont {
					jsonLine = len(line) >= 4 && string(line[:4]) == "000 "
				}
				if jsonLine {
					text = bytes.TrimPrefix(line, []byte("000 "))
				} else {
					out = stderr
				}
			}
			if _, werr := out.Write(text); werr != nil {
				return problem("write() failed to stdout (%v)", werr)
			}
			if !complete && err != bufio.ErrBufferFull {
				io.WriteString(stdout, "\n")
				fmt.Fprintln(stderr, "whack: last line from pluto is unterminated")
			}
			if !cont {
				if code, ok := lineCode(line); ok {
					codes = append(codes, code)
					var aerr error
					switch code {
					case RCEnterSecret:
						aerr = answer(m.XauthPass)
					case RCXauthPrompt:
						aerr = answer(m.XauthName)
					}
					if aerr != nil {
						return problem("cannot answer pluto's prompt: %v", aerr)
					}
				}
			}
			cont = err == bufio.ErrBufferFull
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return problem("read() failed (%v)", err)
		}
	}
	return ExitStatus(codes)
}

// lineCode reads the numeric prefix of a reply line, as Openswan's whack
// does with strtoul: a line without digits has none.
func lineCode(line []byte) (int, bool) {
	n, i := 0, 0
	for ; i < len(line) && i < 9 && '0' <= line[i] && line[i] <= '9'; i++ {
		n = n*10 + int(line[i]-'0')
	}
	return n, i > 0
}

func trimEOL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// unprefixed drops the "whack: " of an error from this package.
func unprefixed(err error) string {
	s := err.Error()
	if len(s) > 7 && s[:7] == "whack: " {
		return s[7:]
	}
	return s
}

const usage = `Usage:

all forms: [--optionsfrom <filename>] [--ctlbase <path>] [--label <string>]

help: whack [--help] [--version]

connection: whack --name <connection_name> \
    [--ipv4 | --ipv6] [--tunnelipv4 | --tunnelipv6] \
    (--host <ip-address> | --id <identity> | --cert <path>) \
    [--ca <distinguished name>] [--groups <access control groups>] \
    [--sendcert yes|always|forced|ifasked|no|never] [--certtype <number>] \
    [--ikeport <port-number>] [--nexthop <ip-address>] \
    [--client <subnet> | --clientwithin <subnet>] \
    [--clientprotoport <protocol>/<port>] [--srcip <ip-address>] \
    [--dnskeyondemand] [--xauthserver] [--xauthclient] \
    [--modecfgserver] [--modecfgclient] [--updown <updown>] \
    --to \
    (--host <ip-address> | --id <identity> | --cert <path>) \
    [... the same end options ...] \
    [--psk] [--rsasig] [--encrypt] [--authenticate] [--compress] \
    [--tunnel] [--pfs] [--pfsgroup modp1024|modp1536|modp2048|modp3072|modp4096|modp6144|modp8192] \
    [--disablearrivalcheck] [--ike <ike-algos>] [--esp <esp-algos>] \
    [--ikelifetime <seconds>] [--ipseclifetime <seconds>] \
    [--rekeymargin <seconds>] [--rekeyfuzz <percentage>] \
    [--keyingtries <count>|%forever] [--dontrekey] [--aggrmode] \
    [--modecfgpull] [--modecfgdns1 <ip-address>] [--modecfgdns2 <ip-address>] \
    [--modecfgwins1 <ip-address>] [--modecfgwins2 <ip-address>] \
    [--dpddelay <seconds> --dpdtimeout <seconds>] \
    [--dpdaction clear|hold|restart|restart_by_peer] [--forceencaps] \
    [--metric <metric>] [--mtu <mtu>] \
    [--initiateontraffic | --pass | --drop | --reject] \
    [--failnone | --failpass | --faildrop | --failreject]
  (seconds may also be written with a unit: 90s, 9m, 1h, 1d)

routing: whack (--route | --unroute) --name <connection_name>

initiation: whack (--initiate | --terminate) --name <connection_name> \
    [--asynchronous] [--xauthname <name>] [--xauthpass <pass>]

opportunistic initiation: whack [--tunnelipv4 | --tunnelipv6] \
    --oppohere <ip-address> --oppothere <ip-address>

delete: whack --delete --name <connection_name>

deletestate: whack --deletestate <state_object_number>

crash: whack --crash <ip-address>

pubkey: whack --keyid <id> [--addkey] [--pubkeyrsa <key>]

myid: whack --myid <id>

debug: whack [--name <connection_name>] \
    [--debug-none] [--debug-all] [--debug-raw] [--debug-crypt] \
    [--debug-parsing] [--debug-emitting] [--debug-control] \
    [--debug-controlmore] [--debug-lifecycle] [--debug-klips] \
    [--debug-netkey] [--debug-dns] [--debug-pfkey] [--debug-dpd] \
    [--debug-natt] [--debug-x509] [--debug-oppo] [--debug-oppoinfo] \
    [--debug-whackwatch] [--debug-private] \
    [--impair-delay-adns-key-answer] [--impair-delay-adns-txt-answer] \
    [--impair-bust-mi2] [--impair-bust-mr2] [--impair-sa-fail] \
    [--impair-die-oninfo] [--impair-jacob-two-two] \
    [--impair-major-version-bump] [--impair-minor-version-bump] \
    [--impair-retransmits] [--impair-send-bogus-isakmp-flag]

testcases: whack [--whackrecord <file>] [--whackstoprecord]

listen: whack (--listen | --unlisten)

list: whack [--utc] [--checkpubkeys] [--listpubkeys] [--listcerts] \
    [--listcacerts] [--listacerts] [--listaacerts] [--listocspcerts] \
    [--listgroups] [--listcrls] [--listocsp] [--listevents] [--listall]

purge: whack --purgeocsp

reread: whack [--rereadsecrets] [--rereadcacerts] [--rereadaacerts] \
    [--rereadocspcerts] [--rereadacerts] [--rereadcrls] [--rereadall]

status: whack --status [--json]

shutdown: whack --shutdown

goswan whack ` + Version + `
`
