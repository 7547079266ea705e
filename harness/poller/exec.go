// The exec poller: a poller that runs in another process, written in any
// language, driven over the exec protocol (docs/exec-protocol.md): one JSON
// object a line on the child's stdin and stdout. NewExec starts the
// command, shakes hands, and returns a Poller that sends each poll to the
// child and reports its answer. It is a pollapi.ProcessPoller: the harness
// watches the child's process tree by PID (descriptors, UDP sockets from
// the child's own /proc/PID/net/udp view, threads, memory), so a child that
// leaks sockets is caught with evidence naming its process. The bounds:
// lines of at most ExecMaxLine bytes, at most the child's maxOutstanding
// polls in flight, a deadline on every poll (past it the adapter answers
// for the child), and a timeout on the hello and on shutdown, after which
// the child's process group is killed.

package poller

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
)

// ExecConfig says what to run and how.
type ExecConfig struct {
	// Command is the program and its arguments.
	Command []string
	// Dir is its working directory (default: this process's).
	Dir string
	// Env is its environment (default: this process's).
	Env []string
	// Settings are handed to the child in the hello.
	Settings pollapi.Settings
	// Logger receives the child's stderr lines and the adapter's events
	// (default: discarded).
	Logger *slog.Logger
	// HelloTimeout bounds the wait for the child's hello (default 10s);
	// ShutdownTimeout the wait for it to exit after shutdown (default 10s).
	HelloTimeout    time.Duration
	ShutdownTimeout time.Duration
}

// ErrExecProtocol is wrapped by errors about what the child said.
var ErrExecProtocol = errors.New("exec poller: protocol error")

// ParseExec splits an "exec:CMD ARGS..." poller spec (the "exec:" prefix is
// optional) into a command line: words separated by spaces, single or
// double quotes around words with spaces.
func ParseExec(spec string) ([]string, error) {
	s := strings.TrimSpace(strings.TrimPrefix(spec, "exec:"))
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("exec poller %q: unterminated %c quote", spec, quote)
	}
	if inWord {
		out = append(out, cur.String())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("exec poller %q: no command (want exec:CMD ARGS...)", spec)
	}
	return out, nil
}

// newExecSpec is NewPoller's "exec:CMD ARGS..." (no logger: the child's
// stderr is dropped; NewExec takes one).
func newExecSpec(spec string, s pollapi.Settings) (pollapi.Poller, error) {
	cmd, err := ParseExec(spec)
	if err != nil {
		return nil, err
	}
	return NewExec(context.Background(), ExecConfig{Command: cmd, Settings: s})
}

// ExecPoller is a pollapi.Poller (and a pollapi.ProcessPoller) whose polls
// run in a child process.
type ExecPoller struct {
	cfg     ExecConfig
	log     *slog.Logger
	name    string
	cmd     *exec.Cmd
	pid     int
	command string
	stdin   io.WriteCloser
	slots   chan struct{}
	exited  chan struct{} // closed when the child has exited
	waitErr error         // set before exited is closed
	wg      sync.WaitGroup
	helloCh chan reply

	wmu sync.Mutex // serialises writes to stdin
	w   *bufio.Writer

	mu      sync.Mutex
	pending map[uint64]*pendingPoll
	closed  bool
	dead    error // why the child can take no more polls
	stats   pollapi.PollerStats

	protoErrs atomic.Int64 // unknown or repeated ids, bad lines
	late      atomic.Int64 // answers after the adapter answered for the child
	closeOnce sync.Once
	closeErr  error
}

type pendingPoll struct {
	done  func(pollapi.Result)
	timer *time.Timer
	stop  func() bool // unregisters the ctx.AfterFunc
}

// NewExec starts the command and waits for its hello. The child's process is
// in a process group of its own, killed if it outlives Close.
func NewExec(ctx context.Context, cfg ExecConfig) (*ExecPoller, error) {
	if len(cfg.Command) == 0 {
		return nil, errors.New("exec poller: no command")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HelloTimeout <= 0 {
		cfg.HelloTimeout = 10 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	p := &ExecPoller{cfg: cfg, pending: map[uint64]*pendingPoll{}, exited: make(chan struct{}), helloCh: make(chan reply, 1)}
	p.command = strings.Join(cfg.Command, " ")
	cmd := exec.Command(cfg.Command[0], cfg.Command[1:]...)
	cmd.Dir, cmd.Env = cfg.Dir, cfg.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("exec poller %s: %w", p.command, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("exec poller %s: %w", p.command, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("exec poller %s: %w", p.command, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec poller %s: start: %w", p.command, err)
	}
	p.cmd, p.pid, p.stdin, p.w = cmd, cmd.Process.Pid, stdin, bufio.NewWriter(stdin)
	p.log = cfg.Logger.With("poller", "exec", "pid", p.pid)
	p.log.Info("exec poller: started", "command", p.command)
	// The readers finish when the child closes its end; Wait comes after
	// them, as os/exec requires.
	var readers sync.WaitGroup
	readers.Go(func() { p.readStdout(stdout) })
	readers.Go(func() { p.readStderr(stderr) })
	p.wg.Go(func() {
		readers.Wait()
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		p.fail(fmt.Errorf("child exited: %v", exitText(err)), "exited")
		close(p.exited)
	})
	if err := p.handshake(ctx); err != nil {
		p.kill()
		p.wg.Wait()
		return nil, err
	}
	return p, nil
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// handshake sends the hello and checks the child's.
func (p *ExecPoller) handshake(ctx context.Context) error {
	s := p.cfg.Settings
	err := p.send(helloRequest{Type: "hello", Protocol: ExecProtocol, Settings: wireSettings{
		TimeoutMs: s.Timeout.Milliseconds(), MinTimeoutMs: s.MinTimeout.Milliseconds(), Retries: s.Retries,
		MaxRepetitions: s.MaxRepetitions, Sockets: s.Sockets, MaxInFlight: s.MaxInFlight, Seed: s.Seed}})
	if err != nil {
		select { // most likely it has exited: say how
		case <-p.exited:
			return fmt.Errorf("exec poller %s (pid %d): exited before its hello: %s", p.command, p.pid, exitText(p.waitErr))
		case <-time.After(time.Second):
		}
		return fmt.Errorf("exec poller %s (pid %d): hello: %w", p.command, p.pid, err)
	}
	timer := time.NewTimer(p.cfg.HelloTimeout)
	defer timer.Stop()
	var h reply
	select {
	case h = <-p.helloCh:
	case <-p.exited:
		return fmt.Errorf("exec poller %s (pid %d): exited before its hello: %s", p.command, p.pid, exitText(p.waitErr))
	case <-timer.C:
		return fmt.Errorf("exec poller %s (pid %d): no hello within %s", p.command, p.pid, p.cfg.HelloTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	if h.Protocol != ExecProtocol {
		return fmt.Errorf("%w: %s (pid %d) speaks protocol %d, want %d", ErrExecProtocol, p.command, p.pid, h.Protocol, ExecProtocol)
	}
	n := h.MaxOutstanding
	if n <= 0 || n > maxOutstandingLimit {
		return fmt.Errorf("%w: %s (pid %d): hello maxOutstanding %d, want 1 to %d", ErrExecProtocol, p.command, p.pid, n, maxOutstandingLimit)
	}
	if s.MaxInFlight > 0 {
		n = min(n, s.MaxInFlight)
	}
	p.slots = make(chan struct{}, n)
	p.name = "exec:" + h.Name
	if h.Name == "" {
		p.name = "exec:" + p.cfg.Command[0]
	}
	p.log.Info("exec poller: hello", "name", h.Name, "maxOutstanding", n)
	return nil
}

// Name is "exec:" and the name the child gave in its hello.
func (p *ExecPoller) Name() string { return p.name }

// PID is the child's process ID.
func (p *ExecPoller) PID() int { return p.pid }

// Command is the child's command line.
func (p *ExecPoller) Command() string { return p.command }

// Poll sends p to the child, waiting for a free slot first.
func (p *ExecPoller) Poll(ctx context.Context, poll pollapi.Poll, done func(pollapi.Result)) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		done(pollapi.Result{Err: &ExecError{ErrKind: "canceled", Message: "no free slot before the poll was cancelled"}})
		return
	case <-p.exited:
		done(pollapi.Result{Err: p.deadErr()})
		return
	}
	deadline := p.deadline(ctx)
	pp := &pendingPoll{done: done}
	p.mu.Lock()
	if p.closed || p.dead != nil {
		err := error(ErrClosed)
		if p.dead != nil {
			err = p.dead
		}
		p.mu.Unlock()
		<-p.slots
		done(pollapi.Result{Err: err})
		return
	}
	if _, dup := p.pending[poll.ID]; dup {
		p.mu.Unlock()
		<-p.slots
		done(pollapi.Result{Err: &ExecError{ErrKind: "badRequest", Message: fmt.Sprintf("poll id %d already in flight", poll.ID)}})
		return
	}
	p.pending[poll.ID] = pp
	// The child must answer by the deadline; a second later the adapter
	// answers for it and tells it to cancel.
	pp.timer = time.AfterFunc(time.Until(deadline)+time.Second, func() {
		if p.answer(poll.ID, pollapi.Result{Err: &ExecError{ErrKind: "timeout", Message: "the child did not answer by the poll's deadline"}}) {
			_ = p.send(idMessage{Type: "cancel", ID: poll.ID})
		}
	})
	pp.stop = context.AfterFunc(ctx, func() { _ = p.send(idMessage{Type: "cancel", ID: poll.ID}) })
	p.mu.Unlock()
	req := pollRequest{Type: "poll", ID: poll.ID, Target: toWireTarget(poll.Target), Op: poll.Op, OIDs: poll.OIDs, Root: poll.Root,
		DeadlineMs: max(1, time.Until(deadline).Milliseconds())}
	if err := p.send(req); err != nil {
		p.answer(poll.ID, pollapi.Result{Err: &ExecError{ErrKind: "exited", Message: "writing to the child: " + err.Error()}})
	}
}

// deadline is ctx's, or what the settings allow a poll with its retries.
func (p *ExecPoller) deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	t := p.cfg.Settings.Timeout
	if t <= 0 {
		t = 2 * time.Second
	}
	return time.Now().Add(t*time.Duration(p.cfg.Settings.Retries+1) + 500*time.Millisecond)
}

// answer reports a poll once; false if it was answered already.
func (p *ExecPoller) answer(id uint64, r pollapi.Result) bool {
	p.mu.Lock()
	pp, ok := p.pending[id]
	if ok {
		delete(p.pending, id)
	}
	p.mu.Unlock()
	if !ok {
		return false
	}
	pp.timer.Stop()
	if pp.stop != nil {
		pp.stop()
	}
	<-p.slots
	pp.done(r)
	return true
}

// fail answers every poll in flight with err and takes no more polls.
func (p *ExecPoller) fail(err error, kind string) {
	p.mu.Lock()
	if p.dead == nil {
		p.dead = &ExecError{ErrKind: kind, Message: err.Error()}
	}
	dead := p.dead
	ids := make([]uint64, 0, len(p.pending))
	for id := range p.pending {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	for _, id := range ids {
		p.answer(id, pollapi.Result{Err: dead})
	}
}

func (p *ExecPoller) deadErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead != nil {
		return p.dead
	}
	return &ExecError{ErrKind: "exited", Message: "the child has exited"}
}

// send writes one line to the child.
func (p *ExecPoller) send(v any) error {
	b, err := marshalLine(v)
	if err != nil {
		return err
	}
	if len(b) > ExecMaxLine {
		return fmt.Errorf("%w: request of %d bytes over the %d-byte line limit", ErrExecProtocol, len(b), ExecMaxLine)
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if _, err := p.w.Write(b); err != nil {
		return err
	}
	return p.w.Flush()
}

// ChildStats is the child's own view of its sockets (from its stats
// lines; 0 once it has exited) and the polls in flight. It is not a
// harness.StatsReporter: the harness compares those figures with its own
// process, and the child's sockets are not there.
func (p *ExecPoller) ChildStats() pollapi.PollerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	select {
	case <-p.exited:
		s.OpenSockets = 0
	default:
	}
	s.InFlight = len(p.pending)
	return s
}

// ProtocolErrors counts the child's lines the adapter could not use:
// results for unknown or already answered polls, undecodable lines.
func (p *ExecPoller) ProtocolErrors() int64 { return p.protoErrs.Load() }

// kill ends the child's process group.
func (p *ExecPoller) kill() {
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
}
