package pollerlib

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// SNMPv3 (USM) sessions. A V3 target's session discovers the agent's
// engine ID, engineBoots and engineTime with an unauthenticated probe
// (answered by a usmStatsUnknownEngineIDs Report), then keeps the engine
// time advancing locally from the last authenticated value (gosnmp does
// not: its requests fall out of the 150 s window, gosnmp #509/#511). A
// notInTimeWindow Report (authenticated) resynchronises boots and time, an
// unknownEngineID Report re-discovers the engine (reboots, replaced
// devices), and the request goes out again at once, a bounded number of
// times. Passphrases are hashed once per user and keys localised once per
// (engine ID, user) in a poller-wide cache. Every authenticated message's
// MAC is checked before anything in it is used; one that does not verify
// is dropped and counted (Stats.V3.BadMAC) and never delivered. The
// msgID, equal to the request-id, is the transport's match key, so v3
// shares the poller's bounded sockets with v1 and v2c.

// maxV3Resends bounds the immediate resends of one exchange after Reports.
const maxV3Resends = 3

// ErrUSM matches errors from SNMPv3 USM Reports; the error is a
// *ReportError.
var ErrUSM = errors.New("pollerlib: SNMPv3 USM report")

// ReportError is an agent's USM Report: the credentials are refused
// (unknown user, wrong digest, decryption error, unsupported security
// level), or the engine could not be synchronised in time. It never names
// a secret.
type ReportError struct {
	// Stat is the usmStats counter the Report carried (0: another one).
	Stat   usm.Stat
	resend bool
}

// Error names the counter.
func (e *ReportError) Error() string {
	return "pollerlib: agent reported usmStats" + e.Stat.String()
}

// Is matches ErrUSM.
func (e *ReportError) Is(target error) bool { return target == ErrUSM }

// V3Stats counts SNMPv3 engine work.
type V3Stats struct {
	// Discoveries is engine discovery probes sent.
	Discoveries uint64 `json:"discoveries"`
	// Reports is USM Reports received.
	Reports uint64 `json:"reports"`
	// TimeSyncs is notInTimeWindow Reports that reset boots and time;
	// EngineChanges engine IDs that changed after discovery.
	TimeSyncs     uint64 `json:"timeSyncs"`
	EngineChanges uint64 `json:"engineChanges"`
	// BadMAC is authenticated messages whose MAC did not verify (or from an
	// engine the session does not know): dropped, never delivered.
	BadMAC uint64 `json:"badMAC"`
}

type v3Counters struct {
	discoveries, reports, timeSyncs, engineChanges, badMAC atomic.Uint64
}

func (c *v3Counters) snapshot() V3Stats {
	return V3Stats{Discoveries: c.discoveries.Load(), Reports: c.reports.Load(), TimeSyncs: c.timeSyncs.Load(),
		EngineChanges: c.engineChanges.Load(), BadMAC: c.badMAC.Load()}
}

// maxV3Keys bounds the localised keys a poller keeps: engine IDs come
// from the agents, and one that reports a new engine ID each time must
// not grow the cache without bound. Past it an arbitrary entry goes
// (keys are localised again when needed).
const maxV3Keys = 1 << 18

// v3Cache holds hashed passphrases per user and localised keys per
// (engine ID, user), for every session of a poller.
type v3Cache struct {
	mu      sync.Mutex
	masters map[usm.User]*v3Master
	keys    map[v3KeyID]*usm.Keys
	max     int // bound of keys (0: maxV3Keys)
}

type v3Master struct {
	once sync.Once
	m    *usm.Master
}

type v3KeyID struct {
	engineID string
	user     usm.User
}

// localized returns u's keys for engineID, hashing and localising once.
func (c *v3Cache) localized(u usm.User, engineID []byte) *usm.Keys {
	c.mu.Lock()
	if k := c.keys[v3KeyID{string(engineID), u}]; k != nil {
		c.mu.Unlock()
		return k
	}
	if c.masters == nil {
		c.masters = map[usm.User]*v3Master{}
		c.keys = map[v3KeyID]*usm.Keys{}
	}
	m := c.masters[u]
	if m == nil {
		m = &v3Master{}
		c.masters[u] = m
	}
	c.mu.Unlock()
	m.once.Do(func() { m.m = usm.NewMaster(u) }) // milliseconds: outside the lock
	k := m.m.Localize(engineID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.keys[v3KeyID{string(engineID), u}]; old != nil {
		return old
	}
	limit := c.max
	if limit <= 0 {
		limit = maxV3Keys
	}
	for id := range c.keys {
		if len(c.keys) < limit {
			break
		}
		delete(c.keys, id)
	}
	c.keys[v3KeyID{string(engineID), u}] = k
	return k
}

// v3State is a V3 session's view of its agent's engine.
type v3State struct {
	user    usm.User
	context []byte
	cache   *v3Cache
	clock   func() time.Time
	salt    atomic.Uint64
	st      *v3Counters

	mu       sync.Mutex
	engineID []byte // nil until discovered
	boots    uint32
	time     uint32    // engineTime at synced
	synced   time.Time // local time engineTime was learnt
	latest   uint32    // latestReceivedEngineTime (RFC 3414 2.3)
	keys     *usm.Keys
}

func (p *Poller) newV3State(u usm.User, context string) *v3State {
	v := &v3State{user: u, context: []byte(context), cache: &p.v3, clock: p.cfg.clock, st: &p.st.v3}
	p.rngMu.Lock()
	v.salt.Store(p.rng.Uint64())
	p.rngMu.Unlock()
	return v
}

// resends is how many immediate resends an exchange may make (0 for v1
// and v2c sessions, whose v3State is nil).
func (v *v3State) resends() int {
	if v == nil {
		return 0
	}
	return maxV3Resends
}

// v3CredHash is the salted hash of a v3 target's credentials and context.
func v3CredHash(salt []byte, u usm.User, context string) [8]byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte{byte(V3), byte(u.Auth), byte(u.Priv)})
	for _, s := range []string{u.Name, string(u.AuthPass), string(u.PrivPass), context} {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s))))
		m.Write([]byte(s))
	}
	var out [8]byte
	copy(out[:], m.Sum(nil))
	return out
}

// estimateLocked is the agent's engineTime now, advanced locally from the
// last value learnt.
func (v *v3State) estimateLocked(now time.Time) uint32 {
	d := max(now.Sub(v.synced), 0) / time.Second
	return uint32(min(int64(v.time)+int64(d), usm.MaxBoots))
}

// learn records an engine's identity, boots and time (discovery, or a
// notInTimeWindow Report): unconditionally.
func (v *v3State) learn(m *usm.Message, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !bytes.Equal(v.engineID, m.EngineID) {
		if v.engineID != nil {
			v.st.engineChanges.Add(1)
		}
		v.engineID = bytes.Clone(m.EngineID)
		v.keys = nil
		if v.user.Auth != usm.NoAuth && len(m.EngineID) > 0 {
			v.keys = v.cache.localized(v.user, v.engineID)
		}
	}
	v.boots, v.time, v.latest, v.synced = uint32(m.Boots), uint32(m.Time), uint32(m.Time), now
}

// heard takes boots and time from an authentic response when they are
// newer (RFC 3414 3.2 step 7b).
func (v *v3State) heard(m *usm.Message, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	b, t := uint32(m.Boots), uint32(m.Time)
	if b > v.boots || (b == v.boots && t > v.latest) {
		v.boots, v.time, v.latest, v.synced = b, t, t, now
	}
}

// encodeV3 builds the request in pkt as a v3 message with msgID and
// request-id id, or an engine discovery probe when the engine is unknown.
func (p *Poller) encodeV3(s *session, pkt *gosnmp.SnmpPacket, id uint32) ([]byte, error) {
	v := s.v3
	now := v.clock()
	v.mu.Lock()
	eid, boots, et, keys := v.engineID, v.boots, v.estimateLocked(now), v.keys
	v.mu.Unlock()
	q := *pkt
	q.Version, q.Community, q.RequestID = gosnmp.Version2c, "", id
	h := usm.Header{MsgID: int64(id), MaxSize: maxMsgSize, EngineID: eid, Boots: boots, Time: et, UserName: []byte(v.user.Name)}
	level := v.user.Level()
	if eid == nil {
		// Discovery (RFC 3414 4): noAuthNoPriv, no user, no varbinds.
		q.PDUType, q.Variables = gosnmp.GetRequest, nil
		h.UserName, level = nil, usm.NoAuthNoPriv
		v.st.discoveries.Add(1)
	}
	b, err := q.MarshalMsg()
	if err != nil {
		return nil, err
	}
	pdu, ok := v2PDU(b)
	if !ok {
		return nil, errors.New("cannot find the PDU in gosnmp's encoding")
	}
	h.Flags = byte(level) | usm.FlagReportable
	if level != usm.NoAuthNoPriv {
		h.Keys = keys
	}
	if level == usm.AuthPriv {
		n := v.salt.Add(1)
		if v.user.Priv == usm.DES {
			n = uint64(boots)<<32 | n&0xffffffff
		}
		h.Salt = binary.BigEndian.AppendUint64(nil, n)
	}
	scoped := usm.AppendScopedPDU(nil, eid, v.context, pdu)
	var scratch []byte
	return usm.AppendMessage(make([]byte, 0, len(scoped)+160), &h, scoped, &scratch), nil
}

// maxMsgSize is the msgMaxSize the poller announces: its receive buffer.
const maxMsgSize = 65507

// v2PDU returns the PDU TLV of a v1/v2c message.
func v2PDU(b []byte) ([]byte, bool) {
	_, msg, _, ok := tlv(b)
	if !ok {
		return nil, false
	}
	if _, _, msg, ok = tlv(msg); !ok {
		return nil, false
	}
	if _, _, msg, ok = tlv(msg); !ok {
		return nil, false
	}
	return msg, len(msg) > 0
}

// matchMsgID extracts the msgID of a v3 message after its version.
func matchMsgID(msg []byte) (uint32, bool) {
	tag, g, _, ok := tlv(msg)
	if !ok || tag != 0x30 {
		return 0, false
	}
	return leadingID(g)
}

// decodeV3 checks and decodes a v3 message matched to an exchange.
func (p *Poller) decodeV3(s *session, rp reply) (*response, error) {
	v := s.v3
	var m usm.Message
	if err := usm.ParseMessage(rp.data, &m); err != nil || m.SecModel != usm.SecurityModelUSM {
		p.st.decodeErrors.Add(1)
		return nil, fmt.Errorf("%w: v3 envelope: %v", ErrDecode, err)
	}
	now := v.clock()
	v.mu.Lock()
	eid, keys := v.engineID, v.keys
	v.mu.Unlock()
	authed := m.Flags&usm.FlagAuth != 0
	if authed && (keys == nil || !bytes.Equal(m.EngineID, eid) || !keys.VerifyMessage(rp.data, &m)) {
		v.st.badMAC.Add(1)
		return nil, errMismatch // never delivered; a genuine reply may follow
	}
	scoped := m.Data
	if m.Encrypted {
		if !authed {
			p.st.decodeErrors.Add(1)
			return nil, fmt.Errorf("%w: encrypted without authentication", ErrDecode)
		}
		plain, err := keys.Decrypt(nil, m.Data, uint32(m.Boots), uint32(m.Time), m.PrivParams)
		if err != nil {
			p.st.decodeErrors.Add(1)
			return nil, fmt.Errorf("%w: %w", ErrDecode, err)
		}
		scoped = plain
	}
	_, _, pdu, err := usm.ScopedPDU(scoped)
	if err != nil {
		p.st.decodeErrors.Add(1)
		return nil, fmt.Errorf("%w: scoped PDU: %w", ErrDecode, err)
	}
	wrapped := append(append([]byte{0x30}, berLength(5+len(pdu))...), 0x02, 0x01, 0x01, 0x04, 0x00)
	pkt, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c}).SnmpDecodePacket(append(wrapped, pdu...))
	if err != nil {
		p.st.decodeErrors.Add(1)
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	switch pkt.PDUType {
	case gosnmp.Report:
		return nil, p.reportV3(v, &m, pkt, authed, now)
	case gosnmp.GetResponse:
	default:
		p.st.mismatched.Add(1)
		return nil, errMismatch
	}
	if m.Level() != v.user.Level() || pkt.RequestID != rp.id {
		p.st.mismatched.Add(1)
		return nil, errMismatch
	}
	if authed {
		v.heard(&m, now)
	}
	resp := &response{vbs: make([]Varbind, len(pkt.Variables)), status: int(pkt.Error), index: int(pkt.ErrorIndex)}
	for i, vb := range pkt.Variables {
		if resp.vbs[i], err = fromPDU(vb); err != nil {
			p.st.decodeErrors.Add(1)
			return nil, fmt.Errorf("%w: %w", ErrDecode, err)
		}
	}
	return resp, nil
}

// reportV3 acts on a USM Report and returns the *ReportError (or
// errMismatch for a Report that cannot be trusted).
func (p *Poller) reportV3(v *v3State, m *usm.Message, pkt *gosnmp.SnmpPacket, authed bool, now time.Time) error {
	v.st.reports.Add(1)
	var stat usm.Stat
	if len(pkt.Variables) > 0 {
		if o, err := ParseOID(pkt.Variables[0].Name); err == nil {
			stat = usm.StatOf(o)
		}
	}
	switch stat {
	case usm.StatUnknownEngineIDs:
		if len(m.EngineID) == 0 {
			p.st.mismatched.Add(1)
			return errMismatch
		}
		v.learn(m, now)
		return &ReportError{Stat: stat, resend: true}
	case usm.StatNotInTimeWindows:
		if !authed && v.user.Auth != usm.NoAuth {
			p.st.mismatched.Add(1)
			return errMismatch // a time that is not authentic is not taken
		}
		v.learn(m, now)
		v.st.timeSyncs.Add(1)
		return &ReportError{Stat: stat, resend: true}
	}
	return &ReportError{Stat: stat}
}

func berLength(n int) []byte {
	switch {
	case n < 0x80:
		return []byte{byte(n)}
	case n <= 0xff:
		return []byte{0x81, byte(n)}
	case n <= 0xffff:
		return []byte{0x82, byte(n >> 8), byte(n)}
	}
	return []byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)}
}
