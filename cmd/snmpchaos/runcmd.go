package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/harness/daemon"
	"github.com/snmpchaos/snmpchaos/k8s/k8smode"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// runOptions are the run command's flags, parsed and checked.
type runOptions struct {
	scenario string
	short    bool
	out      string
	poller   string
	seed     uint64
	seeded   bool
	progress string
	logLevel slog.Level
	// netnsFamily names netns mode's namespaces ("" default).
	netnsFamily string
	// mode runs the scenario in another mode ("": the file's); dryRun
	// prints a k8s-mode run's objects instead of running it.
	mode         string
	dryRun       bool
	k8sNamespace string
	k8sImage     string
	fleet        fleetFlags
	fleetOpt     []harness.Option
}

func runUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, `Usage: snmpchaos run SCENARIO|FILE [flags]

Runs a bundled scenario (see snmpchaos list) or a scenario file against a
poller: starts the simulated fleet on loopback (in this process, or in
--processes simagent child processes), or drives running simagents at
--fleet URLs through their control APIs; drives the load through the
scenario's phases and faults, then checks the invariants. Progress goes to
stderr (one line a second), the verdict to stdout, and the reports into
--out: report.txt, report.json, report.html (plots) and junit.xml.

Flags:
`)
	printFlags(w, fs)
	fmt.Fprintf(w, `
Pollers (--poller): %s;
exec:CMD ARGS... (a poller in another process, driven over the exec
protocol: docs/exec-protocol.md); snmp_exporter (Debian's
prometheus-snmp-exporter, started with an snmp.yml rendered from the
scenario and scraped as Prometheus would: see scenario snmp-exporter)

On SIGINT or SIGTERM the run stops its load, drains, closes the poller,
removes its netns namespaces, links, routes and state file, writes the
reports with the run marked interrupted, and exits 130. A second signal
stops it at once: it still removes its netns namespaces, links, routes and
state file first, but writes no reports, and exits 130. Only SIGKILL
leaves them behind; snmpchaos cleanup removes them.

Exit status: 0 when every invariant holds, 1 when one is violated (or the
run could not be carried out), 2 for bad input (flags, an unknown scenario
or poller, a malformed scenario file), 130 when interrupted.
`, strings.Join(harness.Pollers(), ", "))
}

// parseRunFlags reads the run command's arguments.
func parseRunFlags(args []string, stdout io.Writer) (*runOptions, error) {
	o := &runOptions{}
	fs := newFlagSet("run")
	fs.BoolVar(&o.short, "short", false, "run the scenario's short profile (fewer agents, shorter phases)")
	fs.StringVar(&o.out, "out", "", "write the reports into `DIR` (default ./out/SCENARIO-TIMESTAMP)")
	fs.StringVar(&o.poller, "poller", "pollerlib", "drive poller `NAME` (see Pollers)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed every random decision with `N` (default: the scenario's seed, else random; printed in the verdict)")
	fs.StringVar(&o.progress, "progress", "auto", "progress `MODE` on stderr: auto (rewrite one line on a terminal, a line a second otherwise), lines, or off")
	fs.StringVar(&o.netnsFamily, "netns-family", "", "netns mode: start the names of namespaces, links and tables with `FAMILY` (1-3 lowercase letters; default sc), as snmpchaos cleanup --family takes it")
	fs.StringVar(&o.mode, "mode", "", "run the scenario in `MODE`: inprocess, netns or k8s (default: the file's mode; netns and k8s scenarios turn into each other unchanged)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "k8s mode: print the pods and each phase's Chaos Mesh objects the run would create (checked as the run checks them), and exit")
	fs.StringVar(&o.k8sNamespace, "k8s-namespace", "", "k8s mode: the run's `NAMESPACE` (default $POD_NAMESPACE, else the kubeconfig's, else snmpchaos)")
	fs.StringVar(&o.k8sImage, "k8s-image", "", "k8s mode: simagent's `IMAGE` (default "+pods.DefaultImage+")")
	level := fs.String("log-level", "warn", "log the run's lifecycle on stderr at `LEVEL`: debug, info, warn or error")
	o.fleet.register(fs)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		runUsage(stdout, fs)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) { o.seeded = o.seeded || f.Name == "seed" })
	switch len(pos) {
	case 0:
		return nil, errors.New("no scenario given: name a bundled one (snmpchaos list) or a file")
	case 1:
		o.scenario = pos[0]
	default:
		return nil, fmt.Errorf("one scenario at a time, got %q", pos)
	}
	if o.poller == "exec:" || (!strings.HasPrefix(o.poller, "exec:") && o.poller != daemon.SnmpExporter && !slices.Contains(harness.Pollers(), o.poller)) {
		return nil, fmt.Errorf("--poller %q: unknown poller (have: %s, %s, exec:CMD ARGS...)", o.poller, strings.Join(harness.Pollers(), ", "), daemon.SnmpExporter)
	}
	if strings.HasPrefix(o.poller, "exec:") {
		if _, err := harness.ParseExec(o.poller); err != nil {
			return nil, fmt.Errorf("--poller: %w", err)
		}
	}
	if !slices.Contains([]string{"auto", "lines", "off"}, o.progress) {
		return nil, fmt.Errorf("--progress %q: want auto, lines or off", o.progress)
	}
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", *level)
	}
	if o.mode != "" && !slices.Contains(scenarios.Modes(), o.mode) {
		return nil, fmt.Errorf("--mode %q: want %s", o.mode, strings.Join(scenarios.Modes(), ", "))
	}
	if o.netnsFamily != "" && !familyRE.MatchString(o.netnsFamily) {
		return nil, fmt.Errorf("--netns-family %q: want 1-3 lowercase letters", o.netnsFamily)
	}
	if err := checkK8sFlags(o); err != nil {
		return nil, err
	}
	if o.fleetOpt, err = o.fleet.options(fs); err != nil {
		return nil, err
	}
	return o, nil
}

// runCmd runs one scenario and writes its reports.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseRunFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprint(stderr, flagError("run", err))
		return exitUsage
	}
	sc, err := scenarios.Open(o.scenario)
	if err != nil {
		fmt.Fprintf(stderr, "snmpchaos run: %s\n", describeLoadError(err))
		return exitUsage
	}
	if o.mode != "" {
		if sc, err = sc.InMode(o.mode); err != nil {
			fmt.Fprintf(stderr, "snmpchaos run: --mode %s: %s\n", o.mode, describeLoadError(err))
			return exitUsage
		}
	}
	if o.dryRun {
		return dryRun(ctx, o, sc, stdout, stderr)
	}
	out := o.out
	if out == "" {
		out = filepath.Join("out", sc.Name+"-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(out, 0o755); err != nil { // fail now, not after the run
		fmt.Fprintf(stderr, "snmpchaos run: --out: %v\n", err)
		return exitUsage
	}
	eff := sc
	if o.short {
		eff = sc.Shortened()
	}
	// One seed for the fleet, the load and the poller, so that the run
	// replays with --seed: the flag's, the scenario's, or one chosen here.
	seed := runSeed(o, eff)
	settings := harness.SettingsFor(eff)
	settings.Seed = seed
	// Logs go through the progress printer so that they do not land in the
	// middle of a status line.
	pp := harness.NewProgressPrinter(stderr, o.progress == "auto" && harness.IsTerminal(stderr))
	logger := slog.New(slog.NewTextHandler(pp, &slog.HandlerOptions{Level: o.logLevel}))
	// From here on Run owns the poller and closes it.
	poller, err := newPoller(ctx, o.poller, eff, settings, logger)
	if err != nil {
		pp.Done()
		fmt.Fprintf(stderr, "snmpchaos run: --poller %s: %v\n", o.poller, err)
		if errors.Is(err, harness.ErrUnknownPoller) {
			return exitUsage
		}
		return exitFail
	}

	opts := append([]harness.Option{harness.WithShort(o.short), harness.WithLogger(logger), harness.WithSeed(seed), harness.WithNetnsFamily(o.netnsFamily)}, o.fleetOpt...)
	if o.progress != "off" {
		opts = append(opts, harness.WithProgress(pp.Update))
	}
	if sc.IsK8s() {
		c, ns, err := k8sClient(o.k8sNamespace)
		if err != nil {
			_ = poller.Close(context.Background())
			fmt.Fprintf(stderr, "snmpchaos run: k8s mode: %v\n", err)
			return exitFail
		}
		opts = append(opts, harness.WithK8s(k8smode.Cluster{Client: c, Namespace: ns, Image: o.k8sImage}))
	}
	fmt.Fprintf(stderr, "snmpchaos: running %s (%d agents, %s) with poller %s, seed %d (replay with --seed %d); reports go to %s\n",
		sc.Name, eff.Fleet.Agents, eff.TotalDuration(), o.poller, seed, seed, out)
	rep, runErr := harness.Run(ctx, sc, poller, opts...)
	pp.Done()
	if r, ok := poller.(harness.Releaser); ok {
		r.Release() // a negative control's deliberate leaks, now measured
	}
	return finish(ctx, rep, runErr, out, stdout, stderr)
}

// finish writes the reports and the verdict and picks the exit code.
func finish(ctx context.Context, rep *harness.Report, runErr error, out string, stdout, stderr io.Writer) int {
	interrupted := runErr != nil && ctx.Err() != nil
	if rep == nil {
		fmt.Fprintf(stderr, "snmpchaos run: %v\n", runErr)
		if errors.Is(runErr, harness.ErrBadInput) {
			return exitUsage
		}
		if interrupted {
			return exitInterrupted
		}
		return exitFail
	}
	if interrupted {
		harness.MarkInterrupted(rep, context.Cause(ctx))
	} else if runErr != nil {
		fmt.Fprintf(stderr, "snmpchaos run: %v\n", runErr)
	}
	if err := harness.WriteText(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "snmpchaos run: %v\n", err)
	}
	files, err := harness.WriteAll(out, rep)
	if err != nil {
		fmt.Fprintf(stderr, "snmpchaos run: writing reports: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "\nReport: %s (plots)\n        %s, %s, %s\n", files.HTML, files.Text, files.JSON, files.JUnit)
	switch {
	case interrupted:
		return exitInterrupted
	case rep.Pass && runErr == nil:
		return exitOK
	default:
		return exitFail
	}
}

// dryRun prints a k8s-mode run's objects.
func dryRun(ctx context.Context, o *runOptions, sc *scenarios.Scenario, stdout, stderr io.Writer) int {
	if !sc.IsK8s() {
		fmt.Fprintf(stderr, "snmpchaos run: --dry-run: scenario %s is in mode %s; --dry-run prints a k8s-mode run (add --mode k8s)\n", sc.Name, sc.Mode)
		return exitUsage
	}
	eff := sc
	if o.short {
		eff = sc.Shortened()
	}
	ns := o.k8sNamespace
	if ns == "" {
		ns = "snmpchaos"
	}
	if err := printK8sPlan(ctx, stdout, eff, k8smode.Cluster{Namespace: ns, Image: o.k8sImage}, runSeed(o, eff)); err != nil {
		fmt.Fprintf(stderr, "snmpchaos run: --dry-run: %v\n", err)
		if errors.Is(err, scenarios.ErrInvalid) {
			return exitUsage
		}
		return exitFail
	}
	return exitOK
}

// runSeed is --seed when given, else the scenario's seed, else a random
// non-zero one.
func runSeed(o *runOptions, sc *scenarios.Scenario) uint64 {
	switch {
	case o.seeded:
		return o.seed
	case sc.Seed != 0:
		return sc.Seed
	}
	for {
		if s := rand.Uint64(); s != 0 {
			return s
		}
	}
}

// newPoller makes the poller --poller names: a bundled one, a process
// driven over the exec protocol, or snmp_exporter observed as a daemon.
func newPoller(ctx context.Context, name string, sc *scenarios.Scenario, s harness.Settings, log *slog.Logger) (harness.Poller, error) {
	switch {
	case name == daemon.SnmpExporter:
		return daemon.New(ctx, sc, daemon.Config{Logger: log})
	case strings.HasPrefix(name, "exec:"):
		cmd, err := harness.ParseExec(name)
		if err != nil {
			return nil, err
		}
		return harness.NewExec(ctx, harness.ExecConfig{Command: cmd, Settings: s, Logger: log})
	}
	return harness.NewPoller(name, s)
}
