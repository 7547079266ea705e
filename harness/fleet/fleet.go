package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/snmpchaos/snmpchaos/scenarios"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// Fleet is what a run needs of its agents, wherever they live: one
// simagent fleet in this process, or a Set of one fleet per netns site
// seen as one, with global agent indexes (later: agents in another
// process or in Kubernetes, behind the same methods).
type Fleet interface {
	// Len is the number of agents; agents are numbered from 0.
	Len() int
	// Addr is agent i's address, as the poller reaches it.
	Addr(i int) netip.AddrPort
	// Community is the agents' SNMPv1/v2c community.
	Community() string
	// Store is the data every agent serves.
	Store() *mib.Store
	// Faults returns the faults in force on agent i.
	Faults(i int) simagent.Faults
	// Select returns the indexes sel picks.
	Select(sel simagent.Selector) ([]int, error)
	// SetFaults replaces the faults of the agents sel picks and returns
	// how many it changed.
	SetFaults(sel simagent.Selector, faults simagent.Faults) (int, error)
	// Stats sums the agents' counters.
	Stats() simagent.Stats
	// Close stops every agent.
	Close() error
}

var (
	_ Fleet = (*simagent.Fleet)(nil)
	_ Fleet = (*Set)(nil)
)

// ErrNeedsRoot is returned for a netns scenario when the process cannot
// build network namespaces: not root, or not Linux.
var ErrNeedsRoot = errors.New("harness: netns mode needs root on Linux (network namespaces, veth, nftables)")

// Config is what starting a fleet needs beyond the scenario.
type Config struct {
	// Scenario's fleet section says how many agents, with what data.
	Scenario *scenarios.Scenario
	// Listen is the scenario's fleet.listen, parsed.
	Listen netip.AddrPort
	Seed   uint64
	Logger *slog.Logger
	// ReadyTimeout bounds the wait for the agents to answer; with
	// SkipReadyCheck Start does not wait.
	ReadyTimeout   time.Duration
	SkipReadyCheck bool
	// NetnsFamily names a netns run's namespaces and links.
	NetnsFamily string
}

// Start loads the data and starts the agents in this process, and waits
// until they answer.
func Start(ctx context.Context, c Config) (Fleet, error) {
	sc := c.Scenario
	fl := sc.Fleet
	var store *mib.Store
	var kinds []simagent.Kind
	var err error
	if len(fl.Kinds) > 0 {
		kinds, err = openKinds(sc)
	} else {
		store, err = openStore(sc)
	}
	if err != nil {
		return nil, err
	}
	f, err := simagent.Start(ctx, simagent.Config{
		Agents: fl.Agents, Listen: c.Listen, ByPort: fl.ByPort, Store: store, Kinds: kinds, Community: fl.Community,
		Seed: c.Seed, MaxMsgSize: fl.MaxMsgSize, Labels: fl.Labels, Logger: c.Logger, Users: fl.Users(),
	})
	if err != nil {
		return nil, fmt.Errorf("harness: scenario %s: start fleet: %w", sc.Name, err)
	}
	if !c.SkipReadyCheck {
		if err := WaitReady(ctx, f, c.ReadyTimeout); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	return f, nil
}

// openStore opens the data the scenario's agents serve: a profile or a
// data file.
func openStore(sc *scenarios.Scenario) (*mib.Store, error) {
	spec := sc.Fleet.Profile
	if spec == "" {
		spec = dataPath(sc.Source, sc.Fleet.Data)
	}
	store, err := mib.Open(spec)
	if err != nil {
		return nil, fmt.Errorf("harness: scenario %s: fleet data: %w", sc.Name, err)
	}
	return store, nil
}

// openKinds opens the kinds of a mixed fleet (fleet.kinds): each takes
// its share of the agents, the last of them (or those without one) the
// rest, so the mix holds in the short profile too.
func openKinds(sc *scenarios.Scenario) ([]simagent.Kind, error) {
	kinds := make([]simagent.Kind, len(sc.Fleet.Kinds))
	open := false
	for i := range sc.Fleet.Kinds {
		k := &sc.Fleet.Kinds[i]
		st, err := mib.Open(k.Spec(sc.Source))
		if err != nil {
			return nil, fmt.Errorf("harness: scenario %s: fleet.kinds[%d]: %w", sc.Name, i, err)
		}
		kinds[i] = simagent.Kind{Name: k.KindName(), Store: st, Share: k.Part()}
		open = open || k.Part() == 0
	}
	if !open {
		kinds[len(kinds)-1].Share = 0 // takes what rounding leaves
	}
	return kinds, nil
}

// dataPath resolves a data file named in a scenario relative to the
// scenario file when it is there.
func dataPath(source, data string) string {
	if filepath.IsAbs(data) || source == "" {
		return data
	}
	p := filepath.Join(filepath.Dir(source), data)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return data
}
