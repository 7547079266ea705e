package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// options are the command line, parsed and checked.
type options struct {
	agents         int
	listen         netip.AddrPort
	byPort         bool
	data           []dataSpec
	identity       simagent.Identity
	maxBulk        int
	profile        string
	community      string
	seed           uint64
	faults         simagent.Faults
	faultsText     string
	faultsSelector simagent.Selector
	maxMsgSize     int
	sockets        int
	control        string
	token          string
	readOnly       bool
	stdinEOF       bool
	perAgent       bool
	logLevel       slog.Level
	users          []usm.User
	labels         []simagent.LabelRange
}

// selectorGrammar documents simagent.ParseSelector for --help.
const selectorGrammar = `Selector (--faults-selector, and ?selector= in the control API):
  all              every agent (the default)
  index=N          agent N (from 0)
  count=N          N agents picked by the seed
  percent=P        P% of the agents (at least one), picked by the seed
  range=A-B        agents A to B inclusive
  label=KEY=VALUE  agents carrying a label`

const maxSockets = 64 // simagent.Config allows 1 to 64

// errHelp is returned when --help was asked for; the usage went to stdout.
var errHelp = errors.New("help requested")

// parseFlags reads args (and the token variable through getenv). Usage
// errors name the flag at fault.
func parseFlags(args []string, stdout io.Writer, getenv func(string) string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("simagent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&o.agents, "agents", 1, "simulate `N` agents")
	listen := fs.String("listen", "127.16.0.1:1161", "first agent's `IP:PORT`; the others take the next IPv4 addresses (port 0: a free port)")
	listenAny := fs.Bool("listen-any", false, "allow --listen beyond loopback and the netns test range 198.18.0.0/15 (agents answer, and amplify for, anyone who reaches them)")
	fs.BoolVar(&o.byPort, "by-port", false, "put agents on consecutive ports of the --listen address instead of consecutive addresses")
	fs.Func("data", "serve `PATH[=N|=P%]`: a recording (.snmprec, snmpwalk output, .sapwalk, optionally .gz), a directory of recordings (one device kind each) or a profile, for N agents or P% of them; repeatable for a mixed fleet (agents carry the label kind=NAME); excludes --profile", func(v string) error {
		d, err := parseDataSpec(v)
		o.data = append(o.data, d)
		return err
	})
	fs.BoolVar(&o.identity.On, "identity", false, "give every agent but agent 0 its own sysName, serial numbers and MACs (see --sysname, --serial; default: every agent answers the recorded ones)")
	fs.StringVar(&o.identity.SysName, "sysname", simagent.DefaultSysNameTemplate, "sysName.0 `TEMPLATE` of agents 1.. ({value} {index} {addr} {kind} {serial})")
	fs.StringVar(&o.identity.Serial, "serial", simagent.DefaultSerialTemplate, "entPhysicalSerialNum `TEMPLATE` of agents 1..")
	fs.IntVar(&o.maxBulk, "max-bulk", simagent.DefaultMaxBulkVarbinds, "cap a GetBulk's repetitions at `N` varbinds, as snmpd's maxGetbulkResponses (-1: no cap)")
	fs.StringVar(&o.profile, "profile", "if-mib:24", "serve a synthetic profile `NAME` (see Profiles)")
	fs.StringVar(&o.community, "community", "public", "v1/v2c community `STRING`")
	fs.Uint64Var(&o.seed, "seed", 0, "seed every random decision with `N` (default: random, printed in the ready line)")
	fs.StringVar(&o.faultsText, "faults", "", "fault `SPEC` applied at start (see Fault spec)")
	selText := fs.String("faults-selector", "all", "agents the --faults apply to: `SELECTOR` (see Selector)")
	fs.IntVar(&o.maxMsgSize, "max-msg-size", 0, "agents' maximum message size, `BYTES` from 484 to 65507 (default 65507)")
	fs.IntVar(&o.sockets, "sockets", 0, "use `N` shared UDP sockets (default GOMAXPROCS, at most 16)")
	fs.StringVar(&o.control, "control", "", "serve the HTTP control API on `IP:PORT` (beyond loopback only with a token)")
	controlAny := fs.Bool("control-any", false, "accepted for old scripts: a token is what allows --control beyond loopback")
	tokenFile := fs.String("control-token-file", "", "require the bearer token in `FILE` on the control API (or set $"+tokenEnv+")")
	fs.BoolVar(&o.readOnly, "control-read-only", false, "refuse every fault change through the control API")
	fs.BoolVar(&o.stdinEOF, "stop-on-stdin-eof", false, "stop when stdin reaches its end (for a parent process that holds the other end of a pipe)")
	fs.BoolVar(&o.perAgent, "metrics-per-agent", false, "add per-agent series to /metrics (3 per agent)")
	var rawUsers v3UserFlags
	var rawLabels labelFlags
	fs.Var(&rawLabels, "label", "label agents `A-B:KEY=VALUE[,KEY=VALUE]` for label selectors (repeatable; A alone: one agent)")
	fs.Var(&rawUsers, "v3-user", "serve SNMPv3 user `NAME[:AUTHPROTO:AUTHPASS[:PRIVPROTO:PRIVPASS]]` (repeatable; passphrases here show in ps: prefer --v3-users-file; see SNMPv3 users)")
	usersFile := fs.String("v3-users-file", "", "serve the SNMPv3 users of `FILE`, one a line as --v3-user takes them (# comments); or set $"+usersEnv)
	level := fs.String("log-level", "info", "log `LEVEL` on stderr: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, fs)
			return nil, errHelp
		}
		return nil, errors.New(dashes(err.Error()))
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var err error
	if o.agents < 1 || o.agents > 1<<20 {
		return nil, fmt.Errorf("--agents %d: want 1 to %d", o.agents, 1<<20)
	}
	if o.listen, err = netip.ParseAddrPort(*listen); err != nil {
		return nil, fmt.Errorf("--listen %q: want IP:PORT: %w", *listen, err)
	}
	if err := checkListen(o.listen, *listenAny); err != nil {
		return nil, err
	}
	if err := checkRange(o); err != nil {
		return nil, err
	}
	if set["data"] && set["profile"] {
		return nil, errors.New("--data and --profile exclude each other: give one")
	}
	if o.maxBulk == 0 || o.maxBulk < -1 {
		return nil, fmt.Errorf("--max-bulk %d: want N >= 1, or -1 for no cap", o.maxBulk)
	}
	if n, ok := countedAgents(o.data); ok && !set["agents"] {
		o.agents = n // the kinds' counts make the fleet
	}
	if o.community == "" {
		return nil, errors.New("--community: empty")
	}
	if !set["seed"] {
		o.seed = randomSeed()
	}
	if o.faults, err = simagent.ParseFaultSpec(o.faultsText); err != nil {
		return nil, fmt.Errorf("--faults: %w", err)
	}
	if o.faultsSelector, err = simagent.ParseSelector(*selText); err != nil {
		return nil, fmt.Errorf("--faults-selector: %w", err)
	}
	if set["faults-selector"] && !set["faults"] {
		return nil, errors.New("--faults-selector: needs --faults")
	}
	if o.users, err = loadUsers(rawUsers, *usersFile, getenv); err != nil {
		return nil, err
	}
	if o.labels, err = parseLabels(rawLabels, o.agents); err != nil {
		return nil, err
	}
	// The selector is resolved now, before anything is bound: a bad one
	// is a usage error, never reported after the ready line.
	if _, err := o.faultsSelector.Resolve(o.agents, o.seed, simagent.LabelsOf(o.labels)); err != nil {
		return nil, fmt.Errorf("--faults-selector %s: %w", *selText, err)
	}
	if o.maxMsgSize != 0 && (o.maxMsgSize < 484 || o.maxMsgSize > 65507) {
		return nil, fmt.Errorf("--max-msg-size %d: want 484 to 65507", o.maxMsgSize)
	}
	if o.sockets < 0 || o.sockets > maxSockets || (set["sockets"] && o.sockets == 0) {
		return nil, fmt.Errorf("--sockets %d: want 1 to %d", o.sockets, maxSockets)
	}
	if o.token, err = controlToken(*tokenFile, getenv); err != nil {
		return nil, err
	}
	if set["control"] {
		if err := checkControl(o.control, *controlAny, o.token != ""); err != nil {
			return nil, err
		}
	} else {
		for _, name := range []string{"control-token-file", "control-read-only", "control-any"} {
			if set[name] {
				return nil, fmt.Errorf("--%s: %w", name, errNoControl)
			}
		}
	}
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", *level)
	}
	return o, nil
}

// checkRange checks that the agents' addresses or ports fit, naming flags.
func checkRange(o *options) error {
	if o.agents == 1 {
		return nil
	}
	first := o.listen
	if o.byPort {
		if first.Port() == 0 {
			return fmt.Errorf("--by-port with --agents %d needs a fixed --listen port, not 0", o.agents)
		}
		if int(first.Port())+o.agents-1 > 65535 {
			return fmt.Errorf("--by-port: --agents %d from --listen port %d run past port 65535", o.agents, first.Port())
		}
		return nil
	}
	a := first.Addr()
	if !a.Is4() {
		return fmt.Errorf("--listen %s: --agents %d on consecutive addresses need an IPv4 address (or use --by-port)", first, o.agents)
	}
	last := a
	b := a.As4()
	v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3]) + uint64(o.agents-1)
	if v <= 0xffffffff {
		last = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	if v > 0xffffffff || (a.IsLoopback() && (!last.IsLoopback() || last == netip.AddrFrom4([4]byte{127, 255, 255, 255}))) {
		return fmt.Errorf("--agents %d from --listen %s run out of the address range (use a lower --listen address or fewer agents)", o.agents, a)
	}
	return nil
}

// dashes rewrites the flag package's "-name" as "--name", as documented.
func dashes(msg string) string {
	for _, p := range []string{"flag -", "for -", "argument: -", "defined: -"} {
		msg = strings.Replace(msg, p, p[:len(p)-1]+"--", 1)
	}
	return msg
}

func usage(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	b.WriteString(`Usage: simagent [flags]

simagent runs a fleet of simulated SNMP v1/v2c agents with injectable
faults, for testing pollers. It prints one line to stdout when every agent
answers, and stops cleanly on SIGINT or SIGTERM.

Flags:
`)
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(&b, " %s", name)
		}
		fmt.Fprintf(&b, "\n        %s", text)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteByte('\n')
	})
	b.WriteString("\nProfiles (--profile):\n")
	for _, p := range mib.Profiles() {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	fmt.Fprintf(&b, "\n%s\n\n%s\n\n%s\n", v3UserHelp, selectorGrammar, simagent.FaultSpecGrammar)
	b.WriteString(`
Control API (--control), version 1 under /v1: GET /v1/info (discovery:
addresses, labels, data digest, v3 users), /v1/healthz, /v1/readyz,
/v1/agents, /v1/agents/{i}, /v1/agents/{i}/data?root=OID, /v1/stats,
/v1/metrics (Prometheus); GET|PUT|DELETE /v1/faults?selector=SEL&change=ID
(PUT: JSON faults, or a text/plain fault spec) and PUT
/v1/fault-sets?change=ID. A change id makes a retried change apply once.
The unversioned paths of before still answer, marked deprecated. Beyond
loopback the API needs a bearer token (--control-token-file or
$` + tokenEnv + `); GET /v1/ lists the endpoints.

Exit status: 0 after a clean stop, 2 for bad flags or data, 1 otherwise.
`)
	_, _ = io.WriteString(w, b.String())
}
