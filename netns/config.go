//go:build linux

package netns

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
)

// Defaults of Config.
const (
	DefaultFamily   = "sc"
	DefaultSiteBits = 20
	DefaultMTU      = 1500
	// MaxSites is the most sites one run may have, and the number of link
	// nets in the pool's last /24.
	MaxSites = 64
)

// BenchmarkRange is 198.18.0.0/15 (RFC 2544): every address netns mode
// uses comes from it.
var BenchmarkRange = netip.MustParsePrefix("198.18.0.0/15")

// Config describes a topology. The zero Config is one site with a /20 of
// agent addresses (4,094 agents).
type Config struct {
	// Sites is the number of sites (default 1, at most MaxSites).
	Sites int
	// Family starts every name of the run: 1-3 lowercase letters (default
	// "sc"). Build removes what dead runs of the same family left.
	Family string
	// Pool holds the agent prefixes and, in its last /24, the veth link
	// nets (default BenchmarkRange, and it must lie inside it; /23 or
	// larger).
	Pool netip.Prefix
	// SiteBits is the length of each site's agent prefix (default 20:
	// 4,094 agents a site; from 16 to 28).
	SiteBits int
	// MTU of the veth pairs (default 1500).
	MTU int
	// Logger receives lifecycle messages (default: discard).
	Logger *slog.Logger
}

var familyRE = regexp.MustCompile(`^[a-z]{1,3}$`)

// defaults fills in the defaults and checks the result.
func (c *Config) defaults() error {
	if c.Sites == 0 {
		c.Sites = 1
	}
	if c.Family == "" {
		c.Family = DefaultFamily
	}
	if !c.Pool.IsValid() {
		c.Pool = BenchmarkRange
	}
	if c.SiteBits == 0 {
		c.SiteBits = DefaultSiteBits
	}
	if c.MTU == 0 {
		c.MTU = DefaultMTU
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if c.Sites < 1 || c.Sites > MaxSites {
		errs = append(errs, fmt.Errorf("sites %d not in [1, %d]", c.Sites, MaxSites))
	}
	if !familyRE.MatchString(c.Family) {
		errs = append(errs, fmt.Errorf("family %q: want 1-3 lowercase letters", c.Family))
	}
	c.Pool = c.Pool.Masked()
	if !c.Pool.Addr().Is4() || c.Pool.Bits() < BenchmarkRange.Bits() || !BenchmarkRange.Contains(c.Pool.Addr()) || c.Pool.Bits() > 23 {
		errs = append(errs, fmt.Errorf("pool %s: want an IPv4 prefix of length 15 to 23 inside %s", c.Pool, BenchmarkRange))
	}
	if c.SiteBits < 16 || c.SiteBits > 28 || c.SiteBits <= c.Pool.Bits() {
		errs = append(errs, fmt.Errorf("site bits /%d: want 16 to 28 and longer than the pool's /%d", c.SiteBits, c.Pool.Bits()))
	}
	if c.MTU < 576 || c.MTU > 65535 {
		errs = append(errs, fmt.Errorf("MTU %d not in [576, 65535]", c.MTU))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netns: config: %w", err)
	}
	return nil
}

// Direction says which packets a fault acts on, seen from the poller.
type Direction int

// Directions. The zero Direction means the fault's default.
const (
	// ToAgents is requests: packets from the poller to the agents.
	ToAgents Direction = 1 << iota
	// FromAgents is replies: packets from the agents to the poller.
	FromAgents
	// BothWays is both.
	BothWays = ToAgents | FromAgents
)

// String names the direction.
func (d Direction) String() string {
	switch d {
	case ToAgents:
		return "to agents"
	case FromAgents:
		return "from agents"
	case BothWays:
		return "both ways"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

func (d Direction) or(def Direction) (Direction, error) {
	if d == 0 {
		return def, nil
	}
	if d&^BothWays != 0 {
		return 0, fmt.Errorf("netns: bad direction %d", int(d))
	}
	return d, nil
}

// plan is the addressing of one site.
type plan struct {
	agents netip.Prefix // the agents' prefix, a local route in the site
	link   netip.Prefix // the veth /30: .1 poller side, .2 site side
}

func (p plan) pollerAddr() netip.Addr { return p.link.Addr().Next() }
func (p plan) siteAddr() netip.Addr   { return p.link.Addr().Next().Next() }

// linkNets is the /24 of the pool the link nets come from: its last.
func linkNets(pool netip.Prefix) netip.Prefix {
	last := addrAdd(pool.Addr(), 1<<(32-pool.Bits())-256)
	return netip.PrefixFrom(last, 24)
}

// candidates lists the pool's agent prefixes that do not overlap the link
// nets, and the pool's link nets, in address order.
func candidates(pool netip.Prefix, siteBits int) (agents, links []netip.Prefix) {
	ln := linkNets(pool)
	n := 1 << (siteBits - pool.Bits())
	for i := range n {
		p := netip.PrefixFrom(addrAdd(pool.Addr(), i<<(32-siteBits)), siteBits)
		if !p.Overlaps(ln) {
			agents = append(agents, p)
		}
	}
	for i := range MaxSites {
		links = append(links, netip.PrefixFrom(addrAdd(ln.Addr(), 4*i), 30))
	}
	return agents, links
}

// allocate picks n site plans from the candidates whose prefixes overlap
// none of taken.
func allocate(pool netip.Prefix, siteBits, n int, taken []netip.Prefix) ([]plan, error) {
	agents, links := candidates(pool, siteBits)
	free := func(ps []netip.Prefix) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range ps {
			ok := true
			for _, t := range taken {
				if p.Overlaps(t) {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, p)
			}
		}
		return out
	}
	fa, fl := free(agents), free(links)
	if len(fa) < n || len(fl) < n {
		return nil, fmt.Errorf("%w: %d sites of /%d wanted in %s, %d agent prefixes and %d link nets free", ErrNoAddresses, n, siteBits, pool, len(fa), len(fl))
	}
	out := make([]plan, n)
	for i := range out {
		out[i] = plan{agents: fa[i], link: fl[i]}
	}
	return out, nil
}

// addrAdd returns IPv4 a+n, wrapping.
func addrAdd(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
