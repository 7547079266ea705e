package scenarios

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Modes: where a scenario's agents live.
const (
	// ModeInProcess runs the fleet in the harness's process, on 127.0.0.0/8
	// (the default).
	ModeInProcess = "inprocess"
	// ModeNetns runs one fleet per site, each in its own Linux network
	// namespace behind a veth pair, and allows kernel faults (needs root).
	ModeNetns = "netns"
	// ModeK8s runs one simagent pod per site in Kubernetes; kernel faults
	// become Chaos Mesh experiments (see package k8s/chaos).
	ModeK8s = "k8s"
)

// Site is one netns test host: a namespace with its share of the agents.
type Site struct {
	// Agents is how many agents live in the site (at least 1).
	Agents int `json:"agents"`
	// Labels are given to every agent of the site, next to "site=<index>",
	// for label selectors.
	Labels map[string]string `json:"labels,omitempty"`
}

// KernelFault is a kernel-level fault on one site for the length of a
// phase (netns mode). Exactly one of the fault fields is set.
type KernelFault struct {
	// Site is the index of the site in fleet.sites.
	Site      int              `json:"site"`
	Drop      *KernelDrop      `json:"drop,omitempty"`
	Blackhole *KernelBlackhole `json:"blackhole,omitempty"`
	Bandwidth *KernelBandwidth `json:"bandwidth,omitempty"`
	LinkDown  *KernelLinkDown  `json:"linkDown,omitempty"`
	Flap      *KernelFlap      `json:"flap,omitempty"`
	Netem     *KernelNetem     `json:"netem,omitempty"`
	// PodRestart restarts the site's simagent container once, when the
	// phase starts (mode: k8s only).
	PodRestart *KernelPodRestart `json:"podRestart,omitempty"`
}

// Directions of kernel faults, seen from the poller.
const (
	DirToAgents   = "toAgents"
	DirFromAgents = "fromAgents"
	DirBoth       = "both"
)

// KernelDrop drops packets at random with nftables.
type KernelDrop struct {
	// Prob is the share of packets dropped, in (0, 1].
	Prob float64 `json:"prob"`
	// Dir is toAgents (default), fromAgents or both.
	Dir string `json:"dir,omitempty"`
}

// KernelBlackhole drops every packet to and from the site's agents with
// nftables, leaving the link up.
type KernelBlackhole struct{}

// KernelBandwidth limits the site's link with a tbf qdisc.
type KernelBandwidth struct {
	// Rate is "10mbit", "500kbit", "1gbit" or bits per second; at least
	// 8kbit.
	Rate Bitrate `json:"rate"`
	// Burst is the bucket size in bytes (default: 10 ms at Rate, at least
	// two MTUs).
	Burst int `json:"burst,omitempty"`
	// Latency is the longest a packet may queue (default 100ms).
	Latency Duration `json:"latency,omitempty"`
	// Dir is both (default), toAgents or fromAgents.
	Dir string `json:"dir,omitempty"`
}

// KernelLinkDown takes the site's link down for the phase: a partition.
type KernelLinkDown struct{}

// KernelFlap takes the site's link down for Down, up for Up, and so on.
type KernelFlap struct {
	Down Duration `json:"down"`
	Up   Duration `json:"up"`
	// Cycles is how many down/up cycles (0: until the phase ends).
	Cycles int `json:"cycles,omitempty"`
}

// KernelNetem is delay, jitter and loss with netem, where the kernel has
// it (the run fails when it does not).
type KernelNetem struct {
	Delay  Duration `json:"delay,omitempty"`
	Jitter Duration `json:"jitter,omitempty"`
	Loss   float64  `json:"loss,omitempty"`
	// Duplicate and Corrupt are the shares of packets duplicated and
	// corrupted, in [0, 1] (mode: k8s only: netns's netem does delay,
	// jitter and loss).
	Duplicate float64 `json:"duplicate,omitempty"`
	Corrupt   float64 `json:"corrupt,omitempty"`
	// Dir is fromAgents (default), toAgents or both.
	Dir string `json:"dir,omitempty"`
}

// KernelPodRestart kills the site's simagent container (Chaos Mesh
// PodChaos container-kill); the kubelet starts it again in the same pod,
// so the agents keep their addresses and come back with a fresh uptime.
type KernelPodRestart struct{}

// Kind names the fault that is set ("drop", "flap", ...), "" if none.
func (k KernelFault) Kind() string {
	kinds := k.kinds()
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

func (k KernelFault) kinds() []string {
	var out []string
	for _, c := range []struct {
		set  bool
		name string
	}{
		{k.Drop != nil, "drop"}, {k.Blackhole != nil, "blackhole"}, {k.Bandwidth != nil, "bandwidth"},
		{k.LinkDown != nil, "linkDown"}, {k.Flap != nil, "flap"}, {k.Netem != nil, "netem"},
		{k.PodRestart != nil, "podRestart"},
	} {
		if c.set {
			out = append(out, c.name)
		}
	}
	return out
}

// String describes the fault, e.g. "site 1: drop 5%".
func (k KernelFault) String() string {
	s := "site " + strconv.Itoa(k.Site) + ": "
	switch {
	case k.Drop != nil:
		s += "drop " + strconv.FormatFloat(k.Drop.Prob*100, 'f', -1, 64) + "%" + suffix(k.Drop.Dir)
	case k.Blackhole != nil:
		s += "blackhole"
	case k.Bandwidth != nil:
		s += "bandwidth " + k.Bandwidth.Rate.String() + suffix(k.Bandwidth.Dir)
	case k.LinkDown != nil:
		s += "link down"
	case k.Flap != nil:
		s += fmt.Sprintf("flap down %s up %s", k.Flap.Down.D(), k.Flap.Up.D())
		if k.Flap.Cycles > 0 {
			s += " x" + strconv.Itoa(k.Flap.Cycles)
		}
	case k.Netem != nil:
		s += fmt.Sprintf("netem delay %s jitter %s loss %s%%", k.Netem.Delay.D(), k.Netem.Jitter.D(), strconv.FormatFloat(k.Netem.Loss*100, 'f', -1, 64))
		if k.Netem.Duplicate > 0 {
			s += " duplicate " + strconv.FormatFloat(k.Netem.Duplicate*100, 'f', -1, 64) + "%"
		}
		if k.Netem.Corrupt > 0 {
			s += " corrupt " + strconv.FormatFloat(k.Netem.Corrupt*100, 'f', -1, 64) + "%"
		}
		s += suffix(k.Netem.Dir)
	case k.PodRestart != nil:
		s += "pod restart"
	default:
		s += "none"
	}
	return s
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

// Bitrate is a rate in bits per second, written "10mbit", "500kbit",
// "1gbit", "8000bit" or as a plain number.
type Bitrate uint64

// UnmarshalJSON reads a number or a string with a unit.
func (b *Bitrate) UnmarshalJSON(data []byte) error {
	var n uint64
	if err := json.Unmarshal(data, &n); err == nil {
		*b = Bitrate(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("want a rate like 10mbit, got %s", data)
	}
	v, err := ParseBitrate(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalJSON writes the rate as a string with a unit.
func (b Bitrate) MarshalJSON() ([]byte, error) { return json.Marshal(b.String()) }

// String writes the rate with the largest unit that keeps it whole.
func (b Bitrate) String() string {
	v := uint64(b)
	for _, u := range []struct {
		n    uint64
		name string
	}{{1e9, "gbit"}, {1e6, "mbit"}, {1e3, "kbit"}} {
		if v >= u.n && v%u.n == 0 {
			return strconv.FormatUint(v/u.n, 10) + u.name
		}
	}
	return strconv.FormatUint(v, 10) + "bit"
}

// ParseBitrate reads "10mbit", "1.5gbit", "500kbit" or "8000bit".
func ParseBitrate(s string) (Bitrate, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = rest, u.m
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f*mult > 1e12 {
		return 0, fmt.Errorf("rate %q: want a number with kbit, mbit or gbit", s)
	}
	return Bitrate(f * mult), nil
}

// IsNetns reports whether the scenario runs in netns mode.
func (s *Scenario) IsNetns() bool { return s.Mode == ModeNetns }

// IsK8s reports whether the scenario runs in pods mode (Kubernetes).
func (s *Scenario) IsK8s() bool { return s.Mode == ModeK8s }

// HasSites reports whether the scenario's agents live in sites with
// kernel faults: netns or k8s mode.
func (s *Scenario) HasSites() bool { return s.IsNetns() || s.IsK8s() }

// SiteAgents is how many agents each site gets: fleet.agents spread over
// the sites in proportion to their agents (so a short profile's smaller
// fleet.agents shrinks every site alike), each at least one. A scenario
// in netns mode without sites has one site with every agent; in-process
// mode has none.
func (f *Fleet) SiteAgents() []int {
	if len(f.Sites) == 0 {
		return []int{f.Agents}
	}
	total := 0
	for _, s := range f.Sites {
		total += s.Agents
	}
	out := make([]int, len(f.Sites))
	if total == f.Agents {
		for i, s := range f.Sites {
			out[i] = s.Agents
		}
		return out
	}
	given := 0
	for i, s := range f.Sites {
		out[i] = max(1, f.Agents*s.Agents/total)
		given += out[i]
	}
	// Hand out (or take back) the rounding, first site first, bounded by
	// the sites' count per pass.
	for pass := 0; given != f.Agents && pass < f.Agents+len(out); pass++ {
		i := pass % len(out)
		switch {
		case given < f.Agents:
			out[i]++
			given++
		case out[i] > 1:
			out[i]--
			given--
		}
	}
	return out
}

// modeDefaults checks the mode and the sites, and sets fleet.agents from
// the sites when it is not given. It runs before the fleet's defaults.
func (s *Scenario) modeDefaults() (string, string) {
	if s.Mode == "" {
		s.Mode = ModeInProcess
	}
	switch s.Mode {
	case ModeInProcess:
		if len(s.Fleet.Sites) > 0 {
			return "fleet.sites", "sites need mode: netns or k8s"
		}
		return "", ""
	case ModeNetns, ModeK8s:
	default:
		return "mode", fmt.Sprintf("unknown mode %q (want %s, %s or %s)", s.Mode, ModeInProcess, ModeNetns, ModeK8s)
	}
	const maxSites = 64 // netns.MaxSites
	if len(s.Fleet.Sites) > maxSites {
		return "fleet.sites", fmt.Sprintf("at most %d sites", maxSites)
	}
	sum := 0
	for i, site := range s.Fleet.Sites {
		// netns.DefaultSiteBits gives 4,094 agents a site.
		if site.Agents < 1 || site.Agents > 4094 {
			return "fleet.sites[" + strconv.Itoa(i) + "].agents", "required, in [1, 4094]"
		}
		for k := range site.Labels {
			if k == "site" {
				return "fleet.sites[" + strconv.Itoa(i) + "].labels.site", `"site" is set by the harness (site=<index>)`
			}
		}
		sum += site.Agents
	}
	switch {
	case len(s.Fleet.Sites) > 0 && s.Fleet.Agents == 0:
		s.Fleet.Agents = sum
	case len(s.Fleet.Sites) > 0 && s.Fleet.Agents != sum:
		return "fleet.agents", fmt.Sprintf("%d is not the sum of the sites' agents (%d); leave it out", s.Fleet.Agents, sum)
	case len(s.Fleet.Sites) == 0 && s.Fleet.Agents > 4094:
		return "fleet.agents", "a netns site holds at most 4094 agents: use fleet.sites"
	}
	if s.Fleet.ByPort {
		return "fleet.byPort", "not in " + s.Mode + " mode (the mode places the agents)"
	}
	return "", ""
}

// checkKernel checks the phases' kernel faults and the short profile's
// fit to the sites. It runs after the short profile's defaults.
func (s *Scenario) checkKernel() (string, string) {
	sites := 0
	if s.HasSites() {
		sites = len(s.Fleet.SiteAgents())
		if s.Short.Agents < sites {
			return "short.agents", fmt.Sprintf("must be at least the number of sites (%d)", sites)
		}
	}
	for i, ph := range s.Phases {
		for j, k := range ph.Kernel {
			p := "phases[" + strconv.Itoa(i) + "].kernel[" + strconv.Itoa(j) + "]"
			if !s.HasSites() {
				return p, "kernel faults need mode: netns or k8s"
			}
			if bp, m := k.validate(p, sites); m != "" {
				return bp, m
			}
			if bp, m := k.forMode(p, s.Mode); m != "" {
				return bp, m
			}
		}
		if bp, m := linkFaultsOnce(ph.Kernel, "phases["+strconv.Itoa(i)+"].kernel"); m != "" {
			return bp, m
		}
	}
	return "", ""
}

// linkFaultsOnce refuses two link faults, or two qdisc faults, on one site
// in one phase: they would undo each other.
func linkFaultsOnce(ks []KernelFault, p string) (string, string) {
	link, qdisc := map[int]bool{}, map[int]bool{}
	for j, k := range ks {
		var seen map[int]bool
		switch {
		case k.LinkDown != nil || k.Flap != nil:
			seen = link
		case k.Bandwidth != nil || k.Netem != nil:
			seen = qdisc
		default:
			continue
		}
		if seen[k.Site] {
			return p + "[" + strconv.Itoa(j) + "]", fmt.Sprintf("site %d already has a %s fault in this phase", k.Site, map[bool]string{true: "link", false: "qdisc"}[k.LinkDown != nil || k.Flap != nil])
		}
		seen[k.Site] = true
	}
	return "", ""
}

// validate checks one kernel fault by the rules of package netns (which
// checks again when the harness builds the fault).
func (k KernelFault) validate(p string, sites int) (string, string) {
	if k.Site < 0 || k.Site >= sites {
		return p + ".site", fmt.Sprintf("site %d outside the %d site(s) of fleet.sites", k.Site, sites)
	}
	switch kinds := k.kinds(); len(kinds) {
	case 0:
		return p, "set one of drop, blackhole, bandwidth, linkDown, flap, netem, podRestart"
	case 1:
	default:
		return p, "set one fault per entry, not " + strings.Join(kinds, " and ")
	}
	switch {
	case k.Drop != nil:
		d := k.Drop
		if !(d.Prob > 0 && d.Prob <= 1) {
			return p + ".drop.prob", "must be in (0, 1]"
		}
		if m := checkDir(d.Dir); m != "" {
			return p + ".drop.dir", m
		}
	case k.Bandwidth != nil:
		b := k.Bandwidth
		switch {
		case b.Rate < 8000:
			return p + ".bandwidth.rate", "required, at least 8kbit"
		case b.Burst < 0:
			return p + ".bandwidth.burst", "must not be negative"
		case b.Latency < 0:
			return p + ".bandwidth.latency", "must not be negative"
		}
		if m := checkDir(b.Dir); m != "" {
			return p + ".bandwidth.dir", m
		}
	case k.Flap != nil:
		f := k.Flap
		switch {
		case f.Down.D() < 10*time.Millisecond:
			return p + ".flap.down", "required, at least 10ms"
		case f.Up.D() < 10*time.Millisecond:
			return p + ".flap.up", "required, at least 10ms"
		case f.Cycles < 0:
			return p + ".flap.cycles", "must not be negative"
		}
	case k.Netem != nil:
		n := k.Netem
		switch {
		case n.Delay < 0 || n.Delay.D() > time.Hour:
			return p + ".netem.delay", "must be in [0, 1h]"
		case n.Jitter < 0 || n.Jitter.D() > time.Hour:
			return p + ".netem.jitter", "must be in [0, 1h]"
		case !(n.Loss >= 0 && n.Loss <= 1):
			return p + ".netem.loss", "must be in [0, 1]"
		case !(n.Duplicate >= 0 && n.Duplicate <= 1):
			return p + ".netem.duplicate", "must be in [0, 1]"
		case !(n.Corrupt >= 0 && n.Corrupt <= 1):
			return p + ".netem.corrupt", "must be in [0, 1]"
		}
		if m := checkDir(n.Dir); m != "" {
			return p + ".netem.dir", m
		}
	}
	return "", ""
}

// forMode refuses the faults only one mode can make.
func (k KernelFault) forMode(p, mode string) (string, string) {
	if mode == ModeK8s {
		return "", ""
	}
	switch {
	case k.PodRestart != nil:
		return p + ".podRestart", "needs mode: k8s (a pod to restart)"
	case k.Netem != nil && k.Netem.Duplicate > 0:
		return p + ".netem.duplicate", "needs mode: k8s (netns's netem does delay, jitter and loss)"
	case k.Netem != nil && k.Netem.Corrupt > 0:
		return p + ".netem.corrupt", "needs mode: k8s (netns's netem does delay, jitter and loss)"
	}
	return "", ""
}

func checkDir(d string) string {
	switch d {
	case "", DirToAgents, DirFromAgents, DirBoth:
		return ""
	}
	return fmt.Sprintf("unknown direction %q (want %s, %s or %s)", d, DirToAgents, DirFromAgents, DirBoth)
}
