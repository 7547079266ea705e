package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/fleet"
	"github.com/snmpchaos/snmpchaos/simagent"
)

// applyTimeout bounds applying one phase's agent faults to a fleet in
// other processes (with the client's retries for a process restarting).
const applyTimeout = 30 * time.Second

// phaseApplier is a fleet that applies a phase's agent faults itself, to
// all its processes at once, and says how long each took.
type phaseApplier interface {
	ApplyPhase(ctx context.Context, phase string, sets []fleet.PhaseSet) ([]fleet.Apply, error)
}

// processReporter is a fleet whose agents live in other processes.
type processReporter interface {
	Processes() []fleet.ProcessReport
}

// remoteURLs are the control URLs of a remote fleet: WithFleet's, else the
// scenario's fleet.remote.
func (r *run) remoteURLs() []string {
	if len(r.cfg.fleetURLs) > 0 {
		return r.cfg.fleetURLs
	}
	return r.sc.Fleet.Remote
}

// processes is how many simagent children the fleet runs in: WithProcesses,
// else fleet.processes, at most one per agent (a short profile has fewer
// agents).
func (r *run) processes() int {
	n := r.sc.Fleet.Processes
	if r.cfg.processesSet {
		n = r.cfg.processes
	}
	return min(n, r.sc.Fleet.Agents)
}

// startRemote drives running simagent processes: it checks they serve the
// scenario's data and clears their faults.
func (r *run) startRemote(ctx context.Context, urls []string) error {
	c, err := r.fleetConfig()
	if err != nil {
		return err
	}
	store, err := fleet.OpenStore(r.sc)
	if err != nil {
		return err
	}
	var users []string
	for _, u := range r.sc.Fleet.Users() {
		users = append(users, u.Name)
	}
	rf, err := fleet.Dial(ctx, fleet.RemoteConfig{
		URLs: urls, Token: r.cfg.fleetToken, Store: store, Community: r.sc.Fleet.Community,
		Seed: r.seed, Agents: r.sc.Fleet.Agents, V3Users: users, Logger: r.log, ReadyTimeout: max(r.cfg.readyTimeout, 30*time.Second),
	})
	if err != nil {
		return fmt.Errorf("harness: scenario %s: %w", r.sc.Name, err)
	}
	r.rep.Mode = "remote"
	return r.readyOrClose(ctx, rf, c)
}

// startSpawned starts the fleet as n simagent child processes.
func (r *run) startSpawned(ctx context.Context, n int) error {
	c, err := r.fleetConfig()
	if err != nil {
		return err
	}
	bin, err := fleet.FindSimagent(r.cfg.simagent)
	if err != nil {
		return err
	}
	store, err := fleet.OpenStore(r.sc)
	if err != nil {
		return err
	}
	fl := r.sc.Fleet
	data := ""
	if fl.Profile == "" {
		data = fleet.DataPath(r.sc.Source, fl.Data)
	}
	rf, err := fleet.Spawn(ctx, fleet.SpawnConfig{
		Binary: bin, Processes: n, Agents: fl.Agents, Listen: c.Listen, ByPort: fl.ByPort,
		Profile: fl.Profile, Data: data, Store: store, Community: fl.Community, MaxMsgSize: fl.MaxMsgSize,
		Labels: fl.Labels, Users: fl.Users(), Seed: r.seed, StartTimeout: max(r.cfg.readyTimeout, 30*time.Second), Logger: r.log,
	})
	if err != nil {
		return fmt.Errorf("harness: scenario %s: %w", r.sc.Name, err)
	}
	r.rep.Mode = "processes"
	return r.readyOrClose(ctx, rf, c)
}

// readyOrClose waits until the fleet's agents answer over SNMP, as an
// in-process fleet is waited for.
func (r *run) readyOrClose(ctx context.Context, f fleet.Fleet, c fleet.Config) error {
	if !c.SkipReadyCheck {
		if err := fleet.WaitReady(ctx, f, c.ReadyTimeout); err != nil {
			_ = f.Close()
			return err
		}
	}
	r.fleet = f
	return nil
}

// fleetProcesses converts the fleet's view of its processes for the
// report.
func fleetProcesses(ps []fleet.ProcessReport) []FleetProcess {
	out := make([]FleetProcess, len(ps))
	for k, p := range ps {
		out[k] = FleetProcess{URL: p.URL, PID: p.PID, Version: p.Version, First: p.First, Agents: p.Agents,
			Spawned: p.Spawned, Applies: fleetApplies(p.Applies), Down: p.Down}
		if r := p.Resources; r != nil {
			out[k].Resources = &ProcResources{Baseline: ProcSample(r.Baseline), Peak: ProcSample(r.Peak), Last: ProcSample(r.Last), Samples: r.Samples, Error: r.Error}
		}
		for _, e := range p.Events {
			out[k].Events = append(out[k].Events, FleetEvent(e))
		}
	}
	return out
}

func fleetApplies(as []fleet.Apply) []FleetApply {
	var out []FleetApply
	for _, a := range as {
		out = append(out, FleetApply(a))
	}
	return out
}

// applyAgentFaults clears every agent's faults and applies phase i's. A
// fleet in other processes gets them in one request per process, all sent
// at once; it returns when the last process confirmed, with each one's
// time.
func (r *run) applyAgentFaults(i int) ([]string, []FleetApply, error) {
	ph := r.sc.Phases[i]
	var descr []string
	for _, fs := range ph.Faults {
		descr = append(descr, fs.Selector.String()+": "+simagent.FormatFaultSpec(fs.Faults))
	}
	if pa, ok := r.fleet.(phaseApplier); ok {
		sets := make([]fleet.PhaseSet, len(ph.Faults))
		for j, fs := range ph.Faults {
			sets[j] = fleet.PhaseSet{Selector: fs.Selector, Faults: fs.Faults}
		}
		ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
		defer cancel()
		applies, err := pa.ApplyPhase(ctx, ph.Name, sets)
		if err != nil {
			return descr, fleetApplies(applies), fmt.Errorf("harness: phase %s: faults: %w", ph.Name, err)
		}
		return descr, fleetApplies(applies), nil
	}
	if _, err := r.fleet.SetFaults(simagent.Selector{All: true}, simagent.Faults{}); err != nil {
		return descr, nil, fmt.Errorf("harness: phase %s: clear faults: %w", ph.Name, err)
	}
	for j, fs := range ph.Faults {
		if _, err := r.fleet.SetFaults(fs.Selector, fs.Faults); err != nil {
			return descr, nil, fmt.Errorf("harness: phase %s: faults[%d]: %w", ph.Name, j, err)
		}
	}
	return descr, nil, nil
}
