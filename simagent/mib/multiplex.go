package mib

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/oid"
)

// snmpsim's multiplex module: a subtree record OID|:multiplex|dir=D,
// period=P[,wrap=1] serves the subtree under OID from a series of
// recordings, D/00000.snmprec, D/00001.snmprec, ... (numbered by name),
// each for P seconds (default 60) from the agent's start: the first for
// the first P seconds, the next after it, and so on; after the last it
// stays on the last, or with wrap=1 starts again from the first. Outside
// the subtree the recording itself answers. A relative D is found, as
// snmpsim finds it under its data directories, beside the recording or
// under any directory above it. control= (switching by SET) is refused:
// simulated agents are read-only.

// Multiplex is a store whose subtree changes over time.
type Multiplex struct {
	// Prefix is the subtree served from the series.
	Prefix OID
	// Period is how long each recording is served.
	Period time.Duration
	// Wrap starts the series again after the last recording.
	Wrap bool
	// Phases are the whole stores served in turn, one per recording.
	Phases []*Store
}

// maxMultiplexFiles bounds the recordings of one series.
const maxMultiplexFiles = 1000

type muxSpec struct {
	prefix OID
	dir    string
	period time.Duration
	wrap   bool
	where  string
	name   string
	line   int
}

// Multiplexed returns the store's time series, or nil.
func (s *Store) Multiplexed() *Multiplex { return s.mux }

// Phase is the store an agent of age answers from: s itself, or for a
// multiplexed store the recording of the series served at age.
func (s *Store) Phase(age time.Duration) *Store {
	m := s.mux
	if m == nil {
		return s
	}
	k := 0
	if age > 0 {
		k = int(age / m.Period)
	}
	if m.Wrap {
		k %= len(m.Phases)
	} else {
		k = min(k, len(m.Phases)-1)
	}
	return m.Phases[k]
}

// multiplex reads a subtree record of the multiplex module.
func (p *snmprecParser) multiplex(arcs []uint32, val []byte, line int) error {
	if p.b.mux != nil {
		return fmt.Errorf("a second multiplex record (the first at %s): one series per recording", p.b.mux.where)
	}
	params, err := moduleParams("multiplex", val)
	if err != nil {
		return err
	}
	if _, ok := params["control"]; ok {
		return fmt.Errorf("multiplex control= switches recordings by SET and is %w: simulated agents are read-only (use period=)", ErrUnsupported)
	}
	if err := checkParams("multiplex", params, "dir", "period", "wrap"); err != nil {
		return err
	}
	m := &muxSpec{prefix: p.a.oid(arcs), dir: params["dir"], period: time.Minute, where: fmt.Sprintf("%s:%d", p.b.name, line), name: p.b.name, line: line}
	if m.dir == "" {
		return errors.New("multiplex needs dir=")
	}
	if s, ok := params["period"]; ok {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !(f >= 0.001 && f <= 1e7) {
			return fmt.Errorf("multiplex: bad period=%s: want seconds from 0.001 to 1e7", s)
		}
		m.period = time.Duration(f * float64(time.Second))
	}
	if w := params["wrap"]; w != "" && w != "0" && !strings.EqualFold(w, "false") {
		m.wrap = true
	}
	p.b.mux = m
	return nil
}

// resolve finds the series' directory for a recording at path.
func (m *muxSpec) resolve(path string) (string, error) {
	if filepath.IsAbs(m.dir) {
		return m.dir, nil
	}
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		c := filepath.Join(d, filepath.FromSlash(m.dir))
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c, nil
		}
		if up := filepath.Dir(d); up == d {
			break
		}
	}
	return "", &ParseError{Name: m.name, Line: m.line, Err: fmt.Errorf("multiplex dir=%s not found beside %s or in a directory above it", m.dir, path)}
}

// build loads the series and makes one whole store per recording.
func (m *muxSpec) build(base *Store) (*Store, error) {
	dir, err := m.resolve(base.name)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: multiplex: %w", m.where, err)
	}
	type numbered struct {
		n    int
		path string
	}
	var files []numbered
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".snmprec") {
			continue
		}
		n, err := strconv.Atoi(strings.SplitN(name, ".", 2)[0])
		if err != nil {
			continue // snmpsim keys the series by number
		}
		files = append(files, numbered{n, filepath.Join(dir, name)})
	}
	if len(files) == 0 || len(files) > maxMultiplexFiles {
		return nil, fmt.Errorf("%s: multiplex dir %s holds %d numbered .snmprec files, want 1 to %d", m.where, dir, len(files), maxMultiplexFiles)
	}
	slices.SortFunc(files, func(a, b numbered) int { return a.n - b.n })
	lo := base.search(m.prefix)
	hi := lo
	for hi < len(base.oids) && oid.HasPrefix(base.oids[hi], m.prefix) {
		hi++
	}
	mux := &Multiplex{Prefix: m.prefix, Period: m.period, Wrap: m.wrap}
	for _, f := range files {
		sub, err := LoadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("%s: multiplex: %w", m.where, err)
		}
		if sub.mux != nil {
			return nil, fmt.Errorf("%s: multiplex: %s is multiplexed itself", m.where, f.path)
		}
		mux.Phases = append(mux.Phases, splice(base, lo, hi, sub, m.prefix))
	}
	out := *base
	out.mux = mux
	return &out, nil
}

// splice is base with entries lo..hi replaced by sub's entries under
// prefix.
func splice(base *Store, lo, hi int, sub *Store, prefix OID) *Store {
	a := sub.search(prefix)
	b := a
	for b < len(sub.oids) && oid.HasPrefix(sub.oids[b], prefix) {
		b++
	}
	s := &Store{name: sub.name}
	s.oids = slices.Concat(base.oids[:lo], sub.oids[a:b], base.oids[hi:])
	s.values = slices.Concat(base.values[:lo], sub.values[a:b], base.values[hi:])
	add := func(from *Store, i, at int) {
		if sp := from.Special(i); sp != nil {
			if s.specials == nil {
				s.specials = map[int]*Special{}
			}
			s.specials[at] = sp
		}
	}
	for i := range lo {
		add(base, i, i)
	}
	for i := a; i < b; i++ {
		add(sub, i, lo+i-a)
	}
	for i := hi; i < len(base.oids); i++ {
		add(base, i, lo+b-a+i-hi)
	}
	for i := range s.values {
		if s.values[i].Dyn != nil {
			s.dynamic++
		}
	}
	return s
}
