package simagent

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// A distinct identity per agent. Pollers tell devices apart by sysName,
// serial numbers, MAC addresses and engine IDs; a fleet whose agents all
// answer the same recording's would be one device to them. So each agent
// answers its own, derived from its index, address, kind and the fleet
// seed, the same on every run with the same seed:
//
//   - sysName.0: Identity.SysName, default "{value}-{index}" (the
//     recorded name, a dash, the agent's index; "{kind}-{index}" when the
//     recording has an empty name).
//   - entPhysicalSerialNum (each non-empty one): Identity.Serial, default
//     "{value}-{serial}", {serial} being six characters [0-9A-Z] that
//     differ for every agent of the fleet (a bijection of the index keyed
//     by the seed).
//   - ifPhysAddress (each 6-byte one): the recorded OUI (first 3 bytes)
//     is kept; the other 24 bits number the agent's MACs after every
//     other agent's, from an offset the seed picks, so MACs differ across
//     the fleet while agents times MACs per device stay under 2^24.
//   - snmpEngineID.0: the agent's own engine ID (v3.go), always.
//
// Identity.On switches it on (cmd/simagent does by default). Agent 0
// answers the recording as recorded, so a one-agent fleet is the device
// itself. Templates take {value}, {index}, {addr} (the agent's IPv4
// address), {kind} and {serial}.

// Identity configures the per-agent identity objects.
type Identity struct {
	// On gives every agent but agent 0 its own sysName, serials and MACs
	// (off: every agent answers the recorded ones).
	On bool
	// SysName is sysName.0's template (default "{value}-{index}").
	SysName string
	// Serial is entPhysicalSerialNum's template (default "{value}-{serial}").
	Serial string
}

// Default identity templates.
const (
	DefaultSysNameTemplate = "{value}-{index}"
	DefaultSerialTemplate  = "{value}-{serial}"
)

var templateFields = []string{"{value}", "{index}", "{addr}", "{kind}", "{serial}"}

// check validates the templates.
func (id *Identity) check() error {
	for name, t := range map[string]string{"SysName": id.SysName, "Serial": id.Serial} {
		rest := t
		for {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				return fmt.Errorf("%w: Identity.%s %q: unclosed {", ErrConfig, name, t)
			}
			f := rest[i : i+j+1]
			known := false
			for _, k := range templateFields {
				known = known || f == k
			}
			if !known {
				return fmt.Errorf("%w: Identity.%s %q: unknown field %s (known: %s)", ErrConfig, name, t, f, strings.Join(templateFields, ", "))
			}
			rest = rest[i+j+1:]
		}
		if len(t) > 200 {
			return fmt.Errorf("%w: Identity.%s: longer than 200 characters", ErrConfig, name)
		}
	}
	return nil
}

// withIdentity marks s's identity objects when identity is on.
func withIdentity(s *mib.Store, id *Identity) *mib.Store {
	if !id.On {
		return s
	}
	return mib.WithIdentity(s)
}

// appendIdentity appends agent a's value of the identity object v.
func (f *Fleet) appendIdentity(b []byte, a *agent, v *mib.Value) []byte {
	if a.index == 0 {
		return append(b, v.Content...)
	}
	id := &f.cfg.Identity
	switch v.Dyn.Ident {
	case mib.IdentSysName:
		t := id.SysName
		if t == "" {
			t = DefaultSysNameTemplate
			if len(v.Content) == 0 {
				t = "{kind}-{index}"
			}
		}
		return f.expand(b, t, a, v.Content)
	case mib.IdentSerial:
		t := id.Serial
		if t == "" {
			t = DefaultSerialTemplate
		}
		return f.expand(b, t, a, v.Content)
	case mib.IdentMAC:
		c := v.Content
		nic := uint32(c[3])<<16 | uint32(c[4])<<8 | uint32(c[5])
		off := uint32(mix(f.cfg.Seed ^ 0x6d6163)) // the seed's offset
		n := (off + uint32(a.index)*v.Dyn.Span + v.Dyn.Ordinal) & 0xffffff
		if n == nic&0xffffff {
			n = (n + 1) & 0xffffff
		}
		return append(b, c[0], c[1], c[2], byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, v.Content...)
}

// expand appends template t for agent a, value being the recorded value.
func (f *Fleet) expand(b []byte, t string, a *agent, value []byte) []byte {
	for len(t) > 0 {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			return append(b, t...)
		}
		b = append(b, t[:i]...)
		t = t[i:]
		j := strings.IndexByte(t, '}') + 1
		switch t[:j] {
		case "{value}":
			b = append(b, value...)
		case "{index}":
			b = strconv.AppendInt(b, int64(a.index), 10)
		case "{addr}":
			b = a.addr.Addr().AppendTo(b)
		case "{kind}":
			b = append(b, a.kind.name...)
		case "{serial}":
			b = appendSerial(b, f.cfg.Seed, a.index)
		}
		t = t[j:]
	}
	return b
}

// appendSerial appends six characters [0-9A-Z] distinct for every index
// below 36^6: index times an odd multiplier that is no multiple of 3
// (so coprime to 36^6), plus an offset, both from the seed.
func appendSerial(b []byte, seed uint64, index int) []byte {
	const space = 36 * 36 * 36 * 36 * 36 * 36
	h := mix(seed ^ 0x73657269616c)
	m := h%space | 1
	for m%3 == 0 {
		m += 2
	}
	n := (uint64(index)*m + h>>32) % space
	var d [6]byte
	for k := 5; k >= 0; k-- {
		d[k] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n%36]
		n /= 36
	}
	return append(b, d[:]...)
}
