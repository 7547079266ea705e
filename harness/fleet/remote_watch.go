package fleet

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent/control"
)

// ProcessReport is one process of a fleet as a run saw it.
type ProcessReport struct {
	URL     string `json:"url"`
	PID     int    `json:"pid"`
	Version string `json:"version"`
	// First is the global index of its first agent.
	First   int  `json:"first"`
	Agents  int  `json:"agents"`
	Spawned bool `json:"spawned"`
	// Resources are its readings from /proc (spawned processes only).
	Resources *ProcResources `json:"resources,omitempty"`
	// Applies are the phases' fault changes sent to it.
	Applies []Apply `json:"applies,omitempty"`
	// Events are outages, restarts and faults applied again.
	Events []Event `json:"events,omitempty"`
	// Down is how long it did not answer its control API, in total.
	Down time.Duration `json:"down"`
}

// Processes reports every process of the fleet.
func (r *Remote) Processes() []ProcessReport {
	out := make([]ProcessReport, len(r.procs))
	for k, p := range r.procs {
		p.mu.Lock()
		out[k] = ProcessReport{
			URL: p.url, PID: p.info.PID, Version: p.info.Version, First: p.first, Agents: p.n, Spawned: p.child != nil,
			Applies: slices.Clone(p.applies), Events: slices.Clone(p.events), Down: p.downTotal,
		}
		if !p.up {
			out[k].Down += time.Since(p.down)
		}
		if p.child != nil {
			res := p.res
			out[k].Resources = &res
		}
		p.mu.Unlock()
	}
	return out
}

// watch checks every process at each tick until Close.
func (r *Remote) watch(ctx context.Context) {
	defer close(r.watchDone)
	t := time.NewTicker(r.cfg.Watch)
	defer t.Stop()
	for {
		// One process after the other, on this goroutine: the harness's
		// goroutines stay a fixed few, which its probes count.
		for _, p := range r.procs {
			r.check(ctx, p)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check asks one process for its info and reads its resources.
func (r *Remote) check(ctx context.Context, p *proc) {
	if p.child != nil {
		s, err := readProc(p.child.pid())
		p.mu.Lock()
		if err != nil {
			p.res.Error = err.Error()
		} else {
			p.res.add(s)
		}
		p.mu.Unlock()
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	in, err := p.watcher.Info(cctx)
	cancel()
	now := time.Now()
	p.mu.Lock()
	if err != nil {
		if ctx.Err() == nil && p.up {
			p.up, p.down = false, now
			p.events = append(p.events, Event{At: now, Kind: "down", Detail: err.Error()})
			r.log.Warn("harness: fleet process not answering", "url", p.url, "err", err)
		}
		p.mu.Unlock()
		return
	}
	if !p.up {
		p.up = true
		p.downTotal += now.Sub(p.down)
		p.events = append(p.events, Event{At: now, Kind: "up", Detail: fmt.Sprintf("after %s", now.Sub(p.down).Round(time.Millisecond))})
		r.log.Info("harness: fleet process answers again", "url", p.url)
	}
	restarted := in.PID != p.info.PID || !in.Started.Equal(p.info.Started)
	if !restarted {
		if in.Generation > p.gen && !p.sending {
			p.events = append(p.events, Event{At: now, Kind: "error", Detail: fmt.Sprintf("fault generation %d, the fleet's last change left %d: someone else changed its faults", in.Generation, p.gen)})
			p.gen = in.Generation
		}
		p.mu.Unlock()
		return
	}
	detail := fmt.Sprintf("pid %d started %s, was pid %d", in.PID, in.Started.Format(time.RFC3339Nano), p.info.PID)
	if err := sameAgents(p.info, in); err != nil {
		p.events = append(p.events, Event{At: now, Kind: "error", Detail: "restarted as another fleet: " + err.Error()})
		p.info = in
		p.mu.Unlock()
		return
	}
	p.events = append(p.events, Event{At: now, Kind: "restarted", Detail: detail})
	p.info, p.gen = in, in.Generation
	p.mu.Unlock()
	r.log.Warn("harness: fleet process restarted; applying its faults again", "url", p.url, "detail", detail)
	// The faults in force are read once no other change is on its way,
	// so a phase applied meanwhile is not undone.
	p.sendMu.Lock()
	p.mu.Lock()
	desired, agents := p.desired, p.desiredAgents
	p.mu.Unlock()
	a, err := r.sendLocked(ctx, p, "", desired, agents)
	p.sendMu.Unlock()
	p.mu.Lock()
	if err != nil {
		p.events = append(p.events, Event{At: time.Now(), Kind: "error", Detail: "applying its faults again: " + err.Error()})
	} else {
		p.events = append(p.events, Event{At: time.Now(), Kind: "reapplied", Detail: fmt.Sprintf("%d agents in %s", a.Agents, a.Took.Round(time.Microsecond))})
	}
	p.mu.Unlock()
}

// sameAgents checks a restarted process is the same fleet as before.
func sameAgents(was, is control.Info) error {
	switch {
	case was.Data.SHA256 != is.Data.SHA256:
		return fmt.Errorf("data sha256 %.12s, was %.12s", is.Data.SHA256, was.Data.SHA256)
	case !slices.Equal(was.Addresses, is.Addresses):
		return fmt.Errorf("addresses %v, were %v", is.Addresses, was.Addresses)
	}
	return nil
}
