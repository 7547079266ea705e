package poller

import (
	"context"
	"fmt"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"

	"github.com/snmpchaos/snmpchaos/pollerlib"
)

// pollerlibPoller drives pollerlib: a poll is one blocking pollerlib call
// on a goroutine of the embedded syncPoller.
type pollerlibPoller struct {
	*syncPoller
	lib *pollerlib.Poller
}

// NewPollerlib returns the bundled poller with settings s: s.Timeout is the
// first request's timeout and the cap of the adaptive timeout, s.MinTimeout
// its floor (default a tenth of s.Timeout, at least 50ms). It reports its sockets
// and goroutines (StatsReporter).
func NewPollerlib(s pollapi.Settings) (pollapi.Poller, error) {
	lib, err := newLib(s)
	if err != nil {
		return nil, err
	}
	pp := &pollerlibPoller{lib: lib}
	pp.syncPoller = newSyncPoller("pollerlib", pp.poll, lib.Close)
	return pp, nil
}

// newLib opens a pollerlib.Poller with settings s.
func newLib(s pollapi.Settings) (*pollerlib.Poller, error) {
	hi := timeout(s)
	lo := s.MinTimeout
	if lo <= 0 {
		// A floor well under the timeout, but not so low that a busy
		// machine's scheduling stalls read as losses.
		lo = min(max(50*time.Millisecond, hi/10), hi)
	}
	opts := []pollerlib.Option{pollerlib.WithTimeouts(hi, lo, hi), pollerlib.WithRetries(s.Retries)}
	if s.Sockets > 0 {
		opts = append(opts, pollerlib.WithSockets(s.Sockets))
	}
	if s.MaxRepetitions > 0 {
		opts = append(opts, pollerlib.WithMaxRepetitions(s.MaxRepetitions))
	}
	if s.MaxInFlight > 0 {
		// The work the scenario allows in flight: past it pollerlib
		// refuses at once (ErrOverloaded, a failed poll).
		opts = append(opts, pollerlib.WithMaxInFlight(s.MaxInFlight))
	}
	if s.Seed != 0 {
		opts = append(opts, pollerlib.WithSeed(s.Seed))
	}
	lib, err := pollerlib.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("harness: pollerlib: %w", err)
	}
	return lib, nil
}

// poll runs one poll through pollerlib.
func (pp *pollerlibPoller) poll(ctx context.Context, p pollapi.Poll) pollapi.Result {
	return libPoll(ctx, pp.lib, p)
}

func libPoll(ctx context.Context, lib *pollerlib.Poller, p pollapi.Poll) pollapi.Result {
	t := libTarget(p.Target)
	var vbs []pollerlib.Varbind
	var err error
	switch p.Op {
	case pollapi.OpGet:
		oids := make([]pollerlib.OID, len(p.OIDs))
		for i, s := range p.OIDs {
			if oids[i], err = pollerlib.ParseOID(s); err != nil {
				return pollapi.Result{Err: err}
			}
		}
		vbs, err = lib.Get(ctx, t, oids...)
	case pollapi.OpWalk, pollapi.OpBulkWalk:
		root, perr := pollerlib.ParseOID(p.Root)
		if perr != nil {
			return pollapi.Result{Err: perr}
		}
		if p.Op == pollapi.OpWalk {
			vbs, err = lib.WalkAll(ctx, t, root)
		} else {
			vbs, err = lib.BulkWalkAll(ctx, t, root)
		}
	default:
		return pollapi.Result{Err: fmt.Errorf("harness: unknown op %q", p.Op)}
	}
	if err != nil {
		return pollapi.Result{Err: err}
	}
	out := make([]pollapi.Varbind, len(vbs))
	for i, v := range vbs {
		out[i] = VarbindFromPollerlib(v)
	}
	return pollapi.Result{Varbinds: out}
}

// PollerStats is pollerlib's own count, plus the goroutines running polls.
func (pp *pollerlibPoller) PollerStats() pollapi.PollerStats {
	return libStats(pp.lib, int(pp.running.Load()))
}

func libStats(lib *pollerlib.Poller, running int) pollapi.PollerStats {
	st := lib.Stats()
	return pollapi.PollerStats{OpenSockets: st.Sockets, InFlight: running, Goroutines: st.Goroutines + running}
}
