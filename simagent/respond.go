package simagent

import (
	"time"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// SNMP error-status values used by the agent.
const (
	errTooBig      = 1
	errNoSuchName  = 2
	errBadValue    = 3
	errGenErr      = 5
	errNotWritable = 17
	// errAuthorization is authorizationError (RFC 3416).
	errAuthorization = 16
)

// responder builds one response into reusable buffers. It belongs to one
// reader goroutine.
type responder struct {
	// What the recording's variation modules ask of this response
	// (mib.Special): an error-status at a varbind, a delay, no reply.
	recStatus, recIndex int
	recDelay            time.Duration
	recDrop             bool
	vbIndex             int // the request varbind being answered, from 1

	vbl  []byte
	out  []byte
	val  []byte
	last [][]uint32 // GetBulk: last OID per repeater
	// GetBulk: the store index of last[j] when it is that store entry's
	// OID, else -1: the next repetition starts after it without a search.
	lastIdx []int
	names   [][]uint32 // names answered, kept only for per-prefix delays
	ended   []bool     // GetBulk: repeater reached endOfMibView
}

// lookupCtx is what a lookup needs to know about the agent and its faults.
type lookupCtx struct {
	store *mib.Store
	plan  *plan
	v1    bool
	age   time.Duration
	seed  uint64
	// maxBulk caps the varbinds of a GetBulk's repetitions (0: no cap).
	maxBulk int
	// denied answers authorizationError (SNMPv3 below the user's level).
	denied bool
	f      *Fleet
	a      *agent
	now    time.Time
}

// lookupFor is what a request to agent a at now looks up, under plan p.
func (f *Fleet) lookupFor(a *agent, p *plan, v1 bool, now time.Time) lookupCtx {
	age := now.Sub(time.Unix(0, a.start.Load()))
	return lookupCtx{store: a.kind.store.Phase(age), plan: p, v1: v1, age: age, seed: a.seed,
		maxBulk: f.cfg.MaxBulkVarbinds, f: f, a: a, now: now}
}

// appendValue appends the content octets of store entry i as the agent
// answers it now: live engine objects from the agent's engine.
func (c *lookupCtx) appendValue(b []byte, i int) []byte {
	if c.a == nil {
		return c.store.AppendValueAt(b, i, c.age, c.now, c.seed)
	}
	return c.f.appendValueOf(b, c.a, c.store, i, c.age, c.now)
}

// appendValueOf appends the content octets of entry i of s (agent a's
// data) as a answers it at now: live engine objects from its engine, its
// identity where the data has one (identity.go).
func (f *Fleet) appendValueOf(b []byte, a *agent, s *mib.Store, i int, age time.Duration, now time.Time) []byte {
	if _, v := s.At(i); v.Dyn != nil {
		switch v.Dyn.Kind {
		case mib.DynLive:
			return f.appendLive(b, a, v.Dyn.Live, now, a.faults.Load().plan)
		case mib.DynIdentity:
			return f.appendIdentity(b, a, v)
		}
	}
	return s.AppendValueAt(b, i, age, now, a.seed)
}

// result of looking up one varbind.
type lookup struct {
	idx  int      // store index, or -1
	name []uint32 // varbind name to answer
	exc  byte     // 0, or ber.TagNoSuchObject/NoSuchInstance/EndOfMibView
}

func (c *lookupCtx) get(oid []uint32) lookup {
	i := c.store.Get(oid)
	if i >= 0 && c.v1 {
		if _, v := c.store.At(i); v.Tag == ber.TagCounter64 {
			i = -1
		}
	}
	if i >= 0 {
		if sp := c.store.Special(i); sp != nil && sp.Broken {
			return lookup{idx: -1, name: oid, exc: ber.TagNoSuchInstance}
		}
		return lookup{idx: i, name: oid}
	}
	// As snmpd: noSuchInstance at or under an object the data implements
	// (a scalar, a column), noSuchObject elsewhere (mib.Store.UnderObject).
	exc := byte(ber.TagNoSuchObject)
	if c.store.UnderObject(oid) {
		exc = ber.TagNoSuchInstance
	}
	return lookup{idx: -1, name: oid, exc: exc}
}

func (c *lookupCtx) next(oid []uint32) lookup { return c.nextFrom(c.store.Next(oid), oid) }

// nextAfter is next(oid) for an oid known to be store entry idx's OID:
// the entry after it, found without a search. A GetBulk repetition asks
// for the entry after the one the previous repetition answered; the
// binary searches that found it again were an eighth of a scale fleet's
// CPU.
func (c *lookupCtx) nextAfter(idx int, oid []uint32) lookup { return c.nextFrom(idx+1, oid) }

// nextFrom is next's answer given i, the index of the first OID after oid.
func (c *lookupCtx) nextFrom(i int, oid []uint32) lookup {
	if c.v1 {
		for i < c.store.Len() {
			if _, v := c.store.At(i); v.Tag != ber.TagCounter64 {
				break
			}
			i++
		}
	}
	if i >= c.store.Len() {
		return lookup{idx: -1, name: oid, exc: ber.TagEndOfMibView}
	}
	if sp := c.store.Special(i); sp != nil && sp.Broken { // as snmpsim: the walk ends
		return lookup{idx: -1, name: oid, exc: ber.TagEndOfMibView}
	}
	o, _ := c.store.At(i)
	if p := c.plan; p.eomAfter != nil && mib.Compare(o, p.eomAfter) > 0 {
		return lookup{idx: -1, name: oid, exc: ber.TagEndOfMibView}
	}
	if p := c.plan; p.loopAfter != nil && mib.Compare(o, p.loopAfter) > 0 {
		j := c.store.Next(p.loopRewind[:len(p.loopRewind):len(p.loopRewind)])
		if k := c.store.Get(p.loopRewind); k >= 0 {
			j = k
		}
		if j < c.store.Len() {
			o, _ = c.store.At(j)
			return lookup{idx: j, name: o}
		}
	}
	return lookup{idx: i, name: o}
}

// appendLookup appends the varbind for l, or reports that it does not fit
// in room bytes.
func (r *responder) appendLookup(c *lookupCtx, l lookup, room int) bool {
	oidLen := ber.OIDSize(l.name)
	if l.idx < 0 {
		if varbindSize(oidLen, 0) > room {
			return false
		}
		r.vbl = appendVarbind(r.vbl, l.name, oidLen, l.exc, nil)
		r.keepName(c, l.name)
		return true
	}
	_, v := c.store.At(l.idx)
	if sp := c.store.Special(l.idx); sp != nil && r.special(c, sp, l) {
		return true
	}
	r.val = c.appendValue(r.val[:0], l.idx)
	if varbindSize(oidLen, len(r.val)) > room {
		return false
	}
	r.vbl = appendVarbind(r.vbl, l.name, oidLen, v.Tag, r.val)
	r.keepName(c, l.name)
	return true
}

// special applies a recording's variation-module record hit by l; it
// reports whether it answered the varbind itself (an exception).
func (r *responder) special(c *lookupCtx, sp *mib.Special, l lookup) bool {
	if sp.Delayed {
		u := float64(mix(c.seed^uint64(c.now.UnixNano())^uint64(l.idx))>>11) / (1 << 53)
		d, drop := sp.DelayAt(c.now, u)
		r.recDelay = min(r.recDelay+d, maxRecordDelay)
		r.recDrop = r.recDrop || drop
	}
	if sp.ErrStatus != 0 && r.recStatus == 0 {
		r.recStatus, r.recIndex = sp.ErrStatus, r.vbIndex
	}
	if sp.Exception != 0 {
		r.vbl = appendVarbind(r.vbl, l.name, ber.OIDSize(l.name), sp.Exception, nil)
		r.keepName(c, l.name)
		return true
	}
	return false
}

// maxRecordDelay bounds the delays a recording's records add up to in one
// reply.
const maxRecordDelay = 10 * time.Minute

// mix is the splitmix64 finaliser.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// keepName remembers a name answered when the faults delay by subtree.
func (r *responder) keepName(c *lookupCtx, name []uint32) {
	if c.plan != nil && len(c.plan.prefixes) > 0 {
		r.names = append(r.names, name)
	}
}

// respond builds the response to req into r.out. maxSize is the agent's
// maximum message size. It reports whether the response was cut short.
func (r *responder) respond(c *lookupCtx, req *request, d *decision, maxSize int, bulkCap int) (out []byte, truncated bool) {
	r.recStatus, r.recIndex, r.recDelay, r.recDrop = 0, 0, 0, false
	out, truncated = r.respondPDU(c, req, d, maxSize, bulkCap)
	if r.recDrop { // a record's delay past snmpsim's limit: no reply
		d.drop = DropFault
		return nil, false
	}
	if r.recDelay > 0 {
		d.baseDelay += r.recDelay
		d.delay += r.recDelay
	}
	return out, truncated
}

// recError answers the error-status a recording's record asked for, if
// one did.
func (r *responder) recError(h *header, req *request, v1 bool) ([]byte, bool) {
	if r.recStatus == 0 {
		return nil, false
	}
	h.errStatus, h.errIndex = r.recStatus, r.recIndex
	if v1 {
		h.errStatus = v1Status(r.recStatus)
	}
	return r.echo(h, req), true
}

func (r *responder) respondPDU(c *lookupCtx, req *request, d *decision, maxSize int, bulkCap int) (out []byte, truncated bool) {
	h := header{version: req.version, community: req.community, reqID: req.reqID}
	r.vbl = r.vbl[:0]
	r.names = r.names[:0]
	if c.denied { // as snmpd's VACM: index 0, the varbinds echoed
		h.errStatus, h.errIndex = errAuthorization, 0
		return r.echo(&h, req), false
	}
	if d.errStatus != 0 {
		return r.errorResponse(&h, req, d.errStatus, c.v1), false
	}
	switch req.pdu {
	case ber.PDUSet:
		st := errNotWritable
		if c.v1 {
			st = errNoSuchName
		}
		h.errStatus, h.errIndex = st, 1
		return r.echo(&h, req), false
	case ber.PDUGet, ber.PDUGetNext:
		for i, oid := range req.oids {
			r.vbIndex = i + 1
			var l lookup
			if req.pdu == ber.PDUGet {
				l = c.get(oid)
			} else {
				l = c.next(oid)
			}
			if l.exc != 0 && c.v1 {
				h.errStatus, h.errIndex = errNoSuchName, i+1
				return r.echo(&h, req), false
			}
			if !r.appendLookup(c, l, maxSize-h.size(len(r.vbl))) {
				return r.tooBig(&h, req, c.v1), true
			}
		}
		if out, ok := r.recError(&h, req, c.v1); ok {
			return out, false
		}
		if h.size(len(r.vbl)) > maxSize {
			return r.tooBig(&h, req, c.v1), true
		}
	case ber.PDUGetBulk:
		return r.bulk(c, &h, req, maxSize, bulkCap)
	}
	r.out = h.appendMessage(r.out[:0], r.vbl)
	return r.out, false
}

// bulk answers GetBulk per RFC 3416 4.2.3, fitting the response into
// maxSize (and at most bulkCap varbinds when bulkCap > 0).
func (r *responder) bulk(c *lookupCtx, h *header, req *request, maxSize, bulkCap int) ([]byte, bool) {
	n := len(req.oids)
	nonRep := min(max(int(req.f1), 0), n)
	maxRep := max(int(req.f2), 0)
	if reps := n - nonRep; c.maxBulk > 0 && reps > 0 && maxRep > c.maxBulk/reps {
		// snmpd's maxGetbulkResponses: the repetitions shrink so that the
		// repeaters' varbinds stay within the cap (possibly to none).
		maxRep = c.maxBulk / reps
	}
	room := func() int { return maxSize - h.size(len(r.vbl)) }
	count := 0
	full := func() bool { return bulkCap > 0 && count >= bulkCap }
	truncated := false
	for i := 0; i < nonRep && !truncated; i++ {
		r.vbIndex = i + 1
		if full() || !r.appendLookup(c, c.next(req.oids[i]), room()) {
			truncated = true
			break
		}
		count++
	}
	r.last = append(r.last[:0], req.oids[nonRep:]...)
	r.ended, r.lastIdx = r.ended[:0], r.lastIdx[:0]
	for range r.last {
		r.ended, r.lastIdx = append(r.ended, false), append(r.lastIdx, -1)
	}
rep:
	for rep := 0; rep < maxRep && nonRep < n && !truncated; rep++ {
		allEnd := true
		for j := range r.last {
			l := lookup{idx: -1, name: r.last[j], exc: ber.TagEndOfMibView}
			switch {
			case r.ended[j]:
			case r.lastIdx[j] >= 0:
				l = c.nextAfter(r.lastIdx[j], r.last[j])
			default:
				l = c.next(r.last[j])
			}
			r.vbIndex = nonRep + j + 1
			if full() || !r.appendLookup(c, l, room()) {
				truncated = true
				break rep
			}
			count++
			if l.exc == 0 {
				// A lookup with no exception names its store entry.
				r.last[j], r.lastIdx[j] = l.name, l.idx
				allEnd = false
			} else {
				r.ended[j] = true // endOfMibView from here on
			}
		}
		if allEnd {
			break
		}
	}
	if out, ok := r.recError(h, req, false); ok {
		return out, false
	}
	if count == 0 && truncated {
		return r.tooBig(h, req, false), true
	}
	r.out = h.appendMessage(r.out[:0], r.vbl)
	return r.out, truncated
}

// tooBig answers tooBig: v2c with an empty varbind list (RFC 3416 4.2.1),
// v1 with the request's varbinds (RFC 1157 4.1.2).
func (r *responder) tooBig(h *header, req *request, v1 bool) []byte {
	h.errStatus, h.errIndex = errTooBig, 0
	r.vbl = r.vbl[:0]
	r.names = r.names[:0]
	if v1 {
		return r.echo(h, req)
	}
	r.out = h.appendMessage(r.out[:0], nil)
	return r.out
}

func (r *responder) errorResponse(h *header, req *request, status int, v1 bool) []byte {
	if status == errTooBig {
		return r.tooBig(h, req, v1)
	}
	if v1 {
		status = v1Status(status)
	}
	h.errStatus, h.errIndex = status, 1
	if len(req.oids) == 0 {
		h.errIndex = 0
	}
	return r.echo(h, req)
}

// echo answers with the request's varbinds as received.
func (r *responder) echo(h *header, req *request) []byte {
	r.vbl = r.vbl[:0]
	for _, vb := range req.rawVBs {
		r.vbl = append(r.vbl, vb...)
	}
	r.out = h.appendMessage(r.out[:0], r.vbl)
	return r.out
}

// v1Status maps v2 error-status values to v1 ones (RFC 3584 4.4).
func v1Status(s int) int {
	switch s {
	case 0, 1, 2, 3, 4, 5:
		return s
	case 6, 17, 11, 18, 16: // noAccess, notWritable, noCreation, inconsistentName, authorizationError
		return errNoSuchName
	case 7, 8, 9, 10, 12: // wrongType, wrongLength, wrongEncoding, wrongValue, inconsistentValue
		return errBadValue
	default: // resourceUnavailable, commitFailed, undoFailed
		return errGenErr
	}
}
