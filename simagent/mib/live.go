package mib

import (
	"slices"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// liveObjects are the instances an agent's own engine serves, whatever a
// recording says: a recorded device's frozen snmpEngineID, boots and time
// and usmStats would contradict the engine that answers SNMPv3.
var liveObjects = []struct {
	oid  OID
	tag  byte
	live Live
}{
	{OID{1, 3, 6, 1, 6, 3, 10, 2, 1, 1, 0}, ber.TagOctetString, LiveEngineID},
	{OID{1, 3, 6, 1, 6, 3, 10, 2, 1, 2, 0}, ber.TagInteger, LiveEngineBoots},
	{OID{1, 3, 6, 1, 6, 3, 10, 2, 1, 3, 0}, ber.TagInteger, LiveEngineTime},
	{OID{1, 3, 6, 1, 6, 3, 10, 2, 1, 4, 0}, ber.TagInteger, LiveEngineMaxMessageSize},
	{OID{1, 3, 6, 1, 6, 3, 15, 1, 1, 1, 0}, ber.TagCounter32, LiveUSMStats + 1},
	{OID{1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0}, ber.TagCounter32, LiveUSMStats + 2},
	{OID{1, 3, 6, 1, 6, 3, 15, 1, 1, 3, 0}, ber.TagCounter32, LiveUSMStats + 3},
	{OID{1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0}, ber.TagCounter32, LiveUSMStats + 4},
	{OID{1, 3, 6, 1, 6, 3, 15, 1, 1, 5, 0}, ber.TagCounter32, LiveUSMStats + 5},
	{OID{1, 3, 6, 1, 6, 3, 15, 1, 1, 6, 0}, ber.TagCounter32, LiveUSMStats + 6},
}

// WithLiveEngine returns s with the snmpEngine objects (snmpEngineID,
// snmpEngineBoots, snmpEngineTime, snmpEngineMaxMessageSize) and the
// usmStats counters it holds marked DynLive, for the agent's engine to
// fill in; the recorded value stays as Content. s itself is returned when
// it holds none of them; s is not changed.
func WithLiveEngine(s *Store) *Store {
	if m := s.mux; m != nil {
		c := *s
		mc := *m
		mc.Phases = make([]*Store, len(m.Phases))
		for i, p := range m.Phases {
			mc.Phases[i] = WithLiveEngine(p)
		}
		c.mux = &mc
		s = &c
	}
	var values []Value
	for _, lo := range liveObjects {
		i := s.Get(lo.oid)
		if i < 0 {
			continue
		}
		if values == nil {
			values = slices.Clone(s.values)
		}
		v := values[i]
		if v.Dyn != nil {
			v.Content = nil
		}
		values[i] = Value{Tag: lo.tag, Content: v.Content, Dyn: &Dynamic{Kind: DynLive, Live: lo.live}}
	}
	if values == nil {
		return s
	}
	c := *s
	c.values = values
	c.dynamic = 0
	for i := range values {
		if values[i].Dyn != nil {
			c.dynamic++
		}
	}
	return &c
}
