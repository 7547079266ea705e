// Package mypoller is an example of a team's own poller, in its own module,
// tested with snmpchaos: a small gosnmp-based poller written the naive way
// (a GoSNMP per request), and the same with a client cached per target
// that Close forgets, which is the bug snmpchaos catches in
// mypoller_test.go.
package mypoller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Config says how to poll.
type Config struct {
	Timeout time.Duration
	Retries int
	// CacheClients keeps one connected client per target for reuse. Close
	// does not close them: the bug this example exists to show.
	CacheClients bool
}

// Poller polls SNMP agents with gosnmp.
type Poller struct {
	cfg   Config
	mu    sync.Mutex
	cache map[string]*cachedClient
}

type cachedClient struct {
	mu sync.Mutex // a GoSNMP serves one request at a time
	c  *gosnmp.GoSNMP
}

// New returns a poller.
func New(cfg Config) *Poller {
	return &Poller{cfg: cfg, cache: map[string]*cachedClient{}}
}

// Request is one poll: Get the OIDs, or walk the subtree under Root.
type Request struct {
	Addr      string // host
	Port      uint16
	Community string
	OIDs      []string
	Root      string
	Bulk      bool
}

// Do runs one request.
func (p *Poller) Do(ctx context.Context, r Request) ([]gosnmp.SnmpPDU, error) {
	c, release, err := p.client(ctx, r)
	if err != nil {
		return nil, err
	}
	defer release()
	switch {
	case r.Root == "":
		pkt, err := c.Get(r.OIDs)
		if err != nil {
			return nil, err
		}
		if pkt.Error != gosnmp.NoError {
			return nil, fmt.Errorf("agent error-status %s", pkt.Error)
		}
		return pkt.Variables, nil
	case r.Bulk:
		return c.BulkWalkAll(r.Root)
	default:
		return c.WalkAll(r.Root)
	}
}

// client returns a connected client for r and what to call when done.
func (p *Poller) client(ctx context.Context, r Request) (*gosnmp.GoSNMP, func(), error) {
	mk := func() *gosnmp.GoSNMP {
		return &gosnmp.GoSNMP{Target: r.Addr, Port: r.Port, Community: r.Community, Version: gosnmp.Version2c,
			Timeout: p.cfg.Timeout, Retries: p.cfg.Retries, MaxOids: gosnmp.MaxOids, MaxRepetitions: 10, Context: ctx}
	}
	if !p.cfg.CacheClients {
		c := mk()
		if err := c.Connect(); err != nil {
			return nil, nil, err
		}
		return c, func() { _ = c.Conn.Close() }, nil
	}
	key := fmt.Sprintf("%s:%d/%s", r.Addr, r.Port, r.Community)
	p.mu.Lock()
	cc := p.cache[key]
	if cc == nil {
		cc = &cachedClient{c: mk()}
		p.cache[key] = cc
	}
	p.mu.Unlock()
	cc.mu.Lock()
	if cc.c.Conn == nil {
		if err := cc.c.Connect(); err != nil {
			cc.mu.Unlock()
			return nil, nil, err
		}
	}
	cc.c.Context = ctx
	return cc.c, cc.mu.Unlock, nil
}

// Close is meant to release the poller. (The bug: it leaves the cached
// clients' sockets open.)
func (p *Poller) Close() error {
	return nil
}
