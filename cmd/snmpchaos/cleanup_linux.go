//go:build linux

package main

import (
	"fmt"
	"io"
	"os"

	"github.com/snmpchaos/snmpchaos/netns"
)

// cleanupRuns lists or removes the runs of family and reports what it did.
func cleanupRuns(family string, all, dry bool, stdout, stderr io.Writer) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "snmpchaos cleanup: needs root (netns mode's namespaces, links and routes are root's)")
		return exitFail
	}
	if dry {
		runs, err := netns.Runs(family)
		for _, r := range runs {
			fmt.Fprintf(stdout, "%s (pid %d, %s)\n", r.Run, r.PID, aliveWord(r.Alive))
		}
		if err != nil {
			fmt.Fprintf(stderr, "snmpchaos cleanup: %v\n", err)
			return exitFail
		}
		if len(runs) == 0 {
			fmt.Fprintln(stdout, "nothing of netns runs on this host")
		}
		return exitOK
	}
	removed, err := netns.CleanupRuns(family, all)
	for _, r := range removed {
		fmt.Fprintf(stdout, "removed %s (pid %d, %s)\n", r.Run, r.PID, aliveWord(r.Alive))
	}
	if err != nil {
		fmt.Fprintf(stderr, "snmpchaos cleanup: %v\n", err)
		return exitFail
	}
	left, err := netns.Runs(family)
	if err != nil {
		fmt.Fprintf(stderr, "snmpchaos cleanup: %v\n", err)
		return exitFail
	}
	kept := 0
	for _, r := range left {
		if r.Alive && !all {
			fmt.Fprintf(stdout, "kept %s (pid %d, alive; --all removes it)\n", r.Run, r.PID)
			kept++
			continue
		}
		fmt.Fprintf(stderr, "snmpchaos cleanup: %s is still there\n", r.Run)
		return exitFail
	}
	if len(removed) == 0 && kept == 0 {
		fmt.Fprintln(stdout, "nothing to clean up")
	}
	return exitOK
}

// cleanupOwn removes this process's netns runs (on a second signal).
func cleanupOwn() error { return netns.CleanupPID(os.Getpid()) }

func aliveWord(alive bool) string {
	if alive {
		return "alive"
	}
	return "dead"
}
