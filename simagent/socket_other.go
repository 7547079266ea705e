//go:build !linux

package simagent

import (
	"errors"
	"net/netip"
)

var errNoShared = errors.New("shared-port fleets need Linux (IP_PKTINFO); use ByPort")

func sharedSockopts(int) error { return errNoShared }

var oobSize = 64

func pktinfoDst([]byte) netip.Addr { return netip.Addr{} }

func pktinfoSrc(oob []byte, _ netip.Addr) []byte { return oob[:0] }

// writeFragmenting is never reached: there are no shared sockets here.
func (s *socket) writeFragmenting(b, oob []byte, dst netip.AddrPort) error {
	_, _, err := s.conn.WriteMsgUDPAddrPort(b, oob, dst)
	return err
}
