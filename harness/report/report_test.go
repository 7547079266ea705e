package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/simagent"
)

// fakeReport is a 30 s run sampled at 10 Hz through three phases, the
// middle one faulty; fail makes the fd invariant fail with long evidence.
func fakeReport(fail bool) *Report {
	r := &Report{
		Scenario: "quickstart", Description: "a little of everything", Poller: "gosnmp-leaky",
		Seed: 42, Short: true, Agents: 100,
		Started:  time.Date(2025, 11, 24, 16, 13, 5, 0, time.UTC),
		Duration: 31 * time.Second,
		Phases: []PhaseReport{
			{Name: "warmup", Start: 0, End: 6 * time.Second, Polls: 300, Succeeded: 300, Success: 1, P50: time.Millisecond, P99: 3 * time.Millisecond, Max: 5 * time.Millisecond},
			{Name: "chaos", Start: 6 * time.Second, End: 20 * time.Second, Faults: []string{"percent=30: drop=0.05", "range=0-19: blackhole"},
				Polls: 700, Succeeded: 640, Failed: 60, Success: 640.0 / 700, Errors: map[string]int{"timeout": 55, "decode": 5},
				P50: 2 * time.Millisecond, P99: 900 * time.Millisecond, Max: 3 * time.Second},
			{Name: "recovery", Start: 20 * time.Second, End: 30 * time.Second, Polls: 500, Succeeded: 500, Success: 1, P50: time.Millisecond, P99: 4 * time.Millisecond, Max: 8 * time.Millisecond},
		},
		Baseline: Sample{Goroutines: 12, FDs: 9, UDPSockets: 0, HeapBytes: 4 << 20},
		After:    Sample{T: 30500 * time.Millisecond, Goroutines: 12, FDs: 9, HeapBytes: 5 << 20},
		Polls:    PollCounts{Scheduled: 1500, Succeeded: 1440, Failed: 60, ByError: map[string]int{"timeout": 55, "decode": 5}},
		Fleet:    simagent.Stats{Requests: 4000, Responses: 3900, Drops: map[string]uint64{"blackhole": 80, "fault": 20, "closed": 0}},
		Invariants: []InvariantResult{
			{Name: "connections-closed", Pass: true, Summary: "0 sockets open after drain (poller 0, OS 0)"},
			{Name: "goroutines-bounded", Pass: true, Summary: "peak 140 over baseline 12, bound 192"},
			{Name: "fds-baseline", Pass: true, Summary: "9 fds after close, baseline 9"},
			{Name: "polls-accounted", Pass: true, Summary: "1500 scheduled, each reported once"},
			{Name: InvPhaseExpectations, Pass: true, Summary: "3 of 3 phases have expectations; all met"},
		},
		Pass: !fail,
	}
	for i := range 300 {
		t := time.Duration(i) * 100 * time.Millisecond
		s := Sample{T: t, Goroutines: 12 + i%40, FDs: 9 + i/30, UDPSockets: i / 30, HeapBytes: uint64(4<<20 + i*4096),
			InFlight: i % 50, Completed: 5, LatencyP99: time.Duration(i%7) * time.Millisecond,
			Poller: &pollapi.PollerStats{OpenSockets: i / 30, InFlight: i % 50, Goroutines: 2}}
		if i%25 == 0 {
			s.Completed = 0 // a gap in the latency line
		}
		r.Samples = append(r.Samples, s)
	}
	if fail {
		r.After.FDs, r.After.UDPSockets = 310, 300
		r.Invariants[2] = InvariantResult{Name: "fds-baseline", Pass: false, Summary: "310 fds after close, baseline 9 (+301, slack 2)"}
		for i := range 20 {
			r.Invariants[2].Evidence = append(r.Invariants[2].Evidence, fmt.Sprintf("fd %d -> socket:[%d]", 10+i, 1000+i))
		}
		r.Invariants[4] = InvariantResult{Name: InvPhaseExpectations, Summary: "1 of 3 phases with expectations missed them",
			Evidence: []string{"phase chaos: 91.43% of 700 polls succeeded, want at least 95.00%"}}
	}
	return r
}

func TestJSONRoundTrips(t *testing.T) {
	for _, fail := range []bool{false, true} {
		r := fakeReport(fail)
		var b bytes.Buffer
		require.NoError(t, WriteJSON(&b, r))
		got, err := ReadJSON(&b)
		require.NoError(t, err)
		assert.Equal(t, r, got)
	}
}

func TestTextHasVerdictInvariantsEvidenceAndPhases(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteText(&b, fakeReport(true)))
	out := b.String()
	t.Log("\n" + out)
	lines := strings.Split(out, "\n")
	assert.Equal(t, "FAIL: quickstart with poller gosnmp-leaky — 2 of 5 invariants violated", lines[0])
	for _, want := range []string{
		"  seed      42", "100 agents, short profile", "duration  31.0s",
		"✓ connections-closed", "✗ fds-baseline        310 fds after close",
		"      fd 10 -> socket:[1000]", "      fd 17 -> socket:[1007]", "… 12 more lines in report.html and report.json",
		"Polls: 1500 scheduled, 1440 succeeded, 60 failed",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "socket:[1008]", "evidence is cut at %d lines", evidenceLines)
	assert.Regexp(t, regexp.MustCompile(`(?m)^  chaos\s+6\.0s–20\.0s\s+700\s+91\.4%\s+2\.0ms\s+900ms\s+3\.0s\s+0\s+0s\s+0s\s+0s\s*$`), out)

	b.Reset()
	require.NoError(t, WriteText(&b, fakeReport(false)))
	assert.True(t, strings.HasPrefix(b.String(), "PASS: quickstart with poller gosnmp-leaky — all 5 invariants hold\n"))
	assert.NotContains(t, b.String(), "✗")
}

func TestHTMLIsSelfContainedWithPlotsBandsAndInvariants(t *testing.T) {
	r := fakeReport(true)
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, r))
	page := b.String()

	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	require.Len(t, svgs, 7, "one svg per plot")
	assert.Equal(t, 7, strings.Count(page, "<svg"))
	for i, id := range []string{"plot-goroutines", "plot-fds", "plot-inflight", "plot-latency", "plot-throughput", "plot-drops", "plot-heap"} {
		svg := svgs[i]
		assert.Contains(t, svg, `id="`+id+`"`)
		require.NoError(t, xml.Unmarshal([]byte(svg), new(struct{})), "%s is well-formed XML", id)
		for _, ph := range r.Phases {
			assert.Contains(t, svg, `class="phase" data-phase="`+ph.Name+`"`, "%s shades phase %s", id, ph.Name)
			assert.Contains(t, svg, `>`+ph.Name+`</text>`, "%s labels phase %s", id, ph.Name)
		}
		assert.Contains(t, svg, `class="series"`, "%s draws a line", id)
		assert.Contains(t, svg, "time since the run started (s)", "%s has an x axis label", id)
	}
	assert.Contains(t, svgs[0], `>goroutines</text>`)
	assert.Contains(t, svgs[1], `>UDP sockets (OS)</text>`)
	assert.Contains(t, svgs[3], `>milliseconds</text>`, "latency axis has its unit")
	assert.Contains(t, svgs[5], `>datagrams</text>`, "drops axis has its unit")
	assert.Contains(t, svgs[6], `>MiB</text>`, "heap axis has its unit")
	assert.Equal(t, 2, strings.Count(svgs[1], `class="dot"`), "fds and sockets after close")

	for _, inv := range r.Invariants {
		assert.Contains(t, page, `data-invariant="`+inv.Name+`"`)
	}
	assert.Contains(t, page, `<span class="badge fail">FAIL</span>`)
	assert.Contains(t, page, "fd 29 -&gt; socket:[1019]", "all evidence, escaped")
	assert.Contains(t, page, "percent=30: drop=0.05")
	assert.NotContains(t, page, "<script")
	assert.NotRegexp(t, `(src|href)=`, page, "no external assets")
	assert.NotContains(t, page, "closed 0", "zero drop counts are left out")
}

func TestHTMLOfAnEmptyReport(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, &Report{Scenario: `<x&"y>`, Poller: "p"}))
	assert.Equal(t, 7, strings.Count(b.String(), "<svg"))
	assert.Contains(t, b.String(), "&lt;x&amp;&#34;y&gt;")
	assert.NotContains(t, b.String(), "NaN")
}

// junitDoc is what CI tools read of junit.xml.
type junitDoc struct {
	Name   string `xml:"name,attr"`
	Suites []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Props    []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitHasACasePerInvariantAndFailures(t *testing.T) {
	r := fakeReport(true)
	var b bytes.Buffer
	require.NoError(t, WriteJUnit(&b, r))
	var doc junitDoc
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc), b.String())
	require.Len(t, doc.Suites, 1)
	s := doc.Suites[0]
	assert.Equal(t, "snmpchaos/quickstart/gosnmp-leaky", s.Name)
	assert.Equal(t, len(r.Invariants)+len(r.Phases), s.Tests, "a case per invariant and per phase")
	assert.Equal(t, len(s.Cases), s.Tests)
	assert.Equal(t, 3, s.Failures, "fds-baseline, phase-expectations and phase chaos")
	failed := map[string]string{}
	names := map[string]bool{}
	for _, c := range s.Cases {
		names[c.Name] = true
		if c.Failure != nil {
			failed[c.Name] = c.Failure.Message + "\n" + c.Failure.Text
		}
	}
	for _, inv := range r.Invariants {
		assert.True(t, names[inv.Name], inv.Name)
	}
	for _, ph := range r.Phases {
		assert.True(t, names["phase "+ph.Name], ph.Name)
	}
	require.Contains(t, failed, "phase chaos")
	assert.Contains(t, failed["phase chaos"], "91.43% of 700 polls succeeded")
	require.Contains(t, failed, "fds-baseline")
	assert.Contains(t, failed["fds-baseline"], "310 fds after close")
	assert.Contains(t, failed["fds-baseline"], "fd 29 -> socket:[1019]")
	assert.Contains(t, s.Props, struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}{"seed", "42"})
}

func TestWriteAllWritesFourFiles(t *testing.T) {
	dir := t.TempDir() + "/out/run"
	files, err := WriteAll(dir, fakeReport(false))
	require.NoError(t, err)
	for _, p := range []string{files.JSON, files.Text, files.HTML, files.JUnit} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Positive(t, fi.Size(), p)
	}
	assert.Equal(t, dir+"/report.html", files.HTML)
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi float64
		n      int
		want   []float64
	}{
		{"zero range", 0, 0, 5, []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}},
		{"goroutines", 0, 163, 5, []float64{0, 50, 100, 150, 200}},
		{"seconds", 0, 30, 10, []float64{0, 5, 10, 15, 20, 25, 30}},
		{"fractional", 0, 0.9, 5, []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := niceTicks(tt.lo, tt.hi, tt.n)
			require.Len(t, got, len(tt.want))
			for i := range got {
				assert.InDelta(t, tt.want[i], got[i], 1e-9)
			}
		})
	}
	assert.Equal(t, "0.2", fmtTick(0.2, 0.2))
	assert.Equal(t, "2.5", fmtTick(2.5, 2.5))
	assert.Equal(t, "0.25", fmtTick(0.25, 0.25))
	assert.Equal(t, "20k", fmtTick(20000, 5000))
	assert.False(t, math.IsNaN(canvas{}.y(1)))
}

func TestFitLabel(t *testing.T) {
	assert.Equal(t, "recovery", fitLabel("recovery", 100))
	assert.Equal(t, "reco…", fitLabel("recovery", 35))
	assert.Empty(t, fitLabel("recovery", 10))
}

// The phase cases read InvPhaseExpectations' evidence in the format
// ("phase NAME: ...") that harness/invariant's TestPhaseExpectations pins
// on the other side.
func TestJUnitPhaseCasesFollowPhaseExpectations(t *testing.T) {
	phases := []PhaseReport{{Name: "a", Polls: 100, Succeeded: 50, Failed: 50, Success: 0.5}, {Name: "a b", Polls: 10, Succeeded: 10, Success: 1}}
	inv := InvariantResult{Name: InvPhaseExpectations, Summary: "1 of 2 phases with expectations missed them",
		Evidence: []string{"phase a: 50.00% of 100 polls succeeded, want at least 99.00%", "  e.g. timeout: agent 3 get .1.3: timed out"}}
	r := &Report{Scenario: "s", Poller: "p", Phases: phases, Invariants: []InvariantResult{inv}}
	require.False(t, r.Invariants[0].Pass)
	var b bytes.Buffer
	require.NoError(t, WriteJUnit(&b, r))
	var doc junitDoc
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc))
	cases := doc.Suites[0].Cases
	require.Len(t, cases, 3)
	assert.Equal(t, "phase a", cases[1].Name)
	require.NotNil(t, cases[1].Failure)
	assert.Contains(t, cases[1].Failure.Message, "50.00% of 100 polls succeeded")
	assert.Equal(t, "phase a b", cases[2].Name)
	assert.Nil(t, cases[2].Failure)
}

// TestHarnessLagSumsTheSamplersLateness: the share of the run the harness
// was descheduled, and the text report's line with the late polls.
func TestHarnessLagSumsTheSamplersLateness(t *testing.T) {
	r := &Report{Polls: PollCounts{Late: 42, WorstLag: 640 * time.Millisecond}}
	assert.False(t, r.HarnessLag().Starved(), "no samples, no span")
	for i := range 21 {
		r.Samples = append(r.Samples, Sample{T: time.Duration(i) * 100 * time.Millisecond})
	}
	r.Samples[3].SampleLag, r.Samples[9].SampleLag = 150*time.Millisecond, 50*time.Millisecond
	lag := r.HarnessLag()
	assert.Equal(t, HarnessLag{Stalled: 200 * time.Millisecond, Longest: 150 * time.Millisecond, Span: 2 * time.Second}, lag)
	assert.InDelta(t, 0.1, lag.Share(), 1e-9)
	assert.False(t, lag.Starved(), "a tenth is not more than a tenth")
	r.Samples[10].SampleLag = time.Millisecond
	assert.True(t, r.HarnessLag().Starved())
	r.Samples[10].SampleLag = 0
	r.CPU = probe.CPUTime{Running: 2 * time.Second, Waiting: time.Second}
	assert.False(t, r.HarnessLag().Starved(), "waited half as long as it ran: not starved")
	r.CPU.Waiting += time.Millisecond
	assert.True(t, r.HarnessLag().Starved(), "waited more than half as long for a CPU as it ran")
	r.Samples[10].SampleLag = time.Millisecond
	var b bytes.Buffer
	require.NoError(t, WriteText(&b, r))
	assert.Contains(t, b.String(), "Harness lag: descheduled for 201ms of 2s (10%, longest 150ms); its threads ran 2s, waited 1.001s for a CPU (33%); 42 polls handed to the poller late, then at once, the latest 640ms after it came due")
}
