package benchutil

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Service is a long-lived child process: this executable again in a role
// (see StartService and ServeChild), running until Stop, for a server that
// must be measured apart from its clients (its CPU time comes from
// /proc/PID/stat) and that must outlive one measuring window.
type Service struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
	done   chan struct{}
	err    error
	once   sync.Once
}

// StartService starts this executable in role with in as its input and
// waits (up to timeout) for the child to report ready, decoding what it
// sent with Ready into out.
func StartService(ctx context.Context, role string, in, out any, timeout time.Duration, args ...string) (*Service, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("benchutil: %w", err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("benchutil: service %q input: %w", role, err)
	}
	s := &Service{cmd: exec.CommandContext(ctx, exe, args...), done: make(chan struct{})}
	s.cmd.Env = append(os.Environ(), childEnv+"="+role)
	s.cmd.Stderr = &s.stderr
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("benchutil: %w", err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("benchutil: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("benchutil: service %q: %w", role, err)
	}
	ready := make(chan error, 1)
	// One goroutine reads the child's output to its end, then reaps it;
	// Stop waits for it (done).
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), resultPrefix); ok && !found {
				found = true
				ready <- json.Unmarshal([]byte(line), out)
			}
		}
		if !found {
			ready <- errors.New("exited before it was ready")
		}
		_, _ = io.Copy(io.Discard, stdout)
		s.err = s.cmd.Wait()
	}()
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("benchutil: service %q input: %w", role, err)
	}
	select {
	case err = <-ready:
	case <-time.After(timeout):
		err = fmt.Errorf("not ready after %s", timeout)
	}
	if err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("benchutil: service %q: %w\nstderr:\n%s", role, err, s.stderr.Bytes())
	}
	return s, nil
}

// PID is the child's process id.
func (s *Service) PID() int { return s.cmd.Process.Pid }

// CPU is the CPU time (user and system) the child has used so far.
func (s *Service) CPU() (time.Duration, error) { return ProcCPU(s.PID()) }

// PeakRSS is the child's peak resident set (VmHWM).
func (s *Service) PeakRSS() (uint64, error) {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(s.PID()) + "/status")
	if err != nil {
		return 0, fmt.Errorf("benchutil: %w", err)
	}
	return statusKB(st, "VmHWM:")
}

// Stop closes the child's input, which tells it to exit, and waits for it
// (killing it after 10 s).
func (s *Service) Stop() error {
	s.once.Do(func() {
		_ = s.stdin.Close()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	if s.err != nil {
		return fmt.Errorf("benchutil: service: %w\nstderr:\n%s", s.err, s.stderr.Bytes())
	}
	return nil
}

// ServeChild is the child side of StartService: it decodes the input into
// in, calls start, reports what start returns as ready, and waits until
// the parent stops it, then calls stop.
func ServeChild(in any, start func() (ready any, stop func() error, err error)) error {
	dec := json.NewDecoder(os.Stdin)
	if err := dec.Decode(in); err != nil {
		return fmt.Errorf("benchutil: service input: %w", err)
	}
	ready, stop, err := start()
	if err != nil {
		return err
	}
	if err := WriteResult(ready); err != nil {
		_ = stop()
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	return stop()
}

// ProcCPU is the CPU time (user and system) process pid has used, from
// /proc/PID/stat.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("benchutil: %w", err)
	}
	// Fields after the command name (which may hold spaces) in ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("benchutil: unparsable /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("benchutil: short /proc stat")
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("benchutil: bad /proc stat times")
	}
	const hz = 100 // USER_HZ, 100 on every Linux ABI Go supports
	return time.Duration(ut+st) * time.Second / hz, nil
}
