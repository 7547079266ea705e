package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/snmpchaos/snmpchaos/k8s/chaos"
	"github.com/snmpchaos/snmpchaos/k8s/k8smode"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// k8sClient connects to the cluster $KUBECONFIG (or ~/.kube/config) names,
// or the one this process runs in. It returns the namespace to use:
// namespace if given, else $POD_NAMESPACE (the harness Job sets it), else
// the kubeconfig context's, else "snmpchaos".
func k8sClient(namespace string) (client.Client, string, error) {
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("no cluster: %w (set KUBECONFIG, or run in a pod)", err)
	}
	// client-go's default of 5 requests a second (burst 10) would throttle
	// a flap's create/delete/wait calls and the pods' readiness polls.
	cfg.QPS, cfg.Burst = 50, 100
	scheme, err := chaos.Scheme()
	if err != nil {
		return nil, "", err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, "", err
	}
	if namespace == "" {
		namespace = os.Getenv("POD_NAMESPACE")
	}
	if namespace == "" {
		if ns, set, err := cc.Namespace(); err == nil && set {
			namespace = ns
		}
	}
	if namespace == "" {
		namespace = "snmpchaos"
	}
	return c, namespace, nil
}

// checkK8sFlags checks --k8s-namespace and --k8s-image as the API server
// would check them, so that a bad one is refused before anything is made.
func checkK8sFlags(o *runOptions) error {
	if o.k8sNamespace != "" {
		if msgs := validation.IsDNS1123Label(o.k8sNamespace); len(msgs) > 0 {
			return fmt.Errorf("--k8s-namespace %q: not a namespace name: %s", o.k8sNamespace, strings.Join(msgs, "; "))
		}
	}
	if o.k8sImage != "" && strings.ContainsFunc(o.k8sImage, unicode.IsSpace) {
		return fmt.Errorf("--k8s-image %q: an image reference has no spaces", o.k8sImage)
	}
	return nil
}

// printK8sPlan writes, as one YAML stream, what a k8s-mode run of sc
// would create: the site pods (the control token redacted) and each
// phase's Chaos Mesh experiments, every one checked as the run checks it.
func printK8sPlan(ctx context.Context, w io.Writer, sc *scenarios.Scenario, k k8smode.Cluster, seed uint64) error {
	plan, err := k.Plan(ctx, sc, k8smode.RunID(sc.Name), seed)
	if err != nil {
		return err
	}
	emit := func(comment string, obj any) error {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "---\n# %s\n%s", comment, b)
		return err
	}
	for i, p := range plan.Pods {
		if err := emit(fmt.Sprintf("site %d: simagent pod, created at the start, deleted at the end", i), pods.Redact(p)); err != nil {
			return err
		}
	}
	for i, exps := range plan.Phases {
		ph := sc.Phases[i]
		for _, e := range exps {
			if e.Flap != nil {
				c := fmt.Sprintf("phase %d %s (%s): %s: created for each %s down window (names -c0, -c1, ...), deleted after it", i, ph.Name, ph.Duration.D(), e.Fault, e.Flap.Down)
				if err := emit(c, e.Flap.CycleObject(0)); err != nil {
					return err
				}
				continue
			}
			for _, o := range e.Objects {
				if err := emit(fmt.Sprintf("phase %d %s (%s): %s: created when the phase starts, deleted when it ends", i, ph.Name, ph.Duration.D(), e.Fault), o); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// cleanupK8s removes (or with dry lists) the pods and Chaos objects that
// k8s-mode runs left.
func cleanupK8s(namespace, run string, dry bool, stdout, stderr io.Writer) int {
	c, _, err := k8sClient("")
	if err != nil {
		fmt.Fprintf(stderr, "snmpchaos cleanup --k8s: %v\n", err)
		return exitFail
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl := chaos.NewClient(c, nil)
	objs, err := cl.Leftovers(ctx, namespace, run)
	if err != nil {
		fmt.Fprintf(stderr, "snmpchaos cleanup --k8s: %v\n", err)
		return exitFail
	}
	ps, err := pods.Leftovers(ctx, c, namespace, run)
	if err != nil {
		fmt.Fprintf(stderr, "snmpchaos cleanup --k8s: %v\n", err)
		return exitFail
	}
	for _, o := range objs {
		fmt.Fprintf(stdout, "%s %s/%s (run %s)\n", reflect.TypeOf(o).Elem().Name(), o.GetNamespace(), o.GetName(), o.GetLabels()[chaos.LabelRun])
	}
	for _, p := range ps {
		fmt.Fprintf(stdout, "Pod %s/%s (run %s)\n", p.Namespace, p.Name, p.Labels[chaos.LabelRun])
	}
	if dry {
		fmt.Fprintf(stdout, "%d Chaos objects, %d pods (dry run: nothing removed)\n", len(objs), len(ps))
		return exitOK
	}
	n, cerr := cl.Cleanup(ctx, namespace, run)
	np, perr := pods.Cleanup(ctx, c, namespace, run)
	fmt.Fprintf(stdout, "removed %d Chaos objects, %d pods\n", n, np)
	if err := errors.Join(cerr, perr); err != nil {
		fmt.Fprintf(stderr, "snmpchaos cleanup --k8s: %v\n", err)
		return exitFail
	}
	return exitOK
}
