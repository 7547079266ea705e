package simagent

import (
	"errors"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batched I/O on a shared socket: recvmmsg takes up to batchSize requests
// in one call and sendmmsg sends the replies they produced in one call,
// each from its agent's address (IP_PKTINFO). Written on x/sys rather than
// golang.org/x/net/ipv4's ReadBatch/WriteBatch because those build their
// mmsghdr arrays and parse control messages anew on every call (allocating),
// while here the headers, buffers and control messages are laid out once
// per socket and reused: the serving loop allocates nothing.

// batchSize is the most datagrams one recvmmsg or sendmmsg call moves.
const batchSize = 32

// batchSupported reports whether shared sockets serve with mmsg batches.
const batchSupported = true

// mmsgBatch is one serving goroutine's batch state for its socket.
type mmsgBatch struct {
	sock *socket
	rc   syscall.RawConn

	rhdr  []unix.Mmsghdr
	riov  []unix.Iovec
	rname []unix.RawSockaddrInet4
	rbuf  [][]byte
	roob  [][]byte

	shdr   []unix.Mmsghdr
	siov   []unix.Iovec
	sname  []unix.RawSockaddrInet4
	soob   [][]byte
	sbuf   [][]byte
	sagent []*agent
	queued int

	// State of the call in progress, and the callbacks rc.Read and
	// rc.Write run, bound once here: a closure made per call would escape
	// to the heap (RawConn is an interface), an allocation per batch.
	got, sent int
	serr      error
	recvFn    func(fd uintptr) bool
	sendFn    func(fd uintptr) bool
}

// newBatch makes the batch state for serving s: receive and send.
func newBatch(s *socket) (*mmsgBatch, error) {
	m, err := newSendBatch(s)
	if err != nil {
		return nil, err
	}
	m.rhdr, m.riov, m.rname = make([]unix.Mmsghdr, batchSize), make([]unix.Iovec, batchSize), make([]unix.RawSockaddrInet4, batchSize)
	m.rbuf, m.roob = make([][]byte, batchSize), make([][]byte, batchSize)
	// One contiguous receive area, a whole datagram's room per slot: pages
	// a request never reaches are never touched, so they cost no RSS.
	area := make([]byte, batchSize*65536)
	oobs := make([]byte, batchSize*oobSize)
	for i := range batchSize {
		m.rbuf[i] = area[i*65536 : (i+1)*65536 : (i+1)*65536]
		m.roob[i] = oobs[i*oobSize : (i+1)*oobSize : (i+1)*oobSize]
		m.riov[i].Base = &m.rbuf[i][0]
		m.riov[i].SetLen(len(m.rbuf[i]))
		h := &m.rhdr[i].Hdr
		h.Iov = &m.riov[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&m.rname[i]))
	}
	return m, nil
}

// newSendBatch makes the batch state for sending on s only.
func newSendBatch(s *socket) (*mmsgBatch, error) {
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	m := &mmsgBatch{
		sock: s, rc: rc,
		shdr: make([]unix.Mmsghdr, batchSize), siov: make([]unix.Iovec, batchSize), sname: make([]unix.RawSockaddrInet4, batchSize),
		soob: make([][]byte, batchSize), sbuf: make([][]byte, batchSize), sagent: make([]*agent, batchSize),
	}
	oobs := make([]byte, batchSize*oobSize)
	for i := range batchSize {
		m.soob[i] = oobs[i*oobSize : (i+1)*oobSize : (i+1)*oobSize]
		sh := &m.shdr[i].Hdr
		sh.Iov = &m.siov[i]
		sh.SetIovlen(1)
		sh.Name = (*byte)(unsafe.Pointer(&m.sname[i]))
		sh.Namelen = unix.SizeofSockaddrInet4
	}
	m.recvFn, m.sendFn = m.recvmmsg, m.sendmmsg
	return m, nil
}

// recv waits for at least one datagram and returns how many it received
// (at most batchSize).
func (m *mmsgBatch) recv() (int, error) {
	for i := range m.rhdr {
		h := &m.rhdr[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet4
		h.Control = &m.roob[i][0]
		h.SetControllen(len(m.roob[i]))
		h.Flags = 0
		m.rhdr[i].Len = 0
	}
	m.got, m.serr = 0, nil
	err := m.rc.Read(m.recvFn)
	if err == nil {
		err = m.serr
	}
	return m.got, err
}

// recvmmsg is recv's callback: false when it must wait for the socket.
func (m *mmsgBatch) recvmmsg(fd uintptr) bool {
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.rhdr[0])), uintptr(len(m.rhdr)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			m.got = int(r)
			return true
		case unix.EINTR:
		case unix.EAGAIN:
			return false // wait until readable
		default:
			m.serr = e // e.g. an ICMP error surfaced on the socket
			return true
		}
	}
}

// msg is the i-th datagram of the last recv: its bytes, source and
// destination (from IP_PKTINFO).
func (m *mmsgBatch) msg(i int) (pkt []byte, src netip.AddrPort, dst netip.Addr) {
	h := &m.rhdr[i]
	sa := &m.rname[i]
	if h.Hdr.Namelen >= unix.SizeofSockaddrInet4 && sa.Family == unix.AF_INET {
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		src = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	}
	return m.rbuf[i][:h.Len], src, pktinfoDst(m.roob[i][:h.Hdr.Controllen])
}

// full reports whether another reply needs a flush first.
func (m *mmsgBatch) full() bool { return m.queued == batchSize }

// queue copies reply b for dst, sent from agent a's address, into the
// next slot. The caller checks full first.
func (m *mmsgBatch) queue(b []byte, dst netip.AddrPort, a *agent) {
	i := m.queued
	m.queued++
	m.sbuf[i] = append(m.sbuf[i][:0], b...)
	m.sagent[i] = a
	m.siov[i].Base = nil
	if len(b) > 0 {
		m.siov[i].Base = &m.sbuf[i][0]
	}
	m.siov[i].SetLen(len(b))
	sa := &m.sname[i]
	*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: dst.Addr().Unmap().As4()}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(dst.Port()>>8), byte(dst.Port())
	oob := pktinfoSrc(m.soob[i], a.addr.Addr())
	h := &m.shdr[i].Hdr
	h.Control = &oob[0]
	h.SetControllen(len(oob))
}

// flush sends every queued reply with as few sendmmsg calls as the kernel
// allows. A reply the kernel refuses is taken back out of its agent's
// counts (they were counted when queued) and the rest still go out.
func (m *mmsgBatch) flush() error {
	n := m.queued
	if n == 0 {
		return nil
	}
	m.sent = 0
	err := m.rc.Write(m.sendFn)
	for ; m.sent < n; m.sent++ { // the socket closed under us
		m.unsend(m.sent)
	}
	for i := range n {
		m.sagent[i] = nil
	}
	m.queued = 0
	if err != nil && !errors.Is(err, syscall.EAGAIN) {
		return err
	}
	return nil
}

// sendmmsg is flush's callback: it sends queued replies from m.sent on,
// false when it must wait for the socket.
func (m *mmsgBatch) sendmmsg(fd uintptr) bool {
	for n := m.queued; m.sent < n; {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.shdr[m.sent])), uintptr(n-m.sent), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			m.sent += int(r)
		case unix.EINTR:
		case unix.EAGAIN:
			return false // wait until writable
		case unix.EMSGSIZE: // larger than the path MTU: fragment it
			err := m.sock.sendFragmenting(fd, func() error { return m.sendmsg(fd, m.sent) })
			if errors.Is(err, unix.EAGAIN) {
				return false
			}
			if err != nil {
				m.unsend(m.sent)
			}
			m.sent++
		default:
			m.unsend(m.sent)
			m.sent++
		}
	}
	return true
}

// sendmsg sends the i-th queued reply alone.
func (m *mmsgBatch) sendmsg(fd uintptr, i int) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&m.shdr[i].Hdr)), unix.MSG_DONTWAIT)
		switch e {
		case 0:
			return nil
		case unix.EINTR:
		default:
			return e
		}
	}
}

func (m *mmsgBatch) unsend(i int) {
	c := &m.sagent[i].c
	c.responses.Add(^uint64(0))
	c.bytesOut.Add(^uint64(m.siov[i].Len - 1))
}
