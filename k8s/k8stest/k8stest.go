// Package k8stest starts a real Kubernetes control plane for tests: the
// kube-apiserver and etcd binaries scripts/k8s-binaries.sh builds and
// caches (through controller-runtime's envtest), Chaos Mesh's CRDs
// generated from the chaos-mesh/api module this repository requires, and
// Chaos Mesh's defaulting and validating webhooks served in this process
// on 127.0.0.1 and registered with the apiserver, which calls them. There
// is no kubelet, scheduler or controller manager: pods stay Pending and no
// Chaos Mesh controller acts on experiments.
package k8stest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/snmpchaos/snmpchaos/k8s/chaos"
)

// K8sVersion is the kube-apiserver version scripts/k8s-binaries.sh builds.
const K8sVersion = "1.35.4"

// ServiceRange is the apiserver's service cluster IP range: from the
// benchmarking range 198.18.0.0/15, never a private one. Nothing is routed
// to it; the apiserver only hands out addresses from it.
const ServiceRange = "198.19.254.0/24"

// Env is a running control plane.
type Env struct {
	// Config reaches the apiserver as an administrator.
	Config *rest.Config
	// Client is a controller-runtime client with Kubernetes' and Chaos
	// Mesh's kinds, able to watch.
	Client client.WithWatch
	Scheme *runtime.Scheme
	env    *envtest.Environment
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// Cache is where scripts/k8s-binaries.sh keeps what it builds.
func Cache() string {
	if d := os.Getenv("SNMPCHAOS_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "snmpchaos")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "snmpchaos")
}

// Assets is the directory with kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS or the cache's.
func Assets() string {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d
	}
	return filepath.Join(Cache(), "k8s", "v"+K8sVersion, "bin")
}

// CRDs is the directory with Chaos Mesh's CRDs for the chaos-mesh/api
// version this binary was built with: $SNMPCHAOS_CRDS or the cache's.
func CRDs() string {
	if d := os.Getenv("SNMPCHAOS_CRDS"); d != "" {
		return d
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/chaos-mesh/chaos-mesh/api" {
				return filepath.Join(Cache(), "k8s", "crds", "chaos-mesh-"+m.Version)
			}
		}
	}
	// Test binaries carry no dependency versions: take the generated set
	// (scripts/k8s-binaries.sh names it after go.mod's version).
	done, _ := filepath.Glob(filepath.Join(Cache(), "k8s", "crds", "chaos-mesh-*", ".done"))
	if len(done) > 0 {
		return filepath.Dir(done[len(done)-1])
	}
	return filepath.Join(Cache(), "k8s", "crds", "chaos-mesh-unknown")
}

// Tools is the directory with controller-gen, actionlint and kubeconform.
func Tools() string { return filepath.Join(Cache(), "tools", "bin") }

// Need skips t (fails it under CI=true) unless the files exist.
func Need(t testing.TB, files ...string) {
	t.Helper()
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			msg := fmt.Sprintf("%s missing: run `bash scripts/k8s-binaries.sh` (builds kube-apiserver, links etcd, generates Chaos Mesh's CRDs, installs the tools into %s)", f, Cache())
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Start starts the control plane with Chaos Mesh's CRDs and webhooks,
// or skips t when the binaries are not built (see Need). It is stopped in
// t's cleanup.
func Start(t testing.TB) *Env {
	t.Helper()
	Need(t, filepath.Join(Assets(), "kube-apiserver"), filepath.Join(Assets(), "etcd"), filepath.Join(CRDs(), ".done"))
	e, err := start()
	if err != nil {
		t.Fatalf("k8stest: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("k8stest: stop: %v", err)
		}
	})
	return e
}

func start() (*Env, error) {
	scheme, err := chaos.Scheme()
	if err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory: Assets(),
		CRDDirectoryPaths:     []string{CRDs()},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			LocalServingHost:   "127.0.0.1",
			MutatingWebhooks:   []*admissionv1.MutatingWebhookConfiguration{mutating()},
			ValidatingWebhooks: []*admissionv1.ValidatingWebhookConfiguration{validating()},
		},
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	te.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", ServiceRange)
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("start kube-apiserver and etcd from %s: %w", Assets(), err)
	}
	e := &Env{Config: cfg, Scheme: scheme, env: te}
	if err := e.serveWebhooks(); err != nil {
		return nil, errors.Join(err, te.Stop())
	}
	e.Client, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return e, nil
}

// serveWebhooks serves Chaos Mesh's defaulter and validator for
// NetworkChaos and PodChaos where envtest registered them, and waits
// until the server accepts connections.
func (e *Env) serveWebhooks() error {
	o := e.env.WebhookInstallOptions
	srv := webhook.NewServer(webhook.Options{Host: o.LocalServingHost, Port: o.LocalServingPort, CertDir: o.LocalServingCertDir})
	nc, pc := &v1alpha1.NetworkChaos{}, &v1alpha1.PodChaos{}
	srv.Register(mutatePath("networkchaos"), admission.WithCustomDefaulter(e.Scheme, nc, nc))
	srv.Register(validatePath("networkchaos"), admission.WithCustomValidator(e.Scheme, nc, nc))
	srv.Register(mutatePath("podchaos"), admission.WithCustomDefaulter(e.Scheme, pc, pc))
	srv.Register(validatePath("podchaos"), admission.WithCustomValidator(e.Scheme, pc, pc))
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	errc := make(chan error, 1)
	e.wg.Go(func() { errc <- srv.Start(ctx) })
	addr := net.JoinHostPort(o.LocalServingHost, strconv.Itoa(o.LocalServingPort))
	check := srv.StartedChecker()
	deadline := time.Now().Add(time.Minute)
	for {
		if err := check(&http.Request{}); err == nil {
			return nil
		}
		select {
		case err := <-errc:
			return fmt.Errorf("webhook server on %s: %w", addr, err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("webhook server on %s not serving after a minute", addr)
		}
	}
}

// Stop stops the webhook server, the apiserver and etcd.
func (e *Env) Stop() error {
	if e.stop != nil {
		e.stop()
		e.wg.Wait()
	}
	return e.env.Stop()
}

func mutatePath(kind string) string   { return "/mutate-chaos-mesh-org-v1alpha1-" + kind }
func validatePath(kind string) string { return "/validate-chaos-mesh-org-v1alpha1-" + kind }

// rule is CREATE and UPDATE of kind (plural) in chaos-mesh.org/v1alpha1.
func rule(plural string) []admissionv1.RuleWithOperations {
	return []admissionv1.RuleWithOperations{{
		Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
		Rule:       admissionv1.Rule{APIGroups: []string{"chaos-mesh.org"}, APIVersions: []string{"v1alpha1"}, Resources: []string{plural}},
	}}
}

func mutating() *admissionv1.MutatingWebhookConfiguration {
	c := &admissionv1.MutatingWebhookConfiguration{}
	c.Name = "chaos-mesh-mutation"
	none, fail := admissionv1.SideEffectClassNone, admissionv1.Fail
	for _, k := range []string{"networkchaos", "podchaos"} {
		path := mutatePath(k)
		c.Webhooks = append(c.Webhooks, admissionv1.MutatingWebhook{
			Name: "m" + k + ".chaos-mesh.org", Rules: rule(k), SideEffects: &none, FailurePolicy: &fail,
			AdmissionReviewVersions: []string{"v1"},
			ClientConfig:            admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Name: "chaos-mesh", Namespace: "chaos-mesh", Path: &path}},
		})
	}
	return c
}

func validating() *admissionv1.ValidatingWebhookConfiguration {
	c := &admissionv1.ValidatingWebhookConfiguration{}
	c.Name = "chaos-mesh-validation"
	none, fail := admissionv1.SideEffectClassNone, admissionv1.Fail
	for _, k := range []string{"networkchaos", "podchaos"} {
		path := validatePath(k)
		c.Webhooks = append(c.Webhooks, admissionv1.ValidatingWebhook{
			Name: "v" + k + ".chaos-mesh.org", Rules: rule(k), SideEffects: &none, FailurePolicy: &fail,
			AdmissionReviewVersions: []string{"v1"},
			ClientConfig:            admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Name: "chaos-mesh", Namespace: "chaos-mesh", Path: &path}},
		})
	}
	return c
}
