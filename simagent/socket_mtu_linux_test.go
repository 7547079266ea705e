package simagent

import (
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// inSmallMTUNetns runs fn on a thread in a new network namespace whose
// loopback has an MTU of mtu, so that sockets fn makes send there. The
// thread is never unlocked (it ends with its goroutine); the namespace
// goes when fn's sockets are closed. It skips the test where namespaces
// cannot be made (not root), and fails instead under CI=true.
func inSmallMTUNetns(t *testing.T, mtu int, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	skip := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			skip <- err
			return
		}
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetMTU(lo, mtu)
		}
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	select {
	case err := <-skip:
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot create a network namespace (root needed): %v", err)
		}
		t.Skipf("cannot create a network namespace (root needed): %v", err)
	case err := <-done:
		require.NoError(t, err)
	}
}

// Shared sockets send with IP_PMTUDISC_DO, which refuses (EMSGSIZE) a
// datagram larger than the path MTU; such a reply must still go out,
// fragmented, whether a serving batch, the delay queue or a lone write
// sends it, and the socket must be back to DO afterwards.
func TestSharedSocketRepliesLargerThanThePathMTU(t *testing.T) {
	const mtu = 1280
	st, err := mib.Open("if-mib:24")
	require.NoError(t, err)
	var f *Fleet
	var c *net.UDPConn
	var sink *net.UDPConn
	inSmallMTUNetns(t, mtu, func() error {
		var err error
		f, err = Start(t.Context(), Config{Agents: 2, Listen: testAddr(77), Store: st, Seed: 1, Sockets: 1})
		if err != nil {
			return err
		}
		if c, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(f.Addr(1))); err != nil {
			return err
		}
		sink, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 17, 77, 250)})
		return err
	})
	t.Cleanup(func() {
		_ = c.Close()
		_ = sink.Close()
		require.NoError(t, f.Close())
	})
	require.True(t, f.socks[0].shared)
	rc := &rawConn{t: t, conn: c, buf: make([]byte, 70000)}

	bulk := marshal(t, bulkPacket(41, 0, 100, ".1.3.6.1.2.1.2.2.1"))
	check := func(what string, b []byte, id uint32) {
		t.Helper()
		require.Greater(t, len(b), mtu, "%s: the reply must not fit the MTU", what)
		p := mustDecode(t, b)
		assert.Equal(t, id, p.RequestID, what)
		assert.Len(t, p.Variables, 100, what)
	}
	check("batched", rc.roundTrip(bulk), 41)
	small := rc.roundTrip(marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 42, ".1.3.6.1.2.1.1.3.0")))
	assert.Equal(t, uint32(42), mustDecode(t, small).RequestID, "a small reply after a large one")

	_, err = f.SetFaults(Selector{Index: intp(1)}, Faults{Delay: &Delay{Fixed: Duration(10 * time.Millisecond)}})
	require.NoError(t, err)
	check("delayed", rc.roundTrip(marshal(t, bulkPacket(43, 0, 100, ".1.3.6.1.2.1.2.2.1"))), 43)

	// A lone write, as a shared socket without batches sends.
	s := f.socks[0]
	big := make([]byte, 3*mtu)
	to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	require.NoError(t, s.write(big, to, f.Addr(0).Addr(), make([]byte, oobSize)))
	require.NoError(t, sink.SetReadDeadline(time.Now().Add(waitTimeout)))
	buf := make([]byte, 70000)
	n, from, err := sink.ReadFromUDPAddrPort(buf)
	require.NoError(t, err)
	assert.Equal(t, len(big), n)
	assert.Equal(t, f.Addr(0), from)

	assert.Equal(t, uint64(3), s.fragmented.Load())
	assert.Equal(t, uint64(3), f.Stats().Responses)
	raw, err := s.conn.SyscallConn()
	require.NoError(t, err)
	var mode int
	require.NoError(t, raw.Control(func(fd uintptr) {
		mode, err = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER)
	}))
	require.NoError(t, err)
	assert.Equal(t, unix.IP_PMTUDISC_DO, mode)
}
