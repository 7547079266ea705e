package control

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/snmpchaos/snmpchaos/simagent"
)

// The control API reads JSON, fault specs and query strings from whoever
// reaches it: whatever a request holds, the answer is 2xx or 4xx with a
// JSON body, never a 5xx or a panic, and the fleet keeps running.
func FuzzControlAPI(f *testing.F) {
	fleet, err := simagent.Start(f.Context(), simagent.Config{
		Agents: 8, Listen: mustAP("127.16.200.101:0"), Store: testStore(f), Seed: 7,
		Labels: []simagent.LabelRange{{From: 0, To: 3, Labels: map[string]string{"site": "a"}}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = fleet.Close() })
	h := New(fleet)
	type seed struct {
		method, path, query, ctype string
		body                       string
	}
	for _, s := range []seed{
		{"PUT", "/v1/faults", "selector=percent=50", "application/json", `{"drop":{"prob":0.1},"delay":{"fixed":"10ms"}}`},
		{"PUT", "/v1/faults", "selector=label=site=a&change=c1", "application/json", `{"blackhole":{"for":"1s"}}`},
		{"PUT", "/v1/faults", "selector=all", "text/plain", "drop=0.05,delay=20ms,jitter=10ms,dist=pareto"},
		{"PUT", "/v1/faults", "selector=count=0", "application/json", `{}`},
		{"PUT", "/v1/fault-sets", "change=c2", "application/json", `{"sets":[{"selector":{"percent":25},"faults":{"drop":{"prob":0.5}}}]}`},
		{"PUT", "/v1/fault-sets", "", "application/json", `{"sets":[{"selector":{},"faults":{}}]}`},
		{"DELETE", "/v1/faults", "selector=index=1", "", ""},
		{"GET", "/v1/agents", "selector=range=1-3&offset=1&limit=2", "", ""},
		{"GET", "/v1/agents/2/data", "root=1.3.6.1.2.1&limit=5", "", ""},
		{"GET", "/v1/faults", "selector=label=site=a", "", ""},
	} {
		f.Add(s.method, s.path, s.query, s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path, query, ctype string, body []byte) {
		switch method {
		case "GET", "PUT", "DELETE":
		default:
			method = "PUT"
		}
		if strings.HasSuffix(strings.TrimRight(path, "/"), "metrics") {
			return // reads no input, and a Prometheus gather costs a thousand requests
		}
		u := &url.URL{Path: path, RawQuery: query}
		req, err := http.NewRequest(method, "http://127.0.0.1"+u.EscapedPath()+"?"+u.RawQuery, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, query, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") == "application/json" && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s?%s: %d with a body that is not JSON: %q", method, path, query, rec.Code, rec.Body.String())
		}
		if fleet.Closed() {
			t.Fatal("the fleet closed")
		}
	})
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
