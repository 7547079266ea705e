package simagent

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// SNMPv3 in simagent: every agent is an authoritative USM engine with its
// own engine ID (usm.EngineID of the fleet seed and the agent index),
// engineBoots (1 at start, +1 on Restart and EngineReboot) and engineTime
// (seconds since the last boot, shifted by TimeDrift). Config.Users are
// every agent's users; their keys are localised to an agent's engine ID
// the first time it sees a v3 message, once. Any contextName is accepted
// and serves the same data (a contextEngineID other than the agent's is
// accepted too). Without users the engines still answer discovery and then
// unknownUserName, as snmpd does. A request below its user's level (a user
// with auth and priv asking at authNoPriv) gets authorizationError.

// v3Fleet is what the agents of a fleet share for SNMPv3.
type v3Fleet struct {
	masters []*usm.Master
}

// v3Engine is one agent's USM engine.
type v3Engine struct {
	id    []byte
	clock *usm.Clock
	ctr   usm.Counters
	salt  atomic.Uint64
	once  sync.Once
	keys  []*usm.Keys // by user, localised on first use
}

// v3Scratch is a reader goroutine's SNMPv3 buffers.
type v3Scratch struct {
	msg    usm.Message
	plain  []byte
	v2     []byte
	scoped []byte
	out    []byte
	crypt  []byte
	rid    []byte
}

// checkUsers validates Config.Users.
func (c *Config) checkUsers() error {
	seen := map[string]bool{}
	for i, u := range c.Users {
		if err := u.Validate(); err != nil {
			return fmt.Errorf("%w: Users[%d]: %w", ErrConfig, i, err)
		}
		if seen[u.Name] {
			return fmt.Errorf("%w: Users[%d]: user %q given twice", ErrConfig, i, u.Name)
		}
		seen[u.Name] = true
	}
	return nil
}

// initV3 hashes the users' passphrases once. Every agent has an engine,
// made when first needed (Fleet.engine). Without users the engines still
// answer, as snmpd's do: discovery, then unknownUserName; and they serve
// the snmpEngine objects.
func (f *Fleet) initV3(time.Time) {
	v := &v3Fleet{}
	for _, u := range f.cfg.Users {
		v.masters = append(v.masters, usm.NewMaster(u))
	}
	f.v3 = v
}

// engine returns a's USM engine, making it on first use: an engine is
// about 230 bytes, most of the memory of an agent that never sees SNMPv3
// (a million agents started in 595 MB with every engine made up front).
// A new engine is as it would have been made at Start: booted once, when
// the agent (re)started, its reboots since then applied by v3Applied,
// which makes the engine of every agent it reboots.
func (f *Fleet) engine(a *agent) *v3Engine {
	if e := a.v3.Load(); e != nil {
		return e
	}
	e := &v3Engine{id: usm.EngineID(f.cfg.Seed, a.index), clock: usm.NewClock(time.Unix(0, a.start.Load()))}
	e.salt.Store(a.seed)
	if a.v3.CompareAndSwap(nil, e) {
		return e
	}
	return a.v3.Load()
}

// v3Applied applies the engine side of faults just applied to a at now.
func (f *Fleet) v3Applied(a *agent, faults *Faults, now time.Time) {
	switch {
	case faults.Restart != nil:
		f.engine(a).clock.Reboot(now.Add(faults.Restart.Downtime.D()))
	case faults.EngineReboot != nil:
		e := f.engine(a)
		for range max(faults.EngineReboot.Boots, 1) {
			e.clock.Reboot(now)
		}
	}
}

// keysFor returns user i's keys localised to e.
func (e *v3Engine) keysFor(v *v3Fleet, i int) *usm.Keys {
	e.once.Do(func() {
		e.keys = make([]*usm.Keys, len(v.masters))
		for j, m := range v.masters {
			e.keys[j] = m.Localize(e.id)
		}
	})
	return e.keys[i]
}

// nextSalt returns a fresh msgPrivacyParameters for a response: a
// counter for AES (RFC 3826 3.1.2.1), engineBoots and a counter for DES
// (RFC 3414 8.1.1.1).
func (e *v3Engine) nextSalt(dst []byte, priv usm.PrivProtocol, boots uint32) []byte {
	n := e.salt.Add(1)
	if priv == usm.DES {
		n = uint64(boots)<<32 | n&0xffffffff
	}
	return binary.BigEndian.AppendUint64(dst[:0], n)
}

// EngineID is agent i's SNMPv3 engine ID, or nil without v3 users (the
// engine exists then too, for discovery; EngineIDOf tells its ID).
func (f *Fleet) EngineID(i int) []byte {
	if len(f.cfg.Users) == 0 {
		return nil
	}
	return f.EngineIDOf(i)
}

// EngineIDOf is agent i's SNMPv3 engine ID, with or without v3 users.
func (f *Fleet) EngineIDOf(i int) []byte {
	return append([]byte(nil), f.engine(f.agents[i]).id...)
}

// EngineTime is agent i's engineBoots and engineTime now, or zeros without
// v3 users.
func (f *Fleet) EngineTime(i int) (boots, engineTime uint32) {
	a := f.agents[i]
	et := f.engine(a).clock.Load()
	return et.Boots, et.At(f.cfg.Clock(), a.faults.Load().plan.engineOffset())
}

// USMStats is agent i's usmStats counters.
func (f *Fleet) USMStats(i int) usm.Stats {
	if e := f.agents[i].v3.Load(); e != nil {
		return e.ctr.Snapshot()
	}
	return usm.Stats{} // no engine yet: nothing counted
}

// TotalUSMStats sums every agent's usmStats counters.
func (f *Fleet) TotalUSMStats() usm.Stats {
	var s usm.Stats
	for _, a := range f.agents {
		if e := a.v3.Load(); e != nil {
			s.Add(e.ctr.Snapshot())
		}
	}
	return s
}

func (v *v3Fleet) user(name []byte) int {
	for i, m := range v.masters {
		if m.User.Name == string(name) {
			return i
		}
	}
	return -1
}

// handleV3 answers one SNMPv3 message to agent a (RFC 3414 3.2).
func (f *Fleet) handleV3(w *worker, s *socket, a *agent, pkt []byte, src netip.AddrPort) {
	c := &a.c
	e := f.engine(a)
	if w.v3 == nil {
		w.v3 = &v3Scratch{}
	}
	x := w.v3
	m := &x.msg
	if err := usm.ParseMessage(pkt, m); err != nil {
		c.malformed.Add(1)
		c.drop(DropMalformed)
		return
	}
	if m.SecModel != usm.SecurityModelUSM {
		c.drop(DropUnsupported) // snmpUnknownSecurityModels
		return
	}
	if m.Flags&usm.FlagPriv != 0 && m.Flags&usm.FlagAuth == 0 {
		c.malformed.Add(1) // snmpInvalidMsgs
		c.drop(DropMalformed)
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
	et := e.clock.Load()
	r := v3Reply{f: f, w: w, s: s, a: a, fs: fs, src: src, d: &d, boots: et.Boots, time: et.At(now, p.engineOffset())}
	if fs.storming(now) || !bytes.Equal(m.EngineID, e.id) {
		r.report(usm.StatUnknownEngineIDs, nil, nil)
		return
	}
	ui := f.v3.user(m.UserName)
	if ui < 0 {
		r.report(usm.StatUnknownUserNames, nil, nil)
		return
	}
	keys := e.keysFor(f.v3, ui)
	level := m.Level()
	if level > keys.User.Level() {
		r.report(usm.StatUnsupportedSecLevels, nil, nil)
		return
	}
	// Below the user's level USM accepts the message but access control
	// refuses it, as snmpd's "rouser NAME priv" does: authorizationError.
	r.denied = level < keys.User.Level()
	scoped := m.Data
	if level&usm.AuthNoPriv != 0 {
		if !keys.VerifyMessage(pkt, m) {
			r.report(usm.StatWrongDigests, nil, nil)
			return
		}
		if et.Boots == usm.MaxBoots || uint32(m.Boots) != et.Boots || absDiff(uint32(m.Time), r.time) > uint32(usm.TimeWindow/time.Second) {
			// Authenticated, so the manager can trust the time it carries.
			r.report(usm.StatNotInTimeWindows, keys, r.plaintext(keys))
			return
		}
	}
	if level == usm.AuthPriv {
		scoped = r.plaintext(keys)
		if scoped == nil {
			r.report(usm.StatDecryptionErrors, keys, nil)
			return
		}
	}
	_, ctxName, pdu, err := usm.ScopedPDU(scoped)
	if err != nil {
		if level == usm.AuthPriv {
			r.report(usm.StatDecryptionErrors, keys, nil)
			return
		}
		c.malformed.Add(1)
		c.drop(DropMalformed)
		return
	}
	e.ctr.Accepted(level)
	// Hand the PDU to the v1/v2c machinery as a v2c message.
	x.v2 = append(x.v2[:0], ber.TagSequence)
	x.v2 = ber.AppendLength(x.v2, 3+2+len(pdu))
	x.v2 = append(x.v2, ber.TagInteger, 1, 1, ber.TagOctetString, 0)
	x.v2 = append(x.v2, pdu...)
	req := &w.req
	if err := req.decode(x.v2); err != nil {
		c.malformed.Add(1)
		c.drop(DropMalformed)
		return
	}
	switch req.pdu {
	case ber.PDUGet, ber.PDUGetNext, ber.PDUSet, ber.PDUGetBulk:
	default:
		c.drop(DropUnsupported)
		return
	}
	room := usm.Overhead(len(e.id), len(m.UserName), len(ctxName), keys.User.Auth, level == usm.AuthPriv)
	maxSize := min(f.cfg.MaxMsgSize, int(m.MaxSize))
	if t := p.spec.Truncate; t != nil && t.MaxMsgSize > 0 {
		maxSize = min(maxSize, t.MaxMsgSize)
	}
	msgID := m.MsgID
	if d.wrongID {
		msgID = max((msgID+1)&0x7fffffff, 1)
	}
	// The v2c envelope around the PDU costs at least 7 bytes the v3 one
	// replaces.
	out, truncated := r.answer(req, now, max(maxSize-room+7, 64))
	if d.drop != "" { // the recording's own fault (a delay module record)
		c.drop(d.drop)
		return
	}
	_, rest, _ := cutV2Header(out)
	x.scoped = usm.AppendScopedPDU(x.scoped[:0], e.id, ctxName, rest)
	h := usm.Header{MsgID: msgID, MaxSize: int64(f.cfg.MaxMsgSize), Flags: byte(level), EngineID: e.id,
		Boots: r.boots, Time: r.time, UserName: m.UserName, Keys: keys}
	if level == usm.AuthPriv {
		h.Salt = e.nextSalt(x.rid, keys.User.Priv, r.boots)
		x.rid = h.Salt
	}
	x.out = usm.AppendMessage(x.out[:0], &h, x.scoped, &x.crypt)
	r.finish(x.out, truncated)
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// cutV2Header returns the PDU TLV of a v1/v2c message built by the
// responder.
func cutV2Header(msg []byte) (ok bool, pdu []byte, err error) {
	r := ber.NewReader(msg)
	body, err := r.Expect(ber.TagSequence)
	if err != nil {
		return false, nil, err
	}
	br := ber.NewReader(body)
	if _, _, err = br.Next(); err != nil {
		return false, nil, err
	}
	if _, _, err = br.Next(); err != nil {
		return false, nil, err
	}
	return true, body[br.Offset():], nil
}

// Users returns a copy of the fleet's SNMPv3 users (their passphrases are
// usm.Secret values, which never print).
func (f *Fleet) Users() []usm.User { return append([]usm.User(nil), f.cfg.Users...) }
