package control

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const sysName = ".1.3.6.1.2.1.1.5.0"

// testStore is a tiny store: a few system scalars and a 2-row table.
func testStore(t testing.TB) *mib.Store {
	t.Helper()
	b := mib.NewBuilder("control-test")
	add := func(oid string, v mib.Value) { b.Add(mib.MustParseOID(oid), v, "") }
	add("1.3.6.1.2.1.1.1.0", mib.String("control test"))
	add("1.3.6.1.2.1.1.3.0", mib.Uptime())
	add("1.3.6.1.2.1.1.5.0", mib.String("agent"))
	add("1.3.6.1.2.1.2.2.1.2.1", mib.String("eth1"))
	add("1.3.6.1.2.1.2.2.1.2.2", mib.String("eth2"))
	s, err := b.Build()
	require.NoError(t, err)
	return s
}

// startFleet starts n agents from 127.16.200.1 on a free port (an address
// block no other package's tests use), closed at cleanup.
func startFleet(t testing.TB, cfg simagent.Config) *simagent.Fleet {
	t.Helper()
	cfg.Listen = netip.MustParseAddrPort("127.16.200.1:0")
	cfg.Store = testStore(t)
	cfg.Seed = 7
	f, err := simagent.Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	return f
}

// serve starts the control API of f on an httptest server.
func serve(t testing.TB, f *simagent.Fleet, opts ...Option) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(f, opts...))
	t.Cleanup(srv.Close)
	return srv
}

// snmpClient is a connected v2c client for agent i that gives up fast.
func snmpClient(t testing.TB, f *simagent.Fleet, i int) *gosnmp.GoSNMP {
	t.Helper()
	a := f.Addr(i)
	g := &gosnmp.GoSNMP{
		Target:    a.Addr().String(),
		Port:      a.Port(),
		Community: f.Community(),
		Version:   gosnmp.Version2c,
		Timeout:   300 * time.Millisecond,
		Retries:   0,
		MaxOids:   gosnmp.MaxOids,
	}
	require.NoError(t, g.Connect())
	t.Cleanup(func() { _ = g.Conn.Close() })
	return g
}

// do sends a request and returns the status and body.
func do(t testing.TB, srv *httptest.Server, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// getJSON GETs path, expects 200 and decodes the body into v.
func getJSON(t testing.TB, srv *httptest.Server, path string, v any) {
	t.Helper()
	code, body := do(t, srv, http.MethodGet, path, "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), v), body)
}

func TestFaultsChangeBehaviourOnTheWire(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 3})
	srv := serve(t, f)
	g0, g1 := snmpClient(t, f, 0), snmpClient(t, f, 1)
	_, err := g1.Get([]string{sysName})
	require.NoError(t, err, "healthy agent answers")

	code, body := do(t, srv, http.MethodPut, "/faults?selector=index=1", "text/plain", "blackhole")
	require.Equal(t, http.StatusOK, code, body)
	assertChanged(t, body, 1)

	_, err = g1.Get([]string{sysName})
	require.Error(t, err, "blackholed agent must not answer")
	assert.Contains(t, err.Error(), "timeout")
	_, err = g0.Get([]string{sysName})
	require.NoError(t, err, "other agents keep answering")

	var view FaultsView
	getJSON(t, srv, "/faults", &view)
	assert.Equal(t, 3, view.Selected)
	require.Len(t, view.Groups, 2)
	assert.Equal(t, FaultGroup{Spec: "none", Count: 2, Agents: "0,2"}, view.Groups[0])
	assert.Equal(t, FaultGroup{Spec: "blackhole", Faults: simagent.Faults{Blackhole: &simagent.Blackhole{}}, Count: 1, Agents: "1"}, view.Groups[1])

	var a Agent
	getJSON(t, srv, "/agents/1", &a)
	assert.Equal(t, "blackhole", a.FaultSpec)
	assert.EqualValues(t, 1, a.Stats.Drops[simagent.DropBlackhole])

	code, body = do(t, srv, http.MethodDelete, "/faults?selector=index=1", "", "")
	require.Equal(t, http.StatusOK, code, body)
	assertChanged(t, body, 1)
	_, err = g1.Get([]string{sysName})
	require.NoError(t, err, "agent answers again after DELETE")
}

func TestPutJSONFaults(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 4})
	srv := serve(t, f)
	code, body := do(t, srv, http.MethodPut, "/faults?selector=range=1-2", "application/json",
		`{"errorStatus": {"status": "genErr"}, "delay": {"fixed": "1ms"}}`)
	require.Equal(t, http.StatusOK, code, body)
	assertChanged(t, body, 2)
	for i := range 4 {
		want := "none"
		if i == 1 || i == 2 {
			want = "delay=1ms,error=genErr"
		}
		assert.Equal(t, want, simagent.FormatFaultSpec(f.Faults(i)), "agent %d", i)
	}
	r, err := snmpClient(t, f, 2).Get([]string{sysName})
	require.NoError(t, err)
	assert.Equal(t, gosnmp.GenErr, r.Error, "the agent answers genErr on the wire")

	// No Content-Type means JSON; {} clears.
	code, body = do(t, srv, http.MethodPut, "/faults", "", `{}`)
	require.Equal(t, http.StatusOK, code, body)
	assertChanged(t, body, 4)
	assert.Equal(t, simagent.Faults{}, f.Faults(1))
}

func TestBadInputsAre400NamingTheProblem(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 2})
	srv := serve(t, f)
	tests := []struct {
		name, method, path, ctype, body string
		code                            int
		want                            []string
	}{
		{"unknown field", "PUT", "/faults", "application/json", `{"dorp": {"prob": 0.5}}`, 400, []string{"body", `unknown field \"dorp\"`}},
		{"unknown nested field", "PUT", "/faults", "", `{"drop": {"probability": 0.5}}`, 400, []string{`unknown field \"probability\"`}},
		{"wrong type", "PUT", "/faults", "", `{"drop": {"prob": "high"}}`, 400, []string{"drop.prob"}},
		{"bad duration", "PUT", "/faults", "", `{"delay": {"fixed": "soon"}}`, 400, []string{"duration", "soon"}},
		{"invalid value", "PUT", "/faults", "", `{"drop": {"prob": 2}}`, 400, []string{"drop.prob", "probability 2"}},
		{"bad OID", "PUT", "/faults", "", `{"loop": {"after": "1.3.x"}}`, 400, []string{"loop.after"}},
		{"empty body", "PUT", "/faults", "", ``, 400, []string{"body: empty"}},
		{"trailing data", "PUT", "/faults", "", `{} {}`, 400, []string{"after the JSON object"}},
		{"bad spec", "PUT", "/faults", "text/plain", "drop=0.1,delay=fast", 400, []string{"term 2", "delay", "fast"}},
		{"bad content type", "PUT", "/faults", "application/xml", "<drop/>", 415, []string{"application/xml"}},
		{"bad selector", "PUT", "/faults?selector=some", "text/plain", "drop=1", 400, []string{"selector", "some"}},
		{"selector out of range", "PUT", "/faults?selector=index=9", "text/plain", "drop=1", 400, []string{"selector", "index 9"}},
		{"misspelt parameter", "PUT", "/faults?selecter=index=0", "text/plain", "drop=1", 400, []string{`\"selecter\"`, "selector"}},
		{"repeated parameter", "DELETE", "/faults?selector=index=0&selector=index=1", "", "", 400, []string{"selector", "2 times"}},
		{"get faults bad selector", "GET", "/faults?selector=range=5", "", "", 400, []string{"selector", "A-B"}},
		{"limit zero", "GET", "/agents?limit=0", "", "", 400, []string{"limit", "not in [1, 1000]"}},
		{"limit too big", "GET", "/agents?limit=5000", "", "", 400, []string{"limit"}},
		{"offset not a number", "GET", "/agents?offset=x", "", "", 400, []string{"offset", `\"x\"`}},
		{"offset negative", "GET", "/agents?offset=-1", "", "", 400, []string{"offset"}},
		{"agent not a number", "GET", "/agents/abc", "", "", 400, []string{`\"abc\"`}},
		{"agent out of range", "GET", "/agents/2", "", "", 404, []string{"index 2"}},
		{"stats takes no parameters", "GET", "/stats?x=1", "", "", 400, []string{`\"x\"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, srv, tt.method, tt.path, tt.ctype, tt.body)
			t.Log(strings.TrimSpace(body))
			assert.Equal(t, tt.code, code, body)
			var e Error
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			for _, w := range tt.want {
				assert.Contains(t, body, w)
			}
		})
	}
	assert.Equal(t, simagent.Faults{}, f.Faults(0), "no bad request changed faults")
	assert.Equal(t, simagent.Faults{}, f.Faults(1), "no bad request changed faults")

	code, _ := do(t, srv, http.MethodPost, "/faults", "", "{}")
	assert.Equal(t, http.StatusMethodNotAllowed, code)
}

func TestListAgentsPaginatesAndSelects(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 10, Labels: []simagent.LabelRange{
		{From: 2, To: 4, Labels: map[string]string{"role": "core"}},
	}})
	srv := serve(t, f)

	var l AgentList
	getJSON(t, srv, "/agents", &l)
	assert.Equal(t, 10, l.Total)
	assert.Equal(t, DefaultLimit, l.Limit)
	require.Len(t, l.Agents, 10)
	assert.Equal(t, f.Addr(9).String(), l.Agents[9].Address)
	assert.Equal(t, "none", l.Agents[0].FaultSpec)

	l = AgentList{}
	getJSON(t, srv, "/agents?offset=3&limit=4", &l)
	assert.Equal(t, 10, l.Total)
	assert.Equal(t, []int{3, 4, 5, 6}, indexes(l.Agents))

	l = AgentList{}
	getJSON(t, srv, "/agents?selector=label=role=core&offset=1", &l)
	assert.Equal(t, 3, l.Total)
	assert.Equal(t, "label=role=core", l.Selector)
	assert.Equal(t, []int{3, 4}, indexes(l.Agents))
	assert.Equal(t, map[string]string{"role": "core"}, l.Agents[0].Labels)

	l = AgentList{}
	getJSON(t, srv, "/agents?selector=count=4", &l)
	assert.Len(t, l.Agents, 4)
	assert.IsIncreasing(t, indexes(l.Agents), "random picks are listed in index order")

	l = AgentList{}
	getJSON(t, srv, "/agents?offset=10", &l)
	assert.Equal(t, 10, l.Total)
	assert.Empty(t, l.Agents)
	code, body := do(t, srv, http.MethodGet, "/agents?offset=10", "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"agents": []`, "an empty page is a list, not null")

	code, body = do(t, srv, http.MethodPut, "/faults?selector=label=role=core", "text/plain", "drop=0.5,restart=1ms")
	require.Equal(t, http.StatusOK, code, body)
	assertChanged(t, body, 3)
	var view FaultsView
	getJSON(t, srv, "/faults?selector=range=0-5", &view)
	require.Len(t, view.Groups, 2)
	assert.Equal(t, "0-1,5", view.Groups[0].Agents)
	assert.Equal(t, "2-4", view.Groups[1].Agents)
	assert.Equal(t, "drop=0.5,restart=1ms", view.Groups[1].Spec)
}

func indexes(as []Agent) []int {
	var out []int
	for _, a := range as {
		out = append(out, a.Index)
	}
	return out
}

func TestStatsAndHealth(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 2})
	var sick atomic.Bool
	srv := serve(t, f, WithHealthCheck(func() error {
		if sick.Load() {
			return assert.AnError
		}
		return nil
	}))
	for range 3 {
		_, err := snmpClient(t, f, 1).Get([]string{sysName})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return f.Stats().Responses == 3 }, 5*time.Second, 5*time.Millisecond)
	var st FleetStats
	getJSON(t, srv, "/stats", &st)
	assert.Equal(t, 2, st.Agents)
	assert.EqualValues(t, 7, st.Seed)
	assert.Equal(t, "control-test", st.Data)
	assert.EqualValues(t, 3, st.Requests)
	assert.EqualValues(t, 3, st.Responses)
	assert.Positive(t, st.BytesOut)

	code, body := do(t, srv, http.MethodGet, "/healthz", "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)
	sick.Store(true)
	code, body = do(t, srv, http.MethodGet, "/healthz", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, assert.AnError.Error())

	code, body = do(t, srv, http.MethodGet, "/", "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "PUT    /v1/faults")
}

func TestHealthzFailsOnceTheFleetIsClosed(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 1})
	srv := serve(t, f)
	require.NoError(t, f.Close())
	code, body := do(t, srv, http.MethodGet, "/healthz", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "fleet closed\n", body)
	code, body = do(t, srv, http.MethodDelete, "/faults", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
}

// assertChanged checks a Changed body reports n agents changed.
func assertChanged(t *testing.T, body string, n int) {
	t.Helper()
	var c Changed
	require.NoError(t, json.Unmarshal([]byte(body), &c), body)
	assert.Equal(t, n, c.Changed, body)
	assert.Positive(t, c.Generation, body)
	assert.False(t, c.Applied.IsZero(), body)
}
