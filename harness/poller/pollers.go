package poller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/pollerlib"
)

// ErrClosed is the error of polls handed to a poller after Close.
var ErrClosed = errors.New("harness: poller closed")

// ErrUnknownPoller is wrapped by NewPoller for a name it does not know.
var ErrUnknownPoller = errors.New("harness: unknown poller")

// PollerKind is a poller NewPoller can make.
type PollerKind struct {
	Name string
	Doc  string
	// Breaks lists the invariants this poller is built to break: empty for
	// pollers meant to pass, the target invariants of negative controls.
	// The names are harness/invariant's (this package does not import the
	// checks); a test holds them to the invariant registry.
	Breaks []string
	New    func(pollapi.Settings) (pollapi.Poller, error)
}

// PollerKinds lists the pollers NewPoller can make: the default first, then
// the baselines, then the negative controls.
func PollerKinds() []PollerKind {
	return []PollerKind{
		{Name: "pollerlib", Doc: "the bundled poller (default): shared sockets, adaptive timeouts, complete walks", New: NewPollerlib},
		{Name: "gosnmp", Doc: "plain gosnmp, one GoSNMP per poll: Connect, request, Close (baseline)", New: NewGosnmp},
		{Name: "gosnmp-cached", Doc: "gosnmp with one long-lived GoSNMP per target (a socket per target; for v3, gosnmp's cached engine time, #509/#511)", New: NewGosnmpCached},
		{Name: "gosnmp-leaky", Doc: "gosnmp as seen in production: Connect per poll, never Close (leaks a socket per poll)",
			Breaks: []string{"connections-closed", "fds-stable"}, New: NewGosnmpLeaky},
		{Name: "broken-socket-leak", Doc: "negative control: pollerlib that also opens a UDP socket per poll and never closes it, while its stats say 0",
			Breaks: []string{"connections-closed", "fds-stable"}, New: newBrokenSocketLeak},
		{Name: "broken-goroutine-leak", Doc: "negative control: gives up on slow polls after half the timeout, leaving the request's goroutine blocked forever",
			Breaks: []string{"goroutines-bounded"}, New: newBrokenGoroutineLeak},
		{Name: "broken-partial-walk", Doc: "negative control: walks silently drop their last varbind, as a walk that stops early on tooBig does (gosnmp#98)",
			Breaks: []string{"walks-complete"}, New: newBrokenPartialWalk},
		{Name: "broken-lost-poll", Doc: "negative control: never reports one poll in 25",
			Breaks: []string{"polls-accounted"}, New: newBrokenLostPoll},
	}
}

// Pollers lists the names NewPoller knows, the default ("pollerlib") first.
func Pollers() []string {
	var out []string
	for _, k := range PollerKinds() {
		out = append(out, k.Name)
	}
	return out
}

// NewPoller makes the poller called name with settings s; "exec:CMD
// ARGS..." starts CMD and drives it over the exec protocol (NewExec).
func NewPoller(name string, s pollapi.Settings) (pollapi.Poller, error) {
	if strings.HasPrefix(name, "exec:") {
		return newExecSpec(name, s)
	}
	for _, k := range PollerKinds() {
		if k.Name == name {
			return k.New(s)
		}
	}
	return nil, fmt.Errorf("%w %q (have: %s)", ErrUnknownPoller, name, strings.Join(Pollers(), ", "))
}

// timeout is s.Timeout or the scenario default.
func timeout(s pollapi.Settings) time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 2 * time.Second
}

// Sync adapts a blocking poll function to a Poller. Each poll runs fn on a
// goroutine of its own (Run bounds how many are in flight) and reports its
// result. Close stops taking polls, waits for those running (when its ctx
// ends first, it cancels their contexts and waits a moment more) and then
// calls closeFn, which may be nil.
func Sync(name string, fn func(ctx context.Context, p pollapi.Poll) pollapi.Result, closeFn func(ctx context.Context) error) pollapi.Poller {
	return newSyncPoller(name, fn, closeFn)
}

// syncPoller is Sync's Poller; adapters embed it.
type syncPoller struct {
	name    string
	fn      func(context.Context, pollapi.Poll) pollapi.Result
	closeFn func(context.Context) error
	base    context.Context
	cancel  context.CancelFunc
	running atomic.Int64

	mu       sync.Mutex
	closed   bool
	wg       sync.WaitGroup
	done     chan struct{}
	closeErr error
}

func newSyncPoller(name string, fn func(context.Context, pollapi.Poll) pollapi.Result, closeFn func(context.Context) error) *syncPoller {
	s := &syncPoller{name: name, fn: fn, closeFn: closeFn, done: make(chan struct{})}
	s.base, s.cancel = context.WithCancel(context.Background())
	return s
}

// Name is the poller's name.
func (s *syncPoller) Name() string { return s.name }

// Poll runs the poll on a goroutine and reports it.
func (s *syncPoller) Poll(ctx context.Context, p pollapi.Poll, done func(pollapi.Result)) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		done(pollapi.Result{Err: ErrClosed})
		return
	}
	s.wg.Add(1)
	s.running.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer s.running.Add(-1)
		ctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(s.base, cancel)
		res := s.fn(ctx, p)
		stop()
		cancel()
		done(res)
	}()
}

// Close waits for running polls and closes the poller. It is idempotent.
func (s *syncPoller) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		select {
		case <-s.done:
			return s.closeErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.closed = true
	s.mu.Unlock()
	idle := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(idle)
	}()
	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		s.cancel()
		grace := time.NewTimer(time.Second)
		select {
		case <-idle:
			err = fmt.Errorf("%s: close: polls cancelled: %w", s.name, ctx.Err())
		case <-grace.C:
			err = fmt.Errorf("%s: close: %d polls still running: %w", s.name, s.running.Load(), ctx.Err())
		}
		grace.Stop()
	}
	s.cancel()
	if s.closeFn != nil {
		if cerr := s.closeFn(ctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("%s: close: %w", s.name, cerr))
		}
	}
	s.closeErr = err
	close(s.done)
	return err
}

// kindError tags an error with the kind reports count it under.
type kindError struct {
	kind string
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// Kind is the error's kind.
func (e *kindError) Kind() string { return e.kind }

// kindRE is what an error's own Kind() must look like to be reported as
// a kind: a short identifier.
var kindRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,39}$`)

// ErrorKind classifies a poll error for reports: pollerlib's outcomes
// (timeout, tooBig, circuitOpen, ...), an error's own Kind() string method
// if it has one, "canceled", "emfile" (too many open files), "timeout",
// or "error".
func ErrorKind(err error) string {
	if err == nil {
		return "ok"
	}
	var k interface{ Kind() string }
	if errors.As(err, &k) {
		if kind := k.Kind(); kindRE.MatchString(kind) {
			return kind
		}
		return "error" // not a kind (a poller in another process wrote it)
	}
	if o := pollerlib.Outcome(err); o != pollerlib.OutcomeError {
		return o
	}
	var ne net.Error
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "emfile"
	case errors.Is(err, pollapi.ErrDeadline):
		return "deadline"
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(strings.ToLower(err.Error()), "timeout"):
		return "timeout"
	}
	return "error"
}
