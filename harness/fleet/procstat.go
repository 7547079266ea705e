package fleet

import (
	"strings"

	"github.com/prometheus/procfs"
)

// ProcSample is one reading of a fleet process's resources from
// /proc/PID: descriptors, sockets among them, threads and resident memory.
type ProcSample struct {
	FDs     int   `json:"fds"`
	Sockets int   `json:"sockets"`
	Threads int   `json:"threads"`
	RSS     int64 `json:"rssBytes"`
}

// ProcResources sums up a process's readings over a run: the first, the
// highest of each figure, and the last.
type ProcResources struct {
	Baseline ProcSample `json:"baseline"`
	Peak     ProcSample `json:"peak"`
	Last     ProcSample `json:"last"`
	Samples  int        `json:"samples"`
	Error    string     `json:"error,omitempty"`
}

// readProc reads process pid's resources.
func readProc(pid int) (ProcSample, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return ProcSample{}, err
	}
	st, err := p.Stat()
	if err != nil {
		return ProcSample{}, err
	}
	targets, err := p.FileDescriptorTargets()
	if err != nil {
		return ProcSample{}, err
	}
	s := ProcSample{FDs: len(targets), Threads: st.NumThreads, RSS: int64(st.ResidentMemory())}
	for _, t := range targets {
		if strings.HasPrefix(t, "socket:") {
			s.Sockets++
		}
	}
	return s, nil
}

// add records one reading.
func (r *ProcResources) add(s ProcSample) {
	if r.Samples == 0 {
		r.Baseline = s
	}
	r.Samples++
	r.Last = s
	r.Peak.FDs = max(r.Peak.FDs, s.FDs)
	r.Peak.Sockets = max(r.Peak.Sockets, s.Sockets)
	r.Peak.Threads = max(r.Peak.Threads, s.Threads)
	r.Peak.RSS = max(r.Peak.RSS, s.RSS)
}
