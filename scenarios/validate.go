package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// defaultsAndValidate fills defaults and returns the path and message of
// the first problem, or "" when the scenario is valid.
func (s *Scenario) defaultsAndValidate() (string, string) {
	if s.Version != Version {
		return "version", fmt.Sprintf("version %d not supported (want %d)", s.Version, Version)
	}
	if s.Name == "" {
		return "name", "required"
	}
	if p, m := s.modeDefaults(); m != "" {
		return p, m
	}
	if p, m := s.Fleet.defaults(s.Source, !s.skipData); m != "" {
		return p, m
	}
	if p, m := s.homeDefaults(); m != "" {
		return p, m
	}
	if s.IsNetns() {
		if err := simagent.CheckLabels(s.Fleet.AllLabels(true), s.Fleet.Agents); err != nil {
			return "fleet.labels", "with the sites' labels (site=<index> first, then fleet.sites[].labels): " + err.Error()
		}
	}
	po := &s.Poller
	if po.Timeout == 0 {
		po.Timeout = Duration(2 * time.Second)
	}
	if po.Retries == 0 {
		po.Retries = 2
	}
	if po.MaxRepetitions == 0 {
		po.MaxRepetitions = 10
	}
	switch {
	case po.Timeout < 0:
		return "poller.timeout", "must be positive"
	case po.MinTimeout < 0 || po.MinTimeout > po.Timeout:
		return "poller.minTimeout", "must be between 0 and poller.timeout"
	case po.Retries < 0:
		return "poller.retries", "must not be negative"
	case po.MaxRepetitions < 1 || po.MaxRepetitions > 1000:
		return "poller.maxRepetitions", "must be in [1, 1000]"
	case po.Sockets < 0 || po.Sockets > 64:
		return "poller.sockets", "must be in [0, 64]"
	}
	if p, m := s.Load.defaults(); m != "" {
		return p, m
	}
	if p, m := s.v3Defaults(); m != "" {
		return p, m
	}
	if len(s.Phases) == 0 {
		return "phases", "at least one phase is required"
	}
	for i := range s.Phases {
		ph := &s.Phases[i]
		p := "phases[" + strconv.Itoa(i) + "]"
		if ph.Name == "" {
			ph.Name = "phase-" + strconv.Itoa(i+1)
		}
		if ph.Duration <= 0 {
			return p + ".duration", "required, a positive duration like 10s"
		}
		for j, fs := range ph.Faults {
			fp := p + ".faults[" + strconv.Itoa(j) + "]"
			if _, err := fs.Selector.Resolve(s.Fleet.Agents, 0, simagent.LabelsOf(s.Fleet.AllLabels(s.HasSites()))); err != nil {
				return fp + ".selector", err.Error()
			}
			if err := fs.Faults.Validate(); err != nil {
				return fp + ".faults", err.Error()
			}
		}
		if ph.Deadline < 0 {
			return p + ".deadline", "must not be negative"
		}
		if e := ph.Expect; e != nil {
			if e.MinSuccess != nil && (*e.MinSuccess < 0 || *e.MinSuccess > 1) {
				return p + ".expect.minSuccess", "must be in [0, 1]"
			}
			if e.MaxP99 < 0 {
				return p + ".expect.maxP99", "must not be negative"
			}
		}
	}
	if p, m := s.invariantDefaults(); m != "" {
		return p, m
	}
	if r := s.RlimitNofile; r != 0 && (r < 64 || r > 1<<20) {
		return "rlimitNofile", "must be in [64, 1048576] (0: leave the limit alone)"
	}
	if s.Short == nil {
		s.Short = &Short{}
	}
	sh := s.Short
	if sh.Agents == 0 {
		sh.Agents = min(s.Fleet.Agents, 100)
	}
	if sh.DurationScale == 0 {
		sh.DurationScale = 0.1
	}
	switch {
	case sh.Agents < 1 || sh.Agents > s.Fleet.Agents:
		return "short.agents", fmt.Sprintf("must be in [1, fleet.agents=%d]", s.Fleet.Agents)
	case sh.DurationScale <= 0 || sh.DurationScale > 1:
		return "short.durationScale", "must be in (0, 1]"
	case sh.Concurrency < 0:
		return "short.concurrency", "must not be negative"
	}
	if p, m := s.checkKernel(); m != "" {
		return p, m
	}
	shortFleet := s.Fleet
	shortFleet.Agents = sh.Agents
	shortFleet.Labels = scaleLabels(s.Fleet.Labels, s.Fleet.Agents, sh.Agents)
	short := shortFleet.AllLabels(s.HasSites())
	if err := simagent.CheckLabels(short, sh.Agents); err != nil {
		return "fleet.labels", "does not fit the short profile (" + strconv.Itoa(sh.Agents) + " agents): " + err.Error() + "; set short.agents"
	}
	for i, ph := range s.Phases {
		for j, fs := range ph.Faults {
			if _, err := scaleSelector(fs.Selector, s.Fleet.Agents, sh.Agents).Resolve(sh.Agents, 0, simagent.LabelsOf(short)); err != nil {
				return "phases[" + strconv.Itoa(i) + "].faults[" + strconv.Itoa(j) + "].selector",
					"does not fit the short profile (" + strconv.Itoa(sh.Agents) + " agents): " + err.Error() + "; use percent or range, or set short.agents"
			}
		}
	}
	return "", ""
}

func (f *Fleet) defaults(source string, openData bool) (string, string) {
	if f.Agents < 1 || f.Agents > 100000 {
		return "fleet.agents", "required, in [1, 100000]"
	}
	if f.Listen == "" {
		f.Listen = "127.16.0.1:0"
	}
	ap, err := netip.ParseAddrPort(f.Listen)
	if err != nil {
		return "fleet.listen", fmt.Sprintf("want IP:PORT, got %q", f.Listen)
	}
	if !ap.Addr().Unmap().IsLoopback() {
		// A fleet on a routable address answers (and amplifies for)
		// anyone: scenarios keep it on this host. netns mode puts the
		// agents on the run's own namespaces whatever this says.
		return "fleet.listen", fmt.Sprintf("%s is not a loopback address: the fleet stays on this host (127.0.0.0/8 or ::1)", f.Listen)
	}
	if len(f.Kinds) > 0 {
		if p, m := f.checkKinds(source, openData); m != "" {
			return p, m
		}
	}
	switch {
	case len(f.Kinds) > 0:
	case f.Profile != "" && f.Data != "":
		return "fleet.data", "set profile or data, not both"
	case f.Profile == "" && f.Data == "":
		f.Profile = "if-mib:24"
	}
	if f.Community == "" {
		f.Community = "public"
	}
	if err := simagent.CheckLabels(f.Labels, f.Agents); err != nil {
		var le *simagent.LabelError
		if errors.As(err, &le) {
			return "fleet.labels[" + strconv.Itoa(le.Index) + "]", le.Msg
		}
		return "fleet.labels", err.Error()
	}
	if !openData || len(f.Kinds) > 0 {
		return "", ""
	}
	p := "fleet.profile"
	if f.Data != "" {
		p = "fleet.data"
	}
	st, err := mib.Open(f.dataSpec(source))
	if err != nil {
		return p, err.Error()
	}
	if st.Len() == 0 {
		return p, f.dataSpec(source) + ": no OIDs"
	}
	if f.MaxMsgSize != 0 && (f.MaxMsgSize < 484 || f.MaxMsgSize > 65507) {
		return "fleet.maxMsgSize", "must be in [484, 65507]"
	}
	return "", ""
}

func (l *Load) defaults() (string, string) {
	if l.Interval <= 0 {
		return "load.interval", "required, a positive duration like 1s"
	}
	switch l.Model {
	case "":
		l.Model = LoadOpen
	case LoadOpen, LoadClosed:
	default:
		return "load.model", fmt.Sprintf("unknown model %q (want open or closed)", l.Model)
	}
	if l.Deadline == 0 {
		l.Deadline = l.Interval
	}
	if l.Deadline < 0 {
		return "load.deadline", "must be a positive duration (default: the interval)"
	}
	if l.Concurrency == 0 {
		l.Concurrency = 64
	}
	if l.Concurrency < 1 || l.Concurrency > 100000 {
		return "load.concurrency", "must be in [1, 100000]"
	}
	if l.Jitter < 0 || l.Jitter > 1 {
		return "load.jitter", "must be in [0, 1]"
	}
	if len(l.Ops) == 0 {
		return "load.ops", "at least one operation is required"
	}
	for i := range l.Ops {
		op := &l.Ops[i]
		p := "load.ops[" + strconv.Itoa(i) + "]"
		if op.Weight == 0 {
			op.Weight = 1
		}
		if op.Weight < 0 {
			return p + ".weight", "must be positive"
		}
		switch op.Kind {
		case OpGet:
			if len(op.OIDs) == 0 {
				return p + ".oids", "a get needs at least one OID"
			}
			if op.Root != "" {
				return p + ".root", "a get takes oids, not root"
			}
			for j, o := range op.OIDs {
				if _, err := mib.ParseOID(o); err != nil {
					return p + ".oids[" + strconv.Itoa(j) + "]", err.Error()
				}
			}
		case OpWalk, OpBulkWalk:
			if op.Root == "" {
				return p + ".root", "a walk needs a root OID"
			}
			if len(op.OIDs) != 0 {
				return p + ".oids", "a walk takes root, not oids"
			}
			if _, err := mib.ParseOID(op.Root); err != nil {
				return p + ".root", err.Error()
			}
		default:
			return p + ".kind", fmt.Sprintf("unknown kind %q (want get, walk or bulkwalk)", op.Kind)
		}
	}
	return "", ""
}

// Shortened returns a copy scaled down by the short profile: short.agents
// agents, phases and fault windows (blackhole.for, restart.downtime,
// reportStorm.for) scaled by short.durationScale (phases to at least 1s,
// windows to at least 200ms), label ranges and range selectors scaled to
// the same share of the smaller fleet (see scaleRange). Index and count
// selectors are kept as written; validation rejects those that do not fit.
func (s *Scenario) Shortened() *Scenario {
	// Label ranges and range selectors scale with the fleet, fault windows
	// with the phases (short.go).
	c := *s
	c.Fleet.Agents = s.Short.Agents
	c.Fleet.Labels = scaleLabels(s.Fleet.Labels, s.Fleet.Agents, c.Fleet.Agents)
	if s.Short.Concurrency > 0 {
		c.Load.Concurrency = s.Short.Concurrency
	}
	c.Phases = make([]Phase, len(s.Phases))
	for i, ph := range s.Phases {
		ph.Duration = Duration(float64(ph.Duration) * s.Short.DurationScale)
		ph.Duration = max(ph.Duration, Duration(time.Second))
		ph.Faults = scaleFaultSets(ph.Faults, s.Fleet.Agents, c.Fleet.Agents, s.Short.DurationScale)
		c.Phases[i] = ph
	}
	return &c
}

// TotalDuration is the sum of the phases.
func (s *Scenario) TotalDuration() time.Duration {
	var d time.Duration
	for _, ph := range s.Phases {
		d += ph.Duration.D()
	}
	return d
}

// DataPath is where the fleet's data file is read from: fleet.data as
// written when absolute or when no file beside the scenario has that name,
// else relative to the scenario file (as the harness reads it).
func (s *Scenario) DataPath() string { return s.Fleet.dataPath(s.Source) }

func (f *Fleet) dataPath(source string) string {
	if filepath.IsAbs(f.Data) || source == "" {
		return f.Data
	}
	p := filepath.Join(filepath.Dir(source), f.Data)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return f.Data
}

// dataSpec is what mib.Open reads for the fleet: its profile, or its file.
func (f *Fleet) dataSpec(source string) string {
	if f.Data == "" {
		return f.Profile
	}
	return f.dataPath(source)
}

// AllLabels are the label ranges of the whole fleet as the harness gives
// them: in netns mode each site's agents carry site=<index> and the site's
// labels, then fleet.labels.
func (f *Fleet) AllLabels(netns bool) []simagent.LabelRange {
	if !netns {
		return f.Labels
	}
	var out []simagent.LabelRange
	first := 0
	for k, n := range f.SiteAgents() {
		own := map[string]string{"site": strconv.Itoa(k)}
		if k < len(f.Sites) {
			maps.Copy(own, f.Sites[k].Labels)
		}
		out = append(out, simagent.LabelRange{From: first, To: first + n - 1, Labels: own})
		first += n
	}
	return append(out, f.Labels...)
}
