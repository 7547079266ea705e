package simagent

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// worker is the per-goroutine scratch of a serving socket.
type worker struct {
	buf   []byte
	oob   []byte
	woob  []byte
	req   request
	resp  responder
	lc    lookupCtx
	idBuf []byte
	v3    *v3Scratch // SNMPv3 buffers, made on first use
	// out collects the replies to one received batch (shared sockets on
	// Linux); nil: each reply is sent at once.
	out *mmsgBatch
}

func newWorker() *worker {
	return &worker{buf: make([]byte, 65536), oob: make([]byte, oobSize), woob: make([]byte, oobSize)}
}

// serve reads requests from s until it is closed and answers them inline:
// no goroutine per request, no handoff.
func (f *Fleet) serve(s *socket) {
	w := newWorker()
	if s.shared && batchSupported {
		if b, err := newBatch(s); err == nil {
			w.out = b
			f.serveBatches(s, w)
			return
		}
	}
	for {
		n, src, dst, err := s.read(w.buf, w.oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || f.closing.Load() {
				return
			}
			continue // e.g. ICMP errors surfaced on the socket
		}
		a := f.agentFor(s, dst)
		if a == nil {
			f.fleetC.drop(DropUnknownAgent)
			continue
		}
		f.handle(w, s, a, w.buf[:n], src)
	}
}

// serveBatches is serve with batched syscalls: each recvmmsg takes the
// requests waiting on the socket (up to batchSize), each is answered in
// turn, and their undelayed replies go out together with one sendmmsg
// before the next receive. Nothing is held across receives, so a reply
// waits at most for the rest of its own batch.
func (f *Fleet) serveBatches(s *socket, w *worker) {
	b := w.out
	for {
		n, err := b.recv()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || f.closing.Load() {
				return
			}
			continue // e.g. ICMP errors surfaced on the socket
		}
		for i := range n {
			pkt, src, dst := b.msg(i)
			a := f.agentFor(s, dst)
			if a == nil {
				f.fleetC.drop(DropUnknownAgent)
				continue
			}
			f.handle(w, s, a, pkt, src)
		}
		if err := b.flush(); err != nil && (errors.Is(err, net.ErrClosed) || f.closing.Load()) {
			return
		}
	}
}

// handle answers one request to agent a.
func (f *Fleet) handle(w *worker, s *socket, a *agent, pkt []byte, src netip.AddrPort) {
	c := &a.c
	c.requests.Add(1)
	c.bytesIn.Add(uint64(len(pkt)))
	req := &w.req
	if err := req.decode(pkt); err != nil {
		c.malformed.Add(1)
		c.drop(DropMalformed)
		return
	}
	if req.version == 3 {
		f.handleV3(w, s, a, pkt, src)
		return
	}
	if req.version != 0 && req.version != 1 {
		c.drop(DropUnsupported)
		return
	}
	if string(req.community) != f.cfg.Community {
		c.drop(DropBadCommunity)
		return
	}
	v1 := req.version == 0
	switch req.pdu {
	case ber.PDUGet, ber.PDUGetNext, ber.PDUSet:
	case ber.PDUGetBulk:
		if v1 {
			c.drop(DropUnsupported)
			return
		}
	default:
		c.drop(DropUnsupported)
		return
	}
	now := f.cfg.Clock()
	fs := a.faults.Load()
	d := fs.decide(now)
	if d.drop != "" {
		c.drop(d.drop)
		return
	}
	p := fs.plan
	maxSize, bulkCap := f.cfg.MaxMsgSize, 0
	if t := p.spec.Truncate; t != nil {
		if t.MaxMsgSize > 0 {
			maxSize = min(maxSize, t.MaxMsgSize)
		}
		bulkCap = t.BulkVarbinds
	}
	w.lc = f.lookupFor(a, p, v1, now)
	if d.wrongID {
		// Answer as an agent confusing its requests would.
		w.idBuf = ber.AppendInt(w.idBuf[:0], wrongID(req.reqIDVal))
		req.reqID = w.idBuf
	}
	out, truncated := w.resp.respond(&w.lc, req, &d, maxSize, bulkCap)
	if d.drop != "" { // the recording's own fault (a delay module record)
		c.drop(d.drop)
		return
	}
	if len(p.prefixes) > 0 {
		// A slow subtree slows replies that carry its OIDs, whether the
		// request named them (Get) or they came next (GetNext, GetBulk).
		d.delay = p.delayFor(d.baseDelay, req.oids, w.resp.names)
	}
	faulted := d.errStatus != 0 || p.loopAfter != nil || p.eomAfter != nil
	if d.wrongID {
		faulted = true
	}
	if d.garbage {
		fs.garbage(out)
		faulted = true
	}
	if t := p.spec.Truncate; t != nil && t.CutBytes > 0 && len(out) > t.CutBytes {
		out = out[:t.CutBytes]
		truncated = true
	}
	if truncated { // once per reply, however it was cut
		c.truncated.Add(1)
		// Cut under a truncate fault (bulk-cut, maxmsg, cut-bytes): the
		// fault altered the reply.
		faulted = faulted || p.spec.Truncate != nil
	}
	if d.duplicate > 0 {
		faulted = true
	}
	if faulted {
		c.faulted.Add(1)
	}
	copies := 1 + d.duplicate
	if d.delay > 0 {
		c.delayed.Add(1)
		due := time.Now().Add(d.delay)
		for range copies {
			if !f.delayq.push(&pending{due: due, sock: s, dst: src, src: a.addr.Addr(), data: append([]byte(nil), out...), agent: a}) {
				c.drop(DropQueueFull)
			}
		}
		return
	}
	for range copies {
		f.reply(w, s, a, out, src)
	}
}

// reply sends b to dst from agent a now, or queues it in the worker's
// batch.
func (f *Fleet) reply(w *worker, s *socket, a *agent, b []byte, dst netip.AddrPort) {
	if w.out == nil {
		f.send(s, a, b, dst, w.woob)
		return
	}
	if w.out.full() { // duplicates can outnumber the requests of a batch
		_ = w.out.flush()
	}
	// Count first, as send does; flush takes back what the kernel refuses.
	a.c.responses.Add(1)
	a.c.bytesOut.Add(uint64(len(b)))
	w.out.queue(b, dst, a)
}

func (f *Fleet) send(s *socket, a *agent, b []byte, dst netip.AddrPort, oob []byte) {
	// Count first: a client that holds the reply finds it in Stats.
	a.c.responses.Add(1)
	a.c.bytesOut.Add(uint64(len(b)))
	if err := s.write(b, dst, a.addr.Addr(), oob); err != nil {
		a.c.responses.Add(^uint64(0))
		a.c.bytesOut.Add(^uint64(len(b) - 1))
	}
}

// sendPending sends delayed replies now due; it runs on the delay queue's
// goroutine. On shared sockets they go out batched, one sendmmsg per
// socket for as many as are due together.
func (f *Fleet) sendPending(ps []*pending) {
	if f.closing.Load() {
		for _, p := range ps {
			p.agent.c.drop(DropClosed)
		}
		return
	}
	var oob [64]byte
	for _, p := range ps {
		b := f.pendingBatch(p.sock)
		if b == nil {
			f.send(p.sock, p.agent, p.data, p.dst, oob[:])
			continue
		}
		if b.full() {
			_ = b.flush()
		}
		p.agent.c.responses.Add(1)
		p.agent.c.bytesOut.Add(uint64(len(p.data)))
		b.queue(p.data, p.dst, p.agent)
	}
	for _, b := range f.delayOut {
		if b != nil {
			_ = b.flush()
		}
	}
}

// pendingBatch is the delay queue's send batch for shared socket s (nil:
// send one by one). Only the delay queue's goroutine calls it.
func (f *Fleet) pendingBatch(s *socket) *mmsgBatch {
	if !s.shared || !batchSupported {
		return nil
	}
	if b, ok := f.delayOut[s]; ok {
		return b
	}
	b, err := newSendBatch(s)
	if err != nil {
		b = nil
	}
	if f.delayOut == nil {
		f.delayOut = make(map[*socket]*mmsgBatch)
	}
	f.delayOut[s] = b
	return b
}

// wrongID is a request-id other than id and other than 0 (which some
// clients accept from any request).
func wrongID(id int64) int64 {
	w := (id + 1) & 0x7fffffff
	if w == 0 {
		w = 1
	}
	return w
}
