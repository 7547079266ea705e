package k8smode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/snmpchaos/snmpchaos/harness/k8sapi"
	"github.com/snmpchaos/snmpchaos/k8s/chaos"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Cluster is the cluster a k8s-mode run uses; it is the k8sapi.Provider
// harness.WithK8s takes.
type Cluster struct {
	// Client reaches the API server; its scheme has Chaos Mesh's kinds
	// (chaos.Scheme). Its rate limit bounds the run's API calls: a flap
	// makes several a cycle, so client-go's default of 5 a second makes
	// its phases run late (snmpchaos run allows 50).
	Client client.Client
	// Namespace holds the run's pods and experiments (default
	// "snmpchaos").
	Namespace string
	// Image is simagent's image (default pods.DefaultImage).
	Image string
	// Harness are the labels of the pod this harness runs in, the other
	// end of every network fault (default DefaultHarnessLabels).
	Harness map[string]string
	// ReadyTimeout bounds the wait for the site pods (default 5 minutes).
	ReadyTimeout time.Duration
}

var _ k8sapi.Provider = Cluster{}

// DefaultHarnessLabels are the harness pod's labels in k8s/harness-job.yaml.
func DefaultHarnessLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "snmpchaos-harness"}
}

// RunID names a run's pods and experiments: the scenario's name (at most
// 20 characters, as a DNS label) and 6 random hex digits.
func RunID(scenario string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '-'
	}, scenario)
	name = strings.Trim(name[:min(len(name), 20)], "-")
	if name == "" {
		name = "run"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return name + "-" + hex.EncodeToString(b[:])
}

// Plan is what a k8s-mode run creates: the site pods, and each phase's
// Chaos Mesh experiments, all checked. Token is the control API's token
// in the pods (see pods.Redact before printing them).
type Plan struct {
	RunID  string
	Token  string
	Pods   []*corev1.Pod
	Phases [][]*chaos.Experiment
}

// Plan builds what a run of sc in k8s mode would create, without a
// cluster (Client is not used): the site pods and every phase's
// experiments, passed through Chaos Mesh's defaults and validation and
// chaos.Check. sc must be in k8s mode (scenarios.Scenario.InMode) and
// shortened if the run is short. What k8s mode cannot run is an error
// wrapping scenarios.ErrInvalid that names the field.
func (c Cluster) Plan(ctx context.Context, sc *scenarios.Scenario, runID string, seed uint64) (*Plan, error) {
	if !sc.IsK8s() {
		return nil, fmt.Errorf("%w: scenario %s is in mode %s, not k8s", scenarios.ErrInvalid, sc.Name, sc.Mode)
	}
	c = c.withDefaults()
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, err
	}
	p := &Plan{RunID: runID, Token: hex.EncodeToString(tok[:])}
	spec := pods.Spec{Run: runID, Namespace: c.Namespace, Image: c.Image, Token: p.Token, Seed: seed}
	var err error
	if p.Pods, err = spec.Build(sc); err != nil {
		return nil, fmt.Errorf("%w: %w", scenarios.ErrInvalid, err)
	}
	cr := chaos.Run{ID: runID, Namespace: c.Namespace, Harness: c.Harness, Container: pods.Container}
	for i := range p.Pods {
		cr.Sites = append(cr.Sites, pods.SiteLabels(runID, i))
	}
	p.Phases = make([][]*chaos.Experiment, len(sc.Phases))
	for i, ph := range sc.Phases {
		for j, kf := range ph.Kernel {
			e, err := cr.Build(ctx, i, ph.Name, j, kf, ph.Duration.D())
			if err != nil {
				return nil, fmt.Errorf("%w: scenario %s: phases[%d].kernel[%d]: %w", scenarios.ErrInvalid, sc.Name, i, j, err)
			}
			p.Phases[i] = append(p.Phases[i], e)
		}
	}
	return p, nil
}

func (c Cluster) withDefaults() Cluster {
	if c.Namespace == "" {
		c.Namespace = "snmpchaos"
	}
	if c.Image == "" {
		c.Image = pods.DefaultImage
	}
	if len(c.Harness) == 0 {
		c.Harness = DefaultHarnessLabels()
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 5 * time.Minute
	}
	return c
}

// Start creates the site pods of sc, waits until they are ready and binds
// every phase's experiments to the cluster (k8sapi.Provider); on error it
// deletes what it made.
func (c Cluster) Start(ctx context.Context, sc *scenarios.Scenario, env k8sapi.Env) (_ *k8sapi.Sites, err error) {
	if c.Client == nil {
		return nil, errors.New("k8smode: Cluster.Client is nil: a k8s-mode run needs a client of the cluster")
	}
	c = c.withDefaults()
	plan, err := c.Plan(ctx, sc, RunID(sc.Name), env.Seed)
	if err != nil {
		return nil, err
	}
	cl := chaos.NewClient(c.Client, env.Logger)
	teardown := func() error {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, cerr := cl.Cleanup(cctx, c.Namespace, plan.RunID)
		return errors.Join(cerr, pods.Delete(cctx, c.Client, plan.Pods))
	}
	if err := pods.Create(ctx, c.Client, plan.Pods); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, teardown())
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, c.ReadyTimeout)
	ready, err := pods.WaitReady(wctx, c.Client, plan.Pods, 0)
	cancel()
	if err != nil {
		return nil, err
	}
	s := &k8sapi.Sites{Run: plan.RunID, Namespace: c.Namespace, Token: plan.Token, Close: teardown}
	for _, r := range ready {
		s.Sites = append(s.Sites, k8sapi.Site{Name: r.Pod, First: netip.AddrPortFrom(r.Addr, pods.FirstPort), Control: r.Control})
	}
	s.Phases = make([][]k8sapi.Fault, len(plan.Phases))
	for i, exps := range plan.Phases {
		for _, e := range exps {
			desc, site := e.Fault, e.Site
			h := cl.Handle(e, func(up bool, at time.Time) { env.OnLink(site, up, desc, at) })
			s.Phases[i] = append(s.Phases[i], k8sapi.Fault{Desc: desc, Site: site, Fault: h})
		}
	}
	return s, nil
}
