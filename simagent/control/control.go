// Package control serves an HTTP API for a running simagent fleet: list
// agents with their labels, faults and counters, read and replace faults
// on the agents a selector picks, fleet totals, a health check and
// Prometheus metrics. cmd/simagent serves it on localhost; the harness uses
// it to drive simagent pods.
//
// Endpoints:
//
//	GET    /agents?selector=SEL&offset=N&limit=N  agents, paginated (AgentList)
//	GET    /agents/{i}                            one agent (Agent)
//	GET    /faults?selector=SEL                   faults in force, grouped (FaultsView)
//	PUT    /faults?selector=SEL                   replace faults (Changed)
//	DELETE /faults?selector=SEL                   clear faults (Changed)
//	GET    /stats                                 fleet totals (FleetStats)
//	GET    /healthz                               "ok" while the fleet runs
//	GET    /metrics                               Prometheus text format
//
// SEL is read by simagent.ParseSelector; a missing selector means every
// agent. A PUT body is a JSON simagent.Faults (unknown fields are refused)
// or, with Content-Type text/plain, a compact fault spec
// (simagent.ParseFaultSpec). Errors are JSON {"error": "..."} naming the
// parameter or field at fault, with status 400 for bad input.
package control

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// Page sizes of GET /agents.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// maxBody bounds a PUT /faults body.
const maxBody = 1 << 20

// Option configures New and NewCollector.
type Option interface{ apply(*options) }

type options struct {
	logger   *slog.Logger
	perAgent bool
	health   func() error
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithLogger logs every change of faults (default: discard).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// WithPerAgentMetrics adds per-agent series (requests, responses, drops by
// agent index and address) to /metrics. Off by default: a fleet of 10,000
// agents makes 30,000 series.
func WithPerAgentMetrics() Option {
	return optionFunc(func(o *options) { o.perAgent = true })
}

// WithHealthCheck adds a check to /healthz: while it returns an error,
// /healthz answers 503 with the error.
func WithHealthCheck(check func() error) Option {
	return optionFunc(func(o *options) { o.health = check })
}

func newOptions(opts []Option) options {
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, op := range opts {
		op.apply(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Handler is the control API of one fleet. It is safe for concurrent use.
type Handler struct {
	fleet *simagent.Fleet
	opts  options
	mux   *http.ServeMux
}

// New returns the control API of fleet f.
func New(f *simagent.Fleet, opts ...Option) *Handler {
	h := &Handler{fleet: f, opts: newOptions(opts), mux: http.NewServeMux()}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newCollector(f, h.opts),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("GET /agents", h.listAgents)
	h.mux.HandleFunc("GET /agents/{i}", h.getAgent)
	h.mux.HandleFunc("GET /faults", h.getFaults)
	h.mux.HandleFunc("PUT /faults", h.putFaults)
	h.mux.HandleFunc("DELETE /faults", h.deleteFaults)
	h.mux.HandleFunc("GET /stats", h.stats)
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return h
}

// ServeHTTP routes a request to its endpoint.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Error is the body of every error reply.
type Error struct {
	Error string `json:"error"`
}

// FleetStats is the body of GET /stats: the fleet's shape and the sum of
// every agent's counters.
type FleetStats struct {
	Agents  int    `json:"agents"`
	Sockets int    `json:"sockets"`
	Pending int    `json:"pending"`
	Seed    uint64 `json:"seed"`
	Data    string `json:"data"`
	simagent.Stats
	// USM sums the agents' usmStats counters, when the fleet has v3 users.
	USM *usm.Stats `json:"usm,omitempty"`
}

// hasV3 reports whether the fleet serves SNMPv3 (has v3 users).
func hasV3(f *simagent.Fleet) bool { return f.Len() > 0 && f.EngineID(0) != nil }

func (h *Handler) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, "simagent control API\n\n"+
		"GET    /agents?selector=SEL&offset=N&limit=N\n"+
		"GET    /agents/{i}\n"+
		"GET    /faults?selector=SEL\n"+
		"PUT    /faults?selector=SEL   (JSON faults, or text/plain fault spec)\n"+
		"DELETE /faults?selector=SEL\n"+
		"GET    /stats\n"+
		"GET    /healthz\n"+
		"GET    /metrics\n")
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	f := h.fleet
	st := FleetStats{
		Agents:  f.Len(),
		Sockets: f.Sockets(),
		Pending: f.Pending(),
		Seed:    f.Seed(),
		Data:    f.Store().Name(),
		Stats:   f.Stats(),
	}
	if hasV3(f) {
		u := f.TotalUSMStats()
		st.USM = &u
	}
	writeJSON(w, http.StatusOK, st)
}

// closer is what a fleet that can tell whether it is closed offers.
type closer interface{ Closed() bool }

func (h *Handler) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if c, ok := any(h.fleet).(closer); ok && c.Closed() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "fleet closed")
		return
	}
	if h.opts.health != nil {
		if err := h.opts.health(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return
		}
	}
	fmt.Fprintln(w, "ok")
}

// query returns r's query parameters and refuses any not in allowed, so a
// misspelt selector cannot silently select every agent.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	for k := range q {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, fmt.Errorf("unknown query parameter %q (this endpoint takes none)", k)
			}
			return nil, fmt.Errorf("unknown query parameter %q (want %s)", k, strings.Join(allowed, ", "))
		}
		if len(q[k]) > 1 {
			return nil, fmt.Errorf("query parameter %q given %d times", k, len(q[k]))
		}
	}
	return q, nil
}

// selected reads the query of r, which takes only a selector, and
// resolves the selector against the fleet; the indexes are in ascending
// order.
func (h *Handler) selected(r *http.Request) (simagent.Selector, []int, error) {
	q, err := query(r, "selector")
	if err != nil {
		return simagent.Selector{}, nil, err
	}
	return h.selection(q)
}

// selection parses the selector parameter and resolves it against the
// fleet; the indexes are in ascending order.
func (h *Handler) selection(q url.Values) (simagent.Selector, []int, error) {
	text := q.Get("selector")
	sel, err := simagent.ParseSelector(text)
	if err != nil {
		return sel, nil, err // names the selector already
	}
	idx, err := h.fleet.Select(sel)
	if err != nil {
		return sel, nil, fmt.Errorf("selector=%s: %w", text, err)
	}
	idx = slices.Clone(idx)
	slices.Sort(idx)
	return sel, idx, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, Error{Error: err.Error()})
}
