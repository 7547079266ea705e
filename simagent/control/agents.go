package control

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
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
	i, status, err := h.agentIndex(r)
	if err != nil {
		writeError(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, h.agent(i))
}

// agentIndex reads the {i} of the path; it returns the HTTP status for
// errors.
func (h *Handler) agentIndex(r *http.Request) (int, int, error) {
	s := r.PathValue("i")
	i, err := strconv.Atoi(s)
	if err != nil {
		return 0, http.StatusBadRequest, fieldErr("i", fmt.Errorf("agent index %q is not a number", s))
	}
	if i < 0 || i >= h.fleet.Len() {
		return 0, http.StatusNotFound, fieldErr("i", fmt.Errorf("agent index %d outside fleet of %d agents", i, h.fleet.Len()))
	}
	return i, http.StatusOK, nil
}

// AgentData is the body of GET /v1/agents/{i}/data: agent i's data under
// Root as the agent holds it at Age (its uptime when read), in OID order,
// without the effect of faults (the agent's faults are in GET
// /v1/agents/{i}). Entries holds at most Limit entries after After; Next,
// when set, is the After of the next page. Total counts the entries under
// Root.
type AgentData struct {
	Index   int               `json:"index"`
	Root    string            `json:"root"`
	After   string            `json:"after,omitempty"`
	Age     simagent.Duration `json:"age"`
	Total   int               `json:"total"`
	Entries []DataEntry       `json:"entries"`
	Next    string            `json:"next,omitempty"`
	// Data is the identity of the data the entries come from.
	Data DataInfo `json:"data"`
}

// DataEntry is one OID with its BER type, its content octets (hex) as
// read at the agent's age, and whether the value moves with time.
type DataEntry struct {
	OID     string `json:"oid"`
	Type    byte   `json:"type"`
	Value   string `json:"value"`
	Dynamic bool   `json:"dynamic,omitempty"`
}

func (h *Handler) agentData(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "root", "after", "limit")
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	i, status, err := h.agentIndex(r)
	if err != nil {
		writeError(w, status, err)
		return
	}
	limit, err := intParam(q, "limit", DefaultDataLimit, 1, MaxDataLimit)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if !q.Has("root") {
		writeError(w, http.StatusBadRequest, fieldErr("root", errors.New("root: missing; want a numeric OID such as 1.3.6.1.2.1.2 (1.3 for everything)")))
		return
	}
	root, err := mib.ParseOID(q.Get("root"))
	if err != nil {
		writeError(w, http.StatusBadRequest, fieldErr("root", fmt.Errorf("root %q: %w", q.Get("root"), err)))
		return
	}
	from := root
	if q.Has("after") {
		after, err := mib.ParseOID(q.Get("after"))
		if err != nil {
			writeError(w, http.StatusBadRequest, fieldErr("after", fmt.Errorf("after %q: %w", q.Get("after"), err)))
			return
		}
		if !after.HasPrefix(root) {
			writeError(w, http.StatusBadRequest, fieldErr("after", fmt.Errorf("after %s is not under root %s", after, root)))
			return
		}
		from = after
	}
	f := h.fleet
	age := f.Age(i)
	// The agent's own data (its kind's, in a mixed fleet) in the phase its
	// age is in, the entries AppendValue indexes.
	s := f.StoreOf(i).Phase(age)
	out := AgentData{Index: i, Root: root.String(), After: q.Get("after"), Age: simagent.Duration(age), Entries: []DataEntry{}, Data: h.dataInfoOf(f.StoreOf(i))}
	first := s.Next(root)
	if s.Get(root) >= 0 {
		first = s.Get(root) // a leaf OID is its own subtree
	}
	start := s.Next(from)
	if !q.Has("after") {
		start = first
	}
	for k := first; k < s.Len(); k++ {
		o, v := s.At(k)
		if !o.HasPrefix(root) {
			break
		}
		out.Total++
		if k < start || len(out.Entries) > limit {
			continue
		}
		if len(out.Entries) == limit {
			out.Next = out.Entries[limit-1].OID
			out.Entries = append(out.Entries, DataEntry{}) // marks the page full
			continue
		}
		out.Entries = append(out.Entries, DataEntry{
			OID: o.String(), Type: v.Tag, Value: hex.EncodeToString(f.AppendValue(nil, i, k, age)), Dynamic: v.Dyn != nil,
		})
	}
	if len(out.Entries) > limit {
		out.Entries = out.Entries[:limit]
	}
	writeJSON(w, http.StatusOK, out)
}

// intParam reads an integer query parameter in [lo, hi], def if absent.
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s, ok := q[name]
	if !ok {
		return def, nil
	}
	v, err := strconv.Atoi(s[0])
	if err != nil {
		return 0, fieldErr(name, fmt.Errorf("%s: %q is not a whole number", name, s[0]))
	}
	if v < lo || v > hi {
		return 0, fieldErr(name, fmt.Errorf("%s: %d not in [%d, %d]", name, v, lo, hi))
	}
	return v, nil
}
