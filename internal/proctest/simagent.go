package proctest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// FreeUDPPorts returns n distinct UDP ports free now on every address
// (simagent's shared sockets bind the wildcard address): the sockets are
// held until all are found, so one call never returns a port twice.
func FreeUDPPorts(t testing.TB, n int) []int {
	t.Helper()
	out := make([]int, 0, n)
	for range n {
		c, err := net.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatalf("free UDP port: %v", err)
		}
		defer c.Close()
		out = append(out, c.LocalAddr().(*net.UDPAddr).Port)
	}
	return out
}

// FreeTCPPort returns a TCP port free now on 127.0.0.1.
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free TCP port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// readyRE matches simagent's ready line and captures its control URL.
var readyRE = regexp.MustCompile(`^simagent ready: .*, control (http://\S+)$`)

// Bounds on a process that does not do what it should: no ready line,
// or still running after its stdin closed.
const (
	readyTimeout = 2 * time.Minute
	stopTimeout  = time.Minute
)

// Simagent is a simagent process a test started with StartSimagent.
type Simagent struct {
	// URL is its control API's URL, from its ready line.
	URL string

	t       testing.TB
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	drained chan struct{} // closed when its stdout reached its end
	once    sync.Once
}

// StartSimagent runs the simagent binary bin with args and --stop-on-stdin-eof
// --log-level warn (its stderr goes to a file in t.TempDir, quoted in the
// error when it gives no ready line), waits for its ready line and
// returns it; t's cleanup stops it. Errors are returned, not failed on t,
// so a test may start one from a goroutine of its own.
func StartSimagent(t testing.TB, bin string, args ...string) (*Simagent, error) {
	cmd := exec.Command(bin, append(args, "--stop-on-stdin-eof", "--log-level", "warn")...)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "simagent.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("simagent %v: %w", args, err)
	}
	p := &Simagent{t: t, cmd: cmd, stdin: stdin, drained: make(chan struct{})}
	// A simagent that never gets ready is killed, so the read below ends.
	timer := time.AfterFunc(readyTimeout, func() { _ = cmd.Process.Kill() })
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	timer.Stop()
	// The rest of its stdout is read until it exits, so that it never
	// blocks on a full pipe; wait waits for this before cmd.Wait.
	go func() {
		defer close(p.drained)
		_, _ = io.Copy(io.Discard, br)
	}()
	t.Cleanup(p.Stop)
	if err != nil {
		p.Kill()
		logs, _ := os.ReadFile(logFile.Name())
		return nil, fmt.Errorf("simagent %v: no ready line (%w); stderr: %s", args, err, logs)
	}
	m := readyRE.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		p.Kill()
		return nil, fmt.Errorf("simagent %v: ready line %q has no control URL", args, line)
	}
	p.URL = m[1]
	return p, nil
}

// Stop closes its stdin, so that it stops, and waits for it to exit; one
// still running a minute later is killed, and the test fails. Stop and
// Kill may be called more than once, in any order.
func (p *Simagent) Stop() {
	_ = p.stdin.Close()
	select {
	case <-p.drained:
	case <-time.After(stopTimeout):
		p.t.Errorf("simagent pid %d still runs %v after its stdin closed: killed", p.cmd.Process.Pid, stopTimeout)
		_ = p.cmd.Process.Kill()
	}
	p.wait()
}

// Kill kills it, as a crash would, and waits for it to exit.
func (p *Simagent) Kill() {
	_ = p.cmd.Process.Kill()
	p.wait()
}

// wait reaps the process once its stdout has been read to the end.
func (p *Simagent) wait() {
	p.once.Do(func() {
		<-p.drained
		_ = p.cmd.Wait()
	})
}
