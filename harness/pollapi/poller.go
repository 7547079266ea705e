package pollapi

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// Poller is what the harness drives. Any poller can be plugged in by
// implementing it (or by wrapping blocking functions with Sync).
//
// Poll starts one poll and returns at once or when it likes; done must be
// called exactly once with the outcome, from any goroutine, before Close
// returns. A poll reported twice, or never, violates the accounting
// invariant. Close(ctx) ends the poller: afterwards it must own no socket and
// no goroutine.
type Poller interface {
	Name() string
	Poll(ctx context.Context, p Poll, done func(Result))
	Close(ctx context.Context) error
}

// StatsReporter is implemented by pollers that can say what they hold; the
// harness compares it with what the OS says.
type StatsReporter interface {
	PollerStats() PollerStats
}

// PollerStats is a poller's own view of its resources.
type PollerStats struct {
	OpenSockets int `json:"openSockets"`
	InFlight    int `json:"inFlight"`
	Goroutines  int `json:"goroutines"`
}

// Op is the kind of a poll.
type Op string

// Poll operations.
const (
	OpGet      Op = "get"
	OpWalk     Op = "walk"
	OpBulkWalk Op = "bulkwalk"
)

// Target is an agent to poll.
type Target struct {
	Index     int            `json:"index"` // the agent's index in the fleet
	Addr      netip.AddrPort `json:"addr"`
	Community string         `json:"-"`
	Version   string         `json:"version"` // "1", "2c" or "3"
	// User is the SNMPv3 USM user and Context the contextName (version
	// "3"). The user's passphrases never print (usm.Secret).
	User    usm.User `json:"-"`
	Context string   `json:"-"`
}

// Settings are the scenario's poller settings, for pollers that take them.
type Settings struct {
	Timeout        time.Duration
	MinTimeout     time.Duration
	Retries        int
	MaxRepetitions int
	Sockets        int
	MaxInFlight    int
	Seed           uint64
}

// Poll is one scheduled poll.
type Poll struct {
	ID     uint64
	Target Target
	Op     Op
	OIDs   []string // get
	Root   string   // walk, bulkwalk
}

// Result is a poll's outcome: its varbinds, or an error. A walk's varbinds
// are the whole subtree in order.
type Result struct {
	Varbinds []Varbind
	Err      error
}

// Varbind is a poller-neutral varbind: the OID in dotted form with a
// leading dot, the BER tag of its type, and its value rendered canonically
// (decimal for numbers, lower-case hex for octet strings and Opaque, dotted
// for OIDs and IP addresses, "" for NULL and exceptions).
type Varbind struct {
	OID   string `json:"oid"`
	Type  byte   `json:"type"`
	Value string `json:"value"`
}

// Releaser is implemented by the deliberately broken pollers: Release
// frees what they leak on purpose (sockets, goroutines), once the run has
// seen the leak, so that tests end clean.
type Releaser interface {
	Release()
}

// Target versions.
const (
	VersionV1  = "1"
	VersionV2c = "2c"
	VersionV3  = "3"
)

// String renders "OID = 0xTT: value" for evidence lines.
func (v Varbind) String() string {
	return fmt.Sprintf("%s = 0x%02x: %s", v.OID, v.Type, v.Value)
}

// ErrDeadline is the cause the harness cancels a poll's context with when
// the poll's deadline (load.deadline) has passed; a poller that returns
// context.Cause(ctx) reports it, and it counts as error kind "deadline".
var ErrDeadline = errors.New("harness: the poll's deadline passed")
