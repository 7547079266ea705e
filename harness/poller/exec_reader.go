package poller

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
)

// readStdout reads the child's replies until it closes stdout. A line
// over ExecMaxLine is a protocol error: the child is killed.
func (p *ExecPoller) readStdout(r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > ExecMaxLine+1 {
			p.protoErrs.Add(1)
			p.log.Error("exec poller: child line over the limit: killing it", "limit", ExecMaxLine)
			p.fail(fmt.Errorf("%w: the child wrote a line over %d bytes", ErrExecProtocol, ExecMaxLine), "protocol")
			p.kill()
			_, _ = io.Copy(io.Discard, br)
			return
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(line) > 0 {
			p.handle(line)
		}
		line = line[:0]
		if err != nil {
			return
		}
	}
}

// handle acts on one line from the child.
func (p *ExecPoller) handle(line []byte) {
	var m reply
	if err := json.Unmarshal(line, &m); err != nil {
		p.protoErrs.Add(1)
		p.log.Warn("exec poller: undecodable line from the child", "err", err, "bytes", len(line))
		return
	}
	switch m.Type {
	case "hello":
		select {
		case p.helloCh <- m:
		default:
			p.protoErrs.Add(1)
		}
	case "result":
		r := pollapi.Result{Varbinds: m.Varbinds}
		if m.Error != nil {
			kind := m.Error.Kind
			if kind == "" {
				kind = "error"
			}
			r = pollapi.Result{Err: &ExecError{ErrKind: kind, Message: m.Error.Message}}
		}
		if !p.answer(m.ID, r) {
			p.late.Add(1)
		}
	case "stats":
		p.mu.Lock()
		if m.OpenSockets != nil {
			p.stats.OpenSockets = *m.OpenSockets
		}
		p.mu.Unlock()
	case "bye":
	default:
		p.protoErrs.Add(1)
		p.log.Warn("exec poller: unknown message type from the child", "type", m.Type)
	}
}

// readStderr passes the child's stderr to the log, a line at a time
// (lines cut at 4 KiB).
func (p *ExecPoller) readStderr(r io.Reader) {
	br := bufio.NewReaderSize(r, 4096)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			p.log.Info("exec poller: child", "stderr", string(trimNL(line)))
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Close waits for the polls in flight (until ctx ends), sends shutdown and waits for the child to
// exit; past ShutdownTimeout (or ctx) it kills the child's process group.
// It is idempotent. The error says what went wrong: polls still in flight,
// a kill, a non-zero exit, protocol errors, late answers.
func (p *ExecPoller) Close(ctx context.Context) error {
	p.closeOnce.Do(func() { p.closeErr = p.close(ctx) })
	return p.closeErr
}

func (p *ExecPoller) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	var errs []error
	// Wait for the polls in flight.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for p.ChildStats().InFlight > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			n := p.ChildStats().InFlight
			errs = append(errs, fmt.Errorf("%d polls still in flight: %w", n, ctx.Err()))
			p.fail(errors.New("the poller was closed with the poll in flight"), "closed")
			break wait
		case <-p.exited:
			break wait
		}
	}
	_ = p.send(idMessage{Type: "shutdown"})
	p.wmu.Lock()
	_ = p.stdin.Close()
	p.wmu.Unlock()
	timer := time.NewTimer(p.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-timer.C:
		errs = append(errs, fmt.Errorf("the child did not exit within %s of shutdown: killed", p.cfg.ShutdownTimeout))
		p.kill()
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("the child had not exited when Close's context ended: killed: %w", ctx.Err()))
		p.kill()
	}
	// Its descendants may still run: their group goes too.
	p.kill()
	p.wg.Wait()
	p.mu.Lock()
	waitErr := p.waitErr
	p.mu.Unlock()
	if waitErr != nil && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("the child exited: %v", waitErr))
	}
	if n := p.protoErrs.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("%w: %d lines from the child could not be used", ErrExecProtocol, n))
	}
	if n := p.late.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("%d results came after the poll was answered (deadline passed or unknown id)", n))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("exec poller %s (pid %d): %w", p.command, p.pid, errors.Join(errs...))
}
