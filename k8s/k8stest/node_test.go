package k8stest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/snmpchaos/snmpchaos/k8s/k8stest"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// TestNodeRunsASitePod starts a real node (containerd, kubelet,
// kube-scheduler, a CNI bridge) against the apiserver, runs one k8s-mode
// site pod on it until it is ready with an address of the node's pod
// range, deletes it, and checks that containerd holds nothing of it and
// that Stop leaves nothing on the host: no process, link, address,
// directory, cgroup or log link of it, none of kubelet's iptables chains,
// and no nftables table (ip/ip6 nat, filter, mangle) that was not there
// before the first node started (Leftovers; node_tables_test.go checks
// the deleting and keeping of tables in a namespace of its own).
func TestNodeRunsASitePod(t *testing.T) {
	k8stest.NeedNode(t)
	e := k8stest.Start(t)
	ctx := t.Context()
	im, err := k8stest.SimagentImage(ctx, t.TempDir(), pods.DefaultImage)
	require.NoError(t, err)
	n := k8stest.StartNode(t, e, im)
	const ns = "snmpchaos-node"
	require.NoError(t, e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metaName(ns)}))

	sc, err := scenarios.Bundled("netns-flap")
	require.NoError(t, err)
	sc, err = sc.InMode(scenarios.ModeK8s)
	require.NoError(t, err)
	sc = sc.Shortened()
	ps, err := pods.Spec{Run: "node-test", Namespace: ns, Token: "t0ken-for-the-test", Seed: 1}.Build(sc)
	require.NoError(t, err)
	require.NoError(t, pods.Create(ctx, e.Client, ps))
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	sites, err := pods.WaitReady(wctx, e.Client, ps, 0)
	require.NoError(t, err)
	require.Len(t, sites, 2)
	for _, s := range sites {
		assert.True(t, n.Pods.Contains(s.Addr), "%s has %s, outside the node's pod range %s", s.Pod, s.Addr, n.Pods)
	}
	ids, err := n.Containers(ctx)
	require.NoError(t, err)
	assert.Len(t, ids, 4, "two sandboxes and two simagent containers: %v", ids)

	require.NoError(t, pods.Delete(ctx, e.Client, ps))
	require.NoError(t, n.WaitNoContainers(ctx, 4*time.Minute))
	require.NoError(t, n.Stop())
	assert.Empty(t, n.Leftovers())
}
