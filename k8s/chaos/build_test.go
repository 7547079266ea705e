package chaos

import (
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testRun() Run {
	return Run{
		ID: "netns-flap-1a2b", Namespace: "snmpchaos",
		Sites:   []map[string]string{{"snmpchaos.io/run": "netns-flap-1a2b", "snmpchaos.io/site": "0"}, {"snmpchaos.io/run": "netns-flap-1a2b", "snmpchaos.io/site": "1"}},
		Harness: map[string]string{"app.kubernetes.io/name": "snmpchaos-harness"},
	}
}

func d(s string) scenarios.Duration {
	v, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return scenarios.Duration(v)
}

func TestBuildMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kf     scenarios.KernelFault
		action string
		dir    v1alpha1.Direction
		check  func(t *testing.T, o *v1alpha1.NetworkChaos)
	}{
		{name: "drop to agents", kf: scenarios.KernelFault{Site: 1, Drop: &scenarios.KernelDrop{Prob: 0.05}}, action: "loss", dir: v1alpha1.From,
			check: func(t *testing.T, o *v1alpha1.NetworkChaos) {
				assert.Equal(t, "5", o.Spec.Loss.Loss)
				assert.Equal(t, "0", o.Spec.Loss.Correlation, "Chaos Mesh's default")
			}},
		{name: "drop from agents", kf: scenarios.KernelFault{Site: 0, Drop: &scenarios.KernelDrop{Prob: 0.5, Dir: scenarios.DirFromAgents}}, action: "loss", dir: v1alpha1.To},
		{name: "blackhole", kf: scenarios.KernelFault{Site: 0, Blackhole: &scenarios.KernelBlackhole{}}, action: "partition", dir: v1alpha1.Both,
			check: func(t *testing.T, o *v1alpha1.NetworkChaos) {
				assert.Equal(t, v1alpha1.DropPartitionBehavior, o.Spec.PartitionBehavior, "Chaos Mesh's default")
			}},
		{name: "link down", kf: scenarios.KernelFault{Site: 0, LinkDown: &scenarios.KernelLinkDown{}}, action: "partition", dir: v1alpha1.Both},
		{name: "bandwidth", kf: scenarios.KernelFault{Site: 0, Bandwidth: &scenarios.KernelBandwidth{Rate: 10_000_000}}, action: "bandwidth", dir: v1alpha1.Both,
			check: func(t *testing.T, o *v1alpha1.NetworkChaos) {
				b := o.Spec.Bandwidth
				assert.Equal(t, "10mbit", b.Rate)
				assert.Equal(t, uint32(12500), b.Buffer, "10 ms at 10 Mbit/s")
				assert.Equal(t, uint32(125000+12500), b.Limit, "100 ms of queue plus the bucket")
			}},
		{name: "netem delay", kf: scenarios.KernelFault{Site: 0, Netem: &scenarios.KernelNetem{Delay: d("50ms"), Jitter: d("5ms")}}, action: "delay", dir: v1alpha1.To,
			check: func(t *testing.T, o *v1alpha1.NetworkChaos) {
				assert.Equal(t, "50ms", o.Spec.Delay.Latency)
				assert.Equal(t, "5ms", o.Spec.Delay.Jitter)
			}},
		{name: "netem duplicate", kf: scenarios.KernelFault{Site: 0, Netem: &scenarios.KernelNetem{Duplicate: 0.01}}, action: "duplicate", dir: v1alpha1.To},
		{name: "netem corrupt", kf: scenarios.KernelFault{Site: 0, Netem: &scenarios.KernelNetem{Corrupt: 0.02, Dir: scenarios.DirBoth}}, action: "corrupt", dir: v1alpha1.Both},
		{name: "netem several", kf: scenarios.KernelFault{Site: 0, Netem: &scenarios.KernelNetem{Delay: d("5ms"), Loss: 0.1}}, action: "netem", dir: v1alpha1.To,
			check: func(t *testing.T, o *v1alpha1.NetworkChaos) {
				assert.Equal(t, "10", o.Spec.Loss.Loss)
				assert.Equal(t, "5ms", o.Spec.Delay.Latency)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testRun()
			e, err := r.Build(t.Context(), 1, "chaos", 0, tc.kf, 20*time.Second)
			require.NoError(t, err)
			require.Len(t, e.Objects, 1)
			o := e.Objects[0].(*v1alpha1.NetworkChaos)
			assert.Equal(t, v1alpha1.NetworkChaosAction(tc.action), o.Spec.Action)
			assert.Equal(t, tc.dir, o.Spec.Direction)
			assert.Equal(t, "netns-flap-1a2b-p1-0-"+tc.action, o.Name)
			assert.Equal(t, "snmpchaos", o.Namespace)
			assert.Equal(t, map[string]string{LabelManagedBy: ManagedBy, LabelRun: "netns-flap-1a2b", LabelPhase: "1", LabelSite: itoa(tc.kf.Site)}, o.Labels)
			assert.Equal(t, tc.kf.String(), o.Annotations[AnnotationFault])
			assert.Equal(t, r.Sites[tc.kf.Site], o.Spec.Selector.LabelSelectors)
			assert.Equal(t, []string{"snmpchaos"}, o.Spec.Selector.Namespaces)
			assert.Equal(t, v1alpha1.AllMode, o.Spec.Mode)
			require.NotNil(t, o.Spec.Target)
			assert.Equal(t, r.Harness, o.Spec.Target.Selector.LabelSelectors)
			require.NotNil(t, o.Spec.Duration)
			assert.Equal(t, "50s", *o.Spec.Duration, "the phase plus the grace")
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestBuildFlapAndRestart(t *testing.T) {
	r := testRun()
	e, err := r.Build(t.Context(), 1, "flap-and-drop", 0, scenarios.KernelFault{Site: 0, Flap: &scenarios.KernelFlap{Down: d("1s"), Up: d("2s"), Cycles: 3}}, 24*time.Second)
	require.NoError(t, err)
	assert.Empty(t, e.Objects)
	require.NotNil(t, e.Flap)
	assert.Equal(t, time.Second, e.Flap.Down)
	assert.Equal(t, 2*time.Second, e.Flap.Up)
	assert.Equal(t, 3, e.Flap.Cycles)
	c2 := e.Flap.CycleObject(2)
	assert.Equal(t, "netns-flap-1a2b-p1-0-partition-c2", c2.Name)
	assert.Equal(t, "31s", *c2.Spec.Duration, "one down window plus the grace")
	assert.Equal(t, "netns-flap-1a2b-p1-0-partition", e.Flap.Partition.Name, "CycleObject copies")

	e, err = r.Build(t.Context(), 2, "restart", 1, scenarios.KernelFault{Site: 1, PodRestart: &scenarios.KernelPodRestart{}}, 10*time.Second)
	require.NoError(t, err)
	require.Len(t, e.Objects, 1)
	p := e.Objects[0].(*v1alpha1.PodChaos)
	assert.Equal(t, v1alpha1.ContainerKillAction, p.Spec.Action)
	assert.Equal(t, []string{"simagent"}, p.Spec.ContainerNames)
	assert.Equal(t, r.Sites[1], p.Spec.Selector.LabelSelectors)
	assert.Nil(t, p.Spec.Duration, "a container kill is one-shot")
	assert.Equal(t, "netns-flap-1a2b-p2-1-restart", p.Name)
}

func TestBuildRefuses(t *testing.T) {
	r := testRun()
	_, err := r.Build(t.Context(), 0, "p", 0, scenarios.KernelFault{Site: 2, LinkDown: &scenarios.KernelLinkDown{}}, time.Second)
	assert.ErrorContains(t, err, "site 2 outside the run's 2 sites")

	r.Harness = nil
	_, err = r.Build(t.Context(), 0, "p", 0, scenarios.KernelFault{Site: 0, LinkDown: &scenarios.KernelLinkDown{}}, time.Second)
	assert.ErrorContains(t, err, "Run.Harness is empty")

	r = testRun()
	r.ID = "Bad_ID"
	_, err = r.Build(t.Context(), 0, "p", 0, scenarios.KernelFault{Site: 0, LinkDown: &scenarios.KernelLinkDown{}}, time.Second)
	assert.ErrorContains(t, err, `metadata.name "Bad_ID-p0-0-partition"`)

	r = testRun()
	_, err = r.Build(t.Context(), 0, "p", 0, scenarios.KernelFault{Site: 0, Drop: &scenarios.KernelDrop{Prob: 2}}, time.Second)
	assert.ErrorContains(t, err, `spec.loss.loss "200": want a percentage in [0, 100]`, "Chaos Mesh takes 200; the range check does not")
}

// TestCheck feeds objects that Chaos Mesh's own validation rejects, and
// objects it accepts that the range checks reject.
func TestCheck(t *testing.T) {
	good := func() *v1alpha1.NetworkChaos {
		e, err := testRun().Build(t.Context(), 0, "p", 0, scenarios.KernelFault{Site: 0, Drop: &scenarios.KernelDrop{Prob: 0.1}}, time.Second)
		require.NoError(t, err)
		return e.Objects[0].(*v1alpha1.NetworkChaos)
	}
	require.NoError(t, Check(t.Context(), good()))
	o := good()
	o.Spec.Selector.Namespaces = nil
	require.NoError(t, Check(t.Context(), o))
	assert.Equal(t, []string{"snmpchaos"}, o.Spec.Selector.Namespaces, "Chaos Mesh's default: the object's namespace")
	for _, tc := range []struct {
		name    string
		edit    func(o *v1alpha1.NetworkChaos)
		wantErr string
	}{
		// Chaos Mesh's own checks.
		{name: "loss not a number", edit: func(o *v1alpha1.NetworkChaos) { o.Spec.Loss.Loss = "abc" }, wantErr: "Chaos Mesh validation"},
		{name: "fixed percent 150", edit: func(o *v1alpha1.NetworkChaos) { o.Spec.Mode, o.Spec.Value = v1alpha1.FixedPercentMode, "150" }, wantErr: "Chaos Mesh validation"},
		{name: "bad duration", edit: func(o *v1alpha1.NetworkChaos) { s := "soon"; o.Spec.Duration = &s }, wantErr: "Chaos Mesh validation"},
		{name: "both without a target", edit: func(o *v1alpha1.NetworkChaos) { o.Spec.Target = nil }, wantErr: "Chaos Mesh validation"},
		// What Chaos Mesh lets through.
		{name: "loss 200", edit: func(o *v1alpha1.NetworkChaos) { o.Spec.Loss.Loss = "200" }, wantErr: `spec.loss.loss "200"`},
		{name: "negative correlation", edit: func(o *v1alpha1.NetworkChaos) { o.Spec.Loss.Correlation = "-1" }, wantErr: `spec.loss.correlation "-1"`},
		{name: "bad mode", edit: func(o *v1alpha1.NetworkChaos) { o.Spec.Mode = "most" }, wantErr: `spec.mode "most"`},
		{name: "bad action", edit: func(o *v1alpha1.NetworkChaos) { o.Spec.Action = "drop" }, wantErr: `spec.action "drop"`},
		{name: "every pod", edit: func(o *v1alpha1.NetworkChaos) { o.Spec.Selector.LabelSelectors = nil }, wantErr: "no labelSelectors or pods"},
		{name: "no run label", edit: func(o *v1alpha1.NetworkChaos) { delete(o.Labels, LabelRun) }, wantErr: "snmpchaos.io/run missing"},
		{name: "loss without parameters", edit: func(o *v1alpha1.NetworkChaos) { o.Spec.Loss = nil }, wantErr: "action loss without its parameters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.edit(o)
			if tc.name == "both without a target" {
				o.Spec.Direction = v1alpha1.Both
			}
			err := Check(t.Context(), o)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.wantErr)
			assert.Contains(t, err.Error(), "NetworkChaos snmpchaos/netns-flap-1a2b-p0-0-loss")
		})
	}

	p := &v1alpha1.PodChaos{}
	p.Name, p.Namespace, p.Labels = "x", "snmpchaos", map[string]string{LabelRun: "r"}
	p.Spec.Action = v1alpha1.ContainerKillAction
	p.Spec.Mode = v1alpha1.AllMode
	p.Spec.Selector.Namespaces = []string{"snmpchaos"}
	p.Spec.Selector.LabelSelectors = map[string]string{"a": "b"}
	assert.ErrorContains(t, Check(t.Context(), p), "Chaos Mesh validation", "container-kill without names")
	p.Spec.ContainerNames = []string{"simagent"}
	assert.NoError(t, Check(t.Context(), p))
}
