package simagent

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/require"
)

// Every fault, shown on the wire: with gosnmp where a poller would see it,
// with a raw socket where gosnmp hides it (duplicates, wrong request-ids,
// cut datagrams). Decisions are seeded, so every count below is exact for
// the seed a test uses; bounds are loose only where wall time is measured.

// fakeClock is a fleet clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// getReq is a v2c Get of sysName.0 with request-id id.
func getReq(t testing.TB, id uint32) []byte {
	t.Helper()
	return marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, id, oidSysName))
}

func getReqs(t testing.TB, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = getReq(t, uint32(i+1))
	}
	return out
}

// exchange sends reqs to agent i in order and returns every datagram the
// agent sent back for them, in the order sent. Faults in force must not
// delay replies. It ends with a request in a wrong community, which the
// agent drops before drawing any fault decision: once that is counted, the
// agent (which reads one client's datagrams in order, on one goroutine)
// has finished with every request before it.
func exchange(t testing.TB, f *Fleet, i int, c *rawConn, reqs [][]byte) [][]byte {
	t.Helper()
	before := f.AgentStats(i)
	var out [][]byte
	for k, b := range reqs {
		c.send(b)
		if k%16 == 15 { // pace: stay far below both sockets' buffers
			waitFor(t, "agent to read the requests", func() bool { return f.AgentStats(i).Requests >= before.Requests+uint64(k+1) })
			for {
				b, ok := c.recv(time.Millisecond)
				if !ok {
					break
				}
				out = append(out, b)
			}
		}
	}
	c.send(marshal(t, wrongCommunityMarker(f)))
	waitFor(t, "the marker request", func() bool {
		return f.AgentStats(i).Drops[DropBadCommunity] > before.Drops[DropBadCommunity]
	})
	n := f.AgentStats(i).Responses - before.Responses
	for uint64(len(out)) < n {
		out = append(out, c.mustRecv())
	}
	c.noMore()
	return out
}

// answered maps request-ids to the number of decodable replies carrying
// them.
func answered(t testing.TB, dgrams [][]byte) map[uint32]int {
	t.Helper()
	m := map[uint32]int{}
	for _, b := range dgrams {
		m[mustDecode(t, b).RequestID]++
	}
	return m
}

// gsClient is a gosnmp client for agent i with its own timeout and retries.
func gsClient(t testing.TB, f *Fleet, i int, v gosnmp.SnmpVersion, timeout time.Duration, retries int) *gosnmp.GoSNMP {
	t.Helper()
	g := client(t, f, i, v)
	g.Timeout, g.Retries = timeout, retries
	return g
}

func intp(i int) *int { return &i }

// latencies sends n Gets to addr back to back on one socket and returns
// how long each reply took, by request order. It calls no testing.T
// method, so several may run side by side on goroutines.
func latencies(addr netip.AddrPort, n int) ([]time.Duration, error) {
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	sent := make([]time.Time, n)
	for k := range n {
		b, err := reqPacket(gosnmp.Version2c, gosnmp.GetRequest, uint32(k+1), oidSysName).MarshalMsg()
		if err != nil {
			return nil, err
		}
		sent[k] = time.Now()
		if _, err := c.Write(b); err != nil {
			return nil, err
		}
	}
	out := make([]time.Duration, n)
	buf := make([]byte, 65536)
	if err := c.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		return nil, err
	}
	for range n {
		m, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		at := time.Now()
		p, err := decodePacket(buf[:m])
		if err != nil {
			return nil, err
		}
		k := int(p.RequestID) - 1
		if k < 0 || k >= n || out[k] != 0 {
			return nil, fmt.Errorf("unexpected reply to request %d", k+1)
		}
		out[k] = at.Sub(sent[k])
	}
	return out, nil
}

// latenciesOf measures agent 0 of every fleet side by side.
func latenciesOf(t testing.TB, n int, fleets ...*Fleet) [][]time.Duration {
	t.Helper()
	out := make([][]time.Duration, len(fleets))
	errs := make([]error, len(fleets))
	var wg sync.WaitGroup
	for i, f := range fleets {
		wg.Go(func() { out[i], errs[i] = latencies(f.Addr(0), n) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return out
}

// wrongCommunityMarker is the marker request exchange sends.
func wrongCommunityMarker(f *Fleet) *gosnmp.SnmpPacket {
	m := reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 0x7ffffff0, oidSysName)
	m.Community = f.Community() + "-marker"
	return m
}
