package simagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// Config describes a fleet. Only Store is required.
type Config struct {
	// Agents is the number of agents (default 1).
	Agents int
	// Listen is the first agent's address (default 127.16.0.1:1161); the
	// others take the next IPv4 addresses on the same port, or with ByPort
	// the next ports on the same address. Port 0 picks a free port.
	Listen netip.AddrPort
	// ByPort puts agents on consecutive ports of one address, one socket
	// each, for platforms without 127/8.
	ByPort bool
	// Store is the data every agent serves; or Kinds.
	Store *mib.Store
	// Kinds makes a mixed fleet: several device kinds, each with its data
	// and a count or share of the agents (kinds.go). Excludes Store.
	Kinds []Kind
	// Identity gives every agent its own sysName, serial numbers and MAC
	// addresses (identity.go).
	Identity Identity
	// Community is the v1/v2c community (default "public").
	Community string
	// Seed drives every random decision of the fleet.
	Seed uint64
	// MaxMsgSize is the agents' maximum message size (default 65507).
	MaxMsgSize int
	// MaxBulkVarbinds caps the varbinds a GetBulk's repetitions return, as
	// snmpd's maxGetbulkResponses does: max-repetitions shrinks to
	// MaxBulkVarbinds / repeaters (default 100, snmpd's; negative: no cap).
	MaxBulkVarbinds int
	// Sockets is the number of shared sockets in shared-port mode
	// (default GOMAXPROCS, at most 16).
	Sockets int
	// Faults applies to every agent from the start.
	Faults Faults
	// MaxPending bounds the delayed replies held at once (default
	// DefaultMaxPending); a reply delayed past it is dropped and counted
	// (DropQueueFull).
	MaxPending int
	// MaxPendingBytes bounds the bytes of the delayed replies held at once
	// (default DefaultMaxPendingBytes), likewise.
	MaxPendingBytes int
	// Labels attaches labels to ranges of agents, for label selectors.
	Labels []LabelRange
	// Clock is the agents' time source (default time.Now): uptime, counters
	// and fault windows. Delayed replies always wait in real time.
	Clock func() time.Time
	// Logger receives lifecycle messages (default: discard).
	Logger *slog.Logger
	// Users are every agent's SNMPv3 USM users (none: v3 is not served).
	// See v3.go for engine IDs, boots and time.
	Users []usm.User
}

// LabelRange gives labels to agents From..To inclusive.
type LabelRange struct {
	From   int               `json:"from"`
	To     int               `json:"to"`
	Labels map[string]string `json:"labels"`
}

// Fleet is a running set of simulated agents.
type Fleet struct {
	cfg    Config
	agents []*agent
	socks  []*socket
	shared bool
	base   netip.Addr // shared mode: address of agent 0
	port   uint16
	delayq *delayQueue
	// delayOut are the delay queue's send batches, per shared socket;
	// only its goroutine touches them.
	delayOut map[*socket]*mmsgBatch
	fleetC   counters // fleet-wide counters not tied to an agent
	wg       sync.WaitGroup
	closing  atomic.Bool
	faultMu  sync.Mutex // serialises SetFaults
	gen      uint64
	closeMu  sync.Mutex
	closed   bool
	v3       *v3Fleet // nil without Config.Users
	kinds    []kind
}

// agent is one simulated agent: an address, a start time and faults.
type agent struct {
	index  int
	addr   netip.AddrPort
	seed   uint64
	start  atomic.Int64 // unix nanoseconds
	faults atomic.Pointer[faultState]
	c      counters
	sock   *socket // ByPort: the agent's own socket
	labels map[string]string
	v3     atomic.Pointer[v3Engine] // made on first use: Fleet.engine
	kind   *kind
}

// DefaultMaxBulkVarbinds is snmpd's default maxGetbulkResponses.
const DefaultMaxBulkVarbinds = 100

// ErrClosed is returned by methods of a closed fleet.
var ErrClosed = errors.New("simagent: fleet closed")

// ErrConfig is wrapped by every error about a bad Config.
var ErrConfig = errors.New("simagent: bad config")

// Validate applies defaults to a copy of c and reports what is wrong with
// it, without binding anything.
func (c Config) Validate() error { return c.defaults() }

func (c *Config) defaults() error {
	if c.Agents == 0 && len(c.Kinds) == 0 {
		c.Agents = 1
	}
	if _, err := c.resolveKinds(); err != nil {
		return err
	}
	if err := c.Identity.check(); err != nil {
		return err
	}
	if c.Agents < 0 || c.Agents > 1<<20 {
		return fmt.Errorf("%w: %d agents not in [1, %d]", ErrConfig, c.Agents, 1<<20)
	}
	if !c.Listen.IsValid() {
		c.Listen = netip.MustParseAddrPort("127.16.0.1:1161")
	}
	if c.Community == "" {
		c.Community = "public"
	}
	if c.MaxMsgSize == 0 {
		c.MaxMsgSize = maxUDPPayload
	}
	if c.MaxMsgSize < 484 || c.MaxMsgSize > maxUDPPayload {
		return fmt.Errorf("%w: MaxMsgSize %d not in [484, %d]", ErrConfig, c.MaxMsgSize, maxUDPPayload)
	}
	if c.MaxBulkVarbinds == 0 {
		c.MaxBulkVarbinds = DefaultMaxBulkVarbinds
	}
	if c.Sockets == 0 {
		c.Sockets = min(runtime.GOMAXPROCS(0), 16)
	}
	if c.Sockets < 0 || c.Sockets > 64 {
		return fmt.Errorf("%w: Sockets %d not in [1, 64]", ErrConfig, c.Sockets)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxPendingBytes == 0 {
		c.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if c.MaxPending < 0 || c.MaxPendingBytes < 0 {
		return fmt.Errorf("%w: MaxPending %d, MaxPendingBytes %d: must not be negative", ErrConfig, c.MaxPending, c.MaxPendingBytes)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if err := c.checkUsers(); err != nil {
		return err
	}
	if err := CheckLabels(c.Labels, c.Agents); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.ByPort {
		if int(c.Listen.Port())+c.Agents-1 > 65535 {
			return fmt.Errorf("%w: %d agents from port %d run past 65535", ErrConfig, c.Agents, c.Listen.Port())
		}
		if c.Listen.Port() == 0 && c.Agents > 1 {
			return fmt.Errorf("%w: ByPort needs a fixed first port, not 0", ErrConfig)
		}
	} else if c.Agents > 1 {
		a := c.Listen.Addr()
		if !a.Is4() {
			return fmt.Errorf("%w: %d agents on consecutive addresses need an IPv4 first address, got %s (use ByPort)", ErrConfig, c.Agents, a)
		}
		last := addAddr(a, c.Agents-1)
		if !last.IsValid() || (a.IsLoopback() && !last.IsLoopback()) || last == netip.AddrFrom4([4]byte{127, 255, 255, 255}) {
			return fmt.Errorf("%w: %d agents from %s run out of the range (last would be %s)", ErrConfig, c.Agents, a, last)
		}
	}
	return nil
}

// addAddr returns a+n for IPv4 a, or the zero Addr on overflow.
func addAddr(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	v += uint64(n)
	if v > 0xffffffff {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Start binds the fleet's sockets and starts serving. When it returns
// without error every agent answers. ctx bounds only the start itself.
func Start(ctx context.Context, cfg Config) (*Fleet, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	kinds, err := cfg.resolveKinds()
	if err != nil {
		return nil, err
	}
	for i := range kinds {
		kinds[i].store = withIdentity(mib.WithLiveEngine(kinds[i].store), &cfg.Identity)
	}
	p, err := compile(&cfg.Faults)
	if err != nil {
		return nil, fmt.Errorf("simagent: initial faults: %w", err)
	}
	f := &Fleet{cfg: cfg, kinds: kinds}
	now := cfg.Clock()
	f.agents = make([]*agent, cfg.Agents)
	// Agents and their first fault states each in one allocation: a
	// million agents start in a few allocations instead of millions.
	agents := make([]agent, cfg.Agents)
	states := make([]faultState, cfg.Agents)
	for i := range f.agents {
		a := &agents[i]
		a.index, a.seed = i, cfg.Seed^(uint64(i)+1)*0xbf58476d1ce4e5b9
		a.start.Store(now.UnixNano())
		if r := cfg.Faults.Restart; r != nil {
			a.start.Store(now.Add(r.Downtime.D()).UnixNano())
		}
		states[i].init(p, now, cfg.Seed, i, 0)
		a.faults.Store(&states[i])
		f.agents[i] = a
	}
	for k := range f.kinds {
		for i := f.kinds[k].from; i < f.kinds[k].to; i++ {
			f.agents[i].kind = &f.kinds[k]
		}
	}
	f.initV3(now)
	for _, a := range f.agents {
		f.v3Applied(a, &cfg.Faults, now)
	}
	for _, l := range cfg.Labels {
		for i := l.From; i <= l.To; i++ {
			a := f.agents[i]
			if a.labels == nil {
				a.labels = map[string]string{}
			}
			for k, v := range l.Labels {
				a.labels[k] = v
			}
		}
	}
	if len(cfg.Kinds) > 0 {
		for k := range f.kinds {
			shared := map[string]string{KindLabel: f.kinds[k].name}
			for i := f.kinds[k].from; i < f.kinds[k].to; i++ {
				if a := f.agents[i]; a.labels == nil {
					a.labels = shared // read-only after start: one map per kind
				} else {
					a.labels[KindLabel] = f.kinds[k].name
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.delayq = newDelayQueue(f.sendPending, cfg.MaxPending, cfg.MaxPendingBytes)
	if err := f.bind(); err != nil {
		f.shutdown()
		return nil, err
	}
	for _, s := range f.socks {
		f.wg.Go(func() { f.serve(s) })
	}
	cfg.Logger.Info("simagent fleet ready", "agents", cfg.Agents, "first", f.agents[0].addr, "last", f.agents[len(f.agents)-1].addr, "data", f.kinds[0].store.Name(), "oids", f.kinds[0].store.Len(), "kinds", len(f.kinds), "sockets", len(f.socks))
	return f, nil
}

// bind opens the sockets: a few shared ones for every agent, or one per
// agent with ByPort (or a single agent).
func (f *Fleet) bind() error {
	c := &f.cfg
	if c.Agents == 1 || c.ByPort {
		for i, a := range f.agents {
			want := netip.AddrPortFrom(c.Listen.Addr(), c.Listen.Port()+uint16(i))
			s, err := listenDirect(want)
			if err != nil {
				return err
			}
			f.socks = append(f.socks, s)
			a.sock = s
			s.agent = a
			a.addr = s.local
		}
		return nil
	}
	f.shared = true
	f.base = c.Listen.Addr()
	// A SO_REUSEPORT socket joins any group of this user already on its
	// port, and two fleets would then share (and drop) each other's
	// traffic. So the port is first bound by a plain socket: it must be
	// free (and for port 0 the kernel picks a free one).
	var err error
	for try := 0; try < 10; try++ {
		var port uint16
		if port, err = freePort(c.Listen.Port()); err != nil {
			return fmt.Errorf("simagent: port %d: %w", c.Listen.Port(), err)
		}
		if err = f.bindShared(port); err == nil || c.Listen.Port() != 0 {
			break
		}
	}
	return err
}

// bindShared opens the shared sockets on port, all or none.
func (f *Fleet) bindShared(port uint16) error {
	var socks []*socket
	for range f.cfg.Sockets {
		s, err := listenShared(port)
		if err != nil {
			for _, s := range socks {
				_ = s.close()
			}
			return fmt.Errorf("simagent: shared socket on port %d: %w", port, err)
		}
		socks = append(socks, s)
	}
	f.socks = append(f.socks, socks...)
	f.port = port
	for i, a := range f.agents {
		a.addr = netip.AddrPortFrom(addAddr(f.base, i), port)
	}
	return nil
}

// Closed reports whether Close has been called.
func (f *Fleet) Closed() bool { return f.closing.Load() }

// Close stops every agent and releases every socket and goroutine. It is
// safe to call more than once.
func (f *Fleet) Close() error {
	f.closeMu.Lock()
	defer f.closeMu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	return f.shutdown()
}

func (f *Fleet) shutdown() error {
	f.closing.Store(true)
	var errs []error
	for _, s := range f.socks {
		if err := s.close(); err != nil {
			errs = append(errs, err)
		}
	}
	f.wg.Wait()
	for _, p := range f.delayq.close() {
		p.agent.c.drop(DropClosed)
	}
	return errors.Join(errs...)
}

// Len is the number of agents.
func (f *Fleet) Len() int { return len(f.agents) }

// Addr is agent i's address.
func (f *Fleet) Addr(i int) netip.AddrPort { return f.agents[i].addr }

// Addrs lists every agent's address in index order.
func (f *Fleet) Addrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(f.agents))
	for i, a := range f.agents {
		out[i] = a.addr
	}
	return out
}

// Store is the data the agents serve (in a mixed fleet, agent 0's kind's:
// see StoreOf).
func (f *Fleet) Store() *mib.Store { return f.kinds[0].store }

// Community is the agents' community string.
func (f *Fleet) Community() string { return f.cfg.Community }

// Seed is the fleet's seed.
func (f *Fleet) Seed() uint64 { return f.cfg.Seed }

// Sockets is the number of sockets the fleet holds.
func (f *Fleet) Sockets() int { return len(f.socks) }

// Labels returns agent i's labels.
func (f *Fleet) Labels(i int) map[string]string { return f.agents[i].labels }

// Age is how long agent i has been up at the fleet clock's now (negative
// while a restart's downtime lasts).
func (f *Fleet) Age(i int) time.Duration {
	return f.cfg.Clock().Sub(time.Unix(0, f.agents[i].start.Load()))
}

// Snapshot is agent i's data as it would answer now.
func (f *Fleet) Snapshot(i int) []mib.Entry {
	a := f.agents[i]
	age := f.Age(i)
	s := a.kind.store.Phase(age)
	out := s.Snapshot(age, a.seed)
	f.snapshotLive(i, s, out)
	return out
}

// AppendValue appends the content octets of store entry k as agent i
// holds it at age.
func (f *Fleet) AppendValue(b []byte, i, k int, age time.Duration) []byte {
	a := f.agents[i]
	return f.appendValueOf(b, a, a.kind.store.Phase(age), k, age, f.cfg.Clock())
}

// Faults returns the faults in force on agent i.
func (f *Fleet) Faults(i int) Faults { return f.agents[i].faults.Load().plan.spec }

// Select returns the indexes a selector picks.
func (f *Fleet) Select(sel Selector) ([]int, error) {
	return sel.resolve(len(f.agents), f.cfg.Seed, f.Labels)
}

// SetFaults replaces the faults of the agents sel picks and returns how many
// it changed. A Restart in faults restarts those agents now.
func (f *Fleet) SetFaults(sel Selector, faults Faults) (int, error) {
	if f.closing.Load() {
		return 0, ErrClosed
	}
	p, err := compile(&faults)
	if err != nil {
		return 0, err
	}
	idx, err := f.Select(sel)
	if err != nil {
		return 0, err
	}
	f.faultMu.Lock()
	defer f.faultMu.Unlock()
	f.gen++
	now := f.cfg.Clock()
	for _, i := range idx {
		a := f.agents[i]
		a.faults.Store(newFaultState(p, now, f.cfg.Seed, i, f.gen))
		if r := faults.Restart; r != nil {
			a.start.Store(now.Add(r.Downtime.D()).UnixNano())
		} else if a.start.Load() > now.UnixNano() {
			// A restart cleared inside its downtime: the agent is back now,
			// uptime from now (not from when the downtime would have ended).
			a.start.Store(now.UnixNano())
		}
		f.v3Applied(a, &faults, now)
	}
	// Replies the old faults hold back go out now.
	changed := make(map[*agent]bool, len(idx))
	for _, i := range idx {
		changed[f.agents[i]] = true
	}
	f.delayq.release(func(a *agent) bool { return changed[a] })
	return len(idx), nil
}

// AgentStats returns agent i's counters.
func (f *Fleet) AgentStats(i int) Stats { return f.agents[i].c.snapshot() }

// Stats sums the counters of every agent and the fleet's own.
func (f *Fleet) Stats() Stats {
	s := f.fleetC.snapshot()
	for _, a := range f.agents {
		s.add(a.c.snapshot())
	}
	return s
}

// Pending is the number of delayed replies waiting to be sent.
func (f *Fleet) Pending() int { return f.delayq.len() }

// agentFor finds the agent a packet to dst on socket s is for.
func (f *Fleet) agentFor(s *socket, dst netip.Addr) *agent {
	if !f.shared {
		return s.agent
	}
	if !dst.Is4() {
		return nil
	}
	b, base := dst.As4(), f.base.As4()
	d := int64(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])) -
		int64(uint32(base[0])<<24|uint32(base[1])<<16|uint32(base[2])<<8|uint32(base[3]))
	if d < 0 || d >= int64(len(f.agents)) {
		return nil
	}
	return f.agents[d]
}
