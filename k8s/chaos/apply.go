package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Scheme returns a new scheme with Kubernetes' built-in kinds and Chaos
// Mesh's, for a controller-runtime client.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// DefaultRecoverTimeout bounds the wait for an experiment's objects to be
// gone (Chaos Mesh removes its finalizer once the fault is recovered).
const DefaultRecoverTimeout = 2 * time.Minute

// Client creates and deletes a run's experiments through the API server.
type Client struct {
	c    client.Client
	log  *slog.Logger
	poll time.Duration
}

// NewClient wraps a controller-runtime client whose scheme has Chaos
// Mesh's kinds (see Scheme). log may be nil.
func NewClient(c client.Client, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{c: c, log: log, poll: 100 * time.Millisecond}
}

// Handle is one experiment bound to a cluster, with the harness's fault
// interface: Inject creates its objects (for a flap, starts the cycles),
// Recover deletes them and waits until they are gone.
type Handle struct {
	cl *Client
	e  *Experiment
	// onChange is told of every flap partition: up false when it is made.
	onChange func(up bool, at time.Time)

	mu      sync.Mutex
	created []client.Object
	stop    context.CancelFunc
	done    chan struct{}
	flapErr error
}

// Handle binds e to the cluster. onChange, if set, hears a flap's
// partitions come (up false) and go.
func (c *Client) Handle(e *Experiment, onChange func(up bool, at time.Time)) *Handle {
	return &Handle{cl: c, e: e, onChange: onChange}
}

// Experiment is what the handle injects.
func (h *Handle) Experiment() *Experiment { return h.e }

// Name says what carries the fault, e.g. "chaos-mesh NetworkChaos/loss".
func (h *Handle) Name() string {
	switch {
	case h.e.Flap != nil:
		return "chaos-mesh NetworkChaos/partition (flap)"
	case len(h.e.Objects) == 0:
		return "chaos-mesh"
	}
	switch o := h.e.Objects[0].(type) {
	case *v1alpha1.NetworkChaos:
		return "chaos-mesh NetworkChaos/" + string(o.Spec.Action)
	case *v1alpha1.PodChaos:
		return "chaos-mesh PodChaos/" + string(o.Spec.Action)
	}
	return "chaos-mesh"
}

// Inject creates the experiment's objects, or starts a flap's cycles (the
// first partition is made before Inject returns). On error the objects
// made so far stay until Recover.
func (h *Handle) Inject(ctx context.Context) error {
	if f := h.e.Flap; f != nil {
		if err := h.create(ctx, f.CycleObject(0)); err != nil {
			return err
		}
		h.changed(false)
		fctx, cancel := context.WithCancel(context.Background())
		h.mu.Lock()
		h.stop, h.done = cancel, make(chan struct{})
		h.mu.Unlock()
		go h.flap(fctx)
		return nil
	}
	for _, o := range h.e.Objects {
		if err := h.create(ctx, o.DeepCopyObject().(client.Object)); err != nil {
			return err
		}
	}
	return nil
}

func (h *Handle) create(ctx context.Context, o client.Object) error {
	if err := h.cl.c.Create(ctx, o); err != nil {
		return fmt.Errorf("chaos: create %s: %w", describe(o), err)
	}
	h.mu.Lock()
	h.created = append(h.created, o)
	h.mu.Unlock()
	h.cl.log.Debug("chaos: created", "object", describe(o), "fault", h.e.Fault)
	return nil
}

func (h *Handle) changed(up bool) {
	if h.onChange != nil {
		h.onChange(up, time.Now())
	}
}

// flap runs a flap's cycles after the first partition: wait Down, delete
// it, wait Up, make the next, until the cycles are done or ctx ends.
func (h *Handle) flap(ctx context.Context) {
	defer close(h.done)
	f := h.e.Flap
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for n := 0; ; n++ {
		if !wait(f.Down) {
			return
		}
		if err := h.deleteAll(ctx); err != nil {
			h.fail(err)
			return
		}
		h.changed(true)
		if f.Cycles > 0 && n+1 >= f.Cycles {
			return
		}
		if !wait(f.Up) {
			return
		}
		if err := h.create(ctx, f.CycleObject(n+1)); err != nil {
			h.fail(err)
			return
		}
		h.changed(false)
	}
}

func (h *Handle) fail(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	h.mu.Lock()
	h.flapErr = errors.Join(h.flapErr, err)
	h.mu.Unlock()
}

// Recover stops a flap and deletes every object the handle made, waiting
// (at most DefaultRecoverTimeout) until the API server no longer has them.
// Safe to call more than once.
func (h *Handle) Recover(ctx context.Context) error {
	h.mu.Lock()
	stop, done := h.stop, h.done
	h.stop = nil
	h.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultRecoverTimeout)
	defer cancel()
	h.mu.Lock()
	wasDown := h.e.Flap != nil && len(h.created) > 0
	h.mu.Unlock()
	err := h.deleteAll(ctx)
	if wasDown && err == nil {
		h.changed(true)
	}
	h.mu.Lock()
	err = errors.Join(h.flapErr, err)
	h.flapErr = nil
	h.mu.Unlock()
	return err
}

// deleteAll deletes the objects made and not yet deleted, and waits until
// they are gone.
func (h *Handle) deleteAll(ctx context.Context) error {
	h.mu.Lock()
	objs := h.created
	h.created = nil
	h.mu.Unlock()
	var errs []error
	for _, o := range objs {
		if err := h.cl.delete(ctx, o); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// delete deletes o and waits until the API server no longer has it.
func (c *Client) delete(ctx context.Context, o client.Object) error {
	err := c.c.Delete(ctx, o, client.PropagationPolicy("Background"))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("chaos: delete %s: %w", describe(o), err)
	}
	return c.waitGone(ctx, o)
}

// waitGone polls until o is not found.
func (c *Client) waitGone(ctx context.Context, o client.Object) error {
	key := client.ObjectKeyFromObject(o)
	probe := o.DeepCopyObject().(client.Object)
	t := time.NewTicker(c.poll)
	defer t.Stop()
	for {
		err := c.c.Get(ctx, key, probe)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			c.log.Debug("chaos: waiting for deletion", "object", describe(o), "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: %s still there: %w", describe(o), ctx.Err())
		case <-t.C:
		}
	}
}

// Available reports whether the fault can be made: Chaos Mesh's checks
// passed when the experiment was built, and the cluster is asked at
// Inject.
func (h *Handle) Available() bool { return true }
