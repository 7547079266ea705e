package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// fleetTokenEnv carries the remote fleet's bearer token when no
// --fleet-token-file is given.
const fleetTokenEnv = "SNMPCHAOS_FLEET_TOKEN"

// fleetFlags say where the run's fleet lives, when not where the scenario
// says.
type fleetFlags struct {
	urls      string
	tokenFile string
	processes int
	simagent  string
	set       map[string]bool
}

func (f *fleetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.urls, "fleet", "", "drive the running simagents at control `URL[,URL...]` instead of starting the scenario's agents")
	fs.StringVar(&f.tokenFile, "fleet-token-file", "", "bearer token of the --fleet control APIs in `FILE` (or $"+fleetTokenEnv+")")
	fs.IntVar(&f.processes, "processes", 0, "run the fleet in `N` simagent child processes (overrides fleet.processes; 0: in this process)")
	fs.StringVar(&f.simagent, "simagent", "", "simagent binary `PATH` for child processes (default $SNMPCHAOS_SIMAGENT, then simagent next to snmpchaos, then $PATH)")
}

// options checks the flags and returns the harness options they make.
func (f *fleetFlags) options(fs *flag.FlagSet) ([]harness.Option, error) {
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	var opts []harness.Option
	if f.set["fleet"] {
		if f.set["processes"] {
			return nil, errors.New("--fleet and --processes exclude each other: drive running simagents, or start them")
		}
		var urls []string
		for _, u := range strings.Split(f.urls, ",") {
			u = strings.TrimSpace(u)
			if err := scenarios.CheckControlURL(u); err != nil {
				return nil, fmt.Errorf("--fleet: %w", err)
			}
			urls = append(urls, u)
		}
		opts = append(opts, harness.WithFleet(urls...))
		tok, err := fleetToken(f.tokenFile)
		if err != nil {
			return nil, err
		}
		if tok != "" {
			opts = append(opts, harness.WithFleetToken(tok))
		}
	} else if f.set["fleet-token-file"] {
		return nil, errors.New("--fleet-token-file: needs --fleet")
	}
	if f.set["processes"] {
		if f.processes < 0 || f.processes > scenarios.MaxProcesses {
			return nil, fmt.Errorf("--processes %d: want 0 to %d", f.processes, scenarios.MaxProcesses)
		}
		opts = append(opts, harness.WithProcesses(f.processes))
	}
	if f.set["simagent"] {
		opts = append(opts, harness.WithSimagent(f.simagent))
	}
	return opts, nil
}

// fleetToken reads --fleet-token-file or $SNMPCHAOS_FLEET_TOKEN; errors
// never show the token.
func fleetToken(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(fleetTokenEnv)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--fleet-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("--fleet-token-file %s: want one token on one line", file)
	}
	return tok, nil
}
