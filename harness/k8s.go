package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/snmpchaos/snmpchaos/harness/fleet"
	"github.com/snmpchaos/snmpchaos/k8s/chaos"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// K8s is the cluster a k8s-mode run uses (WithK8s).
type K8s struct {
	// Client reaches the API server; its scheme has Chaos Mesh's kinds
	// (chaos.Scheme).
	Client client.Client
	// Namespace holds the run's pods and experiments.
	Namespace string
	// Image is simagent's image (default pods.DefaultImage).
	Image string
	// Harness are the labels of the pod this harness runs in, the other
	// end of every network fault (default app.kubernetes.io/name:
	// snmpchaos-harness, as k8s/harness-job.yaml labels it).
	Harness map[string]string
	// ReadyTimeout bounds the wait for the site pods (default 5 minutes).
	ReadyTimeout time.Duration
}

// DefaultHarnessLabels are the harness pod's labels in k8s/harness-job.yaml.
func DefaultHarnessLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "snmpchaos-harness"}
}

// WithK8s gives a k8s-mode run its cluster.
func WithK8s(k K8s) Option {
	return optionFunc(func(c *runConfig) { c.k8s = &k })
}

// K8sRunID names a run's pods and experiments: the scenario's name (at
// most 20 characters, as a DNS label) and 6 random hex digits.
func K8sRunID(scenario string) string {
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

// K8sPlan is what a k8s-mode run creates: the site pods, and each phase's
// Chaos Mesh experiments, all checked. Token is the control API's token
// in the pods (see pods.Redact before printing them).
type K8sPlan struct {
	RunID  string
	Token  string
	Pods   []*corev1.Pod
	Phases [][]*chaos.Experiment
}

// PlanK8s builds what a run of sc in k8s mode would create, without a
// cluster: the site pods and every phase's experiments, passed through
// Chaos Mesh's defaults and validation and chaos.Check. sc must be in k8s
// mode (scenarios.Scenario.InMode) and shortened if the run is short.
func PlanK8s(ctx context.Context, sc *scenarios.Scenario, k K8s, runID string, seed uint64) (*K8sPlan, error) {
	if !sc.IsK8s() {
		return nil, fmt.Errorf("%w: scenario %s is in mode %s, not k8s", ErrBadInput, sc.Name, sc.Mode)
	}
	k = k.withDefaults()
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, err
	}
	p := &K8sPlan{RunID: runID, Token: hex.EncodeToString(tok[:])}
	spec := pods.Spec{Run: runID, Namespace: k.Namespace, Image: k.Image, Token: p.Token, Seed: seed}
	var err error
	if p.Pods, err = spec.Build(sc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	cr := chaos.Run{ID: runID, Namespace: k.Namespace, Harness: k.Harness, Container: pods.Container}
	for i := range p.Pods {
		cr.Sites = append(cr.Sites, pods.SiteLabels(runID, i))
	}
	p.Phases = make([][]*chaos.Experiment, len(sc.Phases))
	for i, ph := range sc.Phases {
		for j, kf := range ph.Kernel {
			e, err := cr.Build(ctx, i, ph.Name, j, kf, ph.Duration.D())
			if err != nil {
				return nil, fmt.Errorf("%w: scenario %s: phases[%d].kernel[%d]: %w", ErrBadInput, sc.Name, i, j, err)
			}
			p.Phases[i] = append(p.Phases[i], e)
		}
	}
	return p, nil
}

func (k K8s) withDefaults() K8s {
	if k.Namespace == "" {
		k.Namespace = "snmpchaos"
	}
	if k.Image == "" {
		k.Image = pods.DefaultImage
	}
	if len(k.Harness) == 0 {
		k.Harness = DefaultHarnessLabels()
	}
	if k.ReadyTimeout <= 0 {
		k.ReadyTimeout = 5 * time.Minute
	}
	return k
}

// startK8s creates the site pods, waits until they are ready, drives them
// as a remote fleet over their control APIs, and binds every phase's
// experiments to the cluster; on error it deletes what it made.
func (r *run) startK8s(ctx context.Context) (err error) {
	if r.cfg.k8s == nil || r.cfg.k8s.Client == nil {
		return fmt.Errorf("%w: scenario %s is in k8s mode: the run needs a cluster (WithK8s; snmpchaos run finds one through $KUBECONFIG or in-cluster)", ErrBadInput, r.sc.Name)
	}
	k := r.cfg.k8s.withDefaults()
	plan, err := PlanK8s(ctx, r.sc, k, K8sRunID(r.sc.Name), r.seed)
	if err != nil {
		return err
	}
	cl := chaos.NewClient(k.Client, r.log)
	teardown := func() error {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, cerr := cl.Cleanup(cctx, k.Namespace, plan.RunID)
		return errors.Join(cerr, pods.Delete(cctx, k.Client, plan.Pods))
	}
	if err := pods.Create(ctx, k.Client, plan.Pods); err != nil {
		return fmt.Errorf("harness: scenario %s: %w", r.sc.Name, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, teardown())
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, k.ReadyTimeout)
	sites, err := pods.WaitReady(wctx, k.Client, plan.Pods, 0)
	cancel()
	if err != nil {
		return fmt.Errorf("harness: scenario %s: %w", r.sc.Name, err)
	}
	ks := &kernelState{t0: r.t0, log: r.log, close: teardown, mode: scenarios.ModeK8s}
	var urls []string
	first := 0
	for i, s := range sites {
		n := r.sc.Fleet.SiteAgents()[i]
		urls = append(urls, s.Control)
		ks.sites = append(ks.sites, SiteReport{Name: s.Pod, Agents: n, Prefix: s.Addr.String() + ":" + strconv.Itoa(pods.FirstPort) + "+", First: first})
		first += n
	}
	ks.agentsOf = func(site int) []int {
		s := ks.sites[site]
		out := make([]int, s.Agents)
		for j := range out {
			out[j] = s.First + j
		}
		return out
	}
	ks.phases = make([][]*kernelFault, len(plan.Phases))
	for i, exps := range plan.Phases {
		for _, e := range exps {
			desc, site := e.Fault, e.Site
			h := cl.Handle(e, func(up bool, at time.Time) {
				kind := KernelLinkDown
				if up {
					kind = KernelLinkUp
				}
				ks.event(site, kind, desc, at)
			})
			ks.phases[i] = append(ks.phases[i], &kernelFault{desc: desc, site: site, f: h})
		}
	}
	c, err := r.fleetConfig()
	if err != nil {
		return err
	}
	store, err := fleet.OpenStore(r.sc)
	if err != nil {
		return err
	}
	rf, err := fleet.Dial(ctx, fleet.RemoteConfig{
		URLs: urls, Token: plan.Token, Store: store, Community: r.sc.Fleet.Community,
		Seed: r.seed, Agents: r.sc.Fleet.Agents, Logger: r.log,
	})
	if err != nil {
		return fmt.Errorf("harness: scenario %s: %w", r.sc.Name, err)
	}
	if err := r.readyOrClose(ctx, rf, c); err != nil {
		return err
	}
	r.kernel = ks
	r.log.Info("harness: k8s fleet ready", "run", plan.RunID, "namespace", k.Namespace, "sites", len(sites), "agents", first)
	return nil
}
