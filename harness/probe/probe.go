package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Process probes read what this process holds from the OS (Linux /proc)
// and the Go runtime. They are cheap enough to run at 10 Hz with thousands
// of descriptors open.

// Proc is one reading of the process's descriptors.
type Proc struct {
	FDs int
	// UDP sockets of this process, by inode.
	UDP map[uint64]UDPSocket
}

// UDPSocket is one UDP socket as /proc/net/udp{,6} shows it.
type UDPSocket struct {
	Inode  uint64
	Local  netip.AddrPort
	Remote netip.AddrPort
	// RxQueue is the bytes waiting in its receive buffer; Drops the
	// datagrams the kernel dropped on it since it was opened (a full
	// buffer, mostly).
	RxQueue uint64
	Drops   uint64
}

// String renders "udp 127.0.0.1:40211 -> 127.16.0.9:1161 (inode 81234)".
func (u UDPSocket) String() string {
	addr := func(a netip.AddrPort) string {
		if !a.IsValid() || (a.Port() == 0 && a.Addr().IsUnspecified()) {
			return "*"
		}
		return a.String()
	}
	return fmt.Sprintf("udp %s -> %s (inode %d)", addr(u.Local), addr(u.Remote), u.Inode)
}

// errNoProc is returned where /proc cannot be read.
var errNoProc = errors.New("harness: /proc/self is not readable (the OS probes need Linux)")

// errFDsExhausted is returned when the process has no descriptor left even
// to read /proc: itself the strongest evidence of a descriptor leak.
var errFDsExhausted = errors.New("harness: the process has run out of file descriptors (EMFILE), so /proc cannot even be read")

func procErr(err error) error {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return fmt.Errorf("%w: %w", errFDsExhausted, err)
	}
	return fmt.Errorf("%w: %w", errNoProc, err)
}

// ReadProc counts this process's descriptors and finds its UDP sockets.
func ReadProc() (Proc, error) {
	_, inodes, n, err := ReadFDTable(false)
	if err != nil {
		return Proc{FDs: -1}, err
	}
	var buf []byte
	udp, err := readUDPTables("/proc/net", inodes, &buf)
	if errors.Is(err, errTableTooLarge) {
		return Proc{FDs: n}, err
	}
	if err != nil {
		return Proc{FDs: n}, procErr(err)
	}
	return Proc{FDs: n, UDP: udp}, nil
}

// ReadFDTable lists /proc/self/fd: the number of descriptors (without the
// one used to read the directory), the inodes of sockets and, when
// withTargets, every descriptor's link target.
func ReadFDTable(withTargets bool) (targets map[int]string, sockets map[uint64]bool, n int, err error) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil, nil, -1, procErr(err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, nil, -1, procErr(err)
	}
	self := int(d.Fd())
	sockets = make(map[uint64]bool)
	if withTargets {
		targets = make(map[int]string, len(names))
	}
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if fd == self {
			continue
		}
		link, err := os.Readlink("/proc/self/fd/" + name)
		if err != nil {
			continue // closed in the meantime
		}
		n++
		if withTargets {
			targets[fd] = link
		}
		if s, ok := strings.CutPrefix(link, "socket:["); ok {
			if ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
				sockets[ino] = true
			}
		}
	}
	return targets, sockets, n, nil
}

// HeapReader reads heap figures from runtime/metrics, which unlike
// ReadMemStats does not stop the world.
type HeapReader struct {
	s []metrics.Sample
}

func NewHeapReader() *HeapReader {
	return &HeapReader{s: []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}}
}

// Read returns the bytes in heap objects (live and not yet swept) and the
// live heap as of the last GC. Not safe for concurrent use.
func (h *HeapReader) Read() (objects, live uint64) {
	metrics.Read(h.s)
	if h.s[0].Value.Kind() == metrics.KindUint64 {
		objects = h.s[0].Value.Uint64()
	}
	if h.s[1].Value.Kind() == metrics.KindUint64 {
		live = h.s[1].Value.Uint64()
	}
	return objects, live
}

// FDDiff lists descriptors open in after but not in before (same number
// and target), grouped by kind, for evidence.
func FDDiff(before, after map[int]string, limit int) []string {
	var fds []int
	for fd, t := range after {
		if before[fd] != t {
			fds = append(fds, fd)
		}
	}
	if len(fds) == 0 {
		return nil
	}
	sort.Ints(fds)
	kinds := map[string]int{}
	for _, fd := range fds {
		kinds[fdKind(after[fd])]++
	}
	var ks []string
	for k, n := range kinds {
		ks = append(ks, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(ks)
	out := []string{fmt.Sprintf("%d descriptors opened during the run are still open (%s)", len(fds), strings.Join(ks, ", "))}
	for i, fd := range fds {
		if i == limit {
			out = append(out, fmt.Sprintf("... and %d more", len(fds)-limit))
			break
		}
		out = append(out, fmt.Sprintf("fd %d -> %s", fd, after[fd]))
	}
	return out
}

// fdKind names what a /proc/self/fd link points at.
func fdKind(link string) string {
	switch {
	case strings.HasPrefix(link, "socket:"):
		return "socket"
	case strings.HasPrefix(link, "pipe:"):
		return "pipe"
	case strings.HasPrefix(link, "anon_inode:"):
		return strings.TrimPrefix(link, "anon_inode:")
	}
	return "file"
}

// NumGoroutine is runtime.NumGoroutine, named for symmetry with the probes.
func NumGoroutine() int { return runtime.NumGoroutine() }
