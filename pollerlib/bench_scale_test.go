package pollerlib

// BenchmarkScale (`make bench-scale`): how many devices this machine can
// simulate and poll at once at a realistic mix, and the same for gosnmp.
//
// The fleet runs in a child process (this test binary again, see
// scaleFleetChild), so that its CPU time and the poller's are printed
// apart. Every device is polled once per 60 s period: a Get of 5 scalars
// and a bulk walk of two ifTable columns (ifInOctets, ifOutOctets) of its
// 24 interfaces. 2% of the devices drop 5% of requests and jitter replies
// by up to 50 ms. The load is open-loop: device i is due at i*60s/N past
// the start whatever earlier polls are doing, one goroutine per poll (at
// most scaleMaxInFlight; a poll due with none free fails as overloaded).
//
// One size passes when, over a warm-up and a measuring window (a slice of
// the period: the rate is N/60 devices a second, the rate of the full
// mix), every poll due reported a result, every poll of a healthy device
// succeeded with complete data (5 varbinds, 24+24 walked), at least 99%
// of the lossy devices' polls did, every poll started within 1 s of its
// due time, and the p99 of due-to-done time stayed under the bound. The
// search (benchutil.SizeSearch) doubles the size from a start while any
// poller passes, every poller still passing run at each size, then
// bisects each poller's gap between its largest pass and its smallest
// failure, one step per poller in turn, until fail/pass is at most the
// precision, bisected sizes rounded (to 10,000 above 400,000 devices, to
// 1,000 above 40,000), all within a time budget that no run starts after.
// It prints the largest size each poller sustained with the size it
// failed at, its CPU (devices per core), and the range of the
// pollerlib/gosnmp ratio that the failed sizes leave open.
//
// How long: each run is the fleet's start (under 0.5 s at 1,000,000), a
// 3 s warm-up, the window and the polls then in flight: 15-17 s at the
// defaults (26 runs took 7 minutes on the quiet 2-core machine). There,
// doubling from 5,000 to 1,000,000 takes 9 runs for pollerlib (which
// failed at 1,000,000), 7 for gosnmp (failed at 320,000) and 3 for
// gosnmp-cached (out of descriptors at 20,000, in seconds); bisecting
// each gap to 1.05 takes 4 or 5 more each (a factor of 2 needs 5 halvings
// at most, 640,000 to 1,000,000 needs 4): 31-33 runs, 9-10 minutes,
// within the 13-minute default budget with room for a slower machine.
//
// It runs only with SNMPCHAOS_SCALE=1 (make bench-scale sets it), so that
// make bench stays short. Knobs (environment): SNMPCHAOS_SCALE_DEVICES runs that one size only;
// SNMPCHAOS_SCALE_START (default 5000) and SNMPCHAOS_SCALE_MAX (default
// 1000000) bound the search; SNMPCHAOS_SCALE_PRECISION (default 1.05,
// in (1, 2]) is the fail/pass ratio bisection stops at;
// SNMPCHAOS_SCALE_WINDOW (default 10s) is the measuring window after a
// 3 s warm-up; SNMPCHAOS_SCALE_P99 (default 2s) the bound;
// SNMPCHAOS_SCALE_BUDGET (default 13m) the whole search;
// SNMPCHAOS_SCALE_POLLERS (default "pollerlib,gosnmp,gosnmp-cached");
// SNMPCHAOS_SCALE_CPUPROFILE, a directory, gets a CPU profile of the
// poller's process over each run's measuring window only (not the setup
// of every device before it), as POLLER-DEVICES.pprof.

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/prometheus/procfs"
	"github.com/snmpchaos/snmpchaos/internal/benchutil"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

const (
	scaleFleetRole   = "pollerlib-scale-fleet"
	scalePeriod      = 60 * time.Second
	scaleWarm        = 3 * time.Second
	scaleLossyPct    = 2
	scaleMaxInFlight = 20000
)

// errDriverFull is a poll the driver could not start: every one of its
// scaleMaxInFlight slots was busy (whichever poller it drives).
var errDriverFull = fmt.Errorf("driver: all %d poll slots busy", scaleMaxInFlight)

// The fleet's block: up to 2^20 agents from 127.96.0.1 (to 127.112.0.0).
var scaleBase = netip.AddrFrom4([4]byte{127, 96, 0, 1})

// scaleFleetIn is the fleet child's input; scaleFleetOut what it reports.
type scaleFleetIn struct{ Agents int }

type scaleFleetOut struct {
	Port    uint16
	Lossy   []int // indices of the lossy devices
	Sockets int
	Start   time.Duration
}

func init() {
	if benchutil.ChildRole() != scaleFleetRole {
		return
	}
	var in scaleFleetIn
	err := benchutil.ServeChild(&in, func() (any, func() error, error) { return scaleFleetChild(in) })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func scaleFleetChild(in scaleFleetIn) (any, func() error, error) {
	st, err := mib.Profile("if-mib:24")
	if err != nil {
		return nil, nil, err
	}
	t0 := time.Now()
	f, err := simagent.Start(context.Background(), simagent.Config{Agents: in.Agents, Listen: netip.AddrPortFrom(scaleBase, 0), Store: st, Seed: 16})
	if err != nil {
		return nil, nil, err
	}
	out := scaleFleetOut{Port: f.Addr(0).Port(), Sockets: f.Sockets(), Start: time.Since(t0)}
	sel := simagent.Selector{Percent: scaleLossyPct}
	if out.Lossy, err = f.Select(sel); err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	if _, err := f.SetFaults(sel, simagent.Faults{
		Drop:  &simagent.Drop{Prob: 0.05},
		Delay: &simagent.Delay{Jitter: simagent.Duration(50 * time.Millisecond)},
	}); err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return out, f.Close, nil
}

// The mix's OIDs.
var (
	scaleScalars = []OID{
		MustParseOID(".1.3.6.1.2.1.1.3.0"), MustParseOID(".1.3.6.1.2.1.1.5.0"), MustParseOID(".1.3.6.1.2.1.1.1.0"),
		MustParseOID(".1.3.6.1.2.1.1.2.0"), MustParseOID(".1.3.6.1.2.1.2.1.0"),
	}
	scaleColumns = []OID{MustParseOID(".1.3.6.1.2.1.2.2.1.10"), MustParseOID(".1.3.6.1.2.1.2.2.1.16")}
)

const scaleRows = 24

// scalePoller polls device addr once with the mix and reports what it got.
type scalePoller struct {
	name string
	// open makes the poller for n devices: prepare sets up what it keeps
	// per device in a steady state (before the clock starts), poll polls.
	// Every device is prepared, not only those the window polls: what a
	// poller keeps per device (its address as text, a session, a
	// connected socket) a deployment holds for every device it polls,
	// whenever it is polled.
	open func(n int) (prepare, poll func(ctx context.Context, i int, addr netip.AddrPort) error, closeFn func())
	best *scaleRun // the run at the largest size passed
}

func scaleCheck(vbs []Varbind, got [2]int) error {
	if len(vbs) != len(scaleScalars) {
		return fmt.Errorf("%d scalars", len(vbs))
	}
	if got[0] != scaleRows || got[1] != scaleRows {
		return fmt.Errorf("walked %v rows", got)
	}
	return nil
}

func scalePollers() []*scalePoller {
	names := make([]string, len(scaleScalars))
	for i, o := range scaleScalars {
		names[i] = o.String()
	}
	cols := []string{scaleColumns[0].String(), scaleColumns[1].String()}
	gosnmpPoll := func(g *gosnmp.GoSNMP) error {
		r, err := g.Get(names)
		if err != nil {
			return err
		}
		var got [2]int
		for k, c := range cols {
			if err := g.BulkWalk(c, func(gosnmp.SnmpPDU) error { got[k]++; return nil }); err != nil {
				return err
			}
		}
		if len(r.Variables) != len(names) {
			return fmt.Errorf("%d scalars", len(r.Variables))
		}
		if got[0] != scaleRows || got[1] != scaleRows {
			return fmt.Errorf("walked %v rows", got)
		}
		return nil
	}
	newG := func(host string, port uint16) *gosnmp.GoSNMP {
		return &gosnmp.GoSNMP{Target: host, Port: port, Community: "public", Version: gosnmp.Version2c,
			Timeout: 2 * time.Second, Retries: 3, MaxOids: gosnmp.MaxOids, MaxRepetitions: 50}
	}
	return []*scalePoller{
		// Every poller is prepared for every device, as a deployment holds
		// its inventory (each device's address as text) and, after the first
		// period, each device's session or client.
		{name: "pollerlib", open: func(n int) (func(context.Context, int, netip.AddrPort) error, func(context.Context, int, netip.AddrPort) error, func()) {
			// The same bound on polls in flight as the others have (the
			// driver's), in place of pollerlib's default of 4,096.
			p, err := New(WithMaxInFlight(scaleMaxInFlight))
			if err != nil {
				panic(err)
			}
			addrs := make([]string, n)
			prepare := func(ctx context.Context, i int, addr netip.AddrPort) error { // the target's session
				addrs[i] = addr.String()
				_, err := p.Key(ctx, Target{Addr: addrs[i]})
				return err
			}
			return prepare, func(ctx context.Context, i int, _ netip.AddrPort) error {
					t := Target{Addr: addrs[i]}
					vbs, err := p.Get(ctx, t, scaleScalars...)
					if err != nil {
						return err
					}
					// Both columns in one walk: one GetBulk of 25 rows each.
					var got [2]int
					if err := p.BulkWalkColumns(ctx, t, scaleColumns, func(c int, _ Varbind) error { got[c]++; return nil }); err != nil {
						return err
					}
					return scaleCheck(vbs, got)
				}, func() {
					st := p.Stats()
					scaleLogf("pollerlib at %d devices: %d requests, %d retransmits, %d timeouts; %d responses, %d read by an exchange, %d late, %d duplicate; rtt p50 %s p99 %s",
						n, st.Requests, st.Retries, st.Timeouts, st.Responses, st.Helped, st.Late, st.Duplicate, st.RTT.P50, st.RTT.P99)
					_ = p.Close(context.Background())
				}
		}},
		{name: "gosnmp", open: func(n int) (func(context.Context, int, netip.AddrPort) error, func(context.Context, int, netip.AddrPort) error, func()) {
			hosts := make([]string, n)
			prepare := func(_ context.Context, i int, addr netip.AddrPort) error {
				hosts[i] = addr.Addr().String()
				return nil
			}
			return prepare, func(_ context.Context, i int, addr netip.AddrPort) error {
				g := newG(hosts[i], addr.Port())
				if err := g.Connect(); err != nil {
					return err
				}
				defer g.Conn.Close()
				return gosnmpPoll(g)
			}, func() {}
		}},
		{name: "gosnmp-cached", open: func(n int) (func(context.Context, int, netip.AddrPort) error, func(context.Context, int, netip.AddrPort) error, func()) {
			// One long-lived client per device, connected beforehand (a
			// device's polls never overlap: one per period).
			clients := make([]*gosnmp.GoSNMP, n)
			prepare := func(_ context.Context, i int, addr netip.AddrPort) error {
				g := newG(addr.Addr().String(), addr.Port())
				if err := g.Connect(); err != nil {
					return err
				}
				clients[i] = g
				return nil
			}
			return prepare, func(_ context.Context, i int, _ netip.AddrPort) error {
					return gosnmpPoll(clients[i])
				}, func() {
					for _, g := range clients {
						if g != nil {
							_ = g.Conn.Close()
						}
					}
				}
		}},
	}
}

// scaleRun is one poller at one size.
type scaleRun struct {
	devices, polls, errsHealthy, errsLossy, lossyPolls int
	lateMax, p50, p99, max                             time.Duration
	pollerCPU, fleetCPU                                time.Duration
	window                                             time.Duration
	peakGoroutines, peakFDs                            int
	// udpDrops is the kernel's UDP receive-buffer drops (Udp RcvbufErrors
	// of this network namespace: fleet and poller) over the whole run.
	udpDrops int64
	firstErr string
	pass     bool
	why      string
}

func (r *scaleRun) cores(cpu time.Duration) float64 { return cpu.Seconds() / r.window.Seconds() }

// coresText is cpu over the window as cores, or "not measured" for a run
// that never reached its window (it failed setting up).
func (r *scaleRun) coresText(cpu time.Duration) string {
	if r.window <= 0 {
		return "not measured"
	}
	return fmt.Sprintf("%.2f cores", r.cores(cpu))
}

// scaleProfile starts a CPU profile of the measuring window when
// SNMPCHAOS_SCALE_CPUPROFILE names a directory, into POLLER-DEVICES.pprof
// there, and returns what stops it.
func scaleProfile(poller string, n int) func() {
	dir := os.Getenv("SNMPCHAOS_SCALE_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", poller, n)))
	if err != nil {
		scaleLogf("SNMPCHAOS_SCALE_CPUPROFILE: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		scaleLogf("SNMPCHAOS_SCALE_CPUPROFILE: %v", err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

// runScale polls a fleet of n devices for the warm-up and window with sp.
func runScale(fleet *benchutil.Service, out scaleFleetOut, n int, sp *scalePoller, win, bound time.Duration) *scaleRun {
	lossy := make([]bool, n)
	for _, i := range out.Lossy {
		lossy[i] = true
	}
	prepare, poll, closeFn := sp.open(n)
	defer closeFn()
	total := scaleWarm + win
	count := int(int64(n) * int64(total) / int64(scalePeriod))
	count = min(count, n)
	if prepare != nil {
		for i := range n {
			if err := prepare(context.Background(), i, netip.AddrPortFrom(addAddr4(scaleBase, i), out.Port)); err != nil {
				return &scaleRun{devices: n, why: fmt.Sprintf("setting up device %d: %v", i, err)}
			}
		}
	}
	runtime.GC()
	baseFDs, baseG := openFDs(), runtime.NumGoroutine()
	drops0 := udpRcvbufErrors()
	type res struct {
		late, took time.Duration
		err        error
	}
	results := make([]res, count)
	sem := make(chan struct{}, scaleMaxInFlight)
	var wg sync.WaitGroup
	var peakG, peakFD atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), total+30*time.Second)
	defer cancel()
	start := time.Now()
	var cpu0, fcpu0 time.Duration
	measured := false
	stopProfile := func() {}
	for k := range count {
		due := start.Add(time.Duration(int64(k) * int64(scalePeriod) / int64(n)))
		if !measured && !due.Before(start.Add(scaleWarm)) {
			measured = true
			cpu0, _ = benchutil.CPUTime()
			fcpu0, _ = fleet.CPU()
			stopProfile = scaleProfile(sp.name, n)
		}
		if d := time.Until(due); d > time.Millisecond {
			time.Sleep(d)
		}
		if k%64 == 0 {
			peakG.Store(max(peakG.Load(), int64(runtime.NumGoroutine())))
		}
		if k%1024 == 0 { // reading /proc/self/fd costs more
			peakFD.Store(max(peakFD.Load(), int64(openFDs())))
		}
		select {
		case sem <- struct{}{}:
		default:
			results[k] = res{err: errDriverFull}
			continue
		}
		addr := netip.AddrPortFrom(addAddr4(scaleBase, k%n), out.Port)
		wg.Go(func() {
			defer func() { <-sem }()
			t0 := time.Now()
			err := poll(ctx, k%n, addr)
			results[k] = res{late: t0.Sub(due), took: time.Since(due), err: err}
		})
	}
	end := time.Now()
	cpu1, _ := benchutil.CPUTime()
	fcpu1, _ := fleet.CPU()
	stopProfile()
	wg.Wait()
	r := &scaleRun{devices: n, polls: count, pollerCPU: cpu1 - cpu0, fleetCPU: fcpu1 - fcpu0,
		peakGoroutines: int(peakG.Load()) - baseG, peakFDs: int(peakFD.Load()) - baseFDs, udpDrops: udpRcvbufErrors() - drops0}
	if measured { // else no poll was due in the window: no CPU figures
		r.window = end.Sub(start.Add(scaleWarm))
	}
	var took []time.Duration
	for k, x := range results {
		if x.err != nil {
			if lossy[k%n] {
				r.errsLossy++
			} else {
				r.errsHealthy++
			}
			if r.firstErr == "" {
				r.firstErr = x.err.Error()
			}
		}
		if lossy[k%n] {
			r.lossyPolls++
		}
		r.lateMax = max(r.lateMax, x.late)
		took = append(took, x.took)
	}
	slices.Sort(took)
	r.p50, r.p99, r.max = pct(took, 0.5), pct(took, 0.99), pct(took, 1)
	switch {
	case r.errsHealthy > 0:
		r.why = fmt.Sprintf("%d polls of healthy devices failed (%s)", r.errsHealthy, r.firstErr)
	case r.errsLossy*100 > r.lossyPolls:
		r.why = fmt.Sprintf("%d of %d polls of lossy devices failed (%s)", r.errsLossy, r.lossyPolls, r.firstErr)
	case r.lateMax > time.Second:
		r.why = fmt.Sprintf("a poll started %s late", r.lateMax.Round(time.Millisecond))
	case r.p99 > bound:
		r.why = fmt.Sprintf("p99 %s over %s", r.p99.Round(time.Millisecond), bound)
	default:
		r.pass = true
	}
	return r
}

// udpRcvbufErrors is Udp RcvbufErrors of this network namespace, or -1
// when /proc does not say.
func udpRcvbufErrors() int64 {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return -1
	}
	p, err := fs.Self()
	if err != nil {
		return -1
	}
	s, err := p.Snmp()
	if err != nil || s.Udp.RcvbufErrors == nil {
		return -1
	}
	return int64(*s.Udp.RcvbufErrors)
}

func addAddr4(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// scaleLogf prints a line of the search as it happens (b.Log would keep
// it to the end, and testing truncates long benchmark logs).
func scaleLogf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "scale: "+format+"\n", args...)
}

func scaleEnvInt(b *testing.B, k string, def int) int {
	s := os.Getenv(k)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 1<<20 {
		b.Fatalf("%s=%q: want a whole number of devices in [1, %d]", k, s, 1<<20)
	}
	return n
}

func scaleEnvFloat(b *testing.B, k string, def, lo, hi float64) float64 {
	s := os.Getenv(k)
	if s == "" {
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > lo && f <= hi) {
		b.Fatalf("%s=%q: want a number in (%g, %g], like %g", k, s, lo, hi, def)
	}
	return f
}

func scaleEnvDur(b *testing.B, k string, def time.Duration) time.Duration {
	s := os.Getenv(k)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration like 10s", k, s)
	}
	return d
}

// BenchmarkScale finds the largest fleet each poller sustains; see the
// top of this file.
func BenchmarkScale(b *testing.B) {
	if os.Getenv("SNMPCHAOS_SCALE") == "" {
		b.Skip("the scale benchmark runs for minutes: make bench-scale (SNMPCHAOS_SCALE=1)")
	}
	if runtime.GOOS != "linux" {
		b.Skip("the scale benchmark needs Linux (127/8 fleets, /proc)")
	}
	fixed := scaleEnvInt(b, "SNMPCHAOS_SCALE_DEVICES", 0)
	lo := scaleEnvInt(b, "SNMPCHAOS_SCALE_START", 5000)
	hi := scaleEnvInt(b, "SNMPCHAOS_SCALE_MAX", 1_000_000)
	if lo > hi {
		b.Fatalf("SNMPCHAOS_SCALE_START=%d is above SNMPCHAOS_SCALE_MAX=%d", lo, hi)
	}
	precision := scaleEnvFloat(b, "SNMPCHAOS_SCALE_PRECISION", 1.05, 1, 2)
	win := scaleEnvDur(b, "SNMPCHAOS_SCALE_WINDOW", 10*time.Second)
	bound := scaleEnvDur(b, "SNMPCHAOS_SCALE_P99", 2*time.Second)
	budget := scaleEnvDur(b, "SNMPCHAOS_SCALE_BUDGET", 13*time.Minute)
	var pollers []*scalePoller
	want := os.Getenv("SNMPCHAOS_SCALE_POLLERS")
	if want == "" {
		want = "pollerlib,gosnmp,gosnmp-cached"
	}
	for _, sp := range scalePollers() {
		if slices.Contains(strings.Split(want, ","), sp.name) {
			pollers = append(pollers, sp)
		}
	}
	if len(pollers) == 0 {
		b.Fatalf("SNMPCHAOS_SCALE_POLLERS=%q names none of pollerlib, gosnmp, gosnmp-cached", want)
	}
	deadline := time.Now().Add(budget)
	load0, _ := os.ReadFile("/proc/loadavg")

	var fleet *benchutil.Service
	var fout scaleFleetOut
	fleetN := 0
	runAt := func(n int, sp *scalePoller) *scaleRun {
		if fleetN != n {
			if fleet != nil {
				if err := fleet.Stop(); err != nil {
					b.Fatal(err)
				}
			}
			var err error
			fleet, err = benchutil.StartService(b.Context(), scaleFleetRole, scaleFleetIn{Agents: n}, &fout, 2*time.Minute, "-test.run=^$", "-test.bench=^$")
			if err != nil {
				b.Fatal(err)
			}
			fleetN = n
		}
		r := runScale(fleet, fout, n, sp, win, bound)
		verdict := "pass"
		if !r.pass {
			verdict = "FAIL: " + r.why
		}
		la, _ := os.ReadFile("/proc/loadavg")
		load := strings.Join(strings.Fields(string(la))[:3], " ")
		if r.window <= 0 {
			scaleLogf("%-13s %8d devices: not measured, no poll ran in the window (fleet started in %s); load %s; %s",
				sp.name, n, fout.Start.Round(time.Millisecond), load, verdict)
		} else {
			scaleLogf("%-13s %8d devices (%6d polls, fleet started in %s): p50 %s p99 %s max %s, latest start %s; poller %s, fleet %s; peak +%d goroutines +%d fds; UDP buffer drops %d; load %s; %s",
				sp.name, n, r.polls, fout.Start.Round(time.Millisecond), r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.max.Round(time.Millisecond),
				r.lateMax.Round(time.Millisecond), r.coresText(r.pollerCPU), r.coresText(r.fleetCPU), r.peakGoroutines, r.peakFDs, r.udpDrops, load, verdict)
		}
		if r.pass && (sp.best == nil || n > sp.best.devices) {
			sp.best = r
		}
		return r
	}
	var found []benchutil.SizeResult
	runs, t0 := 0, time.Now()
	for b.Loop() {
		if fixed > 0 {
			for _, sp := range pollers {
				runAt(fixed, sp)
			}
			continue
		}
		// Double while anyone passes, every poller at each size in turn;
		// then bisect each poller's gap, one step each in turn, down to
		// the precision or the budget.
		found, runs = benchutil.SizeSearch{Start: lo, Max: hi, Precision: precision, Subjects: len(pollers),
			Run:  func(s, n int) bool { return runAt(n, pollers[s]).pass },
			More: func() bool { return time.Now().Before(deadline) },
		}.Do()
	}
	if fleet != nil {
		if err := fleet.Stop(); err != nil {
			b.Error(err)
		}
	}
	load1, _ := os.ReadFile("/proc/loadavg")
	scaleLogf("machine: %d cores; load average %s at the start, %s at the end; mix per device every %s: Get of %d scalars, bulk walk of 2 ifTable columns x %d rows; %d%% lossy (5%% drop, 50ms jitter); window %s after %s warm-up; p99 bound %s",
		runtime.NumCPU(), strings.TrimSpace(string(load0)), strings.TrimSpace(string(load1)), scalePeriod, len(scaleScalars), scaleRows, scaleLossyPct, win, scaleWarm, bound)
	if fixed == 0 {
		scaleLogf("search: %d runs in %s (budget %s), sizes %d to %d, bisected to %.2fx", runs, time.Since(t0).Round(time.Second), budget, lo, hi, precision)
	}
	if fixed > 0 {
		for _, sp := range pollers {
			if sp.best != nil {
				b.ReportMetric(float64(sp.best.devices), sp.name+"-devices")
			}
		}
		b.ReportMetric(0, "ns/op")
		return
	}
	var ours, base benchutil.SizeResult
	hasBase := false
	for k, sp := range pollers {
		f := found[k]
		switch sp.name {
		case "pollerlib":
			ours = f
		case "gosnmp":
			base, hasBase = f, true
		}
		if sp.best == nil {
			scaleLogf("%-13s sustained no size tried (%s)", sp.name, scaleBracket(f, hi, precision))
			b.ReportMetric(0, sp.name+"-devices")
			continue
		}
		r := sp.best
		perCore := float64(r.devices) / max(r.cores(r.pollerCPU), 0.01)
		scaleLogf("%-13s largest fleet sustained %d devices (%s); at it the poller used %.2f cores (%.0f devices per poller core), the fleet %.2f cores; %.0f devices per machine core, fleet included",
			sp.name, r.devices, scaleBracket(f, hi, precision), r.cores(r.pollerCPU), perCore, r.cores(r.fleetCPU), float64(r.devices)/float64(runtime.NumCPU()))
		b.ReportMetric(float64(r.devices), sp.name+"-devices")
		b.ReportMetric(perCore, sp.name+"-devices/poller-core")
	}
	b.ReportMetric(0, "ns/op")
	if !slices.ContainsFunc(pollers, func(sp *scalePoller) bool { return sp.name == "pollerlib" }) {
		return
	}
	b.Log(benchutil.Verdict("scale: pollerlib devices sustained", ours.Pass >= 500000, "%d devices (%s), fleet included, on this %d-core machine (target >= 500000)",
		ours.Pass, scaleBracket(ours, hi, precision), runtime.NumCPU()))
	if !hasBase {
		return
	}
	if ours.Pass == 0 || base.Pass == 0 {
		b.Log(benchutil.Verdict("scale: pollerlib vs gosnmp devices", false, "not measured: pollerlib sustained %d, gosnmp %d devices (target >= 3x)", ours.Pass, base.Pass))
		return
	}
	ratio := float64(ours.Pass) / float64(base.Pass)
	b.Log(benchutil.Verdict("scale: pollerlib vs gosnmp devices", ratio >= 3, "%d vs %d: %.2fx (target >= 3x); %s",
		ours.Pass, base.Pass, ratio, scaleRatioRange(ours, base)))
}

// scaleBracket says what bounds a poller's largest size passed: the size
// it failed at, within the precision or not, or why it has none.
func scaleBracket(f benchutil.SizeResult, hi int, precision float64) string {
	switch {
	case f.Pass == 0 && f.Fail == 0:
		return "not run: the budget ran out first"
	case f.Pass == 0:
		return fmt.Sprintf("%d failed, the first size tried", f.Fail)
	case f.Fail == 0 && f.Pass >= hi:
		return fmt.Sprintf("never failed; %d is SNMPCHAOS_SCALE_MAX", hi)
	case f.Fail == 0:
		return "never failed; the budget ran out first"
	case f.Precise(precision):
		return fmt.Sprintf("%d failed: within %.2fx", f.Fail, precision)
	default:
		return fmt.Sprintf("%d failed: %.2fx apart, the budget ran out before %.2fx", f.Fail, float64(f.Fail)/float64(max(f.Pass, 1)), precision)
	}
}

// scaleRatioRange says between what ratios the true limits' ratio lies:
// each poller's limit is at least its largest size passed and below its
// smallest size failed.
func scaleRatioRange(ours, base benchutil.SizeResult) string {
	switch {
	case ours.Fail > 0 && base.Fail > 0:
		return fmt.Sprintf("the limits' ratio lies between %.2fx (%d/%d) and %.2fx (%d/%d)",
			float64(ours.Pass)/float64(base.Fail), ours.Pass, base.Fail, float64(ours.Fail)/float64(base.Pass), ours.Fail, base.Pass)
	case base.Fail > 0:
		return fmt.Sprintf("pollerlib never failed: the limits' ratio is above %.2fx (%d/%d)", float64(ours.Pass)/float64(base.Fail), ours.Pass, base.Fail)
	case ours.Fail > 0:
		return fmt.Sprintf("gosnmp never failed: the limits' ratio is below %.2fx (%d/%d)", float64(ours.Fail)/float64(base.Pass), ours.Fail, base.Pass)
	default:
		return "neither failed: the limits' ratio is not bounded"
	}
}
