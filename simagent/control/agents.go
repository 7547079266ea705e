package control

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// Agent is one agent as GET /agents reports it.
type Agent struct {
	Index   int               `json:"index"`
	Address string            `json:"address"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Faults are the faults in force, and FaultSpec the same in the
	// compact form.
	Faults    simagent.Faults `json:"faults"`
	FaultSpec string          `json:"faultSpec"`
	// Uptime is how long the agent has been up (negative while a
	// restart's downtime lasts).
	Uptime simagent.Duration `json:"uptime"`
	Stats  simagent.Stats    `json:"stats"`
	// V3 is the agent's SNMPv3 engine, when the fleet has v3 users.
	V3 *AgentV3 `json:"v3,omitempty"`
}

// AgentV3 is an agent's SNMPv3 engine as GET /agents reports it.
type AgentV3 struct {
	EngineID   string    `json:"engineID"` // hex
	Boots      uint32    `json:"boots"`
	EngineTime uint32    `json:"engineTime"` // seconds
	USM        usm.Stats `json:"usm"`
}

// AgentList is one page of GET /agents: Total agents matched the
// selector, and Agents holds those from Offset on, at most Limit.
type AgentList struct {
	Selector string  `json:"selector"`
	Total    int     `json:"total"`
	Offset   int     `json:"offset"`
	Limit    int     `json:"limit"`
	Agents   []Agent `json:"agents"`
}

func (h *Handler) agent(i int) Agent {
	f := h.fleet
	faults := f.Faults(i)
	return Agent{
		Index:     i,
		Address:   f.Addr(i).String(),
		Labels:    f.Labels(i),
		Faults:    faults,
		FaultSpec: simagent.FormatFaultSpec(faults),
		Uptime:    simagent.Duration(f.Age(i)),
		Stats:     f.AgentStats(i),
		V3:        agentV3(f, i),
	}
}

func agentV3(f *simagent.Fleet, i int) *AgentV3 {
	id := f.EngineID(i)
	if id == nil {
		return nil
	}
	boots, t := f.EngineTime(i)
	return &AgentV3{EngineID: hex.EncodeToString(id), Boots: boots, EngineTime: t, USM: f.USMStats(i)}
}

func (h *Handler) listAgents(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "selector", "offset", "limit")
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	offset, err := intParam(q, "offset", 0, 0, h.fleet.Len())
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	limit, err := intParam(q, "limit", DefaultLimit, 1, MaxLimit)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	sel, idx, err := h.selection(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	out := AgentList{Selector: sel.String(), Total: len(idx), Offset: offset, Limit: limit, Agents: []Agent{}}
	if offset < len(idx) {
		for _, i := range idx[offset:min(offset+limit, len(idx))] {
			out.Agents = append(out.Agents, h.agent(i))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getAgent(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	s := r.PathValue("i")
	i, err := strconv.Atoi(s)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("agent index %q is not a number", s))
		return
	}
	if i < 0 || i >= h.fleet.Len() {
		writeError(w, http.StatusNotFound, fmt.Errorf("agent index %d outside fleet of %d agents", i, h.fleet.Len()))
		return
	}
	writeJSON(w, http.StatusOK, h.agent(i))
}

// intParam reads an integer query parameter in [lo, hi], def if absent.
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s, ok := q[name]
	if !ok {
		return def, nil
	}
	v, err := strconv.Atoi(s[0])
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", name, s[0])
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%s: %d not in [%d, %d]", name, v, lo, hi)
	}
	return v, nil
}
