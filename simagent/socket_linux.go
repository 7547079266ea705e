package simagent

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

func sharedSockopts(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
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
