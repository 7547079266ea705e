//go:build linux

package netns

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// FlapSpec is a link that goes down and comes back, again and again.
type FlapSpec struct {
	// Down is how long the link stays down each time (at least 10 ms).
	Down time.Duration
	// Up is how long it stays up between (at least 10 ms).
	Up time.Duration
	// Cycles is how many down/up cycles to run (0: until Recover), after
	// which the link stays up.
	Cycles int
	// OnChange, if set, is called after each change, from the goroutine
	// that made it, with the link's new state and the time of the change:
	// for the harness's timeline. It must not block.
	OnChange func(up bool, at time.Time)
}

// Validate checks the spec on its own.
func (f FlapSpec) Validate() error {
	if f.Down < 10*time.Millisecond || f.Up < 10*time.Millisecond || f.Cycles < 0 {
		return fmt.Errorf("netns: flap down %s up %s cycles %d: want periods of at least 10ms and cycles >= 0", f.Down, f.Up, f.Cycles)
	}
	return nil
}

// LinkDown takes the site's link down until Recover: a partition. The
// veth end inside the site goes down, so the poller's end loses carrier
// and packets to the agents are dropped silently, as on a cut line.
func (s *Site) LinkDown() Fault { return newFault(s, &linkAction{s: s}) }

// Flap takes the site's link down for spec.Down, up for spec.Up, and so
// on, from a goroutine the fault owns; Recover (or Topology.Close) stops
// it and leaves the link up.
func (s *Site) Flap(spec FlapSpec) Fault {
	return newFault(s, &linkAction{s: s, flap: &spec, err: spec.Validate()})
}

type linkAction struct {
	s    *Site
	flap *FlapSpec // nil: down until recovered
	err  error

	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	gerr error // the flapping goroutine's first error
	down bool  // the link is down because of us
}

func (l *linkAction) name() string {
	if l.flap == nil {
		return "link down"
	}
	n := fmt.Sprintf("link flap down %s up %s", l.flap.Down, l.flap.Up)
	if l.flap.Cycles > 0 {
		n += fmt.Sprintf(" x%d", l.flap.Cycles)
	}
	return n
}

func (l *linkAction) available() error { return l.err }

// set takes the site's end of the veth up or down and tells OnChange.
func (l *linkAction) set(up bool) error {
	if err := l.setLink(up); err != nil {
		return err
	}
	l.mu.Lock()
	changed := l.down == up
	l.down = !up
	l.mu.Unlock()
	if changed && l.flap != nil && l.flap.OnChange != nil {
		l.flap.OnChange(up, time.Now())
	}
	return nil
}

func (l *linkAction) setLink(up bool) error {
	s := l.s
	link, err := s.h.LinkByIndex(s.inner)
	if err != nil {
		return fmt.Errorf("find link: %w", err)
	}
	if up {
		if err := s.h.LinkSetUp(link); err != nil {
			return fmt.Errorf("link up: %w", err)
		}
		if err := s.waitOperUp(); err != nil {
			return err
		}
		return s.ensureRoute()
	}
	if err := s.h.LinkSetDown(link); err != nil {
		return fmt.Errorf("link down: %w", err)
	}
	return nil
}

func (l *linkAction) inject(context.Context) error {
	if err := l.set(false); err != nil {
		return err
	}
	if l.flap == nil {
		return nil
	}
	l.stop = make(chan struct{})
	l.gerr = nil
	l.wg.Go(func() { l.run(*l.flap, l.stop) })
	return nil
}

// run flaps the link, which inject took down, until stop closes or the
// cycles are done, and leaves it up.
func (l *linkAction) run(spec FlapSpec, stop <-chan struct{}) {
	t := time.NewTimer(spec.Down)
	defer t.Stop()
	up := false
	for cycle := 0; ; {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		up = !up
		if err := l.set(up); err != nil {
			l.mu.Lock()
			l.gerr = errors.Join(l.gerr, err)
			l.mu.Unlock()
			return
		}
		if up {
			cycle++
			if spec.Cycles > 0 && cycle >= spec.Cycles {
				return
			}
			t.Reset(spec.Up)
		} else {
			t.Reset(spec.Down)
		}
	}
}

func (l *linkAction) recover(context.Context) error {
	if l.stop != nil {
		close(l.stop)
		l.wg.Wait()
		l.stop = nil
	}
	l.mu.Lock()
	err := l.gerr
	l.gerr = nil
	l.mu.Unlock()
	return errors.Join(err, l.set(true))
}
