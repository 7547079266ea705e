package harness

import (
	"time"

	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/harness/probe"
)

// sample reads every probe now. h must belong to the calling goroutine.
func (r *run) sample(h *probe.HeapReader) (Sample, probe.Proc, error) {
	now := time.Now()
	pr, err := probe.ReadProc()
	obj, live := h.Read()
	s := Sample{
		T:          now.Sub(r.t0),
		Goroutines: probe.NumGoroutine(),
		FDs:        pr.FDs,
		UDPSockets: len(pr.UDP),
		HeapBytes:  obj,
		HeapLive:   live,
	}
	if pr.UDP == nil {
		s.UDPSockets = -1
	}
	if r.rec != nil {
		s.InFlight = r.rec.inFlight()
	}
	if r.stats != nil {
		ps := r.stats.PollerStats()
		s.Poller = &ps
	}
	if r.proc != nil {
		s.Process = r.proc.sample()
	}
	r.readDrops(&s, pr)
	return s, pr, err
}

// readDrops fills the drop figures of s: the poller's sockets (every UDP
// socket not open at baseline) by the drops column, and the namespace's
// Udp counters, both since the baseline.
func (r *run) readDrops(s *Sample, pr probe.Proc) {
	r.dropMu.Lock()
	defer r.dropMu.Unlock()
	if r.drops == nil {
		return // before the baseline
	}
	if pr.UDP != nil {
		s.SocketDrops = r.drops.Observe(pr.UDP)
	}
	if r.udpBaseOK {
		if rd, err := r.udpReader.Counters(); err == nil {
			d := rd.Kernel().Sub(r.udpBase)
			s.UDPRcvbufErrors, s.UDPInErrors = d.RcvbufErrors, d.InErrors
		}
	}
}

// startDrops takes the baseline of the drop figures: the sockets open now
// (the fleet's among them) are not the poller's.
func (r *run) startDrops(base probe.Proc) {
	r.dropMu.Lock()
	defer r.dropMu.Unlock()
	r.drops = &probe.DropTracker{Keep: func(s probe.UDPSocket) bool { _, old := base.UDP[s.Inode]; return !old }}
	if base.UDP != nil {
		r.drops.Observe(base.UDP)
	}
	r.udpReader, r.dropErr = probe.NewPIDReader(0)
	if r.dropErr == nil {
		var rd probe.UDPReading
		rd, r.dropErr = r.udpReader.Counters()
		r.udpBase = rd.Kernel()
	}
	r.udpBaseOK = r.dropErr == nil
}

// sampleLoop samples at the configured rate until stop closes, and calls
// the progress callback about every second.
func (r *run) sampleLoop(stop <-chan struct{}) {
	h := probe.NewHeapReader()
	tick := time.NewTicker(r.cfg.sampleEvery)
	defer tick.Stop()
	var lastProgress time.Time
	next := time.Now().Add(r.cfg.sampleEvery)
	cpuPrev, cpuErr := probe.ReadCPUTime(0)
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		// The sampler's own lateness: how long after its tick was due it
		// got to run (the ticker drops ticks it could not deliver).
		woke := time.Now()
		lag := max(woke.Sub(next), 0)
		next = woke.Add(r.cfg.sampleEvery)
		s, pr, _ := r.sample(h)
		s.SampleLag = lag
		// How long the process's threads ran, and waited for a CPU, since
		// the sample before: a starved window is the machine's doing.
		if cpu, err := probe.ReadCPUTime(0); err == nil && cpuErr == nil {
			s.CPU = cpu.Sub(cpuPrev)
			cpuPrev = cpu
		}
		r.rec.takeWindow(&s)
		r.mu.Lock()
		base, haveBase := r.rep.Baseline, r.baseTaken
		r.mu.Unlock()
		if haveBase {
			r.capturePileUp(s, base)
			r.captureFDPeak(s, pr, base)
		}
		if r.kernel != nil {
			s.KernelDrops = r.kernel.dropped()
		}
		r.mu.Lock()
		r.samples = append(r.samples, s)
		r.last = s
		r.mu.Unlock()
		// A little early rather than late: ticks are not exact.
		if now := time.Now(); now.Sub(lastProgress) >= r.cfg.progressEvery-r.cfg.sampleEvery/2 {
			lastProgress = now
			r.progressNow()
		}
	}
}

// setStage names what the run is doing, for progress.
func (r *run) setStage(stage string) {
	r.mu.Lock()
	r.stage = stage
	r.mu.Unlock()
	r.log.Debug("harness: stage", "stage", stage)
}

// progressNow calls the progress callback with the current status.
func (r *run) progressNow() {
	if r.cfg.progress == nil {
		return
	}
	i := int(r.phase.Load())
	r.mu.Lock()
	p := Progress{
		Scenario: r.sc.Name, Poller: r.p.Name(), Stage: r.stage,
		Phase: r.sc.Phases[i].Name, PhaseIndex: i, Phases: len(r.sc.Phases),
		Elapsed: time.Since(r.t0), Planned: r.sc.TotalDuration(),
		Goroutines: r.last.Goroutines, FDs: r.last.FDs, UDPSockets: r.last.UDPSockets, HeapBytes: r.last.HeapBytes,
	}
	r.mu.Unlock()
	if p.Stage == "" {
		p.Stage = "start"
	}
	r.rec.progress(&p)
	r.cfg.progress(p)
}

// phaseReports fills the phase reports with their outcomes.
func (r *run) phaseReports() []PhaseReport {
	out := make([]PhaseReport, len(r.rep.Phases))
	copy(out, r.rep.Phases)
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	for i := range out {
		acc := &r.rec.phases[i]
		pr := &out[i]
		pr.Polls, pr.Succeeded, pr.Failed, pr.Skipped, pr.Straddled = acc.polls, acc.succeeded, acc.failed, acc.skipped, acc.straddled
		if len(acc.errors) > 0 {
			pr.Errors = make(map[string]int, len(acc.errors))
			for k, v := range acc.errors {
				pr.Errors[k] = v
			}
		}
		if n := acc.succeeded + acc.failed; n > 0 {
			pr.Success = float64(acc.succeeded) / float64(n)
		}
		pr.P50, pr.P99, pr.Max = acc.latency.quantile(0.50), acc.latency.quantile(0.99), acc.latency.max
		c := &acc.cancel
		pr.Cancel = CancelStats{Count: c.n, P50: c.quantile(0.5), P99: c.quantile(0.99), Max: c.max}
	}
	return out
}

// errorExamples returns per phase the first error of each kind among
// polls that ran under the phase's faults.
func (r *run) errorExamples() []map[string]string {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	out := make([]map[string]string, len(r.rec.phases))
	for i := range r.rec.phases {
		out[i] = r.rec.phases[i].examples
	}
	return out
}

// recoveryGaps lists, per recovery phase, the agents that were faulty
// earlier and did not succeed once in it, and how many of them were never
// polled in the phase (too short for the interval).
func (r *run) recoveryGaps() map[int][]invariant.RecoveryGap {
	out := map[int][]invariant.RecoveryGap{}
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	for i, ph := range r.sc.Phases {
		if ph.Expect == nil || !ph.Expect.Recovery || i >= len(r.rep.Phases) || i >= len(r.faultyBefore) {
			continue
		}
		acc := &r.rec.phases[i]
		gaps := []invariant.RecoveryGap{}
		for _, a := range r.faultyBefore[i] {
			if acc.okByAgent[a] == 0 {
				gaps = append(gaps, invariant.RecoveryGap{Phase: i, Agent: a, Polled: acc.polledByAgent[a]})
			}
		}
		out[i] = gaps
	}
	return out
}

// dropEvidence is the drops seen over the run, as of the last reading.
func (r *run) dropEvidence(last Sample, samples []Sample) invariant.Drops {
	r.dropMu.Lock()
	defer r.dropMu.Unlock()
	d := invariant.Drops{Sockets: last.SocketDrops, RcvbufErrors: last.UDPRcvbufErrors, InErrors: last.UDPInErrors, Err: r.dropErr}
	if r.drops != nil {
		d.Worst = r.drops.Worst(invariant.EvidenceLimit)
	}
	for _, s := range samples {
		d.Sockets = max(d.Sockets, s.SocketDrops)
	}
	return d
}
