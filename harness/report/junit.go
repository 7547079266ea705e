package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WriteJUnit writes the run as JUnit XML for CI: one testsuite for the run,
// one testcase per invariant (a failure element holding its summary and
// evidence when it is violated) and one per phase expectation.
func WriteJUnit(w io.Writer, r *Report) error {
	suite := junitSuite{
		Name:      "snmpchaos/" + r.Scenario + "/" + r.Poller,
		Time:      secs(r.Duration),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{"scenario", r.Scenario},
			{"poller", r.Poller},
			{"seed", strconv.FormatUint(r.Seed, 10)},
			{"short", strconv.FormatBool(r.Short)},
			{"agents", strconv.Itoa(r.Agents)},
		},
	}
	class := "snmpchaos." + r.Scenario
	for _, inv := range r.Invariants {
		c := junitCase{Name: inv.Name, Classname: class + ".invariants", Time: "0"}
		if !inv.Pass {
			c.Failure = &junitFailure{Message: inv.Summary, Type: "invariant", Text: failureText(inv.Summary, inv.Evidence)}
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Cases = append(suite.Cases, phaseCases(r, class+".phases")...)
	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
	}
	doc := junitSuites{Name: "snmpchaos", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}

// phaseCases is one testcase per phase, named "phase NAME", when the
// phase expectations were checked: it fails with the InvPhaseExpectations
// evidence line about that phase ("phase NAME: ..."), and its output is the
// phase's figures.
func phaseCases(r *Report, class string) []junitCase {
	i := slices.IndexFunc(r.Invariants, func(inv InvariantResult) bool { return inv.Name == InvPhaseExpectations })
	if i < 0 {
		return nil
	}
	inv := r.Invariants[i]
	var out []junitCase
	for _, ph := range r.Phases {
		c := junitCase{Name: "phase " + ph.Name, Classname: class, Time: secs(ph.End - ph.Start),
			SystemOut: fmt.Sprintf("%s–%s: %d polls, %s succeeded, p50 %s, p99 %s, max %s", fmtDur(ph.Start), fmtDur(ph.End),
				ph.Polls, phaseSuccess(ph), fmtDur(ph.P50), fmtDur(ph.P99), fmtDur(ph.Max))}
		for _, line := range inv.Evidence {
			if msg, ok := strings.CutPrefix(line, "phase "+ph.Name+": "); ok {
				c.Failure = &junitFailure{Message: msg, Type: "expectation", Text: line}
				break
			}
		}
		out = append(out, c)
	}
	return out
}

func failureText(summary string, evidence []string) string {
	if len(evidence) == 0 {
		return summary
	}
	return summary + "\n\n" + strings.Join(evidence, "\n")
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// The JUnit XML schema as Jenkins, GitLab and GitHub reporters read it.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)
