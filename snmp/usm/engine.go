package usm

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// TimeWindow is the USM time window (RFC 3414 2.2.3).
const TimeWindow = 150 * time.Second

// MaxBoots is the largest engineBoots; an engine at it is locked.
const MaxBoots = 1<<31 - 1

// enterprise is the IANA number in generated engine IDs: 32473, reserved
// for documentation (RFC 5612), as no real vendor's IDs should be faked.
const enterprise = 32473

// EngineID is the engine ID of agent index in a fleet seeded with seed:
// RFC 3411 format 5 (octets) under enterprise 32473, with 4 bytes drawn
// from the seed and 4 from the index, so it is unique in the fleet and the
// same in every run with that seed.
func EngineID(seed uint64, index int) []byte {
	id := make([]byte, 0, 13)
	id = binary.BigEndian.AppendUint32(id, 0x80000000|enterprise)
	id = append(id, 5)
	id = binary.BigEndian.AppendUint32(id, uint32(splitmix(seed)>>32))
	return binary.BigEndian.AppendUint32(id, uint32(index))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// EngineTime is engine boots and the time the current boot began.
type EngineTime struct {
	Boots uint32
	Since time.Time
}

// At is the engine time at now, in whole seconds since the boot, shifted
// by offset and clamped to [0, 2^31-1].
func (e EngineTime) At(now time.Time, offset time.Duration) uint32 {
	s := (now.Sub(e.Since) + offset) / time.Second
	return uint32(min(max(s, 0), MaxBoots))
}

// Clock is an authoritative engine's boots and boot time, read and reset
// atomically.
type Clock struct {
	p atomic.Pointer[EngineTime]
}

// NewClock starts at boots 1, booted at since.
func NewClock(since time.Time) *Clock {
	c := &Clock{}
	c.p.Store(&EngineTime{Boots: 1, Since: since})
	return c
}

// Load returns the current boots and boot time.
func (c *Clock) Load() EngineTime { return *c.p.Load() }

// Reboot counts a new boot that began at since (boots stop at MaxBoots).
func (c *Clock) Reboot(since time.Time) {
	for {
		old := c.p.Load()
		b := old.Boots
		if b < MaxBoots {
			b++
		}
		if c.p.CompareAndSwap(old, &EngineTime{Boots: b, Since: since}) {
			return
		}
	}
}

// Stats are the usmStats counters of RFC 3414 5, plus the messages an
// engine processed at each level.
type Stats struct {
	UnsupportedSecLevels uint64 `json:"unsupportedSecLevels"`
	NotInTimeWindows     uint64 `json:"notInTimeWindows"`
	UnknownUserNames     uint64 `json:"unknownUserNames"`
	UnknownEngineIDs     uint64 `json:"unknownEngineIDs"`
	WrongDigests         uint64 `json:"wrongDigests"`
	DecryptionErrors     uint64 `json:"decryptionErrors"`
	// Reports counts Report PDUs sent.
	Reports uint64 `json:"reports"`
	// Accepted counts messages that passed every check, by level.
	NoAuthNoPriv uint64 `json:"noAuthNoPriv"`
	AuthNoPriv   uint64 `json:"authNoPriv"`
	AuthPriv     uint64 `json:"authPriv"`
}

// Add sums o into s.
func (s *Stats) Add(o Stats) {
	s.UnsupportedSecLevels += o.UnsupportedSecLevels
	s.NotInTimeWindows += o.NotInTimeWindows
	s.UnknownUserNames += o.UnknownUserNames
	s.UnknownEngineIDs += o.UnknownEngineIDs
	s.WrongDigests += o.WrongDigests
	s.DecryptionErrors += o.DecryptionErrors
	s.Reports += o.Reports
	s.NoAuthNoPriv += o.NoAuthNoPriv
	s.AuthNoPriv += o.AuthNoPriv
	s.AuthPriv += o.AuthPriv
}

// Stat is one usmStats counter.
type Stat int

// The usmStats counters, in the order of their OIDs' last arc.
const (
	StatUnsupportedSecLevels Stat = iota + 1
	StatNotInTimeWindows
	StatUnknownUserNames
	StatUnknownEngineIDs
	StatWrongDigests
	StatDecryptionErrors
)

// OID is the counter's object instance, 1.3.6.1.6.3.15.1.1.N.0.
func (s Stat) OID() []uint32 { return []uint32{1, 3, 6, 1, 6, 3, 15, 1, 1, uint32(s), 0} }

var statNames = [...]string{"", "unsupportedSecLevels", "notInTimeWindows", "unknownUserNames", "unknownEngineIDs", "wrongDigests", "decryptionErrors"}

// String is the counter's name without the usmStats prefix.
func (s Stat) String() string {
	if s > 0 && int(s) < len(statNames) {
		return statNames[s]
	}
	return "unknown"
}

// StatOf returns the usmStats counter a Report varbind names, or 0.
func StatOf(oid []uint32) Stat {
	p := StatUnsupportedSecLevels.OID()
	if len(oid) < 10 || len(oid) > 11 {
		return 0
	}
	for i := range 9 {
		if oid[i] != p[i] {
			return 0
		}
	}
	if s := Stat(oid[9]); s >= StatUnsupportedSecLevels && s <= StatDecryptionErrors {
		return s
	}
	return 0
}

// Counters are an engine's live Stats.
type Counters struct {
	c       [7]atomic.Uint64
	reports atomic.Uint64
	levels  [4]atomic.Uint64
}

// Inc counts s and returns the new value, for the Report.
func (c *Counters) Inc(s Stat) uint32 { return uint32(c.c[s].Add(1)) }

// Report counts a Report sent.
func (c *Counters) Report() { c.reports.Add(1) }

// Accepted counts a message that passed every check at level l.
func (c *Counters) Accepted(l Level) { c.levels[l&3].Add(1) }

// Snapshot reads the counters.
func (c *Counters) Snapshot() Stats {
	return Stats{
		UnsupportedSecLevels: c.c[StatUnsupportedSecLevels].Load(),
		NotInTimeWindows:     c.c[StatNotInTimeWindows].Load(),
		UnknownUserNames:     c.c[StatUnknownUserNames].Load(),
		UnknownEngineIDs:     c.c[StatUnknownEngineIDs].Load(),
		WrongDigests:         c.c[StatWrongDigests].Load(),
		DecryptionErrors:     c.c[StatDecryptionErrors].Load(),
		Reports:              c.reports.Load(),
		NoAuthNoPriv:         c.levels[NoAuthNoPriv].Load(),
		AuthNoPriv:           c.levels[AuthNoPriv].Load(),
		AuthPriv:             c.levels[AuthPriv].Load(),
	}
}

// AppendReportPDU appends a Report PDU with request-id reqID and one
// varbind: the counter s at value v (a Counter32).
func AppendReportPDU(dst []byte, reqID int64, s Stat, v uint32) []byte {
	oid := s.OID()
	var tmp [9]byte
	val := ber.AppendUint(tmp[:0], uint64(v))
	oidLen := ber.OIDSize(oid)
	vb := ber.TLVSize(oidLen) + ber.TLVSize(len(val))
	vbl := ber.TLVSize(vb)
	inner := intTLVSize(reqID) + 3 + 3 + ber.TLVSize(vbl)
	dst = append(dst, ber.PDUReport)
	dst = ber.AppendLength(dst, inner)
	dst = appendIntTLV(dst, reqID)
	dst = append(dst, ber.TagInteger, 1, 0, ber.TagInteger, 1, 0)
	dst = append(dst, ber.TagSequence)
	dst = ber.AppendLength(dst, vbl)
	dst = append(dst, ber.TagSequence)
	dst = ber.AppendLength(dst, vb)
	dst = append(dst, ber.TagOID)
	dst = ber.AppendLength(dst, oidLen)
	dst = ber.AppendOID(dst, oid)
	return ber.AppendTLV(dst, ber.TagCounter32, val)
}
