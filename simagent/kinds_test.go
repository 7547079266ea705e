package simagent

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordedSwitch is a small recording with the identity objects: sysName,
// two interfaces with MACs and a chassis serial number.
func recordedSwitch(t testing.TB) *mib.Store {
	t.Helper()
	rec := strings.Join([]string{
		"1.3.6.1.2.1.1.1.0|4|edge switch",
		"1.3.6.1.2.1.1.5.0|4|sw-lab",
		"1.3.6.1.2.1.2.2.1.1.1|2|1",
		"1.3.6.1.2.1.2.2.1.1.2|2|2",
		"1.3.6.1.2.1.2.2.1.6.1|4x|00127962f940",
		"1.3.6.1.2.1.2.2.1.6.2|4x|00127962f951",
		"1.3.6.1.2.1.47.1.1.1.1.11.1|4|FOC1234X0AB",
	}, "\n")
	s, err := mib.ParseSnmprec(strings.NewReader(rec), "switch.snmprec")
	require.NoError(t, err)
	return s
}

func mixedKinds(t testing.TB) []Kind {
	t.Helper()
	ifmib, err := mib.Profile("if-mib:24")
	require.NoError(t, err)
	sys, err := mib.Profile("system")
	require.NoError(t, err)
	return []Kind{
		{Name: "router", Store: ifmib, Share: 0.5},
		{Name: "switch", Store: recordedSwitch(t), Count: 200},
		{Name: "server", Store: sys},
	}
}

func TestMixedFleetKindsAndIdentity(t *testing.T) {
	const agents = 1000
	f := startFleet(t, Config{Listen: netip.MustParseAddrPort("127.18.0.1:0"), Agents: agents, Kinds: mixedKinds(t),
		Identity: Identity{On: true}, Seed: 42, Clock: frozen()})
	require.Equal(t, agents, f.Len())
	assert.Equal(t, []KindRange{{"router", 0, 500, 9 + 41*24}, {"switch", 500, 700, 7}, {"server", 700, 1000, 8}}, f.Kinds())
	for kind, want := range map[string]int{"router": 500, "switch": 200, "server": 300} {
		sel, err := ParseSelector("label=kind=" + kind)
		require.NoError(t, err)
		idx, err := f.Select(sel)
		require.NoError(t, err)
		assert.Len(t, idx, want, "label kind=%s", kind)
		for _, i := range idx {
			require.Equal(t, kind, f.Kind(i))
		}
	}
	// Walk sizes differ by kind, as real devices' do.
	assert.Len(t, f.Snapshot(0), 9+41*24)
	assert.Len(t, f.Snapshot(600), 7)
	assert.Len(t, f.Snapshot(999), 8)

	// A walk of sysName across the fleet: every agent its own name.
	names := map[string]int{}
	macs := map[string]int{}
	for i := range agents {
		g := &gosnmp.GoSNMP{Target: f.Addr(i).Addr().String(), Port: f.Addr(i).Port(), Community: "public",
			Version: gosnmp.Version2c, Timeout: 5 * time.Second, Retries: 2}
		require.NoError(t, g.Connect())
		r, err := g.Get([]string{".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.2.2.1.6.1", ".1.3.6.1.2.1.2.2.1.6.2"})
		_ = g.Conn.Close()
		require.NoError(t, err)
		name := string(r.Variables[0].Value.([]byte))
		if j, dup := names[name]; dup {
			t.Fatalf("agents %d and %d both answer sysName %q", j, i, name)
		}
		names[name] = i
		for _, v := range r.Variables[1:] {
			if b, ok := v.Value.([]byte); ok {
				k := fmt.Sprintf("% x", b)
				if j, dup := macs[k]; dup {
					t.Fatalf("agents %d and %d both answer ifPhysAddress %s", j, i, k)
				}
				macs[k] = i
			}
		}
		// What the wire says is what the agent's snapshot says.
		for _, e := range f.Snapshot(i) {
			if e.OID.String() == ".1.3.6.1.2.1.1.5.0" {
				require.Equal(t, name, string(e.Value.Content))
			}
		}
	}
	assert.Len(t, names, agents)
	assert.Equal(t, "sw-lab", string(f.Snapshot(500)[1].Value.Content[:6]), "derived from the recorded name")
	assert.Equal(t, 500*2+200*2, len(macs), "every MAC read differs")

	// Serial numbers: distinct per agent, the recorded one as their stem;
	// the OUI stays the recording's.
	serials := map[string]bool{}
	for i := 500; i < 700; i++ {
		for _, e := range f.Snapshot(i) {
			switch e.OID.String() {
			case ".1.3.6.1.2.1.47.1.1.1.1.11.1":
				require.True(t, bytes.HasPrefix(e.Value.Content, []byte("FOC1234X0AB-")), "%q", e.Value.Content)
				serials[string(e.Value.Content)] = true
			case ".1.3.6.1.2.1.2.2.1.6.1":
				require.Equal(t, []byte{0x00, 0x12, 0x79}, e.Value.Content[:3])
			}
		}
	}
	assert.Len(t, serials, 200)

	// Deterministic from the seed: a second fleet with the same seed
	// answers the same identities, another seed other MACs and serials.
	g := startFleet(t, Config{Listen: netip.MustParseAddrPort("127.18.8.1:0"), Agents: agents, Kinds: mixedKinds(t),
		Identity: Identity{On: true}, Seed: 42, Clock: frozen()})
	h := startFleet(t, Config{Listen: netip.MustParseAddrPort("127.18.16.1:0"), Agents: agents, Kinds: mixedKinds(t),
		Identity: Identity{On: true}, Seed: 43, Clock: frozen()})
	assert.Equal(t, f.Snapshot(650), g.Snapshot(650))
	assert.NotEqual(t, f.Snapshot(650), h.Snapshot(650))
}

func TestKindsConfigErrors(t *testing.T) {
	s := testStore(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"store and kinds", Config{Store: s, Kinds: []Kind{{Store: s, Count: 1}}}, "give Store or Kinds, not both"},
		{"counts over the fleet", Config{Agents: 3, Kinds: []Kind{{Name: "a", Store: s, Count: 2}, {Name: "b", Store: s, Count: 2}}}, "the kinds take 4 agents, the fleet has 3"},
		{"count and share", Config{Agents: 3, Kinds: []Kind{{Store: s, Count: 2, Share: 0.5}}}, "not both"},
		{"same name", Config{Kinds: []Kind{{Store: s, Count: 2}, {Store: s, Count: 1}}}, `name "test" taken by Kinds[0]`},
		{"share without agents", Config{Kinds: []Kind{{Store: s, Share: 0.5}}}, "a share needs Agents"},
		{"no store", Config{Kinds: []Kind{{Count: 1}}}, "Kinds[0]: Store is required"},
		{"bad template", Config{Store: s, Identity: Identity{On: true, SysName: "{name}-{index}"}}, "unknown field {name}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			require.ErrorIs(t, err, ErrConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	c := Config{Kinds: []Kind{{Name: "a", Store: s, Count: 2}, {Name: "b", Store: s}}, Agents: 5}
	require.NoError(t, c.Validate())
}
