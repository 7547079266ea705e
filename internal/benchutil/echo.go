package benchutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

// Echo is a bare UDP echo server: Sockets SO_REUSEPORT sockets on one
// wildcard port, one goroutine each, with plain ReadFromUDPAddrPort and
// WriteToUDPAddrPort loops. It is the baseline a UDP server in Go can reach
// on this machine.
type Echo struct {
	conns []*net.UDPConn
	port  uint16
	wg    sync.WaitGroup
	once  sync.Once
}

// StartEcho binds sockets wildcard sockets on one free port and serves.
func StartEcho(sockets int) (*Echo, error) { return startEcho(sockets, serveEcho) }

// StartEchoBatched is StartEcho with batched system calls: each goroutine
// receives up to 32 datagrams per recvmmsg and echoes them with one
// sendmmsg (Linux; elsewhere it is StartEcho). It is the baseline for a
// server that batches.
func StartEchoBatched(sockets int) (*Echo, error) { return startEcho(sockets, serveEchoBatched) }

func startEcho(sockets int, serve func(*net.UDPConn)) (*Echo, error) {
	if sockets < 1 {
		return nil, fmt.Errorf("benchutil: echo with %d sockets", sockets)
	}
	e := &Echo{}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = reusePort(fd) }); err != nil {
			return err
		}
		return serr
	}}
	for range sockets {
		pc, err := lc.ListenPacket(context.Background(), "udp4", netip.AddrPortFrom(netip.IPv4Unspecified(), e.port).String())
		if err != nil {
			_ = e.Close()
			return nil, fmt.Errorf("benchutil: echo socket: %w", err)
		}
		c := pc.(*net.UDPConn)
		_ = c.SetReadBuffer(8 << 20)
		_ = c.SetWriteBuffer(8 << 20)
		e.port = c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
		e.conns = append(e.conns, c)
	}
	for _, c := range e.conns {
		e.wg.Go(func() { serve(c) })
	}
	return e, nil
}

func serveEcho(c *net.UDPConn) {
	buf := make([]byte, 65536)
	for {
		n, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		_, _ = c.WriteToUDPAddrPort(buf[:n], src)
	}
}

// Port is the port every socket listens on.
func (e *Echo) Port() uint16 { return e.port }

// Close stops the server and waits for its goroutines. It is safe to call
// more than once.
func (e *Echo) Close() error {
	var errs []error
	e.once.Do(func() {
		for _, c := range e.conns {
			errs = append(errs, c.Close())
		}
		e.wg.Wait()
	})
	return errors.Join(errs...)
}
