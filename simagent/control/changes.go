package control

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// MaxChanges is how many change ids the API remembers: a retry of a
// change older than the last MaxChanges is applied again.
const MaxChanges = 1024

// maxChangeID bounds a change id's length.
const maxChangeID = 128

// errChangeReused is a change id sent again with a different request.
var errChangeReused = errors.New("change id already used for a different change")

// changeLog remembers the last changes by id, oldest dropped first. Its
// lock is held while a change applies, so two requests with one id never
// both apply.
type changeLog struct {
	mu    sync.Mutex
	max   int
	byID  map[string]changeRecord
	order []string // ring of ids, oldest at next
	next  int
}

type changeRecord struct {
	fingerprint [sha256.Size]byte
	answer      Changed
}

func newChangeLog(max int) *changeLog {
	return &changeLog{max: max, byID: make(map[string]changeRecord, max)}
}

// do applies fn unless id was applied before: then it returns the first
// answer and replayed. An empty id always applies. Failed changes are not
// remembered, so retrying one tries again.
func (l *changeLog) do(id string, fp [sha256.Size]byte, fn func() (Changed, error)) (c Changed, replayed bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id != "" {
		if rec, ok := l.byID[id]; ok {
			if rec.fingerprint != fp {
				return Changed{}, false, fmt.Errorf("change=%s: %w (generation %d)", id, errChangeReused, rec.answer.Generation)
			}
			return rec.answer, true, nil
		}
	}
	c, err = fn()
	if err != nil || id == "" {
		return c, false, err
	}
	if len(l.order) < l.max {
		l.order = append(l.order, id)
	} else {
		delete(l.byID, l.order[l.next])
		l.order[l.next] = id
		l.next = (l.next + 1) % l.max
	}
	l.byID[id] = changeRecord{fingerprint: fp, answer: c}
	return c, false, nil
}

// changeID reads and checks the change parameter ("" when absent).
func changeID(q url.Values) (string, error) {
	id, ok := q["change"]
	if !ok {
		return "", nil
	}
	s := id[0]
	if s == "" || len(s) > maxChangeID {
		return "", fieldErr("change", fmt.Errorf("change id of %d characters: want 1 to %d", len(s), maxChangeID))
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return "", fieldErr("change", fmt.Errorf("change id %q: character %q not allowed (want A-Z a-z 0-9 . _ : -)", s, c))
		}
	}
	return s, nil
}

// fingerprint identifies what a change asks: method, path, the query but
// the change id, and the body.
func fingerprint(r *http.Request, body []byte) [sha256.Size]byte {
	q := r.URL.Query()
	q.Del("change")
	h := sha256.New()
	fmt.Fprintf(h, "%s %s?%s\n%d\n", r.Method, strings.TrimPrefix(r.URL.Path, "/v1"), q.Encode(), len(body))
	h.Write(body)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}
