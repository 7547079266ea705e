package poller

import (
	"context"
	"fmt"
	"sync"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"

	"github.com/gosnmp/gosnmp"
)

// gosnmpCached keeps one connected GoSNMP per target for the whole run, as
// pollers that cache clients do. Polls of one target take turns (a GoSNMP
// is not safe for concurrent use). It holds a socket per target (fds grow
// with the fleet) and, for SNMPv3, keeps gosnmp's cached engine boots and
// time: the client behaviour of gosnmp #509/#511.
type gosnmpCached struct {
	*syncPoller
	g *gosnmpPoller

	mu      sync.Mutex
	clients map[pollapi.Target]*cachedClient
}

type cachedClient struct {
	mu sync.Mutex
	c  *gosnmp.GoSNMP
}

// NewGosnmpCached returns the cached-client gosnmp baseline.
func NewGosnmpCached(s pollapi.Settings) (pollapi.Poller, error) {
	p := &gosnmpCached{g: &gosnmpPoller{s: s}, clients: map[pollapi.Target]*cachedClient{}}
	p.syncPoller = newSyncPoller("gosnmp-cached", p.poll, p.closeAll)
	return p, nil
}

func (p *gosnmpCached) poll(ctx context.Context, pl pollapi.Poll) pollapi.Result {
	key := pl.Target
	key.User.AuthPass, key.User.PrivPass = "", "" // the map key needs no secrets
	p.mu.Lock()
	cc := p.clients[key]
	if cc == nil {
		cc = &cachedClient{}
		p.clients[key] = cc
	}
	p.mu.Unlock()

	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.c == nil {
		c := p.g.client(ctx, pl.Target)
		if err := c.Connect(); err != nil {
			return pollapi.Result{Err: fmt.Errorf("gosnmp: connect: %w", err)}
		}
		cc.c = c
	}
	cc.c.Context = ctx
	return request(cc.c, pl)
}

// closeAll closes every cached client once the polls are done.
func (p *gosnmpCached) closeAll(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, cc := range p.clients {
		cc.mu.Lock()
		if cc.c != nil && cc.c.Conn != nil {
			_ = cc.c.Conn.Close()
		}
		cc.mu.Unlock()
		delete(p.clients, k)
	}
	return nil
}
