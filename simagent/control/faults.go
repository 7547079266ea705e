package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

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
	Selector string       `json:"selector"`
	Selected int          `json:"selected"`
	Groups   []FaultGroup `json:"groups"`
}

// Changed is the body of PUT and DELETE /faults.
type Changed struct {
	Changed int `json:"changed"`
}

func (h *Handler) getFaults(w http.ResponseWriter, r *http.Request) {
	sel, idx, err := h.selected(r)
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
	out := FaultsView{Selector: sel.String(), Selected: len(idx), Groups: []FaultGroup{}}
	for _, spec := range order {
		g := groups[spec]
		g.g.Count, g.g.Agents = len(g.idx), ranges(g.idx)
		out.Groups = append(out.Groups, g.g)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) putFaults(w http.ResponseWriter, r *http.Request) {
	sel, _, err := h.selected(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	f, status, err := readFaults(w, r)
	if err != nil {
		writeError(w, status, err)
		return
	}
	h.setFaults(w, sel, f)
}

func (h *Handler) deleteFaults(w http.ResponseWriter, r *http.Request) {
	sel, _, err := h.selected(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	h.setFaults(w, sel, simagent.Faults{})
}

func (h *Handler) setFaults(w http.ResponseWriter, sel simagent.Selector, f simagent.Faults) {
	n, err := h.fleet.SetFaults(sel, f)
	switch {
	case errors.Is(err, simagent.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, err)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err)
		return
	}
	h.opts.logger.Info("faults changed", "selector", sel.String(), "faults", simagent.FormatFaultSpec(f), "agents", n)
	writeJSON(w, http.StatusOK, Changed{Changed: n})
}

// readFaults decodes a PUT body: a JSON simagent.Faults (strict) or, for
// text/plain, a compact fault spec. It returns the HTTP status for errors.
func readFaults(w http.ResponseWriter, r *http.Request) (simagent.Faults, int, error) {
	var f simagent.Faults
	mt := "application/json"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return f, http.StatusBadRequest, fmt.Errorf("Content-Type %q: %w", ct, err)
		}
	}
	if mt != "application/json" && mt != "text/plain" {
		hint := ""
		if mt == "application/x-www-form-urlencoded" {
			hint = " (curl -d sends this; add -H 'Content-Type: text/plain' or application/json)"
		}
		return f, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Type %q: want application/json or text/plain%s", mt, hint)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return f, http.StatusRequestEntityTooLarge, fmt.Errorf("body: larger than %d bytes", tooBig.Limit)
		}
		return f, http.StatusBadRequest, fmt.Errorf("body: %w", err)
	}
	if mt == "text/plain" {
		f, err = simagent.ParseFaultSpec(string(body))
		if err != nil {
			return f, http.StatusBadRequest, fmt.Errorf("body: %w", err)
		}
		return f, http.StatusOK, nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return f, http.StatusBadRequest, errors.New("body: empty; want a JSON faults object ({} for none) or a text/plain fault spec")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, http.StatusBadRequest, fmt.Errorf("body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return f, http.StatusBadRequest, errors.New("body: data after the JSON object")
	}
	if err := f.Validate(); err != nil {
		return f, http.StatusBadRequest, fmt.Errorf("body: %w", err)
	}
	return f, http.StatusOK, nil
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
