package harness

import (
	"log/slog"
	"time"
)

// Option configures Run.
type Option interface {
	apply(*runConfig)
}

type optionFunc func(*runConfig)

func (f optionFunc) apply(c *runConfig) { f(c) }

// runConfig holds every setting of a run; defaults are set in newRunConfig.
type runConfig struct {
	short          bool
	seed           uint64
	seeded         bool
	logger         *slog.Logger
	progress       func(Progress)
	sampleEvery    time.Duration
	progressEvery  time.Duration
	settleTimeout  time.Duration
	closeTimeout   time.Duration
	drainTimeout   time.Duration // 0: derived from the scenario's poller settings
	readyTimeout   time.Duration
	skipReadyCheck bool
	netnsFamily    string // netns mode: the run's name family
	// A fleet elsewhere: control URLs of running simagents (and their
	// token), or a number of simagent children and the binary to run.
	fleetURLs    []string
	fleetToken   string
	processes    int
	processesSet bool
	simagent     string
	// k8s runs a k8s-mode run's sites (WithK8s).
	k8s K8sProvider
}

func newRunConfig(opts []Option) runConfig {
	c := runConfig{
		logger:        slog.New(slog.DiscardHandler),
		sampleEvery:   100 * time.Millisecond,
		progressEvery: time.Second,
		settleTimeout: 5 * time.Second,
		closeTimeout:  10 * time.Second,
		readyTimeout:  5 * time.Second,
		netnsFamily:   "sc",
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// WithShort runs the scenario's short profile (Scenario.Shortened).
func WithShort(short bool) Option {
	return optionFunc(func(c *runConfig) { c.short = short })
}

// WithSeed overrides the scenario's seed. Without it a scenario seed of 0
// makes Run pick a random seed; either way the seed is logged and recorded
// in the report, so the run replays with WithSeed.
func WithSeed(seed uint64) Option {
	return optionFunc(func(c *runConfig) { c.seed, c.seeded = seed, true })
}

// WithLogger sets where the run logs its lifecycle (default: discarded).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *runConfig) { c.logger = l })
}

// WithProgress has fn called with a status snapshot at least every second
// while the run lasts, and once more at the end. fn runs on the sampling
// goroutine: it must return quickly.
func WithProgress(fn func(Progress)) Option {
	return optionFunc(func(c *runConfig) { c.progress = fn })
}

// WithSettleTimeout bounds how long Run waits, after the poller is closed,
// for goroutines, fds and sockets to come back to baseline before it takes
// the final sample (default 5s). A clean poller settles in milliseconds;
// a leaky one uses the whole timeout.
func WithSettleTimeout(d time.Duration) Option {
	return optionFunc(func(c *runConfig) {
		if d > 0 {
			c.settleTimeout = d
		}
	})
}

// WithDrainTimeout bounds how long Run waits for polls in flight after the
// last phase (default: poller timeout × (retries + 2) + 2s). Polls still
// unreported when it ends are also released from their concurrency slot
// while the load runs.
func WithDrainTimeout(d time.Duration) Option {
	return optionFunc(func(c *runConfig) {
		if d > 0 {
			c.drainTimeout = d
		}
	})
}

// WithNetnsFamily names the netns runs of Run (1-3 lowercase letters,
// default "sc"): every namespace, veth and state file starts with it, and
// a run removes what dead runs of its family left.
func WithNetnsFamily(family string) Option {
	return optionFunc(func(c *runConfig) {
		if family != "" {
			c.netnsFamily = family
		}
	})
}

// WithFleet drives the running simagent processes at these control URLs
// instead of the scenario's fleet (as fleet.remote does): their agents, in
// URL order, must serve the scenario's data and number fleet.agents.
func WithFleet(urls ...string) Option {
	return optionFunc(func(c *runConfig) { c.fleetURLs = urls })
}

// WithFleetToken is the bearer token of the remote fleet's control APIs.
func WithFleetToken(token string) Option {
	return optionFunc(func(c *runConfig) { c.fleetToken = token })
}

// WithProcesses runs the scenario's fleet in n simagent child processes
// (0: in this process), whatever its fleet.processes says.
func WithProcesses(n int) Option {
	return optionFunc(func(c *runConfig) { c.processes, c.processesSet = n, true })
}

// WithSimagent is the simagent binary a fleet in child processes runs
// (default: fleet.FindSimagent's search).
func WithSimagent(path string) Option {
	return optionFunc(func(c *runConfig) { c.simagent = path })
}
