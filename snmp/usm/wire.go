package usm

import (
	"errors"
	"fmt"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// Message flags (msgFlags, RFC 3412 6.4).
const (
	FlagAuth       = 0x01
	FlagPriv       = 0x02
	FlagReportable = 0x04
)

// SecurityModelUSM is msgSecurityModel for USM.
const SecurityModelUSM = 3

// ErrMalformed is wrapped by every envelope decoding error.
var ErrMalformed = errors.New("usm: malformed v3 message")

// Message is a decoded SNMPv3 envelope. Its slices point into the packet.
type Message struct {
	MsgID    int64
	MaxSize  int64
	Flags    byte
	SecModel int64
	EngineID []byte
	Boots    int64
	Time     int64
	UserName []byte
	// AuthParams is msgAuthenticationParameters; AuthOffset its offset in
	// the packet.
	AuthParams []byte
	AuthOffset int
	PrivParams []byte
	// Data is the ScopedPDU TLV when plaintext, the ciphertext when
	// Encrypted.
	Data      []byte
	Encrypted bool
}

// Level is the security level the flags ask for.
func (m *Message) Level() Level { return Level(m.Flags & 3) }

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// ParseMessage decodes an SNMPv3 message with USM security parameters,
// without checking or decrypting anything. It does not allocate.
func ParseMessage(pkt []byte, m *Message) error {
	top := ber.NewReader(pkt)
	msg, err := top.Expect(ber.TagSequence)
	if err != nil {
		return err
	}
	if top.Len() != 0 {
		return bad("%d bytes after the message", top.Len())
	}
	base := len(pkt) - len(msg) // offset of msg content
	r := ber.NewReader(msg)
	v, err := r.Int()
	if err != nil {
		return err
	}
	if v != 3 {
		return bad("version %d", v)
	}
	g, err := r.Expect(ber.TagSequence)
	if err != nil {
		return err
	}
	gr := ber.NewReader(g)
	if m.MsgID, err = gr.Int(); err != nil {
		return err
	}
	if m.MaxSize, err = gr.Int(); err != nil {
		return err
	}
	fl, err := gr.Expect(ber.TagOctetString)
	if err != nil {
		return err
	}
	if len(fl) != 1 {
		return bad("msgFlags of %d bytes", len(fl))
	}
	m.Flags = fl[0]
	if m.SecModel, err = gr.Int(); err != nil {
		return err
	}
	if m.MsgID < 0 || m.MaxSize < 484 || m.MsgID > 1<<31-1 || m.MaxSize > 1<<31-1 {
		return bad("msgID %d or msgMaxSize %d out of range", m.MsgID, m.MaxSize)
	}
	sp, err := r.Expect(ber.TagOctetString)
	if err != nil {
		return err
	}
	spOff := base + r.Offset() - len(sp)
	if m.SecModel != SecurityModelUSM {
		return nil // the caller refuses other models
	}
	sr := ber.NewReader(sp)
	u, err := sr.Expect(ber.TagSequence)
	if err != nil {
		return err
	}
	uOff := spOff + sr.Offset() - len(u)
	ur := ber.NewReader(u)
	if m.EngineID, err = ur.Expect(ber.TagOctetString); err != nil {
		return err
	}
	if m.Boots, err = ur.Int(); err != nil {
		return err
	}
	if m.Time, err = ur.Int(); err != nil {
		return err
	}
	if m.UserName, err = ur.Expect(ber.TagOctetString); err != nil {
		return err
	}
	if m.AuthParams, err = ur.Expect(ber.TagOctetString); err != nil {
		return err
	}
	m.AuthOffset = uOff + ur.Offset() - len(m.AuthParams)
	if m.PrivParams, err = ur.Expect(ber.TagOctetString); err != nil {
		return err
	}
	if len(m.EngineID) > 32 || len(m.UserName) > 32 || m.Boots < 0 || m.Time < 0 || m.Boots > 1<<31-1 || m.Time > 1<<31-1 {
		return bad("security parameters out of range")
	}
	dataAt := r.Offset()
	tag, data, err := r.Next()
	if err != nil {
		return err
	}
	switch tag {
	case ber.TagOctetString:
		m.Data, m.Encrypted = data, true
	case ber.TagSequence:
		m.Data, m.Encrypted = msg[dataAt:r.Offset()], false
	default:
		return bad("msgData tag 0x%02x", tag)
	}
	if m.Flags&FlagPriv != 0 && !m.Encrypted || m.Flags&FlagPriv == 0 && m.Encrypted {
		return bad("msgFlags 0x%02x do not match the msgData", m.Flags)
	}
	return nil
}

// VerifyMessage checks the MAC of pkt, whose envelope m decoded, under k.
// pkt is left as it was.
func (k *Keys) VerifyMessage(pkt []byte, m *Message) bool {
	n := len(m.AuthParams)
	if n != k.User.Auth.MACLen() || n == 0 {
		return false
	}
	var got [64]byte
	copy(got[:], m.AuthParams)
	field := pkt[m.AuthOffset : m.AuthOffset+n]
	clear(field)
	ok := k.Verify(pkt, got[:n])
	copy(field, got[:n])
	return ok
}

// ScopedPDU splits a plaintext ScopedPDU TLV (with any DES padding after
// it) into its context engine ID, context name and the PDU TLV.
func ScopedPDU(b []byte) (ctxEngineID, ctxName, pdu []byte, err error) {
	r := ber.NewReader(b)
	s, err := r.Expect(ber.TagSequence)
	if err != nil {
		return nil, nil, nil, err
	}
	sr := ber.NewReader(s)
	if ctxEngineID, err = sr.Expect(ber.TagOctetString); err != nil {
		return nil, nil, nil, err
	}
	if ctxName, err = sr.Expect(ber.TagOctetString); err != nil {
		return nil, nil, nil, err
	}
	start := sr.Offset()
	tag, _, err := sr.Next()
	if err != nil {
		return nil, nil, nil, err
	}
	if tag&0xe0 != 0xa0 {
		return nil, nil, nil, bad("PDU tag 0x%02x", tag)
	}
	return ctxEngineID, ctxName, s[start:sr.Offset()], nil
}

// AppendScopedPDU appends SEQUENCE { contextEngineID, contextName, pdu }.
func AppendScopedPDU(dst, ctxEngineID, ctxName, pdu []byte) []byte {
	dst = append(dst, ber.TagSequence)
	dst = ber.AppendLength(dst, ber.TLVSize(len(ctxEngineID))+ber.TLVSize(len(ctxName))+len(pdu))
	dst = ber.AppendTLV(dst, ber.TagOctetString, ctxEngineID)
	dst = ber.AppendTLV(dst, ber.TagOctetString, ctxName)
	return append(dst, pdu...)
}

// Header is what an outgoing message carries besides its ScopedPDU.
type Header struct {
	MsgID    int64
	MaxSize  int64
	Flags    byte // the level bits must match Keys: auth needs Keys, priv Salt
	EngineID []byte
	Boots    uint32
	Time     uint32
	UserName []byte
	Keys     *Keys  // nil for noAuthNoPriv
	Salt     []byte // 8 bytes, for authPriv
}

// Overhead is an upper bound of the bytes a v3 envelope with these
// parameters adds around a ScopedPDU of up to 64 KiB.
func Overhead(engineIDLen, userLen, ctxLen int, auth AuthProtocol, priv bool) int {
	n := 5 + 3 + 2 + 6 + 6 + 3 + 3 + // message, version, globalData, msgID, maxSize, flags, model
		4 + 2 + 2 + engineIDLen + 6 + 6 + 2 + userLen + 2 + auth.MACLen() + 2 + 8 + // security parameters
		4 + 2 + engineIDLen + 2 + ctxLen // scopedPDU header
	if priv {
		n += 4 + 8 // OCTET STRING header, DES padding
	}
	return n
}

func intTLVSize(v int64) int { return ber.TLVSize(len(ber.AppendInt(make([]byte, 0, 9), v))) }

func appendIntTLV(b []byte, v int64) []byte {
	var tmp [9]byte
	c := ber.AppendInt(tmp[:0], v)
	return ber.AppendTLV(b, ber.TagInteger, c)
}

// AppendMessage appends the whole message carrying the plaintext ScopedPDU
// TLV scoped: encrypted when h.Flags asks for privacy, and signed when it
// asks for authentication. scratch is reused for the ciphertext.
func AppendMessage(dst []byte, h *Header, scoped []byte, scratch *[]byte) []byte {
	auth := h.Flags&FlagAuth != 0
	priv := h.Flags&FlagPriv != 0
	macLen := 0
	if auth {
		macLen = h.Keys.User.Auth.MACLen()
	}
	data := scoped
	privLen := 0
	if priv {
		*scratch = h.Keys.Encrypt((*scratch)[:0], scoped, h.Boots, h.Time, h.Salt)
		data = *scratch
		privLen = len(h.Salt)
	}
	dataSize := len(data)
	if priv {
		dataSize = ber.TLVSize(len(data))
	}
	usmLen := ber.TLVSize(len(h.EngineID)) + intTLVSize(int64(h.Boots)) + intTLVSize(int64(h.Time)) +
		ber.TLVSize(len(h.UserName)) + ber.TLVSize(macLen) + ber.TLVSize(privLen)
	spLen := ber.TLVSize(usmLen)
	gLen := intTLVSize(h.MsgID) + intTLVSize(h.MaxSize) + 3 + 3
	inner := 3 + ber.TLVSize(gLen) + ber.TLVSize(spLen) + dataSize
	start := len(dst)
	dst = append(dst, ber.TagSequence)
	dst = ber.AppendLength(dst, inner)
	dst = append(dst, ber.TagInteger, 1, 3)
	dst = append(dst, ber.TagSequence)
	dst = ber.AppendLength(dst, gLen)
	dst = appendIntTLV(dst, h.MsgID)
	dst = appendIntTLV(dst, h.MaxSize)
	dst = append(dst, ber.TagOctetString, 1, h.Flags, ber.TagInteger, 1, SecurityModelUSM)
	dst = append(dst, ber.TagOctetString)
	dst = ber.AppendLength(dst, spLen)
	dst = append(dst, ber.TagSequence)
	dst = ber.AppendLength(dst, usmLen)
	dst = ber.AppendTLV(dst, ber.TagOctetString, h.EngineID)
	dst = appendIntTLV(dst, int64(h.Boots))
	dst = appendIntTLV(dst, int64(h.Time))
	dst = ber.AppendTLV(dst, ber.TagOctetString, h.UserName)
	dst = append(dst, ber.TagOctetString)
	dst = ber.AppendLength(dst, macLen)
	macAt := len(dst)
	for range macLen {
		dst = append(dst, 0)
	}
	if priv {
		dst = ber.AppendTLV(dst, ber.TagOctetString, h.Salt)
	} else {
		dst = append(dst, ber.TagOctetString, 0)
	}
	if priv {
		dst = ber.AppendTLV(dst, ber.TagOctetString, data)
	} else {
		dst = append(dst, data...)
	}
	if auth {
		var sum [64]byte
		mac := h.Keys.MAC(sum[:0], dst[start:])
		copy(dst[macAt:], mac)
	}
	return dst
}
