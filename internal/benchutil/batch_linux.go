package benchutil

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgConn batches with sendmmsg/recvmmsg.
type mmsgConn struct {
	c       *net.UDPConn // nil for a socket outside the network poller
	rc      syscall.RawConn
	closeFn func() error
	rbufs   [][]byte
	rhdr    []unix.Mmsghdr
	riov    []unix.Iovec
	shdr    []unix.Mmsghdr
	siov    []unix.Iovec
	sname   []unix.RawSockaddrInet4
}

func newBatchConn(c *net.UDPConn, n int) (batchConn, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("benchutil: %w", err)
	}
	return newMmsgConn(c, rc, c.Close, n), nil
}

func newMmsgConn(c *net.UDPConn, rc syscall.RawConn, closeFn func() error, n int) *mmsgConn {
	m := &mmsgConn{
		c: c, rc: rc, closeFn: closeFn,
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
	return m
}

func (m *mmsgConn) max() int { return len(m.shdr) }

func (m *mmsgConn) close() error { return m.closeFn() }

func (m *mmsgConn) msg(i int) []byte { return m.rbufs[i][:m.rhdr[i].Len] }

// listenUnpolled opens a client socket on local that Go's network poller
// does not watch, for the side requests: a datagram reaching a socket in
// the poller's epoll set wakes a thread blocked in epoll_wait, and on
// loopback the sender pays for that wake-up. A side reply arriving out of
// step with the closed loop (a delayed one) would so charge the server
// for the generator's wake-up. This socket is read only by drain, on a
// timer; recv is not supported.
func listenUnpolled(local netip.Addr, n int) (batchConn, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("benchutil: side socket: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: local.As4()}); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("benchutil: side socket on %s: %w", local, err)
	}
	return newMmsgConn(nil, fdConn(fd), func() error { return unix.Close(fd) }, n), nil
}

// fdConn is a syscall.RawConn for a socket outside the network poller:
// Read and Write call f once more after each short pause while it reports
// the socket not ready, for at most a second.
type fdConn int

func (c fdConn) Control(f func(fd uintptr)) error {
	f(uintptr(c))
	return nil
}

func (c fdConn) Read(f func(fd uintptr) bool) error { return c.Write(f) }

func (c fdConn) Write(f func(fd uintptr) bool) error {
	for deadline := time.Now().Add(time.Second); !f(uintptr(c)); {
		if time.Now().After(deadline) {
			return os.ErrDeadlineExceeded
		}
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}

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

// drain reads every datagram queued on the socket without waiting and
// returns how many there were.
func (m *mmsgConn) drain() (int, error) {
	total := 0
	var serr error
	err := m.rc.Read(func(fd uintptr) bool {
		for {
			r, e := m.recvmmsg(fd)
			if e != 0 {
				if e != unix.EAGAIN {
					serr = e
				}
				return true
			}
			if total += r; r < len(m.rhdr) {
				return true
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return total, fmt.Errorf("benchutil: recvmmsg: %w", err)
	}
	return total, nil
}

// recvmmsg reads what is queued, up to len(m.rhdr) datagrams, without
// waiting: EAGAIN when nothing is.
func (m *mmsgConn) recvmmsg(fd uintptr) (int, unix.Errno) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.rhdr[0])), uintptr(len(m.rhdr)), unix.MSG_DONTWAIT, 0, 0)
		if e != unix.EINTR {
			return int(r), e
		}
	}
}

func (m *mmsgConn) recv(deadline time.Time) (int, error) {
	if m.c == nil {
		return 0, errors.New("benchutil: recv on a socket outside the poller")
	}
	if err := m.c.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n := 0
	var serr error
	err := m.rc.Read(func(fd uintptr) bool {
		r, e := m.recvmmsg(fd)
		switch e {
		case 0:
			n = r
		case unix.EAGAIN:
			return false // wait for the socket
		default:
			serr = e
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, fmt.Errorf("benchutil: recvmmsg: %w", serr)
	}
	return n, nil
}
