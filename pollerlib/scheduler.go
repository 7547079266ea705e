package pollerlib

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// PollFunc is one poll of one target.
type PollFunc func(ctx context.Context, p *Poller, t Target) ([]Varbind, error)

// GetPoll is a PollFunc that Gets oids.
func GetPoll(oids ...OID) PollFunc {
	return func(ctx context.Context, p *Poller, t Target) ([]Varbind, error) { return p.Get(ctx, t, oids...) }
}

// BulkWalkPoll is a PollFunc that bulk-walks root.
func BulkWalkPoll(root OID) PollFunc {
	return func(ctx context.Context, p *Poller, t Target) ([]Varbind, error) {
		return p.BulkWalkAll(ctx, t, root)
	}
}

// Schedule describes periodic polling of a set of targets.
type Schedule struct {
	// Targets to poll; each is polled once per Interval.
	Targets []Target
	// Interval between two polls of a target.
	Interval time.Duration
	// Jitter delays each poll by a random amount in [0, Jitter) past its
	// slot (default Interval/10; negative for none). Targets' slots are
	// also spread evenly at random over the first Interval.
	Jitter time.Duration
	// MaxInFlight bounds concurrent polls (default 64).
	MaxInFlight int
	// Poll is what one poll does.
	Poll PollFunc
	// OnResult receives every poll's result, from several goroutines at
	// once. To deliver to a channel, send on it here.
	OnResult func(PollResult)
}

// PollResult is the outcome of one scheduled poll.
type PollResult struct {
	// Index of the target in Schedule.Targets, and the target.
	Index  int
	Target Target
	// Seq numbers the target's polls from 0.
	Seq uint64
	// Due is when the poll was scheduled; Start and End bound its run
	// (equal for polls that never ran).
	Due, Start, End time.Time
	Varbinds        []Varbind
	// Err is nil on success, else a typed error (ErrSkipped when the
	// previous poll of the target was still running).
	Err error
}

// Run polls s.Targets every s.Interval until ctx is done or the poller
// closes, with at most s.MaxInFlight polls at once. Every poll that came
// due yields exactly one result through s.OnResult, success or typed error,
// before Run returns. Run returns nil when ctx ended it and ErrClosed when
// Close did.
func (p *Poller) Run(ctx context.Context, s Schedule) error {
	if err := s.check(); err != nil {
		return err
	}
	// Polls run under pctx (caller's ctx, or Close giving up); the loop also
	// stops as soon as Close starts.
	pctx, end, err := p.begin(ctx, false)
	if err != nil {
		return err
	}
	defer end()
	loopCtx, stop := context.WithCancelCause(pctx)
	defer stop(nil)
	defer context.AfterFunc(p.sched, func() { stop(ErrClosed) })()

	p.st.goroutines.Add(1)
	defer p.st.goroutines.Add(-1)
	sl := &schedLoop{p: p, s: &s, ctx: pctx, busy: make([]atomic.Bool, len(s.Targets)), sem: make(chan struct{}, s.MaxInFlight)}
	sl.loop(loopCtx)
	sl.wg.Wait()
	if errors.Is(context.Cause(loopCtx), ErrClosed) {
		return ErrClosed
	}
	return nil
}

func (s *Schedule) check() error {
	if s.Interval <= 0 || s.Poll == nil || s.OnResult == nil {
		return errors.New("pollerlib: schedule needs a positive Interval, Poll and OnResult")
	}
	if s.MaxInFlight == 0 {
		s.MaxInFlight = 64
	}
	if s.MaxInFlight < 0 {
		return fmt.Errorf("pollerlib: schedule MaxInFlight %d is negative", s.MaxInFlight)
	}
	if s.Jitter == 0 {
		s.Jitter = s.Interval / 10
	}
	return nil
}

// due is one target's next slot.
type due struct {
	slot time.Time // without jitter: slots are Interval apart
	at   time.Time // with jitter
	i    int
	seq  uint64
}

type dueHeap []due

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(due)) }
func (h *dueHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}

type schedLoop struct {
	p    *Poller
	s    *Schedule
	ctx  context.Context // polls' context
	busy []atomic.Bool
	sem  chan struct{}
	wg   sync.WaitGroup
}

func (l *schedLoop) loop(ctx context.Context) {
	if len(l.s.Targets) == 0 {
		<-ctx.Done()
		return
	}
	h := make(dueHeap, 0, len(l.s.Targets))
	start := time.Now()
	for i := range l.s.Targets {
		slot := start.Add(l.p.jitter(l.s.Interval))
		h = append(h, due{slot: slot, at: slot.Add(l.p.jitter(l.s.Jitter)), i: i})
	}
	heap.Init(&h)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d := h[0]
		if wait := time.Until(d.at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		next := d.slot.Add(l.s.Interval)
		h[0] = due{slot: next, at: next.Add(l.p.jitter(l.s.Jitter)), i: d.i, seq: d.seq + 1}
		heap.Fix(&h, 0)
		if l.busy[d.i].Load() {
			l.emit(d, nil, ErrSkipped, time.Now())
			continue
		}
		select {
		case l.sem <- struct{}{}:
		case <-ctx.Done():
			// Due but never started: it still gets its one result.
			l.emit(d, nil, ctxErr(ctx), time.Now())
			return
		}
		l.busy[d.i].Store(true)
		l.p.st.goroutines.Add(1)
		l.wg.Go(func() {
			defer l.p.st.goroutines.Add(-1)
			l.run(d)
		})
	}
}

func (l *schedLoop) run(d due) {
	defer func() { <-l.sem }()
	started := time.Now()
	vbs, err := l.s.Poll(l.ctx, l.p, l.s.Targets[d.i])
	l.busy[d.i].Store(false)
	r := PollResult{Index: d.i, Target: l.s.Targets[d.i], Seq: d.seq, Due: d.at, Start: started, End: time.Now(), Varbinds: vbs, Err: err}
	l.s.OnResult(r)
}

func (l *schedLoop) emit(d due, vbs []Varbind, err error, now time.Time) {
	l.p.st.outcome(err)
	l.s.OnResult(PollResult{Index: d.i, Target: l.s.Targets[d.i], Seq: d.seq, Due: d.at, Start: now, End: now, Varbinds: vbs, Err: err})
}
