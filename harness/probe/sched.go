package probe

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CPUTime is how long a process's threads ran on a CPU and how long they
// waited, runnable, for one: the first two fields of the kernel's
// /proc/PID/task/TID/schedstat, summed over the threads. Waiting is the
// direct measure of a machine that does not give the process the CPU it
// asks for (other work on the same cores), where a load average is the
// whole machine's, smoothed over a minute.
type CPUTime struct {
	Running time.Duration `json:"running"`
	Waiting time.Duration `json:"waiting"`
}

// Sub is c − o, each figure clamped at zero (threads that exited between
// the readings drop out of the later sum).
func (c CPUTime) Sub(o CPUTime) CPUTime {
	return CPUTime{Running: max(c.Running-o.Running, 0), Waiting: max(c.Waiting-o.Waiting, 0)}
}

// WaitShare is the share of the threads' runnable time spent waiting for
// a CPU (0 when they were never runnable).
func (c CPUTime) WaitShare() float64 {
	if t := c.Running + c.Waiting; t > 0 {
		return float64(c.Waiting) / float64(t)
	}
	return 0
}

// ReadCPUTime sums the schedstat of every thread of process pid (0: this
// process). Threads that exit while it reads are skipped.
func ReadCPUTime(pid int) (CPUTime, error) {
	dir := "/proc/self/task"
	if pid > 0 {
		dir = fmt.Sprintf("/proc/%d/task", pid)
	}
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return CPUTime{}, fmt.Errorf("probe: schedstat: %w", err)
	}
	var c CPUTime
	read := 0
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return CPUTime{}, fmt.Errorf("probe: %s/%s/schedstat: %q: want 3 fields", dir, t.Name(), b)
		}
		run, err1 := strconv.ParseInt(f[0], 10, 64)
		wait, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return CPUTime{}, fmt.Errorf("probe: %s/%s/schedstat: %q: not nanoseconds", dir, t.Name(), b)
		}
		c.Running += time.Duration(run)
		c.Waiting += time.Duration(wait)
		read++
	}
	if read == 0 {
		return CPUTime{}, fmt.Errorf("probe: schedstat: no thread of %s readable", dir)
	}
	return c, nil
}
