package mib

import (
	"fmt"
	"math"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// Value is what an OID holds: a BER tag with its content octets, or a
// dynamic value computed on read.
type Value struct {
	// Tag is the BER type (ber.TagInteger, ber.TagCounter32, ...).
	Tag byte
	// Content holds the encoded content octets of a static value.
	Content []byte
	// Dyn, when set, makes the value move with time; Content is ignored.
	Dyn *Dynamic
}

// DynKind says how a dynamic value moves.
type DynKind uint8

// Dynamic value kinds.
const (
	// DynCounter is a counter that rises at Rate per second from Initial and
	// wraps at 2^Bits.
	DynCounter DynKind = iota + 1
	// DynUptime is the agent's uptime in hundredths of a second (TimeTicks).
	DynUptime
	// DynLive is a value the agent's SNMP engine holds (Live says which);
	// Content keeps the recorded value, served where no engine is at hand.
	DynLive
	// DynNumeric is snmpsim's numeric module beyond a plain counter (Num).
	DynNumeric
	// DynIdentity is a value each agent answers in its own way (its
	// sysName, a serial number, a MAC address: Ident says which);
	// Content keeps the recorded value.
	DynIdentity
)

// Ident names an identity object (see WithIdentity).
type Ident uint8

// The identity objects.
const (
	IdentSysName Ident = iota + 1
	IdentSerial
	IdentMAC
)

// Live names an object the agent's own SNMP engine serves.
type Live uint8

// The live objects: SNMP-FRAMEWORK-MIB's snmpEngine group and
// SNMP-USER-BASED-SM-MIB's usmStats (LiveUSMStats+N is usmStats N, 1-6).
const (
	LiveEngineID Live = iota + 1
	LiveEngineBoots
	LiveEngineTime
	LiveEngineMaxMessageSize
	LiveUSMStats Live = 10
)

// Dynamic describes a value computed from the agent's age on every read.
type Dynamic struct {
	Kind    DynKind
	Initial uint64
	// Rate is the increase per second; each agent sees a rate between Rate
	// and Rate*(1+Spread), fixed by its seed.
	Rate   float64
	Spread float64
	// Bits is 32 or 64: where the counter wraps.
	Bits uint8
	// Min and Max, when Max is non-zero, bound a DynCounter to [Min, Max]
	// (snmpsim's numeric module): below Min it reads Min; past Max it
	// wraps back to Min when Wrap is set and stays at Max otherwise. A zero
	// Max leaves the counter wrapping at 2^Bits.
	Min, Max uint64
	// Wrap makes a bounded counter wrap from Max back to Min.
	Wrap bool
	// Key, when non-zero, picks the per-agent rate spread instead of the
	// value's place in the store, so that twins (ifInOctets and the low
	// 32 bits of ifHCInOctets) move at the same rate.
	Key uint64
	// Live says which engine object a DynLive value is.
	Live Live
	// Num is a DynNumeric value's formula.
	Num *Numeric
	// Ident says which identity object a DynIdentity value is; Ordinal
	// and Span number a MAC among the store's Span MACs.
	Ident         Ident
	Ordinal, Span uint32
}

// Static value constructors.

// Integer is an INTEGER (Integer32).
func Integer(v int64) Value { return Value{Tag: ber.TagInteger, Content: ber.AppendInt(nil, v)} }

// OctetString is an OCTET STRING.
func OctetString(b []byte) Value {
	return Value{Tag: ber.TagOctetString, Content: append([]byte{}, b...)}
}

// String is an OCTET STRING holding s.
func String(s string) Value { return Value{Tag: ber.TagOctetString, Content: []byte(s)} }

// Null is NULL.
func Null() Value { return Value{Tag: ber.TagNull} }

// ObjectID is an OBJECT IDENTIFIER value.
func ObjectID(o OID) Value { return Value{Tag: ber.TagOID, Content: ber.AppendOID(nil, o)} }

// IPAddress is an IpAddress.
func IPAddress(a [4]byte) Value { return Value{Tag: ber.TagIPAddress, Content: a[:]} }

// Counter32 is a static Counter32.
func Counter32(v uint32) Value { return unsigned(ber.TagCounter32, uint64(v)) }

// Gauge32 is a Gauge32 (Unsigned32).
func Gauge32(v uint32) Value { return unsigned(ber.TagGauge32, uint64(v)) }

// TimeTicks is a static TimeTicks.
func TimeTicks(v uint32) Value { return unsigned(ber.TagTimeTicks, uint64(v)) }

// Counter64 is a static Counter64.
func Counter64(v uint64) Value { return unsigned(ber.TagCounter64, v) }

// Opaque is an Opaque holding raw bytes.
func Opaque(b []byte) Value { return Value{Tag: ber.TagOpaque, Content: append([]byte{}, b...)} }

func unsigned(tag byte, v uint64) Value { return Value{Tag: tag, Content: ber.AppendUint(nil, v)} }

// Uptime is sysUpTime: TimeTicks since the agent started.
func Uptime() Value { return Value{Tag: ber.TagTimeTicks, Dyn: &Dynamic{Kind: DynUptime, Bits: 32}} }

// Counter is a moving counter (tag ber.TagCounter32 or ber.TagCounter64).
func Counter(tag byte, initial uint64, rate, spread float64) Value {
	bits := uint8(32)
	if tag == ber.TagCounter64 {
		bits = 64
	}
	return Value{Tag: tag, Dyn: &Dynamic{Kind: DynCounter, Initial: initial, Rate: rate, Spread: spread, Bits: bits}}
}

// AppendContent appends the content octets of v as seen by an agent whose
// seed is agentSeed, age after it started. Static values ignore both.
func (v *Value) AppendContent(b []byte, age time.Duration, agentSeed uint64) []byte {
	return v.AppendContentAt(b, age, time.Time{}, agentSeed)
}

// AppendContentAt is AppendContent with the wall clock now, which values
// of snmpsim's numeric module with atime read (the zero time: age stands
// in for it).
func (v *Value) AppendContentAt(b []byte, age time.Duration, now time.Time, agentSeed uint64) []byte {
	switch {
	case v.Dyn == nil || v.Dyn.Kind == DynLive || v.Dyn.Kind == DynIdentity:
		return append(b, v.Content...)
	case v.Dyn.Kind == DynNumeric:
		return v.Dyn.Num.appendContent(b, age, now, agentSeed)
	}
	return ber.AppendUint(b, v.Dyn.At(age, agentSeed))
}

// ContentSize is an upper bound of the content octets AppendContent writes.
func (v *Value) ContentSize() int {
	switch {
	case v.Dyn == nil || v.Dyn.Kind == DynLive:
		return len(v.Content)
	case v.Dyn.Kind == DynIdentity:
		return len(v.Content) + 32
	}
	return 9
}

// At computes the dynamic value at age for an agent's seed.
func (d *Dynamic) At(age time.Duration, agentSeed uint64) uint64 {
	if age < 0 {
		age = 0
	}
	switch d.Kind {
	case DynUptime:
		return uint64(age/(10*time.Millisecond)) & math.MaxUint32
	case DynNumeric:
		if v := d.Num.At(age, time.Time{}, agentSeed); v > 0 {
			return uint64(min(v, math.MaxUint64))
		}
		return 0
	case DynCounter:
		rate := d.Rate
		if d.Spread > 0 {
			rate *= 1 + d.Spread*unitFloat(agentSeed)
		}
		v := d.Initial + floatToWrapped(rate*age.Seconds())
		if d.Max != 0 {
			return d.bound(v)
		}
		if d.Bits == 32 {
			v &= math.MaxUint32
		}
		return v
	}
	return 0
}

// bound applies Min, Max and Wrap to v.
func (d *Dynamic) bound(v uint64) uint64 {
	switch {
	case v < d.Min:
		return d.Min
	case v <= d.Max:
		return v
	case !d.Wrap:
		return d.Max
	}
	span := d.Max - d.Min + 1
	if span == 0 { // [0, 2^64-1]: the addition already wrapped
		return v
	}
	return d.Min + (v-d.Min)%span
}

// floatToWrapped converts a non-negative increase to uint64, reducing it
// modulo 2^64 first so that huge values stay defined.
func floatToWrapped(f float64) uint64 {
	const two64 = 1 << 64
	if !(f > 0) { // also NaN
		return 0
	}
	if f >= two64 {
		f = math.Mod(f, two64)
	}
	return uint64(f)
}

// unitFloat maps a seed to [0, 1) deterministically (splitmix64 finaliser).
func unitFloat(seed uint64) float64 {
	z := seed + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// Describe renders a static value for humans and error messages.
func (v *Value) Describe() string {
	if v.Dyn != nil {
		return fmt.Sprintf("dynamic(tag=0x%02x)", v.Tag)
	}
	switch v.Tag {
	case ber.TagInteger:
		n, _ := ber.ParseInt(v.Content)
		return fmt.Sprintf("INTEGER: %d", n)
	case ber.TagOctetString:
		return fmt.Sprintf("STRING: %q", v.Content)
	case ber.TagIPAddress:
		if len(v.Content) == 4 {
			return fmt.Sprintf("IpAddress: %d.%d.%d.%d", v.Content[0], v.Content[1], v.Content[2], v.Content[3])
		}
	case ber.TagCounter32, ber.TagGauge32, ber.TagTimeTicks, ber.TagCounter64:
		n, _ := ber.ParseUint(v.Content)
		return fmt.Sprintf("0x%02x: %d", v.Tag, n)
	}
	return fmt.Sprintf("0x%02x: % x", v.Tag, v.Content)
}
