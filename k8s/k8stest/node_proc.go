package k8stest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// logState logs, for a failed test, the pods' states and the end of each
// process's log.
func (n *Node) logState(t testing.TB) {
	var pl corev1.PodList
	if err := n.env.Client.List(context.Background(), &pl); err == nil {
		for _, p := range pl.Items {
			t.Logf("pod %s/%s on %q: %s %+v %+v", p.Namespace, p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.Conditions, p.Status.ContainerStatuses)
		}
	}
	for _, p := range n.procs {
		t.Logf("%s log (%s):\n%s", p.name, p.log, tail(p.log))
	}
}

// waitFor polls check until it succeeds, a process of the node ends, or
// the timeout passes.
func (n *Node) waitFor(ctx context.Context, what string, timeout time.Duration, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return nil
		}
		for _, p := range n.procs {
			if p.exited() {
				return fmt.Errorf("waiting for %s: %s exited: %v (log %s:\n%s)", what, p.name, p.err, p.log, tail(p.log))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// proc is a process the node started.
type proc struct {
	name, log string
	cmd       *exec.Cmd
	done      chan struct{}
	err       error
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (n *Node) start(name, bin string, args ...string) error {
	logf := n.path("log", name+".log")
	if err := os.MkdirAll(filepath.Dir(logf), 0o755); err != nil {
		return err
	}
	f, err := os.Create(logf)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group: a signal to the test's group does not reach
	// it before the test has stopped what runs on the node.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, log: logf, cmd: cmd, done: make(chan struct{})}
	go func() { // waited for in Stop
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	n.procs = append(n.procs, p)
	return nil
}

func freePort(a netip.Addr) (int, error) {
	l, err := net.Listen("tcp", netip.AddrPortFrom(a, 0).String())
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func writeFile(name, s string) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, []byte(s), 0o600)
}

func tail(file string) string {
	b, _ := os.ReadFile(file)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}
