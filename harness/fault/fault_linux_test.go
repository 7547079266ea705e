//go:build linux

package fault

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// samples has one kernel fault of every kind a scenario can name, valid.
func samples() []scenarios.KernelFault {
	ms := func(n int) scenarios.Duration { return scenarios.Duration(time.Duration(n) * time.Millisecond) }
	return []scenarios.KernelFault{
		{Drop: &scenarios.KernelDrop{Prob: 0.5}},
		{Blackhole: &scenarios.KernelBlackhole{}},
		{Bandwidth: &scenarios.KernelBandwidth{Rate: 1 << 20}},
		{LinkDown: &scenarios.KernelLinkDown{}},
		{Flap: &scenarios.KernelFlap{Down: ms(50), Up: ms(50), Cycles: 1}},
		{Netem: &scenarios.KernelNetem{Delay: ms(10)}},
	}
}

// Every kind a scenario can name has a builder, registered once.
func TestKindsCoverTheScenarios(t *testing.T) {
	var names []string
	for _, k := range Kinds() {
		assert.NotContains(t, names, k.Name, "registered twice")
		assert.NotNil(t, k.New, k.Name)
		names = append(names, k.Name)
	}
	var kinds []string
	for _, kf := range samples() {
		require.NotEmpty(t, kf.Kind())
		kinds = append(kinds, kf.Kind())
	}
	slices.Sort(names)
	slices.Sort(kinds)
	assert.Equal(t, kinds, names)
}

// topology builds one site, as root; it skips elsewhere (CI=true as root
// fails instead).
func topology(t *testing.T) *netns.Topology {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("building kernel faults needs root (network namespaces); run `sudo make netns-test`")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	top, err := netns.Build(ctx, netns.Config{Sites: 1, Family: "scf"})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI runs as root but cannot build a topology: %v", err)
		}
		t.Skipf("cannot build a netns topology here: %v", err)
	}
	t.Cleanup(func() { assert.NoError(t, top.Close()) })
	return top
}

func TestNewBuildsEveryKind(t *testing.T) {
	top := topology(t)
	links := make(chan bool, 4)
	env := Env{Topology: top, OnLink: func(site int, up bool, _ time.Time) {
		assert.Equal(t, 0, site)
		links <- up
	}}
	for _, kf := range samples() {
		f, err := New(env, kf)
		require.NoError(t, err, kf.Kind())
		assert.NotEmpty(t, f.Name(), kf.Kind())
		_, counts := f.(Dropper)
		assert.Equal(t, kf.Drop != nil || kf.Blackhole != nil, counts, "%s: the nftables faults count their drops", kf.Kind())
	}

	drop, err := New(env, samples()[0])
	require.NoError(t, err)
	if drop.Available() {
		require.NoError(t, drop.Inject(t.Context()))
		n, err := drop.(Dropper).DroppedPackets()
		assert.NoError(t, err)
		assert.Zero(t, n, "no traffic, no drops")
		require.NoError(t, drop.Recover(t.Context()))
	}

	flap, err := New(env, samples()[4])
	require.NoError(t, err)
	require.NoError(t, flap.Inject(t.Context()))
	for _, want := range []bool{false, true} {
		select {
		case up := <-links:
			assert.Equal(t, want, up, "the flap reports its link going down, then up")
		case <-time.After(30 * time.Second):
			t.Fatal("the flap reported no link change")
		}
	}
	require.NoError(t, flap.Recover(t.Context()))

	_, err = New(env, scenarios.KernelFault{Site: 1, LinkDown: &scenarios.KernelLinkDown{}})
	assert.ErrorContains(t, err, "site 1 outside the 1 sites")
	_, err = New(env, scenarios.KernelFault{})
	assert.ErrorContains(t, err, "no fault set")
	_, err = New(env, scenarios.KernelFault{Drop: &scenarios.KernelDrop{Prob: 2}})
	assert.Error(t, err, "netns checks the spec")
}
