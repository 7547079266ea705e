package scenarios

import (
	"fmt"
	"net/url"
	"strconv"
)

// MaxProcesses bounds fleet.processes.
const MaxProcesses = 64

// IsRemote reports whether the fleet is driven over control APIs:
// running simagent processes at fleet.remote.
func (f *Fleet) IsRemote() bool { return len(f.Remote) > 0 }

// homeDefaults checks where the fleet lives: in the harness's process
// (default), in fleet.processes simagent child processes, or in running
// simagent processes at fleet.remote; not more than one, and neither with
// netns or k8s mode.
func (s *Scenario) homeDefaults() (string, string) {
	f := &s.Fleet
	switch {
	case f.Processes < 0 || f.Processes > MaxProcesses:
		return "fleet.processes", fmt.Sprintf("must be in [0, %d] (0: the agents run in the harness's process)", MaxProcesses)
	case f.Processes > f.Agents:
		return "fleet.processes", fmt.Sprintf("%d processes for %d agents: at most one process per agent", f.Processes, f.Agents)
	case f.Processes > 0 && f.IsRemote():
		return "fleet.remote", "give fleet.remote (running simagents) or fleet.processes (started by the harness), not both"
	case f.Processes > 0 && s.HasSites():
		return "fleet.processes", s.Mode + " mode runs each site's agents in its namespace or pod; fleet.processes is for in-process scenarios"
	case f.IsRemote() && s.HasSites():
		return "fleet.remote", "a remote fleet lives where it runs; " + s.Mode + " mode builds its own sites"
	}
	seen := map[string]int{}
	for i, u := range f.Remote {
		p := "fleet.remote[" + strconv.Itoa(i) + "]"
		if err := CheckControlURL(u); err != nil {
			return p, err.Error()
		}
		if j, dup := seen[u]; dup {
			return p, fmt.Sprintf("%s given twice (also fleet.remote[%d])", u, j)
		}
		seen[u] = i
	}
	return "", ""
}

// CheckControlURL checks a simagent control API URL: http or https, a
// host, no query, fragment or user info (a token is given apart).
func CheckControlURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q: want a control API URL like http://HOST:PORT: %w", s, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("%q: want a control API URL like http://HOST:PORT", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%q: no query, fragment or user info (a token is given with --fleet-token-file)", s)
	}
	return nil
}
