//go:build !unix

package harness

import "fmt"

// lowerNofile cannot lower the descriptor limit here.
func lowerNofile(n int, open int) (func(), error) {
	return nil, fmt.Errorf("%w: rlimitNofile needs a Unix system", ErrBadInput)
}
