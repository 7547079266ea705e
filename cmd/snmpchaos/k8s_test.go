package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/snmpchaos/snmpchaos/k8s/chaos"
	"github.com/snmpchaos/snmpchaos/k8s/k8stest"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
)

// TestDryRunK8s runs `snmpchaos run netns-flap --mode k8s --dry-run`
// through the command line, reads the YAML stream it prints, and checks
// that it is what the scenario implies (a pod per site with its agents,
// labels and seed; the flap's partition and the drop's loss in phase 1,
// nothing in the others), that no object carries the control token, and
// that every object passes the run's own checks (chaos.Check), kubeconform
// with the apiserver's and the CRDs' schemas, and a server-side dry-run
// create in a real kube-apiserver with Chaos Mesh's webhooks.
func TestDryRunK8s(t *testing.T) {
	const ns = "snmpchaos-dry"
	tests := []struct {
		name   string
		args   []string
		agents int
		image  string
		phase1 time.Duration
		down   time.Duration
	}{
		{"full", nil, 2000, pods.DefaultImage, 24 * time.Second, time.Second},
		{"short", []string{"--short", "--k8s-image", "registry.example/simagent:v1"}, 100, "registry.example/simagent:v1",
			7200 * time.Millisecond, time.Second},
	}
	streams := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "netns-flap", "--mode", "k8s", "--dry-run", "--seed", "7", "--k8s-namespace", ns}, tt.args...)
			code, stdout, stderr := runCLI(t, t.Context(), args...)
			require.Equal(t, exitOK, code, "stderr: %s", stderr)
			streams[tt.name] = stdout
			objs, err := k8stest.Decode([]byte(stdout))
			require.NoError(t, err)
			byName := map[string]*unstructured.Unstructured{}
			var names []string
			for _, o := range objs {
				assert.Equal(t, ns, o.GetNamespace(), "%s", o.GetName())
				byName[o.GetKind()+"/"+o.GetName()] = o
				names = append(names, o.GetKind()+"/"+o.GetName())
			}
			require.NotEmpty(t, objs)
			run := objs[0].GetLabels()[chaos.LabelRun]
			require.Regexp(t, `^netns-flap-[0-9a-f]{6}$`, run)
			want := []string{
				"Pod/" + run + "-site0", "Pod/" + run + "-site1",
				"NetworkChaos/" + run + "-p1-0-partition-c0", "NetworkChaos/" + run + "-p1-1-loss",
			}
			require.Equal(t, want, names, "a pod per site, then phase 1's flap (its first down window) and drop; phases 0 and 2 have no kernel faults")

			for site, role := range []string{"flapping", "lossy"} {
				var p corev1.Pod
				fromUnstructured(t, byName[want[site]], &p)
				assert.Equal(t, pods.SiteLabels(run, site), p.Labels)
				require.Len(t, p.Spec.Containers, 1)
				c := p.Spec.Containers[0]
				assert.Equal(t, tt.image, c.Image)
				argv := strings.Join(c.Args, " ")
				assert.Contains(t, argv, "--agents "+strconv.Itoa(tt.agents)+" --by-port --listen $(POD_IP):16100")
				assert.Contains(t, argv, "--seed "+strconv.Itoa(7+site))
				assert.Contains(t, argv, "--profile if-mib:8")
				assert.Contains(t, argv, "--label 0-"+strconv.Itoa(tt.agents-1)+":site="+strconv.Itoa(site)+",role="+role)
				assert.Contains(t, argv, "--control $(POD_IP):8080")
				env := map[string]string{}
				for _, e := range c.Env {
					env[e.Name] = e.Value
				}
				assert.Equal(t, pods.Redacted, env["SIMAGENT_CONTROL_TOKEN"], "the control token is redacted")
			}
			// No token-like value anywhere: k8smode.Cluster.Plan makes a 32-hex-digit one.
			assert.NotRegexp(t, regexp.MustCompile(`[0-9a-f]{32}`), stdout)

			var part, loss v1alpha1.NetworkChaos
			fromUnstructured(t, byName[want[2]], &part)
			fromUnstructured(t, byName[want[3]], &loss)
			for site, o := range []*v1alpha1.NetworkChaos{&part, &loss} {
				assert.Equal(t, map[string]string{
					chaos.LabelManagedBy: chaos.ManagedBy, chaos.LabelRun: run, chaos.LabelPhase: "1", chaos.LabelSite: strconv.Itoa(site),
				}, o.Labels, o.Name)
				assert.Equal(t, "flap-and-drop", o.Annotations[chaos.AnnotationPhase])
				assert.Equal(t, pods.SiteLabels(run, site), o.Spec.Selector.LabelSelectors, "%s selects site %d's pod", o.Name, site)
				assert.Equal(t, []string{ns}, o.Spec.Selector.Namespaces)
				require.NotNil(t, o.Spec.Target, o.Name)
				assert.Equal(t, map[string]string{"app.kubernetes.io/name": "snmpchaos-harness"}, o.Spec.Target.Selector.LabelSelectors)
				// Every object passes the run's own checks again, as printed.
				require.NoError(t, chaos.Check(t.Context(), o.DeepCopy()))
			}
			assert.Equal(t, v1alpha1.PartitionAction, part.Spec.Action)
			assert.Equal(t, v1alpha1.Both, part.Spec.Direction)
			assert.Equal(t, (tt.down + chaos.DefaultGrace).String(), *part.Spec.Duration, "a down window plus the grace")
			assert.Equal(t, v1alpha1.LossAction, loss.Spec.Action)
			assert.Equal(t, v1alpha1.From, loss.Spec.Direction, "drop toAgents: the harness pod's egress")
			require.NotNil(t, loss.Spec.Loss)
			assert.Equal(t, "5", loss.Spec.Loss.Loss)
			assert.Equal(t, (tt.phase1 + chaos.DefaultGrace).String(), *loss.Spec.Duration, "the phase plus the grace")
			assert.Contains(t, stdout, "# phase 1 flap-and-drop ("+tt.phase1.String()+"): site 0: flap")
		})
	}

	// The same stream through the cluster-side checks.
	k8stest.Need(t, k8stest.Kubeconform())
	e := k8stest.Start(t)
	ctx := t.Context()
	schemas := k8stest.Schemas(t, e)
	require.NoError(t, e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	t.Cleanup(func() { _ = e.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}) })
	dir := t.TempDir()
	for _, tt := range tests {
		stream, ok := streams[tt.name]
		require.True(t, ok, "subtest %s ran", tt.name)
		f := filepath.Join(dir, tt.name+".yaml")
		require.NoError(t, os.WriteFile(f, []byte(stream), 0o644))
		out, err := k8stest.RunKubeconform(ctx, schemas, f)
		require.NoError(t, err, "kubeconform %s:\n%s", tt.name, out)
		assert.Contains(t, string(out), "Valid: 4, Invalid: 0, Errors: 0, Skipped: 0", "%s", out)
		objs, err := k8stest.Decode([]byte(stream))
		require.NoError(t, err)
		for _, o := range objs {
			require.NoError(t, e.Client.Create(ctx, o, client.DryRunAll), "%s: %s %s", tt.name, o.GetKind(), o.GetName())
		}
	}
	var pl corev1.PodList
	require.NoError(t, e.Client.List(ctx, &pl, client.InNamespace(ns)))
	assert.Empty(t, pl.Items, "a dry run stores nothing")
	var nl v1alpha1.NetworkChaosList
	require.NoError(t, e.Client.List(ctx, &nl, client.InNamespace(ns)))
	assert.Empty(t, nl.Items, "a dry run stores nothing")
}

// TestDryRunK8sBadInput: what cannot run in k8s mode, and bad k8s flags,
// get exit status 2 and an error naming the field or flag, with nothing
// on stdout and no secret in the message.
func TestDryRunK8sBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"not in k8s mode", []string{"run", "quickstart", "--dry-run"},
			[]string{"--dry-run: scenario quickstart is in mode inprocess", "add --mode k8s"}},
		{"unknown mode", []string{"run", "netns-flap", "--mode", "kube", "--dry-run"},
			[]string{`--mode "kube": want inprocess, netns, k8s`}},
		{"v3 users", []string{"run", "v3-engine-reboot", "--mode", "k8s", "--dry-run"},
			[]string{"fleet.v3Users: not in k8s mode yet"}},
		{"mixed kinds", []string{"run", "testdata/k8s-kinds.yaml", "--mode", "k8s", "--dry-run"},
			[]string{"fleet.kinds: not in k8s mode yet"}},
		{"bad namespace", []string{"run", "netns-flap", "--mode", "k8s", "--dry-run", "--k8s-namespace", "Snmp_Chaos"},
			[]string{`--k8s-namespace "Snmp_Chaos"`, "RFC 1123"}},
		{"bad image", []string{"run", "netns-flap", "--mode", "k8s", "--dry-run", "--k8s-image", "simagent dev"},
			[]string{`--k8s-image "simagent dev"`}},
		{"k8s flag without k8s mode", []string{"run", "quickstart", "--k8s-namespace", "x", "--dry-run"},
			[]string{"add --mode k8s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, t.Context(), tt.args...)
			assert.Equal(t, exitUsage, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Empty(t, stdout)
			for _, w := range tt.want {
				assert.Contains(t, stderr, w)
			}
			for _, secret := range []string{"authpass1", "privpass1", "authpass2"} {
				assert.NotContains(t, stderr, secret)
			}
		})
	}
}

func fromUnstructured(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	require.NotNil(t, u)
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into))
}
