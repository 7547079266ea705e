package pollerlib

import (
	"context"
	"errors"
	"fmt"

	"github.com/gosnmp/gosnmp"
)

// Get fetches the values of oids. Lists longer than the per-request limit
// are split; a tooBig response splits the request in halves down to single
// OIDs. Missing objects come back as noSuchObject/noSuchInstance varbinds
// (v2c) or a *StatusError with noSuchName (v1).
func (p *Poller) Get(ctx context.Context, t Target, oids ...OID) ([]Varbind, error) {
	var out []Varbind
	err := p.do(ctx, "get", t, func(ctx context.Context, s *session) error {
		var err error
		out, err = p.getList(ctx, s, gosnmp.GetRequest, oids)
		return err
	})
	return out, err
}

// GetNext fetches the varbind following each of oids.
func (p *Poller) GetNext(ctx context.Context, t Target, oids ...OID) ([]Varbind, error) {
	var out []Varbind
	err := p.do(ctx, "getnext", t, func(ctx context.Context, s *session) error {
		var err error
		out, err = p.getList(ctx, s, gosnmp.GetNextRequest, oids)
		return err
	})
	return out, err
}

// GetBulk sends one GetBulk request (v2c only) and returns the varbinds as
// the agent sent them: the non-repeaters first, then the repetitions.
// nonRepeaters must be in [0, 255] and maxRepetitions in [0, 65535].
func (p *Poller) GetBulk(ctx context.Context, t Target, nonRepeaters, maxRepetitions int, oids ...OID) ([]Varbind, error) {
	var out []Varbind
	err := p.do(ctx, "getbulk", t, func(ctx context.Context, s *session) error {
		if s.key.Version == V1 {
			return fmt.Errorf("%w: GetBulk needs v2c", ErrBadTarget)
		}
		if nonRepeaters < 0 || nonRepeaters > 255 || maxRepetitions < 0 || maxRepetitions > 65535 {
			return fmt.Errorf("%w: non-repeaters %d or max-repetitions %d out of range", ErrBadResponse, nonRepeaters, maxRepetitions)
		}
		var err error
		out, err = p.request(ctx, s, request{pdu: gosnmp.GetBulkRequest, oids: oids, nonRep: nonRepeaters, maxRep: maxRepetitions}, s.currentMode())
		return err
	})
	return out, err
}

// getList sends oids in requests of at most maxOIDs (one in degraded
// single mode).
func (p *Poller) getList(ctx context.Context, s *session, pdu gosnmp.PDUType, oids []OID) ([]Varbind, error) {
	m := s.currentMode()
	chunk := p.cfg.maxOIDs
	if m == modeSingle {
		chunk = 1
	}
	out := make([]Varbind, 0, len(oids))
	for i := 0; i < len(oids); i += chunk {
		vbs, err := p.split(ctx, s, pdu, oids[i:min(i+chunk, len(oids))], m)
		if err != nil {
			return nil, err
		}
		out = append(out, vbs...)
	}
	return out, nil
}

// split sends one request and, on tooBig, each half of it.
func (p *Poller) split(ctx context.Context, s *session, pdu gosnmp.PDUType, oids []OID, m mode) ([]Varbind, error) {
	vbs, err := p.request(ctx, s, request{pdu: pdu, oids: oids}, m)
	if !errors.Is(err, ErrTooBig) || len(oids) < 2 {
		return vbs, err
	}
	h := len(oids) / 2
	a, err := p.split(ctx, s, pdu, oids[:h], m)
	if err != nil {
		return nil, err
	}
	b, err := p.split(ctx, s, pdu, oids[h:], m)
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

// request runs one exchange, checks the response against the request and
// records the result for the degrade step m.
func (p *Poller) request(ctx context.Context, s *session, req request, m mode) ([]Varbind, error) {
	resp, err := p.exchange(ctx, s, req)
	var vbs []Varbind
	if err == nil {
		vbs, err = check(req, resp)
	}
	s.noted(m, classify(err))
	return vbs, err
}

// check turns an error-status into a *StatusError and verifies that the
// varbinds answer the request.
func check(req request, resp *response) ([]Varbind, error) {
	if resp.status != 0 {
		return nil, &StatusError{Status: resp.status, Index: resp.index}
	}
	n := len(resp.vbs)
	switch req.pdu {
	case gosnmp.GetRequest:
		if n != len(req.oids) {
			return nil, fmt.Errorf("%w: %d varbinds for %d OIDs", ErrBadResponse, n, len(req.oids))
		}
		for i, vb := range resp.vbs {
			if !vb.OID.Equal(req.oids[i]) {
				return nil, fmt.Errorf("%w: varbind %d is %s, asked for %s", ErrBadResponse, i+1, vb.OID, req.oids[i])
			}
		}
	case gosnmp.GetNextRequest:
		if n != len(req.oids) {
			return nil, fmt.Errorf("%w: %d varbinds for %d OIDs", ErrBadResponse, n, len(req.oids))
		}
	case gosnmp.GetBulkRequest:
		nonRep := min(req.nonRep, len(req.oids))
		limit := nonRep + req.maxRep*(len(req.oids)-nonRep)
		if n > limit {
			return nil, fmt.Errorf("%w: %d varbinds, at most %d expected", ErrBadResponse, n, limit)
		}
		if n == 0 && limit > 0 {
			return nil, fmt.Errorf("%w: empty GetBulk response", ErrBadResponse)
		}
	}
	return resp.vbs, nil
}
