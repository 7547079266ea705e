package proctest

import (
	"bytes"
	"sync"
)

// Output collects what a child process writes (its stdout and stderr
// both, each copied by its own goroutine), or a goroutine standing in for
// one, while the test reads it. The zero value is ready to use.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
