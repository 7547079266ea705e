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
