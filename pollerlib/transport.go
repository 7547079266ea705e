package pollerlib

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// retiredRing is how many finished request-ids each socket remembers, to
// tell late and duplicate responses from unknown ones and to keep from
// reusing an id while its responses may still be on the way.
const retiredRing = 1 << 16

// idShards is how many parts a socket's request-id table is split into,
// each under its own lock; an id's low bits name its part.
//
// With one lock per socket, every send, every finish and every reply of
// a socket took it: about 35,000 times a second per socket at 700,000
// devices. On a saturated host a woken waiter queues behind every other
// runnable goroutine, and while it does the lock's queue grows; a
// goroutine dump taken as one socket's replies were being dropped showed
// 24 goroutines waiting for that socket's lock and 3 for the other's,
// and the socket's readers, which need it to hand a reply on, among them.
const idShards = 16

// idShard is one part of a socket's request-id table.
type idShard struct {
	mu  sync.Mutex
	rng *rand.Rand
	ids map[uint32]slot
	// retired maps recently finished ids to whether they were answered.
	retired map[uint32]bool
	ring    []uint32
	ringPos int
	_       [64]byte // keeps two shards' locks off one cache line
}

// transport is the poller's fixed set of UDP sockets, each with one demux
// goroutine that hands responses to the call that sent the request.
type transport struct {
	socks []*udpSock
	rr    atomic.Uint32
	wg    sync.WaitGroup
	st    *counters
	// calls keeps finished calls for new exchanges to reuse: their
	// channel, id and send-time slices, timer and request buffer would
	// otherwise be a dozen allocations an exchange.
	calls sync.Pool
	// rcvbuf is the receive buffer asked for and granted (rcvbuf.go).
	rcvbuf ReadBufferStats
}

// udpSock is one shared socket and the requests in flight on it.
type udpSock struct {
	conn *net.UDPConn
	rd   reader
	st   *counters
	// helper reads for exchanges that find the demux behind (help), one
	// at a time (helpMu); readAt is when the demux or a helper last took
	// datagrams (UnixNano).
	helper reader
	helpMu sync.Mutex
	readAt atomic.Int64
	// next picks the shard of a new request-id, in turn.
	next   atomic.Uint32
	shards [idShards]idShard
}

// slot is one request-id in flight.
type slot struct {
	c        *call
	answered bool
}

// call is one exchange: up to limit datagrams (one per attempt, each with
// its own request-id) to one destination, and the channel their responses
// arrive on. Only the goroutine that made it uses it, besides the demux,
// which sends on ch only under the id's shard lock and only for ids still
// in flight there: once
// finish has retired them, nothing more arrives and the call can be
// reused.
type call struct {
	t     *transport
	s     *udpSock
	dst   netip.AddrPort
	limit int
	ch    chan reply
	ids   []uint32
	sent  []sentAt
	timer *time.Timer
	buf   []byte // the request being encoded
}

// sentAt is when the request with id went out.
type sentAt struct {
	id uint32
	at time.Time
}

// reply is a datagram matched to a call.
type reply struct {
	data []byte
	id   uint32
	at   time.Time
}

func newTransport(cfg *config, st *counters, seed uint64) (*transport, error) {
	t := &transport{st: st, rcvbuf: ReadBufferStats{Wanted: cfg.rcvbufWanted()}}
	network := "udp4"
	if !cfg.local.Unmap().Is4() {
		network = "udp6"
	}
	for i := range cfg.sockets {
		c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(cfg.local, 0)))
		if err != nil {
			t.close()
			return nil, fmt.Errorf("pollerlib: socket %d: %w", i, err)
		}
		rd, err := newReader(c)
		var helper reader
		if err == nil {
			helper, err = newReader(c)
		}
		if err != nil {
			_ = c.Close()
			t.close()
			return nil, fmt.Errorf("pollerlib: socket %d: %w", i, err)
		}
		got := sizeBuffers(c, t.rcvbuf.Wanted)
		if i == 0 || got < t.rcvbuf.Granted {
			t.rcvbuf.Granted = got
		}
		s := &udpSock{conn: c, rd: rd, helper: helper, st: st}
		for k := range s.shards {
			s.shards[k] = idShard{
				rng:     rand.New(rand.NewPCG(seed, uint64(i*idShards+k)+0x9e3779b97f4a7c15)),
				ids:     make(map[uint32]slot),
				retired: make(map[uint32]bool),
				ring:    make([]uint32, 0, retiredRing/idShards),
			}
		}
		t.socks = append(t.socks, s)
		st.goroutines.Add(1)
		hold := cfg.demuxHold
		t.wg.Go(func() {
			defer st.goroutines.Add(-1)
			if hold != nil {
				<-hold
			}
			s.demux()
		})
	}
	t.rcvbuf.Capped = t.rcvbuf.Granted > 0 && t.rcvbuf.Granted < t.rcvbuf.Wanted
	return t, nil
}

// close closes every socket and waits for the demux goroutines.
func (t *transport) close() error {
	var errs []error
	for _, s := range t.socks {
		if err := s.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	t.wg.Wait()
	return errors.Join(errs...)
}

// newCall starts an exchange with dst of at most attempts datagrams, on the
// next socket in turn. The caller must call finish.
func (t *transport) newCall(dst netip.AddrPort, attempts int) *call {
	s := t.socks[int(t.rr.Add(1))%len(t.socks)]
	c, _ := t.calls.Get().(*call)
	if c == nil || cap(c.ch) < attempts {
		c = &call{t: t, ch: make(chan reply, attempts), timer: time.NewTimer(time.Hour)}
		c.timer.Stop()
	}
	c.s, c.dst, c.limit = s, dst, attempts
	return c
}

// send allocates a request-id, encodes the request with it and sends it;
// now is the exchange's clock reading for the attempt.
func (c *call) send(encode func(id uint32) ([]byte, error), now time.Time) (uint32, error) {
	if len(c.ids) == c.limit {
		return 0, errors.New("pollerlib: internal: more attempts than the call allows")
	}
	s := c.s
	k := s.next.Add(1) % idShards
	sh := &s.shards[k]
	sh.mu.Lock()
	id := sh.allocLocked(k)
	sh.ids[id] = slot{c: c}
	sh.mu.Unlock()
	c.ids = append(c.ids, id)
	b, err := encode(id)
	if err != nil {
		return id, err
	}
	if _, err := s.conn.WriteToUDPAddrPort(b, c.dst); err != nil {
		s.st.sendErrors.Add(1)
		return id, err
	}
	s.st.requests.Add(1)
	if now.UnixNano()-s.readAt.Load() > int64(demuxBehind) {
		s.help()
	}
	return id, nil
}

// demuxBehind is how long since the demux last read that an exchange
// sending a request reads the socket itself (help).
const demuxBehind = time.Millisecond

// help reads the datagrams waiting on the socket and routes them, as the
// demux would, unless another exchange is doing so.
//
// The demux goroutine waits in Go's network poller, and the runtime looks
// there only when a processor has nothing else to run, or when its
// monitor thread finds the network unpolled for 10 ms; what it finds then
// queues behind every runnable goroutine. On a saturated host the
// poller's exchanges are always runnable, so replies wait in the socket
// for the demux, while the exchanges' timers, which the runtime runs at
// every scheduling, fire over them: spurious retransmits, which add to
// the load. In the scale benchmark at 720,000-750,000 devices on 2 cores
// that was a collapse: both sockets' receive queues full (4 and 8 MB),
// tens of thousands of replies dropped, round trips' median from under
// 1 ms to 100-160 ms. An exchange that runs is a goroutine sure to be
// scheduled, so when no one has read the socket for demuxBehind it reads
// it after sending, and it always does before its timer counts a
// timeout. One helper at a time (TryLock): a second finds it busy and
// goes on, so helping never waits.
func (s *udpSock) help() {
	if !s.helpMu.TryLock() {
		return
	}
	defer s.helpMu.Unlock()
	for {
		n, err := s.helper.poll()
		if err != nil || n == 0 {
			return
		}
		s.deliver(s.helper, n, time.Now())
		s.st.helped.Add(uint64(n))
		if n < readBatch {
			return
		}
	}
}

// finish retires the call's request-ids: responses to them that arrive
// later are counted as late or duplicate and dropped. The call is then
// reused: its owner must not touch it again.
func (c *call) finish() {
	s := c.s
	for _, id := range c.ids {
		sh := s.shard(id)
		sh.mu.Lock()
		sl := sh.ids[id]
		delete(sh.ids, id)
		sh.retireLocked(id, sl.answered)
		sh.mu.Unlock()
	}
	for len(c.ch) > 0 { // replies the exchange did not wait for
		<-c.ch
	}
	c.timer.Stop()
	c.s, c.dst, c.ids, c.sent = nil, netip.AddrPort{}, c.ids[:0], c.sent[:0]
	if cap(c.buf) > 4096 { // keep no jumbo request's buffer
		c.buf = nil
	}
	c.t.calls.Put(c)
}

// shard is the part of the table id belongs to.
func (s *udpSock) shard(id uint32) *idShard { return &s.shards[id%idShards] }

// allocLocked picks a random unused request-id in [1, 2^31-1] of shard k
// (its low bits k). Random ids keep an agent that answers with a
// neighbouring id (a WrongID fault) from reaching another caller.
func (sh *idShard) allocLocked(k uint32) uint32 {
	for {
		id := uint32(sh.rng.Int32N(1<<31/idShards))*idShards + k
		if id == 0 {
			continue
		}
		if _, busy := sh.ids[id]; busy {
			continue
		}
		if _, recent := sh.retired[id]; recent {
			continue
		}
		return id
	}
}

func (sh *idShard) retireLocked(id uint32, answered bool) {
	const n = retiredRing / idShards
	if len(sh.ring) < n {
		sh.ring = append(sh.ring, id)
	} else {
		delete(sh.retired, sh.ring[sh.ringPos])
		sh.ring[sh.ringPos] = id
		sh.ringPos = (sh.ringPos + 1) % n
	}
	sh.retired[id] = answered
}

// maxDatagram is the room for one response: the largest UDP payload.
const maxDatagram = 65536

// readBatch is the most datagrams one read takes (one recvmmsg on Linux).
const readBatch = 32

// reader takes datagrams from a socket, as many per call as it can
// (recvmmsg on Linux, demux_linux.go; one elsewhere).
type reader interface {
	// read waits for at least one datagram and returns how many it took.
	read() (int, error)
	// poll takes the datagrams waiting, without waiting: 0 if none.
	poll() (int, error)
	// msg is the i-th datagram of the last read and its source; false if
	// it came truncated.
	msg(i int) (b []byte, src netip.AddrPort, ok bool)
}

// demux reads responses until the socket closes and hands each to the call
// whose request-id and destination it matches; everything else is counted
// and dropped.
func (s *udpSock) demux() {
	for {
		n, err := s.rd.read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.st.readErrors.Add(1)
			if n == 0 {
				continue
			}
		}
		// One clock reading for the batch: its datagrams were all waiting
		// when the read returned.
		s.deliver(s.rd, n, time.Now())
	}
}

// deliver routes the n datagrams rd's last read took, received at now.
func (s *udpSock) deliver(rd reader, n int, now time.Time) {
	s.readAt.Store(now.UnixNano())
	s.st.received.Add(uint64(n))
	for i := range n {
		b, src, ok := rd.msg(i)
		if !ok {
			s.st.malformed.Add(1)
			continue
		}
		s.route(b, src, now)
	}
}

// route hands datagram b from src to the call it answers, or counts it.
func (s *udpSock) route(b []byte, src netip.AddrPort, now time.Time) {
	id, ok := matchID(b)
	if !ok {
		s.st.malformed.Add(1)
		return
	}
	// The copy the caller gets is made before the lock is taken: an
	// allocation can stop for the garbage collector's assist, and nothing
	// else of the shard should wait for that. (Late and duplicate
	// replies, which are dropped, are rare.)
	data := append([]byte(nil), b...)
	sh := s.shard(id)
	sh.mu.Lock()
	sl, inFlight := sh.ids[id]
	switch {
	case !inFlight:
		answered, known := sh.retired[id]
		sh.mu.Unlock()
		switch {
		case !known:
			s.st.unknown.Add(1)
		case answered:
			s.st.duplicate.Add(1)
		default:
			s.st.late.Add(1)
		}
	case sl.c.dst != src:
		sh.mu.Unlock()
		s.st.mismatched.Add(1)
	case sl.answered:
		sh.mu.Unlock()
		s.st.duplicate.Add(1)
	default:
		sl.answered = true
		sh.ids[id] = sl
		// Never blocks: the channel holds one reply per id of the call.
		// Sent under the lock, so that none arrives after finish.
		sl.c.ch <- reply{data: data, id: id, at: now}
		sh.mu.Unlock()
	}
}

// matchID extracts the request-id of a v1/v2c Response (or Report) whose
// outer length covers the datagram exactly; for SNMPv3, the msgID.
func matchID(b []byte) (uint32, bool) {
	tag, msg, rest, ok := tlv(b)
	if !ok || tag != 0x30 || len(rest) != 0 {
		return 0, false
	}
	tag, ver, msg, ok := tlv(msg)
	if ok && tag == 0x02 && len(ver) == 1 && ver[0] == 3 {
		return matchMsgID(msg)
	}
	if !ok || tag != 0x02 || len(ver) != 1 || ver[0] > 1 {
		return 0, false
	}
	tag, _, msg, ok = tlv(msg)
	if !ok || tag != 0x04 {
		return 0, false
	}
	tag, pdu, _, ok := tlv(msg)
	if !ok || (tag != 0xa2 && tag != 0xa8) {
		return 0, false
	}
	return leadingID(pdu)
}

// leadingID decodes the INTEGER that starts b as a request-id or msgID:
// both lie in 1..2^31-1.
func leadingID(b []byte) (uint32, bool) {
	tag, idb, _, ok := tlv(b)
	if !ok || tag != 0x02 || len(idb) == 0 || len(idb) > 5 {
		return 0, false
	}
	v := int64(int8(idb[0]))
	for _, c := range idb[1:] {
		v = v<<8 | int64(c)
	}
	if v < 1 || v > 1<<31-1 {
		return 0, false
	}
	return uint32(v), true
}

// tlv splits one BER TLV (definite length, at most 4 length octets) off b.
func tlv(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	tag, l, off := b[0], int(b[1]), 2
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, false
		}
		l = 0
		for _, c := range b[2 : 2+k] {
			l = l<<8 | int(c)
		}
		off += k
	}
	if l < 0 || len(b)-off < l {
		return 0, nil, nil, false
	}
	return tag, b[off : off+l], b[off+l:], true
}
