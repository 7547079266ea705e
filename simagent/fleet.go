package simagent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

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
