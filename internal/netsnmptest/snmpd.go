package netsnmptest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/proctest"
)

// Snmpd is a real net-snmp snmpd started by a test, on 127.0.0.1.
type Snmpd struct {
	// Addr is host:port of the agent.
	Addr string
	// Port is its UDP port.
	Port int
}

// StartSnmpd starts snmpd with conf, in which every "PORT" is replaced by
// a free UDP port on 127.0.0.1 (an agentaddress line is added when conf
// has none). It waits until snmpd answers a v2c Get with community
// "public" (so conf should grant it read access) and stops it (by PID) at
// cleanup.
func StartSnmpd(t testing.TB, conf string) *Snmpd {
	t.Helper()
	bin := Require(t, "snmpd")
	Require(t, "snmpget")
	dir := t.TempDir()
	var out proctest.Output
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		text := strings.ReplaceAll(conf, "PORT", fmt.Sprint(port))
		if !strings.Contains(text, "agentaddress") {
			text = fmt.Sprintf("agentaddress udp:127.0.0.1:%d\n", port) + text
		}
		confFile := filepath.Join(dir, "snmpd.conf")
		if err := os.WriteFile(confFile, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", confFile, "-M", "/nonexistent", "-p", filepath.Join(dir, "snmpd.pid"))
		cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+dir, "HOME="+dir)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s := &Snmpd{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port}
		if serve(t, "snmpd", cmd, &out, s.Addr, "public", ".1.3.6.1.2.1.1.3.0", attempt >= 3, 30*time.Second, 50*time.Millisecond) {
			return s
		}
	}
}

// serve waits until cmd, a daemon called name that was just started with
// its output in out, answers a v2c Get of oid with community at addr, and
// then stops it (by PID) at cleanup. It reports false when the daemon
// exited first and this is not the last try (the port was taken in
// between: the caller tries another), and fails the test when it exits on
// the last try or does not answer within wait.
func serve(t testing.TB, name string, cmd *exec.Cmd, out *proctest.Output, addr, community, oid string, last bool, wait, poll time.Duration) bool {
	t.Helper()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill() // our own child, by PID
		<-exited
	}
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := exec.CommandContext(ctx, "snmpget", "-v2c", "-c", community, "-r", "0", "-t", "1", "-On", addr, oid).Run()
		cancel()
		if err == nil {
			t.Cleanup(stop)
			return true
		}
		select {
		case <-exited:
			if !last {
				return false
			}
			t.Fatalf("%s exited: %s", name, out.String())
		default:
			if time.Now().After(deadline) {
				stop()
				t.Fatalf("%s does not answer at %s: %v\n%s", name, addr, err, out.String())
			}
			time.Sleep(poll) // polling for readiness, not for correctness
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
