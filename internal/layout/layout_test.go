package layout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxLines bounds every non-test Go file.
const maxLines = 500

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath     string
	Dir            string
	Name           string
	Module         *struct{ Path string }
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string // files of other systems (foo_linux.go on macOS)
	Imports        []string
	Deps           []string
}

// modulePackages lists the module's packages as the go command builds
// them, with the module path.
func modulePackages(t *testing.T) (string, []pkg) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the layout tests need the go command on PATH: %v", err)
	}
	out, err := exec.CommandContext(t.Context(), "go", "list", "-e", "-json", "github.com/snmpchaos/snmpchaos/...").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err, "go list")
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs)
	return pkgs[0].Module.Path, pkgs
}

// within returns the module-relative paths of the module's packages
// among paths ("harness/report").
func within(module string, paths []string) []string {
	var out []string
	for _, p := range paths {
		if rel, ok := strings.CutPrefix(p, module+"/"); ok {
			out = append(out, rel)
		}
	}
	return out
}

// under reports whether rel is tree or inside it.
func under(rel, tree string) bool { return rel == tree || strings.HasPrefix(rel, tree+"/") }

// role is what one package, or a tree of them, may depend on, directly
// or not.
type role struct {
	// deny lists trees of the module the package must not depend on.
	deny []string
	// harness, when not nil, lists the only harness packages it may
	// depend on (nil: any).
	harness []string
	// external lists trees of other modules' packages it must not depend
	// on ("k8s.io").
	external []string
}

// kubernetes are the Kubernetes and Chaos Mesh libraries: only k8s/ and
// cmd/ may bring them in.
var kubernetes = []string{"k8s.io", "sigs.k8s.io", "github.com/chaos-mesh"}

// noK8s adds to r what keeps a package free of k8s mode: nothing under
// k8s/ and none of the Kubernetes libraries, so that its users (a poller
// author's test on harness/harnesstest) neither compile nor download
// them. k8s mode reaches the harness only as a k8sapi.Provider value.
func noK8s(r role) role {
	r.deny = append(r.deny, "k8s")
	r.external = append(r.external, kubernetes...)
	return r
}

// rule gives a role to a package, or to a tree of them.
type rule struct {
	tree string
	role role
	// exact: tree alone, not the packages below it.
	exact bool
}

// roles are the import rules, by package, most specific first; every
// package of the module matches one (a new package needs its rule).
func roles() []rule {
	return []rule{
		// The poller library users import pulls in no simulator and no
		// harness.
		{tree: "pollerlib", role: noK8s(role{deny: []string{"simagent", "harness", "scenarios", "netns"}})},
		// The simulator, the scenarios, the netns topology and the shared
		// SNMP code sit below the harness.
		{tree: "simagent", role: noK8s(role{deny: []string{"harness", "pollerlib"}})},
		{tree: "scenarios", role: noK8s(role{deny: []string{"harness", "pollerlib"}})},
		{tree: "netns", role: noK8s(role{deny: []string{"harness", "simagent", "pollerlib", "scenarios"}})},
		// Kubernetes: site pods and Chaos Mesh objects built from scenarios,
		// below the harness as netns is. k8smode, k8s mode's provider, is
		// the one that knows the harness, and only its contract (k8sapi):
		// the harness never imports k8s/, the CLI hands it a provider.
		{tree: "k8s/k8smode", role: role{deny: []string{"pollerlib"}, harness: []string{"harness/k8sapi"}}},
		{tree: "k8s", role: role{deny: []string{"harness", "pollerlib"}}},
		{tree: "snmp", role: noK8s(role{deny: []string{"harness", "simagent", "pollerlib", "scenarios", "netns"}})},
		{tree: "internal/layout"},
		{tree: "internal", role: noK8s(role{deny: []string{"harness"}})},
		// The harness by role: each sub-package only what its role needs.
		// k8s mode's contract: what a provider (k8s/k8smode) implements and
		// Run drives; none of the harness, no Kubernetes.
		{tree: "harness/k8sapi", role: noK8s(role{deny: []string{"pollerlib", "netns"}, harness: []string{}})},
		{tree: "harness/pollapi", role: noK8s(role{deny: []string{"simagent", "pollerlib", "scenarios", "netns"}, harness: []string{}})},
		// probe reads another process's UDP sockets (and their drops)
		// through internal/udpprobe.
		{tree: "harness/probe", role: noK8s(role{deny: []string{"simagent", "pollerlib", "scenarios", "netns", "snmp", "internal/benchutil", "internal/netsnmptest", "internal/oid"}, harness: []string{}})},
		// report carries the probes' process readings (ProcessReport).
		{tree: "harness/report", role: noK8s(role{deny: []string{"pollerlib", "scenarios", "netns"}, harness: []string{"harness/pollapi", "harness/probe"}})},
		{tree: "harness/invariant", role: noK8s(role{deny: []string{"pollerlib", "netns"}, harness: []string{"harness/pollapi", "harness/probe", "harness/report"}})},
		{tree: "harness/poller", role: noK8s(role{deny: []string{"simagent", "scenarios", "netns"}, harness: []string{"harness/pollapi"}})},
		{tree: "harness/fleet", role: noK8s(role{deny: []string{"pollerlib"}, harness: []string{}})},
		// fault reads scenarios.KernelFault, and scenarios speaks simagent's
		// fault types: the simulator comes in through it, no poller does.
		{tree: "harness/fault", role: noK8s(role{deny: []string{"pollerlib"}, harness: []string{}})},
		{tree: "harness/internal", role: noK8s(role{harness: []string{}})},
		{tree: "harness/harnesstest", role: noK8s(role{})},
		// An observed daemon (snmp_exporter): it needs the scenario and the
		// fleet's data to render its configuration, so it builds on
		// package harness and the CLI makes it. (The exec poller, a child
		// over the exec protocol, is in harness/poller, on pollapi alone.)
		{tree: "harness/daemon", role: noK8s(role{})},
		// The run itself may use every role, but nothing of k8s/: k8s mode
		// comes in as the provider WithK8s is given. A new sub-package
		// needs a rule of its own.
		{tree: "harness", exact: true, role: noK8s(role{})},
		{tree: "cmd"},
	}
}

func roleOf(rel string) (string, role, bool) {
	for _, r := range roles() {
		if rel == r.tree || (!r.exact && under(rel, r.tree)) {
			return r.tree, r.role, true
		}
	}
	return "", role{}, false
}

// importViolations lists the packages of pkgs that break a rule.
func importViolations(module string, pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		tree, r, ok := roleOf(rel)
		if !ok {
			out = append(out, rel+": no import rule covers it: add its role to roles in internal/layout/layout_test.go and docs/architecture.md")
			continue
		}
		for _, d := range within(module, p.Deps) {
			for _, deny := range r.deny {
				if under(d, deny) {
					out = append(out, fmt.Sprintf("%s depends on %s (rule for %s: nothing under %s)", rel, d, tree, deny))
				}
			}
			if r.harness != nil && under(d, "harness") && !slices.Contains(r.harness, d) {
				out = append(out, fmt.Sprintf("%s depends on %s (rule for %s: of the harness only %v)", rel, d, tree, r.harness))
			}
		}
		// One line a tree: a library brings in hundreds of packages.
		for _, ext := range r.external {
			var hits []string
			for _, d := range p.Deps {
				if under(d, ext) {
					hits = append(hits, d)
				}
			}
			switch {
			case len(hits) == 1:
				out = append(out, fmt.Sprintf("%s depends on %s (rule for %s: nothing of %s)", rel, hits[0], tree, ext))
			case len(hits) > 1:
				out = append(out, fmt.Sprintf("%s depends on %s and %d more packages of %s (rule for %s: nothing of %s)", rel, hits[0], len(hits)-1, ext, tree, ext))
			}
		}
	}
	return out
}

// TestLayout reads the module once and checks it against every rule.
func TestLayout(t *testing.T) {
	module, pkgs := modulePackages(t)
	t.Run("ImportRules", func(t *testing.T) { importRules(t, module, pkgs) })
	t.Run("HarnesstestUsesThePublicAPI", func(t *testing.T) { harnesstestUsesThePublicAPI(t, module, pkgs) })
	t.Run("FilesUnder500Lines", func(t *testing.T) { filesUnder500Lines(t, module, pkgs, t.Errorf) })
	t.Run("EveryPackageSaysItsJob", func(t *testing.T) { everyPackageSaysItsJob(t, module, pkgs, t.Errorf) })
}

func importRules(t *testing.T, module string, pkgs []pkg) {
	for _, v := range importViolations(module, pkgs) {
		t.Error(v)
	}
}

// The rules catch what they are for: these packages break them.
func TestImportRulesNegativeControls(t *testing.T) {
	const m = "example.com/m"
	bad := []pkg{
		{ImportPath: m + "/pollerlib", Deps: []string{"fmt", m + "/simagent/mib"}},
		{ImportPath: m + "/scenarios", Deps: []string{m + "/harness"}},
		{ImportPath: m + "/harness/report", Deps: []string{m + "/harness/pollapi", m + "/harness/fleet"}},
		{ImportPath: m + "/harness/invariant", Deps: []string{m + "/harness/report", m + "/harness/poller"}},
		{ImportPath: m + "/harness/fleet", Deps: []string{m + "/harness/poller"}},
		{ImportPath: m + "/harness/widget"},
		{ImportPath: m + "/newtop"},
		// k8s mode stays out of the harness: no k8s/ package, no
		// Kubernetes library, and k8s/ knows only the harness's contract.
		{ImportPath: m + "/harness", Deps: []string{m + "/harness/k8sapi", m + "/k8s/pods"}},
		{ImportPath: m + "/harness/harnesstest", Deps: []string{m + "/harness", "sigs.k8s.io/controller-runtime/pkg/client"}},
		{ImportPath: m + "/harness/k8sapi", Deps: []string{m + "/scenarios", "k8s.io/api/core/v1", "k8s.io/apimachinery/pkg/types"}},
		{ImportPath: m + "/k8s/k8smode", Deps: []string{m + "/harness/k8sapi", m + "/harness"}},
		{ImportPath: m + "/k8s/pods", Deps: []string{m + "/harness/k8sapi"}},
	}
	got := importViolations(m, bad)
	require.Len(t, got, len(bad), "one violation each: %q", got)
	for i, want := range []string{"pollerlib depends on simagent/mib", "scenarios depends on harness", "harness/report depends on harness/fleet",
		"harness/invariant depends on harness/poller", "harness/fleet depends on harness/poller", "harness/widget: no import rule", "newtop: no import rule",
		"harness depends on k8s/pods (rule for harness: nothing under k8s)",
		"harness/harnesstest depends on sigs.k8s.io/controller-runtime/pkg/client (rule for harness/harnesstest: nothing of sigs.k8s.io)",
		"harness/k8sapi depends on k8s.io/api/core/v1 and 1 more packages of k8s.io", "k8s/k8smode depends on harness (rule for k8s/k8smode: of the harness only [harness/k8sapi])",
		"k8s/pods depends on harness/k8sapi (rule for k8s: nothing under harness)"} {
		assert.Contains(t, got[i], want)
	}
	ok := []pkg{
		{ImportPath: m + "/harness/invariant", Deps: []string{m + "/harness/report", m + "/harness/probe", m + "/scenarios"}},
		{ImportPath: m + "/harness", Deps: []string{m + "/harness/k8sapi", m + "/harness/fleet", "k8s.iox/notkubernetes"}},
		{ImportPath: m + "/k8s/k8smode", Deps: []string{m + "/harness/k8sapi", m + "/k8s/pods", m + "/k8s/chaos", m + "/scenarios", "sigs.k8s.io/controller-runtime/pkg/client"}},
		{ImportPath: m + "/cmd/snmpchaos", Deps: []string{m + "/harness", m + "/k8s/k8smode", "k8s.io/client-go/rest"}},
	}
	assert.Empty(t, importViolations(m, ok))
}

// harnesstest uses only the harness's public API: it imports harness, no
// sub-package of it.
func harnesstestUsesThePublicAPI(t *testing.T, module string, pkgs []pkg) {
	for _, p := range pkgs {
		if p.ImportPath != module+"/harness/harnesstest" {
			continue
		}
		for _, d := range within(module, p.Imports) {
			if under(d, "harness") && d != "harness" {
				t.Errorf("harness/harnesstest imports %s: it should use only package harness", d)
			}
		}
		return
	}
	t.Skip("no harness/harnesstest package")
}

// sources are a package's non-test Go files, those of other systems too.
func sources(p pkg) []string {
	var out []string
	for _, f := range slices.Concat(p.GoFiles, p.CgoFiles, p.IgnoredGoFiles) {
		if strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go") {
			out = append(out, filepath.Join(p.Dir, f))
		}
	}
	return out
}

func countLines(t *testing.T, name string) int {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		n++
	}
	require.NoError(t, sc.Err(), name)
	return n
}

// filesUnder500Lines reports, through errorf, the files over maxLines.
func filesUnder500Lines(t *testing.T, module string, pkgs []pkg, errorf func(string, ...any)) {
	for _, p := range pkgs {
		for _, f := range sources(p) {
			if n := countLines(t, f); n > maxLines {
				rel, _ := filepath.Rel(p.Dir, f)
				errorf("%s/%s has %d lines, more than %d: split it by what its parts do", strings.TrimPrefix(p.ImportPath, module+"/"), rel, n, maxLines)
			}
		}
	}
}

// minDoc is the shortest package comment that can say a package's job in
// a paragraph rather than a title.
const minDoc = 100

// everyPackageSaysItsJob reports, through errorf, the packages without a
// package comment that says their job in a paragraph.
func everyPackageSaysItsJob(t *testing.T, module string, pkgs []pkg, errorf func(string, ...any)) {
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		doc := ""
		fset := token.NewFileSet()
		for _, f := range sources(p) {
			af, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly|parser.ParseComments)
			require.NoError(t, err)
			if af.Doc != nil && len(af.Doc.Text()) > len(doc) {
				doc = af.Doc.Text()
			}
		}
		want := "Package " + p.Name + " "
		if p.Name == "main" {
			want = "Command " + filepath.Base(p.ImportPath) + " "
		}
		switch {
		case doc == "":
			errorf("%s has no package doc comment: add a doc.go saying its job in a paragraph", rel)
		case !strings.HasPrefix(doc, want):
			errorf("%s: its package comment should start %q, got %q", rel, want, firstLine(doc))
		case len(doc) < minDoc:
			errorf("%s: its package comment is %d characters (%q): say its job in a paragraph", rel, len(doc), firstLine(doc))
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// The file and doc checks catch what they are for: a long file, a
// package without a comment, one with a title for a comment.
func TestFilesAndDocsNegativeControls(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("long.go", "// Package long is long.\npackage long\n"+strings.Repeat("\n", maxLines))
	write("bare.go", "package bare\n")
	write("title.go", "// Package title has a title.\npackage title\n")
	write("wrong.go", "// This package is misnamed, and its comment does not say so in the way go doc wants it said.\npackage wrong\n")
	const m = "example.com/m"
	pkgs := []pkg{
		{ImportPath: m + "/long", Name: "long", Dir: dir, GoFiles: []string{"long.go"}},
		{ImportPath: m + "/bare", Name: "bare", Dir: dir, GoFiles: []string{"bare.go"}},
		{ImportPath: m + "/title", Name: "title", Dir: dir, GoFiles: []string{"title.go"}},
		{ImportPath: m + "/wrong", Name: "wrong", Dir: dir, GoFiles: []string{"wrong.go"}},
	}
	var got []string
	collect := func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }
	filesUnder500Lines(t, m, pkgs, collect)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "long/long.go has 502 lines")
	got = nil
	everyPackageSaysItsJob(t, m, pkgs[1:], collect)
	require.Len(t, got, 3, "%q", got)
	assert.Contains(t, got[0], "bare has no package doc comment")
	assert.Contains(t, got[1], "title: its package comment is 27 characters")
	assert.Contains(t, got[2], "wrong: its package comment should start \"Package wrong \"")
}
