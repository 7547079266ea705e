//go:build linux

package netns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// nftTable is the nftables table (family ip) each site keeps its filter
// faults in; it goes with the site's namespace.
const nftTable = "snmpchaos"

// dropScale is the numgen modulus: drop probabilities are kept to 1/10,000.
const dropScale = 10000

// DropSpec is random packet loss in the kernel.
type DropSpec struct {
	// Prob is the probability that a packet is dropped, in (0, 1].
	Prob float64
	// Prefix limits the drop to agents in it (default: the site's whole
	// agent prefix); it must lie inside the site's prefix.
	Prefix netip.Prefix
	// Dir is which packets (default ToAgents, so Prob is the share of
	// requests lost).
	Dir Direction
}

// Validate checks the spec on its own.
func (d DropSpec) Validate() error {
	if !(d.Prob > 0 && d.Prob <= 1) {
		return fmt.Errorf("netns: drop probability %v not in (0, 1]", d.Prob)
	}
	if _, err := d.Dir.or(ToAgents); err != nil {
		return err
	}
	return nil
}

// Filter is a drop or blackhole fault made with nftables, in the site's
// namespace: one chain on the input hook (packets to the agents) and one
// on the output hook (packets from them), each with one rule matching the
// agents' prefix, counting what it drops.
type Filter struct {
	*fault
	f *filter
}

// Counts is how many packets and bytes a filter dropped.
type Counts struct {
	Packets, Bytes uint64
}

// Dropped reads the filter's counters: what it dropped while injected
// (zero when it is not).
func (f *Filter) Dropped() (Counts, error) { return f.f.dropped() }

type filter struct {
	s      *Site
	id     string
	prob   float64 // 1: blackhole
	prefix netip.Prefix
	dir    Direction
	err    error // from the spec, reported by inject
}

// Drop drops packets of the site's agents at random: spec.Prob of them,
// decided per packet by the kernel (nftables "numgen random").
func (s *Site) Drop(spec DropSpec) *Filter {
	dir, err := spec.Dir.or(ToAgents)
	err = errors.Join(err, spec.Validate())
	return s.newFilter(spec.Prob, spec.Prefix, dir, err)
}

// Blackhole drops every packet to and from the agents in prefix (the
// whole site when prefix is the zero Prefix): a partition of those agents
// that leaves the link up.
func (s *Site) Blackhole(prefix netip.Prefix) *Filter {
	return s.newFilter(1, prefix, BothWays, nil)
}

func (s *Site) newFilter(prob float64, prefix netip.Prefix, dir Direction, err error) *Filter {
	if !prefix.IsValid() {
		prefix = s.plan.agents
	}
	prefix = prefix.Masked()
	if err == nil && (!prefix.Addr().Is4() || prefix.Bits() < s.plan.agents.Bits() || !s.plan.agents.Contains(prefix.Addr())) {
		err = fmt.Errorf("netns: prefix %s is not inside site %s's agents %s", prefix, s.name, s.plan.agents)
	}
	f := &filter{s: s, id: "f" + strconv.Itoa(s.t.nextID()), prob: prob, prefix: prefix, dir: dir, err: err}
	return &Filter{fault: newFault(s, f), f: f}
}

func (f *filter) name() string {
	if f.prob >= 1 {
		return "blackhole " + f.prefix.String()
	}
	return fmt.Sprintf("drop %s%% %s in %s", strconv.FormatFloat(f.prob*100, 'f', -1, 64), f.dir, f.prefix)
}

func (f *filter) available() error {
	if f.err != nil {
		return f.err
	}
	if err := f.s.t.NftablesSupport(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// NftablesSupport returns nil if the kernel has nf_tables, which drop and
// blackhole faults need, or why not. It asks once, in the first site, and
// remembers the answer.
func (t *Topology) NftablesSupport() error {
	t.nftOnce.Do(func() {
		if t.isTorn() {
			t.nftErr = ErrClosed
			return
		}
		c, err := nftables.New(nftables.WithNetNSFd(int(t.sites[0].ns)))
		if err == nil {
			_, err = c.ListTables()
		}
		if err != nil {
			t.nftErr = fmt.Errorf("nftables: %w", err)
		}
	})
	return t.nftErr
}

func (f *filter) conn() (*nftables.Conn, error) {
	c, err := nftables.New(nftables.WithNetNSFd(int(f.s.ns)))
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return c, nil
}

func (f *filter) table() *nftables.Table {
	return &nftables.Table{Name: nftTable, Family: nftables.TableFamilyIPv4}
}

// chains lists the filter's chains with the IPv4 header offset of the
// agent address each matches (destination on input, source on output).
func (f *filter) chains() (chains []*nftables.Chain, offsets []uint32) {
	t := f.table()
	if f.dir&ToAgents != 0 {
		chains = append(chains, &nftables.Chain{Name: f.id + "-in", Table: t, Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
		offsets = append(offsets, 16)
	}
	if f.dir&FromAgents != 0 {
		chains = append(chains, &nftables.Chain{Name: f.id + "-out", Table: t, Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter})
		offsets = append(offsets, 12)
	}
	return chains, offsets
}

// rule is: ip daddr|saddr within prefix [numgen random mod N < P*N]
// counter drop.
func (f *filter) rule(offset uint32) []expr.Any {
	mask := net4Mask(f.prefix.Bits())
	a := f.prefix.Addr().As4()
	e := []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask[:], Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a[:]},
	}
	if f.prob < 1 {
		// numgen leaves a host-order number; cmp compares bytes, so turn
		// it big-endian first, as nft does for "numgen random mod N < P".
		e = append(e,
			&expr.Numgen{Register: 1, Modulus: dropScale, Type: unix.NFT_NG_RANDOM},
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binary.BigEndian.AppendUint32(nil, f.threshold())},
		)
	}
	return append(e, &expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop})
}

func (f *filter) threshold() uint32 {
	return uint32(math.Round(f.prob * dropScale))
}

func net4Mask(bits int) [4]byte {
	m := uint32(0xffffffff) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return [4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}

func (f *filter) inject(context.Context) error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	t := c.AddTable(f.table())
	chains, offsets := f.chains()
	for i, ch := range chains {
		ch.Table = t
		c.AddChain(ch)
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: f.rule(offsets[i])})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: add rules: %w", err)
	}
	return nil
}

func (f *filter) recover(context.Context) error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	chains, _ := f.chains()
	var errs []error
	// One chain a batch, so that a chain already gone does not keep the
	// other.
	for _, ch := range chains {
		c.DelChain(ch)
		if err := c.Flush(); err != nil && !isMissing(err) {
			errs = append(errs, fmt.Errorf("nftables: delete chain %s: %w", ch.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (f *filter) dropped() (Counts, error) {
	var n Counts
	if f.s.t.isTorn() {
		return n, ErrClosed
	}
	c, err := f.conn()
	if err != nil {
		return n, err
	}
	chains, _ := f.chains()
	for _, ch := range chains {
		rules, err := c.GetRules(f.table(), ch)
		if isMissing(err) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("nftables: read counters: %w", err)
		}
		for _, r := range rules {
			for _, e := range r.Exprs {
				if ctr, ok := e.(*expr.Counter); ok {
					n.Packets += ctr.Packets
					n.Bytes += ctr.Bytes
				}
			}
		}
	}
	return n, nil
}

// isMissing reports whether err says the thing to remove or read is not
// there.
func isMissing(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENODEV)
}
