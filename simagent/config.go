package simagent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// Config describes a fleet. Only Store is required.
type Config struct {
	// Agents is the number of agents (default 1).
	Agents int
	// Listen is the first agent's address (default 127.16.0.1:1161); the
	// others take the next IPv4 addresses on the same port, or with ByPort
	// the next ports on the same address. Port 0 picks a free port.
	Listen netip.AddrPort
	// ByPort puts agents on consecutive ports of one address, one socket
	// each, for platforms without 127/8.
	ByPort bool
	// Store is the data every agent serves; or Kinds.
	Store *mib.Store
	// Kinds makes a mixed fleet: several device kinds, each with its data
	// and a count or share of the agents (kinds.go). Excludes Store.
	Kinds []Kind
	// Identity gives every agent its own sysName, serial numbers and MAC
	// addresses (identity.go).
	Identity Identity
	// Community is the v1/v2c community (default "public").
	Community string
	// Seed drives every random decision of the fleet.
	Seed uint64
	// MaxMsgSize is the agents' maximum message size (default 65507).
	MaxMsgSize int
	// MaxBulkVarbinds caps the varbinds a GetBulk's repetitions return, as
	// snmpd's maxGetbulkResponses does: max-repetitions shrinks to
	// MaxBulkVarbinds / repeaters (default 100, snmpd's; negative: no cap).
	MaxBulkVarbinds int
	// Sockets is the number of shared sockets in shared-port mode
	// (default GOMAXPROCS, at most 16).
	Sockets int
	// Faults applies to every agent from the start.
	Faults Faults
	// MaxPending bounds the delayed replies held at once (default
	// DefaultMaxPending); a reply delayed past it is dropped and counted
	// (DropQueueFull).
	MaxPending int
	// MaxPendingBytes bounds the bytes of the delayed replies held at once
	// (default DefaultMaxPendingBytes), likewise.
	MaxPendingBytes int
	// Labels attaches labels to ranges of agents, for label selectors.
	Labels []LabelRange
	// Clock is the agents' time source (default time.Now): uptime, counters
	// and fault windows. Delayed replies always wait in real time.
	Clock func() time.Time
	// Logger receives lifecycle messages (default: discard).
	Logger *slog.Logger
	// Users are every agent's SNMPv3 USM users (none: v3 is not served).
	// See v3.go for engine IDs, boots and time.
	Users []usm.User
}

// LabelRange gives labels to agents From..To inclusive.
type LabelRange struct {
	From   int               `json:"from"`
	To     int               `json:"to"`
	Labels map[string]string `json:"labels"`
}

// DefaultMaxBulkVarbinds is snmpd's default maxGetbulkResponses.
const DefaultMaxBulkVarbinds = 100

// ErrClosed is returned by methods of a closed fleet.
var ErrClosed = errors.New("simagent: fleet closed")

// ErrConfig is wrapped by every error about a bad Config.
var ErrConfig = errors.New("simagent: bad config")

// Validate applies defaults to a copy of c and reports what is wrong with
// it, without binding anything.
func (c Config) Validate() error { return c.defaults() }

func (c *Config) defaults() error {
	if c.Agents == 0 && len(c.Kinds) == 0 {
		c.Agents = 1
	}
	if _, err := c.resolveKinds(); err != nil {
		return err
	}
	if err := c.Identity.check(); err != nil {
		return err
	}
	if c.Agents < 0 || c.Agents > 1<<20 {
		return fmt.Errorf("%w: %d agents not in [1, %d]", ErrConfig, c.Agents, 1<<20)
	}
	if !c.Listen.IsValid() {
		c.Listen = netip.MustParseAddrPort("127.16.0.1:1161")
	}
	if c.Community == "" {
		c.Community = "public"
	}
	if c.MaxMsgSize == 0 {
		c.MaxMsgSize = maxUDPPayload
	}
	if c.MaxMsgSize < 484 || c.MaxMsgSize > maxUDPPayload {
		return fmt.Errorf("%w: MaxMsgSize %d not in [484, %d]", ErrConfig, c.MaxMsgSize, maxUDPPayload)
	}
	if c.MaxBulkVarbinds == 0 {
		c.MaxBulkVarbinds = DefaultMaxBulkVarbinds
	}
	if c.Sockets == 0 {
		c.Sockets = min(runtime.GOMAXPROCS(0), 16)
	}
	if c.Sockets < 0 || c.Sockets > 64 {
		return fmt.Errorf("%w: Sockets %d not in [1, 64]", ErrConfig, c.Sockets)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxPendingBytes == 0 {
		c.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if c.MaxPending < 0 || c.MaxPendingBytes < 0 {
		return fmt.Errorf("%w: MaxPending %d, MaxPendingBytes %d: must not be negative", ErrConfig, c.MaxPending, c.MaxPendingBytes)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if err := c.checkUsers(); err != nil {
		return err
	}
	if err := CheckLabels(c.Labels, c.Agents); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.ByPort {
		if int(c.Listen.Port())+c.Agents-1 > 65535 {
			return fmt.Errorf("%w: %d agents from port %d run past 65535", ErrConfig, c.Agents, c.Listen.Port())
		}
		if c.Listen.Port() == 0 && c.Agents > 1 {
			return fmt.Errorf("%w: ByPort needs a fixed first port, not 0", ErrConfig)
		}
	} else if c.Agents > 1 {
		a := c.Listen.Addr()
		if !a.Is4() {
			return fmt.Errorf("%w: %d agents on consecutive addresses need an IPv4 first address, got %s (use ByPort)", ErrConfig, c.Agents, a)
		}
		last := addAddr(a, c.Agents-1)
		if !last.IsValid() || (a.IsLoopback() && !last.IsLoopback()) || last == netip.AddrFrom4([4]byte{127, 255, 255, 255}) {
			return fmt.Errorf("%w: %d agents from %s run out of the range (last would be %s)", ErrConfig, c.Agents, a, last)
		}
	}
	return nil
}

// addAddr returns a+n for IPv4 a, or the zero Addr on overflow.
func addAddr(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	v += uint64(n)
	if v > 0xffffffff {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
