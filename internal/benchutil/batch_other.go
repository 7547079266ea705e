//go:build !linux

package benchutil

import (
	"net"
	"time"
)

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
