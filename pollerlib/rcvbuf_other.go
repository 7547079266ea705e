//go:build !linux

package pollerlib

import "net"

// grantedRcvbuf cannot read the granted size back here.
func grantedRcvbuf(*net.UDPConn) int { return 0 }
