package simagent

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// plan is a validated Faults with its OIDs parsed, ready for the hot path.
type plan struct {
	spec        Faults
	delay       *Delay
	dist        int // 0 uniform, 1 normal, 2 pareto
	prefixes    []prefixDelay
	loopAfter   mib.OID
	loopRewind  mib.OID
	eomAfter    mib.OID
	errStatus   int
	errProb     float64
	healthy     bool
	needsRandom bool
}

type prefixDelay struct {
	oid   mib.OID
	delay time.Duration
}

const (
	distUniform = iota
	distNormal
	distPareto
)

func compile(f *Faults) (*plan, error) {
	p := &plan{spec: *f}
	if d := f.Delay; d != nil {
		p.delay = d
		for _, e := range []struct {
			n string
			v Duration
		}{{"delay.fixed", d.Fixed}, {"delay.jitter", d.Jitter}, {"delay.max", d.Max}} {
			if err := checkDelay(e.n, e.v); err != nil {
				return nil, err
			}
		}
		switch d.Dist {
		case "", "uniform":
		case "normal":
			p.dist = distNormal
		case "pareto":
			p.dist = distPareto
		default:
			return nil, badFault("delay.dist", "unknown distribution %q (want uniform, normal or pareto)", d.Dist)
		}
		for i, pd := range d.Prefixes {
			o, err := parseFaultOID("delay.prefixes["+itoa(i)+"].oid", pd.OID)
			if err != nil {
				return nil, err
			}
			if err := checkDelay("delay.prefixes["+itoa(i)+"].delay", pd.Delay); err != nil {
				return nil, err
			}
			p.prefixes = append(p.prefixes, prefixDelay{o, pd.Delay.D()})
		}
	}
	if d := f.Drop; d != nil {
		if err := checkProb("drop.prob", d.Prob); err != nil {
			return nil, err
		}
		if d.EveryNth < 0 {
			return nil, badFault("drop.everyNth", "negative %d", d.EveryNth)
		}
		if b := d.Burst; b != nil {
			for _, e := range []struct {
				n string
				v float64
			}{{"drop.burst.goodToBad", b.GoodToBad}, {"drop.burst.badToGood", b.BadToGood}, {"drop.burst.lossGood", b.LossGood}, {"drop.burst.lossBad", b.LossBad}} {
				if err := checkProb(e.n, e.v); err != nil {
					return nil, err
				}
			}
		}
	}
	if b := f.Blackhole; b != nil {
		if err := checkDur("blackhole.for", b.For); err != nil {
			return nil, err
		}
	}
	if t := f.Truncate; t != nil {
		if t.BulkVarbinds < 0 {
			return nil, badFault("truncate.bulkVarbinds", "negative %d", t.BulkVarbinds)
		}
		if t.MaxMsgSize != 0 && (t.MaxMsgSize < 64 || t.MaxMsgSize > maxUDPPayload) {
			return nil, badFault("truncate.maxMsgSize", "%d not in [64, %d]", t.MaxMsgSize, maxUDPPayload)
		}
		if t.CutBytes < 0 {
			return nil, badFault("truncate.cutBytes", "negative %d", t.CutBytes)
		}
	}
	if d := f.Duplicate; d != nil {
		if d.Copies < 0 || d.Copies > 100 {
			return nil, badFault("duplicate.copies", "%d not in [0, 100]", d.Copies)
		}
		if err := checkProb("duplicate.prob", d.Prob); err != nil {
			return nil, err
		}
	}
	if c := f.WrongID; c != nil {
		if err := checkProb("wrongRequestID.prob", c.Prob); err != nil {
			return nil, err
		}
	}
	if c := f.Garbage; c != nil {
		if err := checkProb("garbage.prob", c.Prob); err != nil {
			return nil, err
		}
	}
	if l := f.Loop; l != nil {
		var err error
		if p.loopAfter, err = parseFaultOID("loop.after", l.After); err != nil {
			return nil, err
		}
		p.loopRewind = p.loopAfter
		if l.Rewind != "" {
			if p.loopRewind, err = parseFaultOID("loop.rewind", l.Rewind); err != nil {
				return nil, err
			}
		}
	}
	if e := f.EndOfMib; e != nil {
		var err error
		if p.eomAfter, err = parseFaultOID("endOfMib.after", e.After); err != nil {
			return nil, err
		}
	}
	if e := f.ErrorStatus; e != nil {
		s, err := ParseErrorStatus(e.Status)
		if err != nil {
			return nil, badFault("errorStatus.status", "%v", err)
		}
		if err := checkProb("errorStatus.prob", e.Prob); err != nil {
			return nil, err
		}
		p.errStatus, p.errProb = s, e.Prob
		if p.errProb == 0 {
			p.errProb = 1
		}
	}
	if r := f.Restart; r != nil {
		if err := checkDur("restart.downtime", r.Downtime); err != nil {
			return nil, err
		}
	}
	if err := compileV3(f); err != nil {
		return nil, err
	}
	p.healthy = *f == Faults{}
	return p, nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// faultState is one agent's live fault state: the plan in force, when it was
// applied, and the random source its decisions draw from. Decisions for the
// nth request an agent sees depend only on the fleet seed, the agent index,
// the plan's generation and n, so a run with the same seed and the same
// request order replays.
type faultState struct {
	plan      *plan
	appliedAt time.Time
	mu        sync.Mutex
	pcg       rand.PCG   // the agent's random source, seeded per agent
	rng       *rand.Rand // over pcg, made on first draw (see rand)
	n         uint64
	bad       bool // Gilbert-Elliott state
}

// decision is what the faults say about one request.
type decision struct {
	drop      string // reason, "" to answer
	delay     time.Duration
	baseDelay time.Duration // delay before per-prefix extras and the cap
	duplicate int
	wrongID   bool
	garbage   bool
	errStatus int
}

func newFaultState(p *plan, at time.Time, seed uint64, agent int, gen uint64) *faultState {
	s := &faultState{}
	s.init(p, at, seed, agent, gen)
	return s
}

// init sets up a zero faultState, as newFaultState returns it; Start uses
// it to lay out the first states of every agent in one allocation.
func (s *faultState) init(p *plan, at time.Time, seed uint64, agent int, gen uint64) {
	s.plan, s.appliedAt = p, at
	s.pcg.Seed(seed^uint64(agent)*0x9e3779b97f4a7c15, gen+1)
}

// rand is the agent's random source; healthy agents never draw, so most
// never make one. Called with s.mu held.
func (s *faultState) rand() *rand.Rand {
	if s.rng == nil {
		s.rng = rand.New(&s.pcg)
	}
	return s.rng
}

// decide draws the per-request fault decisions. Per-prefix (slow subtree)
// delays depend on the OIDs answered too, so the caller adds them once the
// response is built (plan.delayFor); d.delay here is the capped base.
func (s *faultState) decide(now time.Time) decision {
	p := s.plan
	var d decision
	if p.healthy {
		return d
	}
	if b := p.spec.Blackhole; b != nil && (b.For == 0 || now.Sub(s.appliedAt) < b.For.D()) {
		d.drop = DropBlackhole
		return d
	}
	if r := p.spec.Restart; r != nil && now.Sub(s.appliedAt) < r.Downtime.D() {
		d.drop = DropRestarting
		return d
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if dr := p.spec.Drop; dr != nil {
		drop := false
		if dr.EveryNth > 0 && s.n%uint64(dr.EveryNth) == 0 {
			drop = true
		}
		if dr.Prob > 0 && s.rand().Float64() < dr.Prob {
			drop = true
		}
		if b := dr.Burst; b != nil {
			if s.bad {
				if s.rand().Float64() < b.BadToGood {
					s.bad = false
				}
			} else if s.rand().Float64() < b.GoodToBad {
				s.bad = true
			}
			loss := b.LossGood
			if s.bad {
				loss = b.LossBad
			}
			if s.rand().Float64() < loss {
				drop = true
			}
		}
		if drop {
			d.drop = DropFault
			return d
		}
	}
	if dl := p.delay; dl != nil {
		d.baseDelay = dl.Fixed.D() + s.jitter(p, dl.Jitter.D())
		d.delay = p.delayFor(d.baseDelay)
	}
	if du := p.spec.Duplicate; du != nil && (du.Prob == 0 || s.rand().Float64() < du.Prob) {
		d.duplicate = max(du.Copies, 1)
	}
	if c := p.spec.WrongID; c != nil && s.rand().Float64() < c.Prob {
		d.wrongID = true
	}
	if c := p.spec.Garbage; c != nil && s.rand().Float64() < c.Prob {
		d.garbage = true
	}
	if p.errStatus != 0 && s.rand().Float64() < p.errProb {
		d.errStatus = p.errStatus
	}
	return d
}

// delayFor adds to base the largest per-prefix delay whose subtree holds an
// OID of any of the lists, and applies the cap.
func (p *plan) delayFor(base time.Duration, lists ...[][]uint32) time.Duration {
	var extra time.Duration
	for _, pd := range p.prefixes {
		if pd.delay <= extra {
			continue
		}
	lists:
		for _, oids := range lists {
			for _, o := range oids {
				if mib.OID(o).HasPrefix(pd.oid) {
					extra = pd.delay
					break lists
				}
			}
		}
	}
	d := base + extra
	if m := p.delay.Max; m > 0 && d > m.D() {
		d = m.D()
	}
	return min(d, MaxDelay.D()) // a heavy-tailed jitter stays bounded too
}

func (s *faultState) jitter(p *plan, scale time.Duration) time.Duration {
	if scale <= 0 {
		return 0
	}
	var x float64
	switch p.dist {
	case distUniform:
		x = s.rand().Float64()
	case distNormal:
		x = math.Abs(s.rand().NormFloat64())
	case distPareto:
		// Pareto with xm=1, alpha=1.5, shifted to start at 0; capped so one
		// draw cannot stall a run for hours.
		x = math.Min(math.Pow(1-s.rand().Float64(), -1/1.5)-1, 1000)
	}
	return time.Duration(x * float64(scale))
}

// garbage fills b with random bytes from the agent's source.
func (s *faultState) garbage(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b {
		b[i] = byte(s.rand().Uint32())
	}
}
