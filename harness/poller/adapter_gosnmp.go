package poller

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"

	"github.com/gosnmp/gosnmp"
)

// gosnmpPoller polls with gosnmp the plain way: a GoSNMP per poll (gosnmp
// is not safe for concurrent use), Connect, one request or walk, Close.
// With leak set it is the production anti-pattern instead: Connect per
// poll and never Close.
type gosnmpPoller struct {
	*syncPoller
	s    pollapi.Settings
	leak bool

	mu     sync.Mutex
	leaked []net.Conn
}

// NewGosnmp returns the baseline poller: plain, correct gosnmp use, one
// GoSNMP per poll (Connect, request, Close). Its walks are gosnmp's, which
// stop silently on an error-status (gosnmp#98).
func NewGosnmp(s pollapi.Settings) (pollapi.Poller, error) {
	g := &gosnmpPoller{s: s}
	g.syncPoller = newSyncPoller("gosnmp", g.poll, nil)
	return g, nil
}

// NewGosnmpLeaky returns gosnmp used as seen in production: a Connect per
// poll and never a Close, so every poll leaks a socket (telegraf#1665).
// Its answers are still correct. The leaked connections stay referenced,
// as a long-lived client cache holds them, so garbage collection does not
// hide the leak; Release closes them.
func NewGosnmpLeaky(s pollapi.Settings) (pollapi.Poller, error) {
	g := &gosnmpPoller{s: s, leak: true}
	g.syncPoller = newSyncPoller("gosnmp-leaky", g.poll, nil)
	return &gosnmpLeaky{g}, nil
}

// gosnmpLeaky is the leaky gosnmp poller; unlike the plain one it is a
// Releaser.
type gosnmpLeaky struct {
	*gosnmpPoller
}

func (g *gosnmpPoller) client(ctx context.Context, t pollapi.Target) *gosnmp.GoSNMP {
	v := gosnmp.Version2c
	if t.Version == "1" {
		v = gosnmp.Version1
	}
	rep := g.s.MaxRepetitions
	if rep <= 0 {
		rep = 10
	}
	c := &gosnmp.GoSNMP{
		Target: t.Addr.Addr().String(), Port: t.Addr.Port(), Community: t.Community, Version: v,
		Timeout: timeout(g.s), Retries: g.s.Retries, MaxOids: gosnmp.MaxOids, MaxRepetitions: uint32(rep),
		Context: ctx,
	}
	if t.Version == pollapi.VersionV3 {
		gosnmpV3(c, t.User, t.Context)
	}
	return c
}

func (g *gosnmpPoller) poll(ctx context.Context, p pollapi.Poll) pollapi.Result {
	c := g.client(ctx, p.Target)
	if err := c.Connect(); err != nil {
		return pollapi.Result{Err: fmt.Errorf("gosnmp: connect: %w", err)}
	}
	if g.leak {
		g.mu.Lock()
		g.leaked = append(g.leaked, c.Conn)
		g.mu.Unlock()
	} else {
		defer c.Close()
	}
	return request(c, p)
}

// request runs one poll on a connected client.
func request(c *gosnmp.GoSNMP, p pollapi.Poll) pollapi.Result {
	var pdus []gosnmp.SnmpPDU
	var err error
	switch p.Op {
	case pollapi.OpGet:
		var pkt *gosnmp.SnmpPacket
		if pkt, err = c.Get(p.OIDs); err == nil {
			if pkt.Error != gosnmp.NoError {
				err = &kindError{kind: "status", err: fmt.Errorf("gosnmp: get: agent error-status %s at index %d", pkt.Error, pkt.ErrorIndex)}
			}
			pdus = pkt.Variables
		}
	case pollapi.OpWalk:
		pdus, err = c.WalkAll(p.Root)
	case pollapi.OpBulkWalk:
		if c.Version == gosnmp.Version1 {
			pdus, err = c.WalkAll(p.Root)
		} else {
			pdus, err = c.BulkWalkAll(p.Root)
		}
	default:
		err = fmt.Errorf("harness: unknown op %q", p.Op)
	}
	if err != nil {
		return pollapi.Result{Err: fmt.Errorf("gosnmp: %s: %w", p.Op, err)}
	}
	out := make([]pollapi.Varbind, len(pdus))
	for i, pdu := range pdus {
		out[i] = VarbindFromPDU(pdu)
	}
	return pollapi.Result{Varbinds: out}
}

// Release closes the connections the leaky poller left open.
func (g *gosnmpLeaky) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.leaked {
		_ = c.Close()
	}
	g.leaked = nil
}
