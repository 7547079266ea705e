package udpprobe

import "slices"

// Tracker turns readings into drops since its first reading. Per-socket
// drop counts start at zero when a socket opens and vanish when it closes,
// so the tracker remembers each socket's count at first sight (the baseline
// for sockets already open) and adds the last count of every socket that
// has closed since. Its memory is bounded by the sockets open at once.
type Tracker struct {
	started bool
	kernel  Counters          // namespace counters at the first reading
	base    map[uint64]uint64 // drops at first sight, for baseline sockets
	last    map[uint64]uint64 // last drops seen, by inode
	closed  uint64            // drops of sockets seen and since closed
	// Keep decides which sockets count (nil: all of the process's).
	Keep func(Socket) bool
}

// Drops is what a Tracker has seen since its first reading.
type Drops struct {
	// Kernel is the namespace's UDP+UDP6 counters since the first reading
	// (every process in the namespace counts).
	Kernel Counters `json:"kernel"`
	// Sockets is the drops on the process's own (kept) sockets, including
	// those closed in between.
	Sockets uint64 `json:"sockets"`
	// Worst lists the open kept sockets with drops, most first (at most 10).
	Worst []Socket `json:"worst,omitempty"`
}

// Observe folds one reading in and returns the drops so far.
func (t *Tracker) Observe(r Reading) Drops {
	if !t.started {
		t.started = true
		t.kernel = r.Kernel()
		t.base = make(map[uint64]uint64)
		t.last = make(map[uint64]uint64)
		for _, s := range r.Sockets {
			if t.keep(s) {
				t.base[s.Inode] = s.Drops
			}
		}
	}
	seen := make(map[uint64]uint64, len(r.Sockets))
	var worst []Socket
	for _, s := range r.Sockets {
		if !t.keep(s) {
			continue
		}
		seen[s.Inode] = s.Drops
		if s.Drops > t.base[s.Inode] {
			worst = append(worst, s)
		}
	}
	for ino, d := range t.last {
		if _, open := seen[ino]; !open {
			t.closed += sub(d, t.base[ino])
			delete(t.base, ino)
		}
	}
	t.last = seen
	out := Drops{Kernel: r.Kernel().Sub(t.kernel), Sockets: t.closed}
	for ino, d := range seen {
		out.Sockets += sub(d, t.base[ino])
	}
	slices.SortFunc(worst, func(a, b Socket) int { return cmpU64(b.Drops, a.Drops) })
	if len(worst) > 10 {
		worst = worst[:10]
	}
	out.Worst = worst
	return out
}

func (t *Tracker) keep(s Socket) bool { return t.Keep == nil || t.Keep(s) }

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}
