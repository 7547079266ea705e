package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/internal/proctest"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/control"
)

const testToken = "tok-0123456789abcdef"

func TestControlTokenSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == tokenEnv {
				return v
			}
			return ""
		}
	}
	good := write("good", testToken+"\n")
	tok, err := controlToken(good, noEnv)
	require.NoError(t, err)
	assert.Equal(t, testToken, tok, "the trailing newline is dropped")
	tok, err = controlToken("", env(testToken))
	require.NoError(t, err)
	assert.Equal(t, testToken, tok)
	tok, err = controlToken("", noEnv)
	require.NoError(t, err)
	assert.Empty(t, tok)

	for _, tc := range []struct {
		name, file, env, want string
	}{
		{"both", good, testToken, "both given"},
		{"missing file", filepath.Join(dir, "none"), "", "--control-token-file"},
		{"empty file", write("empty", "\n"), "", "empty"},
		{"short", write("short", "abc"), "", "at least 16"},
		{"short env", "", "abc", "$" + tokenEnv},
		{"space", write("space", "abcdefgh ijklmnopq"), "", "space"},
	} {
		_, err := controlToken(tc.file, env(tc.env))
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
		assert.NotContains(t, err.Error(), "abcdefgh", tc.name)
		assert.NotContains(t, err.Error(), testToken, tc.name)
	}
	require.NoError(t, checkControl("0.0.0.0:0", false, true), "a token allows any address")
	require.NoError(t, checkControl("[::1]:0", false, false))
	require.Error(t, checkControl(":8080", true, false))
}

// TestBinaryControlTokenReadOnlyAndStdinEOF: the binary with a token from
// the environment and --control-read-only refuses requests without the
// token and changes with it, never prints the token, and stops when its
// stdin closes.
func TestBinaryControlTokenReadOnlyAndStdinEOF(t *testing.T) {
	bin := proctest.SimagentBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--agents", "3", "--listen", "127.16.202.20:0", "--profile", "if-mib:1",
		"--control", "127.0.0.1:0", "--control-read-only", "--stop-on-stdin-eof", "--log-level", "debug")
	cmd.Env = append(os.Environ(), tokenEnv+"="+testToken)
	var stderr proctest.Output
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "no ready line; stderr: %s", stderr.String())
	r := parseReady(t, line)
	require.NotEmpty(t, r.control)

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := hc.Get(r.control + "/v1/info")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	c, err := control.NewClient(r.control, control.WithHTTPClient(hc), control.WithBearerToken(testToken))
	require.NoError(t, err)
	require.NoError(t, c.WaitReady(ctx, 20*time.Millisecond))
	in, err := c.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, in.Agents)
	assert.True(t, in.Token)
	assert.True(t, in.ReadOnly)
	addrs, err := control.Expand(in.Addresses)
	require.NoError(t, err)
	assert.Equal(t, "127.16.202.22", addrs[2].Addr().String())
	_, err = c.SetFaults(ctx, "x", "", simagent.Faults{Blackhole: &simagent.Blackhole{}})
	var ae *control.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusForbidden, ae.Status)
	tr.CloseIdleConnections()

	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
	if ctx.Err() != nil {
		t.Fatal("the binary was killed at the deadline, not stopped by stdin EOF")
	}
	assert.Contains(t, stderr.String(), "stdin closed")
	assert.NotContains(t, stderr.String()+line, testToken)
}

// TestRunRefusesStdinEOFWithoutStdin: run without a stdin refuses the
// flag (in-process, stdin is not the test's to watch).
func TestRunRefusesStdinEOFWithoutStdin(t *testing.T) {
	var stderr strings.Builder
	code := run(t.Context(), []string{"--listen", "127.16.201.30:0", "--stop-on-stdin-eof"}, io.Discard, &stderr)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr.String(), "--stop-on-stdin-eof")
}
