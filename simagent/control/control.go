// Package control serves an HTTP API for a running simagent fleet, so a
// harness on this host or another can drive it: discover the agents
// (addresses, labels, data identity, v3 engines), wait until the fleet is
// ready, replace the faults of the agents a selector picks (idempotently,
// with a change id), read each agent's expected data under an OID, fleet
// totals and Prometheus metrics. cmd/simagent serves it; Client is its Go
// client.
//
// Every endpoint lives under /v1 (API version 1). The unversioned paths
// of before (/agents, /faults, /stats, /healthz, /metrics) are aliases of
// their /v1 paths, answered the same way with a "Deprecation: true" header
// and a Link to the /v1 path; there are no redirects, so a retried PUT
// never turns into a GET.
//
//	GET    /v1/                                      the list of endpoints (text)
//	GET    /v1/info                                  discovery (Info)
//	GET    /v1/healthz                               "ok" while the fleet runs
//	GET    /v1/readyz                                "ready" once the agents answer
//	GET    /v1/agents?selector=SEL&offset=N&limit=N  agents, paginated (AgentList)
//	GET    /v1/agents/{i}                            one agent (Agent)
//	GET    /v1/agents/{i}/data?root=OID&after=OID&limit=N  agent i's data under root, now (AgentData)
//	GET    /v1/faults?selector=SEL                   faults in force, grouped (FaultsView)
//	PUT    /v1/faults?selector=SEL&change=ID         replace faults (Changed)
//	DELETE /v1/faults?selector=SEL&change=ID         clear faults (Changed)
//	PUT    /v1/fault-sets?change=ID                  replace every agent's faults at once (FaultSets; Changed)
//	GET    /v1/stats                                 fleet totals (FleetStats)
//	GET    /v1/metrics                               Prometheus text format
//
// SEL is read by simagent.ParseSelector; a missing selector means every
// agent. A PUT /v1/faults body is a JSON simagent.Faults (unknown fields
// are refused) or, with Content-Type text/plain, a compact fault spec
// (simagent.ParseFaultSpec).
//
// A change id (change=ID, 1 to 128 characters of [A-Za-z0-9._:-]) makes a
// fault change idempotent: the API remembers the last MaxChanges ids with
// what they asked and answered, and a request repeating an id it
// remembers is answered as before (Changed.Replayed) without applying it
// again; the same id with a different request is a 409 Conflict.
//
// Errors are JSON Error values {"error": "...", "field": "..."} naming the
// parameter or body field at fault: 400 for bad input, 401 without the
// token, 403 for changes to a read-only API, 404 for an unknown agent, 409
// for a reused change id, 413 and 415 for bodies too large or of the wrong
// type, 503 while the fleet is closed.
//
// With WithToken every request but the health and readiness checks needs
// "Authorization: Bearer TOKEN"; with WithReadOnly PUT and DELETE are
// refused.
package control

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// APIVersion is the version of the control API this package serves.
const APIVersion = 1

// Page sizes of GET /v1/agents and GET /v1/agents/{i}/data.
const (
	DefaultLimit     = 100
	MaxLimit         = 1000
	DefaultDataLimit = 1000
	MaxDataLimit     = 10000
)

// maxBody bounds a PUT body.
const maxBody = 1 << 20

// Option configures New and NewCollector.
type Option interface{ apply(*options) }

type options struct {
	logger   *slog.Logger
	perAgent bool
	health   func() error
	ready    func() error
	readOnly bool
	token    []byte
	version  string
	started  time.Time
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

// WithHealthCheck adds a check to /v1/healthz: while it returns an error,
// /v1/healthz (and /v1/readyz) answer 503 with the error.
func WithHealthCheck(check func() error) Option {
	return optionFunc(func(o *options) { o.health = check })
}

// WithReadyCheck adds a check to /v1/readyz: while it returns an error,
// /v1/readyz answers 503 with the error. Without it the fleet is ready as
// soon as it runs (simagent.Start returns with every socket bound).
func WithReadyCheck(check func() error) Option {
	return optionFunc(func(o *options) { o.ready = check })
}

// WithReadOnly refuses every change (PUT, DELETE) with 403.
func WithReadOnly() Option {
	return optionFunc(func(o *options) { o.readOnly = true })
}

// WithToken requires "Authorization: Bearer token" on every request but
// /v1/healthz and /v1/readyz. The token is compared in constant time and
// never logged or served.
func WithToken(token string) Option {
	return optionFunc(func(o *options) { o.token = []byte(token) })
}

// WithVersion sets the simagent version /v1/info reports (default: the
// main module's version from the build info).
func WithVersion(v string) Option {
	return optionFunc(func(o *options) { o.version = v })
}

func newOptions(opts []Option) options {
	o := options{logger: slog.New(slog.DiscardHandler), started: time.Now()}
	for _, op := range opts {
		op.apply(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.version == "" {
		o.version = buildVersion()
	}
	return o
}

// Handler is the control API of one fleet. It is safe for concurrent use.
type Handler struct {
	fleet   *simagent.Fleet
	opts    options
	mux     *http.ServeMux
	changes *changeLog
	// generation counts applied changes.
	generation atomic.Uint64

	digestOnce sync.Once
	digest     string
}

// route is one endpoint: its method, path under /v1, handler and whether
// it changes the fleet.
type route struct {
	method, path string
	h            http.HandlerFunc
	change       bool
	open         bool // served without the token
}

// New returns the control API of fleet f.
func New(f *simagent.Fleet, opts ...Option) *Handler {
	h := &Handler{fleet: f, opts: newOptions(opts), mux: http.NewServeMux(), changes: newChangeLog(MaxChanges)}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newCollector(f, h.opts),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	routes := []route{
		{method: "GET", path: "/{$}", h: h.index},
		{method: "GET", path: "/info", h: h.info},
		{method: "GET", path: "/healthz", h: h.healthz, open: true},
		{method: "GET", path: "/readyz", h: h.readyz, open: true},
		{method: "GET", path: "/agents", h: h.listAgents},
		{method: "GET", path: "/agents/{i}", h: h.getAgent},
		{method: "GET", path: "/agents/{i}/data", h: h.agentData},
		{method: "GET", path: "/faults", h: h.getFaults},
		{method: "PUT", path: "/faults", h: h.putFaults, change: true},
		{method: "DELETE", path: "/faults", h: h.deleteFaults, change: true},
		{method: "PUT", path: "/fault-sets", h: h.putFaultSets, change: true},
		{method: "GET", path: "/stats", h: h.stats},
		{method: "GET", path: "/metrics", h: metrics.ServeHTTP},
	}
	legacy := map[string]bool{"/agents": true, "/agents/{i}": true, "/faults": true, "/stats": true, "/healthz": true, "/metrics": true, "/{$}": true}
	for _, rt := range routes {
		hf := h.guard(rt)
		h.mux.HandleFunc(rt.method+" /v1"+rt.path, hf)
		if legacy[rt.path] {
			h.mux.HandleFunc(rt.method+" "+rt.path, deprecated(rt.path, hf))
		}
	}
	return h
}

// ServeHTTP routes a request to its endpoint.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// guard wraps an endpoint with the token check and the read-only mode.
func (h *Handler) guard(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Simagent-Api", "1")
		if len(h.opts.token) > 0 && !rt.open && !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="simagent"`)
			writeError(w, http.StatusUnauthorized, fieldErr("Authorization", errors.New("missing or wrong bearer token")))
			return
		}
		if rt.change && h.opts.readOnly {
			writeError(w, http.StatusForbidden, errors.New("control API is read-only: faults cannot be changed"))
			return
		}
		rt.h(w, r)
	}
}

// authorized checks the bearer token in constant time.
func (h *Handler) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), h.opts.token) == 1
}

// deprecated marks a reply of an unversioned path as such.
func deprecated(path string, hf http.HandlerFunc) http.HandlerFunc {
	v1 := "/v1" + strings.TrimSuffix(path, "{$}")
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Deprecation", "true")
		w.Header().Set("Link", "<"+v1+`>; rel="successor-version"`)
		hf(w, r)
	}
}

// Error is the body of every error reply: what is wrong and, when one
// parameter, header or body field is at fault, its name.
type Error struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// FieldError is an error about one named parameter or field.
type FieldError struct {
	Field string
	Err   error
}

// Error is the underlying error's text.
func (e *FieldError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, err error) error {
	if err == nil {
		return nil
	}
	return &FieldError{Field: field, Err: err}
}

// FleetStats is the body of GET /v1/stats: the fleet's shape and the sum
// of every agent's counters.
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
	fmt.Fprint(w, "simagent control API v1\n\n"+
		"GET    /v1/info\n"+
		"GET    /v1/healthz\n"+
		"GET    /v1/readyz\n"+
		"GET    /v1/agents?selector=SEL&offset=N&limit=N\n"+
		"GET    /v1/agents/{i}\n"+
		"GET    /v1/agents/{i}/data?root=OID&after=OID&limit=N\n"+
		"GET    /v1/faults?selector=SEL\n"+
		"PUT    /v1/faults?selector=SEL&change=ID   (JSON faults, or text/plain fault spec)\n"+
		"DELETE /v1/faults?selector=SEL&change=ID\n"+
		"PUT    /v1/fault-sets?change=ID          (JSON {\"sets\": [{\"selector\": SEL, \"faults\": {...}}]})\n"+
		"GET    /v1/stats\n"+
		"GET    /v1/metrics\n")
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

// notServing says why the fleet cannot serve, or nil.
func (h *Handler) notServing() error {
	if h.fleet.Closed() {
		return errors.New("fleet closed")
	}
	if h.opts.health != nil {
		return h.opts.health()
	}
	return nil
}

func (h *Handler) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := h.notServing(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, err)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (h *Handler) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	err := h.notServing()
	if err == nil && h.opts.ready != nil {
		err = h.opts.ready()
	}
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, err)
		return
	}
	fmt.Fprintln(w, "ready")
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
				return nil, fieldErr(k, fmt.Errorf("unknown query parameter %q (this endpoint takes none)", k))
			}
			return nil, fieldErr(k, fmt.Errorf("unknown query parameter %q (want %s)", k, strings.Join(allowed, ", ")))
		}
		if len(q[k]) > 1 {
			return nil, fieldErr(k, fmt.Errorf("query parameter %q given %d times", k, len(q[k])))
		}
	}
	return q, nil
}

// selection parses the selector parameter and resolves it against the
// fleet; the indexes are in ascending order.
func (h *Handler) selection(q url.Values) (simagent.Selector, []int, error) {
	text := q.Get("selector")
	sel, idx, err := h.resolve(text)
	return sel, idx, fieldErr("selector", err)
}

// resolve parses a selector and resolves it against the fleet.
func (h *Handler) resolve(text string) (simagent.Selector, []int, error) {
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
	e := Error{Error: err.Error()}
	var fe *FieldError
	if errors.As(err, &fe) {
		e.Field = fe.Field
	}
	writeJSON(w, status, e)
}
