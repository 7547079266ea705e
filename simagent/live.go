package simagent

import (
	"time"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// appendLive appends the content octets of live engine object l as agent
// a's engine holds it at now: its engine ID, boots and time (shifted by
// TimeDrift faults), the fleet's maximum message size and its usmStats
// counters (Counter32, so the low 32 bits).
func (f *Fleet) appendLive(b []byte, a *agent, l mib.Live, now time.Time, p *plan) []byte {
	e := f.engine(a)
	switch l {
	case mib.LiveEngineID:
		return append(b, e.id...)
	case mib.LiveEngineBoots:
		return ber.AppendInt(b, int64(e.clock.Load().Boots))
	case mib.LiveEngineTime:
		return ber.AppendInt(b, int64(e.clock.Load().At(now, p.engineOffset())))
	case mib.LiveEngineMaxMessageSize:
		return ber.AppendInt(b, int64(f.cfg.MaxMsgSize))
	}
	st := e.ctr.Snapshot()
	var n uint64
	switch l - mib.LiveUSMStats {
	case 1:
		n = st.UnsupportedSecLevels
	case 2:
		n = st.NotInTimeWindows
	case 3:
		n = st.UnknownUserNames
	case 4:
		n = st.UnknownEngineIDs
	case 5:
		n = st.WrongDigests
	case 6:
		n = st.DecryptionErrors
	}
	return ber.AppendUint(b, n&0xffffffff)
}

// snapshotLive fills agent i's live engine objects into entries, a
// snapshot of store s.
func (f *Fleet) snapshotLive(i int, s *mib.Store, entries []mib.Entry) {
	a := f.agents[i]
	now := f.cfg.Clock()
	p := a.faults.Load().plan
	_ = p
	for k := range entries {
		if _, v := s.At(k); v.Dyn != nil && (v.Dyn.Kind == mib.DynLive || v.Dyn.Kind == mib.DynIdentity) {
			entries[k].Value = mib.Value{Tag: v.Tag, Content: f.appendValueOf(nil, a, s, k, f.Age(i), now)}
		}
	}
}
