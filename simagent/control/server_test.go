package control

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/simagent"
)

// Regression tests of issue 15, finding 5: the control API closed no idle
// connection and answered any Host (DNS rebinding).

// serveReal serves the control API of f with NewServer on a loopback port.
func serveReal(t *testing.T, f *simagent.Fleet, cfg ServerConfig) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.Addr = ln.Addr()
	srv := NewServer(New(f), cfg)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		assert.ErrorIs(t, <-done, http.ErrServerClosed)
	})
	return ln.Addr().String()
}

// rawGet sends one HTTP/1.1 GET with the given Host over c and returns the
// status code.
func rawGet(t *testing.T, c net.Conn, br *bufio.Reader, host, path string) int {
	t.Helper()
	_, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func TestFinding5HostCheckRefusesRebinding(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 1})
	addr := serveReal(t, f, ServerConfig{})
	_, port, _ := net.SplitHostPort(addr)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	br := bufio.NewReader(c)
	for host, want := range map[string]int{
		addr:                      http.StatusOK,
		"localhost:" + port:       http.StatusOK,
		"LOCALHOST.":              http.StatusOK,
		"127.0.0.1":               http.StatusOK,
		"[::1]:" + port:           http.StatusOK,
		"evil.example:" + port:    http.StatusMisdirectedRequest,
		"evil.example":            http.StatusMisdirectedRequest,
		"127.0.0.1.evil.example":  http.StatusMisdirectedRequest,
		"192.0.2.7:" + port:       http.StatusMisdirectedRequest,
		"localhost.evil.example:": http.StatusMisdirectedRequest,
	} {
		assert.Equal(t, want, rawGet(t, c, br, host, "/v1/healthz"), "Host %q", host)
	}
	// A token-guarded server takes any Host: a rebinding page cannot
	// know the token.
	addr2 := serveReal(t, f, ServerConfig{AnyHost: true})
	c2, err := net.Dial("tcp", addr2)
	require.NoError(t, err)
	defer c2.Close()
	assert.Equal(t, http.StatusOK, rawGet(t, c2, bufio.NewReader(c2), "simagent.example", "/v1/healthz"))
}

func TestFinding5IdleConnectionsClosed(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 1})
	addr := serveReal(t, f, ServerConfig{IdleTimeout: 200 * time.Millisecond})
	var conns []net.Conn
	for range 20 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		require.Equal(t, http.StatusOK, rawGet(t, c, bufio.NewReader(c), "127.0.0.1", "/v1/healthz"))
		conns = append(conns, c)
	}
	// The server closes each idle keep-alive connection: a read sees EOF
	// (well before the generous deadline, which only bounds the test).
	for i, c := range conns {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
		n, err := c.Read(make([]byte, 1))
		assert.Zero(t, n, "conn %d", i)
		assert.ErrorIs(t, err, io.EOF, "conn %d closed by the server, not by the deadline", i)
	}

	// The bounds are set on the server.
	srv := NewServer(http.NotFoundHandler(), ServerConfig{})
	assert.Equal(t, ReadHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Equal(t, IdleTimeout, srv.IdleTimeout)
	assert.Equal(t, ReadTimeout, srv.ReadTimeout)
	assert.Equal(t, WriteTimeout, srv.WriteTimeout)
	assert.Equal(t, MaxHeaderBytes, srv.MaxHeaderBytes)
	assert.True(t, strings.HasPrefix(quoteHost(strings.Repeat("x", 100)), `"xxxx`))
}

// Issue 15, finding 2: PUT ?selector=percent=0 answered {"changed":1000}.
func TestFinding2NothingSelectorsRefusedByTheAPI(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 4})
	srv := serve(t, f)
	for _, sel := range []string{"percent=0", "percent=NaN", "count=0", "label=", "label=role=none", "none"} {
		for _, path := range []string{"/v1/faults?selector=", "/faults?selector="} {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, srv.URL+path+sel, strings.NewReader("blackhole"))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "text/plain")
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s%s: %s", path, sel, body)
			assert.Contains(t, string(body), "selector", sel)
		}
	}
	for i := range 4 {
		assert.Equal(t, simagent.Faults{}, f.Faults(i), "no agent changed")
	}
}
