package simagent

// Benchmarks behind `make bench`. The fleet benchmarks measure for fixed
// windows whatever b.N is (b.N only repeats the measurement), print a
// PASS/MISS line against the targets of issue 2 and report their figures
// with ReportMetric. SNMPCHAOS_BENCH_WINDOW (default 1s) sets the length of
// one measuring window. The load generator runs in a child process (the
// test binary again), so that this process's CPU time is the server's: CPU
// per reply is reported next to throughput as a cross-check less disturbed
// by other processes on the machine.

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/internal/benchutil"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// Addresses of the benchmarks: each its own 127.x block, so they collide
// with nothing else running on the machine.
var (
	benchFleetBase = netip.AddrFrom4([4]byte{127, 20, 0, 1}) // throughput: simagent
	benchEchoBase  = netip.AddrFrom4([4]byte{127, 21, 0, 1}) // throughput: echo
	benchStartBase = netip.AddrFrom4([4]byte{127, 22, 0, 1}) // start: 10,000 agents
	benchClient    = netip.AddrFrom4([4]byte{127, 23, 0, 1}) // load generator
	benchDelayBase = netip.AddrFrom4([4]byte{127, 24, 0, 1}) // delay isolation
	benchSmallBase = netip.AddrFrom4([4]byte{127, 27, 0, 1}) // start: 100 agents
	benchHotBase   = netip.AddrFrom4([4]byte{127, 28, 0, 1}) // hot path with I/O
	benchBEchoBase = netip.AddrFrom4([4]byte{127, 25, 0, 1}) // throughput: batched echo
	benchMillBase  = netip.AddrFrom4([4]byte{127, 64, 0, 1}) // start: 1,000,000 agents (to 127.79.66.64)
	benchMillPeer  = netip.AddrFrom4([4]byte{127, 80, 0, 1}) // its client
)

// Load shape shared by the throughput benchmarks: benchConns client sockets
// with benchWindow requests outstanding each.
const (
	benchAgents = 1000
	benchConns  = 4
	benchWindow = 32
	benchRounds = 5 // pairs of windows per b.N
	// benchIsolationPairs is the delay isolation's pairs of windows per
	// b.N: on this machine a window's rate and CPU per reply move by up to
	// 25% from one to the next, whatever runs in it, against an effect of
	// a few percent; 5 pairs left the median ratio 0.83-1.05x over runs.
	benchIsolationPairs = 15
)

// Targets (issue 2, "What it must show" 4; issue 16 raised the echo ratio
// from 0.6 and the delay target to both figures).
const (
	benchTargetEchoRatio  = 1.0
	benchTargetStart      = time.Second
	benchTargetRSS        = 200 << 20
	benchTargetDelayRatio = 0.95
)

// benchMeasureWindow is the length of one measuring window.
func benchMeasureWindow(tb testing.TB) time.Duration {
	tb.Helper()
	s := os.Getenv("SNMPCHAOS_BENCH_WINDOW")
	if s == "" {
		return time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		tb.Fatalf("SNMPCHAOS_BENCH_WINDOW=%q: want a positive duration like 2s", s)
	}
	return d
}

// benchStore is the data of every benchmark: if-mib:24.
func benchStore(tb testing.TB) *mib.Store {
	tb.Helper()
	s, err := mib.Open("if-mib:24")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Request OIDs: sysUpTime.0 and ifInOctets.1, both moving values.
const (
	benchOIDUptime   = ".1.3.6.1.2.1.1.3.0"
	benchOIDInOctets = ".1.3.6.1.2.1.2.2.1.10.1"
)

// benchRequest encodes a request with gosnmp, with a 4-octet request-id
// as benchutil.Load wants.
func benchRequest(tb testing.TB, v gosnmp.SnmpVersion, pdu gosnmp.PDUType, oids ...string) []byte {
	tb.Helper()
	p := &gosnmp.SnmpPacket{Version: v, Community: "public", PDUType: pdu, RequestID: 0x40000000}
	if pdu == gosnmp.GetBulkRequest {
		p.MaxRepetitions = 10
	}
	for _, o := range oids {
		p.Variables = append(p.Variables, gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null})
	}
	b, err := p.MarshalMsg()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// benchGetPackets are the throughput benchmarks' requests: v2c Gets of one OID.
func benchGetPackets(tb testing.TB) [][]byte {
	return [][]byte{
		benchRequest(tb, gosnmp.Version2c, gosnmp.GetRequest, benchOIDUptime),
		benchRequest(tb, gosnmp.Version2c, gosnmp.GetRequest, benchOIDInOctets),
	}
}

// benchAddrs lists n consecutive IPv4 addresses from base, on port.
func benchAddrs(base netip.Addr, n int, port uint16) []netip.AddrPort {
	out := make([]netip.AddrPort, n)
	for i := range out {
		out[i] = netip.AddrPortFrom(addAddr(base, i), port)
	}
	return out
}

func startBenchFleet(b *testing.B, cfg Config) *Fleet {
	b.Helper()
	f, err := Start(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	})
	return f
}

// benchRunLoad runs l for d in a child process, so that this process's CPU
// time is the server's.
func benchRunLoad(b *testing.B, l *benchutil.Load, d time.Duration) benchutil.Window {
	b.Helper()
	w, err := l.RunInChild(b.Context(), d)
	if err != nil {
		b.Fatal(err)
	}
	if w.Replies == 0 {
		b.Fatalf("no replies in %s: %+v", d, w.Result)
	}
	return w
}

// BenchmarkFleetGetThroughput measures GET responses/s of a 1,000-agent
// shared-port fleet under a closed-loop load, next to two bare Go UDP echo
// servers with as many SO_REUSEPORT sockets and goroutines under the same
// load: one with a read and a write per datagram, one batching with
// recvmmsg/sendmmsg as simagent does. The three take turns in each round
// (echo, batched echo, simagent; the order rotating between rounds).
// Targets: simagent >= 1.0x the plain echo by throughput, and at most its
// server CPU per reply.
func BenchmarkFleetGetThroughput(b *testing.B) {
	win := benchMeasureWindow(b)
	f := startBenchFleet(b, Config{Agents: benchAgents, Listen: netip.AddrPortFrom(benchFleetBase, 0), Store: benchStore(b), Seed: 1})
	echo, err := benchutil.StartEcho(f.Sockets())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = echo.Close() })
	becho, err := benchutil.StartEchoBatched(f.Sockets())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = becho.Close() })
	pkts := benchGetPackets(b)
	load := func(targets []netip.AddrPort) *benchutil.Load {
		return &benchutil.Load{Targets: targets, Packets: pkts, Conns: benchConns, Window: benchWindow, Local: benchClient}
	}
	loads := []*benchutil.Load{load(benchAddrs(benchEchoBase, benchAgents, echo.Port())),
		load(benchAddrs(benchBEchoBase, benchAgents, becho.Port())), load(f.Addrs())}
	for _, l := range loads {
		benchRunLoad(b, l, win/4) // warm up each: page in, grow buffers
	}
	before := f.Stats()

	b.ResetTimer()
	runs := make([][]benchutil.Window, len(loads)) // echo, batched echo, simagent
	var simReplies uint64
	for r := range benchRounds * b.N {
		for k := range loads {
			i := (k + r) % len(loads)
			w := benchRunLoad(b, loads[i], win)
			runs[i] = append(runs[i], w)
			if i == 2 {
				simReplies += w.Replies
			}
		}
	}
	b.StopTimer()

	st := f.Stats()
	if got := st.Responses - before.Responses; got < simReplies {
		b.Fatalf("fleet counted %d responses, the load generator %d replies", got, simReplies)
	}
	echoRuns, bechoRuns, simRuns := runs[0], runs[1], runs[2]
	c := benchutil.Compare(echoRuns, simRuns)
	cb := benchutil.Compare(bechoRuns, simRuns)
	b.ReportMetric(c.SubjBest, "simagent-req/s")
	b.ReportMetric(c.BaseBest, "echo-req/s")
	b.ReportMetric(cb.BaseBest, "becho-req/s")
	b.ReportMetric(c.Ratio, "ratio")
	b.ReportMetric(cb.Ratio, "becho-ratio")
	b.ReportMetric(c.SubjCPU, "simagent-cpu-µs/req")
	b.ReportMetric(c.BaseCPU, "echo-cpu-µs/req")
	b.ReportMetric(cb.BaseCPU, "becho-cpu-µs/req")
	b.ReportMetric(0, "ns/op")
	b.Logf("load (a child process): %d sockets x %d outstanding, v2c Get of %s or %s over %d agents; servers: %d sockets and goroutines each; %d rounds of %s windows",
		benchConns, benchWindow, benchOIDUptime, benchOIDInOctets, benchAgents, f.Sockets(), len(simRuns), win)
	b.Logf("echo req/s (server CPU per reply): %s", benchutil.FormatWindows(echoRuns))
	b.Logf("batched echo req/s (server CPU per reply): %s", benchutil.FormatWindows(bechoRuns))
	b.Logf("simagent req/s (server CPU per reply): %s", benchutil.FormatWindows(simRuns))
	b.Logf("best: simagent %.0f req/s, echo %.0f req/s (%.2fx), batched echo %.0f req/s (%.2fx)",
		c.SubjBest, c.BaseBest, c.SubjBest/c.BaseBest, cb.BaseBest, c.SubjBest/cb.BaseBest)
	b.Logf("second baseline: simagent/batched echo = %.2fx by throughput, CPU per reply %.2fµs vs %.2fµs (capacity %.2fx; medians of rounds)",
		cb.Ratio, c.SubjCPU, cb.BaseCPU, cb.CPURatio)
	b.Log(benchutil.Verdict("fleet GET throughput", c.Ratio >= benchTargetEchoRatio,
		"simagent/echo = %.2fx (median of %d rounds; target >= %.1fx)", c.Ratio, len(simRuns), benchTargetEchoRatio))
	b.Log(benchutil.Verdict("fleet GET CPU cost", c.CPURatio >= benchTargetEchoRatio,
		"simagent %.2fµs vs echo %.2fµs of server CPU per reply: capacity %.2fx of echo (median of rounds; target >= %.1fx)", c.SubjCPU, c.BaseCPU, c.CPURatio, benchTargetEchoRatio))
}

// BenchmarkFleetDelayIsolation measures the throughput of the undelayed
// agents of a 1,000-agent fleet while 1% of its agents delay every reply by
// 500ms, against the same fleet without the delay, in alternating windows.
// The delayed agents get 1% of all requests, sent open-loop so that their
// slow replies do not throttle the closed loop that measures the others.
// Target: within 5% of no delay, by throughput and by server CPU per reply.
//
// One load process runs through every window while the delay is switched
// on and off under it, and the windows count the undelayed agents' own
// replies and this process's CPU time. A load process per window, as the
// other throughput benchmarks use, sent each window's first 500ms of
// delayed replies to the closed ports of the previous window's process
// (540 port-unreachable datagrams a window), and started in the window.
func BenchmarkFleetDelayIsolation(b *testing.B) {
	win := benchMeasureWindow(b)
	f := startBenchFleet(b, Config{Agents: benchAgents, Listen: netip.AddrPortFrom(benchDelayBase, 0), Store: benchStore(b), Seed: 1})
	slow := Selector{Percent: 1}
	idx, err := f.Select(slow)
	if err != nil {
		b.Fatal(err)
	}
	isSlow := make([]bool, f.Len())
	for _, i := range idx {
		isSlow[i] = true
	}
	var fast, side []netip.AddrPort
	var fastAgents []*agent
	for i, a := range f.Addrs() {
		if isSlow[i] {
			side = append(side, a)
		} else {
			fast = append(fast, a)
			fastAgents = append(fastAgents, f.agents[i])
		}
	}
	replies := func() (n uint64) {
		for _, a := range fastAgents {
			n += a.c.responses.Load()
		}
		return n
	}
	delay := Faults{Delay: &Delay{Fixed: Duration(500 * time.Millisecond)}}
	setFaults := func(fs Faults) {
		if _, err := f.SetFaults(slow, fs); err != nil {
			b.Fatal(err)
		}
	}
	// Each window follows a settling time longer than the delay: delayed
	// replies go out as fast as they come in, or (switched off) the held
	// ones were released.
	settle := 600 * time.Millisecond
	pairs := benchIsolationPairs * b.N
	schedule := time.Duration(2*pairs) * (settle + win)
	l := &benchutil.Load{
		Targets: fast, Packets: benchGetPackets(b), Conns: benchConns, Window: benchWindow, Local: benchClient,
		Side: side, SideEvery: (benchAgents - len(side)) / len(side),
	}
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	type loadRun struct {
		w   benchutil.Window
		err error
	}
	ran := make(chan loadRun, 1)
	// The load runs the schedule plus the time its process may take to
	// start: the schedule starts once replies flow.
	const startMargin = 5 * time.Second
	go func() {
		w, err := l.RunInChild(ctx, schedule+startMargin+time.Second)
		ran <- loadRun{w, err}
	}()
	for r0, deadline := replies(), time.Now().Add(startMargin); replies() == r0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			cancel()
			b.Fatalf("the load sent nothing in %s: %v", startMargin, (<-ran).err)
		}
	}

	b.ResetTimer()
	var plain, delayed []benchutil.Window
	var pendingSeen int
	var held uint64
	measure := func(fs Faults) benchutil.Window {
		setFaults(fs)
		time.Sleep(settle)
		cpu0, err := benchutil.CPUTime()
		if err != nil {
			b.Fatal(err)
		}
		t0, n0, d0 := time.Now(), replies(), f.Stats().Delayed
		time.Sleep(win)
		cpu1, err := benchutil.CPUTime()
		if err != nil {
			b.Fatal(err)
		}
		w := benchutil.Window{Result: benchutil.Result{Elapsed: time.Since(t0), Replies: replies() - n0}, ServerCPU: cpu1 - cpu0}
		if fs.Delay != nil {
			pendingSeen = max(pendingSeen, f.Pending())
			held += f.Stats().Delayed - d0
		}
		return w
	}
	for r := range pairs {
		if r%2 == 0 { // ABBA: neither goes first every time
			plain = append(plain, measure(Faults{}))
			delayed = append(delayed, measure(delay))
		} else {
			delayed = append(delayed, measure(delay))
			plain = append(plain, measure(Faults{}))
		}
	}
	b.StopTimer()
	setFaults(Faults{})
	lr := <-ran
	if lr.err != nil {
		b.Fatal(lr.err)
	}
	if held == 0 {
		b.Fatal("the delay fault held no replies")
	}
	c := benchutil.Compare(plain, delayed)
	b.ReportMetric(c.BaseBest, "nodelay-req/s")
	b.ReportMetric(c.SubjBest, "delay-req/s")
	b.ReportMetric(c.Ratio, "ratio")
	b.ReportMetric(c.BaseCPU, "nodelay-cpu-µs/req")
	b.ReportMetric(c.SubjCPU, "delay-cpu-µs/req")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d of %d agents delay every reply 500ms and get 1 request in %d, open-loop; %d replies delayed in the windows, up to %d pending when a window ended",
		len(side), f.Len(), l.SideEvery+1, held, pendingSeen)
	b.Logf("the load, through all windows: %d replies, %d resent, %d side requests, %d side replies", lr.w.Replies, lr.w.Resent, lr.w.SideSent, lr.w.SideReplies)
	b.Logf("no delay req/s (server CPU per reply): %s", benchutil.FormatWindows(plain))
	b.Logf("with delay req/s (server CPU per reply): %s", benchutil.FormatWindows(delayed))
	b.Logf("best: %.0f req/s with the delay, %.0f req/s without (%.3fx)", c.SubjBest, c.BaseBest, c.SubjBest/c.BaseBest)
	b.Log(benchutil.Verdict("undelayed agents' throughput with 1% of agents delayed 500ms", c.Ratio >= benchTargetDelayRatio,
		"with/without delay = %.3fx (median of %d pairs of windows; target >= %.2fx)", c.Ratio, len(plain), benchTargetDelayRatio))
	b.Log(benchutil.Verdict("delay isolation CPU cost (cross-check)", c.CPURatio >= benchTargetDelayRatio,
		"server CPU per reply %.2fµs with the delay vs %.2fµs without: capacity %.3fx (median of pairs; target >= %.2fx)", c.SubjCPU, c.BaseCPU, c.CPURatio, benchTargetDelayRatio))
}

// benchStartRole is the child-process role of BenchmarkFleetStart10k and
// BenchmarkFleetStart1M; its input is a benchStartInput.
const benchStartRole = "simagent-start"

// benchStartInput tells the start child what to start.
type benchStartInput struct {
	Agents       int
	Base, Client netip.Addr
}

func init() {
	benchutil.HandleLoadChild()
	if benchutil.ChildRole() == benchStartRole {
		// A fresh process (before testing and TestMain's goleak start) so
		// that its RSS is the fleet's and nothing else's.
		var in benchStartInput
		r := benchStartResult{}
		if err := benchutil.ReadInput(&in); err != nil {
			r.Error = err.Error()
		} else {
			r = benchStartChild(in)
		}
		if err := benchutil.WriteResult(r); err != nil || r.Error != "" {
			fmt.Fprintln(os.Stderr, r.Error, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// benchStartResult is what the start child measured.
type benchStartResult struct {
	Agents     int
	OIDs       int
	Sockets    int // the fleet's sockets
	StoreBuild time.Duration
	Start      time.Duration // simagent.Start call to return (ready)
	Answered   time.Duration // Start call to replies from the first and last agent
	// Process samples: at first, after building the store, with the fleet
	// running, after Close.
	Initial, Stored, Running, Closed benchutil.Proc
	// A 100-agent fleet for comparison: sockets and goroutines it adds.
	SmallAgents, SmallSockets, SmallGoroutines int
	Error                                      string
}

func benchStartChild(in benchStartInput) (r benchStartResult) {
	agents := in.Agents
	fail := func(err error) benchStartResult { r.Error = err.Error(); return r }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if r.Initial, err = benchutil.Sample(true); err != nil {
		return fail(err)
	}
	t0 := time.Now()
	st, err := mib.Open("if-mib:24")
	if err != nil {
		return fail(err)
	}
	r.StoreBuild, r.OIDs = time.Since(t0), st.Len()
	if r.Stored, err = benchutil.Sample(true); err != nil {
		return fail(err)
	}

	t0 = time.Now()
	f, err := Start(ctx, Config{Agents: agents, Listen: netip.AddrPortFrom(in.Base, 0), Store: st})
	if err != nil {
		return fail(err)
	}
	r.Start = time.Since(t0)
	if err := benchAskAll(f, in.Client, 0, agents-1); err != nil {
		_ = f.Close()
		return fail(err)
	}
	r.Answered = time.Since(t0)
	r.Agents, r.Sockets = f.Len(), f.Sockets()
	if r.Running, err = benchutil.Sample(true); err != nil {
		_ = f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if r.Closed, err = benchutil.Sample(true); err != nil {
		return fail(err)
	}

	small, err := Start(ctx, Config{Agents: 100, Listen: netip.AddrPortFrom(benchSmallBase, 0), Store: st})
	if err != nil {
		return fail(err)
	}
	p, err := benchutil.Sample(false)
	_ = small.Close()
	if err != nil {
		return fail(err)
	}
	r.SmallAgents, r.SmallSockets, r.SmallGoroutines = small.Len(), p.Sockets-r.Closed.Sockets, p.Goroutines-r.Closed.Goroutines
	return r
}

// benchAskAll sends a v2c Get to each of the agents and waits for every reply.
func benchAskAll(f *Fleet, client netip.Addr, agents ...int) error {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(client, 0)))
	if err != nil {
		return err
	}
	defer c.Close()
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: f.Community(), PDUType: gosnmp.GetRequest, RequestID: 1,
		Variables: []gosnmp.SnmpPDU{{Name: benchOIDUptime, Type: gosnmp.Null}}}
	pkt, err := p.MarshalMsg()
	if err != nil {
		return err
	}
	want := map[netip.Addr]bool{}
	for _, i := range agents {
		want[f.Addr(i).Addr()] = true
		if _, err := c.WriteToUDPAddrPort(pkt, f.Addr(i)); err != nil {
			return err
		}
	}
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	buf := make([]byte, 2048)
	for len(want) > 0 {
		_, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return fmt.Errorf("waiting for agents %v: %w", want, err)
		}
		delete(want, src.Addr())
	}
	return nil
}

// runStartChildren starts the fleet in to describes in b.N fresh child
// processes and returns the run with the median start time, carrying the
// largest running and peak RSS of all runs, and how many runs there were.
func runStartChildren(b *testing.B, in benchStartInput) (benchStartResult, int) {
	var runs []benchStartResult
	for range b.N {
		var r benchStartResult
		if err := benchutil.RunChild(b.Context(), benchStartRole, in, &r, "-test.run=^$", "-test.bench=^$"); err != nil {
			b.Fatal(err)
		}
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(x, y benchStartResult) int { return cmp.Compare(x.Start, y.Start) })
	r := runs[len(runs)/2]
	for _, o := range runs {
		r.Running.RSS = max(r.Running.RSS, o.Running.RSS)
		r.Running.PeakRSS = max(r.Running.PeakRSS, o.Running.PeakRSS)
	}
	return r, len(runs)
}

// BenchmarkFleetStart10k measures, in a fresh child process, the start time
// and RSS of 10,000 agents serving if-mib:24, and shows that sockets and
// goroutines do not grow with the number of agents. Targets: ready in
// under 1s, under 200 MB.
func BenchmarkFleetStart10k(b *testing.B) {
	r, runs := runStartChildren(b, benchStartInput{Agents: 10000, Base: benchStartBase, Client: benchClient})
	growth := r.Running.RSS - r.Initial.RSS
	fleetGrowth := r.Running.RSS - r.Stored.RSS
	socks, gors := r.Running.Sockets-r.Stored.Sockets, r.Running.Goroutines-r.Stored.Goroutines
	o1 := socks == r.Sockets && socks <= 16 && socks == r.SmallSockets && gors == r.SmallGoroutines && gors <= r.Sockets+2
	released := r.Closed.Sockets == r.Stored.Sockets && r.Closed.Goroutines == r.Stored.Goroutines

	b.ReportMetric(float64(r.Start)/float64(time.Millisecond), "start-ms")
	b.ReportMetric(benchutil.MB(growth), "rss-growth-MB")
	b.ReportMetric(benchutil.MB(r.Running.PeakRSS), "peak-rss-MB")
	b.ReportMetric(float64(socks), "sockets")
	b.ReportMetric(float64(gors), "goroutines")
	b.ReportMetric(0, "ns/op")
	b.Logf("if-mib:24: %d OIDs built in %s (+%.1f MB); %d agents: Start %s, first and last agent answered %s after Start was called",
		r.OIDs, r.StoreBuild.Round(time.Microsecond), benchutil.MB(r.Stored.RSS-r.Initial.RSS), r.Agents, r.Start.Round(time.Microsecond), r.Answered.Round(time.Microsecond))
	b.Logf("RSS: %.1f MB at first, %.1f MB running (+%.1f MB for the fleet, +%.1f MB with the store), peak %.1f MB",
		benchutil.MB(r.Initial.RSS), benchutil.MB(r.Running.RSS), benchutil.MB(fleetGrowth), benchutil.MB(growth), benchutil.MB(r.Running.PeakRSS))
	b.Logf("sockets +%d and goroutines +%d for %d agents; +%d and +%d for %d agents; after Close: sockets %+d, goroutines %+d",
		socks, gors, r.Agents, r.SmallSockets, r.SmallGoroutines, r.SmallAgents, r.Closed.Sockets-r.Stored.Sockets, r.Closed.Goroutines-r.Stored.Goroutines)
	b.Log(benchutil.Verdict("10k agents start time", r.Start < benchTargetStart,
		"%s to ready (median of %d; target < %s)", r.Start.Round(time.Microsecond), runs, benchTargetStart))
	b.Log(benchutil.Verdict("10k agents RSS", r.Running.PeakRSS < benchTargetRSS,
		"peak %.1f MB for the whole process, +%.1f MB growth (target < %d MB)", benchutil.MB(r.Running.PeakRSS), benchutil.MB(growth), benchTargetRSS>>20))
	b.Log(benchutil.Verdict("10k agents sockets and goroutines O(1)", o1 && released,
		"+%d sockets, +%d goroutines, the same as for %d agents; all released on Close: %t", socks, gors, r.SmallAgents, released))
}

// Targets of BenchmarkFleetStart1M (issue 16).
const (
	benchTargetStart1M = 5 * time.Second
	benchTargetRSS1M   = 500 << 20
)

// BenchmarkFleetStart1M starts 1,000,000 agents serving if-mib:24 in a
// fresh child process (as BenchmarkFleetStart10k does 10,000), and prints
// the time to ready and the peak RSS of the whole process. Targets: under
// 5 s and under 500 MB.
func BenchmarkFleetStart1M(b *testing.B) {
	r, runs := runStartChildren(b, benchStartInput{Agents: 1_000_000, Base: benchMillBase, Client: benchMillPeer})
	b.ReportMetric(float64(r.Start)/float64(time.Millisecond), "start-ms")
	b.ReportMetric(benchutil.MB(r.Running.PeakRSS), "peak-rss-MB")
	b.ReportMetric(0, "ns/op")
	b.Logf("if-mib:24: %d OIDs built in %s; %d agents on %d sockets: Start %s, first and last agent answered %s after Start was called; RSS %.1f MB at first, %.1f MB running, peak %.1f MB",
		r.OIDs, r.StoreBuild.Round(time.Microsecond), r.Agents, r.Sockets, r.Start.Round(time.Millisecond), r.Answered.Round(time.Millisecond),
		benchutil.MB(r.Initial.RSS), benchutil.MB(r.Running.RSS), benchutil.MB(r.Running.PeakRSS))
	b.Log(benchutil.Verdict("1M agents start time", r.Start < benchTargetStart1M,
		"%s to ready (median of %d; target < %s)", r.Start.Round(time.Millisecond), runs, benchTargetStart1M))
	b.Log(benchutil.Verdict("1M agents RSS", r.Running.PeakRSS < benchTargetRSS1M,
		"peak %.1f MB for the whole process (target < %d MB)", benchutil.MB(r.Running.PeakRSS), benchTargetRSS1M>>20))
}

// benchHotPath is an agent's work for one packet without the socket: decode,
// fault decision and response, as Fleet.handle does them.
type benchHotPath struct {
	store *mib.Store
	fs    *faultState
	req   request
	resp  responder
	lc    lookupCtx
}

func newBenchHotPath(tb testing.TB, st *mib.Store) *benchHotPath {
	tb.Helper()
	p, err := compile(&Faults{})
	if err != nil {
		tb.Fatal(err)
	}
	return &benchHotPath{store: st, fs: newFaultState(p, time.Unix(0, 0), 1, 0, 0)}
}

func (h *benchHotPath) answer(pkt []byte, now time.Time) []byte {
	if err := h.req.decode(pkt); err != nil {
		return nil
	}
	d := h.fs.decide(now)
	h.lc = lookupCtx{store: h.store, plan: h.fs.plan, v1: h.req.version == 0, age: 42 * time.Second, seed: 7}
	out, _ := h.resp.respond(&h.lc, &h.req, &d, maxUDPPayload, 0)
	return out
}

// BenchmarkHotPath measures decoding a request and building its response,
// per request type, with allocations (a plain Get must not allocate), and
// gosnmp doing the same for comparison.
func BenchmarkHotPath(b *testing.B) {
	st := benchStore(b)
	many := make([]string, 10)
	for i := range many {
		many[i] = fmt.Sprintf(".1.3.6.1.2.1.2.2.1.10.%d", i+1)
	}
	for _, tc := range []struct {
		name      string
		pkt       []byte
		zeroAlloc bool
	}{
		{"get-v2c-sysUpTime", benchRequest(b, gosnmp.Version2c, gosnmp.GetRequest, benchOIDUptime), true},
		{"get-v2c-ifInOctets", benchRequest(b, gosnmp.Version2c, gosnmp.GetRequest, benchOIDInOctets), true},
		{"get-v1-ifInOctets", benchRequest(b, gosnmp.Version1, gosnmp.GetRequest, benchOIDInOctets), true},
		{"get-v2c-10-oids", benchRequest(b, gosnmp.Version2c, gosnmp.GetRequest, many...), true},
		{"getnext-v2c", benchRequest(b, gosnmp.Version2c, gosnmp.GetNextRequest, benchOIDInOctets), true},
		{"getbulk-v2c-10", benchRequest(b, gosnmp.Version2c, gosnmp.GetBulkRequest, benchOIDInOctets), true},
		{"get-v2c-missing", benchRequest(b, gosnmp.Version2c, gosnmp.GetRequest, ".1.3.6.1.2.1.2.2.1.10.99"), true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := newBenchHotPath(b, st)
			now := time.Now()
			if out := h.answer(tc.pkt, now); len(out) == 0 {
				b.Fatal("no response")
			}
			allocs := testing.AllocsPerRun(100, func() { h.answer(tc.pkt, now) })
			b.ReportAllocs()
			for b.Loop() {
				h.answer(tc.pkt, now)
			}
			if tc.zeroAlloc {
				b.Log(benchutil.Verdict("hot path "+tc.name, allocs == 0, "%.0f allocs per request (target 0)", allocs))
			}
		})
	}
	b.Run("gosnmp-get-v2c", func(b *testing.B) {
		// gosnmp decoding the request and encoding a response: the codec
		// simagent does not use on its hot path.
		pkt := benchRequest(b, gosnmp.Version2c, gosnmp.GetRequest, benchOIDUptime)
		g := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
		buf := make([]byte, len(pkt))
		b.ReportAllocs()
		for b.Loop() {
			copy(buf, pkt)
			req, err := g.SnmpDecodePacket(buf)
			if err != nil {
				b.Fatal(err)
			}
			resp := &gosnmp.SnmpPacket{Version: req.Version, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID,
				Variables: []gosnmp.SnmpPDU{{Name: req.Variables[0].Name, Type: gosnmp.TimeTicks, Value: uint32(4200)}}}
			if _, err := resp.MarshalMsg(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("handle-with-send", func(b *testing.B) {
		// Fleet.handle as the serving goroutine runs it, sending the reply
		// (from the agent's address, with IP_PKTINFO) to a socket nobody
		// reads: one sendmsg per request, the read left out.
		f := startBenchFleet(b, Config{Agents: 2, Listen: netip.AddrPortFrom(benchHotBase, 0), Store: st})
		sink, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(benchClient, 0)))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = sink.Close() })
		dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
		pkt := benchRequest(b, gosnmp.Version2c, gosnmp.GetRequest, benchOIDUptime)
		w := newWorker()
		s, a := f.socks[0], f.agents[1]
		f.handle(w, s, a, pkt, dst)
		b.ReportAllocs()
		for b.Loop() {
			f.handle(w, s, a, pkt, dst)
		}
		if a.c.responses.Load() == 0 {
			b.Fatal("no response sent")
		}
	})
}
