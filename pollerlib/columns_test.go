package pollerlib

import (
	"fmt"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	oidIfDescr     = MustParseOID(".1.3.6.1.2.1.2.2.1.2")
	oidIfInOctets  = MustParseOID(".1.3.6.1.2.1.2.2.1.10")
	oidIfOutOctets = MustParseOID(".1.3.6.1.2.1.2.2.1.16")
)

// walkColumns walks cols on tg with BulkWalkColumns and returns each
// column's varbinds, checking that rows come in order: within a response
// a column's rows never go back.
func walkColumns(t *testing.T, p *Poller, tg Target, cols []OID) ([][]Varbind, error) {
	t.Helper()
	got := make([][]Varbind, len(cols))
	err := p.BulkWalkColumns(ctxTimeout(t, 30*time.Second), tg, cols, func(c int, vb Varbind) error {
		require.True(t, vb.OID.HasPrefix(cols[c]), "%s handed to column %s", vb.OID, cols[c])
		got[c] = append(got[c], vb)
		return nil
	})
	return got, err
}

// perColumn is what a BulkWalk of each column on its own returns.
func perColumn(t *testing.T, p *Poller, tg Target, cols []OID) [][]Varbind {
	t.Helper()
	out := make([][]Varbind, len(cols))
	for i, c := range cols {
		vbs, err := p.BulkWalkAll(ctxTimeout(t, 30*time.Second), tg, c)
		require.NoError(t, err)
		out[i] = vbs
	}
	return out
}

func TestBulkWalkColumnsEqualsWalks(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2, Store: profileStore(t, "if-mib:24")})
	// Columns of different lengths: ifTable's 24 rows, the system
	// group's scalars, and an OID past everything the agent has.
	cols := []OID{oidIfInOctets, oidSystem, oidIfOutOctets, oidIfDescr, MustParseOID(".1.3.6.1.9.9")}
	for _, v := range []Version{V2c, V1} {
		t.Run(v.String(), func(t *testing.T) {
			p := newPoller(t)
			tg := target(f, 1)
			tg.Version = v
			got, err := walkColumns(t, p, tg, cols)
			require.NoError(t, err)
			for i, c := range cols {
				want := agentData(t, f, 1, c, v == V1)
				if len(want) == 0 {
					assert.Empty(t, got[i], "column %s", c)
					continue
				}
				assert.Equal(t, want, canon(got[i]), "column %s", c)
			}
		})
	}
}

func TestBulkWalkColumnsFewerRequests(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2, Store: profileStore(t, "if-mib:24")})
	cols := []OID{oidIfInOctets, oidIfOutOctets}
	p := newPoller(t)
	tg := target(f, 1)
	// Requests sent, retransmits left out (a loaded machine may retry).
	sent := func() uint64 { st := p.Stats(); return st.Requests - st.Retries }
	before := sent()
	want := perColumn(t, p, tg, cols)
	separate := sent() - before
	before = sent()
	got, err := walkColumns(t, p, tg, cols)
	require.NoError(t, err)
	together := sent() - before
	for i := range cols {
		assert.Equal(t, canon(want[i]), canon(got[i]))
		assert.Len(t, got[i], 24)
	}
	// 24 rows of 2 columns: one GetBulk of 25 repetitions each, against
	// one of 50 for each column on its own.
	assert.Equal(t, uint64(2), separate)
	assert.Equal(t, uint64(1), together)
}

func TestBulkWalkColumnsFaults(t *testing.T) {
	cols := []OID{oidIfInOctets, oidIfDescr, oidIfOutOctets}
	for _, tc := range []struct {
		name   string
		faults simagent.Faults
		opts   []Option
	}{
		{"truncated GetBulk", simagent.Faults{Truncate: &simagent.Truncate{BulkVarbinds: 4}}, nil},
		{"small max message size", simagent.Faults{Truncate: &simagent.Truncate{MaxMsgSize: 484}}, []Option{WithMaxRepetitions(200)}},
		{"early end of MIB view", simagent.Faults{EndOfMib: &simagent.EndOfMib{After: ".1.3.6.1.2.1.2.2.1.10.12"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := startFleet(t, simagent.Config{Agents: 2, Store: profileStore(t, "if-mib:24")})
			p := newPoller(t, tc.opts...)
			setFaults(t, f, 1, tc.faults)
			got, err := walkColumns(t, p, target(f, 1), cols)
			require.NoError(t, err)
			want := perColumn(t, p, target(f, 1), cols)
			for i, c := range cols {
				assert.Equal(t, canon(want[i]), canon(got[i]), "column %s", c)
			}
			if tc.faults.EndOfMib != nil {
				assert.Len(t, got[0], 12, "ifInOctets ends where the view does")
				assert.Len(t, got[1], 24, "ifDescr lies before the end")
				assert.Empty(t, got[2], "ifOutOctets lies past it")
			} else {
				assert.Len(t, got[0], 24)
				assert.Positive(t, f.AgentStats(1).Truncated)
			}
		})
	}
}

func TestBulkWalkColumnsFailures(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 4})
	setFaults(t, f, 1, simagent.Faults{Loop: &simagent.Loop{After: ".1.3.6.1.2.1.2.2.1.16.5", Rewind: ".1.3.6.1.2.1.2.2.1.16.2"}})
	setFaults(t, f, 2, simagent.Faults{ErrorStatus: &simagent.ErrorStatus{Status: "genErr"}})
	setFaults(t, f, 3, simagent.Faults{ErrorStatus: &simagent.ErrorStatus{Status: "tooBig"}})
	p := newPoller(t, WithDegrade(0, 1))
	cols := []OID{oidIfInOctets, oidIfOutOctets}

	_, err := walkColumns(t, p, target(f, 1), cols)
	var ni *NotIncreasingError
	require.ErrorAs(t, err, &ni, "a looping column fails the walk, never ends it")
	assert.ErrorIs(t, err, ErrOIDNotIncreasing)

	_, err = walkColumns(t, p, target(f, 2), cols)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StatusGenErr, se.Status)

	_, err = walkColumns(t, p, target(f, 3), cols)
	require.ErrorIs(t, err, ErrTooBig)

	stop := fmt.Errorf("enough")
	n := 0
	err = p.BulkWalkColumns(ctxTimeout(t, 10*time.Second), target(f, 0), cols, func(int, Varbind) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)

	for _, bad := range [][]OID{nil, make([]OID, 256)} {
		err := p.BulkWalkColumns(ctxTimeout(t, 10*time.Second), target(f, 0), bad, func(int, Varbind) error { return nil })
		require.ErrorIs(t, err, ErrBadTarget, "%d columns", len(bad))
	}
}

// TestBulkWalkColumnsAgainstNetSNMP walks columns of net-snmp's own
// ifTable and system group and compares with snmpbulkwalk of each.
func TestBulkWalkColumnsAgainstNetSNMP(t *testing.T) {
	tg := startSnmpd(t)
	p := newPoller(t)
	cols := []OID{oidIfDescr, oidSystem, oidIfInOctets}
	got, err := walkColumns(t, p, tg, cols)
	require.NoError(t, err)
	for i, c := range cols {
		out, err := netsnmptest.Run(t, "snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Oe", "-Ot", "-t", "5", "-r", "2", tg.Addr, c.String())
		require.NoError(t, err)
		want := parseNetSNMP(t, out)
		require.NotEmpty(t, want, "snmpd has %s", c)
		compareNetSNMP(t, want, fromPoller(got[i]))
	}
}

// TestWalkedVarbindsOutliveLaterWalks: walks decode every response into
// one reused array; what they handed on (names, values, octet strings)
// must stay as it was through later walks, in several responses and in
// one, of either kind.
func TestWalkedVarbindsOutliveLaterWalks(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2, Store: profileStore(t, "if-mib:24")})
	p := newPoller(t, WithMaxRepetitions(7)) // several responses a walk
	ctx := ctxTimeout(t, time.Minute)
	walked, err := p.BulkWalkAll(ctx, target(f, 0), oidIfMIB)
	require.NoError(t, err)
	cols, err := walkColumns(t, p, target(f, 1), []OID{oidIfDescr, oidIfInOctets})
	require.NoError(t, err)
	want := canon(walked)
	wantCols := [][]string{canon(cols[0]), canon(cols[1])}
	require.Equal(t, agentData(t, f, 0, oidIfMIB, false), want)
	for range 3 {
		_, err := p.BulkWalkAll(ctx, target(f, 1), oidIfMIB)
		require.NoError(t, err)
		_, err = walkColumns(t, p, target(f, 0), []OID{oidIfDescr, oidIfOutOctets})
		require.NoError(t, err)
	}
	assert.Equal(t, want, canon(walked), "a walk's varbinds changed under later walks")
	assert.Equal(t, wantCols, [][]string{canon(cols[0]), canon(cols[1])}, "a column walk's varbinds changed under later walks")
}
