// Package udpprobe reads where a Linux host drops UDP datagrams: the Udp and
// Udp6 counters of a process's network namespace (/proc/PID/net/snmp and
// snmp6: InErrors, RcvbufErrors, ...) and the drops column of
// /proc/PID/net/udp{,6} for the process's own sockets, matched by inode so
// that other processes' traffic does not count. A Tracker turns readings
// into drops since a baseline, including sockets that closed in between.
//
// /proc is parsed by github.com/prometheus/procfs; this package only
// matches sockets to the process and keeps the arithmetic of counters that
// belong to sockets which come and go.
package udpprobe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/procfs"
)

// Counters are a network namespace's UDP counters (RFC 4113 udp group plus
// Linux's buffer errors). RcvbufErrors counts datagrams dropped because a
// socket's receive buffer was full; they are part of InErrors.
type Counters struct {
	InDatagrams  uint64 `json:"inDatagrams"`
	NoPorts      uint64 `json:"noPorts"`
	InErrors     uint64 `json:"inErrors"`
	OutDatagrams uint64 `json:"outDatagrams"`
	RcvbufErrors uint64 `json:"rcvbufErrors"`
	SndbufErrors uint64 `json:"sndbufErrors"`
	InCsumErrors uint64 `json:"inCsumErrors"`
}

// Sub is c minus base, field by field (0 where a counter went backwards).
func (c Counters) Sub(base Counters) Counters {
	d := func(a, b uint64) uint64 {
		if a < b {
			return 0
		}
		return a - b
	}
	return Counters{
		InDatagrams: d(c.InDatagrams, base.InDatagrams), NoPorts: d(c.NoPorts, base.NoPorts),
		InErrors: d(c.InErrors, base.InErrors), OutDatagrams: d(c.OutDatagrams, base.OutDatagrams),
		RcvbufErrors: d(c.RcvbufErrors, base.RcvbufErrors), SndbufErrors: d(c.SndbufErrors, base.SndbufErrors),
		InCsumErrors: d(c.InCsumErrors, base.InCsumErrors),
	}
}

// Add is c plus o, field by field.
func (c Counters) Add(o Counters) Counters {
	return Counters{
		InDatagrams: c.InDatagrams + o.InDatagrams, NoPorts: c.NoPorts + o.NoPorts,
		InErrors: c.InErrors + o.InErrors, OutDatagrams: c.OutDatagrams + o.OutDatagrams,
		RcvbufErrors: c.RcvbufErrors + o.RcvbufErrors, SndbufErrors: c.SndbufErrors + o.SndbufErrors,
		InCsumErrors: c.InCsumErrors + o.InCsumErrors,
	}
}

// Socket is one UDP socket of the process as /proc/net/udp{,6} shows it.
type Socket struct {
	Inode  uint64         `json:"inode"`
	Local  netip.AddrPort `json:"local"`
	Remote netip.AddrPort `json:"remote"`
	// RxQueue is the bytes waiting in its receive buffer; Drops the
	// datagrams the kernel dropped on it since it was opened.
	RxQueue uint64 `json:"rxQueue"`
	Drops   uint64 `json:"drops"`
}

// String renders "udp 127.0.0.1:40211 -> * (inode 81234): 12 drops".
func (s Socket) String() string {
	addr := func(a netip.AddrPort) string {
		if !a.IsValid() || (a.Port() == 0 && a.Addr().IsUnspecified()) {
			return "*"
		}
		return a.String()
	}
	return fmt.Sprintf("udp %s -> %s (inode %d): %d drops, %d bytes queued", addr(s.Local), addr(s.Remote), s.Inode, s.Drops, s.RxQueue)
}

// Reading is one look at a process's UDP drops.
type Reading struct {
	// UDP and UDP6 are the namespace-wide counters.
	UDP  Counters `json:"udp"`
	UDP6 Counters `json:"udp6"`
	// Sockets are the process's UDP sockets, by inode.
	Sockets []Socket `json:"sockets"`
}

// Kernel is UDP plus UDP6.
func (r Reading) Kernel() Counters { return r.UDP.Add(r.UDP6) }

// ErrUnavailable is wrapped when /proc cannot be read (not Linux, or the
// process is gone).
var ErrUnavailable = errors.New("udpprobe: /proc not readable")

// Reader reads one process's UDP drops.
type Reader struct {
	pid  int
	fs   procfs.FS // rooted at /proc/PID, so net/* is that process's namespace
	proc procfs.Proc
}

// New returns a Reader for process pid (0: this process).
func New(pid int) (*Reader, error) {
	root := "/proc/self"
	if pid > 0 {
		root = "/proc/" + strconv.Itoa(pid)
	}
	fs, err := procfs.NewFS(root)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var p procfs.Proc
	if pid > 0 {
		p, err = procfs.NewProc(pid)
	} else {
		p, err = procfs.Self()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return &Reader{pid: pid, fs: fs, proc: p}, nil
}

// Read takes one reading. inodes are the process's socket inodes when the
// caller has just listed its descriptors (nil: Read lists them itself).
func (r *Reader) Read(inodes map[uint64]bool) (Reading, error) {
	var out Reading
	snmp, err := r.proc.Snmp()
	if err != nil {
		return out, fmt.Errorf("%w: net/snmp: %w", ErrUnavailable, err)
	}
	u := snmp.Udp
	out.UDP = Counters{
		InDatagrams: val(u.InDatagrams), NoPorts: val(u.NoPorts), InErrors: val(u.InErrors),
		OutDatagrams: val(u.OutDatagrams), RcvbufErrors: val(u.RcvbufErrors),
		SndbufErrors: val(u.SndbufErrors), InCsumErrors: val(u.InCsumErrors),
	}
	if s6, err := r.proc.Snmp6(); err == nil { // absent without IPv6
		u := s6.Udp6
		out.UDP6 = Counters{
			InDatagrams: val(u.InDatagrams), NoPorts: val(u.NoPorts), InErrors: val(u.InErrors),
			OutDatagrams: val(u.OutDatagrams), RcvbufErrors: val(u.RcvbufErrors),
			SndbufErrors: val(u.SndbufErrors), InCsumErrors: val(u.InCsumErrors),
		}
	}
	if inodes == nil {
		if inodes, err = r.socketInodes(); err != nil {
			return out, err
		}
	}
	for _, six := range []bool{false, true} {
		read := r.fs.NetUDP
		if six {
			read = r.fs.NetUDP6
		}
		lines, err := read()
		if err != nil {
			if six && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return out, fmt.Errorf("%w: net/udp: %w", ErrUnavailable, err)
		}
		for _, l := range lines {
			if !inodes[l.Inode] {
				continue
			}
			s := Socket{Inode: l.Inode, Local: addrPort(l.LocalAddr, l.LocalPort), Remote: addrPort(l.RemAddr, l.RemPort), RxQueue: l.RxQueue}
			if l.Drops != nil {
				s.Drops = *l.Drops
			}
			out.Sockets = append(out.Sockets, s)
		}
	}
	slices.SortFunc(out.Sockets, func(a, b Socket) int { return cmpU64(a.Inode, b.Inode) })
	return out, nil
}

// socketInodes lists the inodes of the process's sockets.
func (r *Reader) socketInodes() (map[uint64]bool, error) {
	targets, err := r.proc.FileDescriptorTargets()
	if err != nil {
		return nil, fmt.Errorf("%w: fd: %w", ErrUnavailable, err)
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

func addrPort(ip net.IP, port uint64) netip.AddrPort {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
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
