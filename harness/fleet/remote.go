package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/control"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// RemoteConfig says which simagent processes make a remote fleet and what
// they must serve.
type RemoteConfig struct {
	// URLs are the processes' control APIs, in agent order: the agents of
	// the first URL come first.
	URLs []string
	// Token is the bearer token of APIs that require one.
	Token string
	// Store is the data the agents must serve: every process's data digest
	// must be its control.DataDigest, so walks are checked against the
	// data the agents really hold.
	Store *mib.Store
	// Community is the agents' v1/v2c community.
	Community string
	// Seed resolves count and percent selectors over the whole fleet.
	Seed uint64
	// Agents, when not 0, is the number of agents the processes must
	// have together.
	Agents int
	// V3Users are the SNMPv3 user names every process must serve.
	V3Users []string
	// ReadyTimeout bounds the wait for every process to answer ready
	// (default 30 s).
	ReadyTimeout time.Duration
	// Watch is how often each process is checked (and, when spawned, its
	// resources read); default 100 ms.
	Watch  time.Duration
	Logger *slog.Logger

	children []*child // set by Spawn, one per URL
}

// Remote is a fleet of agents in simagent processes (on this host or
// others) driven over their control APIs: discovered at Dial, faults
// applied per phase to every process at once, counters read over HTTP.
// Agent i of the fleet is agent i-first[k] of process k. Faults(i) and
// Select answer from the fleet's own record of what it applied, checked
// against each process's fault generation.
//
// A watch goroutine asks every process for its info at Watch intervals:
// it records when a process stops answering and when it is back, and a
// process that came back as a new one (another pid or start time) gets
// the faults in force applied again.
type Remote struct {
	cfg    RemoteConfig
	log    *slog.Logger
	procs  []*proc
	first  []int
	n      int
	addrs  []netip.AddrPort
	labels []map[string]string
	runID  string
	seq    atomic.Uint64
	http   *http.Client
	tr     *http.Transport

	state atomic.Pointer[faultState]

	stopWatch context.CancelFunc
	watchDone chan struct{}
	closeOnce sync.Once
	closeErr  error
	// stop ends spawned children (nil for processes the fleet did not
	// start).
	stop func() error
}

// proc is one process of a remote fleet.
type proc struct {
	index  int
	url    string
	client *control.Client
	// watcher asks for info without retrying: the watch wants to see
	// failures.
	watcher *control.Client
	first   int
	n       int
	child   *child // nil unless spawned

	// sendMu orders the changes sent to the process: a phase's and the
	// watch's re-application after a restart never cross.
	sendMu sync.Mutex

	mu      sync.Mutex
	info    control.Info
	gen     uint64 // generation after our last change
	sending bool   // a change is in flight
	// desired is what the process should hold (all of it: KeepOthers is
	// false), desiredAgents how many agents it sets.
	desired       control.FaultSets
	desiredAgents int
	up            bool
	down          time.Time
	downTotal     time.Duration
	events        []Event
	applies       []Apply
	res           ProcResources
}

// faultState is the faults in force on every agent, as applied: agent i
// has table[idx[i]].
type faultState struct {
	idx   []int32
	table []simagent.Faults
}

// Event is something that happened to one process of a fleet.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // down, up, restarted, reapplied, error
	Detail string    `json:"detail,omitempty"`
}

// Apply is one application of a phase's faults to one process: how many
// agents it set and how long from sending to its confirmation.
type Apply struct {
	Phase  string        `json:"phase"`
	Agents int           `json:"agents"`
	Took   time.Duration `json:"took"`
	Error  string        `json:"error,omitempty"`
}

// ErrRemote is wrapped by errors about a remote fleet's processes.
var ErrRemote = errors.New("harness: remote fleet")

// Dial discovers the processes of a remote fleet, checks they serve
// cfg.Store, waits until each is ready and clears their faults.
func Dial(ctx context.Context, cfg RemoteConfig) (*Remote, error) {
	if len(cfg.URLs) == 0 {
		return nil, fmt.Errorf("%w: no control URLs", ErrRemote)
	}
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: no data to check the agents against", ErrRemote)
	}
	if cfg.Watch <= 0 {
		cfg.Watch = 100 * time.Millisecond
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// One connection per process, kept: the harness's descriptors and
	// goroutines stay a fixed few whatever the fleet does.
	tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, IdleConnTimeout: 0, DisableCompression: true}
	r := &Remote{
		cfg: cfg, log: cfg.Logger, tr: tr, http: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		runID: strconv.FormatInt(int64(os.Getpid()), 36) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	for k, u := range cfg.URLs {
		// Changes are retried through a process restart: 50 ms doubling,
		// bounded by the caller's context (a phase allows 30 s).
		opts := []control.ClientOption{control.WithHTTPClient(r.http), control.WithRetries(10, 50*time.Millisecond)}
		if cfg.Token != "" {
			opts = append(opts, control.WithBearerToken(cfg.Token))
		}
		c, err := control.NewClient(u, opts...)
		if err != nil {
			tr.CloseIdleConnections()
			return nil, fmt.Errorf("%w: fleet.remote[%d]: %w", ErrRemote, k, err)
		}
		w, err := control.NewClient(u, append(opts, control.WithRetries(0, 0))...)
		if err != nil {
			tr.CloseIdleConnections()
			return nil, fmt.Errorf("%w: fleet.remote[%d]: %w", ErrRemote, k, err)
		}
		p := &proc{index: k, url: c.URL(), client: c, watcher: w, up: true}
		if k < len(cfg.children) {
			p.child = cfg.children[k]
		}
		r.procs = append(r.procs, p)
	}
	if err := r.discover(ctx); err != nil {
		tr.CloseIdleConnections()
		return nil, err
	}
	r.state.Store(&faultState{idx: make([]int32, r.n), table: []simagent.Faults{{}}})
	if err := r.clearAll(ctx); err != nil {
		tr.CloseIdleConnections()
		return nil, err
	}
	r.startWatch()
	return r, nil
}

// discover waits until every process is ready, reads its info and checks
// its data; then it lays the agents out.
func (r *Remote) discover(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ReadyTimeout)
	defer cancel()
	variants := servedVariants(r.cfg.Store)
	errs := make([]error, len(r.procs))
	matched := make([]*mib.Store, len(r.procs))
	var wg sync.WaitGroup
	for k, p := range r.procs {
		wg.Go(func() {
			if err := p.client.WaitReady(ctx, 20*time.Millisecond); err != nil {
				errs[k] = err
				return
			}
			in, err := p.client.Info(ctx)
			if err != nil {
				errs[k] = err
				return
			}
			if len(in.Kinds) > 1 {
				errs[k] = fmt.Errorf("%s is a mixed fleet of %d kinds; a remote fleet checks walks against the scenario's one data set", p.url, len(in.Kinds))
				return
			}
			for _, v := range variants {
				if v.digest == in.Data.SHA256 {
					matched[k] = v.store
				}
			}
			if matched[k] == nil {
				errs[k] = fmt.Errorf("%s serves data %s (%d OIDs, sha256 %.12s), the scenario's is %s (%d OIDs, sha256 %.12s): walks could not be checked",
					p.url, in.Data.Name, in.Data.OIDs, in.Data.SHA256, r.cfg.Store.Name(), r.cfg.Store.Len(), variants[0].digest)
				return
			}
			if missing := missingUsers(in, r.cfg.V3Users); len(missing) > 0 {
				errs[k] = fmt.Errorf("%s does not serve the scenario's SNMPv3 users %q", p.url, missing)
				return
			}
			p.info, p.gen = in, in.Generation
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrRemote, err)
	}
	for k, m := range matched {
		if m != matched[0] {
			return fmt.Errorf("%w: %s and %s serve the data with and without per-agent identities (simagent --identity): give them the same", ErrRemote, r.procs[0].url, r.procs[k].url)
		}
	}
	// Walks are checked against the data as the agents serve it: with
	// their live engine objects and, when on, per-agent identities as
	// values that move.
	r.cfg.Store = matched[0]
	for _, p := range r.procs {
		addrs, err := control.Expand(p.info.Addresses)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrRemote, p.url, err)
		}
		if len(addrs) != p.info.Agents {
			return fmt.Errorf("%w: %s: %d addresses for %d agents", ErrRemote, p.url, len(addrs), p.info.Agents)
		}
		p.first, p.n = r.n, p.info.Agents
		r.first = append(r.first, r.n)
		r.n += p.n
		r.addrs = append(r.addrs, addrs...)
		labels := make([]map[string]string, p.n)
		for _, lr := range p.info.Labels {
			for i := lr.From; i <= lr.To && i < p.n; i++ {
				labels[i] = lr.Labels
			}
		}
		r.labels = append(r.labels, labels...)
	}
	if r.cfg.Agents != 0 && r.cfg.Agents != r.n {
		return fmt.Errorf("%w: the processes have %d agents together, the scenario's fleet.agents is %d", ErrRemote, r.n, r.cfg.Agents)
	}
	seen := map[netip.AddrPort]int{}
	for i, a := range r.addrs {
		if j, dup := seen[a]; dup {
			return fmt.Errorf("%w: agents %d and %d are both at %s (two processes on one address and port?)", ErrRemote, j, i, a)
		}
		seen[a] = i
	}
	return nil
}

// startWatch starts the watch goroutine, which Close stops and waits for.
func (r *Remote) startWatch() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stopWatch, r.watchDone = cancel, make(chan struct{})
	go r.watch(ctx)
}

// Len is the number of agents of every process.
func (r *Remote) Len() int { return r.n }

// Addr is agent i's address.
func (r *Remote) Addr(i int) netip.AddrPort { return r.addrs[i] }

// Community is the agents' community.
func (r *Remote) Community() string { return r.cfg.Community }

// Store is the data every agent serves (checked at Dial).
func (r *Remote) Store() *mib.Store { return r.cfg.Store }

// Faults returns the faults in force on agent i, as applied.
func (r *Remote) Faults(i int) simagent.Faults {
	s := r.state.Load()
	return s.table[s.idx[i]]
}

// Select returns the global indexes sel picks.
func (r *Remote) Select(sel simagent.Selector) ([]int, error) {
	return sel.Resolve(r.n, r.cfg.Seed, func(i int) map[string]string { return r.labels[i] })
}

// locate maps a global index to its process.
func (r *Remote) locate(i int) int {
	return sort.Search(len(r.first), func(k int) bool { return r.first[k] > i }) - 1
}

// PhaseSet is one set of faults for the agents a selector picks, as a
// scenario's phase lists them.
type PhaseSet struct {
	Selector simagent.Selector
	Faults   simagent.Faults
}

// SetFaults replaces the faults of the agents sel picks, in every process
// that has some, at once.
func (r *Remote) SetFaults(sel simagent.Selector, faults simagent.Faults) (int, error) {
	n, _, err := r.apply(context.Background(), "", []PhaseSet{{Selector: sel, Faults: faults}}, true)
	return n, err
}

// ApplyPhase clears every agent's faults and applies sets in order, with
// one request to each process, all sent at once; it returns when every
// process confirmed, with how long each took.
func (r *Remote) ApplyPhase(ctx context.Context, phase string, sets []PhaseSet) ([]Apply, error) {
	_, took, err := r.apply(ctx, phase, sets, false)
	return took, err
}

// apply resolves sets over the fleet, sends each process its part and
// records the new state once all confirmed.
func (r *Remote) apply(ctx context.Context, phase string, sets []PhaseSet, keep bool) (int, []Apply, error) {
	old := r.state.Load()
	next := &faultState{idx: slices.Clone(old.idx), table: slices.Clone(old.table)}
	if !keep {
		next.idx = make([]int32, r.n)
		next.table = []simagent.Faults{{}}
	}
	per := make([]control.FaultSets, len(r.procs))
	count := make([]int, len(r.procs))
	for k := range per {
		per[k].KeepOthers = keep
		per[k].Sets = []control.FaultSet{}
	}
	total := 0
	for j, s := range sets {
		if err := s.Faults.Validate(); err != nil {
			return 0, nil, fmt.Errorf("set %d: %w", j, err)
		}
		idx, err := r.Select(s.Selector)
		if err != nil {
			return 0, nil, fmt.Errorf("set %d: %w", j, err)
		}
		total += len(idx)
		idx = slices.Clone(idx)
		slices.Sort(idx)
		next.table = append(next.table, s.Faults)
		t := int32(len(next.table) - 1)
		local := make([][]int, len(r.procs))
		for _, i := range idx {
			next.idx[i] = t
			k := r.locate(i)
			local[k] = append(local[k], i-r.first[k])
		}
		for k, l := range local {
			count[k] += len(l)
			if len(l) > 0 {
				per[k].Sets = append(per[k].Sets, control.FaultSet{Agents: indexRanges(l), Faults: s.Faults})
			}
		}
	}
	applies := make([]Apply, len(r.procs))
	errs := make([]error, len(r.procs))
	var wg sync.WaitGroup
	for k, p := range r.procs {
		if keep && len(per[k].Sets) == 0 {
			continue
		}
		wg.Go(func() { applies[k], errs[k] = r.send(ctx, p, phase, per[k], count[k]) })
	}
	wg.Wait()
	r.state.Store(next)
	if err := errors.Join(errs...); err != nil {
		return 0, applies, fmt.Errorf("%w: %w", ErrRemote, err)
	}
	return total, applies, nil
}

// send puts a process's fault sets with a fresh change id, retried until
// confirmed or ctx ends, and records it.
func (r *Remote) send(ctx context.Context, p *proc, phase string, fs control.FaultSets, agents int) (Apply, error) {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	return r.sendLocked(ctx, p, phase, fs, agents)
}

// sendLocked is send with p.sendMu held.
func (r *Remote) sendLocked(ctx context.Context, p *proc, phase string, fs control.FaultSets, agents int) (Apply, error) {
	id := fmt.Sprintf("%s-%d", r.runID, r.seq.Add(1))
	a := Apply{Phase: phase, Agents: agents}
	p.mu.Lock()
	p.sending = true
	p.mu.Unlock()
	start := time.Now()
	ch, err := p.client.SetFaultSets(ctx, id, fs)
	a.Took = time.Since(start)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sending = false
	if !fs.KeepOthers {
		p.desired = control.FaultSets{Sets: fs.Sets}
		p.desiredAgents = agents
	} else {
		p.desired.Sets = append(p.desired.Sets, fs.Sets...)
		p.desiredAgents += agents
	}
	if err != nil {
		a.Error = err.Error()
		p.applies = append(p.applies, a)
		return a, fmt.Errorf("%s: %w", p.url, err)
	}
	if !ch.Replayed && ch.Generation != p.gen+1 {
		p.events = append(p.events, Event{At: time.Now(), Kind: "error", Detail: fmt.Sprintf("fault generation %d after our change, want %d: someone else changes this fleet's faults", ch.Generation, p.gen+1)})
	}
	p.gen = ch.Generation
	if phase != "" {
		p.applies = append(p.applies, a)
	}
	return a, nil
}

// clearAll clears every process's faults.
func (r *Remote) clearAll(ctx context.Context) error {
	_, _, err := r.apply(ctx, "", nil, false)
	return err
}

// Stats sums the processes' counters; a process that cannot be read is
// left out and logged.
func (r *Remote) Stats() simagent.Stats {
	var t simagent.Stats
	for _, p := range r.procs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err := p.client.Stats(ctx)
		cancel()
		if err != nil {
			r.log.Warn("harness: remote fleet stats", "url", p.url, "err", err)
			continue
		}
		t = addStats(t, st.Stats)
	}
	return t
}

// Close stops the watch, clears the faults of processes the fleet did not
// start (leaving them as found) and stops the ones it started.
func (r *Remote) Close() error {
	r.closeOnce.Do(func() {
		r.stopWatch()
		<-r.watchDone
		if r.stop != nil {
			r.closeErr = r.stop()
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			r.closeErr = r.clearAll(ctx)
			cancel()
		}
		r.tr.CloseIdleConnections()
	})
	return r.closeErr
}
