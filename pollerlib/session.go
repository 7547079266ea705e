package pollerlib

import (
	"math"
	"sync"
	"time"
)

// clockGranularity is G of RFC 6298: the smallest variance term.
const clockGranularity = 10 * time.Millisecond

// mode is a target's degrade step.
type mode uint8

const (
	modeBulk   mode = iota // walks use GetBulk
	modeNext               // walks use GetNext
	modeSingle             // one OID per request
)

func (m mode) String() string { return [...]string{"bulk", "next", "single"}[m] }

// result is how an exchange or operation ended, for breaker and degrade
// accounting: neutral results (cancellation, circuit open, closed) count
// neither way.
type result int

const (
	resultNeutral result = iota
	resultOK
	resultFail
)

// session is one target's state: RTT estimate and timeout, circuit
// breaker, degrade step and GetBulk size. Safe for concurrent use.
type session struct {
	key       SessionKey
	community string
	cfg       *config
	v3        *v3State // V3 only: engine discovery, time and keys

	mu     sync.Mutex
	srtt   time.Duration
	rttvar time.Duration
	rto    time.Duration
	// breaker
	openUntil time.Time
	fails     int32
	// degrade
	modeFails int32
	modeOKs   int32
	maxRep    int32
	mode      mode
	hasRTT    bool
	open      bool
	probing   bool
}

// newSession starts a target's session; its first timeout is initial.
func newSession(key SessionKey, community string, cfg *config, initial time.Duration) *session {
	s := new(session)
	s.init(key, community, cfg, initial)
	return s
}

// init starts a session in place.
func (s *session) init(key SessionKey, community string, cfg *config, initial time.Duration) {
	// Fields are sized and ordered for a fleet's worth of sessions: a
	// session is most of what a poller keeps per target (160 bytes).
	*s = session{key: key, community: community, cfg: cfg, rto: initial, maxRep: int32(cfg.maxRepetitions)}
	s.mode = s.baseMode()
}

// sessionSlab is how many sessions are allocated together. Sessions live
// as long as their poller, and a fleet has hundreds of thousands: in
// slabs the garbage collector marks one object for 256 of them instead of
// each (a scale run's collector spent a third of its time finding and
// marking small objects).
const sessionSlab = 256

func (s *session) baseMode() mode {
	if s.key.Version == V1 {
		return modeNext // v1 has no GetBulk
	}
	return modeBulk
}

// attemptTimeout is the timeout of attempt k (0-based): the RTO multiplied
// by the backoff factor per retry, capped.
func (s *session) attemptTimeout(k int) time.Duration {
	s.mu.Lock()
	rto := s.rto
	s.mu.Unlock()
	t := float64(rto) * math.Pow(s.cfg.backoff, float64(k))
	if t > float64(s.cfg.backoffCap) {
		t = float64(s.cfg.backoffCap)
	}
	return max(time.Duration(t), s.cfg.minTimeout)
}

// sample feeds a round-trip time into the estimate (RFC 6298 2.2-2.4).
func (s *session) sample(rtt time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sampleLocked(rtt)
}

func (s *session) sampleLocked(rtt time.Duration) {
	if !s.hasRTT {
		s.srtt, s.rttvar, s.hasRTT = rtt, rtt/2, true
	} else {
		d := s.srtt - rtt
		if d < 0 {
			d = -d
		}
		s.rttvar = (3*s.rttvar + d) / 4
		s.srtt = (7*s.srtt + rtt) / 8
	}
	s.rto = min(max(s.srtt+max(clockGranularity, 4*s.rttvar), s.cfg.minTimeout), s.cfg.maxTimeout)
}

// initialRTO is the timeout a new target starts with: this estimate's RTO
// (the poller-wide one) when it has samples and is lower than the
// configured initial timeout.
func (s *session) initialRTO() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hasRTT {
		return s.cfg.initialTimeout
	}
	return min(s.rto, s.cfg.initialTimeout)
}

// backOff doubles the RTO after an exchange got no answer at all (RFC 6298
// 5.5); the next sample recomputes it.
func (s *session) backOff() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rto = min(time.Duration(float64(s.rto)*s.cfg.backoff), s.cfg.maxTimeout)
}

// admit asks the breaker whether an exchange may go out at now. probe is
// true for the one half-open probe allowed after the cool-down.
func (s *session) admit(now time.Time) (probe bool, err error) {
	if s.cfg.breakerAfter == 0 {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return false, nil
	}
	if now.Before(s.openUntil) || s.probing {
		return false, ErrCircuitOpen
	}
	s.probing = true
	return true, nil
}

// exchanged records how an admitted exchange ended for the breaker.
func (s *session) exchanged(now time.Time, probe bool, r result) {
	if s.cfg.breakerAfter == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if probe {
		s.probing = false
	}
	switch r {
	case resultOK:
		s.fails, s.open = 0, false
	case resultFail:
		s.fails = min(s.fails+1, math.MaxInt32-1)
		if probe || int(s.fails) >= s.cfg.breakerAfter {
			s.open, s.openUntil = true, now.Add(s.cfg.breakerCool)
		}
	}
}

// currentMode is the degrade step operations should use now.
func (s *session) currentMode() mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// noted records an operation's result at step m: failures move down a
// step, successes climb back. Results from a step other than the current
// one are ignored.
func (s *session) noted(m mode, r result) {
	if s.cfg.degradeAfter == 0 || r == resultNeutral {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m != s.mode {
		return
	}
	if r == resultOK {
		s.modeFails = 0
		if s.mode > s.baseMode() {
			s.modeOKs++
			if int(s.modeOKs) >= s.cfg.recoverAfter {
				s.mode--
				s.modeOKs = 0
				s.cfg.logger.Info("pollerlib: target recovers a step", "target", s.key.String(), "mode", s.mode.String())
			}
		}
		return
	}
	s.modeOKs = 0
	s.modeFails++
	if int(s.modeFails) >= s.cfg.degradeAfter && s.mode < modeSingle {
		s.mode++
		s.modeFails = 0
		s.cfg.logger.Info("pollerlib: target degrades a step", "target", s.key.String(), "mode", s.mode.String())
	}
}

// repetitions is the max-repetitions a GetBulk should ask for now.
func (s *session) repetitions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.maxRep)
}

// shrink halves max-repetitions after a tooBig to a request that asked
// for from; it returns the new value.
func (s *session) shrink(from int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if int(s.maxRep) >= from {
		s.maxRep = int32(max(from/2, 1))
	}
	return int(s.maxRep)
}

// grow lets max-repetitions climb back by one after a full response.
func (s *session) grow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if int(s.maxRep) < s.cfg.maxRepetitions {
		s.maxRep++
	}
}
