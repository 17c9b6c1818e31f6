package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"goswan/ipsecconf"
	"goswan/pluto"
	"goswan/whack"
)

const usage = `Usage: ipsec [--config FILE] [--ctlbase PATH] COMMAND [ARGS]
  ipsec pluto ARGS...                       the IKE daemon
  ipsec whack ARGS...                       pluto's control client
  ipsec setup start|stop|restart|status     start or stop pluto as ipsec.conf says
  ipsec auto [--config FILE] [--ctlbase PATH] [--asynchronous] [--showonly] OP [NAME]
      OP: --add --replace --delete --up --down --route --unroute NAME
          --status [--json]  --rereadsecrets  --rereadall  --ready
  ipsec secrets                             re-read ipsec.secrets
  ipsec version
Environment: IPSEC_CONF (file), IPSEC_CONFS (directory of ipsec.conf and ipsec.secrets),
IPSEC_SECRETS, IPSEC_CTLBASE.
`

// env is what every command needs: the files and the streams.
type env struct {
	config, secrets, ctlbase string
	stdin                    io.Reader
	stdout, stderr           io.Writer
}

func newEnv(stdin io.Reader, stdout, stderr io.Writer) *env {
	e := &env{config: "/etc/ipsec.conf", secrets: "/etc/ipsec.secrets", ctlbase: whack.DefaultCtlbase,
		stdin: stdin, stdout: stdout, stderr: stderr}
	if d := os.Getenv("IPSEC_CONFS"); d != "" {
		e.config, e.secrets = filepath.Join(d, "ipsec.conf"), filepath.Join(d, "ipsec.secrets")
	}
	if f := os.Getenv("IPSEC_CONF"); f != "" {
		e.config = f
	}
	if f := os.Getenv("IPSEC_SECRETS"); f != "" {
		e.secrets = f
	}
	if c := os.Getenv("IPSEC_CTLBASE"); c != "" {
		e.ctlbase = c
	}
	return e
}

func (e *env) problem(cmd, format string, a ...any) int {
	fmt.Fprintf(e.stderr, "ipsec "+cmd+": "+format+"\n", a...)
	return whack.RCWhackProblem
}

// send gives one message to pluto, printing its answer; the status is
// whack's.
func (e *env) send(m *whack.Message) int {
	m.Ctlbase = e.ctlbase
	return whack.Send(m, e.stdin, e.stdout, e.stderr)
}

// globalOption takes --config/--ctlbase (as "--opt value" or "--opt=value")
// off the front of args.
func (e *env) option(args []string, i int) (consumed int, ok bool, err error) {
	name, val, hasVal := strings.Cut(args[i], "=")
	var dst *string
	switch name {
	case "--config":
		dst = &e.config
	case "--ctlbase":
		dst = &e.ctlbase
	default:
		return 0, false, nil
	}
	consumed = 1
	if !hasVal {
		if i+1 >= len(args) {
			return 0, true, fmt.Errorf("%s requires an argument", name)
		}
		val, consumed = args[i+1], 2
	}
	if val == "" {
		return 0, true, fmt.Errorf("%s requires a non-empty argument", name)
	}
	*dst = val
	return consumed, true, nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := newEnv(stdin, stdout, stderr)
	i := 0
	for i < len(args) {
		n, ok, err := e.option(args, i)
		if err != nil {
			return e.problem("", "%v", err)
		}
		if !ok {
			break
		}
		i += n
	}
	args = args[i:]
	if len(args) == 0 {
		io.WriteString(stderr, usage)
		return whack.RCWhackProblem
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "pluto":
		return pluto.Main(rest, stdout, stderr)
	case "whack":
		return whack.RunWithInput(withCtlbase(rest, e), stdin, stdout, stderr)
	case "auto":
		return e.auto(rest)
	case "setup":
		return e.setup(rest)
	case "secrets":
		return e.send(&whack.Message{Reread: []string{"secrets"}})
	case "version", "--version":
		fmt.Fprintf(stdout, "goswan IPsec %s (%s, whack %s)\n", whack.Version, pluto.Version, whack.Version)
		return 0
	case "help", "--help", "-h":
		io.WriteString(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "ipsec: unknown command %q\n%s", cmd, usage)
	return whack.RCWhackProblem
}

// withCtlbase passes ipsec's --ctlbase (or $IPSEC_CTLBASE) on to whack
// unless whack's arguments give one.
func withCtlbase(args []string, e *env) []string {
	for _, a := range args {
		if a == "--ctlbase" || strings.HasPrefix(a, "--ctlbase=") || a == "--help" || a == "--version" {
			return args
		}
	}
	if e.ctlbase == whack.DefaultCtlbase {
		return args
	}
	return append([]string{"--ctlbase", e.ctlbase}, args...)
}

// ---- ipsec auto ----

func (e *env) auto(args []string) int {
	var op, name string
	async, showonly, asJSON := false, false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		n, ok, err := e.option(args, i)
		if err != nil {
			return e.problem("auto", "%v", err)
		}
		if ok {
			i += n - 1
			continue
		}
		switch a {
		case "--add", "--replace", "--delete", "--up", "--down", "--route", "--unroute",
			"--status", "--rereadsecrets", "--rereadall", "--ready":
			if op != "" {
				return e.problem("auto", "%s conflicts with %s", a, op)
			}
			op = a
		case "--asynchronous":
			async = true
		case "--showonly":
			showonly = true
		case "--json":
			asJSON = true
		case "--verbose", "-v":
		default:
			if strings.HasPrefix(a, "-") {
				return e.problem("auto", "unknown option %s", a)
			}
			if name != "" {
				return e.problem("auto", "only one connection name may be given (%q and %q)", name, a)
			}
			name = a
		}
	}
	if op == "" {
		return e.problem("auto", "no operation given (--add, --up, --status, ...)")
	}
	needsName := op != "--status" && op != "--rereadsecrets" && op != "--rereadall" && op != "--ready"
	if needsName && name == "" {
		return e.problem("auto", "%s requires a connection name", op)
	}
	if !needsName && name != "" {
		return e.problem("auto", "%s takes no connection name", op)
	}
	if asJSON && op != "--status" {
		return e.problem("auto", "--json goes with --status")
	}

	var msgs []*whack.Message
	switch op {
	case "--add", "--replace":
		cfg, err := ipsecconf.Load(e.config)
		if err != nil {
			return e.configProblem("auto", err)
		}
		c := cfg.Conn(name)
		if c == nil {
			return e.problem("auto", "conn %q not found in %s", name, e.config)
		}
		if msgs, err = c.Messages(nil); err != nil {
			return e.problem("auto", "%v", err)
		}
	case "--status":
		msgs = []*whack.Message{{Status: true, JSON: asJSON}}
	case "--rereadsecrets":
		msgs = []*whack.Message{{Reread: []string{"secrets"}}}
	case "--rereadall":
		msgs = []*whack.Message{{Reread: []string{"all"}}}
	case "--ready":
		msgs = []*whack.Message{{Listen: true}}
	default:
		for _, n := range e.instanceNames(name) {
			m := &whack.Message{Name: n}
			switch op {
			case "--delete":
				m.Delete = true
			case "--up":
				m.Initiate, m.Asynchronous = true, async
			case "--down":
				m.Terminate = true
			case "--route":
				m.Route = true
			case "--unroute":
				m.Unroute = true
			}
			msgs = append(msgs, m)
		}
	}
	if showonly {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		for _, m := range msgs {
			enc.Encode(m)
		}
		return 0
	}
	for _, m := range msgs {
		if st := e.send(m); st != 0 {
			return st
		}
	}
	return 0
}

// instanceNames are the connections pluto knows for a conn name: its
// instances when ipsec.conf has the conn with subnets= lists, else the name
// itself (a connection added with whack is operated on by its name; an
// unreadable ipsec.conf does not stand in the way).
func (e *env) instanceNames(name string) []string {
	cfg, err := ipsecconf.Load(e.config)
	if cfg == nil || err != nil {
		return []string{name}
	}
	if c := cfg.Conn(name); c != nil {
		return c.Names()
	}
	return []string{name}
}

func (e *env) configProblem(cmd string, err error) int {
	var el ipsecconf.ErrorList
	if errors.As(err, &el) {
		for _, x := range el {
			fmt.Fprintf(e.stderr, "ipsec %s: %v\n", cmd, x)
		}
		return whack.RCWhackProblem
	}
	return e.problem(cmd, "%v", err)
}

// ---- ipsec setup ----

func (e *env) setup(args []string) int {
	if len(args) != 1 {
		return e.problem("setup", "want one of start, stop, restart, status")
	}
	switch args[0] {
	case "start":
		return e.start()
	case "stop":
		return e.stop()
	case "restart":
		if st := e.stop(); st != 0 {
			return st
		}
		return e.start()
	case "status":
		if pid, ok := e.running(); ok {
			fmt.Fprintf(e.stdout, "pluto is running (pid %d)\n", pid)
			return 0
		}
		fmt.Fprintln(e.stdout, "pluto is stopped")
		return 3
	}
	return e.problem("setup", "unknown operation %q (start, stop, restart, status)", args[0])
}

// running reports pluto's pid when its lock file names a live process.
func (e *env) running() (int, bool) {
	b, err := os.ReadFile(e.ctlbase + ".pid")
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil && !zombie(pid)
}

func (e *env) start() int {
	if pid, ok := e.running(); ok {
		fmt.Fprintf(e.stdout, "ipsec setup: pluto is already running (pid %d)\n", pid)
		return 0
	}
	cfg, err := ipsecconf.Load(e.config)
	if err != nil {
		return e.configProblem("setup", err)
	}
	opts, err := cfg.Setup.PlutoOptions(nil)
	if err != nil {
		return e.configProblem("setup", err)
	}
	for _, w := range opts.Warnings {
		fmt.Fprintf(e.stderr, "ipsec setup: warning: %s\n", w)
	}
	args := []string{"--nofork", "--ctlbase", e.ctlbase}
	if _, ok := cfg.Setup.Get("secretsfile"); !ok {
		args = append(args, "--secretsfile", e.secrets)
	}
	args = append(args, opts.Args...)
	fmt.Fprintf(e.stdout, "ipsec setup: Starting goswan IPsec %s...\n", whack.Version)
	pid, err := e.spawnPluto(args, opts.LogFile)
	if err != nil {
		return e.problem("setup", "%v", err)
	}
	fmt.Fprintf(e.stdout, "ipsec setup: pluto started (pid %d)\n", pid)

	status := 0
	note := func(st int) {
		if st != 0 {
			status = st
		}
	}
	note(e.send(&whack.Message{Listen: true}))
	if opts.MyID != "" {
		note(e.send(&whack.Message{MyID: opts.MyID}))
	}
	for _, c := range cfg.Conns {
		auto := c.Auto()
		if auto == "ignore" {
			continue
		}
		msgs, err := c.Messages(nil)
		if err != nil {
			note(e.problem("setup", "%v", err))
			continue
		}
		added := true
		for _, m := range msgs {
			if st := e.send(m); st != 0 {
				note(st)
				added = false
			}
		}
		if !added {
			continue
		}
		for _, n := range c.Names() {
			switch auto {
			case "route":
				note(e.send(&whack.Message{Name: n, Route: true}))
			case "start":
				note(e.send(&whack.Message{Name: n, Initiate: true, Asynchronous: true}))
			}
		}
	}
	return status
}

// spawnPluto starts this program as pluto (--nofork first, see main) in a
// new session, its standard error appended to logFile when there is one,
// and waits until its control socket is up.
func (e *env) spawnPluto(args []string, logFile string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(self, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return 0, fmt.Errorf("logfile: %v", err)
		}
		defer f.Close()
		cmd.Stderr = f
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	hint := "set logfile= in config setup, or run: ipsec pluto " + strings.Join(append(args, "--stderrlog"), " ")
	if logFile != "" {
		hint = "see " + logFile
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-exited:
			return 0, fmt.Errorf("pluto exited during startup (%s)", hint)
		case <-deadline:
			cmd.Process.Kill()
			return 0, fmt.Errorf("pluto did not open its control socket %s.ctl (%s)", e.ctlbase, hint)
		case <-time.After(20 * time.Millisecond):
			if fi, err := os.Stat(e.ctlbase + ".ctl"); err == nil && fi.Mode()&os.ModeSocket != 0 {
				return cmd.Process.Pid, nil
			}
		}
	}
}

func (e *env) stop() int {
	pid, ok := e.running()
	if _, err := os.Stat(e.ctlbase + ".ctl"); err != nil && !ok {
		fmt.Fprintln(e.stdout, "ipsec setup: pluto is not running")
		return 0
	}
	fmt.Fprintln(e.stdout, "ipsec setup: Stopping goswan IPsec...")
	e.send(&whack.Message{Shutdown: true})
	if !ok {
		return 0
	}
	// pluto removes its lock file last; a process that is gone (or a
	// zombie nobody reaps) has stopped too.
	gone := func(d time.Duration) bool {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(e.ctlbase + ".pid"); err != nil || syscall.Kill(pid, 0) != nil || zombie(pid) {
				return true
			}
		}
		return false
	}
	if gone(10 * time.Second) {
		return 0
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if gone(5 * time.Second) {
		return 0
	}
	return e.problem("setup", "pluto (pid %d) does not stop", pid)
}

// zombie reports whether pid has exited but not been reaped (Linux).
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}
