package benchutil

import (
	"errors"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// echoBatch is the number of datagrams per recvmmsg/sendmmsg of the
// batched echo.
const echoBatch = 32

// serveEchoBatched echoes with recvmmsg and sendmmsg, the reply batch
// pointing at the received buffers and source addresses (no copies).
func serveEchoBatched(c *net.UDPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		serveEcho(c)
		return
	}
	hdr := make([]unix.Mmsghdr, echoBatch)
	out := make([]unix.Mmsghdr, echoBatch)
	iov := make([]unix.Iovec, echoBatch)
	oiov := make([]unix.Iovec, echoBatch)
	names := make([]unix.RawSockaddrInet4, echoBatch)
	area := make([]byte, echoBatch*65536)
	for i := range echoBatch {
		iov[i].Base = &area[i*65536]
		iov[i].SetLen(65536)
		hdr[i].Hdr.Iov = &iov[i]
		hdr[i].Hdr.SetIovlen(1)
		hdr[i].Hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
		out[i].Hdr.Iov = &oiov[i]
		out[i].Hdr.SetIovlen(1)
		out[i].Hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
		out[i].Hdr.Namelen = unix.SizeofSockaddrInet4
	}
	for {
		for i := range hdr {
			hdr[i].Hdr.Namelen = unix.SizeofSockaddrInet4
		}
		n := 0
		err := rc.Read(func(fd uintptr) bool {
			r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&hdr[0])), echoBatch, unix.MSG_DONTWAIT, 0, 0)
			if e == unix.EAGAIN {
				return false
			}
			if e == 0 {
				n = int(r)
			}
			return true
		})
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		for i := range n {
			oiov[i].Base = iov[i].Base
			oiov[i].SetLen(int(hdr[i].Len))
		}
		done := 0
		err = rc.Write(func(fd uintptr) bool {
			for done < n {
				r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&out[done])), uintptr(n-done), unix.MSG_DONTWAIT, 0, 0)
				switch e {
				case 0:
					done += int(r)
				case unix.EAGAIN:
					return false
				case unix.EINTR:
				default:
					done++ // skip the datagram the kernel refused
				}
			}
			return true
		})
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}
