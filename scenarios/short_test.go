package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/simagent"
)

func TestScaleRange(t *testing.T) {
	tests := []struct{ from, to, full, short, wantFrom, wantTo int }{
		{0, 999, 2000, 200, 0, 99},
		{1000, 1999, 2000, 200, 100, 199},
		{0, 1999, 2000, 200, 0, 199},
		{5, 5, 2000, 200, 0, 0},           // at least one agent
		{1990, 1999, 2000, 200, 199, 199}, // the last agents stay last
		{10, 19, 100, 100, 10, 19},        // not shortened: as written
		{0, 9, 10, 3, 0, 2},
	}
	for _, tt := range tests {
		f, to := scaleRange(tt.from, tt.to, tt.full, tt.short)
		assert.Equal(t, [2]int{tt.wantFrom, tt.wantTo}, [2]int{f, to}, "%d-%d of %d in %d", tt.from, tt.to, tt.full, tt.short)
		assert.True(t, f >= 0 && to < tt.short && f <= to)
	}
}

func TestScaleWindow(t *testing.T) {
	s := func(d string) Duration { v, err := time.ParseDuration(d); require.NoError(t, err); return Duration(v) }
	assert.Equal(t, s("12s"), scaleWindow(s("2m"), 0.1))
	assert.Equal(t, MinShortWindow, scaleWindow(s("1s"), 0.02), "floor")
	assert.Equal(t, s("100ms"), scaleWindow(s("100ms"), 0.02), "never longer than written")
	assert.Equal(t, Duration(0), scaleWindow(0, 0.1), "until replaced stays so")
}

func TestShortenedScalesFaultsAndLabels(t *testing.T) {
	s, err := Bundled("mixed-soak")
	require.NoError(t, err)
	sh := s.Shortened()
	require.Equal(t, 200, sh.Fleet.Agents)
	assert.Equal(t, []simagent.LabelRange{
		{From: 0, To: 99, Labels: map[string]string{"site": "a"}},
		{From: 100, To: 199, Labels: map[string]string{"site": "b"}},
	}, sh.Fleet.Labels, "site=b still selects half the short fleet")

	var ph Phase
	for _, p := range sh.Phases {
		if p.Name == "restarts-and-blackholes" {
			ph = p
		}
	}
	require.Len(t, ph.Faults, 2)
	assert.Equal(t, Duration(400*time.Millisecond), ph.Faults[0].Faults.Restart.Downtime, "20s x 0.02")
	assert.Equal(t, Duration(2400*time.Millisecond), ph.Faults[1].Faults.Blackhole.For, "2m x 0.02")
	assert.Equal(t, "site=b", ph.Faults[1].Selector.Label)

	// The original is untouched.
	for _, p := range s.Phases {
		for _, fs := range p.Faults {
			if b := fs.Faults.Blackhole; b != nil {
				assert.Equal(t, Duration(2*time.Minute), b.For)
			}
			if r := fs.Faults.Restart; r != nil {
				assert.Equal(t, Duration(20*time.Second), r.Downtime)
			}
		}
	}
	assert.Len(t, s.Fleet.Labels, 2)
	assert.Equal(t, 1999, s.Fleet.Labels[1].To)
}

func TestShortenedScalesRangeSelectorsAndStorms(t *testing.T) {
	s, err := Bundled("v3-engine-reboot")
	require.NoError(t, err)
	sh := s.Shortened()
	require.Equal(t, 100, sh.Fleet.Agents)
	var ranges [][2]int
	var storm Duration
	for _, ph := range sh.Phases {
		for _, fs := range ph.Faults {
			if r := fs.Selector.Range; r != nil {
				ranges = append(ranges, [2]int{r.From, r.To})
			}
			if r := fs.Faults.ReportStorm; r != nil {
				storm = r.For
			}
			require.NoError(t, fs.Selector.Check(sh.Fleet.Agents))
		}
	}
	assert.Equal(t, [][2]int{{0, 29}, {30, 49}, {50, 59}}, ranges)
	assert.Equal(t, Duration(1200*time.Millisecond), storm, "3s x 0.4")
	assert.Equal(t, 299, s.Phases[2].Faults[0].Selector.Range.To, "the original is untouched")
}

func TestShortProfileSelectorsThatCannotFit(t *testing.T) {
	base := strings.Replace(good, "agents: 10", "agents: 100", 1)
	fits := base + "  - duration: 1s\n    faults:\n      - selector: {range: {from: 90, to: 99}}\n        faults: {}\nshort: {agents: 10}\n"
	s, err := Parse("t.yaml", []byte(fits))
	require.NoError(t, err, "a range scales with the fleet")
	assert.Equal(t, simagent.IndexRange{From: 9, To: 9}, *s.Shortened().Phases[1].Faults[0].Selector.Range)

	for sel, want := range map[string]string{
		"{index: 50}": "selector index 50 outside fleet of 10 agents; use percent or range, or set short.agents",
		"{count: 20}": "selector count 20 outside fleet of 10 agents",
	} {
		y := base + "  - duration: 1s\n    faults:\n      - selector: " + sel + "\n        faults: {}\nshort: {agents: 10}\n"
		_, err := Parse("t.yaml", []byte(y))
		require.Error(t, err, sel)
		assert.Contains(t, err.Error(), "t.yaml:14: phases[1].faults[0].selector: does not fit the short profile (10 agents): "+want, sel)
	}
}
