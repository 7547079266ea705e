//go:build !linux

package simagent

import (
	"errors"
	"net/netip"
)

// batchSupported reports whether shared sockets serve with mmsg batches:
// only on Linux, which is also the only platform with shared sockets.
const batchSupported = false

type mmsgBatch struct{}

func newBatch(*socket) (*mmsgBatch, error) { return nil, errors.New("simagent: no mmsg batches here") }

func newSendBatch(*socket) (*mmsgBatch, error) {
	return nil, errors.New("simagent: no mmsg batches here")
}

func (*mmsgBatch) recv() (int, error) { return 0, errors.New("simagent: no mmsg batches here") }

func (*mmsgBatch) msg(int) ([]byte, netip.AddrPort, netip.Addr) {
	return nil, netip.AddrPort{}, netip.Addr{}
}

func (*mmsgBatch) full() bool { return true }

func (*mmsgBatch) queue([]byte, netip.AddrPort, *agent) {}

func (*mmsgBatch) flush() error { return nil }
