package probe

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/prometheus/procfs"
)

// Another process, by PID: an exec poller's child, an observed daemon.

// ProcessView is what the OS shows of a process and its descendants: the
// tree's open descriptors, UDP sockets (its descriptors matched to
// /proc/PID/net/udp and udp6, the tables of its own network namespace),
// threads and resident memory. /proc is read with prometheus/procfs, the
// socket tables by readUDPTables.
type ProcessView struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	// PIDs are the process and its live descendants.
	PIDs       []int           `json:"pids"`
	FDs        int             `json:"fds"`
	UDPSockets []ProcessSocket `json:"udpSockets,omitempty"`
	Threads    int             `json:"threads"`
	RSSBytes   uint64          `json:"rssBytes"`
}

// ProcessSocket is one UDP socket a watched process holds.
type ProcessSocket struct {
	PID    int            `json:"pid"`
	Inode  uint64         `json:"inode"`
	Local  netip.AddrPort `json:"local"`
	Remote netip.AddrPort `json:"remote"`
	Drops  uint64         `json:"drops,omitempty"`
}

func (u ProcessSocket) String() string {
	s := fmt.Sprintf("pid %d: udp socket inode %d local %s", u.PID, u.Inode, u.Local)
	if u.Remote.Port() != 0 {
		s += " connected to " + u.Remote.String()
	}
	return s
}

// RSSMiB is the resident memory in MiB, one decimal.
func (v ProcessView) RSSMiB() string { return fmt.Sprintf("%.1f", float64(v.RSSBytes)/(1<<20)) }

// Sample is the view in figures, for a report's samples.
func (v ProcessView) Sample() ProcessSample {
	return ProcessSample{PID: v.PID, Processes: len(v.PIDs), FDs: v.FDs, UDPSockets: len(v.UDPSockets), Threads: v.Threads, RSSBytes: v.RSSBytes, Goroutines: -1}
}

// ProcessSample is one reading of a watched process tree. Goroutines is
// what the process says of itself on its metrics endpoint (go_goroutines),
// -1 when it says nothing.
type ProcessSample struct {
	PID        int    `json:"pid"`
	Processes  int    `json:"processes"`
	FDs        int    `json:"fds"`
	UDPSockets int    `json:"udpSockets"`
	Threads    int    `json:"threads"`
	RSSBytes   uint64 `json:"rssBytes"`
	Goroutines int    `json:"goroutines"`
}

// ReadProcess reads the view of pid and its descendants from /proc.
func ReadProcess(pid int) (ProcessView, error) {
	v := ProcessView{PID: pid, Command: Cmdline(pid)}
	pids, err := tree(pid)
	if err != nil {
		return v, err
	}
	v.PIDs = pids
	for _, id := range pids {
		fds, threads, rss, ok := figures(id)
		if !ok {
			continue // exited meanwhile
		}
		v.FDs += fds
		v.Threads += threads
		v.RSSBytes += rss
		r, err := NewPIDReader(id)
		if err != nil {
			continue
		}
		rd, err := r.Read(nil)
		if err != nil {
			if _, gone := os.Stat(fmt.Sprintf("/proc/%d", id)); gone != nil {
				continue
			}
			return v, err
		}
		for _, s := range rd.Sockets {
			v.UDPSockets = append(v.UDPSockets, ProcessSocket{PID: id, Inode: s.Inode, Local: s.Local, Remote: s.Remote, Drops: s.Drops})
		}
	}
	slices.SortFunc(v.UDPSockets, func(a, b ProcessSocket) int {
		if a.Inode < b.Inode {
			return -1
		}
		if a.Inode > b.Inode {
			return 1
		}
		return 0
	})
	return v, nil
}

// ReadProcessFigures is the cheap part of a reading of the tree pids
// (pid and its descendants as a full reading found them): descriptors,
// threads and memory, without the sockets. ok is false when pid is gone.
func ReadProcessFigures(pid int, pids []int) (s ProcessSample, ok bool) {
	s = ProcessSample{PID: pid, Goroutines: -1}
	for _, id := range pids {
		fds, threads, rss, live := figures(id)
		if !live {
			continue
		}
		if id == pid {
			ok = true
		}
		s.Processes++
		s.FDs += fds
		s.Threads += threads
		s.RSSBytes += rss
	}
	return s, ok
}

// figures reads the descriptors, threads and resident memory of process
// id; ok is false when it is gone (or unreadable).
func figures(id int) (fds, threads int, rss uint64, ok bool) {
	p, err := procfs.NewProc(id)
	if err != nil {
		return 0, 0, 0, false
	}
	st, err := p.Stat()
	if err != nil {
		return 0, 0, 0, false
	}
	n, err := p.FileDescriptorsLen()
	if err != nil {
		return 0, 0, 0, false
	}
	return n, st.NumThreads, uint64(st.ResidentMemory()), true
}

// Cmdline is the process's command line, arguments joined by spaces
// (empty if it is gone).
func Cmdline(pid int) string {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return ""
	}
	args, err := p.CmdLine()
	if err != nil {
		return ""
	}
	return strings.Join(args, " ")
}

// tree is pid and its descendants, from the parent PIDs in /proc/*/stat.
func tree(pid int) ([]int, error) {
	if _, err := procfs.NewProc(pid); err != nil {
		return nil, err
	}
	all, err := procfs.AllProcs()
	if err != nil {
		return nil, err
	}
	parent := map[int]int{}
	for _, p := range all {
		if st, err := p.Stat(); err == nil {
			parent[p.PID] = st.PPID
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		for p, pp := range parent {
			if pp == out[i] {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out[1:])
	return out, nil
}
