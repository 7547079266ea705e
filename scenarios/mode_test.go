package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestK8sMode(t *testing.T) {
	y := strings.ReplaceAll(netnsBase, "KERNEL", `[{site: 0, podRestart: {}}, {site: 1, netem: {delay: 5ms, duplicate: 0.01, corrupt: 0.02}}]`)
	y = strings.ReplaceAll(y, "mode: netns", "mode: k8s")
	sc, err := Parse("k.yaml", []byte(y))
	require.NoError(t, err)
	assert.True(t, sc.IsK8s())
	assert.True(t, sc.HasSites())
	assert.False(t, sc.IsNetns())
	assert.Equal(t, 40, sc.Fleet.Agents)
	assert.Equal(t, "podRestart", sc.Phases[0].Kernel[0].Kind())
	assert.Equal(t, "site 0: pod restart", sc.Phases[0].Kernel[0].String())
	assert.Equal(t, "site 1: netem delay 5ms jitter 0s loss 0% duplicate 1% corrupt 2%", sc.Phases[0].Kernel[1].String())
}

func TestInMode(t *testing.T) {
	flap, err := Bundled("netns-flap")
	require.NoError(t, err)
	k, err := flap.InMode(ModeK8s)
	require.NoError(t, err)
	assert.True(t, k.IsK8s())
	assert.True(t, flap.IsNetns(), "the original is left alone")
	assert.Equal(t, flap.Phases, k.Phases, "kernel faults carry over unchanged")
	assert.Equal(t, flap.Fleet.SiteAgents(), k.Fleet.SiteAgents())

	_, err = flap.InMode(ModeInProcess)
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "fleet.sites: sites need mode: netns or k8s (running in mode inprocess)")

	quick, err := Bundled("quickstart")
	require.NoError(t, err)
	kq, err := quick.InMode(ModeK8s)
	require.NoError(t, err)
	assert.Equal(t, []int{quick.Fleet.Agents}, kq.Fleet.SiteAgents(), "one site holds every agent")

	_, err = quick.InMode("pods")
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, `mode: unknown mode "pods"`)

	// A pod restart cannot leave k8s mode.
	y := strings.ReplaceAll(netnsBase, "KERNEL", `[{site: 0, podRestart: {}}]`)
	y = strings.ReplaceAll(y, "mode: netns", "mode: k8s")
	sc, err := Parse("k.yaml", []byte(y))
	require.NoError(t, err)
	_, err = sc.InMode(ModeNetns)
	assert.ErrorContains(t, err, "k.yaml: phases[0].kernel[0].podRestart: needs mode: k8s")
}
