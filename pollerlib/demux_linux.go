package pollerlib

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batched receive on a shared socket: one recvmmsg takes every response
// waiting (up to readBatch), so a busy socket pays one system call and one
// netpoller wake-up for a batch instead of one per datagram. Written on
// x/sys rather than golang.org/x/net/ipv4's ReadBatch because that builds
// its headers anew and allocates a *net.UDPAddr per datagram on every
// call; here the headers, buffers and source addresses are laid out once
// per socket and reused, so reading allocates nothing.

// batchReader reads datagrams from one socket in batches.
type batchReader struct {
	rc   syscall.RawConn
	hdr  []unix.Mmsghdr
	iov  []unix.Iovec
	name []unix.RawSockaddrInet6 // room for either family
	buf  [][]byte

	// The call in progress, and the callback rc.Read runs, bound once: a
	// closure made per call would escape (RawConn is an interface).
	got  int
	rerr error
	fn   func(fd uintptr) bool
	ctl  func(fd uintptr)
}

func newReader(c *net.UDPConn) (reader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &batchReader{
		rc: rc, hdr: make([]unix.Mmsghdr, readBatch), iov: make([]unix.Iovec, readBatch),
		name: make([]unix.RawSockaddrInet6, readBatch), buf: make([][]byte, readBatch),
	}
	// One area, a whole datagram's room per slot: pages no response
	// reaches are never touched, so they cost no memory.
	area := make([]byte, readBatch*maxDatagram)
	for i := range readBatch {
		r.buf[i] = area[i*maxDatagram : (i+1)*maxDatagram : (i+1)*maxDatagram]
		r.iov[i].Base = &r.buf[i][0]
		r.iov[i].SetLen(maxDatagram)
		h := &r.hdr[i].Hdr
		h.Iov = &r.iov[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&r.name[i]))
	}
	r.fn = r.recvmmsg
	r.ctl = func(fd uintptr) { r.recvmmsg(fd) }
	return r, nil
}

// read waits for at least one datagram and returns how many it took.
func (r *batchReader) read() (int, error) {
	r.reset()
	if err := r.rc.Read(r.fn); err != nil {
		return 0, err
	}
	return r.got, r.rerr
}

func (r *batchReader) reset() {
	for i := range r.hdr {
		r.hdr[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		r.hdr[i].Hdr.Flags = 0
		r.hdr[i].Len = 0
	}
	r.got, r.rerr = 0, nil
}

// poll takes the datagrams waiting (up to readBatch) without waiting for
// any: 0 when there are none.
func (r *batchReader) poll() (int, error) {
	r.reset()
	if err := r.rc.Control(r.ctl); err != nil {
		return 0, err
	}
	return r.got, r.rerr
}

// recvmmsg is read's callback: false when it must wait for the socket.
func (r *batchReader) recvmmsg(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdr[0])), uintptr(len(r.hdr)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			r.got = int(n)
			return true
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			r.rerr = e
			return true
		}
	}
}

// msg is the i-th datagram of the last read and its source. A datagram
// longer than its slot (which cannot happen over UDP's 65,507 bytes) would
// come back truncated; its MSG_TRUNC flag makes it malformed here.
func (r *batchReader) msg(i int) ([]byte, netip.AddrPort, bool) {
	h := &r.hdr[i]
	if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
		return nil, netip.AddrPort{}, false
	}
	var src netip.AddrPort
	sa := &r.name[i]
	port := func(p *uint16) uint16 { b := (*[2]byte)(unsafe.Pointer(p)); return uint16(b[0])<<8 | uint16(b[1]) }
	switch {
	case sa.Family == unix.AF_INET6 && h.Hdr.Namelen >= unix.SizeofSockaddrInet6:
		src = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port(&sa.Port))
	case sa.Family == unix.AF_INET && h.Hdr.Namelen >= unix.SizeofSockaddrInet4:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		src = netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port(&sa4.Port))
	}
	return r.buf[i][:h.Len], src, true
}
