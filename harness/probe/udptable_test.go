package probe

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openSockets opens n UDP sockets on 127.0.0.1, closed when the test ends,
// and returns their local addresses.
func openSockets(t *testing.T, n int) map[netip.AddrPort]bool {
	t.Helper()
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	if lim.Cur < uint64(n)+500 {
		msg := fmt.Sprintf("needs %d descriptors, the limit is %d (ulimit -n)", n+500, lim.Cur)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	addrs := make(map[netip.AddrPort]bool, n)
	for range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		addrs[c.LocalAddr().(*net.UDPAddr).AddrPort()] = true
	}
	return addrs
}

// missing lists the addresses of want that no socket of got has: how many,
// and a few.
func missing(want map[netip.AddrPort]bool, got []UDPSocket) string {
	seen := make(map[netip.AddrPort]bool, len(got))
	for _, s := range got {
		seen[s.Local] = true
	}
	n := 0
	var some []netip.AddrPort
	for a := range want {
		if !seen[a] {
			n++
			if len(some) < 5 {
				some = append(some, a)
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d missing, such as %v", n, len(want), some)
}

// A table of thousands of sockets, far more than one read() returns and
// than the first buffer holds, is read whole: every one of the test's own
// sockets is in a single reading, by ReadProc and by PIDReader.
func TestUDPTableOfManySocketsIsReadWhole(t *testing.T) {
	needLinux(t)
	const n = 2000
	want := openSockets(t, n)

	pr, err := ReadProc()
	require.NoError(t, err)
	var got []UDPSocket
	for _, s := range pr.UDP {
		got = append(got, s)
	}
	assert.Empty(t, missing(want, got), "sockets ReadProc missed")
	assert.GreaterOrEqual(t, len(pr.UDP), n)

	r, err := NewPIDReader(os.Getpid())
	require.NoError(t, err)
	rd, err := r.Read(nil)
	require.NoError(t, err)
	assert.Empty(t, missing(want, rd.Sockets), "sockets PIDReader missed")

	// The kernel returns the table a page at a time whatever the buffer,
	// so this table took several read() calls (and is read again) and
	// outgrew the first buffer.
	data, reads, err := readTableFile("/proc/net/udp", nil, tableBufMax)
	require.NoError(t, err)
	assert.Greater(t, reads, 1, "read() calls for a table of %d sockets", n)
	assert.Greater(t, len(data), tableBufStart, "the table outgrew the first buffer")
	assert.GreaterOrEqual(t, bytes.Count(data, []byte{'\n'}), n+1, "a line per socket and the header")

	// The bound, on the same real table.
	_, _, err = readTableFile("/proc/net/udp", nil, 8192)
	require.ErrorIs(t, err, errTableTooLarge)
	assert.Contains(t, err.Error(), "/proc/net/udp has 8192 bytes or more")
	assert.Contains(t, err.Error(), "the bound is 8192 bytes")
}

// readTable grows its buffer as reads fill it, keeps what it read, and
// fails with the file's name once the content reaches the bound. The
// content comes through a pipe in pieces, as a /proc table does.
func TestReadTableGrowsUpToItsBound(t *testing.T) {
	tests := []struct {
		name    string
		size    int // bytes written
		start   int // the buffer's first capacity
		limit   int
		wantErr bool
	}{
		{"fits the first buffer", 1000, 4096, 1 << 20, false},
		{"grows several times", 50_000, 1024, 1 << 20, false},
		{"one byte under the bound", 8191, 1024, 8192, false},
		{"at the bound", 8192, 1024, 8192, true},
		{"over the bound", 50_000, 1024, 8192, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := bytes.Repeat([]byte("0123456789abcde\n"), tt.size/16+1)[:tt.size]
			pr, pw, err := os.Pipe()
			require.NoError(t, err)
			var wg sync.WaitGroup
			var werr error
			wg.Go(func() {
				defer pw.Close()
				for rest := content; len(rest) > 0; {
					k := min(len(rest), 700)
					if _, werr = pw.Write(rest[:k]); werr != nil {
						return
					}
					rest = rest[k:]
				}
			})
			data, reads, err := readTable(pr, "test pipe", make([]byte, 0, tt.start), tt.limit)
			require.NoError(t, pr.Close()) // a writer still writing gets EPIPE
			wg.Wait()
			if tt.wantErr {
				require.ErrorIs(t, err, errTableTooLarge)
				assert.Contains(t, err.Error(), fmt.Sprintf("test pipe has %d bytes or more", tt.limit))
				assert.Len(t, data, tt.limit, "reads stop at the bound")
				return
			}
			require.NoError(t, err)
			require.NoError(t, werr)
			assert.Equal(t, content, data)
			assert.Positive(t, reads)
			assert.LessOrEqual(t, cap(data), tt.limit)
			if tt.size >= tt.start {
				assert.Greater(t, cap(data), tt.start, "the buffer grew")
			}
		})
	}
}
