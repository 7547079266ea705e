package probe

import (
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProcAddr(t *testing.T) {
	tests := []struct {
		name, in string
		want     netip.AddrPort
	}{
		{"ipv4", "0100007F:0035", netip.MustParseAddrPort("127.0.0.1:53")},
		{"ipv4 agent", "0900107F:0489", netip.MustParseAddrPort("127.16.0.9:1161")},
		{"any", "00000000:0000", netip.MustParseAddrPort("0.0.0.0:0")},
		{"ipv6 loopback", "00000000000000000000000001000000:1F90", netip.MustParseAddrPort("[::1]:8080")},
		{"mapped v4", "0000000000000000FFFF00000100007F:0035", netip.MustParseAddrPort("127.0.0.1:53")},
		{"garbage", "zz:1", netip.AddrPort{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, parseProcAddr(tt.in))
		})
	}
}

func TestParseUDPTableKeepsOurInodes(t *testing.T) {
	table := `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0100007F:A0B1 0900107F:0489 01 00000000:00000A00 00:00000000 00000000     0        0 4242 2 0000000000000000 17
  124: 00000000:0489 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9999 2 0000000000000000 0
`
	out := map[uint64]UDPSocket{}
	parseUDPTable([]byte(table), map[uint64]bool{4242: true}, out)
	require.Len(t, out, 1)
	s := out[4242]
	assert.Equal(t, "udp 127.0.0.1:41137 -> 127.16.0.9:1161 (inode 4242)", s.String())
	assert.Equal(t, uint64(17), s.Drops, "the drops column")
	assert.Equal(t, uint64(0xa00), s.RxQueue, "rx_queue")
}

func TestReadProcSeesANewSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the OS probes read Linux /proc")
	}
	before, err := ReadProc()
	require.NoError(t, err)
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	require.NoError(t, err)
	after, err := ReadProc()
	require.NoError(t, err)
	assert.Equal(t, before.FDs+1, after.FDs)
	assert.Len(t, after.UDP, len(before.UDP)+1)
	found := false
	for _, s := range after.UDP {
		if s.Local == c.LocalAddr().(*net.UDPAddr).AddrPort() {
			found = true
		}
	}
	assert.True(t, found, "the new socket is listed by its address")
	require.NoError(t, c.Close())
	again, err := ReadProc()
	require.NoError(t, err)
	assert.Equal(t, before.FDs, again.FDs)
	assert.Len(t, again.UDP, len(before.UDP))

	base, _, _, err := ReadFDTable(true)
	require.NoError(t, err)
	c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	require.NoError(t, err)
	defer c.Close()
	now, _, _, err := ReadFDTable(true)
	require.NoError(t, err)
	ev := FDDiff(base, now, 10)
	require.Len(t, ev, 2)
	assert.Contains(t, ev[0], "1 descriptors opened during the run are still open (socket: 1)")
	assert.Contains(t, ev[1], "socket:[")
}

func TestHeapReader(t *testing.T) {
	runtime.GC() // the live heap is known after a GC
	obj, live := NewHeapReader().Read()
	assert.Positive(t, obj)
	assert.Positive(t, live)
}

const stackText = `goroutine 1 [running]:
main.main()
	/src/main.go:10 +0x1d

goroutine 7 [chan receive]:
example.com/p.(*Leaky).poll.func1()
	/src/p/leaky.go:42 +0x55
sync.(*WaitGroup).Go.func1()
	/usr/local/go/src/sync/waitgroup.go:239 +0x4a
created by sync.(*WaitGroup).Go in goroutine 5
	/usr/local/go/src/sync/waitgroup.go:237 +0x73

goroutine 8 [IO wait]:
internal/poll.runtime_pollWait(0x7f, 0x72)
	/usr/local/go/src/runtime/netpoll.go:351 +0x85
example.com/agent.(*Fleet).serve(0xc0)
	/src/agent/serve.go:28 +0x325
sync.(*WaitGroup).Go.func1()
	/usr/local/go/src/sync/waitgroup.go:239 +0x4a
created by sync.(*WaitGroup).Go in goroutine 5
	/usr/local/go/src/sync/waitgroup.go:237 +0x73

goroutine 9 [select]:
example.com/p.(*Leaky).poll.func1()
	/src/p/leaky.go:44 +0x55
sync.(*WaitGroup).Go.func1()
	/usr/local/go/src/sync/waitgroup.go:239 +0x4a
created by sync.(*WaitGroup).Go in goroutine 6
	/usr/local/go/src/sync/waitgroup.go:237 +0x73
`

func TestGoroutineSignaturesKeepLaunchedFunctionsApart(t *testing.T) {
	d := ParseGoroutines(stackText)
	assert.Equal(t, map[string]int{
		"main.main": 1,
		"example.com/p.(*Leaky).poll.func1 <- sync.(*WaitGroup).Go": 2,
		"example.com/agent.(*Fleet).serve <- sync.(*WaitGroup).Go":  1,
	}, d.count)

	blocks := strings.Split(stackText, "\n\n")
	before := ParseGoroutines(blocks[0] + "\n\n" + blocks[2]) // main and the fleet
	ev := ExcessGoroutines(before, d, 10, 4)
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0], "2 more than at baseline: example.com/p.(*Leaky).poll.func1 <- sync.(*WaitGroup).Go")
	assert.Contains(t, ev[0], "\t...", "long stacks are trimmed")
}

func TestDumpGoroutinesFindsThisOne(t *testing.T) {
	d := DumpGoroutines()
	found := false
	for sig := range d.count {
		if strings.Contains(sig, "testing.tRunner") {
			found = true
		}
	}
	assert.True(t, found)
}
