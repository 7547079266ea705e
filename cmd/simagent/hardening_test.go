package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/internal/proctest"
)

// Regression tests of issue 15's findings about cmd/simagent. Addresses:
// 127.16.201.100-199.

func TestFinding5ListenLimitedToLoopbackAndNetns(t *testing.T) {
	for _, l := range []string{"0.0.0.0:1161", "192.0.2.2:1161", "[::]:1161", "203.0.113.3:161"} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"--listen", l}, &stdout, &stderr)
		assert.Equal(t, exitUsage, code, l)
		assert.Empty(t, stdout.String(), l)
		assert.Contains(t, stderr.String(), "--listen "+l+": not a loopback address", l)
		assert.Contains(t, stderr.String(), "--listen-any", l)
	}
	assert.NoError(t, checkListen(netipAP(t, "127.9.9.9:1"), false))
	assert.NoError(t, checkListen(netipAP(t, "[::1]:1"), false))
	assert.NoError(t, checkListen(netipAP(t, "198.19.0.1:161"), false), "the netns test range")
	assert.NoError(t, checkListen(netipAP(t, "192.0.2.2:161"), true), "--listen-any")

	// --listen-any lets it through (nothing is bound here: a fleet on a
	// routable address is what the check keeps tests from making).
	o, err := parseFlags([]string{"--listen", "192.0.2.2:1161", "--listen-any"}, io.Discard, noEnv)
	require.NoError(t, err)
	assert.Equal(t, "192.0.2.2:1161", o.listen.String())
}

func TestFinding8PortClashExits2(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 16, 201, 100)})
	require.NoError(t, err)
	defer c.Close()
	addr := c.LocalAddr().String()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"--listen", addr}, &stdout, &stderr)
	assert.Equal(t, exitUsage, code, "stderr: %s", stderr.String())
	assert.Contains(t, stderr.String(), "--listen "+addr+": address already in use")
	assert.Empty(t, stdout.String(), "no ready line")
}

func TestFinding8BadFaultsSelectorBeforeReady(t *testing.T) {
	for sel, want := range map[string]string{
		"label=role=edge": "matches no agent (the fleet has no labels)",
		"index=9":         "index 9 outside fleet of 2 agents",
		"count=0":         "count 0 selects no agent",
		"percent=0":       "percent 0: want a share in (0, 100]",
		"percent=NaN":     "percent NaN",
		"label=":          "want KEY=VALUE",
	} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"--agents", "2", "--listen", "127.16.201.101:0", "--faults", "blackhole", "--faults-selector", sel}, &stdout, &stderr)
		assert.Equal(t, exitUsage, code, sel)
		assert.Empty(t, stdout.String(), "no ready line: %s", sel)
		assert.Contains(t, stderr.String(), "--faults-selector", sel)
		assert.Contains(t, stderr.String(), want, sel)
	}
}

func netipAP(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	require.NoError(t, err)
	return ap
}

// The passphrases of this test: none may appear in any output.
var testSecrets = []string{"Zq7AuthSecretX1", "Zq7PrivSecretX2", "Zq7EnvAuthY3", "Zq7EnvPrivY4", "Zq7FlagAuthZ5"}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range testSecrets {
		assert.NotContains(t, s, sec, "%s shows a passphrase", what)
	}
}

func TestFinding3V3UsersFromFileAndEnvNeverEchoed(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(file, []byte("# the fleet's users\nops:SHA:Zq7AuthSecretX1:AES:Zq7PrivSecretX2\n\n"), 0o600))
	t.Setenv(usersEnv, "env:SHA-256:Zq7EnvAuthY3:AES-256:Zq7EnvPrivY4")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr proctest.Output
	pr, done := startRun(ctx, []string{"--agents", "2", "--listen", "127.16.201.110:0", "--seed", "5", "--control", "127.0.0.1:0",
		"--v3-users-file", file, "--v3-user", "cli:MD5:Zq7FlagAuthZ5", "--log-level", "debug"}, &stderr)
	var stdout bytes.Buffer
	br := bufio.NewReader(io.TeeReader(pr, &stdout))
	line, err := br.ReadString('\n')
	require.NoError(t, err, "no ready line; stderr: %s", stderr.String())
	r := parseReady(t, line)

	// Every user answers, over the real gosnmp client.
	for _, u := range []struct {
		name  string
		level gosnmp.SnmpV3MsgFlags
		sp    *gosnmp.UsmSecurityParameters
	}{
		{"ops", gosnmp.AuthPriv, &gosnmp.UsmSecurityParameters{UserName: "ops", AuthenticationProtocol: gosnmp.SHA, AuthenticationPassphrase: "Zq7AuthSecretX1", PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: "Zq7PrivSecretX2"}},
		{"env", gosnmp.AuthPriv, &gosnmp.UsmSecurityParameters{UserName: "env", AuthenticationProtocol: gosnmp.SHA256, AuthenticationPassphrase: "Zq7EnvAuthY3", PrivacyProtocol: gosnmp.AES256, PrivacyPassphrase: "Zq7EnvPrivY4"}},
		{"cli", gosnmp.AuthNoPriv, &gosnmp.UsmSecurityParameters{UserName: "cli", AuthenticationProtocol: gosnmp.MD5, AuthenticationPassphrase: "Zq7FlagAuthZ5"}},
	} {
		g := &gosnmp.GoSNMP{Target: r.first, Port: r.port, Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel,
			MsgFlags: u.level, SecurityParameters: u.sp, Timeout: 2 * time.Second, Retries: 2, MaxOids: gosnmp.MaxOids}
		require.NoError(t, g.Connect())
		p, err := g.Get([]string{".1.3.6.1.2.1.1.3.0"})
		g.Conn.Close()
		require.NoError(t, err, u.name)
		require.Len(t, p.Variables, 1, u.name)
	}

	// Every endpoint the API lists, and /metrics.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var api strings.Builder
	for _, path := range []string{"/v1/", "/v1/info", "/v1/healthz", "/v1/readyz", "/v1/agents", "/v1/agents/1", "/v1/agents/0/data?root=1.3.6.1.6.3",
		"/v1/faults", "/v1/stats", "/v1/metrics", "/agents", "/stats"} {
		resp, err := hc.Get(r.control + path)
		require.NoError(t, err, path)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Less(t, resp.StatusCode, 500, path)
		api.WriteString(path + "\n" + string(body) + "\n")
	}
	assert.Contains(t, api.String(), `"ops"`, "the users are listed, by name")
	tr.CloseIdleConnections()
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code, "stderr: %s", stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	_, _ = io.Copy(io.Discard, br)
	assertNoSecret(t, "stdout", stdout.String())
	assertNoSecret(t, "stderr (log-level debug)", stderr.String())
	assertNoSecret(t, "the control API", api.String())
	require.NotEmpty(t, stderr.String())

	// Errors about users never show their passphrases either: a bad line
	// of the file, a bad entry of the environment, a wrong separator.
	for name, c := range map[string]struct{ file, env string }{
		"short passphrase in the file": {"ops:SHA:Zq7:AES:Zq7PrivSecretX2\n", ""},
		"unknown protocol in the file": {"ops:SHAX:Zq7AuthSecretX1:AES:Zq7PrivSecretX2\n", ""},
		"wrong separator in the env":   {"", "ops,SHA,Zq7EnvAuthY3,AES,Zq7EnvPrivY4"},
		"twice":                        {"ops:SHA:Zq7AuthSecretX1\n", "ops:SHA:Zq7EnvAuthY3"},
	} {
		args := []string{"--listen", "127.16.201.111:0"}
		if c.file != "" {
			require.NoError(t, os.WriteFile(file, []byte(c.file), 0o600))
			args = append(args, "--v3-users-file", file)
		}
		t.Setenv(usersEnv, c.env)
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), args, &stdout, &stderr)
		assert.Equal(t, exitUsage, code, name)
		assert.Empty(t, stdout.String(), name)
		assert.True(t, strings.Contains(stderr.String(), "--v3-users-file "+file+":1") || strings.Contains(stderr.String(), "$"+usersEnv+" entry 1"), "%s: %s", name, stderr.String())
		assertNoSecret(t, name, stderr.String())
		if name == "short passphrase in the file" {
			assert.NotContains(t, stderr.String(), ":Zq7:", name)
		}
	}
}
