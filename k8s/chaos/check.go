package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Check defaults obj with Chaos Mesh's own defaulter and validates it with
// the code its validating webhook runs, then with the checks Chaos Mesh's
// webhook leaves to the CRD schema or does not make at all: percentages in
// [0, 100], known actions, modes and directions, positive bandwidth
// sizes, a selector that names labels (never every pod), and names and
// labels the API server accepts. obj is changed in place by the defaults. Only NetworkChaos and PodChaos are known.
func Check(ctx context.Context, obj client.Object) error {
	var errs []error
	switch o := obj.(type) {
	case *v1alpha1.NetworkChaos:
		if err := o.Default(ctx, o); err != nil {
			return fmt.Errorf("%s: Chaos Mesh default: %w", describe(o), err)
		}
		if _, err := o.ValidateCreate(ctx, o); err != nil {
			return fmt.Errorf("%s: Chaos Mesh validation: %w", describe(o), err)
		}
		errs = append(errs, checkNetwork(&o.Spec)...)
	case *v1alpha1.PodChaos:
		if err := o.Default(ctx, o); err != nil {
			return fmt.Errorf("%s: Chaos Mesh default: %w", describe(o), err)
		}
		if _, err := o.ValidateCreate(ctx, o); err != nil {
			return fmt.Errorf("%s: Chaos Mesh validation: %w", describe(o), err)
		}
		errs = append(errs, checkPod(&o.Spec)...)
	default:
		return fmt.Errorf("chaos: Check: %T is not a NetworkChaos or PodChaos", obj)
	}
	errs = append(errs, checkMeta(obj)...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w", describe(obj), err)
	}
	return nil
}

func describe(o client.Object) string {
	kind := "NetworkChaos"
	if _, ok := o.(*v1alpha1.PodChaos); ok {
		kind = "PodChaos"
	}
	return kind + " " + o.GetNamespace() + "/" + o.GetName()
}

func checkMeta(o client.Object) []error {
	var errs []error
	for _, m := range validation.IsDNS1123Subdomain(o.GetName()) {
		errs = append(errs, fmt.Errorf("metadata.name %q: %s", o.GetName(), m))
	}
	// Chaos Mesh names the pods' chaos records after the object: keep it
	// a label value's length.
	if len(o.GetName()) > validation.DNS1123LabelMaxLength {
		errs = append(errs, fmt.Errorf("metadata.name %q: longer than %d", o.GetName(), validation.DNS1123LabelMaxLength))
	}
	for _, m := range validation.IsDNS1123Label(o.GetNamespace()) {
		errs = append(errs, fmt.Errorf("metadata.namespace %q: %s", o.GetNamespace(), m))
	}
	errs = append(errs, checkLabels("metadata.labels", o.GetLabels())...)
	if o.GetLabels()[LabelRun] == "" {
		errs = append(errs, fmt.Errorf("metadata.labels: %s missing: every object names its run", LabelRun))
	}
	return errs
}

func checkLabels(path string, m map[string]string) []error {
	var errs []error
	for k, v := range m {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, fmt.Errorf("%s key %q: %s", path, k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, fmt.Errorf("%s[%s] %q: %s", path, k, v, msg))
		}
	}
	return errs
}

var (
	networkActions = []v1alpha1.NetworkChaosAction{
		v1alpha1.NetemAction, v1alpha1.DelayAction, v1alpha1.LossAction, v1alpha1.DuplicateAction,
		v1alpha1.CorruptAction, v1alpha1.PartitionAction, v1alpha1.BandwidthAction,
	}
	podActions = []v1alpha1.PodChaosAction{v1alpha1.PodKillAction, v1alpha1.PodFailureAction, v1alpha1.ContainerKillAction}
	modes      = []v1alpha1.SelectorMode{
		v1alpha1.OneMode, v1alpha1.AllMode, v1alpha1.FixedMode, v1alpha1.FixedPercentMode, v1alpha1.RandomMaxPercentMode,
	}
	directions = []v1alpha1.Direction{v1alpha1.To, v1alpha1.From, v1alpha1.Both}
)

func checkNetwork(s *v1alpha1.NetworkChaosSpec) []error {
	var errs []error
	if !slices.Contains(networkActions, s.Action) {
		errs = append(errs, fmt.Errorf("spec.action %q: want one of %v", s.Action, networkActions))
	}
	if !slices.Contains(directions, s.Direction) {
		errs = append(errs, fmt.Errorf("spec.direction %q: want one of %v", s.Direction, directions))
	}
	errs = append(errs, checkSelector("spec", s.PodSelector)...)
	if s.Target != nil {
		errs = append(errs, checkSelector("spec.target", *s.Target)...)
	}
	errs = append(errs, checkDuration("spec.duration", s.Duration)...)
	tc := s.TcParameter
	need := map[v1alpha1.NetworkChaosAction]bool{
		v1alpha1.DelayAction: tc.Delay == nil, v1alpha1.LossAction: tc.Loss == nil,
		v1alpha1.DuplicateAction: tc.Duplicate == nil, v1alpha1.CorruptAction: tc.Corrupt == nil,
		v1alpha1.BandwidthAction: tc.Bandwidth == nil,
		v1alpha1.NetemAction:     tc.Delay == nil && tc.Loss == nil && tc.Duplicate == nil && tc.Corrupt == nil,
	}
	if need[s.Action] {
		errs = append(errs, fmt.Errorf("spec: action %s without its parameters", s.Action))
	}
	if d := tc.Delay; d != nil {
		errs = append(errs, checkLatency("spec.delay.latency", d.Latency)...)
		errs = append(errs, checkLatency("spec.delay.jitter", d.Jitter)...)
		errs = append(errs, checkPercent("spec.delay.correlation", d.Correlation)...)
		if r := d.Reorder; r != nil {
			errs = append(errs, checkPercent("spec.delay.reorder.reorder", r.Reorder)...)
			errs = append(errs, checkPercent("spec.delay.reorder.correlation", r.Correlation)...)
		}
	}
	if l := tc.Loss; l != nil {
		errs = append(errs, checkPercent("spec.loss.loss", l.Loss)...)
		errs = append(errs, checkPercent("spec.loss.correlation", l.Correlation)...)
	}
	if d := tc.Duplicate; d != nil {
		errs = append(errs, checkPercent("spec.duplicate.duplicate", d.Duplicate)...)
		errs = append(errs, checkPercent("spec.duplicate.correlation", d.Correlation)...)
	}
	if c := tc.Corrupt; c != nil {
		errs = append(errs, checkPercent("spec.corrupt.corrupt", c.Corrupt)...)
		errs = append(errs, checkPercent("spec.corrupt.correlation", c.Correlation)...)
	}
	if b := tc.Bandwidth; b != nil {
		if b.Limit == 0 {
			errs = append(errs, errors.New("spec.bandwidth.limit: must be at least 1 byte"))
		}
		if b.Buffer == 0 {
			errs = append(errs, errors.New("spec.bandwidth.buffer: must be at least 1 byte"))
		}
	}
	return errs
}

func checkPod(s *v1alpha1.PodChaosSpec) []error {
	var errs []error
	if !slices.Contains(podActions, s.Action) {
		errs = append(errs, fmt.Errorf("spec.action %q: want one of %v", s.Action, podActions))
	}
	errs = append(errs, checkSelector("spec", s.PodSelector)...)
	errs = append(errs, checkDuration("spec.duration", s.Duration)...)
	if s.GracePeriod < 0 {
		errs = append(errs, fmt.Errorf("spec.gracePeriod %d: must not be negative", s.GracePeriod))
	}
	return errs
}

// checkSelector refuses a selector that could reach past the run: it must
// name labels or pods. Chaos Mesh's webhook accepts an empty one, which
// selects every pod of the namespace (Chaos Mesh's defaults put the
// object's namespace in the selector when it names none).
func checkSelector(path string, p v1alpha1.PodSelector) []error {
	var errs []error
	switch {
	case !slices.Contains(modes, p.Mode):
		errs = append(errs, fmt.Errorf("%s.mode %q: want one of %v", path, p.Mode, modes))
	case p.Mode == v1alpha1.FixedMode:
		if n, err := strconv.Atoi(p.Value); err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s.value %q: mode fixed wants a count of at least 1", path, p.Value))
		}
	case p.Mode == v1alpha1.FixedPercentMode || p.Mode == v1alpha1.RandomMaxPercentMode:
		if n, err := strconv.Atoi(p.Value); err != nil || n < 0 || n > 100 {
			errs = append(errs, fmt.Errorf("%s.value %q: mode %s wants a percentage in [0, 100]", path, p.Value, p.Mode))
		}
	}
	sel := p.Selector
	if len(sel.LabelSelectors) == 0 && len(sel.Pods) == 0 {
		errs = append(errs, fmt.Errorf("%s.selector: no labelSelectors or pods: the selector would pick every pod of its namespaces", path))
	}
	errs = append(errs, checkLabels(path+".selector.labelSelectors", sel.LabelSelectors)...)
	return errs
}

// checkPercent checks a Chaos Mesh percentage string: Chaos Mesh parses it
// as a float but takes 200 or -5.
func checkPercent(path, v string) []error {
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0 && f <= 100) {
		return []error{fmt.Errorf("%s %q: want a percentage in [0, 100]", path, v)}
	}
	return nil
}

func checkLatency(path, v string) []error {
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > time.Hour {
		return []error{fmt.Errorf("%s %q: want a duration in [0, 1h]", path, v)}
	}
	return nil
}

func checkDuration(path string, v *string) []error {
	if v == nil {
		return nil
	}
	d, err := time.ParseDuration(*v)
	if err != nil || d <= 0 {
		return []error{fmt.Errorf("%s %q: want a positive duration", path, *v)}
	}
	return nil
}
