package mib

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// zeroDotZero is the content octets of the OID 0.0.
const zeroDotZero = "\x00"

// MaxInterfaces is the largest N of the if-mib:N profile.
const MaxInterfaces = 100000

// profiles are the synthetic profiles: name (as typed, N for a number)
// and a one-line description.
var profiles = []struct{ name, desc string }{
	{"if-mib:N", fmt.Sprintf("SNMPv2-MIB system group, IF-MIB ifNumber, ifTable and ifXTable with N interfaces (1..%d), counters moving", MaxInterfaces)},
	{"system", "SNMPv2-MIB system group only (sysUpTime moving)"},
}

// Profiles lists the synthetic profiles, one "name  description" line
// each, for --help.
func Profiles() []string {
	out := make([]string, len(profiles))
	for i, p := range profiles {
		out[i] = fmt.Sprintf("%-10s %s", p.name, p.desc)
	}
	return out
}

// isProfile reports whether spec names a profile (rather than a file).
func isProfile(spec string) bool {
	name, _, _ := strings.Cut(spec, ":")
	return name == "if-mib" || name == "system"
}

// Profile builds a synthetic profile: "system" (the SNMPv2-MIB system
// group) or "if-mib:N" (the system group, ifNumber, and ifTable columns
// 1-22 and ifXTable columns 1-19 for N interfaces, 1 <= N <=
// MaxInterfaces). Values are deterministic; the octet and packet counters
// and sysUpTime move with the agent's age, each agent seeing rates spread
// by its seed, and 32-bit counters of busy interfaces wrap within minutes.
// An agent's 32-bit counters are its 64-bit ones modulo 2^32
// (ifInOctets == ifHCInOctets mod 2^32, at the same rate), as on a device.
func Profile(name string) (*Store, error) {
	base, arg, hasArg := strings.Cut(name, ":")
	switch base {
	case "system":
		if hasArg {
			return nil, fmt.Errorf("mib: profile %q: system takes no argument", name)
		}
		var g gen
		g.system("system")
		return g.store(name)
	case "if-mib":
		n, err := strconv.Atoi(arg)
		if !hasArg || err != nil || n < 1 || n > MaxInterfaces {
			return nil, fmt.Errorf("mib: profile %q: want if-mib:N with N from 1 to %d", name, MaxInterfaces)
		}
		return ifMIB(name, n)
	}
	return nil, fmt.Errorf("mib: unknown profile %q (known: if-mib:N, system)", name)
}

// gen appends entries in OID order, carving OIDs, contents and dynamic
// values from a few large allocations.
type gen struct {
	oids   []OID
	values []Value
	a      arena
	dyns   []Dynamic
	buf    []byte
}

func (g *gen) add(v Value, arcs ...uint32) {
	g.oids = append(g.oids, g.a.oid(arcs))
	g.values = append(g.values, v)
}

// static returns v with its content moved into the arena.
func (g *gen) static(v Value) Value {
	v.Content = g.a.bytes(v.Content)
	return v
}

// integer, unsigned and str encode static values straight into the arena.
func (g *gen) integer(v int64) Value {
	var b [9]byte
	return Value{Tag: ber.TagInteger, Content: g.a.bytes(ber.AppendInt(b[:0], v))}
}

func (g *gen) unsigned(tag byte, v uint64) Value {
	var b [9]byte
	return Value{Tag: tag, Content: g.a.bytes(ber.AppendUint(b[:0], v))}
}

func (g *gen) str(b []byte) Value { return Value{Tag: ber.TagOctetString, Content: g.a.bytes(b)} }

// dyn returns a value of tag whose Dynamic lives in a shared chunk.
func (g *gen) dyn(tag byte, d Dynamic) Value {
	if len(g.dyns) == cap(g.dyns) {
		g.dyns = make([]Dynamic, 0, arenaChunk)
	}
	g.dyns = append(g.dyns, d)
	return Value{Tag: tag, Dyn: &g.dyns[len(g.dyns)-1]}
}

// counter is a Counter32/Counter64 that moves at rate (per second, before
// the per-agent spread) from initial; a still counter is static.
func (g *gen) counter(tag byte, initial uint64, rate float64) Value {
	return g.twin(tag, initial, rate, 0)
}

// twin is a counter whose per-agent rate spread is keyed by key (not by
// its place), so that a 32-bit counter and its 64-bit twin given the same
// key, rate and low 32 bits stay equal modulo 2^32.
func (g *gen) twin(tag byte, initial uint64, rate float64, key uint64) Value {
	if rate == 0 {
		return g.unsigned(tag, initial)
	}
	bits := uint8(32)
	if tag == ber.TagCounter64 {
		bits = 64
	}
	return g.dyn(tag, Dynamic{Kind: DynCounter, Initial: initial, Rate: rate, Spread: counterSpread, Bits: bits, Key: key})
}

// twinKey is the spread key of interface f's counter with salt.
func twinKey(f iface, salt uint64) uint64 { return mix64(f.h^salt^0x7477696e) | 1 }

// counterSpread makes each agent's rates differ by up to 50%.
const counterSpread = 0.5

func (g *gen) store(name string) (*Store, error) {
	s := &Store{name: name, oids: g.oids, values: g.values}
	for i := range s.oids {
		if i > 0 && Compare(s.oids[i-1], s.oids[i]) >= 0 {
			return nil, fmt.Errorf("mib: profile %q: OIDs out of order at %s (a bug)", name, s.oids[i])
		}
		if s.values[i].Dyn != nil {
			s.dynamic++
		}
	}
	return s, nil
}

// system adds the SNMPv2-MIB system group (1.3.6.1.2.1.1).
func (g *gen) system(profile string) {
	sys := func(v Value, col uint32) { g.add(v, 1, 3, 6, 1, 2, 1, 1, col, 0) }
	sys(g.static(String("Linux snmpchaos 6.1.0-sim #1 SMP x86_64 (simulated agent, profile "+profile+")")), 1)
	sys(g.static(ObjectID(OID{1, 3, 6, 1, 4, 1, 8072, 3, 2, 10})), 2) // net-snmp, Linux
	sys(Uptime(), 3)
	sys(g.static(String("snmpchaos <noc@example.net>")), 4)
	sys(g.static(String("snmpchaos-sim")), 5)
	sys(g.static(String("snmpchaos lab, rack 1")), 6)
	sys(g.integer(72), 7) // applications + end-to-end
	sys(g.unsigned(ber.TagTimeTicks, 0), 8)
}

// iface is what if-mib:N decides about interface i, from a hash of i.
type iface struct {
	tenGig, adminUp, operUp bool
	h                       uint64 // more hash bits for initial values
	octRate, pktRate        float64
	errRate                 float64
}

func newIface(i int) iface {
	h := mix64(uint64(i))
	// About 5% are shut down and 10% more are down; the first is always up
	// so that even if-mib:1 has moving counters.
	f := iface{tenGig: h%8 == 0, adminUp: i == 1 || (h>>8)%20 != 0, h: mix64(h)}
	f.operUp = f.adminUp && (i == 1 || (h>>16)%10 != 0)
	if f.operUp {
		speed := 125e6 // bytes/s at 1 Gb/s
		if f.tenGig {
			speed *= 10
		}
		load := 0.01 + 0.09*float64((h>>24)%1000)/1000 // 1%..10% of line rate
		f.octRate = speed * load
		f.pktRate = f.octRate / 700
		if (h>>40)%7 == 0 {
			f.errRate = 0.02
		}
	}
	return f
}

// mix64 is the splitmix64 finaliser: a deterministic hash.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// ifName appends interface i's ifDescr (long) or ifName to dst.
func ifName(dst []byte, i int, f iface, long bool) []byte {
	switch {
	case f.tenGig && long:
		dst = append(dst, "TenGigabitEthernet0/"...)
	case f.tenGig:
		dst = append(dst, "Te0/"...)
	case long:
		dst = append(dst, "GigabitEthernet0/"...)
	default:
		dst = append(dst, "Gi0/"...)
	}
	return strconv.AppendInt(dst, int64(i), 10)
}

func status(up bool) int64 {
	if up {
		return 1
	}
	return 2
}

// ifMIB builds if-mib:n.
func ifMIB(name string, n int) (*Store, error) {
	ifs := make([]iface, n+1)
	for i := 1; i <= n; i++ {
		ifs[i] = newIface(i)
	}
	g := gen{oids: make([]OID, 0, 9+41*n), values: make([]Value, 0, 9+41*n)}
	g.system(name)
	g.add(g.integer(int64(n)), 1, 3, 6, 1, 2, 1, 2, 1, 0) // ifNumber
	for col := uint32(1); col <= 22; col++ {
		for i := 1; i <= n; i++ {
			g.add(ifEntry(&g, col, i, ifs[i]), 1, 3, 6, 1, 2, 1, 2, 2, 1, col, uint32(i))
		}
	}
	for col := uint32(1); col <= 19; col++ {
		for i := 1; i <= n; i++ {
			g.add(ifXEntry(&g, col, i, ifs[i]), 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, col, uint32(i))
		}
	}
	return g.store(name)
}

// init32 is a 32-bit counter's initial value; busy interfaces start
// anywhere, so some wrap soon.
func init32(f iface, salt uint64) uint64 { return mix64(f.h^salt) & math.MaxUint32 }

// ifEntry is column col of the ifTable row of interface i.
func ifEntry(g *gen, col uint32, i int, f iface) Value {
	c32 := func(salt uint64, rate float64) Value {
		return g.twin(ber.TagCounter32, init32(f, salt), rate, twinKey(f, salt))
	}
	switch col {
	case 1: // ifIndex
		return g.integer(int64(i))
	case 2: // ifDescr
		g.buf = ifName(g.buf[:0], i, f, true)
		return g.str(g.buf)
	case 3: // ifType: ethernetCsmacd
		return g.integer(6)
	case 4: // ifMtu
		if f.tenGig {
			return g.integer(9216)
		}
		return g.integer(1500)
	case 5: // ifSpeed, saturated for 10G as RFC 2863 says
		if f.tenGig {
			return g.unsigned(ber.TagGauge32, math.MaxUint32)
		}
		return g.unsigned(ber.TagGauge32, 1000000000)
	case 6: // ifPhysAddress: locally administered, unique per index
		g.buf = append(g.buf[:0], 0x02, 0x53, 0x43, byte(i>>16), byte(i>>8), byte(i))
		return g.str(g.buf)
	case 7:
		return g.integer(status(f.adminUp))
	case 8:
		return g.integer(status(f.operUp))
	case 9: // ifLastChange
		return g.unsigned(ber.TagTimeTicks, 0)
	case 10:
		return c32(10, f.octRate)
	case 11:
		return c32(11, f.pktRate)
	case 12: // ifInNUcastPkts (deprecated, still served by real devices)
		return c32(12, f.pktRate*0.0015)
	case 13:
		return c32(13, f.errRate/2)
	case 14:
		return c32(14, f.errRate)
	case 15:
		return g.unsigned(ber.TagCounter32, 0)
	case 16:
		return c32(16, f.octRate*0.8)
	case 17:
		return c32(17, f.pktRate*0.8)
	case 18:
		return c32(18, f.pktRate*0.001)
	case 19:
		return c32(19, f.errRate/4)
	case 20:
		return c32(20, f.errRate/2)
	case 21: // ifOutQLen
		return g.unsigned(ber.TagGauge32, 0)
	default: // 22 ifSpecific: zeroDotZero
		return Value{Tag: ber.TagOID, Content: g.a.bytes([]byte(zeroDotZero))}
	}
}

// ifXEntry is column col of the ifXTable row of interface i.
func ifXEntry(g *gen, col uint32, i int, f iface) Value {
	c32 := func(salt uint64, rate float64) Value {
		return g.twin(ber.TagCounter32, init32(f, salt), rate, twinKey(f, salt))
	}
	// HC counters start with the low 32 bits of their 32-bit twin and move
	// at its rate: ifInOctets == ifHCInOctets mod 2^32, as on a device.
	c64 := func(salt uint64, rate float64) Value {
		return g.twin(ber.TagCounter64, mix64(f.h^salt)&0xffff<<32|init32(f, salt), rate, twinKey(f, salt))
	}
	switch col {
	case 1: // ifName
		g.buf = ifName(g.buf[:0], i, f, false)
		return g.str(g.buf)
	case 2: // ifInMulticastPkts
		return c32(102, f.pktRate*0.001)
	case 3: // ifInBroadcastPkts
		return c32(103, f.pktRate*0.0005)
	case 4:
		return c32(104, f.pktRate*0.0008)
	case 5:
		return c32(105, f.pktRate*0.0002)
	case 6: // ifHCInOctets
		return c64(10, f.octRate)
	case 7:
		return c64(11, f.pktRate)
	case 8:
		return c64(102, f.pktRate*0.001)
	case 9:
		return c64(103, f.pktRate*0.0005)
	case 10: // ifHCOutOctets
		return c64(16, f.octRate*0.8)
	case 11:
		return c64(17, f.pktRate*0.8)
	case 12:
		return c64(104, f.pktRate*0.0008)
	case 13:
		return c64(105, f.pktRate*0.0002)
	case 14: // ifLinkUpDownTrapEnable: enabled(1)
		return g.integer(1)
	case 15: // ifHighSpeed, Mb/s
		if f.tenGig {
			return g.unsigned(ber.TagGauge32, 10000)
		}
		return g.unsigned(ber.TagGauge32, 1000)
	case 16: // ifPromiscuousMode: false(2)
		return g.integer(2)
	case 17: // ifConnectorPresent: true(1)
		return g.integer(1)
	case 18: // ifAlias
		if i%4 == 1 {
			g.buf = strconv.AppendInt(append(g.buf[:0], "uplink "...), int64(i), 10)
			return g.str(g.buf)
		}
		return g.str(nil)
	default: // 19 ifCounterDiscontinuityTime
		return g.unsigned(ber.TagTimeTicks, 0)
	}
}
