//go:build linux

package netns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Fault is a kernel-level fault on a site, undone by Recover (use it in a
// defer). Inject fails with ErrActive if the fault is already injected
// and with ErrUnavailable if the kernel cannot do it; Recover of a fault
// that is not injected, or whose topology is closed, returns nil.
// Topology.Close recovers every injected fault.
type Fault interface {
	// Name describes the fault, e.g. "drop 5% to agents in 198.18.0.0/20".
	Name() string
	// Available reports whether this kernel can inject the fault.
	Available() bool
	// Inject applies the fault.
	Inject(ctx context.Context) error
	// Recover undoes it.
	Recover(ctx context.Context) error
}

// action is what a concrete fault does to the kernel.
type action interface {
	name() string
	available() error
	inject(ctx context.Context) error
	recover(ctx context.Context) error
}

// fault gives an action the common bookkeeping: one injection at a time,
// tracking by the topology, nothing to undo after Close.
type fault struct {
	s   *Site
	act action

	mu sync.Mutex
	on bool
}

func newFault(s *Site, a action) *fault { return &fault{s: s, act: a} }

// Name describes the fault.
func (f *fault) Name() string { return f.act.name() + " (site " + f.s.name + ")" }

// Available reports whether the kernel can do the fault.
func (f *fault) Available() bool { return f.act.available() == nil }

// Inject applies the fault; a failed Inject leaves nothing applied.
func (f *fault) Inject(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.on {
		return fmt.Errorf("%w: %s", ErrActive, f.Name())
	}
	if err := f.act.available(); err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	if err := f.s.t.track(f); err != nil {
		return err
	}
	if err := f.act.inject(ctx); err != nil {
		// Undo whatever part of it was applied.
		err = errors.Join(err, ignoreMissing(f.act.recover(context.Background())))
		f.s.t.untrack(f)
		return fmt.Errorf("inject %s: %w", f.Name(), err)
	}
	f.on = true
	return nil
}

// Recover undoes the fault.
func (f *fault) Recover(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.on {
		return nil
	}
	if f.s.t.isTorn() {
		f.on = false
		return nil
	}
	if err := f.act.recover(ctx); err != nil {
		return fmt.Errorf("recover %s: %w", f.Name(), err)
	}
	f.on = false
	f.s.t.untrack(f)
	return nil
}

// ignoreMissing drops errors saying there was nothing to remove.
func ignoreMissing(err error) error {
	if err == nil || isMissing(err) {
		return nil
	}
	return err
}

// Group is several faults as one: injected in order (a failure recovers
// those already injected) and recovered in reverse order.
func Group(name string, faults ...Fault) Fault { return &group{name: name, faults: faults} }

type group struct {
	name   string
	faults []Fault
}

func (g *group) Name() string {
	if g.name != "" {
		return g.name
	}
	names := make([]string, len(g.faults))
	for i, f := range g.faults {
		names[i] = f.Name()
	}
	return strings.Join(names, " + ")
}

func (g *group) Available() bool {
	for _, f := range g.faults {
		if !f.Available() {
			return false
		}
	}
	return true
}

func (g *group) Inject(ctx context.Context) error {
	for i, f := range g.faults {
		if err := f.Inject(ctx); err != nil {
			for j := i - 1; j >= 0; j-- {
				err = errors.Join(err, g.faults[j].Recover(context.Background()))
			}
			return err
		}
	}
	return nil
}

func (g *group) Recover(ctx context.Context) error {
	var errs []error
	for i := len(g.faults) - 1; i >= 0; i-- {
		errs = append(errs, g.faults[i].Recover(ctx))
	}
	return errors.Join(errs...)
}
