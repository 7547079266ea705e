//go:build !linux

package benchutil

import "net"

func serveEchoBatched(c *net.UDPConn) { serveEcho(c) }
