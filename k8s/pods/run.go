package pods

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/snmpchaos/snmpchaos/k8s/chaos"
)

// Site is a site pod once it runs.
type Site struct {
	Pod string
	// Addr is the pod's address; agent j listens on Addr:FirstPort+j.
	Addr netip.Addr
	// Control is the control API's URL.
	Control string
}

// Create creates pods; on error it deletes those it made.
func Create(ctx context.Context, c client.Client, pods []*corev1.Pod) error {
	for k, p := range pods {
		if err := c.Create(ctx, p.DeepCopy()); err != nil {
			return errors.Join(fmt.Errorf("pods: create %s/%s: %w", p.Namespace, p.Name, err), Delete(ctx, c, pods[:k]))
		}
	}
	return nil
}

// WaitReady waits until every pod is Ready with an address and returns
// them in order. poll is how often it looks (default 250ms).
func WaitReady(ctx context.Context, c client.Client, pods []*corev1.Pod, poll time.Duration) ([]Site, error) {
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	out := make([]Site, len(pods))
	for {
		ready := 0
		var last error
		for k, p := range pods {
			if out[k].Control != "" {
				ready++
				continue
			}
			s, err := readySite(ctx, c, p)
			if err != nil {
				last = err
				continue
			}
			out[k] = s
			ready++
		}
		if ready == len(pods) {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("pods: %d of %d site pods ready: %w (last: %v)", ready, len(pods), ctx.Err(), last)
		case <-t.C:
		}
	}
}

func readySite(ctx context.Context, c client.Client, p *corev1.Pod) (Site, error) {
	var got corev1.Pod
	if err := c.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
		return Site{}, err
	}
	if got.Status.Phase == corev1.PodFailed || got.Status.Phase == corev1.PodSucceeded {
		return Site{}, fmt.Errorf("pod %s ended (%s)", got.Name, got.Status.Phase)
	}
	ok := slices.ContainsFunc(got.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
	})
	if !ok {
		return Site{}, fmt.Errorf("pod %s not ready (%s)", got.Name, got.Status.Phase)
	}
	a, err := netip.ParseAddr(got.Status.PodIP)
	if err != nil {
		return Site{}, fmt.Errorf("pod %s: address %q: %w", got.Name, got.Status.PodIP, err)
	}
	return Site{Pod: got.Name, Addr: a, Control: "http://" + netip.AddrPortFrom(a, ControlPort).String()}, nil
}

// Delete deletes pods and waits until they are gone.
func Delete(ctx context.Context, c client.Client, pods []*corev1.Pod) error {
	var errs []error
	for _, p := range pods {
		err := c.Delete(ctx, p.DeepCopy(), client.GracePeriodSeconds(1))
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("pods: delete %s/%s: %w", p.Namespace, p.Name, err))
		}
	}
	for _, p := range pods {
		if err := waitGone(ctx, c, p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func waitGone(ctx context.Context, c client.Client, p *corev1.Pod) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		var got corev1.Pod
		if err := c.Get(ctx, client.ObjectKeyFromObject(p), &got); apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pods: %s/%s still there: %w", p.Namespace, p.Name, ctx.Err())
		case <-t.C:
		}
	}
}

// Leftovers lists the simagent pods snmpchaos made that are still in
// namespace (every namespace if ""), of run (every run if "").
func Leftovers(ctx context.Context, c client.Client, namespace, run string) ([]*corev1.Pod, error) {
	sel := client.MatchingLabels{chaos.LabelManagedBy: chaos.ManagedBy, LabelApp: App}
	if run != "" {
		sel[chaos.LabelRun] = run
	}
	opts := []client.ListOption{sel}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	var list corev1.PodList
	if err := c.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("pods: list leftovers: %w", err)
	}
	out := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}

// Cleanup deletes what Leftovers lists and returns how many pods it
// deleted.
func Cleanup(ctx context.Context, c client.Client, namespace, run string) (int, error) {
	left, err := Leftovers(ctx, c, namespace, run)
	if err != nil {
		return 0, err
	}
	return len(left), Delete(ctx, c, left)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
