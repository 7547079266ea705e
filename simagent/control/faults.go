package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
)

// FaultGroup is a set of selected agents that share the same faults.
type FaultGroup struct {
	Spec   string          `json:"spec"`
	Faults simagent.Faults `json:"faults"`
	// Count is the number of agents in the group, and Agents their
	// indexes as ranges ("0-9,12").
	Count  int    `json:"count"`
	Agents string `json:"agents"`
}

// FaultsView is the body of GET /faults: the faults in force on the
// selected agents, grouped, groups ordered by their first agent.
type FaultsView struct {
	Selector string `json:"selector"`
	Selected int    `json:"selected"`
	// Generation counts the changes applied through the API so far.
	Generation uint64       `json:"generation"`
	Groups     []FaultGroup `json:"groups"`
}

// Changed is the body of a successful PUT or DELETE: how many agents the
// change set, its id, the API's fault generation after it (one more per
// applied change), and when it was applied. Replayed is set when the
// change id was seen before and this is the first answer again, not a
// second application.
type Changed struct {
	Changed    int       `json:"changed"`
	Change     string    `json:"change,omitempty"`
	Generation uint64    `json:"generation"`
	Applied    time.Time `json:"applied"`
	Replayed   bool      `json:"replayed,omitempty"`
	// Sets counts the agents of each set of a PUT /v1/fault-sets.
	Sets []int `json:"sets,omitempty"`
}

// FaultSets is the body of PUT /v1/fault-sets: every agent's faults are
// cleared (unless KeepOthers), then each set's faults go to the agents it
// picks, in order (a later set wins where two pick the same agent).
// Nothing is applied when any set is bad. This is one phase of a scenario
// in one request.
type FaultSets struct {
	Sets []FaultSet `json:"sets"`
	// KeepOthers leaves the faults of agents no set picks as they are.
	KeepOthers bool `json:"keepOthers,omitempty"`
}

// FaultSet picks agents by Selector (simagent.ParseSelector; empty: every
// agent) or by Agents, ascending index ranges such as "0-9,12" (the form
// FaultGroup.Agents has); not both.
type FaultSet struct {
	Selector string          `json:"selector,omitempty"`
	Agents   string          `json:"agents,omitempty"`
	Faults   simagent.Faults `json:"faults"`
}

// MaxFaultSets bounds the sets of one PUT /v1/fault-sets.
const MaxFaultSets = 4096

func (h *Handler) getFaults(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "selector")
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	sel, idx, err := h.selection(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	type group struct {
		g   FaultGroup
		idx []int
	}
	var order []string
	groups := map[string]*group{}
	for _, i := range idx {
		f := h.fleet.Faults(i)
		spec := simagent.FormatFaultSpec(f)
		g := groups[spec]
		if g == nil {
			g = &group{g: FaultGroup{Spec: spec, Faults: f}}
			groups[spec] = g
			order = append(order, spec)
		}
		g.idx = append(g.idx, i)
	}
	out := FaultsView{Selector: sel.String(), Selected: len(idx), Generation: h.generation.Load(), Groups: []FaultGroup{}}
	for _, spec := range order {
		g := groups[spec]
		g.g.Count, g.g.Agents = len(g.idx), ranges(g.idx)
		out.Groups = append(out.Groups, g.g)
	}
	writeJSON(w, http.StatusOK, out)
}

// selectedChange reads the query of a request that changes the faults of the agents a selector
// picks: the change id (empty when none is given) and the resolved selector. Any error is the
// caller's bad request and names the parameter.
func (h *Handler) selectedChange(r *http.Request) (string, simagent.Selector, error) {
	q, err := query(r, "selector", "change")
	if err != nil {
		return "", simagent.Selector{}, err
	}
	id, err := changeID(q)
	if err != nil {
		return "", simagent.Selector{}, err
	}
	sel, _, err := h.selection(q)
	if err != nil {
		return "", simagent.Selector{}, err
	}
	return id, sel, nil
}

func (h *Handler) putFaults(w http.ResponseWriter, r *http.Request) {
	id, sel, err := h.selectedChange(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	f, body, status, err := readFaults(w, r)
	if err != nil {
		writeError(w, status, err)
		return
	}
	h.change(w, r, id, body, func() (Changed, error) {
		n, err := h.fleet.SetFaults(sel, f)
		h.opts.logger.Info("faults changed", "selector", sel.String(), "faults", simagent.FormatFaultSpec(f), "agents", n, "change", id)
		return Changed{Changed: n}, err
	})
}

func (h *Handler) deleteFaults(w http.ResponseWriter, r *http.Request) {
	id, sel, err := h.selectedChange(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	h.change(w, r, id, nil, func() (Changed, error) {
		n, err := h.fleet.SetFaults(sel, simagent.Faults{})
		h.opts.logger.Info("faults cleared", "selector", sel.String(), "agents", n, "change", id)
		return Changed{Changed: n}, err
	})
}

func (h *Handler) putFaultSets(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "change")
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	id, err := changeID(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	body, status, err := readBody(w, r, "application/json")
	if err != nil {
		writeError(w, status, err)
		return
	}
	var fs FaultSets
	if err := decodeStrict(body, &fs); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	sels, err := h.checkSets(fs)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	h.change(w, r, id, body, func() (Changed, error) {
		if !fs.KeepOthers {
			if _, err := h.fleet.SetFaults(simagent.Selector{All: true}, simagent.Faults{}); err != nil {
				return Changed{}, err
			}
		}
		out := Changed{Sets: make([]int, len(fs.Sets))}
		for k, set := range fs.Sets {
			for _, sel := range sels[k] {
				n, err := h.fleet.SetFaults(sel, set.Faults)
				if err != nil {
					return Changed{}, fieldErr(fmt.Sprintf("sets[%d]", k), err)
				}
				out.Sets[k] += n
				out.Changed += n
			}
		}
		h.opts.logger.Info("fault sets applied", "sets", len(fs.Sets), "agents", out.Changed, "change", id)
		return out, nil
	})
}

// checkSets validates every set and returns the selectors each applies
// with (one per index range for Agents).
func (h *Handler) checkSets(fs FaultSets) ([][]simagent.Selector, error) {
	if len(fs.Sets) > MaxFaultSets {
		return nil, fieldErr("sets", fmt.Errorf("%d sets, at most %d", len(fs.Sets), MaxFaultSets))
	}
	out := make([][]simagent.Selector, len(fs.Sets))
	for k, set := range fs.Sets {
		field := fmt.Sprintf("sets[%d]", k)
		if err := set.Faults.Validate(); err != nil {
			return nil, fieldErr(field+".faults", err)
		}
		switch {
		case set.Agents != "" && set.Selector != "":
			return nil, fieldErr(field, errors.New("give selector or agents, not both"))
		case set.Agents != "":
			rs, err := parseRanges(set.Agents, h.fleet.Len())
			if err != nil {
				return nil, fieldErr(field+".agents", err)
			}
			for _, r := range rs {
				out[k] = append(out[k], simagent.Selector{Range: &simagent.IndexRange{From: r[0], To: r[1]}})
			}
		default:
			sel, _, err := h.resolve(set.Selector)
			if err != nil {
				return nil, fieldErr(field+".selector", err)
			}
			out[k] = []simagent.Selector{sel}
		}
	}
	return out, nil
}

// change applies fn once for change id (or every time without one) under
// the change log's lock, and answers with its result.
func (h *Handler) change(w http.ResponseWriter, r *http.Request, id string, body []byte, fn func() (Changed, error)) {
	c, replayed, err := h.changes.do(id, fingerprint(r, body), func() (Changed, error) {
		c, err := fn()
		if err != nil {
			return c, err
		}
		c.Change, c.Applied = id, time.Now()
		c.Generation = h.generation.Add(1)
		return c, nil
	})
	switch {
	case errors.Is(err, errChangeReused):
		writeError(w, http.StatusConflict, fieldErr("change", err))
		return
	case errors.Is(err, simagent.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, err)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err)
		return
	}
	c.Replayed = replayed
	writeJSON(w, http.StatusOK, c)
}

// readFaults decodes a PUT /v1/faults body: a JSON simagent.Faults
// (strict) or, for text/plain, a compact fault spec. It returns the body
// too, and the HTTP status for errors.
func readFaults(w http.ResponseWriter, r *http.Request) (simagent.Faults, []byte, int, error) {
	var f simagent.Faults
	body, status, err := readBody(w, r, "application/json", "text/plain")
	if err != nil {
		return f, nil, status, err
	}
	if mediaType(r) == "text/plain" {
		f, err = simagent.ParseFaultSpec(string(body))
		if err != nil {
			return f, nil, http.StatusBadRequest, fieldErr("body", fmt.Errorf("body: %w", err))
		}
		return f, body, http.StatusOK, nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return f, nil, http.StatusBadRequest, fieldErr("body", errors.New("body: empty; want a JSON faults object ({} for none) or a text/plain fault spec"))
	}
	if err := decodeStrict(body, &f); err != nil {
		return f, nil, http.StatusBadRequest, err
	}
	if err := f.Validate(); err != nil {
		return f, nil, http.StatusBadRequest, fieldErr("body", fmt.Errorf("body: %w", err))
	}
	return f, body, http.StatusOK, nil
}

// mediaType is r's Content-Type without parameters (JSON when absent).
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || r.Header.Get("Content-Type") == "" {
		return "application/json"
	}
	return mt
}

// readBody checks the Content-Type against want and reads the body,
// bounded; it returns the HTTP status for errors.
func readBody(w http.ResponseWriter, r *http.Request, want ...string) ([]byte, int, error) {
	mt := "application/json"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, http.StatusBadRequest, fieldErr("Content-Type", fmt.Errorf("Content-Type %q: %w", ct, err))
		}
	}
	if !slices.Contains(want, mt) {
		hint := ""
		if mt == "application/x-www-form-urlencoded" {
			hint = " (curl -d sends this; add -H 'Content-Type: " + want[len(want)-1] + "')"
		}
		return nil, http.StatusUnsupportedMediaType, fieldErr("Content-Type", fmt.Errorf("Content-Type %q: want %s%s", mt, strings.Join(want, " or "), hint))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, fieldErr("body", fmt.Errorf("body: larger than %d bytes", tooBig.Limit))
		}
		return nil, http.StatusBadRequest, fieldErr("body", fmt.Errorf("body: %w", err))
	}
	return body, http.StatusOK, nil
}

// decodeStrict decodes one JSON value, refusing unknown fields and
// trailing data; errors name the body field when JSON says which.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fieldErr("body", errors.New("body: empty; want a JSON object"))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field := "body"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			field = "body." + te.Field
		}
		if name, ok := unknownField(err); ok {
			field = "body." + name
		}
		return fieldErr(field, fmt.Errorf("body: %w", err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fieldErr("body", errors.New("body: data after the JSON object"))
	}
	return nil
}

// unknownField reads the field name from encoding/json's unknown field
// error, which has no type of its own.
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, err := strconv.Unquote(rest)
	return name, err == nil
}

// parseRanges reads ascending index ranges "0-9,12" of a fleet of n.
func parseRanges(s string, n int) ([][2]int, error) {
	var out [][2]int
	prev := -1
	for term := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(term, "-")
		from, err := strconv.Atoi(a)
		if err != nil || from < 0 {
			return nil, fmt.Errorf("%q: want ascending indexes and ranges like 0-9,12", term)
		}
		to := from
		if isRange {
			if to, err = strconv.Atoi(b); err != nil || to < from {
				return nil, fmt.Errorf("%q: want A-B with A <= B", term)
			}
		}
		if from <= prev {
			return nil, fmt.Errorf("%q: not after the range before it (ranges ascend and do not overlap)", term)
		}
		if to >= n {
			return nil, fmt.Errorf("%q: outside the fleet's agents 0-%d", term, n-1)
		}
		out = append(out, [2]int{from, to})
		prev = to
	}
	return out, nil
}

// ranges writes ascending indexes as "0-9,12,20-21".
func ranges(idx []int) string {
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(idx[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return b.String()
}
