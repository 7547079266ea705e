// Package report is what a run found and how it is shown: the Report type
// with its phases, samples, poll counts, invariant results and kernel
// events (it marshals to report.json), and its renderers: the short text
// verdict, JSON, one self-contained HTML page with SVG plots of the
// samples over the phases, and JUnit XML for CI (WriteAll writes all
// four). ProgressPrinter renders the live status line of a running
// scenario. A renderer reads a Report only: it imports no fleet, poller
// adapter, probe or invariant, so a report read back from JSON renders the
// same as one fresh from a run.
package report
