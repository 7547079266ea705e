package pollerlib

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Poller polls SNMP agents over a small fixed set of shared UDP sockets.
// It is safe for concurrent use. Create it with New and release it with
// Close.
type Poller struct {
	cfg  config
	tr   *transport
	salt []byte
	st   counters

	// base is cancelled (cause ErrClosed) when Close gives up waiting;
	// sched is cancelled when Close starts, to stop schedulers.
	base       context.Context
	cancelBase context.CancelCauseFunc
	sched      context.Context
	stopSched  context.CancelCauseFunc

	mu     sync.Mutex
	closed bool
	ops    int           // operations in flight, schedulers included
	work   int           // calls in flight, bounded by cfg.maxInFlight
	idle   chan struct{} // closed once closed and no operation is in flight
	// cancels holds each operation's cancel function, nil in free slots
	// (freeSlots): Close calls them when it gives up waiting.
	cancels   []context.CancelCauseFunc
	freeSlots []int
	done      chan struct{}
	closeErr  error

	// global is an RTT estimate over every target, for new targets' first
	// timeout.
	global *session

	sessMu sync.RWMutex
	byID   map[communityID]*session // v1, v2c
	byV3   map[targetID]*session
	byKey  map[SessionKey]*session
	slab   []session // where new sessions are allocated, under sessMu

	// v3 caches Ku per user and localised keys per (engine ID, user).
	v3 v3Cache

	rngMu sync.Mutex
	rng   *rand.Rand

	lastCred atomic.Pointer[credEntry]

	// walkBufs holds *[]Varbind arrays walks decode into (walkBuf).
	walkBufs sync.Pool
}

// New opens a Poller's sockets and starts their demux goroutines.
func New(opts ...Option) (*Poller, error) {
	cfg := defaults()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return nil, fmt.Errorf("pollerlib: option: %w", err)
		}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	salt := make([]byte, 32)
	_, _ = crand.Read(salt) // never fails on supported platforms
	if !cfg.seeded {
		cfg.seed = rand.Uint64()
	}
	p := &Poller{
		cfg:   cfg,
		salt:  salt,
		done:  make(chan struct{}),
		idle:  make(chan struct{}),
		byID:  make(map[communityID]*session),
		byV3:  make(map[targetID]*session),
		byKey: make(map[SessionKey]*session),
		rng:   rand.New(rand.NewPCG(cfg.seed, 0x5eed)),
	}
	p.global = newSession(SessionKey{}, "", &p.cfg, cfg.initialTimeout)
	p.base, p.cancelBase = context.WithCancelCause(context.Background())
	p.sched, p.stopSched = context.WithCancelCause(p.base)
	tr, err := newTransport(&p.cfg, &p.st, cfg.seed)
	if err != nil {
		p.cancelBase(ErrClosed)
		return nil, err
	}
	p.tr = tr
	rb := tr.rcvbuf
	if rb.Capped {
		cfg.logger.Warn("pollerlib: receive buffer capped by the kernel (net.core.rmem_max); a burst of replies may overflow it",
			"wanted", rb.Wanted, "granted", rb.Granted, "maxInFlight", cfg.maxInFlight, "sockets", cfg.sockets,
			"fix", fmt.Sprintf("sysctl -w net.core.rmem_max=%d", rb.Wanted))
	}
	cfg.logger.Info("pollerlib: poller ready", "sockets", cfg.sockets, "seed", cfg.seed,
		"maxInFlight", cfg.maxInFlight, "rcvbuf", rb.Granted, "rcvbufCapped", rb.Capped)
	return p, nil
}

// Close stops schedulers, waits for in-flight operations and releases every
// socket and goroutine. When ctx ends first, in-flight operations are
// cancelled (they fail with ErrClosed) and Close still waits for them,
// which takes milliseconds. Close is idempotent: later calls wait for the
// first to finish and return its result.
func (p *Poller) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		select {
		case <-p.done:
			return p.closeErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.closed = true
	if p.ops == 0 {
		close(p.idle)
	}
	p.mu.Unlock()

	p.stopSched(ErrClosed)
	var err error
	select {
	case <-p.idle:
	case <-ctx.Done():
		err = fmt.Errorf("pollerlib: close: in-flight work cancelled: %w", context.Cause(ctx))
		p.cancelBase(ErrClosed)
		p.cancelAll()
		<-p.idle
	}
	p.cancelBase(ErrClosed)
	if cerr := p.tr.close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("pollerlib: close sockets: %w", cerr))
	}
	p.closeErr = err
	close(p.done)
	p.cfg.logger.Info("pollerlib: poller closed")
	return err
}

func (p *Poller) isClosing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Stats returns a snapshot of the poller's counters.
func (p *Poller) Stats() Stats {
	s := p.st.snapshot()
	select {
	case <-p.done:
	default:
		s.Sockets = len(p.tr.socks)
	}
	s.ReadBuffer = p.tr.rcvbuf
	p.mu.Lock()
	s.Operations, s.MaxOperations = p.work, p.cfg.maxInFlight
	p.mu.Unlock()
	p.sessMu.RLock()
	s.Sessions = len(p.byKey)
	p.sessMu.RUnlock()
	return s
}

// Key returns the session key of t, resolving its address if needed.
func (p *Poller) Key(ctx context.Context, t Target) (SessionKey, error) {
	s, err := p.session(ctx, t)
	if err != nil {
		return SessionKey{}, err
	}
	return s.key, nil
}

// session finds or creates t's session.
func (p *Poller) session(ctx context.Context, t Target) (*session, error) {
	if t.Version != V1 && t.Version != V2c && t.Version != V3 {
		return nil, fmt.Errorf("%w: version %s not supported", ErrBadTarget, t.Version)
	}
	// v1/v2c targets, almost every target of a fleet, are found by a key
	// of three words; v3 ones by one holding the user.
	id := communityID{addr: t.Addr, version: t.Version, community: t.community()}
	var id3 targetID
	if t.Version == V3 {
		if err := t.User.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadTarget, err)
		}
		id3 = targetID{addr: t.Addr, version: t.Version, user: t.User, context: t.Context}
	}
	p.sessMu.RLock()
	var s *session
	if t.Version == V3 {
		s = p.byV3[id3]
	} else {
		s = p.byID[id]
	}
	p.sessMu.RUnlock()
	if s != nil {
		return s, nil
	}
	ap, err := resolve(ctx, t.Addr)
	if err != nil {
		return nil, err
	}
	key := SessionKey{Addr: ap, Version: t.Version}
	community := "" // v3 has none
	if t.Version == V3 {
		key.Cred = v3CredHash(p.salt, t.User, t.Context)
	} else {
		community = id.community
		key.Cred = p.communityHash(t.Version, community)
	}
	p.sessMu.Lock()
	defer p.sessMu.Unlock()
	if s = p.byKey[key]; s == nil {
		if len(p.slab) == cap(p.slab) {
			p.slab = make([]session, 0, sessionSlab)
		}
		p.slab = p.slab[:len(p.slab)+1]
		s = &p.slab[len(p.slab)-1]
		s.init(key, community, &p.cfg, p.global.initialRTO())
		if t.Version == V3 {
			s.v3 = p.newV3State(t.User, t.Context)
		}
		p.byKey[key] = s
	}
	if t.Version == V3 {
		p.byV3[id3] = s
	} else {
		p.byID[id] = s
	}
	return s, nil
}

// communityHash is credHash, remembered for the last version and
// community asked (fleets mostly share one): an HMAC per new target
// costed a tenth of a first poll.
func (p *Poller) communityHash(v Version, community string) [8]byte {
	if c := p.lastCred.Load(); c != nil && c.v == v && c.community == community {
		return c.hash
	}
	h := credHash(p.salt, v, community)
	p.lastCred.Store(&credEntry{v: v, community: community, hash: h})
	return h
}

// credEntry is one remembered credHash.
type credEntry struct {
	v         Version
	community string
	hash      [8]byte
}

// begin registers an operation; the returned context is also cancelled
// (cause ErrClosed) when Close gives up waiting. A bounded operation (a
// call, not a scheduler) is refused with an *OverloadError when
// cfg.maxInFlight of them are running: refusing at once keeps the work in
// flight, and the goroutines of callers waiting on it, bounded however fast
// calls arrive.
//
// The operation's cancel function is kept in p.cancels, under the lock
// begin takes anyway, for Close to call: a context.AfterFunc on a shared
// parent would take that parent's lock and add to its children map for
// every operation, an allocation and a second lock a call. (No throughput
// gain from this was measurable in the scale benchmark's noise.)
func (p *Poller) begin(ctx context.Context, bounded bool) (context.Context, func(), error) {
	ctx, cancel := context.WithCancelCause(ctx)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		cancel(ErrClosed)
		return nil, nil, ErrClosed
	}
	if bounded && p.cfg.maxInFlight > 0 && p.work >= p.cfg.maxInFlight {
		n := p.work
		p.mu.Unlock()
		cancel(context.Canceled)
		return nil, nil, &OverloadError{InFlight: n, Limit: p.cfg.maxInFlight}
	}
	p.ops++
	if bounded {
		p.work++
	}
	slot := len(p.cancels)
	if n := len(p.freeSlots); n > 0 {
		slot, p.freeSlots = p.freeSlots[n-1], p.freeSlots[:n-1]
		p.cancels[slot] = cancel
	} else {
		p.cancels = append(p.cancels, cancel)
	}
	p.mu.Unlock()
	return ctx, func() {
		cancel(context.Canceled)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.cancels[slot] = nil
		p.freeSlots = append(p.freeSlots, slot)
		p.ops--
		if bounded {
			p.work--
		}
		if p.closed && p.ops == 0 {
			close(p.idle)
		}
	}, nil
}

// cancelAll cancels every operation in flight with cause ErrClosed.
func (p *Poller) cancelAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.cancels {
		if c != nil {
			c(ErrClosed)
		}
	}
}

// do runs one operation on t: registration, session, outcome counting and
// error wrapping.
func (p *Poller) do(ctx context.Context, op string, t Target, fn func(context.Context, *session) error) error {
	ctx, end, err := p.begin(ctx, true)
	if err != nil {
		p.st.outcome(err)
		return &OpError{Op: op, Target: t.String(), Err: err}
	}
	defer end()
	s, err := p.session(ctx, t)
	if err == nil {
		err = fn(ctx, s)
	}
	p.st.outcome(err)
	if err != nil {
		name := t.String()
		if s != nil {
			name = s.key.String()
		}
		return &OpError{Op: op, Target: name, Err: err}
	}
	return nil
}

// classify maps an error to breaker/degrade accounting.
func classify(err error) result {
	switch {
	case err == nil:
		return resultOK
	case errors.Is(err, ErrCircuitOpen), errors.Is(err, ErrClosed), errors.Is(err, ErrOverloaded),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return resultNeutral
	}
	return resultFail
}

// jitter draws a duration in [0, d) from the poller's seeded source.
func (p *Poller) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	p.rngMu.Lock()
	defer p.rngMu.Unlock()
	return time.Duration(p.rng.Int64N(int64(d)))
}
