package poller

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/internal/mibtest"
	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/internal/proctest"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// pysnmpPoller is the reference poller's command line, or a skip (a
// failure under CI=true) when Debian's python3-pysnmp4 is missing.
func pysnmpPoller(t *testing.T, args ...string) []string {
	t.Helper()
	return append([]string{proctest.PysnmpPoller(t)}, args...)
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return nil
}

// pollSync runs one poll and waits for its result.
func pollSync(ctx context.Context, p pollapi.Poller, poll pollapi.Poll) pollapi.Result {
	ch := make(chan pollapi.Result, 1)
	p.Poll(ctx, poll, func(r pollapi.Result) { ch <- r })
	return <-ch
}

func TestParseExec(t *testing.T) {
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
		got, err := ParseExec(tc.spec)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.spec)
			continue
		}
		require.NoError(t, err, tc.spec)
		assert.Equal(t, tc.want, got, tc.spec)
	}
}

// The reference poller renders every type as the harness does: a walk
// through it equals the store.
func TestExecPysnmpRendersLikeTheStore(t *testing.T) {
	cmd := pysnmpPoller(t)
	store := mibtest.TypesStore(t)
	f, err := simagent.Start(t.Context(), simagent.Config{Agents: 1, Listen: netip.MustParseAddrPort("127.121.0.1:0"), Store: store})
	require.NoError(t, err)
	defer f.Close()
	p, err := NewExec(t.Context(), ExecConfig{Command: cmd, Settings: pollapi.Settings{Timeout: time.Second, Retries: 1}, Logger: testLogger()})
	require.NoError(t, err)
	defer func() { require.NoError(t, p.Close(context.Background())) }()
	assert.Equal(t, "exec:pysnmp", p.Name())
	want := make([]pollapi.Varbind, store.Len())
	for i := range want {
		want[i] = invariant.VarbindFromMIB(store.At(i))
	}
	tgt := pollapi.Target{Addr: f.Addr(0), Version: "2c", Community: "public"}
	for i, op := range []pollapi.Op{pollapi.OpBulkWalk, pollapi.OpWalk} {
		r := pollSync(t.Context(), p, pollapi.Poll{ID: uint64(i + 1), Target: tgt, Op: op, Root: ".1.3.6.1.4.1.99"})
		require.NoError(t, r.Err, op)
		require.Len(t, r.Varbinds, len(want))
		for j := range want {
			if _, v := store.At(j); v.Dyn != nil {
				r.Varbinds[j].Value = "" // a moving counter: OID and type only
			}
		}
		assert.Equal(t, want, r.Varbinds, op)
	}
	r := pollSync(t.Context(), p, pollapi.Poll{ID: 9, Target: tgt, Op: pollapi.OpGet, OIDs: []string{want[0].OID, ".1.3.6.1.4.1.99.77.0"}})
	require.NoError(t, r.Err)
	require.Len(t, r.Varbinds, 2)
	assert.Equal(t, want[0], r.Varbinds[0])
	assert.Equal(t, byte(0x80), r.Varbinds[1].Type, "noSuchObject")
}

func TestExecPysnmpV3AndErrors(t *testing.T) {
	cmd := pysnmpPoller(t)
	u := usm.User{Name: "ops", Auth: usm.SHA, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"}
	store, err := mib.Open("if-mib:2")
	require.NoError(t, err)
	f, err := simagent.Start(t.Context(), simagent.Config{Agents: 2, Listen: netip.MustParseAddrPort("127.122.0.1:0"), Store: store, Users: []usm.User{u}})
	require.NoError(t, err)
	defer f.Close()
	one := 1
	_, err = f.SetFaults(simagent.Selector{Index: &one}, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	require.NoError(t, err)
	// pysnmp localises v3 keys in Python (a million-byte hash per key):
	// seconds on a loaded machine, so the first v3 poll gets a long deadline.
	p, err := NewExec(t.Context(), ExecConfig{Command: cmd, Settings: pollapi.Settings{Timeout: time.Second, Retries: 1}, Logger: testLogger()})
	require.NoError(t, err)
	defer func() { require.NoError(t, p.Close(context.Background())) }()

	v3ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	r := pollSync(v3ctx, p, pollapi.Poll{ID: 1, Target: pollapi.Target{Addr: f.Addr(0), Version: "3", User: u}, Op: pollapi.OpGet, OIDs: []string{".1.3.6.1.2.1.1.5.0"}})
	require.NoError(t, r.Err)
	assert.Equal(t, []pollapi.Varbind{{OID: ".1.3.6.1.2.1.1.5.0", Type: 4, Value: "736e6d706368616f732d73696d"}}, r.Varbinds)

	r = pollSync(t.Context(), p, pollapi.Poll{ID: 2, Target: pollapi.Target{Addr: f.Addr(1), Version: "2c", Community: "public"}, Op: pollapi.OpGet, OIDs: []string{".1.3.6.1.2.1.1.5.0"}})
	var ee *ExecError
	require.ErrorAs(t, r.Err, &ee)
	assert.Equal(t, "timeout", ee.Kind(), "a blackholed agent times out: %v", r.Err)
	assert.Equal(t, "timeout", ErrorKind(r.Err))

	r = pollSync(t.Context(), p, pollapi.Poll{ID: 3, Target: pollapi.Target{Addr: f.Addr(0), Version: "1", Community: "public"}, Op: pollapi.OpGet, OIDs: []string{".1.3.6.1.2.1.1.99.0"}})
	require.ErrorAs(t, r.Err, &ee)
	assert.Equal(t, "status", ee.Kind(), "v1 noSuchName is an error-status: %v", r.Err)
}

// The leaky variant's sockets show in its own process view, by PID.
func TestExecLeakySeenByPID(t *testing.T) {
	cmd := pysnmpPoller(t, "--leak")
	store, err := mib.Open("if-mib:2")
	require.NoError(t, err)
	f, err := simagent.Start(t.Context(), simagent.Config{Agents: 10, Listen: netip.MustParseAddrPort("127.123.0.1:0"), Store: store})
	require.NoError(t, err)
	defer f.Close()
	p, err := NewExec(t.Context(), ExecConfig{Command: cmd, Settings: pollapi.Settings{Timeout: time.Second, Retries: 1}, Logger: testLogger()})
	require.NoError(t, err)
	defer func() { require.NoError(t, p.Close(context.Background())) }()
	for i := range 30 {
		r := pollSync(t.Context(), p, pollapi.Poll{ID: uint64(i + 1), Target: pollapi.Target{Addr: f.Addr(i % 10), Version: "2c", Community: "public"}, Op: pollapi.OpGet, OIDs: []string{".1.3.6.1.2.1.1.3.0"}})
		require.NoError(t, r.Err)
	}
	v, err := probe.ReadProcess(p.PID())
	require.NoError(t, err)
	assert.Equal(t, p.PID(), v.PID)
	assert.Contains(t, v.Command, "pysnmp_poller.py --leak")
	connected := 0
	for _, s := range v.UDPSockets {
		if s.Remote.Port() == f.Addr(0).Port() {
			connected++
			assert.Equal(t, p.PID(), s.PID)
		}
	}
	assert.Equal(t, 30, connected, "a socket per poll, connected to the agent: %v", v.UDPSockets)
}

// sh runs a shell script as the child.
func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

const hello = `read h; echo '{"type":"hello","protocol":1,"name":"sh","maxOutstanding":2}'; `

func TestExecAnswersForASilentChild(t *testing.T) {
	p, err := NewExec(t.Context(), ExecConfig{Command: sh(hello + "cat >/dev/null"), Settings: pollapi.Settings{Timeout: 100 * time.Millisecond}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	r := pollSync(ctx, p, pollapi.Poll{ID: 1, Op: pollapi.OpGet, OIDs: []string{".1.3.6.1.2.1.1.3.0"}})
	var ee *ExecError
	require.ErrorAs(t, r.Err, &ee)
	assert.Equal(t, "timeout", ee.Kind())
	require.NoError(t, p.Close(t.Context()), "cat exits at end of input")
}

func TestExecBadChildren(t *testing.T) {
	_, err := NewExec(t.Context(), ExecConfig{Command: sh(`read h; echo '{"type":"hello","protocol":7,"maxOutstanding":2}'; cat >/dev/null`)})
	assert.ErrorIs(t, err, ErrExecProtocol)
	assert.ErrorContains(t, err, "speaks protocol 7, want 1")

	_, err = NewExec(t.Context(), ExecConfig{Command: sh(`exit 3`)})
	assert.ErrorContains(t, err, "exited before its hello: exit status 3")

	_, err = NewExec(t.Context(), ExecConfig{Command: sh(`sleep 30`), HelloTimeout: 200 * time.Millisecond})
	assert.ErrorContains(t, err, "no hello within 200ms")

	// A line over the limit: the child is killed, the poll fails.
	p, err := NewExec(t.Context(), ExecConfig{Command: sh(hello + `read p; head -c 1100000 /dev/zero | tr '\0' a; echo; cat >/dev/null`)})
	require.NoError(t, err)
	r := pollSync(t.Context(), p, pollapi.Poll{ID: 1, Op: pollapi.OpGet, OIDs: []string{".1.3.6.1.2.1.1.3.0"}})
	var ee *ExecError
	require.ErrorAs(t, r.Err, &ee)
	assert.Equal(t, "protocol", ee.Kind(), r.Err)
	err = p.Close(t.Context())
	assert.ErrorIs(t, err, ErrExecProtocol)

	// A child that ignores shutdown is killed after the timeout.
	p, err = NewExec(t.Context(), ExecConfig{Command: sh(hello + `trap '' TERM; while :; do sleep 1; done`), ShutdownTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	err = p.Close(t.Context())
	assert.ErrorContains(t, err, "did not exit within 300ms of shutdown: killed")
	assert.False(t, errors.Is(err, ErrExecProtocol))
	assert.True(t, strings.Contains(err.Error(), "pid "), err)
}
