package harness

import (
	"context"
	"io"

	"github.com/gosnmp/gosnmp"

	"github.com/snmpchaos/snmpchaos/harness/fleet"
	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/harness/poller"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// The harness's public names, kept stable while their code lives in the
// sub-packages by role: the poller API (harness/pollapi), the bundled
// pollers (harness/poller), the report and its renderers (harness/report)
// and the invariants' names (harness/invariant).

// Poller types (harness/pollapi).
type (
	// Poller is what the harness drives: see pollapi.Poller.
	Poller = pollapi.Poller
	// StatsReporter is implemented by pollers that can say what they hold.
	StatsReporter = pollapi.StatsReporter
	// PollerStats is a poller's own view of its resources.
	PollerStats = pollapi.PollerStats
	// Releaser is implemented by the deliberately broken pollers.
	Releaser = pollapi.Releaser
	// Op is the kind of a poll.
	Op = pollapi.Op
	// Target is an agent to poll.
	Target = pollapi.Target
	// Settings are the scenario's poller settings.
	Settings = pollapi.Settings
	// Poll is one scheduled poll.
	Poll = pollapi.Poll
	// Result is a poll's outcome.
	Result = pollapi.Result
	// Varbind is a poller-neutral varbind.
	Varbind = pollapi.Varbind
)

// Poll operations and target versions (harness/pollapi).
const (
	OpGet      = pollapi.OpGet
	OpWalk     = pollapi.OpWalk
	OpBulkWalk = pollapi.OpBulkWalk

	VersionV1  = pollapi.VersionV1
	VersionV2c = pollapi.VersionV2c
	VersionV3  = pollapi.VersionV3
)

// The bundled pollers (harness/poller).

// PollerKind is a poller NewPoller can make.
type PollerKind = poller.PollerKind

// ErrClosed is the error of polls handed to a poller after Close.
var ErrClosed = poller.ErrClosed

// ErrUnknownPoller is wrapped by NewPoller for a name it does not know.
var ErrUnknownPoller = poller.ErrUnknownPoller

// PollerKinds lists the pollers NewPoller can make: the default first, then
// the baselines, then the negative controls.
func PollerKinds() []PollerKind { return poller.PollerKinds() }

// Pollers lists the names NewPoller knows, the default ("pollerlib") first.
func Pollers() []string { return poller.Pollers() }

// NewPoller makes the poller called name with settings s.
func NewPoller(name string, s Settings) (Poller, error) { return poller.NewPoller(name, s) }

// NewPollerlib returns the bundled poller with settings s.
func NewPollerlib(s Settings) (Poller, error) { return poller.NewPollerlib(s) }

// NewGosnmp returns the plain gosnmp baseline, one GoSNMP per poll.
func NewGosnmp(s Settings) (Poller, error) { return poller.NewGosnmp(s) }

// NewGosnmpCached returns the cached-client gosnmp baseline.
func NewGosnmpCached(s Settings) (Poller, error) { return poller.NewGosnmpCached(s) }

// NewGosnmpLeaky returns gosnmp used as seen in production: Connect per
// poll, never Close.
func NewGosnmpLeaky(s Settings) (Poller, error) { return poller.NewGosnmpLeaky(s) }

// Sync adapts a blocking poll function to a Poller: see poller.Sync.
func Sync(name string, fn func(ctx context.Context, p Poll) Result, closeFn func(ctx context.Context) error) Poller {
	return poller.Sync(name, fn, closeFn)
}

// ErrorKind classifies a poll error for reports: see poller.ErrorKind.
func ErrorKind(err error) string { return poller.ErrorKind(err) }

// VarbindFromPDU converts a varbind decoded by gosnmp.
func VarbindFromPDU(p gosnmp.SnmpPDU) Varbind { return poller.VarbindFromPDU(p) }

// VarbindsFromPDUs converts varbinds decoded by gosnmp, in order (nil for
// none).
func VarbindsFromPDUs(pdus []gosnmp.SnmpPDU) []Varbind { return poller.VarbindsFromPDUs(pdus) }

// CloseFunc adapts a plain Close() error to the close function Sync
// takes: see poller.CloseFunc.
func CloseFunc(fn func() error) func(context.Context) error { return poller.CloseFunc(fn) }

// VarbindFromPollerlib converts a pollerlib varbind.
func VarbindFromPollerlib(p pollerlib.Varbind) Varbind { return poller.VarbindFromPollerlib(p) }

// VarbindFromMIB converts an agent's entry (harness/invariant).
func VarbindFromMIB(oid mib.OID, v *mib.Value) Varbind { return invariant.VarbindFromMIB(oid, v) }

// VarbindFromEntry converts an entry of an agent's Snapshot.
func VarbindFromEntry(e mib.Entry) Varbind { return invariant.VarbindFromEntry(e) }

// The report (harness/report).
type (
	// Report is everything a run found.
	Report = report.Report
	// PhaseReport is one phase's outcome.
	PhaseReport = report.PhaseReport
	// CancelStats summarise cancel latency.
	CancelStats = report.CancelStats
	// Sample is one reading of the probes.
	Sample = report.Sample
	// HarnessLag is how much of a run the harness lost to being
	// descheduled (Report.HarnessLag).
	HarnessLag = report.HarnessLag
	// PollCounts account for every scheduled poll.
	PollCounts = report.PollCounts
	// InvariantResult is one named check with its evidence.
	InvariantResult = report.InvariantResult
	// KernelEvent is a change netns mode made to the kernel during a run.
	KernelEvent = report.KernelEvent
	// SiteReport is one netns site of a run.
	SiteReport = report.SiteReport
	// FleetProcess is one simagent process of a fleet outside the harness.
	FleetProcess = report.FleetProcess
	// FleetApply is one phase's faults sent to one fleet process.
	FleetApply = report.FleetApply
	// FleetEvent is an outage, restart or error of a fleet process.
	FleetEvent = report.FleetEvent
	// ProcResources are a fleet process's /proc readings over a run.
	ProcResources = report.ProcResources
	// ProcSample is one /proc reading of a fleet process.
	ProcSample = report.ProcSample
	// ReportFiles are the paths WriteAll wrote.
	ReportFiles = report.Files
	// Progress is a status snapshot of a running scenario.
	Progress = report.Progress
	// ProgressPrinter prints Progress snapshots as status lines.
	ProgressPrinter = report.ProgressPrinter
)

// Kernel event kinds (harness/report).
const (
	KernelInject   = report.KernelInject
	KernelRecover  = report.KernelRecover
	KernelLinkDown = report.KernelLinkDown
	KernelLinkUp   = report.KernelLinkUp
)

// InvariantCompleted names the check MarkInterrupted adds.
const InvariantCompleted = report.InvariantCompleted

// Invariant names, as they appear in reports (harness/invariant).
const (
	InvConnectionsClosed = invariant.ConnectionsClosed
	InvGoroutinesBounded = invariant.GoroutinesBounded
	InvFDsStable         = invariant.FDsStable
	InvPollsAccounted    = invariant.PollsAccounted
	InvWalksComplete     = invariant.WalksComplete
	InvPhaseExpectations = invariant.PhaseExpectations
	InvNoTrend           = invariant.NoTrend
	InvInFlightBounded   = invariant.InFlightBounded
	InvCancelLatency     = invariant.CancelLatency
)

// ErrNeedsRoot is returned by Run for a netns scenario when the process
// cannot build network namespaces: not root, or not Linux.
var ErrNeedsRoot = fleet.ErrNeedsRoot

// WriteText writes the short verdict for people.
func WriteText(w io.Writer, r *Report) error { return report.WriteText(w, r) }

// WriteJSON writes r as indented JSON; ReadJSON reads it back.
func WriteJSON(w io.Writer, r *Report) error { return report.WriteJSON(w, r) }

// ReadJSON reads a report WriteJSON wrote.
func ReadJSON(rd io.Reader) (*Report, error) { return report.ReadJSON(rd) }

// WriteHTML writes one self-contained HTML page with SVG plots.
func WriteHTML(w io.Writer, r *Report) error { return report.WriteHTML(w, r) }

// WriteJUnit writes the run as JUnit XML for CI.
func WriteJUnit(w io.Writer, r *Report) error { return report.WriteJUnit(w, r) }

// WriteAll writes report.json, report.txt, report.html and junit.xml into
// dir.
func WriteAll(dir string, r *Report) (ReportFiles, error) { return report.WriteAll(dir, r) }

// MarkInterrupted records in r that the run stopped before its end.
func MarkInterrupted(r *Report, cause error) { report.MarkInterrupted(r, cause) }

// NewProgressPrinter prints to w; tty selects in-place updates.
func NewProgressPrinter(w io.Writer, tty bool) *ProgressPrinter {
	return report.NewProgressPrinter(w, tty)
}

// ProgressLine renders p in one line of about 100 columns.
func ProgressLine(p Progress) string { return report.ProgressLine(p) }

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool { return report.IsTerminal(w) }
