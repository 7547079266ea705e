//go:build linux

package netns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"

	"golang.org/x/sys/unix"
)

// A run name is <family>-<owner pid in base 36>-<seq in base 36>; site k
// of the run names its namespace and both ends of its veth <run>-<k>. The
// longest, "abc-2ii2o-zz-63", fits the 15 bytes of a Linux interface name.
var runNameRE = regexp.MustCompile(`^([a-z]{1,3})-([0-9a-z]{1,5})-([0-9a-z]{1,2})(?:-([0-9]{1,2}))?$`)

// runName formats a run name.
func runName(family string, pid, seq int) string {
	return family + "-" + strconv.FormatInt(int64(pid), 36) + "-" + strconv.FormatInt(int64(seq), 36)
}

// siteName is the namespace and veth name of site k of run.
func siteName(run string, k int) string { return run + "-" + strconv.Itoa(k) }

// parsedName is a name of ours taken apart.
type parsedName struct {
	family string
	run    string
	pid    int
}

// parseName parses a run name or a site name; ok is false for names that
// are not ours.
func parseName(name string) (parsedName, bool) {
	m := runNameRE.FindStringSubmatch(name)
	if m == nil {
		return parsedName{}, false
	}
	pid, err := strconv.ParseInt(m[2], 36, 32)
	if err != nil || pid <= 0 {
		return parsedName{}, false
	}
	return parsedName{family: m[1], run: m[1] + "-" + m[2] + "-" + m[3], pid: int(pid)}, true
}

// procStat reads a process's state letter (field 3 of /proc/PID/stat) and
// start time in clock ticks since boot (field 22), which tells a process
// from a later one that reused its PID. ok is false when the process does
// not exist or its stat cannot be read.
func procStat(pid int) (state byte, start uint64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// The command name (field 2) is in parentheses and may hold anything;
	// the fields after the last ')' are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); field 22 is f[19].
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], v, true
}

// alive reports whether the process pid runs (a zombie does not); with
// start != 0, also that it is the process that started then.
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return false
	}
	state, s, ok := procStat(pid)
	if !ok {
		return true // exists, but /proc says nothing: assume it lives
	}
	if state == 'Z' || state == 'X' {
		return false
	}
	return start == 0 || s == start
}
