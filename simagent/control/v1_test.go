package control

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// client is a Client of srv that retries quickly.
func client(t *testing.T, url string, opts ...ClientOption) *Client {
	t.Helper()
	c, err := NewClient(url, append([]ClientOption{WithRetries(2, 10*time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	return c
}

// apiError is err as an *APIError.
func apiError(t *testing.T, err error) *APIError {
	t.Helper()
	var e *APIError
	require.ErrorAs(t, err, &e)
	return e
}

func TestLegacyPathsAliasV1WithDeprecation(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 2})
	srv := serve(t, f)
	for _, p := range []string{"/agents", "/faults", "/stats", "/healthz", "/metrics"} {
		for _, prefix := range []string{"", "/v1"} {
			resp, err := srv.Client().Get(srv.URL + prefix + p)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, prefix+p)
			assert.Equal(t, "1", resp.Header.Get("Simagent-Api"), prefix+p)
			if prefix == "" {
				assert.Equal(t, "true", resp.Header.Get("Deprecation"), p)
				assert.Equal(t, "</v1"+p+`>; rel="successor-version"`, resp.Header.Get("Link"), p)
			} else {
				assert.Empty(t, resp.Header.Get("Deprecation"), prefix+p)
			}
		}
	}
	code, _ := do(t, srv, http.MethodGet, "/info", "", "")
	assert.Equal(t, http.StatusNotFound, code, "new endpoints exist under /v1 only")
}

func TestInfoDiscoversAgentsDataAndV3(t *testing.T) {
	user, err := usm.ParseUser("ops:SHA:authpass1:AES:privpass1")
	require.NoError(t, err)
	labels := []simagent.LabelRange{{From: 0, To: 2, Labels: map[string]string{"site": "a"}}, {From: 4, To: 4, Labels: map[string]string{"site": "b"}}}
	f := startFleet(t, simagent.Config{Agents: 5, Users: []usm.User{user}, Labels: labels})
	srv := serve(t, f, WithVersion("test-1"))
	c := client(t, srv.URL)

	in, err := c.Info(t.Context())
	require.NoError(t, err)
	assert.Equal(t, APIVersion, in.API)
	assert.Equal(t, "test-1", in.Version)
	assert.Positive(t, in.PID)
	assert.Equal(t, 5, in.Agents)
	assert.Equal(t, []string{"v1", "v2c", "v3"}, in.SNMP)
	require.Len(t, in.Addresses, 1, "consecutive addresses make one run")
	assert.Equal(t, "address", in.Addresses[0].Step)
	addrs, err := Expand(in.Addresses)
	require.NoError(t, err)
	assert.Equal(t, f.Addrs(), addrs)
	assert.Equal(t, labels, in.Labels)
	assert.EqualValues(t, 7, in.Seed)
	assert.Equal(t, DataInfo{Name: "control-test", OIDs: 5, Dynamic: 1, SHA256: DataDigest(f.Store())}, in.Data)
	require.NotNil(t, in.V3)
	assert.Equal(t, []V3User{{Name: "ops", Auth: "SHA", Priv: "AES"}}, in.V3.Users)
	assert.False(t, in.ReadOnly)
	assert.False(t, in.Token)

	_, body := do(t, srv, http.MethodGet, "/v1/info", "", "")
	assert.NotContains(t, body, "authpass1")
	assert.NotContains(t, body, "privpass1")
}

func TestDataDigestIsContentNotName(t *testing.T) {
	a := testStore(t)
	b := mib.NewBuilder("elsewhere/control-test.snmprec")
	for i := range a.Len() {
		o, v := a.At(i)
		b.Add(o, *v, "")
	}
	same, err := b.Build()
	require.NoError(t, err)
	assert.Equal(t, DataDigest(a), DataDigest(same), "same content, other name")

	b = mib.NewBuilder("control-test")
	for i := range a.Len() {
		o, v := a.At(i)
		if o.String() == sysName {
			b.Add(o, mib.String("agenT"), "")
			continue
		}
		b.Add(o, *v, "")
	}
	other, err := b.Build()
	require.NoError(t, err)
	assert.NotEqual(t, DataDigest(a), DataDigest(other), "one value differs")

	p1, err := mib.Profile("if-mib:4")
	require.NoError(t, err)
	p2, err := mib.Profile("if-mib:4")
	require.NoError(t, err)
	p3, err := mib.Profile("if-mib:5")
	require.NoError(t, err)
	assert.Equal(t, DataDigest(p1), DataDigest(p2), "a profile is deterministic")
	assert.NotEqual(t, DataDigest(p1), DataDigest(p3))
}

func TestExpandRefusesBadRuns(t *testing.T) {
	for _, runs := range [][]AddressRun{
		{{First: "nowhere", Count: 1, Step: "address"}},
		{{First: "127.0.0.1:161", Count: 0, Step: "address"}},
		{{First: "127.0.0.1:161", Count: 2, Step: "sideways"}},
		{{First: "127.0.0.1:65535", Count: 2, Step: "port"}},
	} {
		_, err := Expand(runs)
		assert.Error(t, err, "%+v", runs)
	}
	got, err := Expand([]AddressRun{{First: "127.0.0.1:1161", Count: 3, Step: "port"}})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:1163", got[2].String())
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestRetriedChangeAppliesOnce: a restart applied twice would move the
// agent's start; with the same change id the retry is answered as the
// first and the agent's start stays where the first put it.
func TestRetriedChangeAppliesOnce(t *testing.T) {
	clk := &fakeClock{}
	clk.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	f := startFleet(t, simagent.Config{Agents: 3, Clock: clk.now})
	srv := serve(t, f)
	c := client(t, srv.URL)
	restart := simagent.Faults{Restart: &simagent.Restart{Downtime: simagent.Duration(10 * time.Minute)}}

	first, err := c.SetFaults(t.Context(), "phase-1", "index=1", restart)
	require.NoError(t, err)
	assert.Equal(t, 1, first.Changed)
	assert.False(t, first.Replayed)
	assert.Equal(t, -10*time.Minute, f.Age(1))

	clk.advance(time.Minute)
	again, err := c.SetFaults(t.Context(), "phase-1", "index=1", restart)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.Generation, again.Generation)
	assert.Equal(t, first.Applied, again.Applied)
	assert.Equal(t, -9*time.Minute, f.Age(1), "not restarted a second time")

	_, err = c.SetFaults(t.Context(), "phase-1", "index=2", restart)
	e := apiError(t, err)
	assert.Equal(t, http.StatusConflict, e.Status)
	assert.Equal(t, "change", e.Body.Field)
	assert.Equal(t, clk.now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), f.Age(2), "the conflicting change did nothing")

	// Without an id every PUT applies.
	_, err = c.SetFaults(t.Context(), "", "index=1", restart)
	require.NoError(t, err)
	assert.Equal(t, -10*time.Minute, f.Age(1))
}

// TestConcurrentRetriesApplyOnce: several copies of one change racing
// each other apply it exactly once.
func TestConcurrentRetriesApplyOnce(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 2})
	srv := serve(t, f)
	c := client(t, srv.URL)
	sets := FaultSets{Sets: []FaultSet{{Selector: "index=0", Faults: simagent.Faults{Drop: &simagent.Drop{Prob: 1}}}}}
	const n = 8
	results := make([]Changed, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() { results[k], errs[k] = c.SetFaultSets(t.Context(), "race", sets) })
	}
	wg.Wait()
	applied := 0
	for k := range n {
		require.NoError(t, errs[k])
		if !results[k].Replayed {
			applied++
		}
		assert.EqualValues(t, 1, results[k].Generation)
	}
	assert.Equal(t, 1, applied)
	v, err := c.Faults(t.Context(), "")
	require.NoError(t, err)
	assert.EqualValues(t, 1, v.Generation)
}

func TestChangeLogForgetsTheOldest(t *testing.T) {
	l := newChangeLog(2)
	calls := 0
	apply := func() (Changed, error) { calls++; return Changed{Generation: uint64(calls)}, nil }
	fp := [32]byte{1}
	for _, id := range []string{"a", "b", "a", "c", "a"} {
		_, _, err := l.do(id, fp, apply)
		require.NoError(t, err)
	}
	assert.Equal(t, 4, calls, "a, b, c, then a again once c pushed it out")
	_, _, err := l.do("x", fp, func() (Changed, error) { return Changed{}, errors.New("failed") })
	require.Error(t, err)
	_, replayed, err := l.do("x", fp, apply)
	require.NoError(t, err)
	assert.False(t, replayed, "a failed change is not remembered")
}

func TestFaultSetsReplaceEveryAgentsFaults(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 6})
	srv := serve(t, f)
	c := client(t, srv.URL)
	_, err := c.SetFaults(t.Context(), "", "index=5", simagent.Faults{Drop: &simagent.Drop{Prob: 0.5}})
	require.NoError(t, err)

	drop := simagent.Faults{Drop: &simagent.Drop{Prob: 1}}
	blackhole := simagent.Faults{Blackhole: &simagent.Blackhole{}}
	ch, err := c.SetFaultSets(t.Context(), "p1", FaultSets{Sets: []FaultSet{
		{Agents: "0-1,3", Faults: drop},
		{Selector: "index=1", Faults: blackhole},
	}})
	require.NoError(t, err)
	assert.Equal(t, []int{3, 1}, ch.Sets)
	assert.Equal(t, drop, f.Faults(0))
	assert.Equal(t, blackhole, f.Faults(1), "the later set wins")
	assert.Equal(t, simagent.Faults{}, f.Faults(2))
	assert.Equal(t, drop, f.Faults(3))
	assert.Equal(t, simagent.Faults{}, f.Faults(5), "cleared: not in any set")

	g0, g2 := snmpClient(t, f, 0), snmpClient(t, f, 2)
	_, err = g0.Get([]string{sysName})
	assert.Error(t, err, "agent 0 drops everything")
	_, err = g2.Get([]string{sysName})
	assert.NoError(t, err, "agent 2 has no faults")

	ch, err = c.SetFaultSets(t.Context(), "p2", FaultSets{KeepOthers: true, Sets: []FaultSet{{Agents: "2", Faults: drop}}})
	require.NoError(t, err)
	assert.Equal(t, 1, ch.Changed)
	assert.Equal(t, blackhole, f.Faults(1), "kept")
	assert.Equal(t, drop, f.Faults(2))
	_, err = c.SetFaults(t.Context(), "", "index=2", simagent.Faults{})
	require.NoError(t, err)

	for _, tc := range []struct {
		name  string
		body  string
		field string
	}{
		{"range out of fleet", `{"sets": [{"faults": {}}, {"agents": "4-9", "faults": {}}]}`, "sets[1].agents"},
		{"ranges not ascending", `{"sets": [{"agents": "3,1", "faults": {}}]}`, "sets[0].agents"},
		{"both selector and agents", `{"sets": [{"agents": "1", "selector": "all", "faults": {}}]}`, "sets[0]"},
		{"bad selector", `{"sets": [{"selector": "some", "faults": {}}]}`, "sets[0].selector"},
		{"bad fault", `{"sets": [{"faults": {"drop": {"prob": 3}}}]}`, "sets[0].faults"},
		{"unknown field", `{"sets": [{"faults": {}, "agent": "1"}]}`, "body.agent"},
		{"wrong type", `{"sets": [{"faults": {"drop": {"prob": "x"}}}]}`, "body.sets.faults.drop.prob"},
	} {
		code, body := do(t, srv, http.MethodPut, "/v1/fault-sets", "application/json", tc.body)
		assert.Equal(t, http.StatusBadRequest, code, tc.name)
		var e Error
		require.NoError(t, json.Unmarshal([]byte(body), &e), body)
		assert.Equal(t, tc.field, e.Field, "%s: %s", tc.name, body)
	}
	assert.Equal(t, drop, f.Faults(0), "bad sets applied nothing")
}

func TestErrorsNameTheField(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 2})
	srv := serve(t, f)
	for _, tc := range []struct {
		method, path, ct, body string
		status                 int
		field                  string
	}{
		{"PUT", "/v1/faults", "", `{"dorp": {}}`, 400, "body.dorp"},
		{"PUT", "/v1/faults", "", `{"drop": {"prob": "high"}}`, 400, "body.drop.prob"},
		{"PUT", "/v1/faults", "", `{"drop": {"prob": 2}}`, 400, "body"},
		{"PUT", "/v1/faults", "application/xml", `<x/>`, 415, "Content-Type"},
		{"PUT", "/v1/faults?selector=index=9", "", `{}`, 400, "selector"},
		{"PUT", "/v1/faults?change=a%20b", "", `{}`, 400, "change"},
		{"PUT", "/v1/faults?change=" + strings.Repeat("x", 129), "", `{}`, 400, "change"},
		{"DELETE", "/v1/faults?selecter=all", "", "", 400, "selecter"},
		{"GET", "/v1/agents?limit=0", "", "", 400, "limit"},
		{"GET", "/v1/agents/x", "", "", 400, "i"},
		{"GET", "/v1/agents/7", "", "", 404, "i"},
		{"GET", "/v1/agents/0/data", "", "", 400, "root"},
		{"GET", "/v1/agents/0/data?root=1.x", "", "", 400, "root"},
		{"GET", "/v1/agents/0/data?root=1.3.6.1.2.1.2&after=1.3.6.1.2.1.1.1.0", "", "", 400, "after"},
		{"GET", "/v1/agents/0/data?root=1.3&limit=10001", "", "", 400, "limit"},
		{"GET", "/v1/info?x=1", "", "", 400, "x"},
	} {
		code, body := do(t, srv, tc.method, tc.path, tc.ct, tc.body)
		assert.Equal(t, tc.status, code, "%s %s: %s", tc.method, tc.path, body)
		var e Error
		require.NoError(t, json.Unmarshal([]byte(body), &e), body)
		assert.Equal(t, tc.field, e.Field, "%s %s: %s", tc.method, tc.path, body)
		assert.NotEmpty(t, e.Error)
	}
}

func TestAgentDataPagesTheSubtree(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 2})
	srv := serve(t, f)
	var d AgentData
	getJSON(t, srv, "/v1/agents/1/data?root=1.3.6.1.2.1.1&limit=2", &d)
	assert.Equal(t, 3, d.Total)
	require.Len(t, d.Entries, 2)
	assert.Equal(t, ".1.3.6.1.2.1.1.1.0", d.Entries[0].OID)
	assert.Equal(t, "636f6e74726f6c2074657374", d.Entries[0].Value, `"control test"`)
	assert.True(t, d.Entries[1].Dynamic, "sysUpTime moves")
	assert.Equal(t, ".1.3.6.1.2.1.1.3.0", d.Next)
	assert.Equal(t, DataDigest(f.Store()), d.Data.SHA256)

	var d2 AgentData
	getJSON(t, srv, "/v1/agents/1/data?root=1.3.6.1.2.1.1&limit=2&after="+d.Next, &d2)
	require.Len(t, d2.Entries, 1)
	assert.Equal(t, ".1.3.6.1.2.1.1.5.0", d2.Entries[0].OID)
	assert.Empty(t, d2.Next)

	var leaf AgentData
	getJSON(t, srv, "/v1/agents/0/data?root=1.3.6.1.2.1.1.5.0", &leaf)
	require.Len(t, leaf.Entries, 1, "a leaf is its own subtree")

	c := client(t, srv.URL)
	all, err := c.AgentData(t.Context(), 0, "1.3")
	require.NoError(t, err)
	require.Len(t, all.Entries, f.Store().Len())
	for k, e := range all.Entries {
		o, v := f.Store().At(k)
		assert.Equal(t, o.String(), e.OID)
		assert.Equal(t, v.Tag, e.Type)
	}
}

func TestReadOnlyRefusesChanges(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 2})
	srv := serve(t, f, WithReadOnly())
	c := client(t, srv.URL)
	_, err := c.SetFaults(t.Context(), "x", "", simagent.Faults{Drop: &simagent.Drop{Prob: 1}})
	assert.Equal(t, http.StatusForbidden, apiError(t, err).Status)
	_, err = c.SetFaultSets(t.Context(), "y", FaultSets{})
	assert.Equal(t, http.StatusForbidden, apiError(t, err).Status)
	code, _ := do(t, srv, http.MethodDelete, "/faults", "", "")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, simagent.Faults{}, f.Faults(0))
	in, err := c.Info(t.Context())
	require.NoError(t, err)
	assert.True(t, in.ReadOnly)
	_, err = c.Stats(t.Context())
	assert.NoError(t, err, "reads still work")
}

func TestTokenGuardsAllButHealth(t *testing.T) {
	const token = "t0ken-that-is-long-enough"
	f := startFleet(t, simagent.Config{Agents: 1})
	srv := serve(t, f, WithToken(token))

	for _, p := range []string{"/v1/info", "/v1/agents", "/v1/metrics", "/v1/stats", "/faults"} {
		code, body := do(t, srv, http.MethodGet, p, "", "")
		assert.Equal(t, http.StatusUnauthorized, code, p)
		assert.Contains(t, body, `"field": "Authorization"`, p)
	}
	for _, p := range []string{"/v1/healthz", "/v1/readyz", "/healthz"} {
		code, _ := do(t, srv, http.MethodGet, p, "", "")
		assert.Equal(t, http.StatusOK, code, p)
	}
	_, err := client(t, srv.URL, WithBearerToken("not-the-token-xyz")).Info(t.Context())
	e := apiError(t, err)
	assert.Equal(t, http.StatusUnauthorized, e.Status)
	assert.NotContains(t, err.Error(), "not-the-token-xyz", "the token sent is not echoed")

	c := client(t, srv.URL, WithBearerToken(token))
	in, err := c.Info(t.Context())
	require.NoError(t, err)
	assert.True(t, in.Token)
	ch, err := c.SetFaults(t.Context(), "c1", "", simagent.Faults{Drop: &simagent.Drop{Prob: 1}})
	require.NoError(t, err)
	assert.Equal(t, 1, ch.Changed)
	mf, err := c.Metrics(t.Context())
	require.NoError(t, err)
	require.Contains(t, mf, "simagent_faulty_agents")
	assert.EqualValues(t, 1, mf["simagent_faulty_agents"].Metric[0].GetGauge().GetValue())

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1/info", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), token)
}

func TestReadyzFollowsTheCheckAndTheFleet(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 1})
	var notYet atomic.Bool
	notYet.Store(true)
	srv := serve(t, f, WithReadyCheck(func() error {
		if notYet.Load() {
			return errors.New("agents not answering yet")
		}
		return nil
	}))
	c := client(t, srv.URL)
	err := c.Ready(t.Context())
	e := apiError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, e.Status)
	assert.Contains(t, e.Error(), "agents not answering yet")
	code, _ := do(t, srv, http.MethodGet, "/v1/healthz", "", "")
	assert.Equal(t, http.StatusOK, code, "alive while not ready")

	notYet.Store(false)
	require.NoError(t, c.WaitReady(t.Context(), 10*time.Millisecond))
	require.NoError(t, f.Close())
	assert.Error(t, c.Ready(t.Context()), "a closed fleet is not ready")
}

func TestNewClientRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://h/", "http://", "http://u:p@h:1", "http://h:1/?x=1"} {
		_, err := NewClient(u)
		assert.Error(t, err, u)
	}
}
