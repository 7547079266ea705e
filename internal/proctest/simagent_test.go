package proctest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreePorts(t *testing.T) {
	ports := FreeUDPPorts(t, 3)
	require.Len(t, ports, 3)
	seen := map[int]bool{}
	for _, p := range ports {
		require.False(t, seen[p], "port %d twice in %v", p, ports)
		seen[p] = true
		c, err := net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", p))
		require.NoError(t, err, "port %d is free", p)
		require.NoError(t, c.Close())
	}
	tcp := FreeTCPPort(t)
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", tcp))
	require.NoError(t, err, "port %d is free", tcp)
	require.NoError(t, l.Close())
}

// info asks a simagent's control API how many agents it runs.
func info(hc *http.Client, url string) (int, error) {
	resp, err := hc.Get(url + "/v1/info")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s/v1/info: %s", url, resp.Status)
	}
	var in struct{ Agents int }
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		return 0, err
	}
	return in.Agents, nil
}

// TestStartStopKill: a started simagent answers on the URL of its ready
// line; Stop ends it cleanly through its stdin, Kill ends it at once;
// both may be called again; a simagent that cannot start is an error
// quoting its stderr.
func TestStartStopKill(t *testing.T) {
	bin := SimagentBinary(t)
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ports := FreeUDPPorts(t, 2)

	stopped, err := StartSimagent(t, bin, "--agents", "2", "--listen", fmt.Sprintf("127.16.230.1:%d", ports[0]), "--profile", "if-mib:1",
		"--control", fmt.Sprintf("127.0.0.1:%d", FreeTCPPort(t)))
	require.NoError(t, err)
	killed, err := StartSimagent(t, bin, "--agents", "3", "--listen", fmt.Sprintf("127.16.230.11:%d", ports[1]), "--profile", "if-mib:1",
		"--control", "127.0.0.1:0")
	require.NoError(t, err)
	n, err := info(hc, stopped.URL)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = info(hc, killed.URL)
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	stopped.Stop()
	require.NotNil(t, stopped.cmd.ProcessState)
	assert.True(t, stopped.cmd.ProcessState.Success(), "it stopped at stdin EOF: %v", stopped.cmd.ProcessState)
	_, err = info(hc, stopped.URL)
	assert.Error(t, err, "its control API is gone")

	killed.Kill()
	require.NotNil(t, killed.cmd.ProcessState)
	assert.False(t, killed.cmd.ProcessState.Success(), "killed: %v", killed.cmd.ProcessState)
	_, err = info(hc, killed.URL)
	assert.Error(t, err, "its control API is gone")
	killed.Stop()
	stopped.Kill()

	_, err = StartSimagent(t, bin, "--agents", "1", "--profile", "no-such-profile")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no ready line")
	assert.Contains(t, err.Error(), "no-such-profile", "stderr quoted")
}
