package udpprobe

import (
	"net"
	"net/netip"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func reader(t *testing.T) *Reader {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("udpprobe reads Linux /proc")
	}
	r, err := New(0)
	require.NoError(t, err)
	return r
}

// flood fills a socket that nobody reads, with the smallest receive buffer
// the kernel allows, until the kernel has dropped datagrams on it.
func flood(t *testing.T, r *Reader, sink *net.UDPConn) Socket {
	t.Helper()
	src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer src.Close()
	payload := make([]byte, 1000)
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	ino := inodeOf(t, sink)
	// Bounded: the buffer holds a few datagrams, so a few hundred sends
	// overflow it; loopback delivery is synchronous with the send.
	for round := 0; round < 50; round++ {
		for range 200 {
			_, err := src.WriteToUDPAddrPort(payload, dst)
			require.NoError(t, err)
		}
		rd, err := r.Read(nil)
		require.NoError(t, err)
		for _, s := range rd.Sockets {
			if s.Inode == ino && s.Drops > 0 {
				return s
			}
		}
	}
	t.Fatalf("no drops on socket %d after 10000 datagrams", ino)
	return Socket{}
}

func inodeOf(t *testing.T, c *net.UDPConn) uint64 {
	t.Helper()
	r := reader(t)
	before, err := r.Read(nil)
	require.NoError(t, err)
	want := c.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, s := range before.Sockets {
		if s.Local == want {
			return s.Inode
		}
	}
	t.Fatalf("socket %s not among this process's sockets %v", want, before.Sockets)
	return 0
}

func sink(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	require.NoError(t, c.SetReadBuffer(1)) // the kernel rounds up to its minimum
	return c
}

func TestReadCountsDropsOnOwnSockets(t *testing.T) {
	r := reader(t)
	c := sink(t)
	defer c.Close()
	base, err := r.Read(nil)
	require.NoError(t, err)
	s := flood(t, r, c)
	assert.Equal(t, netip.MustParseAddr("127.0.0.1"), s.Local.Addr())
	assert.Positive(t, s.RxQueue, "the unread datagrams sit in the buffer")
	after, err := r.Read(nil)
	require.NoError(t, err)
	k := after.Kernel().Sub(base.Kernel())
	assert.GreaterOrEqual(t, k.RcvbufErrors, uint64(1), "the namespace counts receive-buffer errors")
	assert.GreaterOrEqual(t, k.InErrors, k.RcvbufErrors, "RcvbufErrors are part of InErrors")
	assert.Contains(t, s.String(), "drops")
}

func TestReadMatchesOnlyGivenInodes(t *testing.T) {
	r := reader(t)
	c := sink(t)
	defer c.Close()
	rd, err := r.Read(map[uint64]bool{})
	require.NoError(t, err)
	assert.Empty(t, rd.Sockets, "no inode given, no socket")
	rd, err = r.Read(map[uint64]bool{inodeOf(t, c): true})
	require.NoError(t, err)
	require.Len(t, rd.Sockets, 1)
}

func TestTrackerKeepsDropsOfClosedSockets(t *testing.T) {
	r := reader(t)
	old := sink(t)
	defer old.Close()
	oldIno := inodeOf(t, old)
	flood(t, r, old) // drops before the baseline do not count
	tr := &Tracker{}
	first, err := r.Read(nil)
	require.NoError(t, err)
	assert.Zero(t, tr.Observe(first).Sockets, "the first reading is the baseline")

	c := sink(t)
	s := flood(t, r, c)
	rd, err := r.Read(nil)
	require.NoError(t, err)
	d := tr.Observe(rd)
	assert.GreaterOrEqual(t, d.Sockets, s.Drops)
	require.NotEmpty(t, d.Worst)
	for _, w := range d.Worst {
		assert.NotEqual(t, oldIno, w.Inode, "drops from before the baseline do not count")
	}
	seen := d.Sockets
	require.NoError(t, c.Close())
	rd, err = r.Read(nil)
	require.NoError(t, err)
	d = tr.Observe(rd)
	assert.GreaterOrEqual(t, d.Sockets, seen, "a closed socket's drops stay counted")

	kept := &Tracker{Keep: func(s Socket) bool { return s.Inode == oldIno }}
	kept.Observe(first)
	assert.Zero(t, kept.Observe(rd).Sockets, "Keep leaves other sockets out")
}

func TestCountersArithmetic(t *testing.T) {
	a := Counters{InErrors: 5, RcvbufErrors: 3, InDatagrams: 10}
	b := Counters{InErrors: 2, RcvbufErrors: 4, InDatagrams: 1}
	assert.Equal(t, Counters{InErrors: 3, RcvbufErrors: 0, InDatagrams: 9}, a.Sub(b))
	assert.Equal(t, Counters{InErrors: 7, RcvbufErrors: 7, InDatagrams: 11}, a.Add(b))
}
