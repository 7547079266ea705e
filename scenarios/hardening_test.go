package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests of issue 15's findings about scenario files.

// base is a valid scenario of 10 agents labelled in two halves; %s is
// replaced by the first phase's faults.
const base = `version: 1
name: t
fleet:
  agents: 10
  labels:
    - {from: 0, to: 4, labels: {site: a}}
    - {from: 5, to: 9, labels: {site: b}}
load:
  interval: 1s
  ops:
    - kind: get
      oids: [.1.3.6.1.2.1.1.3.0]
phases:
  - duration: 2s
    faults:
%s
`

func withFaults(faults string) string { return strings.Replace(base, "%s", faults, 1) }

// aliasBomb is a "billion laughs": each level lists the one before ten
// times, so levels levels expand to 10^levels nodes.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("version: 1\nname: bomb\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= levels; i++ {
		p := "*a" + string(rune('0'+i-1))
		b.WriteString("x" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" + strings.Repeat(p+", ", 9) + p + "]\n")
	}
	return b.String()
}

func TestFinding1AliasBombRefused(t *testing.T) {
	// 9 levels: 10^9 nodes expanded from a file of under 1 KB. Before the
	// bound the strict checker expanded it (28 s and 704 MB at 4 KB).
	bomb := aliasBomb(9)
	require.Less(t, len(bomb), 1024)
	_, err := Parse("bomb.yaml", []byte(bomb))
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "bomb.yaml:1: too large: more than 100000 YAML nodes with aliases expanded")

	// A few honest aliases still work.
	ok := withFaults("      - selector: &half {label: site=a}\n        faults: {drop: {prob: 0.1}}\n      - selector: *half\n        faults: {delay: {fixed: 10ms}}")
	_, err = Parse("ok.yaml", []byte(ok))
	assert.NoError(t, err)

	// Many aliases of a small anchor are refused past MaxAliases.
	many := "version: 1\nname: t\nx: &a 1\ny: [" + strings.Repeat("*a, ", MaxAliases) + "*a]\n"
	_, err = Parse("many.yaml", []byte(many))
	assert.ErrorContains(t, err, "too many aliases: 1001 (at most 1000)")
}

func TestFinding1FileSizeBounded(t *testing.T) {
	big := withFaults("") + "# " + strings.Repeat("x", MaxFileSize) + "\n"
	_, err := Parse("big.yaml", []byte(big))
	assert.ErrorContains(t, err, "big.yaml: file too large:")

	f := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(f, []byte(big), 0o644))
	_, err = LoadFile(f)
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "file too large: more than 1048576 bytes")
}

func TestFinding2NothingSelectorsRefused(t *testing.T) {
	for sel, want := range map[string]string{
		"{percent: 0}":          "percent 0: want a share in (0, 100]",
		"{percent: .nan}":       "want finite numbers, got NaN",
		"{percent: -5}":         "percent -5: want a share in (0, 100]",
		"{count: 0}":            "count 0 selects no agent",
		"{label: \"\"}":         `label "": want KEY=VALUE`,
		"{label: site}":         `label "site": want KEY=VALUE`,
		"{}":                    "selector {} names no agent; omit the selector (or write all: true)",
		"{all: false}":          "all: false selects no agent",
		"{percnt: 10}":          `unknown field "percnt"`,
		"{count: 1, all: true}": "selector sets 2 kinds (all, count); set one",
		"{label: site=c}":       "selector label=site=c matches no agent (labels: site=a, site=b)",
	} {
		t.Run(sel, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(withFaults("      - selector: "+sel+"\n        faults: {blackhole: {}}")))
			require.ErrorIs(t, err, ErrInvalid)
			assert.ErrorContains(t, err, "t.yaml:16: phases[0].faults[0].selector: ")
			assert.ErrorContains(t, err, want)
		})
	}
	// Omitting the selector still means every agent, and it says so when
	// written out.
	s, err := Parse("t.yaml", []byte(withFaults("      - faults: {blackhole: {}}")))
	require.NoError(t, err)
	b, err := s.Phases[0].Faults[0].Selector.MarshalJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"all": true}`, string(b))
}

func TestFinding3V3UsersAsStringNotEchoed(t *testing.T) {
	src := strings.Replace(v3good, "  v3Users:\n    - ops:SHA:authpass1:AES:privpass1\n    - mon:SHA-256:authpass2\n",
		"  v3Users: \"ops:SHA:Zq7AuthSecretX1:AES:Zq7PrivSecretX2\"\n", 1)
	_, err := Parse("t.yaml", []byte(src))
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "t.yaml:5: fleet.v3Users: want a list, got a string (value not shown")
	assert.NotContains(t, err.Error(), "Zq7AuthSecretX1")
	assert.NotContains(t, err.Error(), "Zq7PrivSecretX2")

	// A mapping of users, a number, a list of lists: never a value.
	for _, v := range []string{"{ops: Zq7AuthSecretX1}", "[[Zq7AuthSecretX1]]", "[{name: Zq7AuthSecretX1}]"} {
		src := strings.Replace(v3good, "  v3Users:\n    - ops:SHA:authpass1:AES:privpass1\n    - mon:SHA-256:authpass2\n", "  v3Users: "+v+"\n", 1)
		_, err := Parse("t.yaml", []byte(src))
		require.Error(t, err, v)
		assert.NotContains(t, err.Error(), "Zq7AuthSecretX1", v)
	}
}

func TestFinding6ValidateCatchesWhatRunWould(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "missing.snmprec")
	for name, c := range map[string]struct{ from, to, want string }{
		"label range backwards": {"{from: 5, to: 9, labels: {site: b}}", "{from: 8, to: 2, labels: {site: b}}",
			"t.yaml:7: fleet.labels[1]: range 8-2: from is after to"},
		"overlapping labels": {"{from: 5, to: 9, labels: {site: b}}", "{from: 3, to: 9, labels: {site: b}}",
			"t.yaml:7: fleet.labels[1]: range 3-9 overlaps Labels[0] (0-4) on key site"},
		"unreadable data": {"  agents: 10\n", "  agents: 10\n  data: " + unreadable + "\n",
			"fleet.data: mib: open " + unreadable},
		"duration without a unit": {"  - duration: 2s\n", "  - duration: 12\n",
			"phases[0].duration: duration 12 has no unit: write \"12s\", \"12ms\" or \"12ns\""},
		"label selector matching none": {"%s", "      - selector: {label: site=z}\n        faults: {blackhole: {}}",
			"phases[0].faults[0].selector: selector label=site=z matches no agent"},
	} {
		t.Run(name, func(t *testing.T) {
			src := strings.Replace(base, c.from, c.to, 1)
			require.NotEqual(t, base, src)
			src = strings.Replace(src, "%s", "      - faults: {drop: {prob: 0.1}}", 1)
			_, err := Parse("t.yaml", []byte(src))
			require.ErrorIs(t, err, ErrInvalid)
			assert.ErrorContains(t, err, c.want)
		})
	}
	// Labels on the same agents with different keys are fine.
	src := strings.Replace(base, "{from: 5, to: 9, labels: {site: b}}", "{from: 0, to: 9, labels: {os: x}}", 1)
	_, err := Parse("t.yaml", []byte(withFaultsIn(src, "      - selector: {label: os=x}\n        faults: {blackhole: {}}")))
	assert.NoError(t, err)
}

func withFaultsIn(src, faults string) string { return strings.Replace(src, "%s", faults, 1) }

func TestFinding5FleetListenStaysOnLoopback(t *testing.T) {
	for _, l := range []string{"0.0.0.0:1161", "192.0.2.2:161", "[::]:1161"} {
		src := strings.Replace(withFaults("      - faults: {drop: {prob: 0.1}}"), "  agents: 10\n", "  agents: 10\n  listen: \""+l+"\"\n", 1)
		_, err := Parse("t.yaml", []byte(src))
		require.ErrorIs(t, err, ErrInvalid, l)
		assert.ErrorContains(t, err, "t.yaml:5: fleet.listen: "+l+" is not a loopback address", l)
	}
	src := strings.Replace(withFaults("      - faults: {drop: {prob: 0.1}}"), "  agents: 10\n", "  agents: 10\n  listen: \"127.3.0.1:0\"\n", 1)
	_, err := Parse("t.yaml", []byte(src))
	assert.NoError(t, err)
}
