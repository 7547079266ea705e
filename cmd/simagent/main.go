// Command simagent runs a fleet of simulated SNMP agents from flags, with
// faults and an optional HTTP control API. See simagent --help.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/control"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // could not start or serve
	exitUsage = 2 // bad flags or data
)

// shutdownTimeout bounds the wait for control API requests in flight.
const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runStdin(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run starts the fleet args describe, prints the ready line to stdout and
// serves until ctx is done; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runStdin(ctx, args, nil, stdout, stderr)
}

// runStdin is run with the process's stdin, which --stop-on-stdin-eof
// watches (nil: the flag is refused).
func runStdin(ctx context.Context, args []string, stdin *os.File, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stdout, os.Getenv)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "simagent: %v\nRun simagent --help for usage.\n", err)
		return exitUsage
	}
	if o.stdinEOF && stdin == nil {
		fmt.Fprintln(stderr, "simagent: --stop-on-stdin-eof: no stdin to watch")
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	store, kinds, err := loadData(o)
	if err != nil {
		fmt.Fprintf(stderr, "simagent: %v\n", err)
		return exitUsage
	}
	fleet, code, err := startFleet(ctx, o, store, kinds, logger)
	if err != nil {
		fmt.Fprintf(stderr, "simagent: %v\n", err)
		return code
	}
	defer func() { // runs last, after the control API has stopped
		if err := fleet.Close(); err != nil {
			logger.Warn("closing the fleet", "err", err)
		}
		st := fleet.Stats()
		logger.Info("simagent stopped", "requests", st.Requests, "responses", st.Responses)
	}()

	var wg sync.WaitGroup
	defer wg.Wait()
	if o.stdinEOF {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := watchStdin(stdin, cancel, logger)
		defer stop()
	}
	var stopping stopFlag // /v1/readyz says 503 from the signal on
	controlURL := ""
	srvErr := make(chan error, 1)
	if o.control != "" {
		srv, url, err := serveControl(o, fleet, stopping.check, logger, &wg, srvErr)
		if err != nil {
			fmt.Fprintf(stderr, "simagent: %v\n", err)
			return exitError
		}
		controlURL = url
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				logger.Warn("control API shutdown", "err", err)
				_ = srv.Close()
			}
		}()
	}
	fmt.Fprintln(stdout, readyLine(o, fleet, controlURL))
	select {
	case <-ctx.Done():
		stopping.set()
		logger.Info("simagent stopping", "cause", context.Cause(ctx))
	case err := <-srvErr:
		fmt.Fprintf(stderr, "simagent: control API: %v\n", err)
		code = exitError
	}
	return code
}

// loadData opens --data (one store, or kinds) or --profile.
func loadData(o *options) (*mib.Store, []simagent.Kind, error) {
	if len(o.data) > 0 {
		return loadKinds(o.data)
	}
	s, err := mib.Profile(o.profile)
	if err != nil {
		return nil, nil, fmt.Errorf("--profile: %w", err)
	}
	return s, nil, nil
}

// startFleet starts the fleet and applies --faults to --faults-selector;
// on error it returns the exit code.
func startFleet(ctx context.Context, o *options, store *mib.Store, kinds []simagent.Kind, logger *slog.Logger) (*simagent.Fleet, int, error) {
	cfg := simagent.Config{
		Agents:          o.agents,
		Listen:          o.listen,
		ByPort:          o.byPort,
		Store:           store,
		Kinds:           kinds,
		Identity:        o.identity,
		MaxBulkVarbinds: o.maxBulk,
		Community:       o.community,
		Seed:            o.seed,
		MaxMsgSize:      o.maxMsgSize,
		Sockets:         o.sockets,
		Logger:          logger,
		Users:           o.users,
		Labels:          o.labels,
	}
	all := o.faultsSelector == simagent.Selector{All: true}
	if all {
		cfg.Faults = o.faults
	}
	fleet, err := simagent.Start(ctx, cfg)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, exitUsage, fmt.Errorf("--listen %s: address already in use (another simagent or snmpd there?): pick another --listen address or port (port 0: a free one): %w", o.listen, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, exitUsage, fmt.Errorf("--listen %s: no such address on this host: %w", o.listen, err)
	case errors.Is(err, syscall.EACCES):
		return nil, exitUsage, fmt.Errorf("--listen %s: permission denied (ports below 1024 need privilege): %w", o.listen, err)
	case err != nil:
		return nil, exitError, fmt.Errorf("start %d agents at %s: %w", o.agents, o.listen, err)
	}
	if !all {
		if _, err := fleet.SetFaults(o.faultsSelector, o.faults); err != nil {
			_ = fleet.Close()
			return nil, exitUsage, fmt.Errorf("--faults-selector %s: %w", o.faultsSelector, err)
		}
	}
	return fleet, exitOK, nil
}

// serveControl starts the control API; the server's goroutine joins wg and
// reports a failure on errc.
func serveControl(o *options, fleet *simagent.Fleet, ready func() error, logger *slog.Logger, wg *sync.WaitGroup, errc chan<- error) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", o.control)
	if err != nil {
		return nil, "", fmt.Errorf("--control %s: %w", o.control, err)
	}
	opts := []control.Option{control.WithLogger(logger), control.WithReadyCheck(ready)}
	if o.perAgent {
		opts = append(opts, control.WithPerAgentMetrics())
	}
	if o.token != "" {
		opts = append(opts, control.WithToken(o.token))
	}
	if o.readOnly {
		opts = append(opts, control.WithReadOnly())
	}
	// Bounded timeouts, and a Host check against DNS rebinding unless a
	// token guards the API (a rebinding page cannot know it).
	srv := control.NewServer(control.New(fleet, opts...), control.ServerConfig{
		Addr: ln.Addr(), AnyHost: o.token != "", Logger: logger,
	})
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	})
	return srv, "http://" + ln.Addr().String(), nil
}

// readyLine describes the running fleet in one line, e.g.
// "simagent ready: 1000 agents 127.16.0.1-127.16.3.232 port 1161, data
// if-mib:24 (1234 OIDs), seed 42, control http://127.0.0.1:8080".
func readyLine(o *options, f *simagent.Fleet, controlURL string) string {
	var b strings.Builder
	n := f.Len()
	first, last := f.Addr(0), f.Addr(n-1)
	fmt.Fprintf(&b, "simagent ready: %d agent", n)
	if n > 1 {
		b.WriteByte('s')
	}
	switch {
	case n == 1:
		fmt.Fprintf(&b, " %s port %d", first.Addr(), first.Port())
	case o.byPort:
		fmt.Fprintf(&b, " %s ports %d-%d", first.Addr(), first.Port(), last.Port())
	default:
		fmt.Fprintf(&b, " %s-%s port %d", first.Addr(), last.Addr(), first.Port())
	}
	s := f.Store()
	fmt.Fprintf(&b, ", data %s (%d OIDs), seed %d", s.Name(), s.Len(), f.Seed())
	if controlURL != "" {
		fmt.Fprintf(&b, ", control %s", controlURL)
	}
	return b.String()
}

func randomSeed() uint64 { return rand.Uint64() }

// errStdinEOF ends a run whose parent closed its stdin (or died).
var errStdinEOF = errors.New("stdin closed (parent gone)")

// watchStdin cancels with errStdinEOF once stdin reaches its end: a parent
// that dies, even by SIGKILL, closes the pipe. stop ends the watcher with
// a read deadline and waits for it; stdin that takes no deadline (not a
// pipe) leaves it blocked until the process exits, which follows.
func watchStdin(stdin *os.File, cancel context.CancelCauseFunc, logger *slog.Logger) (stop func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			if _, err := stdin.Read(buf); err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					cancel(errStdinEOF)
				}
				return
			}
		}
	}()
	return func() {
		if err := stdin.SetReadDeadline(time.Now()); err != nil {
			logger.Debug("stdin has no deadline; its watcher ends with the process", "err", err)
			return
		}
		<-done
	}
}

// stopFlag is set once simagent is stopping; check makes it a readiness
// check.
type stopFlag struct{ b atomic.Bool }

func (s *stopFlag) set() { s.b.Store(true) }

func (s *stopFlag) check() error {
	if s.b.Load() {
		return errors.New("simagent stopping")
	}
	return nil
}
