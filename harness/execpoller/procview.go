package execpoller

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/prometheus/procfs"

	"github.com/snmpchaos/snmpchaos/internal/udpprobe"
)

// ProcessView is what the OS shows of a process and its descendants: the
// tree's open descriptors, UDP sockets (its descriptors matched to
// /proc/PID/net/udp and udp6, the tables of its own network namespace),
// threads and resident memory. /proc is read with prometheus/procfs.
type ProcessView struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	// PIDs are the process and its live descendants.
	PIDs       []int       `json:"pids"`
	FDs        int         `json:"fds"`
	UDPSockets []UDPSocket `json:"udpSockets,omitempty"`
	Threads    int         `json:"threads"`
	RSSBytes   uint64      `json:"rssBytes"`
}

// UDPSocket is one UDP socket a watched process holds.
type UDPSocket struct {
	PID    int            `json:"pid"`
	Inode  uint64         `json:"inode"`
	Local  netip.AddrPort `json:"local"`
	Remote netip.AddrPort `json:"remote"`
	Drops  uint64         `json:"drops,omitempty"`
}

func (u UDPSocket) String() string {
	s := fmt.Sprintf("pid %d: udp socket inode %d local %s", u.PID, u.Inode, u.Local)
	if u.Remote.Port() != 0 {
		s += " connected to " + u.Remote.String()
	}
	return s
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
		p, err := procfs.NewProc(id)
		if err != nil {
			continue // exited meanwhile
		}
		st, err := p.Stat()
		if err != nil {
			continue
		}
		n, err := p.FileDescriptorsLen()
		if err != nil {
			continue
		}
		v.FDs += n
		v.Threads += st.NumThreads
		v.RSSBytes += uint64(st.ResidentMemory())
		r, err := udpprobe.New(id)
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
			v.UDPSockets = append(v.UDPSockets, UDPSocket{PID: id, Inode: s.Inode, Local: s.Local, Remote: s.Remote, Drops: s.Drops})
		}
	}
	slices.SortFunc(v.UDPSockets, func(a, b UDPSocket) int {
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
