package probe

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// UDP drops: where the kernel throws datagrams away. Two views, both read
// at every sample: the Udp and Udp6 counters of the process's network
// namespace (/proc/PID/net/snmp and snmp6: InErrors, RcvbufErrors, ...),
// which count every process in the namespace, and the drops column of
// /proc/net/udp{,6} for the process's own sockets (UDPSocket.Drops),
// matched by inode so that other processes' traffic does not count.

// ReadUDPCounters reads the Udp plus Udp6 counters of process pid's network
// namespace (0: this process).
func ReadUDPCounters(pid int) (UDPCounters, error) {
	r, err := NewPIDReader(pid)
	if err != nil {
		return UDPCounters{}, err
	}
	rd, err := r.Counters()
	return rd.Kernel(), err
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// DropTracker turns readings of a process's sockets into the drops since
// its first reading. A socket's drop count starts at zero when it opens and
// vanishes when it closes, so the tracker keeps each socket's count at
// first sight (the baseline of sockets already open) and adds the last
// count seen of every socket that has closed since. Sockets that open and
// close between two readings are not seen: their drops show only in the
// namespace's counters. Its memory is bounded by the sockets open at once.
type DropTracker struct {
	// Keep decides which sockets count (nil: all).
	Keep    func(UDPSocket) bool
	started bool
	base    map[uint64]uint64 // drops at first sight, by inode
	last    map[uint64]UDPSocket
	closed  uint64 // drops of sockets seen and since closed
}

// Observe folds one reading of the process's UDP sockets in and returns
// the drops on the kept sockets since the first reading.
func (t *DropTracker) Observe(socks map[uint64]UDPSocket) uint64 {
	if !t.started {
		t.started = true
		t.base = make(map[uint64]uint64)
		for ino, s := range socks {
			if t.keep(s) {
				t.base[ino] = s.Drops
			}
		}
	}
	for ino, s := range t.last {
		if _, open := socks[ino]; !open {
			t.closed += sub(s.Drops, t.base[ino])
			delete(t.base, ino)
		}
	}
	t.last = make(map[uint64]UDPSocket, len(socks))
	total := t.closed
	for ino, s := range socks {
		if !t.keep(s) {
			continue
		}
		t.last[ino] = s
		total += sub(s.Drops, t.base[ino])
	}
	return total
}

// Worst lists the open kept sockets with drops since the first reading,
// most first, at most n, as "udp A -> B (inode N): 12 drops, 4096 bytes
// queued".
func (t *DropTracker) Worst(n int) []string {
	socks := slices.Collect(maps.Values(t.last))
	socks = slices.DeleteFunc(socks, func(s UDPSocket) bool { return s.Drops <= t.base[s.Inode] })
	slices.SortFunc(socks, func(a, b UDPSocket) int {
		return int(sub(b.Drops, t.base[b.Inode])) - int(sub(a.Drops, t.base[a.Inode]))
	})
	var out []string
	for i, s := range socks {
		if i == n {
			out = append(out, "... and "+strconv.Itoa(len(socks)-n)+" more sockets with drops")
			break
		}
		out = append(out, fmt.Sprintf("%s: %d drops, %d bytes queued", s, sub(s.Drops, t.base[s.Inode]), s.RxQueue))
	}
	return out
}

func (t *DropTracker) keep(s UDPSocket) bool { return t.Keep == nil || t.Keep(s) }
