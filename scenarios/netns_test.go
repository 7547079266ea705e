package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const netnsBase = `version: 1
name: n
mode: netns
fleet:
  sites: [{agents: 30}, {agents: 10, labels: {role: x}}]
load:
  interval: 1s
  ops: [{kind: get, oids: [.1.3.6.1.2.1.1.3.0]}]
phases:
  - name: p
    duration: 2s
    kernel: KERNEL
`

func TestNetnsSchema(t *testing.T) {
	for _, tc := range []struct {
		name, mode, kernel string
		wantErr            string
	}{
		{name: "every kind", kernel: `[{site: 0, drop: {prob: 0.05}}, {site: 1, flap: {down: 1s, up: 2s}}, {site: 0, blackhole: {}}, {site: 0, bandwidth: {rate: 10mbit}}, {site: 1, netem: {delay: 5ms, loss: 0.1}}]`},
		{name: "link down", kernel: `[{site: 1, linkDown: {}}]`},
		{name: "bad prob", kernel: `[{site: 0, drop: {prob: 1.5}}]`, wantErr: "n.yaml:12: phases[0].kernel[0].drop.prob: must be in (0, 1]"},
		{name: "site out of range", kernel: `[{site: 2, linkDown: {}}]`, wantErr: "phases[0].kernel[0].site: site 2 outside the 2 site(s)"},
		{name: "two kinds", kernel: `[{site: 0, linkDown: {}, drop: {prob: 0.1}}]`, wantErr: "set one fault per entry, not drop and linkDown"},
		{name: "none", kernel: `[{site: 0}]`, wantErr: "set one of drop"},
		{name: "unknown key", kernel: `[{site: 0, flapp: {}}]`, wantErr: "n.yaml:12: phases[0].kernel[0].flapp: unknown field"},
		{name: "short flap", kernel: `[{site: 0, flap: {down: 1ms, up: 1s}}]`, wantErr: "phases[0].kernel[0].flap.down: required, at least 10ms"},
		{name: "slow rate", kernel: `[{site: 0, bandwidth: {rate: 1kbit}}]`, wantErr: "bandwidth.rate: required, at least 8kbit"},
		{name: "bad rate", kernel: `[{site: 0, bandwidth: {rate: fast}}]`, wantErr: "bandwidth.rate"},
		{name: "bad dir", kernel: `[{site: 0, drop: {prob: 0.1, dir: up}}]`, wantErr: `drop.dir: unknown direction "up"`},
		{name: "two link faults", kernel: `[{site: 0, linkDown: {}}, {site: 0, flap: {down: 1s, up: 1s}}]`, wantErr: "kernel[1]: site 0 already has a link fault"},
		{name: "in-process", mode: "inprocess", kernel: `[]`, wantErr: "fleet.sites: sites need mode: netns or k8s"},
		{name: "bad mode", mode: "pods", kernel: `[]`, wantErr: `mode: unknown mode "pods"`},
		{name: "pod restart in netns", kernel: `[{site: 0, podRestart: {}}]`, wantErr: "phases[0].kernel[0].podRestart: needs mode: k8s"},
		{name: "duplicate in netns", kernel: `[{site: 0, netem: {duplicate: 0.1}}]`, wantErr: "phases[0].kernel[0].netem.duplicate: needs mode: k8s"},
		{name: "corrupt out of range", kernel: `[{site: 0, netem: {corrupt: 2}}]`, wantErr: "phases[0].kernel[0].netem.corrupt: must be in [0, 1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.ReplaceAll(netnsBase, "KERNEL", tc.kernel)
			if tc.mode != "" {
				y = strings.ReplaceAll(y, "mode: netns", "mode: "+tc.mode)
			}
			sc, err := Parse("n.yaml", []byte(y))
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalid)
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.True(t, sc.IsNetns())
			assert.Equal(t, 40, sc.Fleet.Agents, "fleet.agents is the sites' sum")
		})
	}
}

func TestKernelFaultsNeedNetns(t *testing.T) {
	y := strings.ReplaceAll(strings.ReplaceAll(netnsBase, "mode: netns\n", ""), "  sites: [{agents: 30}, {agents: 10, labels: {role: x}}]", "  agents: 5")
	_, err := Parse("n.yaml", []byte(strings.ReplaceAll(y, "KERNEL", "[{site: 0, linkDown: {}}]")))
	assert.ErrorContains(t, err, "phases[0].kernel[0]: kernel faults need mode: netns")
}

func TestSiteAgentsScale(t *testing.T) {
	f := Fleet{Agents: 40, Sites: []Site{{Agents: 30}, {Agents: 10}}}
	assert.Equal(t, []int{30, 10}, f.SiteAgents())
	f.Agents = 9
	got := f.SiteAgents()
	assert.Equal(t, 9, got[0]+got[1])
	assert.Positive(t, got[1])
	f.Agents, f.Sites = 7, nil
	assert.Equal(t, []int{7}, f.SiteAgents())
}

func TestNetnsFlapBundled(t *testing.T) {
	sc, err := Bundled("netns-flap")
	require.NoError(t, err)
	assert.Equal(t, 4000, sc.Fleet.Agents)
	short := sc.Shortened()
	assert.Equal(t, []int{100, 100}, short.Fleet.SiteAgents())
	require.Len(t, sc.Phases[1].Kernel, 2)
	assert.Equal(t, "site 1: drop 5%", sc.Phases[1].Kernel[1].String())
	b, err := ParseBitrate("1.5mbit")
	require.NoError(t, err)
	assert.Equal(t, "1500kbit", b.String())
}
