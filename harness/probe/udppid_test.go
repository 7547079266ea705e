package probe

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A process read by PID shows the same sockets, drops and counters as the
// process's own view.
func TestPIDReaderSeesOwnSocketsAndCounters(t *testing.T) {
	needLinux(t)
	sink, ino := sinkSocket(t)
	flood(t, sink, ino)
	r, err := NewPIDReader(os.Getpid())
	require.NoError(t, err)
	rd, err := r.Read(nil)
	require.NoError(t, err)
	var found *UDPSocket
	for i := range rd.Sockets {
		if rd.Sockets[i].Inode == ino {
			found = &rd.Sockets[i]
		}
	}
	require.NotNil(t, found, "the socket is found by PID")
	assert.Positive(t, found.Drops)
	assert.Equal(t, sink.LocalAddr().String(), found.Local.String())
	assert.Positive(t, rd.Kernel().RcvbufErrors, "the namespace has counted receive-buffer errors")
	only, err := r.Read(map[uint64]bool{})
	require.NoError(t, err)
	assert.Empty(t, only.Sockets, "no inode given, no socket")
	_, err = NewPIDReader(1 << 30)
	require.ErrorIs(t, err, ErrNoUDPView)
}

func TestUDPCountersArithmetic(t *testing.T) {
	a := UDPCounters{InErrors: 5, RcvbufErrors: 3, InDatagrams: 10}
	b := UDPCounters{InErrors: 2, RcvbufErrors: 4, InDatagrams: 1}
	assert.Equal(t, UDPCounters{InErrors: 3, InDatagrams: 9}, a.Sub(b))
	assert.Equal(t, UDPCounters{InErrors: 7, RcvbufErrors: 7, InDatagrams: 11}, a.Add(b))
}
