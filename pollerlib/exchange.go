package pollerlib

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gosnmp/gosnmp"
)

// request is one SNMP request.
type request struct {
	pdu    gosnmp.PDUType
	oids   []OID
	nonRep int
	maxRep int
	// into, when not nil, is an array the response's varbinds may be
	// decoded into: a walk's, which hands each varbind on by value and
	// keeps no response's list, reuses one for all its responses.
	into []Varbind
}

// response is a decoded response that matched its request.
type response struct {
	vbs    []Varbind
	status int
	index  int
}

// errMismatch marks a response that decoded but belongs to no request of
// ours (another version, community or PDU type): dropped, not an error.
var errMismatch = errors.New("response does not match the request's version, community or PDU type")

// exchange sends req to s's target and waits for a valid response,
// retransmitting after each attempt's timeout. It returns as soon as ctx is
// done. Error-status is left to the caller.
func (p *Poller) exchange(ctx context.Context, s *session, req request) (*response, error) {
	probe, err := s.admit(time.Now())
	if err != nil {
		return nil, err
	}
	outcome := resultNeutral
	defer func() { s.exchanged(time.Now(), probe, outcome) }()

	attempts := p.cfg.retries + 1
	c := p.tr.newCall(s.key.Addr, attempts+s.v3.resends())
	defer c.finish()
	p.st.inFlight.Add(1)
	defer p.st.inFlight.Add(-1)

	var encodeErr error
	encode := func(id uint32) ([]byte, error) {
		c.buf = appendRequest(c.buf[:0], s.key.Version, s.community, &req, id)
		return c.buf, nil
	}
	if s.key.Version == V3 {
		vars := make([]gosnmp.SnmpPDU, len(req.oids))
		for i, o := range req.oids {
			vars[i] = gosnmp.SnmpPDU{Name: o.String(), Type: gosnmp.Null}
		}
		pkt := gosnmp.SnmpPacket{
			Version:        s.key.Version.gosnmp(),
			PDUType:        req.pdu,
			NonRepeaters:   uint8(req.nonRep),
			MaxRepetitions: uint32(req.maxRep),
			Variables:      vars,
		}
		encode = func(id uint32) ([]byte, error) {
			b, err := p.encodeV3(s, &pkt, id)
			if err != nil {
				encodeErr = fmt.Errorf("pollerlib: encode request: %w", err)
			}
			return b, encodeErr
		}
	}
	timer := c.timer
	var decodeErr error
	resends := 0 // v3: immediate resends after a discovery or time sync
	for k := 0; k < attempts; k++ {
		if ctx.Err() != nil {
			return nil, ctxErr(ctx)
		}
		wait := s.attemptTimeout(k)
		if dl, ok := ctx.Deadline(); ok {
			left := time.Until(dl)
			if left <= 0 {
				return nil, ctxErr(ctx)
			}
			wait = min(wait, left)
		}
		if k > 0 {
			p.st.retries.Add(1)
		}
		now := time.Now()
		id, err := c.send(encode, now)
		if encodeErr != nil {
			return nil, encodeErr
		}
		if err != nil && p.isClosing() {
			return nil, ErrClosed
		}
		// Any other send error is treated as a lost datagram.
		c.sent = append(c.sent, sentAt{id, now})
		timer.Reset(wait)
		expires, listenedOn := now.Add(wait), false
	wait:
		for {
			select {
			case <-ctx.Done():
				return nil, ctxErr(ctx)
			case <-timer.C:
				// Silence is what the poller heard while it listened: a
				// reply waiting in the socket for the demux is read first
				// (transport.go, help), and taken if it came.
				if c.s.help(); len(c.ch) > 0 {
					timer.Reset(clockGranularity)
					continue
				}
				// A timeout is the agent's silence while the poller
				// listened. When the last attempt's timer fires late, the
				// poller itself was not running (a loaded machine
				// descheduled the process) for that long past the expiry,
				// and the replies that came meanwhile may still be unread:
				// its own stall is not silence it heard. So it listens once
				// more, as long as it was late, at most one attempt's wait;
				// no datagram more is sent.
				if late := time.Since(expires); k == attempts-1 && !listenedOn && late > clockGranularity {
					listenedOn = true
					timer.Reset(min(late, wait))
					continue
				}
				p.st.timeouts.Add(1)
				break wait
			case rp := <-c.ch:
				resp, err := p.decode(s, rp, &req)
				if errors.Is(err, errMismatch) {
					continue
				}
				if re := (*ReportError)(nil); err != nil && errors.As(err, &re) {
					if !re.resend {
						outcome = resultFail
						return nil, err // the agent refuses these credentials
					}
					decodeErr = err
					if resends < s.v3.resends() {
						resends++
						k-- // the engine is known now: send again at once
						break wait
					}
					if rp.id == id {
						// The resends are spent and the agent answered the
						// latest one with a Report again (a report storm):
						// more attempts would meet the same Report after
						// timeouts, so fail now, as gosnmp does at the first.
						outcome = resultFail
						return nil, err
					}
					continue // a Report to an earlier attempt
				}
				if err != nil {
					decodeErr = err
					continue
				}
				for _, x := range c.sent {
					if x.id == rp.id {
						rtt := rp.at.Sub(x.at)
						s.sample(rtt)
						p.global.sample(rtt)
						p.st.rtt.observe(rtt)
					}
				}
				outcome = resultOK
				return resp, nil
			}
		}
	}
	outcome = resultFail
	s.backOff()
	if decodeErr != nil {
		return nil, decodeErr
	}
	if ctx.Err() != nil {
		return nil, ctxErr(ctx)
	}
	return nil, fmt.Errorf("%w after %d attempts", ErrTimeout, attempts)
}

// ctxErr is the error for a done context: its cause, and ErrTimeout too
// when the deadline passed.
func ctxErr(ctx context.Context) error {
	cause := context.Cause(ctx)
	if cause == nil { // the deadline passed, its timer has not fired yet
		cause = context.DeadlineExceeded
	}
	if errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, cause)
	}
	return cause
}

// decode decodes a matched datagram (v1/v2c with codec.go, v3 in v3.go)
// and checks that it is a Response to our request.
func (p *Poller) decode(s *session, rp reply, req *request) (resp *response, err error) {
	defer func() {
		if r := recover(); r != nil {
			p.st.decodeErrors.Add(1)
			resp, err = nil, fmt.Errorf("%w: decoder panicked: %v", ErrDecode, r)
		}
	}()
	if s.key.Version == V3 {
		return p.decodeV3(s, rp)
	}
	m, err := parseMessage(rp.data)
	if err != nil {
		p.st.decodeErrors.Add(1)
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	if m.version != int64(s.key.Version.gosnmp()) || string(m.community) != s.community || m.pdu != byte(gosnmp.GetResponse) || m.reqID != int64(rp.id) {
		p.st.mismatched.Add(1)
		return nil, errMismatch
	}
	resp = &response{status: int(m.status), index: int(m.index)}
	if resp.vbs, err = parseVarbindsInto(m.vbl, req.into); err != nil {
		p.st.decodeErrors.Add(1)
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return resp, nil
}
