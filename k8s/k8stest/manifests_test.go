package k8stest_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/snmpchaos/snmpchaos/k8s/k8smode"
	"github.com/snmpchaos/snmpchaos/k8s/k8stest"
	"github.com/snmpchaos/snmpchaos/k8s/pods"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// repo is the repository's root, from this package's directory.
const repo = "../.."

// TestManifests checks every manifest under k8s/ and what --dry-run
// prints for netns-flap and quickstart in k8s mode: kubeconform against
// JSON schemas made from the running apiserver's OpenAPI document and the
// generated Chaos Mesh CRDs (offline, no schema is fetched), and creation
// with server-side dry run; a broken manifest must fail the same checks.
func TestManifests(t *testing.T) {
	k8stest.Need(t, k8stest.Kubeconform())
	e := k8stest.Start(t)
	ctx := t.Context()
	schemas := k8stest.Schemas(t, e)

	files := []string{filepath.Join(repo, "k8s", "harness-job.yaml")}
	base, err := filepath.Glob(filepath.Join(repo, "k8s", "base", "*.yaml"))
	require.NoError(t, err)
	files = append(files, base...)
	dir := t.TempDir()
	for _, name := range []string{"netns-flap", "quickstart"} {
		files = append(files, writePlan(t, dir, name))
	}
	kc := func(files ...string) ([]byte, error) { return k8stest.RunKubeconform(ctx, schemas, files...) }
	out, err := kc(files...)
	require.NoError(t, err, "kubeconform:\n%s", out)
	assert.Contains(t, string(out), "Invalid: 0, Errors: 0, Skipped: 0")
	t.Logf("kubeconform: %s", bytes.TrimSpace(out))

	// The same check refuses what the schemas forbid.
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`apiVersion: chaos-mesh.org/v1alpha1
kind: NetworkChaos
metadata: {name: x, namespace: snmpchaos}
spec: {action: loss, mode: most, selector: {labelSelectors: {a: b}}, loss: {loss: "5"}}
---
apiVersion: v1
kind: Pod
metadata: {name: y}
spec: {containers: [{name: c, image: i, ports: [{containerPort: "many"}]}]}
`), 0o644))
	out, err = kc(bad)
	require.Error(t, err)
	assert.Contains(t, string(out), "Invalid: 2", "%s", out)

	// Server-side: every object is accepted by the apiserver (schema,
	// webhooks, admission) in a dry run.
	require.NoError(t, e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metaName("snmpchaos")}))
	for _, f := range files {
		for _, o := range decodeAll(t, f) {
			if o.GetKind() == "Namespace" {
				continue // made for real above
			}
			require.NoError(t, e.Client.Create(ctx, o, client.DryRunAll), "%s: %s %s", f, o.GetKind(), o.GetName())
		}
	}
	var pl corev1.PodList
	require.NoError(t, e.Client.List(ctx, &pl, client.InNamespace("snmpchaos")))
	assert.Empty(t, pl.Items, "a dry run stores nothing")
	require.NoError(t, e.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metaName("snmpchaos")}))
}

// TestWorkflows runs actionlint on every workflow, and on a broken one.
func TestWorkflows(t *testing.T) {
	actionlint := filepath.Join(k8stest.Tools(), "actionlint")
	k8stest.Need(t, actionlint)
	wf, err := filepath.Glob(filepath.Join(repo, ".github", "workflows", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, wf)
	assert.Contains(t, strings.Join(wf, " "), "kind-chaos.yml")
	out, err := exec.CommandContext(t.Context(), actionlint, wf...).CombinedOutput()
	require.NoError(t, err, "actionlint:\n%s", out)

	bad := filepath.Join(t.TempDir(), "bad.yml")
	require.NoError(t, os.WriteFile(bad, []byte("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"), 0o644))
	out, err = exec.CommandContext(t.Context(), actionlint, bad).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "nope")
}

// writePlan writes what --dry-run prints for scenario name in k8s mode.
func writePlan(t *testing.T, dir, name string) string {
	t.Helper()
	sc, err := scenarios.Bundled(name)
	require.NoError(t, err)
	sc, err = sc.InMode(scenarios.ModeK8s)
	require.NoError(t, err)
	plan, err := k8smode.Cluster{}.Plan(t.Context(), sc, k8smode.RunID(name), 1)
	require.NoError(t, err)
	var buf bytes.Buffer
	add := func(o any) {
		b, err := yaml.Marshal(o)
		require.NoError(t, err)
		buf.WriteString("---\n")
		buf.Write(b)
	}
	for _, p := range plan.Pods {
		add(pods.Redact(p))
	}
	for _, exps := range plan.Phases {
		for _, e := range exps {
			if e.Flap != nil {
				add(e.Flap.CycleObject(0))
			}
			for _, o := range e.Objects {
				add(o)
			}
		}
	}
	f := filepath.Join(dir, name+".yaml")
	require.NoError(t, os.WriteFile(f, buf.Bytes(), 0o644))
	return f
}

// decodeAll reads a YAML stream of objects.
func decodeAll(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	out, err := k8stest.Decode(b)
	require.NoError(t, err, "%s", file)
	return out
}

func metaName(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
