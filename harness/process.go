package harness

import (
	"context"
	"sync"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
)

// ProcessPoller is implemented by pollers whose work happens in another
// process (exec pollers, observed daemons): see pollapi.ProcessPoller.
type ProcessPoller = pollapi.ProcessPoller

// ProcessMetrics is implemented by process pollers that can read what the
// process says of itself: see pollapi.ProcessMetrics.
type ProcessMetrics = pollapi.ProcessMetrics

// processWatch watches a process poller's process tree for the run: a
// figure per sample, full readings at baseline and idle after the drain.
type processWatch struct {
	pid     int
	metrics pollapi.ProcessMetrics // nil: the process says nothing of itself

	mu          sync.Mutex
	goroutines  int // last from metrics, -1 if none
	lastMetrics time.Time
	lastFull    time.Time // of the last full reading, with pids and udp
	pids        []int
	udp         int
	rep         report.ProcessReport
}

func newProcessWatch(p Poller) *processWatch {
	pp, ok := p.(pollapi.ProcessPoller)
	if !ok {
		return nil
	}
	w := &processWatch{pid: pp.PID(), goroutines: -1}
	w.metrics, _ = p.(pollapi.ProcessMetrics)
	w.rep = report.ProcessReport{PID: w.pid, Command: probe.Cmdline(w.pid), BaselineGoroutines: -1, IdleGoroutines: -1}
	return w
}

// selfGoroutines asks the process, at most once a second (always when
// force is set), within half a second.
func (w *processWatch) selfGoroutines(force bool) int {
	if w.metrics == nil {
		return -1
	}
	w.mu.Lock()
	due := force || time.Since(w.lastMetrics) >= time.Second
	if due {
		w.lastMetrics = time.Now()
	}
	g := w.goroutines
	w.mu.Unlock()
	if !due {
		return g
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	n, err := w.metrics.ProcessGoroutines(ctx)
	if err != nil {
		n = -1
	}
	w.mu.Lock()
	w.goroutines = n
	w.mu.Unlock()
	return n
}

// sample is the figure for one probe sample (nil once the process is
// gone). A full reading (the process tree, every UDP socket matched in its
// network namespace's tables) costs a scan of /proc and of tables that hold
// every socket of the namespace, so it is taken at most once a second;
// between two, a sample counts the tree's descriptors and reads its
// threads and memory, and carries the last socket count.
func (w *processWatch) sample() *probe.ProcessSample {
	w.mu.Lock()
	full := time.Since(w.lastFull) >= time.Second
	pids, udp := w.pids, w.udp
	w.mu.Unlock()
	var s probe.ProcessSample
	if full || len(pids) == 0 {
		v, err := probe.ReadProcess(w.pid)
		if err != nil {
			return nil
		}
		s = v.Sample()
		w.mu.Lock()
		w.lastFull, w.pids, w.udp = time.Now(), v.PIDs, s.UDPSockets
		w.mu.Unlock()
	} else {
		var ok bool
		if s, ok = probe.ReadProcessFigures(w.pid, pids); !ok {
			return nil
		}
		s.UDPSockets = udp
	}
	s.Goroutines = w.selfGoroutines(false)
	return &s
}

// full takes a full reading into *into (the baseline or the idle one).
func (w *processWatch) full(into *probe.ProcessView, goroutines *int) {
	v, err := probe.ReadProcess(w.pid)
	g := w.selfGoroutines(true)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.rep.Error = err.Error()
		return
	}
	*into, *goroutines = v, g
}

func (w *processWatch) baseline() { w.full(&w.rep.Baseline, &w.rep.BaselineGoroutines) }
func (w *processWatch) idle()     { w.full(&w.rep.Idle, &w.rep.IdleGoroutines) }

// report is the process's part of the report.
func (w *processWatch) report(samples []Sample) *report.ProcessReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.rep
	r.Peaks(samples)
	return &r
}
