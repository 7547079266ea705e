package harness

import (
	"context"
	"math/rand/v2"
	"sort"
	"sync/atomic"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// driver makes the load: every target once per interval, start times
// spread by jitter, operations chosen by weight. In the open model (the
// default) every poll is handed to the poller on schedule whatever is
// still in flight, as a ticker-driven scheduler does, so a poller that
// cannot keep up piles polls up; in the closed model a poll waits for one
// of concurrency slots and is skipped (a failure of its phase) when none
// frees within an interval. Every poll carries a deadline: its context is
// cancelled when it passes. It runs on one goroutine, which owns rng.
type driver struct {
	// closed selects the closed model (sem bounds polls in flight).
	closed bool
	// deadline is the deadline of a poll that starts in phase i.
	deadline func(i int) time.Duration
	poller   Poller
	targets  []Target
	ops      []scenarios.Op
	weights  int
	interval time.Duration
	jitter   float64
	rng      *rand.Rand
	sem      chan struct{}
	rec      *recorder
	// phaseStart[i] is when phase i begins; applied[i] closes once its
	// faults are in force. A poll belongs to the phase its due time falls
	// in and waits until that phase is applied.
	phaseStart []time.Time
	applied    []chan struct{}
	// current is the phase whose faults are in force: a poll that waited
	// for a slot into a later phase belongs to that one.
	current *atomic.Int32
	start   time.Time
	end     time.Time
	overdue time.Duration
	nextID  uint64
}

// due is one planned poll.
type due struct {
	at     time.Time
	target int
	op     int
}

// run drives polls from d.start until d.end or until ctx is done. Polls
// run under pollCtx, which outlives the load so they can drain.
func (d *driver) run(ctx, pollCtx context.Context) {
	for _, o := range d.ops {
		d.weights += o.Weight
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	reap := time.NewTicker(100 * time.Millisecond)
	defer reap.Stop()
	for round := 0; ; round++ {
		base := d.start.Add(time.Duration(round) * d.interval)
		if !base.Before(d.end) {
			return
		}
		for _, du := range d.plan(base) {
			if !du.at.Before(d.end) {
				continue
			}
			if !sleepUntil(ctx, timer, du.at) {
				return
			}
			ph := d.phaseOf(du.at)
			select {
			case <-d.applied[ph]:
			case <-ctx.Done():
				return
			}
			if d.closed {
				switch d.acquire(ctx, reap, du.at) {
				case slotCancelled:
					return
				case slotSkipped:
					d.rec.skip(d.poll(du), ph)
					continue
				}
			}
			d.dispatch(pollCtx, du, max(ph, int(d.current.Load())))
		}
	}
}

// plan draws one round: each target's start time and operation, in target
// order so that a seed replays, then sorted by start time.
func (d *driver) plan(base time.Time) []due {
	out := make([]due, len(d.targets))
	for i := range d.targets {
		var off time.Duration
		if d.jitter > 0 {
			off = time.Duration(d.rng.Float64() * d.jitter * float64(d.interval))
		}
		out[i] = due{at: base.Add(off), target: i, op: d.pickOp()}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// pickOp chooses an operation by weight.
func (d *driver) pickOp() int {
	if len(d.ops) == 1 {
		return 0
	}
	n := d.rng.IntN(d.weights)
	for i, o := range d.ops {
		if n < o.Weight {
			return i
		}
		n -= o.Weight
	}
	return len(d.ops) - 1
}

type slotResult int

const (
	slotTaken slotResult = iota
	slotSkipped
	slotCancelled
)

// acquire waits for a concurrency slot. A poll still waiting an interval
// past its due time, or when the load window closes, is skipped; while it
// waits, polls unreported past the overdue limit give back their slots.
func (d *driver) acquire(ctx context.Context, reap *time.Ticker, at time.Time) slotResult {
	for {
		select {
		case d.sem <- struct{}{}:
			return slotTaken
		case <-ctx.Done():
			return slotCancelled
		case now := <-reap.C:
			d.rec.reap(now, d.overdue)
			if now.Sub(at) > d.interval || !now.Before(d.end) {
				return slotSkipped
			}
		}
	}
}

// phaseOf is the index of the phase t falls in.
func (d *driver) phaseOf(t time.Time) int {
	i := 0
	for i+1 < len(d.phaseStart) && !t.Before(d.phaseStart[i+1]) {
		i++
	}
	return i
}

// poll makes the Poll of du, with the next ID.
func (d *driver) poll(du due) Poll {
	d.nextID++
	op := d.ops[du.op]
	return Poll{ID: d.nextID, Target: d.targets[du.target], Op: Op(op.Kind), OIDs: op.OIDs, Root: op.Root}
}

// ErrDeadline is the cause of a poll's context when its deadline passed.
var ErrDeadline = pollapi.ErrDeadline

// dispatch hands one poll of phase ph to the poller, under a context
// cancelled when the poll's deadline passes (or when the drain ends). It
// is a cancel, not a context deadline: the poller learns of it from
// ctx.Done(), as it would of a shutdown, and cannot plan its attempts
// around it (gosnmp only looks at ctx between attempts: gosnmp#432).
func (d *driver) dispatch(ctx context.Context, du due, ph int) {
	p := d.poll(du)
	now := time.Now()
	dl := d.deadline(ph)
	pctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(dl, func() { cancel(ErrDeadline) })
	// How late the harness itself is: after a stall (or a wait for the
	// phase's faults) every poll that came due meanwhile goes out now, at
	// once, as a ticker-driven scheduler's would. The samples and the
	// report carry it, so a burst of the harness's making is told from
	// the poller's own pile-up (see the in-flight-bounded invariant).
	ps := d.rec.begin(p, ph, now, now.Add(dl), now.Sub(du.at))
	d.poller.Poll(pctx, p, func(r Result) {
		d.rec.done(ps, r)
		timer.Stop()
		cancel(nil)
	})
}

// sleepUntil waits for t; false when ctx ended first.
func sleepUntil(ctx context.Context, timer *time.Timer, t time.Time) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return ctx.Err() == nil
	}
	timer.Reset(wait)
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
