package benchutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Load is a closed-loop UDP request load: Conns client sockets, each keeping
// Window requests outstanding; every reply sends the next request, to the
// next target in turn. Requests are encoded once; only their request-id is
// patched (slot and generation), so the generator stays cheap next to the
// server it measures and a late reply is never counted twice. A request
// unanswered for Timeout is sent again.
//
// Side targets, when set, get one extra open-loop request per SideEvery main
// requests; those never hold a slot, so a slow side target cannot throttle
// the closed loop. They go out from sockets of their own, outside Go's
// network poller, whose replies are collected and counted every
// sideCollect. On loopback the sender of a datagram pays for waking its
// receiver, and a side reply that comes late (the delayed replies of
// BenchmarkFleetDelayIsolation) would otherwise wake the generator by
// itself and so charge the server under test for it.
type Load struct {
	// Targets receive the main requests, in turn.
	Targets []netip.AddrPort
	// Packets are SNMP v1/v2c requests whose request-id has 4 content
	// octets; slot i sends Packets[i%len(Packets)].
	Packets [][]byte
	// Conns is the number of client sockets (default 2).
	Conns int
	// Window is the number of outstanding requests per socket (default 32,
	// at most 1024).
	Window int
	// Local is the client sockets' address (default 127.0.0.1).
	Local netip.Addr
	// Side are targets of the open-loop side requests.
	Side []netip.AddrPort
	// SideEvery is the number of main requests per side request.
	SideEvery int
	// Timeout is how long a request waits before it is sent again
	// (default 250ms).
	Timeout time.Duration
}

// Result is what a Load run counted.
type Result struct {
	Elapsed     time.Duration
	Replies     uint64 // main replies received during the run
	Resent      uint64 // main requests sent again after Timeout
	Stale       uint64 // replies to requests already sent again, or unparsable
	SideSent    uint64
	SideReplies uint64
}

// Rate is main replies per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Replies) / r.Elapsed.Seconds()
}

func (r *Result) add(o Result) {
	r.Replies += o.Replies
	r.Resent += o.Resent
	r.Stale += o.Stale
	r.SideSent += o.SideSent
	r.SideReplies += o.SideReplies
}

const (
	maxWindow = 1 << 10
	slotMask  = maxWindow - 1
	genBits   = 19
	genMask   = 1<<genBits - 1
	// sideCollect is how often side replies are collected.
	sideCollect = 10 * time.Millisecond
	mainIDs     = 0x40000000 // | gen<<10 | slot: top byte 0x40-0x5f
	sideIDs     = 0x7f000000 // | counter: top byte 0x7f
)

func (l *Load) withDefaults() (Load, error) {
	c := *l
	if c.Conns == 0 {
		c.Conns = 2
	}
	if c.Window == 0 {
		c.Window = 32
	}
	if !c.Local.IsValid() {
		c.Local = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if c.Timeout == 0 {
		c.Timeout = 250 * time.Millisecond
	}
	switch {
	case len(c.Targets) == 0:
		return c, errors.New("benchutil: Load needs Targets")
	case len(c.Packets) == 0:
		return c, errors.New("benchutil: Load needs Packets")
	case c.Conns < 0 || c.Window < 1 || c.Window > maxWindow:
		return c, fmt.Errorf("benchutil: Load with %d conns of window %d (window must be 1-%d)", c.Conns, c.Window, maxWindow)
	case len(c.Side) > 0 && c.SideEvery < 1:
		return c, errors.New("benchutil: Load with Side targets needs SideEvery >= 1")
	}
	for i, p := range c.Packets {
		if _, ok := requestIDAt(p); !ok {
			return c, fmt.Errorf("benchutil: Packets[%d] is not a v1/v2c request with a 4-octet request-id", i)
		}
	}
	return c, nil
}

// Run drives the load for d (or until ctx is done) and returns the counts.
func (l *Load) Run(ctx context.Context, d time.Duration) (Result, error) {
	cfg, err := l.withDefaults()
	if err != nil {
		return Result{}, err
	}
	conns := make([]*connLoad, 0, cfg.Conns)
	defer func() {
		for _, c := range conns {
			_ = c.bc.close()
			if c.side != nil {
				_ = c.side.close()
			}
		}
	}()
	for k := range cfg.Conns {
		bc, err := listenBatch(cfg.Local, cfg.Window*2+1)
		if err != nil {
			return Result{}, err
		}
		c := newConnLoad(&cfg, bc, k)
		conns = append(conns, c)
		if len(cfg.Side) > 0 {
			if c.side, err = listenUnpolled(cfg.Local, cfg.Window*2+1); err != nil {
				return Result{}, err
			}
		}
	}
	start := time.Now()
	end := start.Add(d)
	if dl, ok := ctx.Deadline(); ok && dl.Before(end) {
		end = dl
	}
	errs := make([]error, len(conns)+1)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { errs[i] = c.run(ctx, end) })
	}
	var sideReplies uint64
	if len(cfg.Side) > 0 {
		wg.Go(func() { sideReplies, errs[len(conns)] = collectSide(ctx, conns, end) })
	}
	wg.Wait()
	res := Result{Elapsed: min(time.Since(start), end.Sub(start)), SideReplies: sideReplies}
	for _, c := range conns {
		res.add(c.res)
	}
	return res, errors.Join(errs...)
}

// listenBatch opens a client socket on local.
func listenBatch(local netip.Addr, n int) (batchConn, error) {
	uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
	if err != nil {
		return nil, fmt.Errorf("benchutil: client socket: %w", err)
	}
	_ = uc.SetReadBuffer(4 << 20)
	_ = uc.SetWriteBuffer(4 << 20)
	bc, err := newBatchConn(uc, n)
	if err != nil {
		_ = uc.Close()
		return nil, err
	}
	return bc, nil
}

// collectSide counts the side replies that reach the conns' side sockets
// until end, collecting every sideCollect.
func collectSide(ctx context.Context, conns []*connLoad, end time.Time) (uint64, error) {
	t := time.NewTicker(sideCollect)
	defer t.Stop()
	var n uint64
	for {
		for _, c := range conns {
			k, err := c.side.drain()
			if err != nil {
				return n, err
			}
			n += uint64(k)
		}
		if !time.Now().Before(end) {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, nil
		case <-t.C:
		}
	}
}

// slot is one outstanding request of a connection.
type slot struct {
	pkt    []byte
	idOff  int
	gen    uint32
	sentAt time.Time
	busy   bool
}

// connLoad is the closed loop of one client socket.
type connLoad struct {
	cfg      *Load
	bc       batchConn
	side     batchConn // side requests' socket; nil without Side
	slots    []slot
	next     int // next main target
	sideNext int
	sideAcc  int
	sideN    uint32
	sidePkts []slot // ring of side request buffers (only pkt and idOff used)
	out      []outMsg
	sideOut  []outMsg
	res      Result
}

// batchConn sends and receives many datagrams per system call where the
// platform allows (sendmmsg/recvmmsg on Linux).
type batchConn interface {
	send(msgs []outMsg) error
	// recv waits until the deadline for at least one datagram and returns
	// how many it read; msg(i) is the i-th.
	recv(deadline time.Time) (int, error)
	// drain reads whatever datagrams are queued, without waiting for
	// more, and returns how many.
	drain() (int, error)
	msg(i int) []byte
	// max is the most datagrams one send takes.
	max() int
	close() error
}

// outMsg is one datagram to send.
type outMsg struct {
	dst netip.AddrPort
	pkt []byte
}

func newConnLoad(cfg *Load, bc batchConn, k int) *connLoad {
	c := &connLoad{cfg: cfg, bc: bc, next: k * len(cfg.Targets) / max(cfg.Conns, 1)}
	c.slots = make([]slot, cfg.Window)
	for i := range c.slots {
		p := cfg.Packets[i%len(cfg.Packets)]
		off, _ := requestIDAt(p)
		c.slots[i] = slot{pkt: append([]byte(nil), p...), idOff: off}
	}
	if len(cfg.Side) > 0 {
		// One loop turn queues at most 3*Window+1 requests (a full read
		// and every slot resent), so the ring never wraps within a flush.
		c.sidePkts = make([]slot, 4*cfg.Window+2)
		for i := range c.sidePkts {
			p := cfg.Packets[i%len(cfg.Packets)]
			off, _ := requestIDAt(p)
			c.sidePkts[i] = slot{pkt: append([]byte(nil), p...), idOff: off}
		}
	}
	return c
}

func (c *connLoad) run(ctx context.Context, end time.Time) error {
	now := time.Now()
	for i := range c.slots {
		c.queue(i, now)
	}
	if err := c.flush(); err != nil {
		return err
	}
	tick := c.cfg.Timeout / 4
	lastScan := now
	for ctx.Err() == nil {
		now = time.Now()
		if !now.Before(end) {
			return nil
		}
		dl := now.Add(tick)
		if dl.After(end) {
			dl = end
		}
		n, err := c.bc.recv(dl)
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		now = time.Now()
		counting := now.Before(end)
		for i := range n {
			c.onReply(c.bc.msg(i), now, counting)
		}
		if now.Sub(lastScan) >= tick {
			c.resendLate(now)
			lastScan = now
		}
		if err := c.flush(); err != nil {
			return err
		}
	}
	return nil
}

func (c *connLoad) onReply(b []byte, now time.Time, counting bool) {
	off, ok := requestIDAt(b)
	if !ok {
		c.res.Stale++
		return
	}
	id := uint32(b[off])<<24 | uint32(b[off+1])<<16 | uint32(b[off+2])<<8 | uint32(b[off+3])
	i := int(id & slotMask)
	if id&0xe0000000 != mainIDs&0xe0000000 || i >= len(c.slots) {
		c.res.Stale++
		return
	}
	s := &c.slots[i]
	if !s.busy || (id>>10)&genMask != s.gen&genMask {
		c.res.Stale++
		return
	}
	s.busy = false
	if counting {
		c.res.Replies++
	}
	c.queue(i, now)
}

// queue sends slot i again, to the next target.
func (c *connLoad) queue(i int, now time.Time) {
	s := &c.slots[i]
	s.gen++
	putID(s.pkt[s.idOff:], mainIDs|(s.gen&genMask)<<10|uint32(i))
	s.busy, s.sentAt = true, now
	c.out = append(c.out, outMsg{dst: c.cfg.Targets[c.next], pkt: s.pkt})
	if c.next++; c.next == len(c.cfg.Targets) {
		c.next = 0
	}
	if len(c.cfg.Side) == 0 {
		return
	}
	if c.sideAcc++; c.sideAcc < c.cfg.SideEvery {
		return
	}
	c.sideAcc = 0
	sp := &c.sidePkts[int(c.sideN)%len(c.sidePkts)]
	putID(sp.pkt[sp.idOff:], sideIDs|c.sideN&0xffffff)
	c.sideN++
	c.sideOut = append(c.sideOut, outMsg{dst: c.cfg.Side[c.sideNext], pkt: sp.pkt})
	if c.sideNext++; c.sideNext == len(c.cfg.Side) {
		c.sideNext = 0
	}
	c.res.SideSent++
}

// resendLate sends again the requests unanswered for Timeout.
func (c *connLoad) resendLate(now time.Time) {
	for i := range c.slots {
		if s := &c.slots[i]; s.busy && now.Sub(s.sentAt) > c.cfg.Timeout {
			c.res.Resent++
			c.queue(i, now)
		}
	}
}

func (c *connLoad) flush() error {
	var err error
	if c.out, err = sendAll(c.bc, c.out); err != nil {
		return err
	}
	if len(c.sideOut) > 0 {
		c.sideOut, err = sendAll(c.side, c.sideOut)
	}
	return err
}

// sendAll sends msgs on bc and returns msgs emptied for reuse.
func sendAll(bc batchConn, msgs []outMsg) ([]outMsg, error) {
	for rest := msgs; len(rest) > 0; {
		n := min(len(rest), bc.max())
		if err := bc.send(rest[:n]); err != nil {
			return msgs[:0], err
		}
		rest = rest[n:]
	}
	return msgs[:0], nil
}

func putID(b []byte, id uint32) {
	b[0], b[1], b[2], b[3] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
}

// requestIDAt finds the content octets of the request-id of a v1/v2c
// message and reports whether there are exactly 4.
func requestIDAt(b []byte) (int, bool) {
	off := 0
	_, msg, ok := tlvAt(b, &off)
	if !ok || msg != len(b) {
		return 0, false
	}
	for range 2 { // skip version and community
		_, end, ok := tlvAt(b, &off)
		if !ok {
			return 0, false
		}
		off = end
	}
	if _, _, ok := tlvAt(b, &off); !ok { // PDU: step inside
		return 0, false
	}
	tag, end, ok := tlvAt(b, &off)
	if !ok || tag != 0x02 || end-off != 4 {
		return 0, false
	}
	return off, true
}

// tlvAt reads the tag and length at *off, moves *off to the content and
// returns the content's end.
func tlvAt(b []byte, off *int) (tag byte, end int, ok bool) {
	p := *off
	if p+2 > len(b) {
		return 0, 0, false
	}
	tag, l := b[p], int(b[p+1])
	p += 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 3 || p+n > len(b) {
			return 0, 0, false
		}
		l = 0
		for _, x := range b[p : p+n] {
			l = l<<8 | int(x)
		}
		p += n
	}
	if l > len(b)-p {
		return 0, 0, false
	}
	*off = p
	return tag, p + l, true
}
