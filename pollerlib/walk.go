package pollerlib

import (
	"context"
	"errors"

	"github.com/gosnmp/gosnmp"
)

// WalkFunc receives each varbind of a walk in order. Returning an error
// stops the walk with that error.
type WalkFunc func(Varbind) error

// Walk walks the subtree under root with GetNext, calling fn for each
// varbind. It ends cleanly at endOfMibView (noSuchName in v1) or when an
// OID leaves the subtree; an OID not after the previous one fails with a
// *NotIncreasingError.
func (p *Poller) Walk(ctx context.Context, t Target, root OID, fn WalkFunc) error {
	return p.do(ctx, "walk", t, func(ctx context.Context, s *session) error {
		return p.walk(ctx, s, root, false, fn)
	})
}

// BulkWalk walks the subtree under root with GetBulk (v2c; v1 targets and
// targets degraded by failures use GetNext), calling fn for each varbind.
// tooBig shrinks max-repetitions and retries; short responses continue
// from their last OID. It ends like Walk.
func (p *Poller) BulkWalk(ctx context.Context, t Target, root OID, fn WalkFunc) error {
	return p.do(ctx, "bulkwalk", t, func(ctx context.Context, s *session) error {
		return p.walk(ctx, s, root, true, fn)
	})
}

// WalkAll is Walk collecting every varbind. On error it returns none.
func (p *Poller) WalkAll(ctx context.Context, t Target, root OID) ([]Varbind, error) {
	return collect(func(fn WalkFunc) error { return p.Walk(ctx, t, root, fn) })
}

// BulkWalkAll is BulkWalk collecting every varbind. On error it returns
// none.
func (p *Poller) BulkWalkAll(ctx context.Context, t Target, root OID) ([]Varbind, error) {
	return collect(func(fn WalkFunc) error { return p.BulkWalk(ctx, t, root, fn) })
}

func collect(walk func(WalkFunc) error) ([]Varbind, error) {
	var out []Varbind
	if err := walk(func(v Varbind) error { out = append(out, v); return nil }); err != nil {
		return nil, err
	}
	return out, nil
}

// walkBuf is a varbind array for a walk to decode its responses into,
// from walkBufs: a walk hands each varbind on by value and keeps no
// response's list, so one array serves every response of every walk in
// turn (what the varbinds point to is each response's own).
func (p *Poller) walkBuf() *[]Varbind {
	if bp, ok := p.walkBufs.Get().(*[]Varbind); ok {
		return bp
	}
	return new([]Varbind)
}

// putWalkBuf gives a walk's array back, unless a large response grew it
// past what a pool should keep.
func (p *Poller) putWalkBuf(bp *[]Varbind) {
	if cap(*bp) > 1024 {
		*bp = nil
	}
	p.walkBufs.Put(bp)
}

// walk is the loop behind Walk and BulkWalk.
func (p *Poller) walk(ctx context.Context, s *session, root OID, bulk bool, fn WalkFunc) error {
	cur, last := root, OID(nil)
	bp := p.walkBuf() // each response's varbinds, decoded in place
	defer p.putWalkBuf(bp)
	buf := *bp
	for {
		m := s.currentMode()
		var vbs []Varbind
		var err error
		useBulk := bulk && m == modeBulk
		if useBulk {
			rep := s.repetitions()
			vbs, err = p.request(ctx, s, request{pdu: gosnmp.GetBulkRequest, oids: []OID{cur}, maxRep: rep, into: buf}, m)
			if errors.Is(err, ErrTooBig) {
				if s.shrink(rep) < rep {
					continue // retry smaller
				}
				useBulk = false // one repetition is too big: try GetNext
			} else if err == nil && len(vbs) == rep {
				s.grow()
			}
		}
		if !useBulk {
			vbs, err = p.request(ctx, s, request{pdu: gosnmp.GetNextRequest, oids: []OID{cur}, into: buf}, m)
			var se *StatusError
			if s.key.Version == V1 && errors.As(err, &se) && se.Status == StatusNoSuchName {
				return nil // v1 end of MIB view
			}
		}
		if err != nil {
			return err
		}
		buf = vbs[:0]
		*bp = buf
		for _, vb := range vbs {
			if vb.Type == TypeEndOfMibView {
				return nil
			}
			prev := last
			if prev == nil {
				prev = root
			}
			// Increase is checked before the subtree: an agent that loops
			// back to before the root must fail, not end the walk as if
			// it were complete (a silent partial result).
			if vb.OID.Compare(prev) <= 0 {
				return &NotIncreasingError{Prev: prev, Got: vb.OID}
			}
			if !vb.OID.HasPrefix(root) {
				return nil
			}
			if err := fn(vb); err != nil {
				return err
			}
			last = vb.OID
		}
		cur = last
	}
}
