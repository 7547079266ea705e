// Package k8sapi is the contract between harness.Run and whatever runs a
// k8s-mode scenario's sites in a cluster: a Provider starts the sites and
// binds every phase's kernel faults, and the harness drives them as it
// drives netns sites (the agents over their control APIs, the faults
// through Inject and Recover). The harness holds only this interface. The
// implementation, k8s/k8smode (site pods, Chaos Mesh experiments,
// controller-runtime's client), is handed to Run with harness.WithK8s by
// the code that wants k8s mode (cmd/snmpchaos, the k8s tests), so the
// harness, harness/harnesstest and every poller test built on them
// compile without the Kubernetes libraries. This package imports nothing
// of Kubernetes, of k8s/ or of the rest of the harness.
package k8sapi

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Provider runs a k8s-mode scenario's sites in a cluster.
type Provider interface {
	// Start creates the sites of sc (a scenario in k8s mode, shortened
	// already when the run is short), waits until they are ready and
	// builds every phase's kernel faults, bound to the cluster but not
	// injected. An error wrapping scenarios.ErrInvalid says sc cannot run
	// in this mode, found before anything was made (Run reports it as
	// harness.ErrBadInput). On any error Start leaves nothing behind.
	Start(ctx context.Context, sc *scenarios.Scenario, env Env) (*Sites, error)
}

// Env is what the harness gives a run's sites.
type Env struct {
	// Seed is the run's seed (site i's agents are seeded from it).
	Seed uint64
	// Logger is the run's logger (never nil).
	Logger *slog.Logger
	// OnLink is called when a fault in force takes a site's link down
	// (up false) or brings it back on its own, as a flap does; fault is
	// the fault's description (Fault.Desc). Never nil.
	OnLink func(site int, up bool, fault string, at time.Time)
}

// Sites are a k8s-mode run's sites once they are ready.
type Sites struct {
	// Run names what the run made in the cluster (its run label).
	Run string
	// Namespace holds it.
	Namespace string
	// Token is the bearer token of every site's control API.
	Token string
	// Sites are the scenario's sites in order, one for each of
	// sc.Fleet.SiteAgents().
	Sites []Site
	// Phases holds each phase's kernel faults, by phase.
	Phases [][]Fault
	// Close removes everything Start made and waits (bounded) until it
	// is gone. The harness calls it once, after the faults are recovered
	// and the fleet is closed.
	Close func() error
}

// Site is one site once it runs.
type Site struct {
	// Name is what runs it (the pod's name).
	Name string
	// First is the site's first agent; agent j of the site listens on
	// First's address at First's port + j.
	First netip.AddrPort
	// Control is the URL of the site's control API.
	Control string
}

// Fault is one phase's kernel fault on one site.
type Fault struct {
	// Desc says what it does and where, e.g. "site 1: drop 5%".
	Desc string
	// Site is the site's index.
	Site int
	// Fault injects and recovers it.
	Fault Injector
}

// Injector is a kernel fault bound to its cluster, with the method set of
// harness/fault.Fault so the harness drives both alike: Inject applies
// it, Recover undoes it (Recover of a fault not injected returns nil),
// Name says what carries it and Available whether the cluster can do it.
type Injector interface {
	Name() string
	Available() bool
	Inject(ctx context.Context) error
	Recover(ctx context.Context) error
}
