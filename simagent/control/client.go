package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/snmpchaos/snmpchaos/simagent"
)

// maxReply bounds a reply the client reads (a page of 1000 agents with
// faults and v3 engines stays well under it).
const maxReply = 64 << 20

// Client drives one simagent's control API over HTTP. GETs, and changes
// with a change id, are retried on connection errors and 502, 503 and
// 504 replies (a restarting simagent); the change id makes a retried
// change apply once. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	http    *http.Client
	token   string
	retries int
	backoff time.Duration
}

// ClientOption configures NewClient.
type ClientOption interface{ applyClient(*Client) }

type clientOptionFunc func(*Client)

func (f clientOptionFunc) applyClient(c *Client) { f(c) }

// WithHTTPClient sends requests with hc (default: a client with a 30 s
// timeout).
func WithHTTPClient(hc *http.Client) ClientOption {
	return clientOptionFunc(func(c *Client) { c.http = hc })
}

// WithBearerToken sends "Authorization: Bearer token" (see WithToken).
func WithBearerToken(token string) ClientOption {
	return clientOptionFunc(func(c *Client) { c.token = token })
}

// WithRetries sets how many times a retryable request is tried again
// (default 3), the first after backoff, each next after twice as long
// (default 100 ms).
func WithRetries(n int, backoff time.Duration) ClientOption {
	return clientOptionFunc(func(c *Client) { c.retries, c.backoff = n, backoff })
}

// NewClient returns a client of the control API at base, an http or
// https URL such as "http://127.0.0.1:8080" (a path prefix is kept).
func NewClient(base string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("control URL %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("control URL %q: want http://HOST:PORT or https://HOST:PORT", base)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("control URL %q: no query, fragment or user info allowed (a token goes in a bearer token)", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{base: u, http: &http.Client{Timeout: 30 * time.Second}, retries: 3, backoff: 100 * time.Millisecond}
	for _, o := range opts {
		o.applyClient(c)
	}
	if c.retries < 0 {
		return nil, fmt.Errorf("control client: %d retries: want 0 or more", c.retries)
	}
	return c, nil
}

// URL is the API's base URL.
func (c *Client) URL() string { return c.base.String() }

// APIError is an error reply of the API.
type APIError struct {
	Method, URL string
	Status      int
	Body        Error
}

// Error names the request, the status and the field at fault.
func (e *APIError) Error() string {
	msg := e.Body.Error
	if e.Body.Field != "" {
		msg = "field " + e.Body.Field + ": " + msg
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.URL, e.Status, http.StatusText(e.Status), msg)
}

func retryable(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// do sends a request, retrying when retry allows, and returns the body of
// a 2xx reply.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, retry bool) ([]byte, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	wait := c.backoff
	for attempt := 0; ; attempt++ {
		out, status, err := c.once(ctx, method, u.String(), body)
		if err == nil {
			return out, nil
		}
		if !retry || attempt >= c.retries || ctx.Err() != nil || (status != 0 && !retryable(status)) {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (gave up retrying: %w)", err, context.Cause(ctx))
		case <-t.C:
		}
		wait *= 2
	}
}

// once sends one request; status is 0 when no reply came.
func (c *Client) once(ctx context.Context, method, u string, body []byte) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err // names method and URL; never the token
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: reading the reply: %w", method, u, err)
	}
	if len(out) > maxReply {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: reply larger than %d bytes", method, u, maxReply)
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Method: method, URL: u, Status: resp.StatusCode}
		if json.Unmarshal(out, &e.Body) != nil || e.Body.Error == "" {
			e.Body = Error{Error: strings.TrimSpace(string(out))}
		}
		return nil, resp.StatusCode, e
	}
	return out, resp.StatusCode, nil
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	b, err := c.do(ctx, http.MethodGet, path, q, nil, true)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s%s: %w", c.base, path, err)
	}
	return nil
}

// Info discovers the fleet.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var in Info
	err := c.getJSON(ctx, "/v1/info", nil, &in)
	if err == nil && in.API != APIVersion {
		err = fmt.Errorf("%s: control API version %d, this client speaks %d", c.base, in.API, APIVersion)
	}
	return in, err
}

// Ready asks /v1/readyz once: nil when the fleet is ready.
func (c *Client) Ready(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/v1/readyz", nil, nil, false)
	return err
}

// WaitReady asks /v1/readyz every interval until the fleet is ready or
// ctx ends; the error then says what the last answer was.
func (c *Client) WaitReady(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := c.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last: %w)", c.base, context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

// Agents lists every agent sel picks ("" for all), reading every page.
func (c *Client) Agents(ctx context.Context, sel string) ([]Agent, error) {
	var out []Agent
	for {
		q := url.Values{"offset": {strconv.Itoa(len(out))}, "limit": {strconv.Itoa(MaxLimit)}}
		if sel != "" {
			q.Set("selector", sel)
		}
		var page AgentList
		if err := c.getJSON(ctx, "/v1/agents", q, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Agents...)
		if len(page.Agents) == 0 || len(out) >= page.Total {
			return out, nil
		}
	}
}

// Faults reads the faults in force on the agents sel picks.
func (c *Client) Faults(ctx context.Context, sel string) (FaultsView, error) {
	var v FaultsView
	q := url.Values{}
	if sel != "" {
		q.Set("selector", sel)
	}
	err := c.getJSON(ctx, "/v1/faults", q, &v)
	return v, err
}

// SetFaultSets replaces every agent's faults with sets (PUT
// /v1/fault-sets). With a change id it is retried and applies once.
func (c *Client) SetFaultSets(ctx context.Context, change string, sets FaultSets) (Changed, error) {
	body, err := json.Marshal(sets)
	if err != nil {
		return Changed{}, err
	}
	return c.change(ctx, http.MethodPut, "/v1/fault-sets", url.Values{}, change, body)
}

// SetFaults replaces the faults of the agents sel picks (PUT /v1/faults).
func (c *Client) SetFaults(ctx context.Context, change, sel string, f simagent.Faults) (Changed, error) {
	body, err := json.Marshal(f)
	if err != nil {
		return Changed{}, err
	}
	q := url.Values{}
	if sel != "" {
		q.Set("selector", sel)
	}
	return c.change(ctx, http.MethodPut, "/v1/faults", q, change, body)
}

func (c *Client) change(ctx context.Context, method, path string, q url.Values, change string, body []byte) (Changed, error) {
	if change != "" {
		q.Set("change", change)
	}
	b, err := c.do(ctx, method, path, q, body, change != "")
	if err != nil {
		return Changed{}, err
	}
	var ch Changed
	if err := json.Unmarshal(b, &ch); err != nil {
		return Changed{}, fmt.Errorf("%s %s%s: %w", method, c.base, path, err)
	}
	return ch, nil
}

// Stats reads the fleet's totals.
func (c *Client) Stats(ctx context.Context) (FleetStats, error) {
	var st FleetStats
	err := c.getJSON(ctx, "/v1/stats", nil, &st)
	return st, err
}

// Metrics reads and parses /v1/metrics.
func (c *Client) Metrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	b, err := c.do(ctx, http.MethodGet, "/v1/metrics", nil, nil, true)
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("GET %s/v1/metrics: %w", c.base, err)
	}
	return mf, nil
}

// AgentData reads agent i's data under root, every page. The pages are
// read one after another, so dynamic values of later pages are read a
// little later; AgentData.Age is the first page's.
func (c *Client) AgentData(ctx context.Context, i int, root string) (AgentData, error) {
	var out AgentData
	after := ""
	for page := 0; ; page++ {
		q := url.Values{"root": {root}, "limit": {strconv.Itoa(MaxDataLimit)}}
		if after != "" {
			q.Set("after", after)
		}
		var d AgentData
		if err := c.getJSON(ctx, "/v1/agents/"+strconv.Itoa(i)+"/data", q, &d); err != nil {
			return AgentData{}, err
		}
		if page == 0 {
			out = d
		} else {
			out.Entries = append(out.Entries, d.Entries...)
		}
		if d.Next == "" {
			out.Next, out.After = "", ""
			return out, nil
		}
		if page > out.Total/MaxDataLimit+1 {
			return AgentData{}, errors.New("agent data: more pages than entries")
		}
		after = d.Next
	}
}
