package invariant

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestFDsStable(t *testing.T) {
	sc := &scenarios.Scenario{Invariants: scenarios.Invariants{FDSlack: 1}}
	fds := map[int]string{0: "/dev/null", 1: "pipe:[7]", 2: "socket:[10]"}
	ev := &Evidence{Scenario: sc, Base: report.Sample{FDs: 3}, After: report.Sample{FDs: 4}, BaseFDs: fds,
		AfterFDs: map[int]string{0: "/dev/null", 1: "pipe:[7]", 2: "socket:[10]", 3: "/tmp/x"},
		Samples:  []report.Sample{{FDs: 9}}}
	res := fdsStable(ev)
	assert.True(t, res.Pass, "within the slack: %s", res.Summary)
	assert.Contains(t, res.Summary, "peak 9")

	// Negative control: two sockets left open, one over the slack.
	ev.After.FDs = 5
	ev.AfterFDs = map[int]string{0: "/dev/null", 1: "pipe:[7]", 2: "socket:[10]", 5: "socket:[11]", 6: "socket:[12]"}
	res = fdsStable(ev)
	assert.False(t, res.Pass)
	assert.Contains(t, res.Summary, "5 fds after Close, 2 over baseline 3 (slack 1)")
	all := strings.Join(res.Evidence, "\n")
	assert.Contains(t, all, "2 descriptors opened during the run are still open (socket: 2)")
	assert.Contains(t, all, "fd 6 -> socket:[12]")

	res = fdsStable(&Evidence{Scenario: sc, Base: report.Sample{FDs: -1}, ProcErr: errors.New("no /proc")})
	assert.False(t, res.Pass, "no descriptor count: cannot pass")
	assert.Contains(t, res.Summary, "no /proc")
}
