package k8smode_test

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/snmpchaos/snmpchaos/harness/k8sapi"
	"github.com/snmpchaos/snmpchaos/k8s/chaos"
	"github.com/snmpchaos/snmpchaos/k8s/k8smode"
	"github.com/snmpchaos/snmpchaos/k8s/k8stest"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// inK8s is bundled scenario name, short, in k8s mode.
func inK8s(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Bundled(name)
	require.NoError(t, err)
	sc, err = sc.InMode(scenarios.ModeK8s)
	require.NoError(t, err)
	return sc.Shortened()
}

// Plan makes a pod per site, with the cluster's namespace and image (or
// the defaults) and a fresh token, and each phase's kernel faults as
// experiments of the run, without a cluster.
func TestPlan(t *testing.T) {
	sc := inK8s(t, "netns-flap")
	for _, c := range []struct {
		cluster   k8smode.Cluster
		ns, image string
	}{
		{k8smode.Cluster{}, "snmpchaos", pods.DefaultImage},
		{k8smode.Cluster{Namespace: "chaos-lab", Image: "registry.example/simagent:v1"}, "chaos-lab", "registry.example/simagent:v1"},
	} {
		run := k8smode.RunID(sc.Name)
		assert.Regexp(t, `^netns-flap-[0-9a-f]{6}$`, run)
		p, err := c.cluster.Plan(t.Context(), sc, run, 7)
		require.NoError(t, err)
		assert.Equal(t, run, p.RunID)
		assert.Regexp(t, `^[0-9a-f]{32}$`, p.Token)
		require.Len(t, p.Pods, len(sc.Fleet.SiteAgents()))
		for i, pod := range p.Pods {
			assert.Equal(t, pods.PodName(run, i), pod.Name)
			assert.Equal(t, c.ns, pod.Namespace)
			assert.Equal(t, c.image, pod.Spec.Containers[0].Image)
			args := pod.Spec.Containers[0].Args
			k := slices.Index(args, "--seed")
			require.Positive(t, k)
			assert.Equal(t, strconv.Itoa(7+i), args[k+1], "site %d's seed", i)
		}
		require.Len(t, p.Phases, len(sc.Phases))
		for i, ph := range sc.Phases {
			require.Len(t, p.Phases[i], len(ph.Kernel), "phase %s", ph.Name)
			for j, e := range p.Phases[i] {
				assert.Equal(t, ph.Kernel[j].Site, e.Site)
				for _, o := range e.Objects {
					assert.Equal(t, c.ns, o.GetNamespace())
					assert.Equal(t, run, o.GetLabels()[chaos.LabelRun])
				}
			}
		}
	}
	other, err := k8smode.Cluster{}.Plan(t.Context(), sc, "x-1", 7)
	require.NoError(t, err)
	p, err := k8smode.Cluster{}.Plan(t.Context(), sc, "x-1", 7)
	require.NoError(t, err)
	assert.NotEqual(t, other.Token, p.Token, "a token per run")
	assert.Regexp(t, regexp.MustCompile(`^run-[0-9a-f]{6}$`), k8smode.RunID("--"))
	assert.Regexp(t, `^abcdefghijklmnopqrst-[0-9a-f]{6}$`, k8smode.RunID("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
}

// What k8s mode cannot run is refused as an invalid scenario naming the
// field.
func TestPlanRefuses(t *testing.T) {
	netns, err := scenarios.Bundled("netns-flap")
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		sc   *scenarios.Scenario
		want string
	}{
		{"not k8s", netns, "scenario netns-flap is in mode netns, not k8s"},
		{"v3 users", inK8s(t, "v3-engine-reboot"), "fleet.v3Users: not in k8s mode yet"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := k8smode.Cluster{}.Plan(t.Context(), c.sc, "x-1", 1)
			require.ErrorIs(t, err, scenarios.ErrInvalid)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// Start against a real API server without a node: the site pods are
// created but never run, so Start gives up after ReadyTimeout and leaves
// no pod and no Chaos object behind; a scenario it cannot run creates
// nothing; a Cluster without a client is refused.
func TestStartLeavesNothingOnError(t *testing.T) {
	e := k8stest.Start(t)
	ctx := t.Context()
	const ns = "snmpchaos-k8smode"
	require.NoError(t, e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	env := k8sapi.Env{Seed: 1, Logger: slog.New(slog.DiscardHandler), OnLink: func(int, bool, string, time.Time) {}}
	c := k8smode.Cluster{Client: e.Client, Namespace: ns, ReadyTimeout: 3 * time.Second}
	nothingLeft := func(t *testing.T) {
		t.Helper()
		left, err := pods.Leftovers(ctx, e.Client, ns, "")
		require.NoError(t, err)
		assert.Empty(t, left, "site pods left")
		objs, err := chaos.NewClient(e.Client, env.Logger).Leftovers(ctx, ns, "")
		require.NoError(t, err)
		assert.Empty(t, objs, "Chaos objects left")
	}

	t.Run("not ready", func(t *testing.T) {
		sites, err := c.Start(ctx, inK8s(t, "netns-flap"), env)
		assert.Nil(t, sites)
		require.Error(t, err)
		assert.NotErrorIs(t, err, scenarios.ErrInvalid)
		assert.ErrorContains(t, err, "0 of 2 site pods ready")
		nothingLeft(t)
	})
	t.Run("invalid", func(t *testing.T) {
		_, err := c.Start(ctx, inK8s(t, "v3-engine-reboot"), env)
		require.ErrorIs(t, err, scenarios.ErrInvalid)
		nothingLeft(t)
	})
	t.Run("no client", func(t *testing.T) {
		_, err := k8smode.Cluster{Namespace: ns}.Start(context.Background(), inK8s(t, "netns-flap"), env)
		assert.ErrorContains(t, err, "Cluster.Client is nil")
	})
}
