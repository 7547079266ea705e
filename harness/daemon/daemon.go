// Package daemon tests a poller that runs as a daemon of its own, observed
// from outside: Prometheus snmp_exporter first (Debian's
// prometheus-snmp-exporter, 0.21). New renders the exporter's snmp.yml from
// the scenario and the fleet's data (one module per load operation, a
// metric per column of what the operation covers), starts the exporter on a
// free loopback port and waits until it serves. Each poll the harness
// schedules is then one scrape, /snmp?target=AGENT&module=opN, made as
// Prometheus would make it; the scrape is mapped back to varbinds, so the
// harness's invariants hold the exporter to the agents' data, count every
// scrape, and judge each phase's success and recovery. While it runs, the
// exporter's process is watched by PID (descriptors, UDP sockets, threads,
// memory) and its own /metrics is read for goroutines.
package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/scenarios"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// SnmpExporter is the exporter's poller name (snmpchaos run --poller).
const SnmpExporter = "snmp_exporter"

// DefaultExporter is where Debian installs snmp_exporter.
const DefaultExporter = "/usr/bin/prometheus-snmp-exporter"

// Config says which exporter to start.
type Config struct {
	// Binary is the snmp_exporter executable (default DefaultExporter).
	Binary string
	// Logger receives the exporter's log lines and lifecycle events.
	Logger *slog.Logger
	// StartTimeout bounds the wait until it serves (default 15s).
	StartTimeout time.Duration
}

// ErrNotInstalled is returned by New when the exporter binary is missing.
var ErrNotInstalled = errors.New("daemon: snmp_exporter not installed (apt-get install -y prometheus-snmp-exporter)")

// Exporter is a harness.Poller whose polls are scrapes of a running
// snmp_exporter.
type Exporter struct {
	cfg    Config
	log    *slog.Logger
	mods   map[string]*module
	cmd    *exec.Cmd
	pid    int
	dir    string
	base   string // http://127.0.0.1:PORT
	client *http.Client
	// scrapeTimeout bounds one scrape: the exporter's own SNMP timeout and
	// retries, plus a margin.
	scrapeTimeout time.Duration
	exited        chan struct{}
	waitErr       error
	wg            sync.WaitGroup // the exporter's reader and waiter, and scrapes in flight

	mu        sync.Mutex
	closed    bool
	closeErr  error
	closeOnce sync.Once
	atClose   Observed
	atCloseOK bool
}

// Observed is what the harness sees of the daemon at one moment: its
// process tree from /proc and its own metrics.
type Observed struct {
	Process    probe.ProcessView `json:"process"`
	Goroutines int               `json:"goroutines"` // go_goroutines from its /metrics
}

// New renders the configuration for sc, starts the exporter and waits
// until it answers. The scenario's fleet data is read again here (it is
// deterministic), to know every column the load covers.
func New(ctx context.Context, sc *scenarios.Scenario, cfg Config) (*Exporter, error) {
	if cfg.Binary == "" {
		cfg.Binary = DefaultExporter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 15 * time.Second
	}
	if _, err := os.Stat(cfg.Binary); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotInstalled, cfg.Binary, err)
	}
	spec := sc.Fleet.Profile
	if spec == "" {
		spec = sc.Fleet.Data
		if !filepath.IsAbs(spec) && sc.Source != "" {
			spec = filepath.Join(filepath.Dir(sc.Source), spec)
		}
	}
	store, err := mib.Open(spec)
	if err != nil {
		return nil, fmt.Errorf("daemon: scenario %s: fleet data: %w", sc.Name, err)
	}
	mods, err := plan(sc, store)
	if err != nil {
		return nil, fmt.Errorf("daemon: scenario %s: %w", sc.Name, err)
	}
	yml, err := render(sc, mods)
	if err != nil {
		return nil, fmt.Errorf("daemon: scenario %s: %w", sc.Name, err)
	}
	dir, err := os.MkdirTemp("", "snmpchaos-exporter-")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "snmp.yml")
	if err := os.WriteFile(conf, yml, 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	e := &Exporter{cfg: cfg, mods: map[string]*module{}, dir: dir, exited: make(chan struct{}),
		scrapeTimeout: sc.Poller.Timeout.D()*time.Duration(sc.Poller.Retries+1) + 5*time.Second}
	for _, m := range mods {
		e.mods[opKey(m.Op.Kind, m.Op.OIDs, m.Op.Root)] = m
	}
	if err := e.start(ctx, conf); err != nil {
		e.wg.Wait()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return e, nil
}

// start runs the exporter on a free loopback port and waits for it.
func (e *Exporter) start(ctx context.Context, conf string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	_ = l.Close()
	e.base = "http://" + addr
	cmd := exec.Command(e.cfg.Binary, "--config.file="+conf, "--web.listen-address="+addr, "--log.level=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("daemon: start %s: %w", e.cfg.Binary, err)
	}
	e.cmd, e.pid = cmd, cmd.Process.Pid
	e.log = e.cfg.Logger.With("poller", "snmp_exporter", "pid", e.pid)
	e.log.Info("daemon: snmp_exporter started", "listen", addr, "config", conf)
	e.wg.Go(func() {
		e.copyLog(stderr) // until the exporter closes stderr; Wait comes after, as os/exec wants
		e.waitErr = cmd.Wait()
		close(e.exited)
	})
	// No keep-alive: a connection per scrape, closed after it, so that the
	// exporter holds nothing of the harness's while idle.
	e.client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 256}}
	deadline := time.Now().Add(e.cfg.StartTimeout)
	for {
		if _, err := e.Self(ctx); err == nil {
			return nil
		}
		select {
		case <-e.exited:
			return fmt.Errorf("daemon: snmp_exporter exited at start: %v (see its log)", e.waitErr)
		case <-ctx.Done():
			e.stop()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.stop()
			return fmt.Errorf("daemon: snmp_exporter did not serve %s within %s", e.base, e.cfg.StartTimeout)
		}
	}
}

// copyLog passes the exporter's log lines on, cut at 4 KiB.
func (e *Exporter) copyLog(r io.Reader) {
	br := bufio.NewReaderSize(r, 4096)
	for {
		line, err := br.ReadSlice('\n')
		if t := strings.TrimSpace(string(line)); t != "" {
			e.log.Info("daemon: snmp_exporter", "log", t)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func opKey(kind string, oids []string, root string) string {
	return kind + " " + root + " " + strings.Join(oids, ",")
}

// Name is "snmp_exporter".
func (e *Exporter) Name() string { return SnmpExporter }

// PID is the exporter's process ID.
func (e *Exporter) PID() int { return e.pid }

// Poll scrapes the exporter for the poll's agent with the poll's module.
func (e *Exporter) Poll(ctx context.Context, p harness.Poll, done func(harness.Result)) {
	m := e.mods[opKey(string(p.Op), p.OIDs, p.Root)]
	if m == nil {
		done(harness.Result{Err: fmt.Errorf("daemon: no module for %s %s%s", p.Op, p.Root, strings.Join(p.OIDs, " "))})
		return
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		done(harness.Result{Err: harness.ErrClosed})
		return
	}
	// One goroutine per scrape in flight (the harness bounds how many),
	// as Prometheus scrapes; Close waits for them.
	e.wg.Go(func() { done(e.scrape(ctx, m, p.Target)) })
}

func (e *Exporter) scrape(ctx context.Context, m *module, t harness.Target) harness.Result {
	ctx, cancel := context.WithTimeout(ctx, e.scrapeTimeout)
	defer cancel()
	u := e.base + "/snmp?" + url.Values{"target": {t.Addr.String()}, "module": {m.Name}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return harness.Result{Err: err}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return harness.Result{Err: &scrapeError{kind: "scrape", msg: err.Error()}}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		msg := strings.Join(strings.Fields(string(b)), " ")
		kind := "error"
		if strings.Contains(msg, "timeout") {
			kind = "timeout"
		}
		return harness.Result{Err: &scrapeError{kind: kind, msg: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, msg)}}
	}
	fams, err := parseMetrics(resp.Body)
	if err != nil {
		return harness.Result{Err: &scrapeError{kind: "badScrape", msg: err.Error()}}
	}
	vbs, err := varbinds(m, fams)
	if err != nil {
		return harness.Result{Err: &scrapeError{kind: "badScrape", msg: err.Error()}}
	}
	return harness.Result{Varbinds: vbs}
}

// scrapeError is a failed scrape; Kind is what reports count it under.
type scrapeError struct{ kind, msg string }

func (e *scrapeError) Error() string { return "snmp_exporter: " + e.msg }
func (e *scrapeError) Kind() string  { return e.kind }

// Self reads the exporter's own /metrics.
func (e *Exporter) Self(ctx context.Context) (selfMetrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/metrics", nil)
	if err != nil {
		return selfMetrics{}, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return selfMetrics{}, err
	}
	defer resp.Body.Close()
	fams, err := parseMetrics(resp.Body)
	if err != nil {
		return selfMetrics{}, err
	}
	return readSelf(fams), nil
}

// ProcessGoroutines is go_goroutines from the exporter's /metrics: the
// harness samples it with the exporter's process (pollapi.ProcessMetrics).
func (e *Exporter) ProcessGoroutines(ctx context.Context) (int, error) {
	s, err := e.Self(ctx)
	return s.Goroutines, err
}

// Observe reads the exporter's process and metrics now.
func (e *Exporter) Observe(ctx context.Context) (Observed, error) {
	v, err := probe.ReadProcess(e.pid)
	if err != nil {
		return Observed{}, err
	}
	s, err := e.Self(ctx)
	return Observed{Process: v, Goroutines: s.Goroutines}, err
}

// AtClose is what Close saw of the exporter after the drain, idle, before
// it stopped it.
func (e *Exporter) AtClose() (Observed, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.atClose, e.atCloseOK
}

// Close observes the idle exporter, stops it (SIGTERM, then SIGKILL to its
// process group after 5s) and removes its configuration. Idempotent.
func (e *Exporter) Close(ctx context.Context) error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		if o, err := e.Observe(ctx); err == nil {
			e.mu.Lock()
			e.atClose, e.atCloseOK = o, true
			e.mu.Unlock()
			e.log.Info("daemon: idle before stop", "goroutines", o.Goroutines, "fds", o.Process.FDs, "udpSockets", len(o.Process.UDPSockets))
		}
		e.closeErr = e.stop()
		e.wg.Wait() // scrapes end with the exporter's exit at the latest
		e.client.CloseIdleConnections()
		_ = os.RemoveAll(e.dir)
	})
	return e.closeErr
}

func (e *Exporter) stop() error {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
		err = fmt.Errorf("snmp_exporter (pid %d) did not exit within 5s of SIGTERM: killed", e.pid)
		_ = syscall.Kill(-e.pid, syscall.SIGKILL)
		<-e.exited
	}
	_ = syscall.Kill(-e.pid, syscall.SIGKILL) // anything it left in its group
	return err
}
