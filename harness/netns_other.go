//go:build !linux

package harness

import (
	"context"
	"fmt"
	"runtime"
)

// startNetns fails: netns mode needs Linux.
func (r *run) startNetns(context.Context) error {
	return fmt.Errorf("%w: scenario %s: this is %s", ErrNeedsRoot, r.sc.Name, runtime.GOOS)
}

// CleanupNetns does nothing: netns mode needs Linux.
func CleanupNetns(string) error { return nil }
