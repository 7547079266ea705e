//go:build unix

package harness

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// lowerNofile lowers this process's soft RLIMIT_NOFILE to n for the run,
// as `ulimit -n n` would, so that a poller that runs out of descriptors
// fails as in production, with EMFILE. It returns the function that puts
// the old limit back.
func lowerNofile(n int, open int) (func(), error) {
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		return nil, fmt.Errorf("harness: rlimitNofile: getrlimit: %w", err)
	}
	want := uint64(n)
	if want > old.Max {
		want = old.Max
	}
	if int(want) < open+16 {
		return nil, fmt.Errorf("%w: rlimitNofile %d leaves no room: %d descriptors are open before the poller starts", ErrBadInput, n, open)
	}
	lim := unix.Rlimit{Cur: want, Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return nil, fmt.Errorf("harness: rlimitNofile: setrlimit %d: %w", want, err)
	}
	return func() { _ = unix.Setrlimit(unix.RLIMIT_NOFILE, &old) }, nil
}
