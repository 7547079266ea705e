package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snmpchaos/snmpchaos/internal/proctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Addresses: this package's fleets live on 127.16.201.0/24 (in-process)
// and 127.16.202.0/24 (the binary), apart from other packages' tests.

func TestBadFlagsExit2NamingTheFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"agents zero", []string{"--agents", "0"}, []string{"--agents 0"}},
		{"agents not a number", []string{"--agents", "x"}, []string{"--agents", `"x"`}},
		{"unknown flag", []string{"--agnets", "3"}, []string{"--agnets", "not defined"}},
		{"positional argument", []string{"extra"}, []string{`"extra"`}},
		{"listen", []string{"--listen", "localhost"}, []string{"--listen", `"localhost"`}},
		{"data and profile", []string{"--data", "testdata/good.snmprec", "--profile", "system"}, []string{"--data", "--profile"}},
		{"unknown profile", []string{"--profile", "if-mib:0"}, []string{"--profile", "if-mib:0"}},
		{"missing data", []string{"--data", "testdata/missing.snmprec"}, []string{"--data", "missing.snmprec"}},
		{"bad data names file and line", []string{"--data", "testdata/bad.snmprec"}, []string{"--data", "testdata/bad.snmprec:3", "99"}},
		{"faults", []string{"--faults", "drop=0.1,delay=soon"}, []string{"--faults", "term 2", "delay", `"soon"`}},
		{"faults selector syntax", []string{"--faults", "drop=1", "--faults-selector", "some"}, []string{"--faults-selector", "some"}},
		{"faults selector alone", []string{"--faults-selector", "index=0"}, []string{"--faults-selector", "needs --faults"}},
		{"faults selector out of range", []string{"--agents", "2", "--listen", "127.16.201.1:0", "--faults", "drop=1", "--faults-selector", "index=5"},
			[]string{"--faults-selector", "index 5"}},
		{"label without labels", []string{"--agents", "2", "--listen", "127.16.201.1:0", "--label", "0-1"}, []string{"--label #1", "no labels"}},
		{"label range", []string{"--agents", "2", "--listen", "127.16.201.1:0", "--label", "0-5:site=a"}, []string{"--label #1", "outside 0-1"}},
		{"label pair", []string{"--agents", "2", "--listen", "127.16.201.1:0", "--label", "0:site"}, []string{"--label #1", "KEY=VALUE"}},
		{"sockets above the fleet's bound", []string{"--sockets", "100"}, []string{"--sockets 100"}},
		{"control not loopback", []string{"--control", "0.0.0.0:0"}, []string{"--control", "token", "--control-token-file"}},
		{"control any without token", []string{"--control", "0.0.0.0:0", "--control-any"}, []string{"--control-any", "token"}},
		{"read-only without control", []string{"--control-read-only"}, []string{"--control-read-only", "needs --control"}},
		{"token file without control", []string{"--control-token-file", "x"}, []string{"--control-token-file"}},
		{"control all interfaces", []string{"--control", ":8080"}, []string{"--control"}},
		{"control syntax", []string{"--control", "127.0.0.1"}, []string{"--control", "IP:PORT"}},
		{"max msg size", []string{"--max-msg-size", "100"}, []string{"--max-msg-size 100"}},
		{"sockets", []string{"--sockets", "-1"}, []string{"--sockets"}},
		{"log level", []string{"--log-level", "loud"}, []string{"--log-level", "loud"}},
		{"seed", []string{"--seed", "-1"}, []string{"--seed"}},
		{"community", []string{"--community", ""}, []string{"--community"}},
		{"by-port port 0", []string{"--by-port", "--agents", "3", "--listen", "127.0.0.1:0"}, []string{"--by-port", "--listen"}},
		{"address range", []string{"--agents", "300", "--listen", "127.255.255.1:1161"}, []string{"--agents 300", "--listen"}},
		{"ipv6 consecutive", []string{"--agents", "2", "--listen", "[::1]:1161"}, []string{"--listen", "--by-port"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr)
			assert.Equal(t, exitUsage, code, "stderr: %s", stderr.String())
			assert.Empty(t, stdout.String(), "no ready line")
			for _, w := range tt.want {
				assert.Contains(t, stderr.String(), w)
			}
		})
	}
}

func TestHelpDocumentsFlagsGrammarsAndProfiles(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(t.Context(), []string{"--help"}, &stdout, &stderr))
	help := stdout.String()
	for _, w := range []string{
		"--agents N", "--listen IP:PORT", "--by-port", "--data PATH[=N|=P%]", "--profile NAME", "--community STRING",
		"--seed N", "--faults SPEC", "--faults-selector SELECTOR", "--max-msg-size BYTES", "--sockets N",
		"--control IP:PORT", "--control-any", "--control-token-file FILE", "--control-read-only", "--stop-on-stdin-eof", "--log-level LEVEL", "/v1/info",
		"drop-every=N", "burst=GB/BG/LB[/LG]", "restart[=DUR]", // fault spec
		"range=A-B", "label=KEY=VALUE", // selectors
		"if-mib:N", "system", // profiles
	} {
		assert.Contains(t, help, w)
	}
}

// readyRE parses the ready line.
var readyRE = regexp.MustCompile(`^simagent ready: (\d+) agents? ([0-9.]+)(?:-([0-9.]+))? ports? (\d+)(?:-\d+)?, data (\S+) \((\d+) OIDs\), seed (\d+)(?:, control (http://\S+))?$`)

type ready struct {
	agents  int
	first   string
	last    string
	port    uint16
	data    string
	oids    int
	seed    uint64
	control string
}

func parseReady(t *testing.T, line string) ready {
	t.Helper()
	m := readyRE.FindStringSubmatch(strings.TrimSpace(line))
	require.NotNil(t, m, "ready line %q", line)
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		return n
	}
	seed, err := strconv.ParseUint(m[7], 10, 64)
	require.NoError(t, err)
	return ready{agents: atoi(m[1]), first: m[2], last: m[3], port: uint16(atoi(m[4])), data: m[5], oids: atoi(m[6]),
		seed: seed, control: m[8]}
}

func TestRunServesAndStopsCleanly(t *testing.T) {
	before := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr proctest.Output
	pr, done := startRun(ctx, []string{"--agents", "3", "--listen", "127.16.201.1:0", "--profile", "if-mib:2", "--seed", "42",
		"--control", "127.0.0.1:0", "--label", "2:role=edge", "--faults", "blackhole", "--faults-selector", "label=role=edge", "--log-level", "warn"}, &stderr)
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "no ready line; stderr: %s", stderr.String())
	r := parseReady(t, line)
	assert.Equal(t, 3, r.agents)
	assert.Equal(t, "127.16.201.1", r.first)
	assert.Equal(t, "127.16.201.3", r.last)
	assert.NotZero(t, r.port)
	assert.Equal(t, "if-mib:2", r.data)
	assert.Positive(t, r.oids)
	assert.EqualValues(t, 42, r.seed)
	require.NotEmpty(t, r.control)

	get := func(target string) (*gosnmp.SnmpPacket, error) {
		g := &gosnmp.GoSNMP{Target: target, Port: r.port, Community: "public", Version: gosnmp.Version2c,
			Timeout: 300 * time.Millisecond, MaxOids: gosnmp.MaxOids}
		require.NoError(t, g.Connect())
		defer g.Conn.Close()
		return g.Get([]string{".1.3.6.1.2.1.1.3.0"})
	}
	p, err := get("127.16.201.1")
	require.NoError(t, err)
	require.Len(t, p.Variables, 1)
	assert.Equal(t, gosnmp.TimeTicks, p.Variables[0].Type)
	_, err = get("127.16.201.3")
	require.Error(t, err, "--faults blackhole applies to --faults-selector label=role=edge, agent 2 by --label")

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for path, want := range map[string]string{"/healthz": "ok", "/faults?selector=index=2": `"spec": "blackhole"`, "/agents/2": `"role": "edge"`, "/metrics": "simagent_requests_total 2"} {
		resp, err := hc.Get(r.control + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, string(body), want, path)
	}
	tr.CloseIdleConnections()

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code, "stderr: %s", stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	goleak.VerifyNone(t, before)
}

func TestRunSeedReplays(t *testing.T) {
	// Without --seed a random seed is chosen and printed, so the run can be
	// replayed with --seed.
	var seeds []uint64
	for range 2 {
		ctx, cancel := context.WithCancel(t.Context())
		pr, done := startRun(ctx, []string{"--listen", "127.16.201.10:0", "--profile", "system", "--log-level", "error"}, io.Discard)
		line, err := bufio.NewReader(pr).ReadString('\n')
		require.NoError(t, err)
		r := parseReady(t, line)
		assert.Equal(t, "127.16.201.10", r.first)
		assert.Empty(t, r.last, "one agent: one address")
		assert.Empty(t, r.control, "no --control, no control clause")
		seeds = append(seeds, r.seed)
		cancel()
		require.Equal(t, exitOK, <-done)
	}
	assert.NotEqual(t, seeds[0], seeds[1], "seeds are drawn at random")
}

func TestRunServesDataFile(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, done := startRun(ctx, []string{"--data", "testdata/good.snmprec", "--listen", "127.16.201.20:0", "--community", "s3cret",
		"--log-level", "error"}, io.Discard)
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	r := parseReady(t, line)
	assert.Equal(t, "testdata/good.snmprec", r.data)
	assert.Equal(t, 3, r.oids)
	g := &gosnmp.GoSNMP{Target: r.first, Port: r.port, Community: "s3cret", Version: gosnmp.Version1,
		Timeout: time.Second, MaxOids: gosnmp.MaxOids}
	require.NoError(t, g.Connect())
	defer g.Conn.Close()
	p, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
	require.NoError(t, err)
	require.Len(t, p.Variables, 1)
	assert.Equal(t, []byte("rec"), p.Variables[0].Value)
	cancel()
	require.Equal(t, exitOK, <-done)
}

func TestBinaryStopsOnSIGTERM(t *testing.T) {
	bin := proctest.SimagentBinary(t)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--agents", "2", "--listen", "127.16.202.1:0", "--profile", "if-mib:1",
		"--control", "127.0.0.1:0")
	var stderr proctest.Output
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "no ready line; stderr: %s", stderr.String())
	r := parseReady(t, line)
	assert.Equal(t, "127.16.202.2", r.last)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = cmd.Wait()
	require.NoError(t, err, "exit after SIGTERM; stderr: %s", stderr.String())
	assert.Equal(t, 0, cmd.ProcessState.ExitCode())
	assert.Contains(t, stderr.String(), "simagent stopped")
	if ctx.Err() != nil {
		t.Fatal("the binary was killed at the deadline, not stopped by SIGTERM")
	}
}

// startRun runs run(ctx, args) in a goroutine with stdout a pipe the test
// reads (for the ready line) and stderr as given; the exit code arrives on
// the returned channel once run returns and the pipe is closed.
func startRun(ctx context.Context, args []string, stderr io.Writer) (*io.PipeReader, <-chan int) {
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, args, pw, stderr)
		pw.Close()
		done <- code
	}()
	return pr, done
}
