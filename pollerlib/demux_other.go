//go:build !linux

package pollerlib

import (
	"net"
	"net/netip"
)

// singleReader reads one datagram per call where recvmmsg does not exist.
type singleReader struct {
	c   *net.UDPConn
	buf []byte
	n   int
	src netip.AddrPort
}

func newReader(c *net.UDPConn) (reader, error) {
	return &singleReader{c: c, buf: make([]byte, maxDatagram)}, nil
}

func (r *singleReader) read() (int, error) {
	n, src, err := r.c.ReadFromUDPAddrPort(r.buf)
	if err != nil {
		return 0, err
	}
	r.n, r.src = n, netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	return 1, nil
}

func (r *singleReader) msg(int) ([]byte, netip.AddrPort, bool) { return r.buf[:r.n], r.src, true }

// poll reads nothing here: without recvmmsg a read that must not wait
// needs a deadline per call, and only the demux reads (no helping).
func (r *singleReader) poll() (int, error) { return 0, nil }
