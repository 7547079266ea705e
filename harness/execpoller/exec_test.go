package execpoller

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// pysnmpPoller is the reference poller's command line, or a skip (a
// failure under CI=true) when Debian's python3-pysnmp4 is missing.
func pysnmpPoller(t *testing.T, args ...string) []string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "examples", "exec-poller", "pysnmp_poller.py")
	if out, err := exec.Command("/usr/bin/python3", "-c", "import pysnmp.hlapi.asyncore").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("the reference exec poller needs Debian's python3-pysnmp4 (apt-get install -y python3-pysnmp4; scripts/need-pollers.sh does it as root): %v %s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return append([]string{script}, args...)
}

func logger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return nil
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []string
		err  string
	}{
		{spec: "exec:/usr/bin/poller --leak", want: []string{"/usr/bin/poller", "--leak"}},
		{spec: `exec:python3 'my poller.py' "a b" c`, want: []string{"python3", "my poller.py", "a b", "c"}},
		{spec: "poller", want: []string{"poller"}},
		{spec: "exec:", err: "no command"},
		{spec: "exec:x 'y", err: "unterminated ' quote"},
	} {
		got, err := Parse(tc.spec)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.spec)
			continue
		}
		require.NoError(t, err, tc.spec)
		assert.Equal(t, tc.want, got, tc.spec)
	}
}

func quickstart(t *testing.T, base int) *scenarios.Scenario {
	sc, err := scenarios.Bundled("quickstart")
	require.NoError(t, err)
	sc.Fleet.Listen = fmt.Sprintf("127.%d.0.1:0", base)
	return sc
}

func TestPysnmpPassesQuickstart(t *testing.T) {
	sc := quickstart(t, 211)
	p, err := New(t.Context(), Config{Command: pysnmpPoller(t), Settings: harness.SettingsFor(sc.Shortened()), Logger: logger(t)})
	require.NoError(t, err)
	assert.Equal(t, "exec:pysnmp", p.Name())
	rep, err := harness.Run(t.Context(), sc, p, harness.WithShort(true))
	require.NoError(t, err)
	for _, iv := range rep.Invariants {
		t.Logf("%-20s %-5v %s %v", iv.Name, iv.Pass, iv.Summary, iv.Evidence)
	}
	for _, ph := range rep.Phases {
		t.Logf("phase %s: %d polls %d ok %d failed %d skipped p99 %s errors %v", ph.Name, ph.Polls, ph.Succeeded, ph.Failed, ph.Skipped, ph.P99, ph.Errors)
	}
	assert.True(t, rep.Pass)
	assert.Empty(t, rep.CloseError)
	v, ok := p.AtClose()
	require.True(t, ok)
	assert.LessOrEqual(t, len(v.UDPSockets), 1, "one shared socket: %v", v.UDPSockets)
	assert.Contains(t, v.Command, "pysnmp_poller.py")
}

func TestLeakyChildSeenByPID(t *testing.T) {
	sc := quickstart(t, 212)
	p, err := New(t.Context(), Config{Command: pysnmpPoller(t, "--leak"), Settings: harness.SettingsFor(sc.Shortened()), Logger: logger(t)})
	require.NoError(t, err)
	rep, err := harness.Run(t.Context(), sc, p, harness.WithShort(true), harness.WithSettleTimeout(time.Second))
	require.NoError(t, err)
	v, ok := p.AtClose()
	require.True(t, ok)
	assert.Greater(t, len(v.UDPSockets), rep.Polls.Scheduled/2, "a socket per poll left open")
	assert.Equal(t, p.PID(), v.PID)
	assert.True(t, strings.Contains(v.Command, "--leak"), v.Command)
	leaked := v.UDPSockets[len(v.UDPSockets)-1]
	assert.Equal(t, p.PID(), leaked.PID)
	assert.True(t, leaked.Remote.Addr().Is4() && leaked.Remote.Addr().As4()[0] == 127, "connected to an agent: %s", leaked)
}
