package k8stest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Kubeconform is the kubeconform binary scripts/k8s-binaries.sh installs.
func Kubeconform() string { return filepath.Join(Tools(), "kubeconform") }

// schemaKinds are the built-in kinds Schemas writes: those of the
// manifests under k8s/ and of a k8s-mode run.
var schemaKinds = []string{"Namespace", "ServiceAccount", "Role", "RoleBinding", "Service", "Job", "Pod"}

// Schemas writes kubeconform's schema files into a temporary directory
// and returns its -schema-location template: the built-in kinds the
// manifests and a run use, from the running apiserver's OpenAPI v2
// document, and NetworkChaos and PodChaos from the generated CRDs. No
// schema is fetched from anywhere.
func Schemas(t testing.TB, e *Env) string {
	t.Helper()
	dir := t.TempDir()
	cs, err := kubernetes.NewForConfig(e.Config)
	must(t, err)
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/openapi/v2").SetHeader("Accept", "application/json").DoRaw(t.Context())
	must(t, err)
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	must(t, json.Unmarshal(raw, &doc))
	defs := map[string]any{}
	for k, v := range doc.Definitions {
		defs[k] = intOrString(v)
	}
	want := map[string]bool{}
	for _, k := range schemaKinds {
		want[k] = true
	}
	for name, d := range doc.Definitions {
		gvks, _ := d["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			kind, _ := gvk["kind"].(string)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			if !want[kind] {
				continue
			}
			if group == "" {
				group = version // kubeconform's .Group of "v1"
			}
			writeJSON(t, filepath.Join(dir, group, strings.ToLower(kind)+"_"+version+".json"),
				map[string]any{"$ref": "#/definitions/" + name, "definitions": defs})
		}
	}
	for _, plural := range []string{"networkchaos", "podchaos"} {
		b, err := os.ReadFile(filepath.Join(CRDs(), "chaos-mesh.org_"+plural+".yaml"))
		must(t, err)
		var crd apiextv1.CustomResourceDefinition
		must(t, yaml.Unmarshal(b, &crd))
		for _, v := range crd.Spec.Versions {
			writeJSON(t, filepath.Join(dir, crd.Spec.Group, strings.ToLower(crd.Spec.Names.Kind)+"_"+v.Name+".json"), v.Schema.OpenAPIV3Schema)
		}
	}
	return dir + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
}

// RunKubeconform checks files with kubeconform against the schemas
// Schemas wrote (strict: unknown fields are errors) and returns its
// output, ending in its summary line.
func RunKubeconform(ctx context.Context, schemas string, files ...string) ([]byte, error) {
	args := append([]string{"-strict", "-schema-location", schemas, "-summary", "-output", "text"}, files...)
	return exec.CommandContext(ctx, Kubeconform(), args...).CombinedOutput()
}

// intOrString rewrites OpenAPI v2's int-or-string strings as JSON
// Schema's "a string or an integer", as openapi2jsonschema does.
func intOrString(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x["format"] == "int-or-string" {
			return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = intOrString(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = intOrString(e)
		}
		return out
	}
	return v
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, b, 0o644))
}

// Decode reads a YAML stream of objects ("---" separated; comments and
// empty documents skipped). A document that is not an object is an
// error naming its position in the stream.
func Decode(stream []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for i, doc := range strings.Split("\n"+string(stream), "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("k8stest: %v", err)
	}
}
