package simagent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

// socket is one UDP socket of the fleet: shared by every agent (receiving
// for all their addresses, demultiplexed by destination address), or owned
// by one agent.
type socket struct {
	conn   *net.UDPConn
	local  netip.AddrPort
	shared bool
	agent  *agent // direct sockets only
	// Shared sockets send with IP_PMTUDISC_DO (socket_linux.go): fragMu
	// orders the sends of datagrams larger than the path MTU, which
	// switch the socket to fragmenting for one datagram; fragmented
	// counts them.
	fragMu     sync.Mutex
	fragmented atomic.Uint64
}

// listenDirect binds one agent's own socket.
func listenDirect(addr netip.AddrPort) (*socket, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	setBuffers(c)
	return &socket{conn: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort()}, nil
}

// listenShared binds a wildcard socket on port with SO_REUSEPORT and
// destination-address reporting, so several of them share the load of every
// agent address on the port.
func listenShared(port uint16) (*socket, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = sharedSockopts(int(fd)) })
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", netip.AddrPortFrom(netip.IPv4Unspecified(), port).String())
	if err != nil {
		return nil, err
	}
	c := pc.(*net.UDPConn)
	setBuffers(c)
	return &socket{conn: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort(), shared: true}, nil
}

func setBuffers(c *net.UDPConn) {
	// Large buffers absorb bursts from thousands of pollers; the kernel caps
	// them at net.core.rmem_max/wmem_max. Best effort.
	_ = c.SetReadBuffer(8 << 20)
	_ = c.SetWriteBuffer(8 << 20)
}

func (s *socket) close() error { return s.conn.Close() }

// read receives one datagram and, on a shared socket, its destination.
func (s *socket) read(buf, oob []byte) (n int, src netip.AddrPort, dst netip.Addr, err error) {
	if !s.shared {
		n, src, err = s.conn.ReadFromUDPAddrPort(buf)
		return n, src, s.local.Addr(), err
	}
	n, oobn, _, src, err := s.conn.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		return 0, src, netip.Addr{}, err
	}
	return n, src, pktinfoDst(oob[:oobn]), nil
}

// write sends b to dst from agent address from; oob is scratch space.
func (s *socket) write(b []byte, dst netip.AddrPort, from netip.Addr, oob []byte) error {
	if !s.shared {
		_, err := s.conn.WriteToUDPAddrPort(b, dst)
		return err
	}
	oob = pktinfoSrc(oob, from)
	_, _, err := s.conn.WriteMsgUDPAddrPort(b, oob, dst)
	if errors.Is(err, syscall.EMSGSIZE) { // larger than the path MTU
		err = s.writeFragmenting(b, oob, dst)
	}
	return err
}

// freePort checks that no socket holds UDP port (0: lets the kernel pick
// one) and returns it.
func freePort(port uint16) (uint16, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero, Port: int(port)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
}
