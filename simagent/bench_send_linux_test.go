package simagent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/internal/benchutil"
	"golang.org/x/sys/unix"
)

// benchSendBase is BenchmarkSharedSend's agent addresses.
var benchSendBase = netip.AddrFrom4([4]byte{127, 29, 0, 1})

// BenchmarkSharedSend measures the kernel's cost of sending a reply from
// a shared socket, the bulk of the fleet's CPU per reply: replies from
// 1,000 agent addresses to 4 client sockets (the throughput benchmarks'
// flows), 32 per sendmmsg through the fleet's own batch code, on a
// socket with the fleet's options and on one with only SO_REUSEPORT and
// IP_PKTINFO (the kernel's defaults otherwise), in alternating trials of
// 8,000 replies. It reports the sending thread's CPU time per reply,
// which includes delivering each datagram to its client over loopback
// (done in the sender's system call) but not the client's own work: a
// figure that another process on the machine disturbs far less than a
// throughput window. Printed, no target.
func BenchmarkSharedSend(b *testing.B) {
	const agents, clients, perTrial, rounds = 1000, 4, 8000, 15
	var sinks []netip.AddrPort
	var conns []*net.UDPConn
	var wg sync.WaitGroup
	b.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
		wg.Wait()
	})
	for range clients {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(benchClient, 0)))
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		_ = c.SetReadBuffer(4 << 20)
		sinks = append(sinks, c.LocalAddr().(*net.UDPAddr).AddrPort())
		wg.Go(func() {
			buf := make([]byte, 2048)
			for {
				if _, _, err := c.ReadFromUDPAddrPort(buf); errors.Is(err, net.ErrClosed) {
					return
				}
			}
		})
	}
	fleetSock, err := listenShared(0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = fleetSock.close() })
	plainSock, err := listenPlainShared()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = plainSock.close() })
	transparent := sockoptOn(b, fleetSock, unix.IP_TRANSPARENT)

	ags := make([]*agent, agents)
	for i := range ags {
		ags[i] = &agent{addr: netip.AddrPortFrom(addAddr(benchSendBase, i), fleetSock.local.Port())}
	}
	reply := benchRequest(b, gosnmp.Version2c, gosnmp.GetResponse, benchOIDUptime) // a Get-sized datagram
	next := 0
	// trial sends perTrial replies on s; bare: without IP_PKTINFO, from
	// the address the kernel picks (127.0.0.1), as the echo servers send.
	trial := func(s *socket, bare bool) float64 {
		m, err := newSendBatch(s)
		if err != nil {
			b.Fatal(err)
		}
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		t0 := threadCPU(b)
		for range perTrial / batchSize {
			for range batchSize {
				m.queue(reply, sinks[(next/agents)%clients], ags[next%agents])
				if bare {
					h := &m.shdr[m.queued-1].Hdr
					h.Control, h.Controllen = nil, 0
				}
				next++
			}
			if err := m.flush(); err != nil {
				b.Fatal(err)
			}
		}
		return float64(threadCPU(b)-t0) / float64(time.Microsecond) / perTrial
	}
	modes := []struct {
		s    *socket
		bare bool
	}{{fleetSock, false}, {plainSock, false}, {plainSock, true}}
	for _, m := range modes { // warm up: every flow seen once
		trial(m.s, m.bare)
	}
	b.ResetTimer()
	cpu := make([][]float64, len(modes))
	var plainRatio, bareRatio []float64
	for r := range rounds * b.N {
		got := make([]float64, len(modes))
		for k := range modes { // rotating which goes first
			i := (k + r) % len(modes)
			got[i] = trial(modes[i].s, modes[i].bare)
			cpu[i] = append(cpu[i], got[i])
		}
		plainRatio, bareRatio = append(plainRatio, got[1]/got[0]), append(bareRatio, got[2]/got[0])
	}
	b.StopTimer()
	fleet, plain, bare := benchutil.Median(cpu[0]), benchutil.Median(cpu[1]), benchutil.Median(cpu[2])
	b.ReportMetric(fleet, "fleet-cpu-µs/reply")
	b.ReportMetric(plain, "plain-cpu-µs/reply")
	b.ReportMetric(bare, "bare-cpu-µs/reply")
	b.ReportMetric(benchutil.Median(plainRatio), "plain/fleet")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d replies of %d bytes per trial from %d agent addresses to %d clients, %d per sendmmsg; %d rounds of trials; IP_TRANSPARENT granted: %t",
		perTrial, len(reply), agents, clients, batchSize, len(plainRatio), transparent)
	b.Logf("sender's CPU per reply: fleet's options (IP_PMTUDISC_DO, IP_TRANSPARENT) %.2fµs; SO_REUSEPORT and IP_PKTINFO only %.2fµs (%.3fx the fleet's, median of rounds); without IP_PKTINFO, all from 127.0.0.1 as the echo servers reply, %.2fµs (%.3fx)",
		fleet, plain, benchutil.Median(plainRatio), bare, benchutil.Median(bareRatio))
}

// listenPlainShared is listenShared with only SO_REUSEPORT and IP_PKTINFO.
func listenPlainShared() (*socket, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = errors.Join(unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1),
				unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1))
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:0")
	if err != nil {
		return nil, err
	}
	c := pc.(*net.UDPConn)
	setBuffers(c)
	return &socket{conn: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort(), shared: true}, nil
}

// sockoptOn reports whether IP-level boolean option opt is set on s.
func sockoptOn(tb testing.TB, s *socket, opt int) bool {
	tb.Helper()
	rc, err := s.conn.SyscallConn()
	if err != nil {
		tb.Fatal(err)
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) { v, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, opt) }); err != nil || serr != nil {
		tb.Fatal(err, serr)
	}
	return v != 0
}

// threadCPU is the calling thread's CPU time.
func threadCPU(tb testing.TB) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ts.Nano())
}
