package simagent

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bursts larger than one recvmmsg batch, to many agents at once from one
// socket: every request is answered once, from the address it was sent
// to, with its own request-id, and the counters match what arrived. Each
// burst stays well inside a default-sized socket buffer (rmem_max may be
// 208 KiB) so that a loaded machine drops nothing.
func TestBatchedBurstAnswersEachFromItsAgent(t *testing.T) {
	const agents, bursts, burst = 50, 6, 3 * batchSize
	f := startFleet(t, Config{Agents: agents, Listen: testAddr(75), Seed: 1, Sockets: 1})
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 17, 75, 250)})
	require.NoError(t, err)
	defer c.Close()
	buf := make([]byte, 65536)
	for k := range bursts {
		want := map[uint32]netip.Addr{}
		for j := range burst {
			i := (k*burst + j) % agents
			id := uint32(1000 + k*burst + j)
			want[id] = f.Addr(i).Addr()
			_, err := c.WriteToUDPAddrPort(marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, id, ".1.3.6.1.2.1.1.3.0")), f.Addr(i))
			require.NoError(t, err)
		}
		require.NoError(t, c.SetReadDeadline(time.Now().Add(waitTimeout)))
		for got := 0; got < burst; got++ {
			n, src, err := c.ReadFromUDPAddrPort(buf)
			require.NoError(t, err, "burst %d: after %d of %d replies", k, got, burst)
			p := mustDecode(t, buf[:n])
			from, ok := want[p.RequestID]
			require.True(t, ok, "reply to unknown or repeated request-id %d", p.RequestID)
			assert.Equal(t, from, src.Addr(), "request-id %d", p.RequestID)
			delete(want, p.RequestID)
		}
	}
	st := f.Stats()
	assert.Equal(t, uint64(bursts*burst), st.Requests)
	assert.Equal(t, uint64(bursts*burst), st.Responses)
}

// More copies of one reply than a batch holds (duplicates) all go out.
func TestBatchedDuplicatesOverflowTheBatch(t *testing.T) {
	f := startFleet(t, Config{Agents: 2, Listen: testAddr(76), Seed: 1, Sockets: 1,
		Faults: Faults{Duplicate: &Duplicate{Copies: 2*batchSize + 3}}})
	c := dialAgent(t, f, 1)
	c.send(marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 77, ".1.3.6.1.2.1.1.3.0")))
	for k := range 2*batchSize + 4 {
		b, ok := c.recv(waitTimeout)
		require.True(t, ok, "copy %d", k)
		assert.Equal(t, uint32(77), mustDecode(t, b).RequestID)
	}
	assert.Equal(t, uint64(2*batchSize+4), f.Stats().Responses)
}

// A batch's receive, queue and send allocate nothing: the serving loop
// runs at 0 allocations per batch, not only per request.
func TestBatchRecvAndFlushDoNotAllocate(t *testing.T) {
	s, err := listenShared(0)
	require.NoError(t, err)
	defer s.close()
	b, err := newBatch(s)
	require.NoError(t, err)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 17, 77, 250)})
	require.NoError(t, err)
	defer c.Close()
	to := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 17, 77, 1}), s.local.Port())
	a := &agent{addr: to}
	req := []byte("request")
	buf := make([]byte, 64)
	round := func() {
		if _, err := c.WriteToUDPAddrPort(req, to); err != nil {
			t.Fatal(err)
		}
		n, err := b.recv()
		if err != nil || n != 1 {
			t.Fatalf("recv: %d, %v", n, err)
		}
		pkt, src, dst := b.msg(0)
		if string(pkt) != string(req) || dst != to.Addr() {
			t.Fatalf("got %q to %s", pkt, dst)
		}
		b.queue(pkt, src, a)
		if err := b.flush(); err != nil {
			t.Fatal(err)
		}
		if err := c.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
			t.Fatal(err)
		}
		m, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil || string(buf[:m]) != string(req) || from != to {
			t.Fatalf("reply %q from %s: %v", buf[:m], from, err)
		}
	}
	round()
	assert.Zero(t, testing.AllocsPerRun(50, round))
}
