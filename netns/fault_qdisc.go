//go:build linux

package netns

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// qdiscHandle is the handle of the root qdiscs netns mode installs.
var qdiscHandle = netlink.MakeHandle(0x5c, 0)

// BandwidthSpec is a bandwidth limit on a site's link: a tbf qdisc.
type BandwidthSpec struct {
	// Rate in bits per second, at least 8,000.
	Rate uint64
	// Burst is the bucket size in bytes (default the larger of 10 ms at
	// Rate and two MTUs). Packets larger than Burst never pass.
	Burst int
	// Latency is how long a packet may wait before tbf drops it (default
	// 100 ms): the queue holds Rate*Latency plus Burst bytes.
	Latency time.Duration
	// Dir is which packets (default BothWays: each direction gets Rate).
	Dir Direction
}

// Validate checks the spec on its own.
func (b BandwidthSpec) Validate() error {
	var errs []error
	if b.Rate < 8000 {
		errs = append(errs, fmt.Errorf("rate %d bit/s below 8000", b.Rate))
	}
	if b.Burst < 0 || b.Latency < 0 {
		errs = append(errs, errors.New("negative burst or latency"))
	}
	if _, err := b.Dir.or(BothWays); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netns: bandwidth: %w", err)
	}
	return nil
}

// NetemSpec is delay, jitter and loss with the netem qdisc, which not
// every kernel has (see Topology.NetemSupport).
type NetemSpec struct {
	// Delay added to every packet.
	Delay time.Duration
	// Jitter is netem's random variation around Delay.
	Jitter time.Duration
	// Loss is the probability that a packet is lost, in [0, 1].
	Loss float64
	// Dir is which packets (default FromAgents: replies).
	Dir Direction
}

// Validate checks the spec on its own.
func (n NetemSpec) Validate() error {
	var errs []error
	if n.Delay < 0 || n.Jitter < 0 || n.Delay > time.Hour || n.Jitter > time.Hour {
		errs = append(errs, errors.New("delay and jitter must be in [0, 1h]"))
	}
	if !(n.Loss >= 0 && n.Loss <= 1) {
		errs = append(errs, fmt.Errorf("loss %v not in [0, 1]", n.Loss))
	}
	if _, err := n.Dir.or(FromAgents); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netns: netem: %w", err)
	}
	return nil
}

// qdiscAction installs one root qdisc per direction: on the poller's veth
// end for packets to the agents, on the site's end for packets from them.
// Another root qdisc of ours on the same end makes Inject fail (EEXIST):
// a bandwidth limit and netem do not stack.
type qdiscAction struct {
	s        *Site
	desc     string
	dir      Direction
	err      error                        // from the spec
	avail    func() error                 // nil: always available
	newQdisc func(link int) netlink.Qdisc // the qdisc for one end

	installed []int // ends (indexes into ends()) that hold our qdisc
}

// Bandwidth limits the site's link to spec.Rate with a tbf qdisc on each
// veth end spec.Dir asks for.
func (s *Site) Bandwidth(spec BandwidthSpec) Fault {
	dir, err := spec.Dir.or(BothWays)
	err = errors.Join(err, spec.Validate())
	rate := spec.Rate / 8 // bytes per second
	burst := uint32(spec.Burst)
	if burst == 0 {
		burst = uint32(max(rate/100, 2*uint64(s.t.cfg.MTU)+28))
	}
	latency := spec.Latency
	if latency == 0 {
		latency = 100 * time.Millisecond
	}
	limit := uint32(min(float64(rate)*latency.Seconds()+float64(burst), float64(1<<31)))
	q := &qdiscAction{
		s: s, dir: dir, err: err,
		desc: "bandwidth " + formatRate(spec.Rate) + " " + dir.String(),
		newQdisc: func(link int) netlink.Qdisc {
			return &netlink.Tbf{
				QdiscAttrs: netlink.QdiscAttrs{LinkIndex: link, Handle: qdiscHandle, Parent: netlink.HANDLE_ROOT},
				Rate:       rate,
				Limit:      limit,
				Buffer:     netlink.Xmittime(rate, burst),
			}
		},
	}
	return newFault(s, q)
}

// Netem adds delay, jitter and loss with a netem qdisc on each veth end
// spec.Dir asks for. It is unavailable on kernels without netem.
func (s *Site) Netem(spec NetemSpec) Fault {
	dir, err := spec.Dir.or(FromAgents)
	err = errors.Join(err, spec.Validate())
	q := &qdiscAction{
		s: s, dir: dir, err: err,
		desc:  fmt.Sprintf("netem delay %s jitter %s loss %s%% %s", spec.Delay, spec.Jitter, strconv.FormatFloat(spec.Loss*100, 'f', -1, 64), dir),
		avail: s.t.NetemSupport,
		newQdisc: func(link int) netlink.Qdisc {
			return netlink.NewNetem(
				netlink.QdiscAttrs{LinkIndex: link, Handle: qdiscHandle, Parent: netlink.HANDLE_ROOT},
				netlink.NetemQdiscAttrs{
					Latency: uint32(spec.Delay.Microseconds()),
					Jitter:  uint32(spec.Jitter.Microseconds()),
					Loss:    float32(spec.Loss * 100),
				})
		},
	}
	return newFault(s, q)
}

func (q *qdiscAction) name() string { return q.desc }

func (q *qdiscAction) available() error {
	if q.err != nil {
		return q.err
	}
	if q.avail != nil {
		if err := q.avail(); err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	return nil
}

// ends lists the netlink handle and ifindex of each veth end to shape.
func (q *qdiscAction) ends() (hs []*netlink.Handle, links []int) {
	if q.dir&ToAgents != 0 {
		hs, links = append(hs, q.s.t.rootH), append(links, q.s.outer)
	}
	if q.dir&FromAgents != 0 {
		hs, links = append(hs, q.s.h), append(links, q.s.inner)
	}
	return hs, links
}

func (q *qdiscAction) inject(context.Context) error {
	hs, links := q.ends()
	q.installed = q.installed[:0]
	for i, h := range hs {
		if err := h.QdiscAdd(q.newQdisc(links[i])); err != nil {
			if errors.Is(err, unix.EEXIST) {
				err = fmt.Errorf("%w (another root qdisc is on the link)", err)
			}
			return fmt.Errorf("add qdisc: %w", err)
		}
		q.installed = append(q.installed, i)
	}
	return nil
}

// recover removes the qdiscs this action installed, and no other.
func (q *qdiscAction) recover(context.Context) error {
	hs, links := q.ends()
	var errs []error
	for _, i := range q.installed {
		if err := hs[i].QdiscDel(q.newQdisc(links[i])); err != nil && !isMissing(err) && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, fmt.Errorf("delete qdisc: %w", err))
		}
	}
	q.installed = q.installed[:0]
	return errors.Join(errs...)
}

// NetemSupport returns nil if the kernel has the netem qdisc, or why not.
// It tries once, adding netem to the loopback of the first site, and
// remembers the answer.
func (t *Topology) NetemSupport() error {
	t.netemOnce.Do(func() {
		if t.isTorn() {
			t.netemErr = ErrClosed
			return
		}
		s := t.sites[0]
		lo, err := s.h.LinkByName("lo")
		if err != nil {
			t.netemErr = fmt.Errorf("netem probe: %w", err)
			return
		}
		q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: qdiscHandle, Parent: netlink.HANDLE_ROOT}, netlink.NetemQdiscAttrs{Latency: 1000})
		err = s.h.QdiscAdd(q)
		switch {
		case errors.Is(err, unix.ENOENT):
			t.netemErr = fmt.Errorf("the kernel has no netem qdisc (sch_netem): %w", err)
		case err != nil:
			t.netemErr = fmt.Errorf("netem probe: %w", err)
		default:
			if err := s.h.QdiscDel(q); err != nil {
				t.cfg.Logger.Warn("netns: removing the netem probe", "err", err)
			}
		}
	})
	return t.netemErr
}

// formatRate writes bits per second as tc does: 1.5Mbit.
func formatRate(bps uint64) string {
	switch {
	case bps >= 1e9 && bps%1e7 == 0:
		return strconv.FormatFloat(float64(bps)/1e9, 'f', -1, 64) + "Gbit"
	case bps >= 1e6 && bps%1e4 == 0:
		return strconv.FormatFloat(float64(bps)/1e6, 'f', -1, 64) + "Mbit"
	case bps >= 1e3 && bps%10 == 0:
		return strconv.FormatFloat(float64(bps)/1e3, 'f', -1, 64) + "kbit"
	}
	return strconv.FormatUint(bps, 10) + "bit"
}
