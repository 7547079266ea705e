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
}

// serve reads requests from s until it is closed and answers them inline:
// no goroutine per request, no handoff.
func (f *Fleet) serve(s *socket) {
	w := &worker{buf: make([]byte, 65536), oob: make([]byte, oobSize), woob: make([]byte, oobSize)}
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
	w.lc = lookupCtx{store: f.cfg.Store, plan: p, v1: v1, age: now.Sub(time.Unix(0, a.start.Load())), seed: a.seed}
	if d.wrongID {
		// Answer as an agent confusing its requests would.
		w.idBuf = ber.AppendInt(w.idBuf[:0], wrongID(req.reqIDVal))
		req.reqID = w.idBuf
	}
	out, truncated := w.resp.respond(&w.lc, req, &d, maxSize, bulkCap)
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
			f.delayq.push(&pending{due: due, sock: s, dst: src, src: a.addr.Addr(), data: append([]byte(nil), out...), agent: a})
		}
		return
	}
	for range copies {
		f.send(s, a, out, src, w.woob)
	}
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

// sendPending sends a delayed reply; it runs on the delay queue's goroutine.
func (f *Fleet) sendPending(p *pending) {
	if f.closing.Load() {
		p.agent.c.drop(DropClosed)
		return
	}
	var oob [64]byte
	f.send(p.sock, p.agent, p.data, p.dst, oob[:])
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
