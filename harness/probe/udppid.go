package probe

// Another process's UDP view, by PID: the Udp and Udp6 counters of its
// network namespace (/proc/PID/net/snmp and snmp6) and its UDP sockets
// (/proc/PID/net/udp{,6} matched by inode to /proc/PID/fd). The counters
// and descriptors are parsed by github.com/prometheus/procfs, the socket
// tables by readUDPTables, shared with ReadProc. This process's own sockets are read by
// ReadProc; ReadUDPCounters(0) reads its namespace's counters.

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/procfs"
)

// Counters are a network namespace's UDP counters (RFC 4113 udp group plus
// Linux's buffer errors). RcvbufErrors counts datagrams dropped because a
// socket's receive buffer was full; they are part of InErrors.
type UDPCounters struct {
	InDatagrams  uint64 `json:"inDatagrams"`
	NoPorts      uint64 `json:"noPorts"`
	InErrors     uint64 `json:"inErrors"`
	OutDatagrams uint64 `json:"outDatagrams"`
	RcvbufErrors uint64 `json:"rcvbufErrors"`
	SndbufErrors uint64 `json:"sndbufErrors"`
	InCsumErrors uint64 `json:"inCsumErrors"`
}

// Sub is c minus base, field by field (0 where a counter went backwards).
func (c UDPCounters) Sub(base UDPCounters) UDPCounters {
	d := func(a, b uint64) uint64 {
		if a < b {
			return 0
		}
		return a - b
	}
	return UDPCounters{
		InDatagrams: d(c.InDatagrams, base.InDatagrams), NoPorts: d(c.NoPorts, base.NoPorts),
		InErrors: d(c.InErrors, base.InErrors), OutDatagrams: d(c.OutDatagrams, base.OutDatagrams),
		RcvbufErrors: d(c.RcvbufErrors, base.RcvbufErrors), SndbufErrors: d(c.SndbufErrors, base.SndbufErrors),
		InCsumErrors: d(c.InCsumErrors, base.InCsumErrors),
	}
}

// Add is c plus o, field by field.
func (c UDPCounters) Add(o UDPCounters) UDPCounters {
	return UDPCounters{
		InDatagrams: c.InDatagrams + o.InDatagrams, NoPorts: c.NoPorts + o.NoPorts,
		InErrors: c.InErrors + o.InErrors, OutDatagrams: c.OutDatagrams + o.OutDatagrams,
		RcvbufErrors: c.RcvbufErrors + o.RcvbufErrors, SndbufErrors: c.SndbufErrors + o.SndbufErrors,
		InCsumErrors: c.InCsumErrors + o.InCsumErrors,
	}
}

// UDPReading is one look at a process's UDP drops.
type UDPReading struct {
	// UDP and UDP6 are the namespace-wide counters.
	UDP  UDPCounters `json:"udp"`
	UDP6 UDPCounters `json:"udp6"`
	// Sockets are the process's UDP sockets, by inode.
	Sockets []UDPSocket `json:"sockets"`
}

// Kernel is UDP plus UDP6.
func (r UDPReading) Kernel() UDPCounters { return r.UDP.Add(r.UDP6) }

// ErrNoUDPView is wrapped when a process's /proc cannot be read (not
// Linux, or the process is gone).
var ErrNoUDPView = errors.New("harness: /proc/PID/net not readable")

// PIDReader reads one process's UDP counters and sockets, by PID. It is
// not safe for concurrent use.
type PIDReader struct {
	pid  int
	root string // /proc/PID or /proc/self, so net/* is that process's namespace
	proc procfs.Proc
	buf  []byte // the socket tables' read buffer, kept between reads
}

// NewPIDReader returns a reader for process pid (0: this process).
func NewPIDReader(pid int) (*PIDReader, error) {
	root := "/proc/self"
	if pid > 0 {
		root = "/proc/" + strconv.Itoa(pid)
	}
	if _, err := os.Stat(root + "/net"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoUDPView, err)
	}
	var (
		p   procfs.Proc
		err error
	)
	if pid > 0 {
		p, err = procfs.NewProc(pid)
	} else {
		p, err = procfs.Self()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoUDPView, err)
	}
	return &PIDReader{pid: pid, root: root, proc: p}, nil
}

// Counters reads only the namespace's Udp and Udp6 counters.
func (r *PIDReader) Counters() (UDPReading, error) {
	var out UDPReading
	err := r.counters(&out)
	return out, err
}

// Read takes one reading. inodes are the process's socket inodes when the
// caller has just listed its descriptors (nil: Read lists them itself).
func (r *PIDReader) Read(inodes map[uint64]bool) (UDPReading, error) {
	var out UDPReading
	if err := r.counters(&out); err != nil {
		return out, err
	}
	var err error
	if inodes == nil {
		if inodes, err = r.socketInodes(); err != nil {
			return out, err
		}
	}
	return out, r.sockets(&out, inodes)
}

// counters fills out's Udp and Udp6 counters.
func (r *PIDReader) counters(out *UDPReading) error {
	snmp, err := r.proc.Snmp()
	if err != nil {
		return fmt.Errorf("%w: net/snmp: %w", ErrNoUDPView, err)
	}
	u := snmp.Udp
	out.UDP = UDPCounters{
		InDatagrams: val(u.InDatagrams), NoPorts: val(u.NoPorts), InErrors: val(u.InErrors),
		OutDatagrams: val(u.OutDatagrams), RcvbufErrors: val(u.RcvbufErrors),
		SndbufErrors: val(u.SndbufErrors), InCsumErrors: val(u.InCsumErrors),
	}
	if s6, err := r.proc.Snmp6(); err == nil { // absent without IPv6
		u := s6.Udp6
		out.UDP6 = UDPCounters{
			InDatagrams: val(u.InDatagrams), NoPorts: val(u.NoPorts), InErrors: val(u.InErrors),
			OutDatagrams: val(u.OutDatagrams), RcvbufErrors: val(u.RcvbufErrors),
			SndbufErrors: val(u.SndbufErrors), InCsumErrors: val(u.InCsumErrors),
		}
	}
	return nil
}

// sockets fills out's sockets: those of the process among inodes, from
// its namespace's tables (see readUDPTables).
func (r *PIDReader) sockets(out *UDPReading, inodes map[uint64]bool) error {
	socks, err := readUDPTables(r.root+"/net", inodes, &r.buf)
	if err != nil {
		return fmt.Errorf("%w: net/udp: %w", ErrNoUDPView, err)
	}
	for _, s := range socks {
		out.Sockets = append(out.Sockets, s)
	}
	slices.SortFunc(out.Sockets, func(a, b UDPSocket) int { return cmpU64(a.Inode, b.Inode) })
	return nil
}

// socketInodes lists the inodes of the process's sockets.
func (r *PIDReader) socketInodes() (map[uint64]bool, error) {
	targets, err := r.proc.FileDescriptorTargets()
	if err != nil {
		return nil, fmt.Errorf("%w: fd: %w", ErrNoUDPView, err)
	}
	out := make(map[uint64]bool)
	for _, t := range targets {
		if s, ok := strings.CutPrefix(t, "socket:["); ok {
			if ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
				out[ino] = true
			}
		}
	}
	return out, nil
}

func val(p *float64) uint64 {
	if p == nil || *p < 0 {
		return 0
	}
	return uint64(*p)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
