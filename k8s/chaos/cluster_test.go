package chaos_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/snmpchaos/snmpchaos/k8s/chaos"
	"github.com/snmpchaos/snmpchaos/k8s/k8stest"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

const ns = "snmpchaos-test"

// watcher records, through an API watch, which Chaos objects of a run
// exist: the test's view of the API server, apart from the client that
// creates and deletes them.
type watcher struct {
	mu      sync.Mutex
	live    map[string]bool
	seen    map[string]bool
	changed chan struct{}
	errs    []string
}

func watchRun(t *testing.T, e *k8stest.Env, run string, list client.ObjectList) *watcher {
	t.Helper()
	w := &watcher{live: map[string]bool{}, seen: map[string]bool{}, changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	watchOnce := func() (watch.Interface, error) {
		return e.Client.Watch(ctx, list, client.InNamespace(ns), client.MatchingLabels{chaos.LabelRun: run})
	}
	wi, err := watchOnce()
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		// A watch the apiserver ends is made again; the new one starts
		// with an ADDED event for every object that exists.
		for ctx.Err() == nil {
			for ev := range wi.ResultChan() {
				o, ok := ev.Object.(client.Object)
				if !ok || ev.Type == watch.Error {
					w.mu.Lock()
					w.errs = append(w.errs, fmt.Sprintf("%s %T %v", ev.Type, ev.Object, ev.Object))
					w.mu.Unlock()
					continue
				}
				w.mu.Lock()
				switch ev.Type {
				case watch.Added, watch.Modified:
					w.live[o.GetName()], w.seen[o.GetName()] = true, true
				case watch.Deleted:
					delete(w.live, o.GetName())
				}
				w.mu.Unlock()
				select {
				case w.changed <- struct{}{}:
				default:
				}
			}
			if ctx.Err() != nil {
				return
			}
			w.mu.Lock()
			w.live = map[string]bool{}
			w.mu.Unlock()
			for {
				if wi, err = watchOnce(); err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(100 * time.Millisecond) // the apiserver is busy: try again
			}
			if err != nil {
				return
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() }) // the cancelled context ends the watch
	return w
}

func (w *watcher) names(m map[string]bool) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// waitFor waits until cond holds of the live and seen objects.
func (w *watcher) waitFor(t *testing.T, what string, cond func(live, seen []string) bool) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for !cond(w.names(w.live), w.names(w.seen)) {
		select {
		case <-w.changed:
		case <-deadline:
			w.mu.Lock()
			errs := w.errs
			w.mu.Unlock()
			t.Fatalf("%s: live %v, seen %v, watch errors %v", what, w.names(w.live), w.names(w.seen), errs)
		}
	}
}

func equal(want ...string) func(live, _ []string) bool {
	sort.Strings(want)
	return func(live, _ []string) bool { return strings.Join(live, ",") == strings.Join(want, ",") }
}

// TestPhasesAgainstAPIServer runs netns-flap, in k8s mode, through a real
// kube-apiserver with Chaos Mesh's CRDs and webhooks: the site pods are
// created, each phase's experiments are built, injected at the phase's
// start and recovered at its end as the harness does, and a watch checks
// at every boundary that exactly the phase's objects exist, as the
// webhooks and the CRD schema left them; an interrupted phase and a
// killed run leave nothing after recovery and Cleanup.
func TestPhasesAgainstAPIServer(t *testing.T) {
	e := k8stest.Start(t)
	ctx := t.Context()
	require.NoError(t, e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metaName(ns)}))

	sc, err := scenarios.Bundled("netns-flap")
	require.NoError(t, err)
	sc, err = sc.InMode(scenarios.ModeK8s)
	require.NoError(t, err)
	sc = sc.Shortened()
	// A flap short enough for a few cycles in the test's phase.
	sc.Phases[1].Kernel[0].Flap = &scenarios.KernelFlap{Down: scenarios.Duration(300 * time.Millisecond), Up: scenarios.Duration(300 * time.Millisecond), Cycles: 3}
	sc.Phases[2].Kernel = []scenarios.KernelFault{
		{Site: 0, PodRestart: &scenarios.KernelPodRestart{}},
		{Site: 1, Bandwidth: &scenarios.KernelBandwidth{Rate: 1_000_000}},
	}

	const runID = "netns-flap-t1"
	spec := pods.Spec{Run: runID, Namespace: ns, Token: "secret-token", Seed: 7}
	sitePods, err := spec.Build(sc)
	require.NoError(t, err)
	require.Len(t, sitePods, 2)
	require.NoError(t, pods.Create(ctx, e.Client, sitePods))

	r := chaos.Run{ID: runID, Namespace: ns, Harness: map[string]string{"app.kubernetes.io/name": "snmpchaos-harness"}}
	for i := range sitePods {
		r.Sites = append(r.Sites, pods.SiteLabels(runID, i))
	}
	cl := chaos.NewClient(e.Client, nil)
	nw := watchRun(t, e, runID, &v1alpha1.NetworkChaosList{})
	pw := watchRun(t, e, runID, &v1alpha1.PodChaosList{})

	var downs, ups sync.WaitGroup
	phases := make([][]*chaos.Handle, len(sc.Phases))
	for i, ph := range sc.Phases {
		for j, kf := range ph.Kernel {
			ex, err := r.Build(ctx, i, ph.Name, j, kf, ph.Duration.D())
			require.NoError(t, err)
			var on func(bool, time.Time)
			if ex.Flap != nil {
				downs.Add(3)
				ups.Add(3)
				on = func(up bool, _ time.Time) {
					if up {
						ups.Done()
					} else {
						downs.Done()
					}
				}
			}
			phases[i] = append(phases[i], cl.Handle(ex, on))
		}
	}

	// Phase 0 (steady): nothing.
	require.Empty(t, phases[0])
	assert.Empty(t, nw.names(nw.live))

	// Phase 1: the flap's partitions come and go, the drop stays.
	for _, h := range phases[1] {
		require.NoError(t, h.Inject(ctx))
	}
	loss := runID + "-p1-1-loss"
	nw.waitFor(t, "phase 1 started", func(live, _ []string) bool { return contains(live, loss) && contains(live, runID+"-p1-0-partition-c0") })
	downs.Wait()
	ups.Wait()
	nw.waitFor(t, "three flap cycles", func(live, seen []string) bool {
		return contains(seen, runID+"-p1-0-partition-c2") && strings.Join(live, ",") == loss
	})
	var got v1alpha1.NetworkChaos
	require.NoError(t, e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: loss}, &got))
	assert.Equal(t, "5", got.Spec.Loss.Loss)
	assert.Equal(t, v1alpha1.From, got.Spec.Direction)
	assert.Equal(t, "site 1: drop 5%", got.Annotations[chaos.AnnotationFault])
	for _, h := range phases[1] {
		require.NoError(t, h.Recover(ctx))
	}
	nw.waitFor(t, "phase 1 ended", equal())

	// Phase 2: a pod restart and a bandwidth limit, then an interrupt:
	// recovery runs as on SIGINT and leaves nothing.
	for _, h := range phases[2] {
		require.NoError(t, h.Inject(ctx))
	}
	nw.waitFor(t, "phase 2 started", equal(runID+"-p2-1-bandwidth"))
	pw.waitFor(t, "phase 2 started", equal(runID+"-p2-0-restart"))
	var pc v1alpha1.PodChaos
	require.NoError(t, e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: runID + "-p2-0-restart"}, &pc))
	assert.Equal(t, v1alpha1.ContainerKillAction, pc.Spec.Action)
	interrupted, cancel := context.WithCancel(ctx)
	cancel()
	for _, h := range phases[2] {
		require.NoError(t, h.Recover(context.WithoutCancel(interrupted)))
	}
	nw.waitFor(t, "after the interrupt", equal())
	pw.waitFor(t, "after the interrupt", equal())

	// A killed run: objects injected and never recovered, then Cleanup.
	for _, h := range phases[2] {
		require.NoError(t, h.Inject(ctx))
	}
	nw.waitFor(t, "killed run's objects", equal(runID+"-p2-1-bandwidth"))
	pw.waitFor(t, "killed run's objects", equal(runID+"-p2-0-restart"))
	left, err := cl.Leftovers(ctx, ns, runID)
	require.NoError(t, err)
	assert.Len(t, left, 2)
	n, err := cl.Cleanup(ctx, "", runID)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	nw.waitFor(t, "after Cleanup", equal())
	pw.waitFor(t, "after Cleanup", equal())
	np, err := pods.Cleanup(ctx, e.Client, ns, runID)
	require.NoError(t, err)
	assert.Equal(t, 2, np)

	// Nothing of the run's is left in the API server.
	left, err = cl.Leftovers(ctx, "", "")
	require.NoError(t, err)
	assert.Empty(t, left)
	var pl corev1.PodList
	require.NoError(t, e.Client.List(ctx, &pl, client.InNamespace(ns)))
	assert.Empty(t, pl.Items)
}

// TestServerSideChecks sends objects the API server must refuse: by the
// validating webhook (Chaos Mesh's code, called by the apiserver) and by
// the CRD schema; and shows the mutating webhook's defaults applied, and
// what only Check catches.
func TestServerSideChecks(t *testing.T) {
	e := k8stest.Start(t)
	ctx := t.Context()
	require.NoError(t, e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metaName(ns)}))
	base := func(name string) *v1alpha1.NetworkChaos {
		o := &v1alpha1.NetworkChaos{ObjectMeta: metaName(name)}
		o.Namespace = ns
		o.Labels = map[string]string{chaos.LabelRun: "r", chaos.LabelManagedBy: chaos.ManagedBy}
		o.Spec.Action = v1alpha1.LossAction
		o.Spec.Mode = v1alpha1.AllMode
		o.Spec.Selector.LabelSelectors = map[string]string{"a": "b"}
		o.Spec.Loss = &v1alpha1.LossSpec{Loss: "10"}
		return o
	}
	// Defaults from the mutating webhook: direction, correlation, the
	// selector's namespace.
	o := base("defaulted")
	require.NoError(t, e.Client.Create(ctx, o))
	var got v1alpha1.NetworkChaos
	require.NoError(t, e.Client.Get(ctx, client.ObjectKeyFromObject(o), &got))
	assert.Equal(t, v1alpha1.To, got.Spec.Direction)
	assert.Equal(t, "0", got.Spec.Loss.Correlation)
	assert.Equal(t, []string{ns}, got.Spec.Selector.Namespaces)

	o = base("bad-loss")
	o.Spec.Loss.Loss = "abc"
	err := e.Client.Create(ctx, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "admission webhook", "the validating webhook refused it")

	o = base("bad-mode")
	o.Spec.Mode = "most"
	err = e.Client.Create(ctx, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec.mode", "the CRD schema refused it")

	o = base("loss-200")
	o.Spec.Loss.Loss = "200"
	require.Error(t, chaos.Check(ctx, o.DeepCopy()), "Check refuses it")
	require.NoError(t, e.Client.Create(ctx, o), "Chaos Mesh and the schema take it: why Check exists")
	require.NoError(t, e.Client.DeleteAllOf(ctx, &v1alpha1.NetworkChaos{}, client.InNamespace(ns)))
}

func metaName(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
