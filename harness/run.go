package harness

import (
	"context"
	"errors"
	"fmt"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/fleet"
	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// ErrBadInput is wrapped by Run's errors about its arguments.
var ErrBadInput = errors.New("harness: bad input")

// Run drives p against a simulated fleet through the phases of sc and
// returns what it found. It starts the fleet, takes a baseline reading,
// samples the probes at 10 Hz on its own goroutine, and for each phase
// applies the phase's faults and polls every agent once per interval with
// bounded concurrency, recording every poll's outcome. Then it drains, closes
// p, waits for the process to settle, stops the fleet and checks the
// invariants: Report.Pass is true when all of them hold.
//
// The probes read process-wide figures (goroutines, descriptors, sockets),
// so only one Run should execute in a process at a time, and nothing else
// should open sockets or start goroutines meanwhile.
//
// Run closes p. An error means the run could not be made (bad scenario
// data, no fleet, or ctx ended); the report returned with it, if any, holds
// what was seen so far.
func Run(ctx context.Context, sc *scenarios.Scenario, p Poller, opts ...Option) (*Report, error) {
	if sc == nil || p == nil {
		return nil, fmt.Errorf("%w: Run needs a scenario and a poller", ErrBadInput)
	}
	cfg := newRunConfig(opts)
	if cfg.short {
		sc = sc.Shortened()
	}
	seed := sc.Seed
	switch {
	case cfg.seeded:
		seed = cfg.seed
	case seed == 0:
		seed = rand.Uint64()
	}
	log := cfg.logger.With("scenario", sc.Name, "poller", p.Name())
	log.Info("harness: run starting", "seed", seed, "short", cfg.short, "agents", sc.Fleet.Agents, "phases", len(sc.Phases), "planned", sc.TotalDuration())

	r := &run{cfg: cfg, sc: sc, p: p, seed: seed, log: log, t0: time.Now()}
	r.stats, _ = p.(StatsReporter)
	r.proc = newProcessWatch(p)
	r.rep = &Report{
		Scenario: sc.Name, Description: sc.Description, Poller: p.Name(), Seed: seed,
		Short: cfg.short, Agents: sc.Fleet.Agents, Started: r.t0,
	}
	start := r.startFleet
	if sc.IsNetns() {
		if len(r.remoteURLs()) > 0 || r.processes() > 0 {
			r.closePollerQuietly()
			return nil, fmt.Errorf("%w: scenario %s is in netns mode: its agents run in the run's namespaces, not in other processes or remote simagents", ErrBadInput, sc.Name)
		}
		start = r.startNetns
	}
	if sc.IsK8s() {
		if len(r.remoteURLs()) > 0 || r.processes() > 0 {
			r.closePollerQuietly()
			return nil, fmt.Errorf("%w: scenario %s is in k8s mode: its agents run in the site pods it creates, not in other processes or remote simagents", ErrBadInput, sc.Name)
		}
		start = r.startK8s
	}
	if err := start(ctx); err != nil {
		r.closePollerQuietly()
		return nil, err
	}
	// Shut down in order: the poller (in execute), the fleets, the
	// topology.
	defer r.closeKernel()
	defer r.fleet.Close()
	err := r.execute(ctx)
	r.rep.Duration = time.Since(r.t0)
	log.Info("harness: run finished", "pass", r.rep.Pass, "duration", r.rep.Duration.Round(time.Millisecond), "seed", seed)
	return r.rep, err
}

// run is the state of one Run.
type run struct {
	cfg   runConfig
	sc    *scenarios.Scenario
	p     Poller
	stats StatsReporter
	// proc watches the poller's own process, when it runs in one.
	proc *processWatch
	// cover counts the agents each phase's requests reached.
	cover *coverage
	seed  uint64
	log   *slog.Logger
	t0    time.Time
	rep   *Report
	fleet fleet.Fleet
	rec   *recorder
	// kernel is netns mode's topology and kernel faults (nil in-process).
	kernel *kernelState
	sem    chan struct{}
	// pollCtx is handed to every poll: it outlives the load (polls drain
	// after it) and is cancelled once the drain is over.
	pollCtx     context.Context
	cancelPolls context.CancelFunc
	phase       atomic.Int32
	gen         atomic.Uint64

	mu        sync.Mutex // guards stage, samples, last, baseTaken, pileUp, fdPeak
	stage     string
	samples   []Sample
	last      Sample
	baseTaken bool
	// pileUp and fdPeak are what the sampler captured when bounds were
	// crossed (pileup.go).
	pileUp *invariant.PileUp
	fdPeak *invariant.FDPeak

	// dropMu guards the drop figures' baseline (sampling.go).
	dropMu    sync.Mutex
	drops     *probe.DropTracker
	udpReader *probe.PIDReader
	udpBase   probe.UDPCounters
	udpBaseOK bool
	dropErr   error

	// faultyBefore[i] lists agents faulty in some phase before phase i.
	faultyBefore [][]int
}

// fleetConfig is what starting the fleet needs; it parses fleet.listen.
func (r *run) fleetConfig() (fleet.Config, error) {
	listen, err := netip.ParseAddrPort(r.sc.Fleet.Listen)
	if err != nil {
		return fleet.Config{}, fmt.Errorf("%w: scenario %s: fleet.listen %q: %w", ErrBadInput, r.sc.Name, r.sc.Fleet.Listen, err)
	}
	return fleet.Config{
		Scenario: r.sc, Listen: listen, Seed: r.seed, Logger: r.log,
		ReadyTimeout: r.cfg.readyTimeout, SkipReadyCheck: r.cfg.skipReadyCheck, NetnsFamily: r.cfg.netnsFamily,
	}, nil
}

// startFleet starts the agents in this process and waits until they
// answer.
func (r *run) startFleet(ctx context.Context) error {
	if urls := r.remoteURLs(); len(urls) > 0 {
		return r.startRemote(ctx, urls)
	}
	if n := r.processes(); n > 0 {
		return r.startSpawned(ctx, n)
	}
	c, err := r.fleetConfig()
	if err != nil {
		return err
	}
	r.fleet, err = fleet.Start(ctx, c)
	return err
}

// execute runs the stages after the fleet is up.
func (r *run) execute(ctx context.Context) error {
	n := r.fleet.Len()
	// The closed model's slots; the open model takes none.
	release := func() {}
	if r.sc.Load.Model == scenarios.LoadClosed {
		r.sem = make(chan struct{}, r.sc.Load.Concurrency)
		release = func() { <-r.sem }
	}
	checker := invariant.NewWalkChecker(r.fleet.Store())
	if mixed, ok := r.fleet.(interface{ StoreOf(int) *mib.Store }); ok { // each agent's kind's data
		checker = invariant.NewWalkCheckerOf(mixed.StoreOf)
	}
	r.rec = newRecorder(len(r.sc.Phases), n, checker, r.fleet.Faults, r.gen.Load, release)
	r.rec.t0 = r.t0
	for _, ph := range r.sc.Phases {
		r.rec.phaseNames = append(r.rec.phaseNames, ph.Name)
	}
	r.pollCtx, r.cancelPolls = context.WithCancel(context.WithoutCancel(ctx))
	defer r.cancelPolls()

	// Sampler: owned here, stopped before returning.
	stopSampler := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { r.sampleLoop(stopSampler) })
	samplerStopped := false
	stopSampling := func() {
		if !samplerStopped {
			close(stopSampler)
			wg.Wait()
			samplerStopped = true
		}
	}
	defer stopSampling()

	heap := probe.NewHeapReader()
	if n := r.sc.RlimitNofile; n > 0 {
		_, _, open, _ := probe.ReadFDTable(false)
		restore, err := lowerNofile(n, open)
		if err != nil {
			r.closePollerQuietly()
			return err
		}
		defer restore()
		r.log.Info("harness: RLIMIT_NOFILE lowered for the run", "soft", n)
	}
	base := r.read(heap)
	r.startDrops(base.proc)
	r.mu.Lock()
	r.rep.Baseline, r.baseTaken = base.sample, true
	r.mu.Unlock()
	if r.proc != nil {
		r.proc.baseline()
	}
	r.log.Info("harness: baseline", "goroutines", base.sample.Goroutines, "fds", base.sample.FDs, "udpSockets", base.sample.UDPSockets)

	r.cover = newCoverage(r.fleet, len(r.sc.Phases))
	cpu0, cpuErr := probe.ReadCPUTime(0)
	runErr := r.load(ctx, n)
	if cpu1, err := probe.ReadCPUTime(0); err == nil && cpuErr == nil {
		r.rep.CPU = cpu1.Sub(cpu0)
	}
	r.cover.enter(-1, r.phaseNames())
	r.rep.Coverage = r.cover.report()

	r.setStage("drain")
	drained := r.drain(ctx)
	r.cancelPolls()
	if r.proc != nil {
		r.proc.idle() // nothing in flight, not yet closed: what it holds idle
	}
	r.setStage("close")
	r.closePoller()
	counts, unreported := r.rec.finish(time.Now())
	r.setStage("settle")
	r.settle(ctx, heap, base.sample)
	// The sampler stops first: its reads of /proc would show among the
	// descriptors open after the run.
	r.setStage("done")
	stopSampling()
	after := r.read(heap)
	r.rep.After = after.sample
	r.progressNow()
	r.rep.Fleet = r.fleet.Stats()
	if pr, ok := r.fleet.(processReporter); ok {
		r.rep.FleetProcesses = fleetProcesses(pr.Processes())
	}
	if err := r.fleet.Close(); err != nil {
		r.log.Warn("harness: fleet close", "err", err)
	}

	r.mu.Lock()
	r.rep.Samples = r.samples
	r.mu.Unlock()
	r.rep.Polls = counts
	r.rep.Phases = r.phaseReports()
	if r.proc != nil {
		r.rep.Process = r.proc.report(r.rep.Samples)
	}
	r.rep.Invariants = invariant.Evaluate(&invariant.Evidence{
		Scenario: r.sc, Base: base.sample, After: after.sample, Samples: r.rep.Samples,
		BaseUDP: base.proc.UDP, AfterUDP: after.proc.UDP, BaseFDs: base.fds, AfterFDs: after.fds,
		BaseG: base.g, AfterG: after.g, Reporter: r.stats != nil, ProcErr: errors.Join(base.err, after.err),
		Counts: counts, Unreported: unreported, Duplicates: r.rec.duplicates, Partials: r.rec.partials,
		Phases: r.rep.Phases, Recovery: r.recoveryGaps(), StraddledOK: r.rec.straddledOK(),
		Examples: r.errorExamples(), Drained: drained, CloseErr: r.rep.CloseError,
		Process: r.rep.Process,
		PileUp:  r.pileUp, FDPeak: r.fdPeak, Drops: r.dropEvidence(after.sample, r.rep.Samples), P99Windows: r.rec.p99Windows(),
	})
	r.rep.Pass = runErr == nil
	for _, iv := range r.rep.Invariants {
		if !iv.Pass {
			r.rep.Pass = false
			r.log.Warn("harness: invariant violated", "invariant", iv.Name, "summary", iv.Summary)
		}
	}
	return runErr
}

// reading is a full reading of the process: the probes, every descriptor,
// every goroutine's stack. Taken at baseline and after the run.
type reading struct {
	sample Sample
	proc   probe.Proc
	fds    map[int]string
	g      probe.GoroutineDump
	err    error
}

func (r *run) read(heap *probe.HeapReader) reading {
	var rd reading
	rd.sample, rd.proc, rd.err = r.sample(heap)
	rd.fds, _, _, _ = probe.ReadFDTable(true)
	rd.g = probe.DumpGoroutines()
	return rd
}

// load runs the phases with the driver; it returns ctx's error when the
// run was interrupted.
func (r *run) load(ctx context.Context, n int) error {
	targets := make([]Target, n)
	for i := range targets {
		targets[i] = withProtocol(Target{Index: i, Addr: r.fleet.Addr(i), Community: r.fleet.Community()}, r.sc)
	}
	rng := rand.New(rand.NewPCG(r.seed, 0x6c6f6164))
	start := time.Now().Add(20 * time.Millisecond)
	starts := make([]time.Time, len(r.sc.Phases))
	applied := make([]chan struct{}, len(r.sc.Phases))
	at := start
	for i, ph := range r.sc.Phases {
		starts[i], applied[i] = at, make(chan struct{})
		at = at.Add(ph.Duration.D())
	}
	if t := r.sc.Invariants.P99Trend; t != nil {
		for _, i := range r.sc.TrendPhases() {
			r.rec.watchTrend(i, starts[i], t.Window.D())
		}
	}
	d := &driver{
		poller: r.p, targets: targets, ops: r.sc.Load.Ops, interval: r.sc.Load.Interval.D(),
		jitter: r.sc.Load.Jitter, rng: rng, sem: r.sem, rec: r.rec, phaseStart: starts, applied: applied, current: &r.phase,
		closed: r.sem != nil, deadline: r.sc.DeadlineOf,
		start: start, end: at, overdue: r.drainTimeout(),
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	wg.Go(func() { d.run(loadCtx, r.pollCtx) })
	defer wg.Wait()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	if r.kernel != nil {
		// Recover the last phase's kernel faults, also on errors.
		defer r.recoverKernel()
	}
	for i, ph := range r.sc.Phases {
		if !sleepUntil(ctx, timer, starts[i]) {
			stopLoad()
			return fmt.Errorf("harness: run interrupted before phase %s: %w", ph.Name, context.Cause(ctx))
		}
		if err := r.applyPhase(i); err != nil {
			stopLoad()
			return err
		}
		close(applied[i])
	}
	if !sleepUntil(ctx, timer, at) {
		stopLoad()
		return fmt.Errorf("harness: run interrupted in phase %s: %w", r.sc.Phases[len(r.sc.Phases)-1].Name, context.Cause(ctx))
	}
	return nil
}

// applyPhase clears the previous phase's faults and applies phase i's.
// The fault generation moves before and after, so walks that overlap the
// change are not compared with either view.
func (r *run) applyPhase(i int) error {
	ph := r.sc.Phases[i]
	r.gen.Add(1)
	defer r.gen.Add(1)
	r.phase.Store(int32(i))
	r.cover.enter(i, r.phaseNames())
	if i == 0 {
		r.faultyBefore = make([][]int, len(r.sc.Phases))
	}
	faulty := map[int]bool{}
	if i > 0 {
		for _, a := range r.faultyBefore[i-1] {
			faulty[a] = true
		}
		for _, a := range r.phaseFaulty(i - 1) {
			faulty[a] = true
		}
		for a := range faulty {
			r.faultyBefore[i] = append(r.faultyBefore[i], a)
		}
		slices.Sort(r.faultyBefore[i])
	}
	descr, applies, err := r.applyAgentFaults(i)
	if err != nil {
		return err
	}
	kernel, err := r.enterKernel(i)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.stage = "load"
	r.mu.Unlock()
	r.rep.Phases = append(r.rep.Phases, PhaseReport{Name: ph.Name, Start: time.Since(r.t0), Faults: descr, Kernel: kernel, Apply: applies})
	if i > 0 {
		r.rep.Phases[i-1].End = r.rep.Phases[i].Start
	}
	r.log.Info("harness: phase", "phase", ph.Name, "faults", descr)
	return nil
}

// phaseFaulty lists the agents phase i's fault sets select.
func (r *run) phaseFaulty(i int) []int {
	var out []int
	for _, fs := range r.sc.Phases[i].Faults {
		idx, err := r.fleet.Select(fs.Selector)
		if err == nil {
			out = append(out, idx...)
		}
	}
	if r.kernel != nil {
		out = append(out, r.kernel.faultyAgents(i)...)
	}
	return out
}

// drainTimeout is how long polls may stay in flight after the load.
func (r *run) drainTimeout() time.Duration {
	if r.cfg.drainTimeout > 0 {
		return r.cfg.drainTimeout
	}
	po := r.sc.Poller
	return po.Timeout.D()*time.Duration(po.Retries+2) + 2*time.Second
}

// drain waits until no poll is in flight or the drain timeout passes; it
// reports whether everything was reported.
func (r *run) drain(ctx context.Context) bool {
	if len(r.rep.Phases) > 0 {
		r.rep.Phases[len(r.rep.Phases)-1].End = time.Since(r.t0)
	}
	deadline := time.NewTimer(r.drainTimeout())
	defer deadline.Stop()
	for r.rec.inFlight() > 0 {
		select {
		case <-r.rec.changed:
		case <-deadline.C:
			r.log.Warn("harness: drain timed out", "inFlight", r.rec.inFlight(), "timeout", r.drainTimeout())
			return false
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// closePoller closes the poller with a deadline.
func (r *run) closePoller() {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.closeTimeout)
	defer cancel()
	if err := r.p.Close(ctx); err != nil {
		r.rep.CloseError = err.Error()
		r.log.Warn("harness: poller close", "err", err)
	}
}

func (r *run) closePollerQuietly() {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.closeTimeout)
	defer cancel()
	_ = r.p.Close(ctx)
}

// settle waits until goroutines, fds and sockets are back to baseline (and
// the poller says it holds nothing), or the settle timeout passes.
func (r *run) settle(ctx context.Context, heap *probe.HeapReader, base Sample) {
	deadline := time.Now().Add(r.cfg.settleTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s, _, _ := r.sample(heap)
		ok := s.Goroutines <= base.Goroutines && s.FDs <= base.FDs+r.sc.Invariants.FDSlack && s.UDPSockets <= base.UDPSockets
		if ps := s.Poller; ps != nil && (ps.OpenSockets != 0 || ps.Goroutines != 0) {
			ok = false
		}
		if ok || !time.Now().Before(deadline) {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}
