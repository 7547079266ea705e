package pods_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/k8s/chaos"
	"github.com/snmpchaos/snmpchaos/k8s/k8smode"
	"github.com/snmpchaos/snmpchaos/k8s/k8stest"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const ns = "snmpchaos-run"

// onNode is a short k8s-mode scenario: two sites of 20 agents; in the
// middle phase site 0's agents blackhole every request (an agent fault,
// through the pods' control APIs) and the kernel faults become Chaos
// objects: site 0's link flaps, site 1 loses 5% and its container is
// killed once.
const onNode = `version: 1
name: k8s-node
mode: k8s
fleet:
  sites: [{agents: 20, labels: {role: dark}}, {agents: 20}]
  profile: if-mib:4
poller:
  timeout: 500ms
  retries: 1
load:
  interval: 500ms
  deadline: 10s
  concurrency: 64
  ops:
    - kind: get
      weight: 3
      oids: [.1.3.6.1.2.1.1.3.0, .1.3.6.1.2.1.1.5.0]
    - kind: bulkwalk
      weight: 1
      root: .1.3.6.1.2.1.2.2.1.10
phases:
  - name: calm
    duration: 2s
    expect: {minSuccess: 0.95}
  - name: faults
    duration: 5s
    faults:
      - selector: {label: role=dark}
        faults: {blackhole: {}}
    kernel:
      - {site: 0, flap: {down: 800ms, up: 1200ms}}
      - {site: 1, drop: {prob: 0.05}}
      - {site: 1, podRestart: {}}
    expect: {minSuccess: 0.2}
  - name: back
    duration: 3s
    expect: {minSuccess: 0.95, recovery: true}
`

// TestRunOnANode runs a k8s-mode scenario through harness.Run against a
// real apiserver and a real node (containerd, kubelet, kube-scheduler, a
// CNI bridge on 198.19.240.0/20): the site pods are scheduled, run the
// simagent image and become ready; pollerlib polls their agents at the
// pods' addresses; the agent fault reaches the agents through the pods'
// control APIs (site 0's polls fail in that phase, and only there); each
// phase's Chaos objects exist while it runs and are deleted after it. No
// Chaos Mesh controller or daemon runs here, so the objects inject
// nothing: the flap, loss and container kill take effect only in kind
// (.github/workflows/kind-chaos.yml). Then a run interrupted in the
// faulty phase. After each, nothing of the run is left in the API server
// or in containerd; after the node stops, nothing is left on the host.
func TestRunOnANode(t *testing.T) {
	k8stest.NeedNode(t)
	e := k8stest.Start(t)
	ctx := t.Context()
	im, err := k8stest.SimagentImage(ctx, t.TempDir(), pods.DefaultImage)
	require.NoError(t, err)
	n := k8stest.StartNode(t, e, im)
	require.NoError(t, e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	sc, err := scenarios.Parse("k8s-node.yaml", []byte(onNode))
	require.NoError(t, err)
	// The harness's own client, as snmpchaos run makes it (client-go's
	// default 5 requests a second would throttle a flap's calls).
	cfg := rest.CopyConfig(e.Config)
	cfg.QPS, cfg.Burst = 50, 100
	hc, err := client.New(cfg, client.Options{Scheme: e.Scheme})
	require.NoError(t, err)
	k := k8smode.Cluster{Client: hc, Namespace: ns, ReadyTimeout: 3 * time.Minute}

	t.Run("full", func(t *testing.T) {
		w := watchChaos(t, e)
		p, err := harness.NewPoller("pollerlib", harness.SettingsFor(sc))
		require.NoError(t, err)
		rep, err := harness.Run(ctx, sc, p, harness.WithK8s(k), harness.WithSeed(3))
		require.NoError(t, err)
		for _, inv := range rep.Invariants {
			assert.True(t, inv.Pass, "invariant %s: %s %v", inv.Name, inv.Summary, inv.Evidence)
		}
		require.Len(t, rep.Sites, 2)
		for i, s := range rep.Sites {
			assert.Truef(t, strings.HasPrefix(s.Prefix, prefixAddr(n)), "site %d at %s, in the node's pod range %s", i, s.Prefix, n.Pods)
		}
		require.Len(t, rep.Phases, 3)
		calm, faults, back := rep.Phases[0], rep.Phases[1], rep.Phases[2]
		assert.GreaterOrEqual(t, calm.Success, 0.95, "calm: %+v", calm)
		assert.GreaterOrEqual(t, back.Success, 0.95, "back: %+v", back)
		// The blackhole went to site 0's pod over its control API: about
		// half the polls fail, all by timing out.
		assert.Less(t, faults.Success, 0.75, "faults: %+v", faults)
		assert.Positive(t, faults.Errors["timeout"], "faults: %+v", faults.Errors)
		assert.Len(t, faults.Apply, 2, "both pods confirmed the phase's faults")

		run := w.run()
		require.NotEmpty(t, run, "no Chaos object seen")
		seen := w.names()
		for _, want := range []string{"-p1-0-partition-c0", "-p1-0-partition-c1", "-p1-1-loss", "-p1-2-restart"} {
			assert.Contains(t, seen, run+want)
		}
		for _, name := range seen {
			assert.Contains(t, name, run+"-p1-", "only the faulty phase has kernel faults")
		}
		assert.True(t, w.together(run+"-p1-1-loss", run+"-p1-2-restart"), "the phase's objects existed at once")
		assert.Empty(t, w.live(), "every Chaos object was deleted")
		kinds := map[string]int{}
		for _, ev := range rep.KernelEvents {
			kinds[ev.Kind]++
		}
		assert.Equal(t, 3, kinds[harness.KernelInject], "%v", rep.KernelEvents)
		assert.Equal(t, 3, kinds[harness.KernelRecover], "%v", rep.KernelEvents)
		assert.GreaterOrEqual(t, kinds[harness.KernelLinkDown], 2, "%v", rep.KernelEvents)
		requireNothingLeft(t, e, n)
	})

	t.Run("interrupted", func(t *testing.T) {
		w := watchChaos(t, e)
		rctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		var wg sync.WaitGroup
		var at time.Time
		wg.Go(func() {
			// Interrupt once the faulty phase's objects are in.
			if w.waitFor(rctx, func(live []string) bool { return anySuffix(live, "-p1-1-loss") }) {
				at = time.Now()
				cancel(errors.New("interrupted by the test"))
			}
		})
		p, err := harness.NewPoller("pollerlib", harness.SettingsFor(sc))
		require.NoError(t, err)
		rep, err := harness.Run(rctx, sc, p, harness.WithK8s(k), harness.WithSeed(4))
		cancel(nil)
		wg.Wait()
		if rep != nil {
			t.Logf("interrupted at %v; phases %+v", at.Sub(rep.Started), rep.Phases)
		}
		require.Error(t, err)
		assert.Contains(t, w.names(), w.run()+"-p1-1-loss", "the run was interrupted in the faulty phase")
		assert.Empty(t, w.live(), "every Chaos object was deleted")
		requireNothingLeft(t, e, n)
	})

	require.NoError(t, n.Stop())
	assert.Empty(t, n.Leftovers(), "the node left these on the host")
}

// requireNothingLeft checks that no pod or Chaos object of any run is in
// the namespace, and waits until containerd holds no container or sandbox.
func requireNothingLeft(t *testing.T, e *k8stest.Env, n *k8stest.Node) {
	t.Helper()
	ctx := t.Context()
	left, err := pods.Leftovers(ctx, e.Client, ns, "")
	require.NoError(t, err)
	assert.Empty(t, left, "pods")
	var pl corev1.PodList
	require.NoError(t, e.Client.List(ctx, &pl, client.InNamespace(ns)))
	assert.Empty(t, pl.Items, "pods")
	objs, err := chaos.NewClient(e.Client, nil).Leftovers(ctx, ns, "")
	require.NoError(t, err)
	assert.Empty(t, objs, "Chaos objects")
	require.NoError(t, n.WaitNoContainers(ctx, 4*time.Minute))
}

func prefixAddr(n *k8stest.Node) string {
	s := n.Pods.Addr().String()
	return s[:strings.LastIndexByte(s, '.')+1]
}

func anySuffix(names []string, suffix string) bool {
	for _, n := range names {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// chaosWatch records, through API watches of NetworkChaos and PodChaos in
// ns, which objects exist and which ever did.
type chaosWatch struct {
	mu      sync.Mutex
	liveSet map[string]bool
	seen    map[string]bool
	runID   string
	// pairs records which objects were live at the same time.
	pairs   map[[2]string]bool
	changed chan struct{}
}

func watchChaos(t *testing.T, e *k8stest.Env) *chaosWatch {
	t.Helper()
	w := &chaosWatch{liveSet: map[string]bool{}, seen: map[string]bool{}, pairs: map[[2]string]bool{}, changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, list := range []client.ObjectList{&v1alpha1.NetworkChaosList{}, &v1alpha1.PodChaosList{}} {
		watchOnce := func() (watch.Interface, error) {
			return e.Client.Watch(ctx, list, client.InNamespace(ns), client.MatchingLabels{chaos.LabelManagedBy: chaos.ManagedBy})
		}
		wi, err := watchOnce()
		require.NoError(t, err)
		wg.Go(func() {
			// A watch the apiserver ends (its watch cache behind etcd on
			// a loaded machine: "Too large resource version") is made
			// again; the new one starts with an ADDED event for every
			// object that exists.
			for ctx.Err() == nil {
				for ev := range wi.ResultChan() {
					if o, ok := ev.Object.(client.Object); ok && ev.Type != watch.Error {
						w.event(ev.Type, o)
					}
				}
				for ctx.Err() == nil {
					if wi, err = watchOnce(); err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return w
}

func (w *chaosWatch) event(typ watch.EventType, o client.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	name := o.GetName()
	switch typ {
	case watch.Added, watch.Modified:
		w.liveSet[name], w.seen[name] = true, true
		w.runID = o.GetLabels()[chaos.LabelRun]
		for other := range w.liveSet {
			w.pairs[[2]string{name, other}], w.pairs[[2]string{other, name}] = true, true
		}
	case watch.Deleted:
		delete(w.liveSet, name)
	}
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func sorted(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (w *chaosWatch) names() []string { w.mu.Lock(); defer w.mu.Unlock(); return sorted(w.seen) }
func (w *chaosWatch) live() []string  { w.mu.Lock(); defer w.mu.Unlock(); return sorted(w.liveSet) }
func (w *chaosWatch) run() string     { w.mu.Lock(); defer w.mu.Unlock(); return w.runID }

func (w *chaosWatch) together(a, b string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pairs[[2]string{a, b}]
}

// waitFor waits until cond holds of the live objects, or ctx ends.
func (w *chaosWatch) waitFor(ctx context.Context, cond func(live []string) bool) bool {
	for !cond(w.live()) {
		select {
		case <-w.changed:
		case <-ctx.Done():
			return false
		}
	}
	return true
}
