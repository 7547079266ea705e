package harness

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/harness/poller"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/simagent"
)

// MaxErrorKinds bounds the kinds of error a run counts apart; the kinds
// seen after that many count as OtherErrorKind.
const MaxErrorKinds = 64

// OtherErrorKind counts errors of kinds past MaxErrorKinds.
const OtherErrorKind = "other"

// pollState is one scheduled poll, from dispatch to its report.
type pollState struct {
	poll      Poll
	phase     int
	start     time.Time
	deadline  time.Time // when its context is cancelled
	gen       uint64    // fault generation at dispatch
	reports   int
	abandoned bool // slot released while unreported (overdue)
}

// phaseAcc accumulates one phase's outcomes.
type phaseAcc struct {
	polls, succeeded, failed, skipped int
	// straddled polls were still in flight when the faults changed;
	// straddledOK of them succeeded.
	straddled, straddledOK int
	errors                 map[string]int
	examples               map[string]string // first error of each kind
	latency                latencyHist
	// cancel holds how long polls took to report after their deadline
	// passed (their context ended), for polls that did.
	cancel                   latencyHist
	okByAgent, polledByAgent []int32
}

// recorder accounts for every poll exactly once and keeps what the
// invariants need. It is safe for concurrent use: done callbacks arrive
// from any goroutine.
type recorder struct {
	checker  *invariant.WalkChecker
	faultsOf func(agent int) simagent.Faults
	gen      func() uint64
	release  func() // frees one concurrency slot
	changed  chan struct{}

	mu       sync.Mutex
	closed   bool
	inflight map[uint64]*pollState
	counts   PollCounts
	phases   []phaseAcc
	// window holds latencies completed since the sampler last looked;
	// winLag and winLate the driver's worst dispatch lateness and how many
	// polls it handed over late since then.
	window     []time.Duration
	winLag     time.Duration
	winLate    int
	duplicates []string
	partials   []string
	lateAfter  int // reports after the poller was closed and accounted
	// phaseNames and t0 name phases and times in evidence.
	phaseNames []string
	t0         time.Time
	// trend is per-window latency of the phases the p99 trend covers.
	trend map[int]*trendAcc
}

func newRecorder(phases, agents int, checker *invariant.WalkChecker, faultsOf func(int) simagent.Faults, gen func() uint64, release func()) *recorder {
	r := &recorder{
		checker:  checker,
		faultsOf: faultsOf,
		gen:      gen,
		release:  release,
		changed:  make(chan struct{}, 1),
		inflight: make(map[uint64]*pollState),
		phases:   make([]phaseAcc, phases),
		counts:   PollCounts{ByError: map[string]int{}},
	}
	for i := range r.phases {
		r.phases[i].errors = map[string]int{}
		r.phases[i].examples = map[string]string{}
		r.phases[i].okByAgent = make([]int32, agents)
		r.phases[i].polledByAgent = make([]int32, agents)
	}
	return r
}

// begin registers a poll about to be handed to the poller, whose context
// ends at deadline; lag is how long after its due time the driver got to
// it (the harness's own lateness, not the poller's).
func (r *recorder) begin(p Poll, phase int, now, deadline time.Time, lag time.Duration) *pollState {
	ps := &pollState{poll: p, phase: phase, start: now, deadline: deadline, gen: r.gen()}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflight[p.ID] = ps
	r.counts.Scheduled++
	r.winLag = max(r.winLag, lag)
	r.counts.WorstLag = max(r.counts.WorstLag, lag)
	if lag > report.LateDispatch {
		r.winLate++
		r.counts.Late++
	}
	r.phases[phase].polls++
	r.phases[phase].polledByAgent[p.Target.Index]++
	return ps
}

// ErrSkipped is the outcome of a poll the closed load model could not
// start: every slot stayed busy for an interval past its due time.
var ErrSkipped = errors.New("harness: skipped: no free slot for an interval past its due time (closed load model)")

// skip counts a poll that came due but could not start (closed model): it
// is scheduled and failed, in its phase and in the verdict.
func (r *recorder) skip(p Poll, phase int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ph := &r.phases[phase]
	r.counts.Scheduled++
	r.counts.Skipped++
	r.counts.Failed++
	r.counts.ByError["skipped"]++
	ph.polls++
	ph.polledByAgent[p.Target.Index]++
	ph.skipped++
	ph.failed++
	ph.errors["skipped"]++
	if _, ok := ph.examples["skipped"]; !ok {
		ph.examples["skipped"] = fmt.Sprintf("agent %d %s: %v", p.Target.Index, describeOp(p), ErrSkipped)
	}
}

// done records a poll's report. Only the first report of a poll counts;
// later ones are duplicates.
func (r *recorder) done(ps *pollState, res Result) {
	now := time.Now()
	// Compare walks outside the lock: it only reads immutable data.
	straddled := r.gen() != ps.gen
	verdict, checked := "", false
	if res.Err == nil && !straddled && (ps.poll.Op == OpWalk || ps.poll.Op == OpBulkWalk) {
		checked = true
		verdict = r.checker.CheckAgent(ps.poll.Target.Index, ps.poll.Root, ps.poll.Target.Version == "1", r.faultsOf(ps.poll.Target.Index), res.Varbinds)
		if r.gen() != ps.gen { // the faults changed while we compared
			checked, straddled = false, true
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ps.reports++
	if ps.reports > 1 {
		r.counts.Duplicate++
		if len(r.duplicates) < invariant.EvidenceLimit {
			r.duplicates = append(r.duplicates, fmt.Sprintf("poll %d (agent %d %s) reported %d times", ps.poll.ID, ps.poll.Target.Index, describeOp(ps.poll), ps.reports))
		}
		return
	}
	if r.closed {
		r.lateAfter++
		return
	}
	delete(r.inflight, ps.poll.ID)
	if !ps.abandoned {
		r.release()
	}
	lat := now.Sub(ps.start)
	ph := &r.phases[ps.phase]
	// Every poll counts in the phase it started in, however late it ends:
	// straddling polls are counted (and noted), not left out.
	if straddled {
		ph.straddled++
		if res.Err == nil {
			ph.straddledOK++
		}
	}
	ph.latency.add(lat)
	r.addTrendLocked(ps, lat)
	if !ps.deadline.IsZero() && now.After(ps.deadline) {
		ph.cancel.add(now.Sub(ps.deadline))
	}
	r.window = append(r.window, lat)
	if res.Err != nil {
		k := poller.ErrorKind(res.Err)
		if _, ok := r.counts.ByError[k]; !ok && len(r.counts.ByError) >= MaxErrorKinds {
			// A poller (an external one says what it likes) that makes up
			// a kind per poll must not grow the report without bound.
			k = OtherErrorKind
		}
		r.counts.Failed++
		r.counts.ByError[k]++
		ph.failed++
		ph.errors[k]++
		if _, ok := ph.examples[k]; !ok {
			ph.examples[k] = fmt.Sprintf("agent %d %s: %v", ps.poll.Target.Index, describeOp(ps.poll), res.Err)
		}
	} else {
		r.counts.Succeeded++
		ph.succeeded++
		ph.okByAgent[ps.poll.Target.Index]++
		switch {
		case checked:
			r.counts.WalksChecked++
			if verdict != "" {
				r.counts.Partial++
				if len(r.partials) < invariant.EvidenceLimit {
					r.partials = append(r.partials, r.partialLine(ps, now, verdict))
				}
			}
		case ps.poll.Op != OpGet:
			r.counts.Unverified++
		}
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// reap releases the slots of polls unreported for longer than limit, so
// a poller that loses polls does not starve the load. They are still
// accounted when they report, and as unreported when they never do.
func (r *recorder) reap(now time.Time, limit time.Duration) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ps := range r.inflight {
		if !ps.abandoned && now.Sub(ps.start) > limit {
			ps.abandoned = true
			r.counts.Overdue++
			r.release()
			n++
		}
	}
	return n
}

// straddledOK lists per phase how many straddling polls succeeded.
func (r *recorder) straddledOK() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int, len(r.phases))
	for i := range r.phases {
		out[i] = r.phases[i].straddledOK
	}
	return out
}

// inFlight is the number of polls not reported yet.
func (r *recorder) inFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.inflight)
}

// takeWindow fills s with what happened since the last call: the polls
// completed and their 99th percentile latency, and the driver's worst
// dispatch lateness and how many polls it handed over late.
func (r *recorder) takeWindow(s *Sample) {
	r.mu.Lock()
	w := r.window
	s.DispatchLag, s.Late = r.winLag, r.winLate
	r.window, r.winLag, r.winLate = nil, 0, 0
	r.mu.Unlock()
	s.Completed, s.LatencyP99 = len(w), percentile(w, 0.99)
}

// progress fills the poll figures of a progress snapshot.
func (r *recorder) progress(p *Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.Scheduled, p.Succeeded, p.Failed = r.counts.Scheduled, r.counts.Succeeded, r.counts.Failed
	p.InFlight, p.Skipped = len(r.inflight), r.counts.Skipped
}

// finish closes the books after the poller is closed: polls still in
// flight are unreported. It returns the final counts and evidence.
func (r *recorder) finish(now time.Time) (PollCounts, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.counts.Unreported = len(r.inflight)
	ids := make([]uint64, 0, len(r.inflight))
	for id := range r.inflight {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var ev []string
	for i, id := range ids {
		if i == invariant.EvidenceLimit {
			ev = append(ev, fmt.Sprintf("... and %d more unreported polls", len(ids)-invariant.EvidenceLimit))
			break
		}
		ps := r.inflight[id]
		ev = append(ev, fmt.Sprintf("poll %d (agent %d %s, %s) never reported, dispatched %s before the poller closed", id, ps.poll.Target.Index, ps.poll.Target.Addr, describeOp(ps.poll), now.Sub(ps.start).Round(time.Millisecond)))
	}
	c := r.counts
	c.ByError = make(map[string]int, len(r.counts.ByError))
	for k, v := range r.counts.ByError {
		c.ByError[k] = v
	}
	return c, ev
}

// describeOp renders "get .1.3.6.1.2.1.1.3.0" or "bulkwalk .1.3.6.1.2.1.2.2".
func describeOp(p Poll) string {
	if p.Op == OpGet {
		switch len(p.OIDs) {
		case 0:
			return "get"
		case 1:
			return "get " + p.OIDs[0]
		}
		return fmt.Sprintf("get %s (+%d)", p.OIDs[0], len(p.OIDs)-1)
	}
	return string(p.Op) + " " + p.Root
}

// percentile returns the p-quantile (nearest rank) of ds, sorting a copy.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(p*float64(len(s))+0.999999) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// partialLine is the evidence of a walk that came back short: the agent,
// the walk, the phase and time it ran in, the agent's faults at that
// moment and what was received against what was expected.
func (r *recorder) partialLine(ps *pollState, now time.Time, verdict string) string {
	phase := fmt.Sprint(ps.phase)
	if ps.phase < len(r.phaseNames) {
		phase = r.phaseNames[ps.phase]
	}
	faults := simagent.FormatFaultSpec(r.faultsOf(ps.poll.Target.Index))
	if faults == "" {
		faults = "none"
	}
	return fmt.Sprintf("agent %d (%s) %s in phase %s, %s–%s into the run, agent faults then: %s: %s",
		ps.poll.Target.Index, ps.poll.Target.Addr, describeOp(ps.poll), phase,
		ps.start.Sub(r.t0).Round(time.Millisecond), now.Sub(r.t0).Round(time.Millisecond), faults, verdict)
}

// trendAcc holds the latencies of one phase's polls by start window, for
// the p99 trend check.
type trendAcc struct {
	start  time.Time
	window time.Duration
	hists  []latencyHist
}

// watchTrend starts keeping per-window latencies of the polls of phase,
// which starts at start. Call before the load starts.
func (r *recorder) watchTrend(phase int, start time.Time, window time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.trend == nil {
		r.trend = map[int]*trendAcc{}
	}
	r.trend[phase] = &trendAcc{start: start, window: window}
}

// addTrend files lat under its start window. r.mu must be held.
func (r *recorder) addTrendLocked(ps *pollState, lat time.Duration) {
	t := r.trend[ps.phase]
	if t == nil || t.window <= 0 {
		return
	}
	i := int(max(ps.start.Sub(t.start), 0) / t.window)
	if i >= 1<<16 {
		return // bounded: a window past any sane phase length
	}
	for len(t.hists) <= i {
		t.hists = append(t.hists, latencyHist{})
	}
	t.hists[i].add(lat)
}

// p99Windows lists, per watched phase, each window's p99 (windows with no
// poll left out).
func (r *recorder) p99Windows() map[int][]time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int][]time.Duration{}
	for ph, t := range r.trend {
		for i := range t.hists {
			if t.hists[i].n > 0 {
				out[ph] = append(out[ph], t.hists[i].quantile(0.99))
			}
		}
	}
	return out
}
