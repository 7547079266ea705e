package pollerlib

import (
	"net"

	"golang.org/x/sys/unix"
)

// grantedRcvbuf reads SO_RCVBUF back. Linux reports twice the size it
// accepted (the other half is its bookkeeping allowance), so halve it.
func grantedRcvbuf(c *net.UDPConn) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	var got int
	var gerr error
	if err := rc.Control(func(fd uintptr) { got, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }); err != nil || gerr != nil {
		return 0
	}
	return got / 2
}
