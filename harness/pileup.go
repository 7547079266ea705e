package harness

import (
	"time"

	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/harness/probe"
)

// What the sampler captures when a bound is crossed, for evidence: the
// goroutines when polls or goroutines pile up past their bounds, the
// descriptors and sockets when they pass theirs. Captures are rare (the
// first crossing, then each new peak a quarter higher, at most one a
// second), so the sampler stays cheap while a poller piles up thousands.

// captureEvery is the least time between two captures of one kind.
const captureEvery = time.Second

// capturePileUp dumps the goroutines when s is over the in-flight or
// goroutine bound and higher than the last capture by a quarter.
func (r *run) capturePileUp(s Sample, base Sample) {
	iv := r.sc.Invariants
	overFlight := iv.MaxInFlight > 0 && s.InFlight > iv.MaxInFlight
	overG := iv.MaxGoroutines > 0 && s.Goroutines > base.Goroutines+iv.MaxGoroutines
	if !overFlight && !overG {
		return
	}
	r.mu.Lock()
	last := r.pileUp
	r.mu.Unlock()
	if last != nil && (s.T-last.T < captureEvery || s.Goroutines < last.Goroutines+last.Goroutines/4) {
		return
	}
	p := &invariant.PileUp{T: s.T, InFlight: s.InFlight, Goroutines: s.Goroutines, Dump: probe.DumpGoroutines()}
	r.mu.Lock()
	r.pileUp = p
	r.mu.Unlock()
}

// captureFDPeak lists the descriptors and sockets when s is over the
// descriptor or socket bound and higher than the last capture.
func (r *run) captureFDPeak(s Sample, pr probe.Proc, base Sample) {
	iv := r.sc.Invariants
	overFD := iv.MaxFds > 0 && s.FDs > base.FDs+iv.MaxFds
	overS := iv.MaxSockets > 0 && s.UDPSockets > base.UDPSockets+iv.MaxSockets
	if !overFD && !overS {
		return
	}
	r.mu.Lock()
	last := r.fdPeak
	r.mu.Unlock()
	if last != nil && (s.T-last.T < captureEvery || s.FDs <= last.FDs) {
		return
	}
	fds, _, _, err := probe.ReadFDTable(true)
	if err != nil {
		return // out of descriptors: the samples say so
	}
	p := &invariant.FDPeak{T: s.T, FDs: s.FDs, UDPSockets: s.UDPSockets, Table: fds, UDP: pr.UDP}
	r.mu.Lock()
	r.fdPeak = p
	r.mu.Unlock()
}
