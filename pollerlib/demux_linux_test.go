package pollerlib

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatchReaderTakesWaitingDatagramsAtOnce: datagrams already queued on a
// socket come out of few recvmmsg calls, each with its own bytes and
// source, over IPv4 and IPv6.
func TestBatchReaderTakesWaitingDatagramsAtOnce(t *testing.T) {
	for _, fam := range []struct{ network, addr string }{{"udp4", "127.0.0.1:0"}, {"udp6", "[::1]:0"}} {
		t.Run(fam.network, func(t *testing.T) {
			conn, err := net.ListenUDP(fam.network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(fam.addr)))
			if err != nil && fam.network == "udp6" {
				t.Skipf("no IPv6 loopback here: %v", err)
			}
			require.NoError(t, err)
			defer conn.Close()
			rd, err := newReader(conn)
			require.NoError(t, err)
			dst := conn.LocalAddr().(*net.UDPAddr).AddrPort()
			var senders []*net.UDPConn
			for range 2 {
				s, err := net.ListenUDP(fam.network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(fam.addr)))
				require.NoError(t, err)
				defer s.Close()
				senders = append(senders, s)
			}
			const n = 2*readBatch + 5
			want := map[string]netip.AddrPort{}
			for i := range n {
				// Sizes from 1 byte to past one Ethernet MTU, all within the default
				// receive buffer.
				pkt := bytes.Repeat([]byte{byte(i)}, 1+i*(1600/n))
				pkt = append(pkt, fmt.Sprintf("#%d", i)...)
				s := senders[i%2]
				_, err := s.WriteToUDPAddrPort(pkt, dst)
				require.NoError(t, err)
				want[string(pkt)] = s.LocalAddr().(*net.UDPAddr).AddrPort()
			}
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Minute)))
			reads, most := 0, 0
			for got := 0; got < n; {
				k, err := rd.read()
				require.NoError(t, err)
				require.Positive(t, k)
				require.LessOrEqual(t, k, readBatch)
				reads, most, got = reads+1, max(most, k), got+k
				for i := range k {
					b, src, ok := rd.msg(i)
					require.True(t, ok)
					from, known := want[string(b)]
					require.True(t, known, "datagram %d of this read (%d bytes) is not one that was sent, or came twice", i, len(b))
					assert.Equal(t, from, src, "source of the datagram of %d bytes", len(b))
					delete(want, string(b))
				}
			}
			assert.Empty(t, want)
			assert.Greater(t, most, 1, "every read took one datagram: not batched")
			t.Logf("%d datagrams in %d reads, at most %d a read", n, reads, most)
		})
	}
}

// TestBatchReaderAllocatesNothing: the read loop allocates only what the
// caller copies out.
func TestBatchReaderAllocatesNothing(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer conn.Close()
	s, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer s.Close()
	rd, err := newReader(conn)
	require.NoError(t, err)
	dst := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := []byte("response")
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := s.WriteToUDPAddrPort(pkt, dst); err != nil {
			t.Fatal(err)
		}
		k, err := rd.read()
		if err != nil || k != 1 {
			t.Fatalf("read %d, %v", k, err)
		}
		if b, _, _ := rd.msg(0); !bytes.Equal(b, pkt) {
			t.Fatalf("read %q", b)
		}
	})
	assert.Zero(t, allocs)
}
