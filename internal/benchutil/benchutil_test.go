package benchutil

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const selfTestRole = "benchutil-selftest"

func init() {
	HandleLoadChild()
	if ChildRole() == selfTestRole {
		p, err := Sample(true)
		if err == nil {
			err = WriteResult(p)
		}
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// getPacket is a v2c Get of sysUpTime.0 as gosnmp encodes it.
func getPacket(t *testing.T) []byte {
	t.Helper()
	p := &gosnmp.SnmpPacket{
		Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetRequest,
		RequestID: 0x40000000,
		Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.Null}},
	}
	b, err := p.MarshalMsg()
	require.NoError(t, err)
	return b
}

func TestRequestIDAt(t *testing.T) {
	pkt := getPacket(t)
	off, ok := requestIDAt(pkt)
	require.True(t, ok)
	assert.Equal(t, []byte{0x40, 0, 0, 0}, pkt[off:off+4])

	for _, tc := range []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"truncated", pkt[:len(pkt)-1]},
		{"short id", func() []byte {
			p := &gosnmp.SnmpPacket{Version: gosnmp.Version1, Community: "c", PDUType: gosnmp.GetRequest, RequestID: 7}
			b, err := p.MarshalMsg()
			require.NoError(t, err)
			return b
		}()},
		{"long length of length", []byte{0x30, 0x84, 0, 0, 0, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := requestIDAt(tc.pkt)
			assert.False(t, ok)
		})
	}
}

func TestSampleSeesSockets(t *testing.T) {
	before, err := Sample(true)
	require.NoError(t, err)
	assert.Positive(t, before.RSS)
	assert.GreaterOrEqual(t, before.PeakRSS, before.RSS)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	during, err := Sample(false)
	require.NoError(t, c.Close())
	require.NoError(t, err)
	assert.Equal(t, before.Sockets+1, during.Sockets)
	assert.Equal(t, before.FDs+1, during.FDs)
}

func TestLoadAgainstEcho(t *testing.T) {
	e, err := StartEcho(2)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	var targets, side []netip.AddrPort
	for i := range 8 {
		targets = append(targets, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 29, 0, byte(1 + i)}), e.Port()))
	}
	side = append(side, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 29, 1, 1}), e.Port()))
	l := Load{
		Targets: targets, Packets: [][]byte{getPacket(t)}, Conns: 2, Window: 4,
		Local: netip.AddrFrom4([4]byte{127, 29, 2, 1}), Side: side, SideEvery: 3,
	}
	res, err := l.Run(t.Context(), 300*time.Millisecond)
	require.NoError(t, err)
	t.Logf("%+v, %.0f/s", res, res.Rate())
	assert.Positive(t, res.Replies)
	assert.Positive(t, res.SideSent)
	assert.Positive(t, res.SideReplies, "side replies are collected from their own sockets")
	assert.LessOrEqual(t, res.SideReplies, res.SideSent)
	assert.Positive(t, res.Rate())
}

func TestLoadInChild(t *testing.T) {
	e, err := StartEcho(1)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	l := Load{
		Targets: []netip.AddrPort{netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 29, 4, 1}), e.Port())},
		Packets: [][]byte{getPacket(t)}, Conns: 1, Window: 4, Local: netip.AddrFrom4([4]byte{127, 29, 4, 2}),
	}
	w, err := l.RunInChild(t.Context(), 200*time.Millisecond)
	require.NoError(t, err)
	assert.Positive(t, w.Replies)
	assert.Positive(t, w.ServerCPU, "the echo server's CPU time")
	assert.Positive(t, w.CPUPerReply())
}

func TestLoadRejectsBadConfig(t *testing.T) {
	pkt := getPacket(t)
	target := []netip.AddrPort{netip.MustParseAddrPort("127.29.0.1:9")}
	for _, tc := range []struct {
		name string
		l    Load
	}{
		{"no targets", Load{Packets: [][]byte{pkt}}},
		{"no packets", Load{Targets: target}},
		{"window too big", Load{Targets: target, Packets: [][]byte{pkt}, Window: 5000}},
		{"side without rate", Load{Targets: target, Packets: [][]byte{pkt}, Side: target}},
		{"bad packet", Load{Targets: target, Packets: [][]byte{{0x30, 0}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.l.Run(t.Context(), time.Millisecond)
			assert.Error(t, err)
		})
	}
}

func TestLoadResendsUnanswered(t *testing.T) {
	// A socket that reads nothing: every request times out and is resent.
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 29, 3, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sink.Close() })
	l := Load{
		Targets: []netip.AddrPort{sink.LocalAddr().(*net.UDPAddr).AddrPort()},
		Packets: [][]byte{getPacket(t)}, Conns: 1, Window: 2,
		Local: netip.AddrFrom4([4]byte{127, 29, 3, 2}), Timeout: 20 * time.Millisecond,
	}
	res, err := l.Run(t.Context(), 200*time.Millisecond)
	require.NoError(t, err)
	assert.Zero(t, res.Replies)
	assert.Positive(t, res.Resent)
}

func TestRunChild(t *testing.T) {
	var p Proc
	require.NoError(t, RunChild(t.Context(), selfTestRole, nil, &p, "-test.run=^$"))
	assert.Positive(t, p.RSS)
	assert.Positive(t, p.Goroutines)
}

func TestCompare(t *testing.T) {
	win := func(replies uint64, cpu time.Duration) Window {
		return Window{Result: Result{Elapsed: time.Second, Replies: replies}, ServerCPU: cpu}
	}
	base := []Window{win(100, 100*time.Microsecond), win(50, 50*time.Microsecond), win(200, 200*time.Microsecond)}
	subj := []Window{win(80, 160*time.Microsecond), win(60, 120*time.Microsecond), win(100, 200*time.Microsecond)}
	c := Compare(base, subj)
	assert.Equal(t, 3, c.Pairs)
	assert.InDelta(t, 200, c.BaseBest, 1e-9)
	assert.InDelta(t, 100, c.SubjBest, 1e-9)
	assert.InDelta(t, 0.8, c.Ratio, 1e-9, "median of 0.8, 1.2 and 0.5")
	assert.InDelta(t, 1, c.BaseCPU, 1e-9)
	assert.InDelta(t, 2, c.SubjCPU, 1e-9)
	assert.InDelta(t, 0.5, c.CPURatio, 1e-9)
	assert.Equal(t, "100 (1.00µs), 50 (1.00µs), 200 (1.00µs)", FormatWindows(base))
	assert.Zero(t, Compare(nil, nil).Ratio)

	// A window that measured nothing: its pair counts 0 rather than
	// +Inf (a subject with no replies used to pass on CPU, base/0).
	dead := []Window{win(0, 0), win(100, 100*time.Microsecond), win(0, 0)}
	c = Compare(base, dead)
	assert.InDelta(t, 0, c.Ratio, 1e-9, "median of 0, 2 and 0")
	assert.InDelta(t, 0, c.CPURatio, 1e-9)
	c = Compare(dead, subj)
	assert.InDelta(t, 0, c.Ratio, 1e-9, "median of 0, 1.2 and 0")
	assert.InDelta(t, 0, c.CPURatio, 1e-9)
	noCPU := []Window{win(80, 0), win(60, 0), win(100, 0)}
	c = Compare(base, noCPU)
	assert.InDelta(t, 0.8, c.Ratio, 1e-9)
	assert.InDelta(t, 0, c.CPURatio, 1e-9, "no CPU time read: not a pass")
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		want float64
	}{
		{"none", nil, 0},
		{"one", []float64{3}, 3},
		{"odd", []float64{5, 1, 3}, 3},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.InDelta(t, tc.want, Median(tc.xs), 1e-9) })
	}
}

func TestVerdict(t *testing.T) {
	assert.Equal(t, "PASS  x: 1 (target 2)", Verdict("x", true, "%d (target %d)", 1, 2))
	assert.Equal(t, "MISS  y: z", Verdict("y", false, "z"))
}

func TestMidpoint(t *testing.T) {
	for _, tc := range []struct {
		name             string
		pass, fail, want int
		precision        float64
	}{
		{"rounded to 10,000", 640000, 1000000, 820000, 1.05},
		{"half rounds up", 640000, 730000, 690000, 1.05},
		{"within precision", 640000, 670000, 0, 1.05},
		{"rounded to 1,000", 220000, 240000, 230000, 1.05},
		{"rounded to 1,000 off the middle", 200000, 217000, 209000, 1.05},
		{"rounded to 100", 10000, 20000, 15000, 1.05},
		{"rounded to 10 at 1.01", 17500, 18430, 17970, 1.01},
		{"unrounded when the step is too coarse", 100, 200, 150, 1.05},
		{"no size between", 2, 3, 0, 1.05},
		{"nothing passed", 0, 5000, 0, 1.05},
		{"coarser precision", 640000, 730000, 0, 1.15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Midpoint(tc.pass, tc.fail, tc.precision)
			assert.Equal(t, tc.want, got)
			if got != 0 {
				assert.Greater(t, got, tc.pass)
				assert.Less(t, got, tc.fail)
			}
		})
	}
}

func TestSizeSearch(t *testing.T) {
	// Three subjects that pass up to a size each, as the scale benchmark's
	// pollers did on the quiet machine; the third never fails below Max.
	limits := []int{703000, 231000, 2_000_000}
	var sizes [][]int
	q := SizeSearch{Start: 5000, Max: 1_000_000, Precision: 1.05, Subjects: len(limits),
		More: func() bool { return true },
		Run: func(s, n int) bool {
			sizes = append(sizes, []int{s, n})
			return n <= limits[s]
		}}
	res, runs := q.Do()
	require.Len(t, res, 3)
	assert.Equal(t, len(sizes), runs)
	for s, lim := range limits[:2] {
		r := res[s]
		assert.LessOrEqual(t, r.Pass, lim)
		assert.Greater(t, r.Fail, lim)
		assert.LessOrEqual(t, float64(r.Fail)/float64(r.Pass), 1.05, "subject %d: %+v", s, r)
		assert.True(t, r.Precise(1.05))
	}
	assert.Equal(t, SizeResult{Pass: 1_000_000}, res[2], "passed at Max, never failed")
	assert.False(t, res[2].Precise(1.05))
	assert.Equal(t, SizeResult{Pass: 690000, Fail: 710000}, res[0])
	assert.Equal(t, SizeResult{Pass: 230000, Fail: 240000}, res[1])
	// Doubling 5,000 to 1,000,000 (9 sizes) for subjects 0 and 2, to
	// 320,000 for subject 1 (7), then 4 bisections of [640,000,
	// 1,000,000] (820,000, 730,000, 690,000, 710,000) and 4 of [160,000,
	// 320,000] (240,000, 200,000, 220,000, 230,000), each rounded to
	// 10,000.
	assert.Equal(t, 9+7+9+4+4, runs, "%v", sizes)
	for _, sn := range sizes[25:] {
		assert.Zero(t, sn[1]%10000, "size %d not rounded", sn[1])
	}
	// The doubling ran every subject at each size before the next size.
	assert.Equal(t, [][]int{{0, 5000}, {1, 5000}, {2, 5000}, {0, 10000}}, sizes[:4])
}

func TestSizeSearchStopsWhenOutOfTime(t *testing.T) {
	runs := 0
	q := SizeSearch{Start: 1000, Max: 1 << 20, Precision: 1.01, Subjects: 2,
		More: func() bool { return runs < 7 },
		Run:  func(s, n int) bool { runs++; return n <= 3000+s*10000 }}
	res, n := q.Do()
	assert.Equal(t, 7, n)
	assert.Equal(t, 7, runs)
	// 1000, 2000, 4000 for both (subject 0 fails at 4000), then 8000 for
	// subject 1: 7 runs, no bisection.
	assert.Equal(t, []SizeResult{{Pass: 2000, Fail: 4000}, {Pass: 8000}}, res)
	assert.False(t, res[0].Precise(1.01))
}

func TestSizeSearchFailingAtStart(t *testing.T) {
	q := SizeSearch{Start: 5000, Max: 1_000_000, Precision: 1.05, Subjects: 1,
		More: func() bool { return true }, Run: func(int, int) bool { return false }}
	res, runs := q.Do()
	assert.Equal(t, 1, runs)
	assert.Equal(t, []SizeResult{{Fail: 5000}}, res)
}
