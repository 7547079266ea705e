package probe

import (
	"net"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func needLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the UDP drop probes read Linux /proc")
	}
}

// sinkSocket is a socket nobody reads, with the smallest receive buffer the
// kernel allows.
func sinkSocket(t *testing.T) (*net.UDPConn, uint64) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SetReadBuffer(1)) // rounded up to the kernel's minimum
	pr, err := ReadProc()
	require.NoError(t, err)
	want := c.LocalAddr().(*net.UDPAddr).AddrPort()
	for ino, s := range pr.UDP {
		if s.Local == want {
			return c, ino
		}
	}
	t.Fatalf("socket %s not among this process's sockets", want)
	return nil, 0
}

// flood sends to sink until the kernel has dropped datagrams on it
// (bounded: a few datagrams fill the buffer, loopback delivers at once).
func flood(t *testing.T, sink *net.UDPConn, ino uint64) UDPSocket {
	t.Helper()
	src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer src.Close()
	payload := make([]byte, 1000)
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	for range 50 {
		for range 200 {
			_, err := src.WriteToUDPAddrPort(payload, dst)
			require.NoError(t, err)
		}
		pr, err := ReadProc()
		require.NoError(t, err)
		if s := pr.UDP[ino]; s.Drops > 0 {
			return s
		}
	}
	t.Fatalf("no drops on socket %d after 10000 datagrams", ino)
	return UDPSocket{}
}

func TestDropsOnOwnSocketAndInTheNamespace(t *testing.T) {
	needLinux(t)
	sink, ino := sinkSocket(t)
	before, err := ReadUDPCounters(0)
	require.NoError(t, err)
	s := flood(t, sink, ino)
	assert.Positive(t, s.RxQueue, "the unread datagrams sit in the buffer")
	after, err := ReadUDPCounters(0)
	require.NoError(t, err)
	d := after.Sub(before)
	assert.Positive(t, d.RcvbufErrors, "the namespace counts receive-buffer errors")
	assert.GreaterOrEqual(t, d.InErrors, d.RcvbufErrors, "RcvbufErrors are part of InErrors")
}

func TestDropTrackerCountsSinceBaselineAndKeepsClosedSockets(t *testing.T) {
	needLinux(t)
	old, oldIno := sinkSocket(t)
	flood(t, old, oldIno) // drops before the baseline do not count
	tr := &DropTracker{}
	pr, err := ReadProc()
	require.NoError(t, err)
	assert.Zero(t, tr.Observe(pr.UDP), "the first reading is the baseline")

	c, ino := sinkSocket(t)
	s := flood(t, c, ino)
	pr, err = ReadProc()
	require.NoError(t, err)
	n := tr.Observe(pr.UDP)
	assert.GreaterOrEqual(t, n, s.Drops)
	worst := tr.Worst(10)
	require.NotEmpty(t, worst)
	assert.Contains(t, worst[0], "(inode "+itoa(ino)+"): ")
	for _, w := range worst {
		assert.NotContains(t, w, "(inode "+itoa(oldIno)+")", "drops from before the baseline do not count")
	}
	require.NoError(t, c.Close())
	pr, err = ReadProc()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, tr.Observe(pr.UDP), n, "a closed socket's drops stay counted")

	only := &DropTracker{Keep: func(s UDPSocket) bool { return s.Inode == oldIno }}
	only.Observe(pr.UDP)
	c3, ino3 := sinkSocket(t)
	flood(t, c3, ino3)
	pr, err = ReadProc()
	require.NoError(t, err)
	assert.Zero(t, only.Observe(pr.UDP), "Keep leaves other sockets out")
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
