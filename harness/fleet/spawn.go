package fleet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// SimagentEnv names the simagent binary a spawned fleet runs, when no
// path is given.
const SimagentEnv = "SNMPCHAOS_SIMAGENT"

// MaxProcesses bounds a spawned fleet's processes.
const MaxProcesses = 64

// FindSimagent returns the simagent binary to spawn: path when given,
// else $SNMPCHAOS_SIMAGENT, else "simagent" next to this executable (make
// build puts bin/simagent next to bin/snmpchaos), else simagent on $PATH.
func FindSimagent(path string) (string, error) {
	check := func(p, from string) (string, error) {
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("simagent binary %s (%s): %w", p, from, err)
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("simagent binary %s (%s): not an executable file", p, from)
		}
		return p, nil
	}
	if path != "" {
		return check(path, "given")
	}
	if p := os.Getenv(SimagentEnv); p != "" {
		return check(p, "$"+SimagentEnv)
	}
	if exe, err := os.Executable(); err == nil {
		if p, err := check(filepath.Join(filepath.Dir(exe), "simagent"), "next to "+exe); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("simagent"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("harness: fleet.processes needs the simagent binary: build it (make build puts it in bin/ next to snmpchaos, or go build -o DIR/simagent ./cmd/simagent) and give its path (--simagent PATH or $%s)", SimagentEnv)
}

// SpawnConfig describes a fleet to run as simagent child processes.
type SpawnConfig struct {
	// Binary is the simagent to run (see FindSimagent).
	Binary string
	// Processes share the agents: process k has the k-th slice of them,
	// on the next addresses (or ports, with ByPort).
	Processes int
	Agents    int
	// Listen is agent 0's address. With a fixed port and shared sockets
	// process k listens on port+k (two processes cannot share a port).
	Listen netip.AddrPort
	ByPort bool
	// Profile or Data (a path) is the data; Store is the same data
	// loaded here, which the children's data digest must match.
	Profile, Data string
	Store         *mib.Store
	Community     string
	MaxMsgSize    int
	Labels        []simagent.LabelRange
	Users         []usm.User
	// Seed seeds the selectors over the fleet; process k runs with a
	// seed derived from it and k.
	Seed uint64
	// StartTimeout bounds the wait for every child's ready line.
	StartTimeout time.Duration
	Watch        time.Duration
	Logger       *slog.Logger
}

// child is one simagent process the harness started.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ready chan string // the control URL, once
	done  chan struct{}
	// locked ends with the goroutine holding the thread that started the
	// child.
	locked chan struct{}
	wg     sync.WaitGroup
	log    *slog.Logger

	mu      sync.Mutex
	tail    []string // last lines of stderr
	exitErr error
	stopped bool // we asked it to stop
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// controlRE finds the control URL in simagent's ready line.
var controlRE = regexp.MustCompile(`^simagent ready: .*, control (http://\S+)$`)

// Spawn starts cfg.Processes simagent children, waits until each printed
// its ready line, and returns them as a remote fleet whose Close stops
// them. The children stop when the harness dies too: their stdin is a
// pipe from the harness (--stop-on-stdin-eof), and on Linux they get
// SIGTERM when their parent thread exits (PR_SET_PDEATHSIG). They run in
// their own process group, so a terminal's Ctrl-C reaches the harness,
// which stops them in order.
func Spawn(ctx context.Context, cfg SpawnConfig) (*Remote, error) {
	if cfg.Processes < 1 || cfg.Processes > MaxProcesses || cfg.Processes > cfg.Agents {
		return nil, fmt.Errorf("%w: fleet.processes %d: want 1 to %d and at most fleet.agents (%d)", ErrRemote, cfg.Processes, MaxProcesses, cfg.Agents)
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var children []*child
	stopAll := func() error {
		var errs []error
		for _, c := range children {
			errs = append(errs, c.stop())
		}
		return errors.Join(errs...)
	}
	first := 0
	for k := range cfg.Processes {
		n := cfg.Agents / cfg.Processes
		if k < cfg.Agents%cfg.Processes {
			n++
		}
		c, err := startChild(cfg, k, first, n)
		if err != nil {
			_ = stopAll()
			return nil, err
		}
		children = append(children, c)
		first += n
	}
	wctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	urls := make([]string, len(children))
	for k, c := range children {
		select {
		case u := <-c.ready:
			urls[k] = u
		case <-c.done:
			_ = stopAll()
			return nil, fmt.Errorf("%w: simagent process %d exited before it was ready (%v); stderr: %s", ErrRemote, k, cmpOr(c.exitError(), errors.New("exit status 0")), c.stderrTail())
		case <-wctx.Done():
			_ = stopAll()
			return nil, fmt.Errorf("%w: simagent process %d not ready: %w; stderr: %s", ErrRemote, k, context.Cause(wctx), c.stderrTail())
		}
	}
	r, err := Dial(ctx, RemoteConfig{
		URLs: urls, Store: cfg.Store, Community: cfg.Community, Seed: cfg.Seed, Agents: cfg.Agents,
		Watch: cfg.Watch, Logger: cfg.Logger, children: children,
	})
	if err != nil {
		_ = stopAll()
		return nil, err
	}
	r.stop = stopAll
	return r, nil
}

// childArgs is process k's command line: n agents from global index
// first.
func childArgs(cfg SpawnConfig, k, first, n int) ([]string, error) {
	listen := cfg.Listen
	switch {
	case cfg.ByPort:
		if int(listen.Port())+first > 65535 {
			return nil, fmt.Errorf("%w: process %d: port %d+%d past 65535", ErrRemote, k, listen.Port(), first)
		}
		listen = netip.AddrPortFrom(listen.Addr(), listen.Port()+uint16(first))
	default:
		a := listen.Addr()
		for range first {
			a = a.Next()
		}
		port := listen.Port()
		if port != 0 {
			port += uint16(k)
		}
		listen = netip.AddrPortFrom(a, port)
	}
	args := []string{
		"--agents", strconv.Itoa(n), "--listen", listen.String(),
		"--seed", strconv.FormatUint(childSeed(cfg.Seed, k), 10),
		// Without --identity: as the harness's own in-process fleet, the
		// recorded identities.
		"--control", "127.0.0.1:0", "--stop-on-stdin-eof", "--log-level", "warn",
	}
	if cfg.ByPort {
		args = append(args, "--by-port")
	}
	if cfg.Data != "" {
		abs, err := filepath.Abs(cfg.Data)
		if err != nil {
			return nil, err
		}
		args = append(args, "--data", abs)
	} else {
		args = append(args, "--profile", cfg.Profile)
	}
	if cfg.Community != "" {
		args = append(args, "--community", cfg.Community)
	}
	if cfg.MaxMsgSize != 0 {
		args = append(args, "--max-msg-size", strconv.Itoa(cfg.MaxMsgSize))
	}
	for _, lr := range cfg.Labels {
		from, to := max(lr.From, first), min(lr.To, first+n-1)
		if from > to || len(lr.Labels) == 0 {
			continue
		}
		var kv []string
		for key, v := range lr.Labels {
			kv = append(kv, key+"="+v)
		}
		args = append(args, "--label", fmt.Sprintf("%d-%d:%s", from-first, to-first, strings.Join(kv, ",")))
	}
	return args, nil
}

// childSeed derives process k's seed (splitmix64 of seed and k), so the
// processes' random decisions differ from each other.
func childSeed(seed uint64, k int) uint64 {
	z := seed + uint64(k+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// childEnv is the children's environment: the harness's, without a
// control token (children listen on loopback), with the v3 users.
func childEnv(users []usm.User) []string {
	var env []string
	for _, e := range os.Environ() {
		if k, _, _ := strings.Cut(e, "="); k == "SIMAGENT_CONTROL_TOKEN" || k == "SIMAGENT_V3_USERS" {
			continue
		}
		env = append(env, e)
	}
	if len(users) > 0 {
		var us []string
		for _, u := range users {
			s := u.Name
			if u.Auth != usm.NoAuth {
				s += ":" + u.Auth.String() + ":" + string(u.AuthPass)
				if u.Priv != usm.NoPriv {
					s += ":" + u.Priv.String() + ":" + string(u.PrivPass)
				}
			}
			us = append(us, s)
		}
		env = append(env, "SIMAGENT_V3_USERS="+strings.Join(us, " "))
	}
	return env
}

// startChild starts process k; its goroutines read its output until it
// exits.
func startChild(cfg SpawnConfig, k, first, n int) (*child, error) {
	args, err := childArgs(cfg, k, first, n)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.Binary, args...)
	cmd.Env = childEnv(cfg.Users)
	cmd.SysProcAttr = childAttr()
	c := &child{cmd: cmd, ready: make(chan string, 1), done: make(chan struct{}), log: cfg.Logger.With("process", k)}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := c.start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %w", ErrRemote, cfg.Binary, err)
	}
	c.log.Info("harness: simagent process started", "pid", cmd.Process.Pid, "agents", n, "first", first)
	c.wg.Go(func() { c.readStdout(stdout) })
	c.wg.Go(func() { c.readStderr(stderr) })
	go func() { // owned by c: stop waits for done
		c.wg.Wait()
		err := cmd.Wait()
		c.mu.Lock()
		c.exitErr = err
		c.mu.Unlock()
		close(c.done)
	}()
	return c, nil
}

// start starts the process from a goroutine locked to its OS thread,
// which stays until the process has exited: PR_SET_PDEATHSIG fires when
// the thread that forked the child ends, and Go may end a thread (one
// left locked by another goroutine), so the thread is kept for exactly
// the child's life.
func (c *child) start() error {
	started := make(chan error, 1)
	c.locked = make(chan struct{})
	go func() {
		defer close(c.locked)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := c.cmd.Start()
		started <- err
		if err == nil {
			<-c.done
		}
	}()
	return <-started
}

func (c *child) readStdout(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := controlRE.FindStringSubmatch(sc.Text()); m != nil {
			select {
			case c.ready <- m[1]:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (c *child) readStderr(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		c.mu.Lock()
		if len(c.tail) == 20 {
			c.tail = c.tail[1:]
		}
		c.tail = append(c.tail, line)
		c.mu.Unlock()
		c.log.Debug("simagent: " + line)
	}
	_, _ = io.Copy(io.Discard, r)
}

func (c *child) stderrTail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tail) == 0 {
		return "(nothing)"
	}
	return strings.Join(c.tail, " | ")
}

// exitError is how the child exited (nil: cleanly, status 0).
func (c *child) exitError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitErr
}

// childStopTimeout is how long a child may take to stop before it is
// killed.
const childStopTimeout = 10 * time.Second

// stop closes the child's stdin, which stops it, waits, and kills it
// when it does not stop in time. An exit other than a clean one after
// the stop is an error.
func (c *child) stop() error {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	_ = c.stdin.Close()
	t := time.NewTimer(childStopTimeout)
	defer t.Stop()
	defer func() { <-c.locked }()
	select {
	case <-c.done:
	case <-t.C:
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%w: simagent pid %d did not stop within %s; killed", ErrRemote, c.pid(), childStopTimeout)
	}
	if err := c.exitError(); err != nil {
		return fmt.Errorf("%w: simagent pid %d: %w; stderr: %s", ErrRemote, c.pid(), err, c.stderrTail())
	}
	return nil
}

func cmpOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
