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
