//go:build !linux

package main

import (
	"fmt"
	"io"
)

// cleanupRuns has nothing to do: netns mode is Linux only.
func cleanupRuns(_ string, _, _ bool, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "nothing to clean up (netns mode runs on Linux only)")
	return exitOK
}

// cleanupOwn has nothing to remove off Linux.
func cleanupOwn() error { return nil }
