package chaos

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Leftovers lists the Chaos Mesh objects snmpchaos made that are still in
// namespace (every namespace if ""), of run runID (every run if "").
func (c *Client) Leftovers(ctx context.Context, namespace, runID string) ([]client.Object, error) {
	sel := client.MatchingLabels{LabelManagedBy: ManagedBy}
	if runID != "" {
		sel[LabelRun] = runID
	}
	opts := []client.ListOption{sel}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	var out []client.Object
	for _, list := range []client.ObjectList{&v1alpha1.NetworkChaosList{}, &v1alpha1.PodChaosList{}} {
		if err := c.c.List(ctx, list, opts...); err != nil {
			if meta.IsNoMatchError(err) {
				continue // Chaos Mesh is not installed: nothing of it can be left
			}
			return nil, fmt.Errorf("chaos: list leftovers: %w", err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, it.(client.Object))
		}
	}
	return out, nil
}

// Cleanup deletes what Leftovers lists and waits until it is gone; it
// returns how many objects it deleted. A run interrupted or killed leaves
// its experiments, which Chaos Mesh recovers at their duration's end
// anyway; Cleanup recovers them now.
func (c *Client) Cleanup(ctx context.Context, namespace, runID string) (int, error) {
	objs, err := c.Leftovers(ctx, namespace, runID)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, o := range objs {
		if err := c.delete(ctx, o); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return len(objs), err
	}
	return len(objs), nil
}
