package benchutil

import (
	"context"
	"fmt"
	"os"
	"time"
)

// loadRole is the child role of Load.RunInChild.
const loadRole = "benchutil-load"

type loadInput struct {
	Load     Load
	Duration time.Duration
}

// HandleLoadChild runs a Load and exits if this process was started by
// Load.RunInChild; otherwise it returns at once. A test binary that uses
// RunInChild calls it from an init function.
func HandleLoadChild() {
	if ChildRole() != loadRole {
		return
	}
	var in loadInput
	err := ReadInput(&in)
	var res Result
	if err == nil {
		res, err = in.Load.Run(context.Background(), in.Duration)
	}
	if err == nil {
		err = WriteResult(res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// RunInChild runs the load for d in a child process (this executable
// again; see HandleLoadChild) and also returns the CPU time this process
// used meanwhile: with the load generator out of the process, that is the
// CPU the server under test spent on it, a figure that other processes
// competing for the machine disturb far less than throughput.
func (l *Load) RunInChild(ctx context.Context, d time.Duration) (Window, error) {
	if _, err := l.withDefaults(); err != nil {
		return Window{}, err
	}
	cpu0, err := CPUTime()
	if err != nil {
		return Window{}, err
	}
	var w Window
	if err := RunChild(ctx, loadRole, loadInput{Load: *l, Duration: d}, &w.Result, "-test.run=^$", "-test.bench=^$"); err != nil {
		return Window{}, err
	}
	cpu1, err := CPUTime()
	if err != nil {
		return Window{}, err
	}
	w.ServerCPU = cpu1 - cpu0
	return w, nil
}
