package scenarios

import "fmt"

// Modes lists the modes a scenario can run in.
func Modes() []string { return []string{ModeInProcess, ModeNetns, ModeK8s} }

// InMode returns a copy of s to run in mode, checked as Parse checks a
// file naming that mode (the error names the field, as Parse's do). netns
// and k8s scenarios turn into each other unchanged: sites stay sites and
// kernel faults become the other mode's form. An in-process scenario
// becomes one site holding every agent; fleet.byPort and fleet.processes
// are dropped, as both modes place the agents themselves. A scenario with
// sites, or a remote fleet, cannot change mode.
func (s *Scenario) InMode(mode string) (*Scenario, error) {
	if mode == s.Mode {
		return s, nil
	}
	c := *s
	c.Mode = mode
	if mode != ModeInProcess {
		c.Fleet.ByPort, c.Fleet.Processes = false, 0
	}
	p, m := c.modeDefaults()
	if m == "" {
		p, m = c.homeDefaults()
	}
	if m == "" {
		p, m = c.checkKernel()
	}
	if m != "" {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &FieldError{File: s.Source, Path: p, Msg: m + " (running in mode " + mode + ")"})
	}
	return &c, nil
}
