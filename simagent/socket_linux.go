package simagent

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// sharedSockopts readies a shared socket: SO_REUSEPORT, destination
// addresses (IP_PKTINFO), and two options that make a reply from one of
// thousands of agent addresses cheaper to send (measured in the README's
// "Benchmarks"):
//
//   - IP_PMTUDISC_DO: replies carry DF and IP ID 0 (RFC 6864 allows it
//     for a datagram that is not fragmented). Under the default
//     (IP_PMTUDISC_WANT) this kernel gives every datagram an IP ID from
//     a shared table hashed by source and destination, a cold cache
//     line for each of the fleet's thousands of address pairs. A reply
//     larger than the path MTU, which DO refuses with EMSGSIZE, is sent
//     again with WANT (sendFragmenting), fragmented as before.
//   - IP_TRANSPARENT, best effort (it needs CAP_NET_ADMIN or
//     CAP_NET_RAW): the kernel skips checking, for every datagram, that
//     the source given in IP_PKTINFO is a local address, a FIB lookup
//     for agent addresses in 127/8 that no interface carries. A reply's
//     source is always the address its request arrived at, so it is
//     local anyway.
func sharedSockopts(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO); err != nil {
		return err
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TRANSPARENT, 1)
	return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
}

// sendFragmenting runs send, which sends one datagram on shared socket s
// (descriptor fd) that IP_PMTUDISC_DO refused for the path MTU, with
// IP_PMTUDISC_WANT, so that the kernel fragments it. The mutex keeps two
// such sends from switching the mode back under each other; other
// datagrams sent meanwhile only lose DO's saving.
func (s *socket) sendFragmenting(fd uintptr, send func() error) error {
	s.fragMu.Lock()
	defer s.fragMu.Unlock()
	if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_WANT); err != nil {
		return err
	}
	err := send()
	if e := unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO); e != nil && err == nil {
		err = e
	}
	if err == nil {
		s.fragmented.Add(1)
	}
	return err
}

// writeFragmenting is socket.write's sendFragmenting.
func (s *socket) writeFragmenting(b, oob []byte, dst netip.AddrPort) error {
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = s.sendFragmenting(fd, func() error {
			_, _, err := s.conn.WriteMsgUDPAddrPort(b, oob, dst)
			return err
		})
	})
	if err != nil {
		return err
	}
	return serr
}

// oobSize is enough room for one IP_PKTINFO control message.
var oobSize = unix.CmsgSpace(unix.SizeofInet4Pktinfo)

var cmsgHdrLen = unix.CmsgLen(0)

// pktinfoDst finds the destination address in received control messages.
// Parsed by hand because unix.ParseSocketControlMessage allocates on every
// packet.
func pktinfoDst(oob []byte) netip.Addr {
	for len(oob) >= cmsgHdrLen {
		l := cmsgLenAt(oob)
		level := int32(binary.NativeEndian.Uint32(oob[lenSize : lenSize+4]))
		typ := int32(binary.NativeEndian.Uint32(oob[lenSize+4 : lenSize+8]))
		if l < cmsgHdrLen || l > len(oob) {
			return netip.Addr{}
		}
		if level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && l >= cmsgHdrLen+unix.SizeofInet4Pktinfo {
			// struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }
			d := oob[cmsgHdrLen+8 : cmsgHdrLen+12]
			return netip.AddrFrom4([4]byte{d[0], d[1], d[2], d[3]})
		}
		oob = oob[min(unix.CmsgSpace(l-cmsgHdrLen), len(oob)):]
	}
	return netip.Addr{}
}

// pktinfoSrc writes a control message that sends from address from.
func pktinfoSrc(oob []byte, from netip.Addr) []byte {
	oob = oob[:oobSize]
	clear(oob)
	putCmsgLen(oob, unix.CmsgLen(unix.SizeofInet4Pktinfo))
	binary.NativeEndian.PutUint32(oob[lenSize:lenSize+4], uint32(unix.IPPROTO_IP))
	binary.NativeEndian.PutUint32(oob[lenSize+4:lenSize+8], uint32(unix.IP_PKTINFO))
	a := from.As4()
	copy(oob[cmsgHdrLen+4:cmsgHdrLen+8], a[:]) // spec_dst
	return oob
}

// lenSize is the size of cmsghdr.cmsg_len: a size_t.
const lenSize = unix.SizeofCmsghdr - 8

func cmsgLenAt(b []byte) int {
	if lenSize == 8 {
		return int(binary.NativeEndian.Uint64(b))
	}
	return int(binary.NativeEndian.Uint32(b))
}

func putCmsgLen(b []byte, n int) {
	if lenSize == 8 {
		binary.NativeEndian.PutUint64(b, uint64(n))
	} else {
		binary.NativeEndian.PutUint32(b, uint32(n))
	}
}
