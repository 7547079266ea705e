package simagent

import (
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFleetAnswersEveryAgentFromItsOwnAddress(t *testing.T) {
	f := startFleet(t, Config{Agents: 300, Clock: frozen()})
	require.LessOrEqual(t, f.Sockets(), 16, "sockets must not grow with agents")
	for _, i := range []int{0, 1, 254, 255, 256, 299} {
		g := client(t, f, i, gosnmp.Version2c)
		r, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
		require.NoError(t, err, "agent %d at %s", i, f.Addr(i))
		require.Len(t, r.Variables, 1)
		assert.Equal(t, []byte("agent"), r.Variables[0].Value)
		// gosnmp's connected socket only accepts replies from the agent's
		// own address, so getting one proves the source address is right.
	}
	st := f.Stats()
	assert.EqualValues(t, 6, st.Requests)
	assert.EqualValues(t, 6, st.Responses)
}

func TestWalkMatchesStore(t *testing.T) {
	for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		t.Run(v.String(), func(t *testing.T) {
			f := startFleet(t, Config{Agents: 2, Clock: frozen()})
			g := client(t, f, 1, v)
			var got []string
			walk := g.Walk
			if v == gosnmp.Version2c {
				walk = g.BulkWalk
			}
			require.NoError(t, walk(".1.3.6.1", func(p gosnmp.SnmpPDU) error {
				got = append(got, p.Name)
				return nil
			}))
			var want []string
			for _, e := range f.Snapshot(1) {
				if v == gosnmp.Version1 && e.Value.Tag == 0x46 {
					continue // v1 has no Counter64
				}
				want = append(want, e.OID.String())
			}
			assert.Equal(t, want, got)
		})
	}
}
