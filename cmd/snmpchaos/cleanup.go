package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
)

const cleanupUsage = `Usage: snmpchaos cleanup [--family F] [--all] [--dry-run]
       snmpchaos cleanup --k8s [--k8s-namespace NS] [--run ID] [--dry-run]

Removes what earlier netns runs left on this host: network namespaces
(with the nftables tables and qdiscs inside them), veth links, nftables
tables, routes (rtm_protocol 151) and state files under /run/snmpchaos. A
run killed with SIGKILL leaves these; a run that stops on a signal removes
its own (see snmpchaos run --help). Runs whose process still lives are kept
unless --all. Needs root on Linux.

With --k8s it removes instead, from the cluster $KUBECONFIG names (or the
one it runs in), the simagent pods and Chaos Mesh experiments that k8s-mode
runs made (label app.kubernetes.io/managed-by=snmpchaos), of one run with
--run, in one namespace with --k8s-namespace (default: every namespace),
and waits until they are gone.

Flags:
`

// familyRE is netns.Config.Family's form.
var familyRE = regexp.MustCompile(`^[a-z]{1,3}$`)

// cleanupCmd removes leftovers of earlier netns runs.
func cleanupCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("cleanup")
	family := fs.String("family", "", "only runs of `FAMILY` (their names' first part, e.g. sc; default every family)")
	all := fs.Bool("all", false, "remove live runs too (their processes lose their namespaces)")
	dry := fs.Bool("dry-run", false, "list the runs, remove nothing")
	k8s := fs.Bool("k8s", false, "remove k8s-mode runs' pods and Chaos Mesh objects from the cluster instead")
	k8sNS := fs.String("k8s-namespace", "", "with --k8s: only in `NAMESPACE` (default every namespace)")
	runID := fs.String("run", "", "with --k8s: only run `ID` (its label snmpchaos.io/run)")
	rest, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, cleanupUsage)
		printFlags(stdout, fs)
		return exitOK
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err == nil && *family != "" && !familyRE.MatchString(*family) {
		err = fmt.Errorf("--family %q: want 1-3 lowercase letters", *family)
	}
	if err != nil {
		fmt.Fprint(stderr, flagError("cleanup", err))
		return exitUsage
	}
	if *k8s {
		return cleanupK8s(*k8sNS, *runID, *dry, stdout, stderr)
	}
	return cleanupRuns(*family, *all, *dry, stdout, stderr)
}
