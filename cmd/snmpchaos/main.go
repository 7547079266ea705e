// Command snmpchaos runs chaos scenarios against an SNMP poller and reports
// whether it stayed clean: snmpchaos run, validate and list. See
// snmpchaos --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Exit codes.
const (
	exitOK          = 0
	exitFail        = 1   // an invariant was violated, or the run could not be carried out
	exitUsage       = 2   // bad flags, unknown scenario or poller, malformed scenario file
	exitInterrupted = 130 // SIGINT or SIGTERM stopped the run; the report is still written
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { onSignals(sigs, done, cancel, len(os.Args) > 1 && os.Args[1] == "run", os.Stderr) })
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(sigs)
	close(done)
	wg.Wait()
	os.Exit(code)
}

// onSignals is the signal story. The first SIGINT or SIGTERM cancels the
// run: it stops its load, drains, closes the poller, removes its netns
// namespaces, links, routes and state file, writes the reports and exits
// 130. A second one means "now": the process removes what its netns runs
// made (synchronously, under the same lock as the run's own teardown) and
// exits 130 without waiting for the drain or the reports. Only SIGKILL
// leaves anything behind; snmpchaos cleanup removes that. Commands other
// than run have nothing to wind down and exit 130 on the first signal.
func onSignals(sigs <-chan os.Signal, done <-chan struct{}, cancel context.CancelCauseFunc, running bool, stderr io.Writer) {
	for n := 1; ; n++ {
		select {
		case <-done:
			return
		case sig := <-sigs:
			if n == 1 && running {
				cancel(fmt.Errorf("signal %v", sig))
				continue
			}
			if running {
				fmt.Fprintf(stderr, "snmpchaos: second signal (%v): removing this run's namespaces and exiting without the reports\n", sig)
				if err := cleanupOwn(); err != nil {
					fmt.Fprintf(stderr, "snmpchaos: cleanup: %v (run snmpchaos cleanup)\n", err)
				}
			}
			os.Exit(exitInterrupted)
		}
	}
}

// run carries out the command args name and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runCmd(ctx, rest, stdout, stderr)
	case "validate":
		return validateCmd(rest, stdout, stderr)
	case "list":
		return listCmd(rest, stdout, stderr)
	case "cleanup":
		return cleanupCmd(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] != "help" {
			return run(ctx, []string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "snmpchaos: unknown command %q\n\n%s", cmd, mainUsage)
		return exitUsage
	}
}

const mainUsage = `Usage: snmpchaos COMMAND [flags] [args]

snmpchaos drives an SNMP poller against thousands of simulated agents with
faults injected, and checks that it stays clean: no connection left open,
goroutines and file descriptors back to baseline, every poll reported once,
no silent partial walks, latency and success within each phase's bounds.

Commands:
  run SCENARIO|FILE   run a bundled scenario or a scenario file, write reports
  validate FILE...    check scenario files, naming the file, line and field of
                      each problem
  list                list the bundled scenarios
  cleanup             remove what killed netns runs left (namespaces, links,
                      routes, nftables tables, state files)

Run snmpchaos COMMAND --help for a command's flags.

Exit status: 0 when every invariant holds (or every file is valid), 1 when
an invariant is violated or the run could not be carried out, 2 for bad
input, 130 when a signal interrupted the run.
`

// parseInterleaved parses flags that may come before or after positional
// arguments ("run quickstart --short") and returns the positionals. A lone
// "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a flag set that reports errors instead of printing.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// flagError rewrites the flag package's "-name" as "--name", as documented.
func flagError(cmd string, err error) string {
	msg := err.Error()
	for _, p := range []string{"flag -", "for -", "argument: -", "defined: -"} {
		msg = strings.Replace(msg, p, p[:len(p)-1]+"--", 1)
	}
	return fmt.Sprintf("snmpchaos %s: %s\nRun snmpchaos %s --help for usage.\n", cmd, msg, cmd)
}

// printFlags lists a flag set's flags as --name VALUE lines.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n        %s", text)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

const validateUsage = `Usage: snmpchaos validate FILE...

Loads each scenario file (or bundled scenario name) strictly: unknown
fields, bad values and scenarios that do not fit their short profile are
errors naming the file, line and field. Prints "FILE: OK ..." for each valid
file on stdout and each error on stderr.

Exit status: 0 when every file is valid, 2 otherwise.
`

// validateCmd checks scenario files.
func validateCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate")
	files, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, validateUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprint(stderr, flagError("validate", err))
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, "snmpchaos validate: no file given\nRun snmpchaos validate --help for usage.\n")
		return exitUsage
	}
	code := exitOK
	for _, f := range files {
		sc, err := scenarios.Open(f)
		if err != nil {
			fmt.Fprintf(stderr, "%s\n", describeLoadError(err))
			code = exitUsage
			continue
		}
		fmt.Fprintf(stdout, "%s: OK (scenario %s: %d agents, %d phases, %s; short: %d agents, %s)\n", f, sc.Name,
			sc.Fleet.Agents, len(sc.Phases), sc.TotalDuration(), sc.Shortened().Fleet.Agents, sc.Shortened().TotalDuration())
	}
	return code
}

// describeLoadError renders a scenario loading error; a FieldError already
// reads "file:line: field: message".
func describeLoadError(err error) string {
	var fe *scenarios.FieldError
	if errors.As(err, &fe) {
		return fe.Error()
	}
	return strings.TrimPrefix(err.Error(), scenarios.ErrInvalid.Error()+": ")
}

const listUsage = `Usage: snmpchaos list

Lists the bundled scenarios: name, agents and duration of the full profile,
and what each reproduces. Run one with snmpchaos run NAME (add --short for
its scaled-down profile).
`

// listCmd lists the bundled scenarios.
func listCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("list")
	rest, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, listUsage)
		return exitOK
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		fmt.Fprint(stderr, flagError("list", err))
		return exitUsage
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, name := range scenarios.Names() {
		sc, err := scenarios.Bundled(name)
		if err != nil {
			fmt.Fprintf(stderr, "snmpchaos list: %s\n", describeLoadError(err))
			return exitFail
		}
		fmt.Fprintf(tw, "%s\t%d agents\t%s\t%s\n", name, sc.Fleet.Agents, sc.TotalDuration(), firstSentence(sc.Description))
	}
	if err := tw.Flush(); err != nil {
		return exitFail
	}
	return exitOK
}

// firstSentence is a description's first sentence on one line.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
