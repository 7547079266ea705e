package benchutil

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is a snapshot of what this process holds.
type Proc struct {
	RSS        uint64 // resident set size in bytes (VmRSS)
	PeakRSS    uint64 // high-water mark of RSS in bytes (VmHWM)
	FDs        int    // open file descriptors
	Sockets    int    // open socket file descriptors
	Goroutines int
}

// Sample reads the process state now. With settle it first collects
// garbage and returns freed memory to the OS, so RSS shows live memory.
// It needs Linux's /proc; elsewhere it returns an error.
func Sample(settle bool) (Proc, error) {
	if settle {
		runtime.GC()
		debug.FreeOSMemory()
	}
	var p Proc
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return p, fmt.Errorf("benchutil: %w", err)
	}
	if p.RSS, err = statusKB(st, "VmRSS:"); err != nil {
		return p, err
	}
	if p.PeakRSS, err = statusKB(st, "VmHWM:"); err != nil {
		return p, err
	}
	if p.FDs, p.Sockets, err = countFDs(); err != nil {
		return p, err
	}
	p.Goroutines = runtime.NumGoroutine()
	return p, nil
}

// statusKB reads a "Key:   123 kB" line of /proc/self/status, in bytes.
func statusKB(status []byte, key string) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, key) {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(line, key))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("benchutil: unexpected status line %q", line)
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("benchutil: status line %q: %w", line, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("benchutil: no %s in /proc/self/status", key)
}

// countFDs counts open descriptors and those that are sockets.
func countFDs() (fds, sockets int, err error) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, 0, fmt.Errorf("benchutil: %w", err)
	}
	defer d.Close()
	self := strconv.Itoa(int(d.Fd()))
	names, err := d.Readdirnames(-1)
	if err != nil {
		return 0, 0, fmt.Errorf("benchutil: %w", err)
	}
	for _, n := range names {
		if n == self {
			continue
		}
		l, err := os.Readlink("/proc/self/fd/" + n)
		if err != nil {
			continue // closed meanwhile
		}
		fds++
		if strings.HasPrefix(l, "socket:") {
			sockets++
		}
	}
	return fds, sockets, nil
}

// CPUTime is the user and system CPU time this process has used (not its
// children's).
func CPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("benchutil: getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// MB formats bytes as mebibytes.
func MB(b uint64) float64 { return float64(b) / (1 << 20) }
