package pollerlib

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
	"github.com/stretchr/testify/require"
)

// manualClock is a fleet clock that moves only when told: dynamic values
// stay put between advances, so walks compare exactly with Snapshot, and
// time-bound faults (blackhole, restart downtime) end on Advance.
type manualClock struct{ ns atomic.Int64 }

func newManualClock() *manualClock {
	c := &manualClock{}
	c.ns.Store(time.Unix(1_700_000_000, 0).UnixNano())
	return c
}

func (c *manualClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *manualClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// profileStore builds a synthetic profile, once per name.
func profileStore(t testing.TB, name string) *mib.Store {
	t.Helper()
	s, err := mib.Profile(name)
	require.NoError(t, err)
	return s
}

// startFleet starts a simagent fleet on an ephemeral port with a manual
// clock and if-mib:4 data unless cfg says otherwise.
func startFleet(t testing.TB, cfg simagent.Config) (*simagent.Fleet, *manualClock) {
	t.Helper()
	clk := newManualClock()
	if cfg.Clock == nil {
		cfg.Clock = clk.Now
	}
	if !cfg.Listen.IsValid() {
		cfg.Listen = netip.MustParseAddrPort("127.18.0.1:0")
	}
	if cfg.Store == nil {
		cfg.Store = profileStore(t, "if-mib:4")
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Sockets == 0 {
		cfg.Sockets = 2
	}
	f, err := simagent.Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	return f, clk
}

// newPoller makes a poller closed at cleanup, checking that Close leaves no
// socket and no goroutine of its own.
func newPoller(t testing.TB, opts ...Option) *Poller {
	t.Helper()
	p, err := New(append([]Option{WithSeed(7)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, p.Close(ctx))
		st := p.Stats()
		require.Zero(t, st.Sockets, "sockets after Close")
		require.Zero(t, st.Goroutines, "goroutines after Close")
		require.Zero(t, st.InFlight, "in flight after Close")
	})
	return p
}

// fastOpts keep fault tests quick: short timeouts, many retries.
func fastOpts() []Option {
	return []Option{WithTimeouts(100*time.Millisecond, 20*time.Millisecond, 400*time.Millisecond), WithRetries(6), WithBreaker(0, 0)}
}

func target(f *simagent.Fleet, i int) Target {
	return Target{Addr: f.Addr(i).String(), Community: Secret(f.Community())}
}

// agentData is agent i's data under root as the agent serves it now, as
// canonical lines; v1 leaves out Counter64.
func agentData(t testing.TB, f *simagent.Fleet, i int, root OID, v1 bool) []string {
	t.Helper()
	var out []string
	for _, e := range f.Snapshot(i) {
		if !OID(e.OID).HasPrefix(root) || (v1 && e.Value.Tag == ber.TagCounter64) {
			continue
		}
		out = append(out, canonEntry(t, e))
	}
	return out
}

// upTo keeps the lines whose OID is at most last.
func upTo(lines []string, last OID) []string {
	var out []string
	for _, l := range lines {
		o := MustParseOID(strings.Fields(l)[0])
		if o.Compare(last) <= 0 {
			out = append(out, l)
		}
	}
	return out
}

// canonEntry renders a store entry like canon renders a Varbind.
func canonEntry(t testing.TB, e mib.Entry) string {
	t.Helper()
	c := e.Value.Content
	val := ""
	switch e.Value.Tag {
	case ber.TagInteger:
		n, err := ber.ParseInt(c)
		require.NoError(t, err)
		val = fmt.Sprint(n)
	case ber.TagCounter32, ber.TagGauge32, ber.TagTimeTicks, ber.TagCounter64:
		n, err := ber.ParseUint(c)
		require.NoError(t, err)
		val = fmt.Sprint(n)
	case ber.TagOID:
		o, err := ber.ParseOID(nil, c)
		require.NoError(t, err)
		val = OID(o).String()
	default:
		val = fmt.Sprintf("%x", c)
	}
	return fmt.Sprintf("%s %s %s", OID(e.OID), Type(e.Value.Tag), val)
}

// canon renders varbinds one line each: OID, type, value (bytes in hex).
func canon(vbs []Varbind) []string {
	out := make([]string, 0, len(vbs))
	for _, v := range vbs {
		val := ""
		switch v.Type {
		case TypeInteger:
			val = fmt.Sprint(v.Int)
		case TypeCounter32, TypeGauge32, TypeTimeTicks, TypeCounter64:
			val = fmt.Sprint(v.Uint)
		case TypeObjectIdentifier:
			val = v.ObjectID.String()
		default:
			val = fmt.Sprintf("%x", v.Bytes)
		}
		out = append(out, fmt.Sprintf("%s %s %s", v.OID, v.Type, val))
	}
	return out
}

// socketFDs counts this process's open sockets from /proc/self/fd.
func socketFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && strings.HasPrefix(l, "socket:[") {
			n++
		}
	}
	return n
}

// eventually waits until cond holds, failing after limit.
func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ctxTimeout is a context for one test step.
func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
