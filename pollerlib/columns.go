package pollerlib

import (
	"context"
	"errors"
	"fmt"

	"github.com/gosnmp/gosnmp"
)

// ColumnFunc receives each varbind of a column walk with the index, in the
// columns passed to BulkWalkColumns, of the column it belongs to.
// Returning an error stops the walk with that error.
type ColumnFunc func(column int, vb Varbind) error

// BulkWalkColumns walks several subtrees at once, typically columns of
// one table (ifInOctets and ifOutOctets of ifTable): each GetBulk asks for
// the next rows of every column not yet finished, so a table of r rows and
// c columns costs about r*c/max-repetitions requests instead of c walks of
// their own. Each request asks for max-repetitions/columns repetitions, so
// a response carries as many varbinds as a one-column BulkWalk's.
//
// fn is called in the order of the responses: row by row, the columns in
// order within a row. A column ends like a walk (endOfMibView,
// noSuchName in v1, an OID leaving it) while the others go on, and an OID
// not after the column's previous one fails with a *NotIncreasingError.
// tooBig shrinks max-repetitions and retries; short responses continue
// from each column's last OID. v1 targets and targets degraded by
// failures use GetNext for every column still going (one column per
// request in the single-OID step). At most 255 columns.
func (p *Poller) BulkWalkColumns(ctx context.Context, t Target, columns []OID, fn ColumnFunc) error {
	if len(columns) == 0 || len(columns) > 255 {
		return fmt.Errorf("%w: %d columns, want 1 to 255", ErrBadTarget, len(columns))
	}
	return p.do(ctx, "walkcolumns", t, func(ctx context.Context, s *session) error {
		return p.walkColumns(ctx, s, columns, fn)
	})
}

// walkColumns is the loop behind BulkWalkColumns.
func (p *Poller) walkColumns(ctx context.Context, s *session, columns []OID, fn ColumnFunc) error {
	last := make([]OID, len(columns))   // each column's last OID handed to fn
	active := make([]int, len(columns)) // the columns still going, in order
	for i := range active {
		active[i] = i
	}
	oids := make([]OID, 0, len(columns))
	ended := make([]bool, len(columns)) // per response: which of active[:n] ended
	bp := p.walkBuf()                   // each response's varbinds, decoded in place
	defer p.putWalkBuf(bp)
	buf := *bp
	for len(active) > 0 {
		m := s.currentMode()
		n := len(active)
		if m == modeSingle {
			n = 1
		}
		oids = oids[:0]
		for _, c := range active[:n] {
			oids = append(oids, resumeAt(columns[c], last[c]))
		}
		var vbs []Varbind
		var err error
		useBulk := m == modeBulk
		if useBulk {
			rep := max(1, s.repetitions()/n)
			vbs, err = p.request(ctx, s, request{pdu: gosnmp.GetBulkRequest, oids: oids, maxRep: rep, into: buf}, m)
			if errors.Is(err, ErrTooBig) {
				if max(1, s.shrink(rep*n)/n) < rep {
					continue // retry smaller
				}
				useBulk = false // one repetition is too big: try GetNext
			} else if err == nil && len(vbs) == rep*n {
				s.grow()
			}
		}
		if !useBulk {
			vbs, err = p.request(ctx, s, request{pdu: gosnmp.GetNextRequest, oids: oids, into: buf}, m)
			var se *StatusError
			if s.key.Version == V1 && errors.As(err, &se) && se.Status == StatusNoSuchName && se.Index >= 1 && se.Index <= n {
				// v1: that column is past the end of the MIB view; the
				// request carried nothing for the others: ask again.
				active = append(active[:se.Index-1], active[se.Index:]...)
				continue
			}
		}
		if err != nil {
			return err
		}
		buf = vbs[:0]
		*bp = buf
		clear(ended)
		for k, vb := range vbs {
			j := k % n
			if ended[j] {
				continue // the rest of a finished column's repetitions
			}
			c := active[j]
			if vb.Type == TypeEndOfMibView {
				ended[j] = true
				continue
			}
			prev := resumeAt(columns[c], last[c])
			// Increase before the subtree, as in walk: a loop back is a
			// failure, never a column that looks complete.
			if vb.OID.Compare(prev) <= 0 {
				return &NotIncreasingError{Prev: prev, Got: vb.OID}
			}
			if !vb.OID.HasPrefix(columns[c]) {
				ended[j] = true
				continue
			}
			if err := fn(c, vb); err != nil {
				return err
			}
			last[c] = vb.OID
		}
		still := active[:0]
		for j, c := range active {
			if j >= n || !ended[j] {
				still = append(still, c)
			}
		}
		active = still
	}
	return nil
}

// resumeAt is where a column's walk goes on from: its last OID, or the column
// itself before the first.
func resumeAt(column, last OID) OID {
	if last == nil {
		return column
	}
	return last
}
