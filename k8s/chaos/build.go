package chaos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Labels and annotations on every object snmpchaos creates in a cluster.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is LabelManagedBy's value: what Cleanup looks for.
	ManagedBy  = "snmpchaos"
	LabelRun   = "snmpchaos.io/run"
	LabelPhase = "snmpchaos.io/phase" // the phase's index
	LabelSite  = "snmpchaos.io/site"  // the site's index
	// AnnotationFault is the fault as the scenario's phase lists it.
	AnnotationFault = "snmpchaos.io/fault"
	// AnnotationPhase is the phase's name.
	AnnotationPhase = "snmpchaos.io/phase-name"
)

// DefaultGrace is added to an experiment's Chaos Mesh duration beyond the
// phase's length: the harness deletes the object when the phase ends, and
// Chaos Mesh recovers the fault by itself if the harness died first.
const DefaultGrace = 30 * time.Second

// defaultMTU sizes a bandwidth fault's bucket as netns mode does.
const defaultMTU = 1500

// Run is what every experiment of one run shares: where the pods are and
// which labels pick them.
type Run struct {
	// ID names the run: a label value, in every object's name and labels.
	ID string
	// Namespace holds the run's pods and experiments.
	Namespace string
	// Sites[i] are the labels of site i's simagent pods.
	Sites []map[string]string
	// Harness are the labels of the pod the poller runs in: the other end
	// of every network fault, so the kubelet's probes and DNS are left
	// alone.
	Harness map[string]string
	// Container is the simagent container's name (pod restarts kill it).
	Container string
	// Grace is added to each experiment's duration (default DefaultGrace).
	Grace time.Duration
}

// Experiment is one kernel fault of a phase as Chaos Mesh objects.
type Experiment struct {
	// Fault is the fault as the phase lists it, e.g. "site 1: drop 5%".
	Fault string
	// Kind is the scenario's fault kind ("drop", "flap", ...).
	Kind  string
	Site  int
	Phase int
	// Objects are created when the phase starts and deleted when it ends;
	// empty for a flap.
	Objects []client.Object
	// Flap is set for a flap: a partition created for every down window.
	Flap *Flap
}

// Flap is a flapping link as repeated partitions.
type Flap struct {
	Down, Up time.Duration
	// Cycles is how many down/up cycles (0: until the phase ends).
	Cycles int
	// Partition is the object each down window creates (with a name of
	// its own per cycle, see CycleObject).
	Partition *v1alpha1.NetworkChaos
}

// CycleObject is the partition of down window n (from 0), checked.
func (f *Flap) CycleObject(n int) *v1alpha1.NetworkChaos {
	o := f.Partition.DeepCopy()
	o.Name += "-c" + strconv.Itoa(n)
	return o
}

// Build turns kernel fault j of phase (index phase, name phaseName,
// lasting length) into an experiment whose objects passed Check.
func (r Run) Build(ctx context.Context, phase int, phaseName string, j int, kf scenarios.KernelFault, length time.Duration) (*Experiment, error) {
	if kf.Site < 0 || kf.Site >= len(r.Sites) {
		return nil, fmt.Errorf("chaos: %s: site %d outside the run's %d sites", kf, kf.Site, len(r.Sites))
	}
	if len(r.Harness) == 0 {
		return nil, errors.New("chaos: Run.Harness is empty: network faults need the poller's pod labels")
	}
	grace := r.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	e := &Experiment{Fault: kf.String(), Kind: kf.Kind(), Site: kf.Site, Phase: phase}
	meta := r.meta(phase, phaseName, j, kf)
	dur := durationString(length + grace)
	net := func(action v1alpha1.NetworkChaosAction, dir string, tc v1alpha1.TcParameter) *v1alpha1.NetworkChaos {
		o := &v1alpha1.NetworkChaos{TypeMeta: typeMeta(v1alpha1.KindNetworkChaos), ObjectMeta: meta, Spec: v1alpha1.NetworkChaosSpec{
			PodSelector: r.sitePods(kf.Site), Action: action, TcParameter: tc,
			Direction: direction(dir), Target: r.harnessPods(), Duration: &dur,
		}}
		o.Name += "-" + string(action)
		return o
	}
	switch {
	case kf.Drop != nil:
		e.Objects = append(e.Objects, net(v1alpha1.LossAction, or(kf.Drop.Dir, scenarios.DirToAgents),
			v1alpha1.TcParameter{Loss: &v1alpha1.LossSpec{Loss: percent(kf.Drop.Prob)}}))
	case kf.Blackhole != nil, kf.LinkDown != nil:
		e.Objects = append(e.Objects, net(v1alpha1.PartitionAction, scenarios.DirBoth, v1alpha1.TcParameter{}))
	case kf.Bandwidth != nil:
		b := kf.Bandwidth
		buffer := uint64(b.Burst)
		if buffer == 0 {
			buffer = max(uint64(b.Rate)/8/100, 2*defaultMTU+28)
		}
		latency := b.Latency.D()
		if latency == 0 {
			latency = 100 * time.Millisecond
		}
		limit := uint64(b.Rate)/8*uint64(latency)/uint64(time.Second) + buffer
		e.Objects = append(e.Objects, net(v1alpha1.BandwidthAction, or(b.Dir, scenarios.DirBoth),
			v1alpha1.TcParameter{Bandwidth: &v1alpha1.BandwidthSpec{
				Rate: b.Rate.String(), Buffer: clampU32(buffer), Limit: clampU32(limit),
			}}))
	case kf.Netem != nil:
		action, tc := netem(kf.Netem)
		e.Objects = append(e.Objects, net(action, or(kf.Netem.Dir, scenarios.DirFromAgents), tc))
	case kf.Flap != nil:
		down := durationString(kf.Flap.Down.D() + grace)
		p := net(v1alpha1.PartitionAction, scenarios.DirBoth, v1alpha1.TcParameter{})
		p.Spec.Duration = &down
		e.Flap = &Flap{Down: kf.Flap.Down.D(), Up: kf.Flap.Up.D(), Cycles: kf.Flap.Cycles, Partition: p}
	case kf.PodRestart != nil:
		o := &v1alpha1.PodChaos{TypeMeta: typeMeta(v1alpha1.KindPodChaos), ObjectMeta: meta, Spec: v1alpha1.PodChaosSpec{
			ContainerSelector: v1alpha1.ContainerSelector{PodSelector: r.sitePods(kf.Site), ContainerNames: []string{r.container()}},
			Action:            v1alpha1.ContainerKillAction,
		}}
		o.Name += "-restart"
		e.Objects = append(e.Objects, o)
	default:
		return nil, fmt.Errorf("chaos: %s: no fault set", kf)
	}
	objs := e.Objects
	if e.Flap != nil {
		objs = []client.Object{e.Flap.Partition}
	}
	for _, o := range objs {
		if err := Check(ctx, o); err != nil {
			return nil, fmt.Errorf("chaos: phase %s: %s: %w", phaseName, kf, err)
		}
	}
	return e, nil
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: kind}
}

// meta is the metadata every object of fault j of a phase starts from.
func (r Run) meta(phase int, phaseName string, j int, kf scenarios.KernelFault) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      fmt.Sprintf("%s-p%d-%d", r.ID, phase, j),
		Namespace: r.Namespace,
		Labels: map[string]string{
			LabelManagedBy: ManagedBy, LabelRun: r.ID,
			LabelPhase: strconv.Itoa(phase), LabelSite: strconv.Itoa(kf.Site),
		},
		Annotations: map[string]string{AnnotationFault: kf.String(), AnnotationPhase: phaseName},
	}
}

func (r Run) sitePods(site int) v1alpha1.PodSelector {
	return v1alpha1.PodSelector{Mode: v1alpha1.AllMode, Selector: v1alpha1.PodSelectorSpec{
		GenericSelectorSpec: v1alpha1.GenericSelectorSpec{Namespaces: []string{r.Namespace}, LabelSelectors: copyMap(r.Sites[site])},
	}}
}

func (r Run) harnessPods() *v1alpha1.PodSelector {
	return &v1alpha1.PodSelector{Mode: v1alpha1.AllMode, Selector: v1alpha1.PodSelectorSpec{
		GenericSelectorSpec: v1alpha1.GenericSelectorSpec{Namespaces: []string{r.Namespace}, LabelSelectors: copyMap(r.Harness)},
	}}
}

func (r Run) container() string {
	if r.Container == "" {
		return "simagent"
	}
	return r.Container
}

// netem maps a netem fault to the narrowest Chaos Mesh action that holds
// it: delay, loss, duplicate or corrupt alone, else netem with several.
func netem(n *scenarios.KernelNetem) (v1alpha1.NetworkChaosAction, v1alpha1.TcParameter) {
	var tc v1alpha1.TcParameter
	var actions []v1alpha1.NetworkChaosAction
	if n.Delay > 0 || n.Jitter > 0 {
		tc.Delay = &v1alpha1.DelaySpec{Latency: durationString(n.Delay.D()), Jitter: durationString(n.Jitter.D())}
		actions = append(actions, v1alpha1.DelayAction)
	}
	if n.Loss > 0 {
		tc.Loss = &v1alpha1.LossSpec{Loss: percent(n.Loss)}
		actions = append(actions, v1alpha1.LossAction)
	}
	if n.Duplicate > 0 {
		tc.Duplicate = &v1alpha1.DuplicateSpec{Duplicate: percent(n.Duplicate)}
		actions = append(actions, v1alpha1.DuplicateAction)
	}
	if n.Corrupt > 0 {
		tc.Corrupt = &v1alpha1.CorruptSpec{Corrupt: percent(n.Corrupt)}
		actions = append(actions, v1alpha1.CorruptAction)
	}
	if len(actions) == 1 {
		return actions[0], tc
	}
	return v1alpha1.NetemAction, tc
}

// direction maps a direction seen from the poller to Chaos Mesh's, seen
// from the selected (agent) pods towards the target (harness) pods: "to"
// shapes the agents' egress, "from" the harness's egress to the agents.
func direction(d string) v1alpha1.Direction {
	switch d {
	case scenarios.DirToAgents:
		return v1alpha1.From
	case scenarios.DirFromAgents:
		return v1alpha1.To
	}
	return v1alpha1.Both
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// percent writes a probability in [0, 1] as Chaos Mesh's percentage.
func percent(p float64) string { return strconv.FormatFloat(p*100, 'f', -1, 64) }

// durationString writes d as Go's duration syntax, which Chaos Mesh
// parses with time.ParseDuration.
func durationString(d time.Duration) string { return d.String() }

func clampU32(v uint64) uint32 { return uint32(min(v, 1<<32-1)) }

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
