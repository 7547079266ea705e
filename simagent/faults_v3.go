package simagent

import (
	"fmt"
	"strconv"
	"time"
)

// EngineReboot reboots an agent's SNMPv3 engine when applied: engineBoots
// goes up by Boots (default 1, as one reboot) and engineTime starts again
// from 0. Agents keep answering (unlike Restart, which also reboots the
// engine after its downtime).
type EngineReboot struct {
	Boots int `json:"boots,omitempty"`
}

// TimeDrift shifts an agent's SNMPv3 engineTime by Offset (negative: back)
// from the moment it is applied, as a clock step would. An Offset beyond
// the 150 s time window makes managers' cached engine time go stale.
type TimeDrift struct {
	Offset Duration `json:"offset"`
}

// ReportStorm answers every SNMPv3 request with a usmStatsUnknownEngineIDs
// Report, for For from the moment it is applied (0: until replaced), as an
// agent that lost its engine ID or a misrouted NAT would.
type ReportStorm struct {
	For Duration `json:"for,omitempty"`
}

// maxDrift bounds TimeDrift.Offset: engineTime lives in [0, 2^31-1] s.
const maxDrift = 1 << 31 * Duration(time.Second)

// compileV3 checks the SNMPv3 faults.
func compileV3(f *Faults) error {
	if d := f.TimeDrift; d != nil && (d.Offset > maxDrift || d.Offset < -maxDrift) {
		return badFault("timeDrift.offset", "%s beyond ±%s", d.Offset, maxDrift)
	}
	if r := f.EngineReboot; r != nil && (r.Boots < 0 || r.Boots > 1000) {
		return badFault("engineReboot.boots", "%d not in [0, 1000]", r.Boots)
	}
	if r := f.ReportStorm; r != nil {
		if err := checkDur("reportStorm.for", r.For); err != nil {
			return err
		}
	}
	return nil
}

// engineOffset is the engineTime shift the faults ask for.
func (p *plan) engineOffset() time.Duration {
	if d := p.spec.TimeDrift; d != nil {
		return d.Offset.D()
	}
	return 0
}

// storming reports whether a Report storm is on at now.
func (s *faultState) storming(now time.Time) bool {
	r := s.plan.spec.ReportStorm
	return r != nil && (r.For == 0 || now.Sub(s.appliedAt) < r.For.D())
}

// setSpecKeyV3 applies one SNMPv3 term of a fault spec.
func setSpecKeyV3(f *Faults, k, v string) error {
	var err error
	switch k {
	case "engine-reboot":
		f.EngineReboot = &EngineReboot{}
		if v != "" {
			f.EngineReboot.Boots, err = specInt(v)
		}
	case "time-drift":
		var d time.Duration
		if d, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("%q is not a duration like 200s or -5m: %w", v, err)
		}
		f.TimeDrift = &TimeDrift{Offset: Duration(d)}
	case "report-storm":
		f.ReportStorm = &ReportStorm{}
		if v != "" {
			f.ReportStorm.For, err = specDur(v)
		}
	}
	return err
}

// formatSpecV3 appends the SNMPv3 terms of f.
func formatSpecV3(f Faults, t []string) []string {
	if r := f.EngineReboot; r != nil {
		if r.Boots == 0 {
			t = append(t, "engine-reboot")
		} else {
			t = append(t, "engine-reboot="+strconv.Itoa(r.Boots))
		}
	}
	if d := f.TimeDrift; d != nil {
		t = append(t, "time-drift="+d.Offset.String())
	}
	if r := f.ReportStorm; r != nil {
		if r.For == 0 {
			t = append(t, "report-storm")
		} else {
			t = append(t, "report-storm="+r.For.String())
		}
	}
	return t
}
