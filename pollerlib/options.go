package pollerlib

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Option configures a Poller in New.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// config holds every setting; defaults() sets them in one place.
type config struct {
	sockets        int
	local          netip.Addr
	initialTimeout time.Duration
	minTimeout     time.Duration
	maxTimeout     time.Duration
	retries        int
	backoff        float64
	backoffCap     time.Duration
	maxOIDs        int
	maxRepetitions int
	breakerAfter   int
	breakerCool    time.Duration
	degradeAfter   int
	recoverAfter   int
	seed           uint64
	seeded         bool
	logger         *slog.Logger
	readBuffer     int // 0: sized for the fan-in (rcvbuf.go)
	maxInFlight    int
	// clock tells the time v3 engine time estimates advance by; tests
	// replace it.
	clock func() time.Time
	// demuxHold, when set (tests only), keeps the demux goroutines from
	// reading until it is closed: a host too busy to run them.
	demuxHold <-chan struct{}
}

func defaults() config {
	return config{
		sockets:        2,
		local:          netip.IPv4Unspecified(),
		initialTimeout: time.Second,
		minTimeout:     50 * time.Millisecond,
		maxTimeout:     5 * time.Second,
		retries:        3,
		backoff:        2,
		maxOIDs:        60,
		maxRepetitions: 50,
		breakerAfter:   5,
		breakerCool:    time.Second,
		degradeAfter:   3,
		recoverAfter:   10,
		logger:         slog.New(slog.DiscardHandler),
		maxInFlight:    4096,
		clock:          time.Now,
	}
}

func (c *config) check() error {
	if c.backoffCap == 0 {
		c.backoffCap = c.maxTimeout
	}
	var errs []error
	if c.sockets < 1 || c.sockets > 64 {
		errs = append(errs, fmt.Errorf("sockets %d not in [1, 64]", c.sockets))
	}
	if c.minTimeout <= 0 || c.minTimeout > c.maxTimeout {
		errs = append(errs, fmt.Errorf("timeouts: need 0 < min (%s) <= max (%s)", c.minTimeout, c.maxTimeout))
	}
	if c.initialTimeout < c.minTimeout || c.initialTimeout > c.maxTimeout {
		errs = append(errs, fmt.Errorf("initial timeout %s not in [min %s, max %s]", c.initialTimeout, c.minTimeout, c.maxTimeout))
	}
	if c.retries < 0 || c.retries > 100 {
		errs = append(errs, fmt.Errorf("retries %d not in [0, 100]", c.retries))
	}
	if c.backoff < 1 || c.backoffCap < c.minTimeout {
		errs = append(errs, fmt.Errorf("backoff: need factor (%v) >= 1 and cap (%s) >= min timeout", c.backoff, c.backoffCap))
	}
	if c.maxOIDs < 1 || c.maxRepetitions < 1 || c.maxRepetitions > 1<<16 {
		errs = append(errs, fmt.Errorf("max OIDs %d and max-repetitions %d must be positive (max-repetitions at most 65536)", c.maxOIDs, c.maxRepetitions))
	}
	if c.breakerAfter < 0 || c.breakerCool < 0 || c.degradeAfter < 0 || c.recoverAfter < 1 {
		errs = append(errs, errors.New("breaker and degrade thresholds must not be negative (recover after >= 1)"))
	}
	if !c.local.IsValid() {
		errs = append(errs, errors.New("local address is not valid"))
	}
	if c.maxInFlight < 1 || c.maxInFlight > 1<<20 {
		errs = append(errs, fmt.Errorf("max in flight %d not in [1, 1048576]", c.maxInFlight))
	}
	if c.readBuffer < 0 || c.readBuffer > 1<<30 {
		errs = append(errs, fmt.Errorf("read buffer %d not in [0, 1 GiB]", c.readBuffer))
	}
	if c.logger == nil {
		errs = append(errs, errors.New("nil logger"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pollerlib: options: %w", err)
	}
	return nil
}

// WithSockets sets how many UDP sockets the poller shares among all
// targets (default 2, at most 64).
func WithSockets(n int) Option {
	return optionFunc(func(c *config) error { c.sockets = n; return nil })
}

// WithLocalAddr binds the sockets to a local address (default 0.0.0.0,
// IPv4 any; use :: for IPv6 targets).
func WithLocalAddr(a netip.Addr) Option {
	return optionFunc(func(c *config) error { c.local = a; return nil })
}

// WithTimeouts sets the timeout of a target's first request and the bounds
// of the adaptive timeout derived from its round-trip estimate (defaults
// 1s, 50ms, 5s). Once the poller has measured round trips, a new target
// starts from the estimate over all targets instead, if that is lower.
func WithTimeouts(initial, lo, hi time.Duration) Option {
	return optionFunc(func(c *config) error {
		c.initialTimeout, c.minTimeout, c.maxTimeout = initial, lo, hi
		return nil
	})
}

// WithRetries sets how many times a request is retransmitted after a
// timeout (default 3).
func WithRetries(n int) Option {
	return optionFunc(func(c *config) error { c.retries = n; return nil })
}

// WithBackoff sets the factor each retry multiplies the timeout by
// (default 2) and the cap of one attempt's timeout (default the max
// timeout).
func WithBackoff(factor float64, limit time.Duration) Option {
	return optionFunc(func(c *config) error { c.backoff, c.backoffCap = factor, limit; return nil })
}

// WithMaxOIDs sets how many OIDs one Get or GetNext request carries at most
// (default 60); longer lists are split.
func WithMaxOIDs(n int) Option {
	return optionFunc(func(c *config) error { c.maxOIDs = n; return nil })
}

// WithMaxRepetitions sets the GetBulk max-repetitions walks start with
// (default 50); tooBig responses shrink it per target.
func WithMaxRepetitions(n int) Option {
	return optionFunc(func(c *config) error { c.maxRepetitions = n; return nil })
}

// WithBreaker opens a target's circuit after failures consecutive failed
// requests (0 disables the breaker) and lets one probe through after
// cooldown (defaults 5 and 1s). A short cool-down bounds both the load on
// a dead agent (one probe a cool-down) and how long a recovered agent keeps
// failing fast: quickstart's recovery phase missed 99.9% with 5s.
func WithBreaker(failures int, cooldown time.Duration) Option {
	return optionFunc(func(c *config) error { c.breakerAfter, c.breakerCool = failures, cooldown; return nil })
}

// WithDegrade moves a target one step down GetBulk → GetNext → one OID per
// request after `after` consecutive failures at its current step (0
// disables), and one step back up after recover consecutive successes
// (defaults 3 and 10).
func WithDegrade(after, recover int) Option {
	return optionFunc(func(c *config) error { c.degradeAfter, c.recoverAfter = after, recover; return nil })
}

// WithSeed seeds request-id allocation and scheduler jitter so a run
// replays (default: a random seed, logged at New).
func WithSeed(seed uint64) Option {
	return optionFunc(func(c *config) error { c.seed, c.seeded = seed, true; return nil })
}

// WithLogger sets where lifecycle messages go (default: discarded). Logs
// name targets by session key, never by credentials.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error { c.logger = l; return nil })
}

// WithReadBuffer sets each socket's receive buffer (SO_RCVBUF) in bytes.
// The default (0) sizes it for the fan-in: room for one reply of every
// call in flight on the socket (WithMaxInFlight / sockets, 2 KiB each,
// between 256 KiB and 64 MiB). Linux caps it at net.core.rmem_max; the
// poller reads back what it got, reports it in Stats.ReadBuffer and logs a
// warning when the cap cut it short.
func WithReadBuffer(n int) Option {
	return optionFunc(func(c *config) error { c.readBuffer = n; return nil })
}

// WithMaxInFlight bounds the calls (Get, GetNext, GetBulk, walks) running
// at once (default 4096, at most 1<<20). A call past the bound fails at once
// with an *OverloadError (errors.Is ErrOverloaded) and sends nothing, so
// under load that outruns the agents the poller's work, and the goroutines
// of its callers, stay bounded: the caller gets a prompt, typed failure
// instead of a queue that grows without end.
func WithMaxInFlight(n int) Option {
	return optionFunc(func(c *config) error { c.maxInFlight = n; return nil })
}
