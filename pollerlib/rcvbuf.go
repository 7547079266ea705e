package pollerlib

import "net"

// Receive buffers sized for the fan-in.
//
// A poller with many calls in flight on one socket can get all their replies
// at once (a fleet answering a burst of polls, duplicates on top); a buffer
// smaller than that burst makes the kernel drop replies (Udp RcvbufErrors),
// and the calls waiting for them time out for no fault of the agents.

const (
	// replyBudget is the buffer room one reply takes: a datagram up to
	// about 1.4 KB plus the kernel's per-packet overhead, which counts
	// against the buffer too.
	replyBudget = 2 << 10
	minRcvbuf   = 256 << 10
	maxRcvbuf   = 64 << 20
)

// rcvbufWanted is the receive buffer each socket asks for: the configured
// size, or room for one reply of every call the socket may carry.
func (c *config) rcvbufWanted() int {
	if c.readBuffer > 0 {
		return c.readBuffer
	}
	per := (c.maxInFlight + c.sockets - 1) / c.sockets
	return min(max(per*replyBudget, minRcvbuf), maxRcvbuf)
}

// ReadBufferStats says what receive buffer the sockets asked for and what
// the kernel granted (as the size asked for, not counting the kernel's own
// doubling for overhead; 0 where it cannot be read back). Capped is set when
// the kernel granted less, on Linux because of net.core.rmem_max: raise it
// (sysctl -w net.core.rmem_max=BYTES) or lower WithMaxInFlight.
type ReadBufferStats struct {
	Wanted  int  `json:"wanted"`
	Granted int  `json:"granted"`
	Capped  bool `json:"capped"`
}

// sizeBuffers sets c's receive and send buffers to want and returns the
// receive buffer granted (0: unknown).
func sizeBuffers(c *net.UDPConn, want int) int {
	_ = c.SetReadBuffer(want) // the kernel caps it silently; read it back
	_ = c.SetWriteBuffer(want)
	return grantedRcvbuf(c)
}
