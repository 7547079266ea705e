//go:build !linux

package benchutil

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"
)

// listenUnpolled is listenBatch: elsewhere the side sockets are ordinary.
func listenUnpolled(local netip.Addr, n int) (batchConn, error) { return listenBatch(local, n) }

type plainConn struct {
	c   *net.UDPConn
	buf []byte
	n   int
}

func newBatchConn(c *net.UDPConn, _ int) (batchConn, error) {
	return &plainConn{c: c, buf: make([]byte, 2048)}, nil
}

func (p *plainConn) max() int { return 1 << 10 }

func (p *plainConn) msg(int) []byte { return p.buf[:p.n] }

func (p *plainConn) close() error { return p.c.Close() }

func (p *plainConn) send(msgs []outMsg) error {
	for _, o := range msgs {
		if _, err := p.c.WriteToUDPAddrPort(o.pkt, o.dst); err != nil {
			return err
		}
	}
	return nil
}

// drain reads the datagrams queued on the socket, waiting at most a
// millisecond for each, and returns how many there were.
func (p *plainConn) drain() (int, error) {
	n := 0
	for {
		_, err := p.recv(time.Now().Add(time.Millisecond))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func (p *plainConn) recv(deadline time.Time) (int, error) {
	if err := p.c.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, _, err := p.c.ReadFromUDPAddrPort(p.buf)
	if err != nil {
		return 0, err
	}
	p.n = n
	return 1, nil
}
