package benchutil

import (
	"fmt"
	"net"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgConn batches with sendmmsg/recvmmsg.
type mmsgConn struct {
	c     *net.UDPConn
	rc    syscall.RawConn
	rbufs [][]byte
	rhdr  []unix.Mmsghdr
	riov  []unix.Iovec
	shdr  []unix.Mmsghdr
	siov  []unix.Iovec
	sname []unix.RawSockaddrInet4
}

func newBatchConn(c *net.UDPConn, n int) (batchConn, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("benchutil: %w", err)
	}
	m := &mmsgConn{
		c: c, rc: rc,
		rbufs: make([][]byte, n), rhdr: make([]unix.Mmsghdr, n), riov: make([]unix.Iovec, n),
		shdr: make([]unix.Mmsghdr, n), siov: make([]unix.Iovec, n), sname: make([]unix.RawSockaddrInet4, n),
	}
	for i := range n {
		m.rbufs[i] = make([]byte, 2048)
		m.riov[i].Base = &m.rbufs[i][0]
		m.riov[i].SetLen(len(m.rbufs[i]))
		m.rhdr[i].Hdr.Iov = &m.riov[i]
		m.rhdr[i].Hdr.SetIovlen(1)
		m.shdr[i].Hdr.Iov = &m.siov[i]
		m.shdr[i].Hdr.SetIovlen(1)
		m.shdr[i].Hdr.Name = (*byte)(unsafe.Pointer(&m.sname[i]))
		m.shdr[i].Hdr.Namelen = unix.SizeofSockaddrInet4
	}
	return m, nil
}

func (m *mmsgConn) max() int { return len(m.shdr) }

func (m *mmsgConn) msg(i int) []byte { return m.rbufs[i][:m.rhdr[i].Len] }

func (m *mmsgConn) close() error { return m.c.Close() }

func (m *mmsgConn) send(msgs []outMsg) error {
	for i, o := range msgs {
		a, p := o.dst.Addr().As4(), o.dst.Port()
		m.sname[i] = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a}
		pb := (*[2]byte)(unsafe.Pointer(&m.sname[i].Port))
		pb[0], pb[1] = byte(p>>8), byte(p)
		m.siov[i].Base = &o.pkt[0]
		m.siov[i].SetLen(len(o.pkt))
	}
	done := 0
	var serr error
	err := m.rc.Write(func(fd uintptr) bool {
		for done < len(msgs) {
			r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.shdr[done])), uintptr(len(msgs)-done), unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case 0:
				done += int(r)
			case unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				serr = e
				return true
			}
		}
		return true
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("benchutil: sendmmsg: %w", err)
	}
	return nil
}

func (m *mmsgConn) recv(deadline time.Time) (int, error) {
	if err := m.c.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n := 0
	var serr error
	err := m.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.rhdr[0])), uintptr(len(m.rhdr)), unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case 0:
				n = int(r)
				return true
			case unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				serr = e
				return true
			}
		}
	})
	if err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, fmt.Errorf("benchutil: recvmmsg: %w", serr)
	}
	return n, nil
}
