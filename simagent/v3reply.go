package simagent

import (
	"net/netip"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// v3Reply is the reply to one SNMPv3 message in the making.
type v3Reply struct {
	f     *Fleet
	w     *worker
	s     *socket
	a     *agent
	fs    *faultState
	src   netip.AddrPort
	d     *decision
	boots uint32
	time  uint32
	// denied: below the user's security level (authorizationError).
	denied bool
}

// plaintext is the message's ScopedPDU: as received, or decrypted with
// keys (nil when that fails).
func (r *v3Reply) plaintext(keys *usm.Keys) []byte {
	x := r.w.v3
	m := &x.msg
	if !m.Encrypted {
		return m.Data
	}
	var err error
	x.plain, err = keys.Decrypt(x.plain[:0], m.Data, uint32(m.Boots), uint32(m.Time), m.PrivParams)
	if err != nil {
		return nil
	}
	return x.plain
}

// report counts st and, when the message is reportable, answers with a
// Report carrying the counter: authenticated with keys, or not when nil.
// plain is the request's ScopedPDU when known, for its request-id and
// contextName (nil: taken from the message when it is in clear).
func (r *v3Reply) report(st usm.Stat, keys *usm.Keys, plain []byte) {
	x := r.w.v3
	m := &x.msg
	e := r.f.engine(r.a)
	v := e.ctr.Inc(st)
	if m.Flags&usm.FlagReportable == 0 {
		r.a.c.drop(DropUnsupported)
		return
	}
	if plain == nil && !m.Encrypted {
		plain = m.Data
	}
	var reqID int64
	var ctxName []byte
	if plain != nil {
		if _, cn, pdu, err := usm.ScopedPDU(plain); err == nil {
			ctxName = cn
			if _, body, err := ber.NewReader(pdu).Next(); err == nil {
				if id, err := ber.NewReader(body).Int(); err == nil {
					reqID = id
				}
			}
		}
	}
	pdu := usm.AppendReportPDU(x.v2[:0], reqID, st, v)
	x.v2 = pdu
	x.scoped = usm.AppendScopedPDU(x.scoped[:0], e.id, ctxName, pdu)
	h := usm.Header{MsgID: m.MsgID, MaxSize: int64(r.f.cfg.MaxMsgSize), EngineID: e.id,
		Boots: r.boots, Time: r.time, UserName: m.UserName}
	if keys != nil {
		h.Flags, h.Keys = usm.FlagAuth, keys
	}
	x.out = usm.AppendMessage(x.out[:0], &h, x.scoped, &x.crypt)
	e.ctr.Report()
	r.emit(x.out)
}

// answer runs the v1/v2c responder on req, with the faults' lookups, and
// returns its v2c message.
func (r *v3Reply) answer(req *request, now time.Time, maxSize int) ([]byte, bool) {
	f, w, a, d, p := r.f, r.w, r.a, r.d, r.fs.plan
	bulkCap := 0
	if t := p.spec.Truncate; t != nil {
		bulkCap = t.BulkVarbinds
	}
	w.lc = f.lookupFor(a, p, false, now)
	w.lc.denied = r.denied
	if d.wrongID {
		id := (req.reqIDVal + 1) & 0x7fffffff
		if id == 0 {
			id = 1
		}
		w.idBuf = ber.AppendInt(w.idBuf[:0], id)
		req.reqID = w.idBuf
	}
	out, truncated := w.resp.respond(&w.lc, req, d, maxSize, bulkCap)
	if len(p.prefixes) > 0 {
		d.delay = p.delayFor(d.baseDelay, req.oids, w.resp.names)
	}
	return out, truncated
}

// finish applies the reply faults to out and sends it.
func (r *v3Reply) finish(out []byte, truncated bool) {
	c, d, p := &r.a.c, r.d, r.fs.plan
	if truncated {
		c.truncated.Add(1)
	}
	faulted := d.errStatus != 0 || p.loopAfter != nil || p.eomAfter != nil || d.wrongID || d.duplicate > 0
	if d.garbage {
		r.fs.garbage(out)
		faulted = true
	}
	if t := p.spec.Truncate; t != nil && t.CutBytes > 0 && len(out) > t.CutBytes {
		out = out[:t.CutBytes]
		c.truncated.Add(1)
		truncated = true
	}
	// Cut under a truncate fault (bulk-cut, maxmsg, cut-bytes): the fault
	// altered the reply.
	faulted = faulted || (truncated && p.spec.Truncate != nil)
	if faulted {
		c.faulted.Add(1)
	}
	r.emit(out)
}

// emit sends out now, or queues it when the faults delay it, with the
// duplicates they ask for.
func (r *v3Reply) emit(out []byte) {
	f, a, d := r.f, r.a, r.d
	copies := 1 + d.duplicate
	if d.delay > 0 {
		a.c.delayed.Add(1)
		due := time.Now().Add(d.delay)
		for range copies {
			if !f.delayq.push(&pending{due: due, sock: r.s, dst: r.src, src: a.addr.Addr(), data: append([]byte(nil), out...), agent: a}) {
				a.c.drop(DropQueueFull)
			}
		}
		return
	}
	for range copies {
		f.reply(r.w, r.s, a, out, r.src)
	}
}
