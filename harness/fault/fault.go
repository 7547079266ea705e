package fault

import "context"

// Fault is one kernel fault built for a run's topology: a netns.Fault
// today. Inject applies it and Recover undoes it (Recover of a fault not
// injected returns nil); Available reports whether this kernel (or
// cluster) can do it at all.
type Fault interface {
	// Name describes the fault as the kernel sees it, e.g. "drop 5% to
	// agents in 198.18.0.0/20 (site sc1a-1)".
	Name() string
	Available() bool
	Inject(ctx context.Context) error
	Recover(ctx context.Context) error
}

// Dropper is implemented by faults that drop packets and count them
// (nftables filters): DroppedPackets is how many so far, also after
// Recover.
type Dropper interface {
	DroppedPackets() (uint64, error)
}
