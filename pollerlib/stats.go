package pollerlib

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"
)

// Outcomes of an operation, as counted in Stats.Polls.
const (
	OutcomeOK            = "ok"
	OutcomeTimeout       = "timeout"
	OutcomeTooBig        = "tooBig"
	OutcomeNotIncreasing = "notIncreasing"
	OutcomeCircuitOpen   = "circuitOpen"
	OutcomeClosed        = "closed"
	OutcomeCanceled      = "canceled"
	OutcomeDeadline      = "deadline"
	OutcomeDecode        = "decode"
	OutcomeBadResponse   = "badResponse"
	OutcomeStatus        = "status"
	OutcomeSkipped       = "skipped"
	OutcomeOverloaded    = "overloaded"
	OutcomeError         = "error"
)

var outcomes = []string{
	OutcomeOK, OutcomeTimeout, OutcomeTooBig, OutcomeNotIncreasing, OutcomeCircuitOpen,
	OutcomeClosed, OutcomeCanceled, OutcomeDeadline, OutcomeDecode, OutcomeBadResponse,
	OutcomeStatus, OutcomeSkipped, OutcomeOverloaded, OutcomeError,
}

// Outcomes lists every outcome Stats.Polls counts.
func Outcomes() []string { return append([]string(nil), outcomes...) }

// Outcome classifies an operation's error (nil is "ok").
func Outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrTimeout):
		return OutcomeTimeout
	case errors.Is(err, ErrTooBig):
		return OutcomeTooBig
	case errors.Is(err, ErrOIDNotIncreasing):
		return OutcomeNotIncreasing
	case errors.Is(err, ErrCircuitOpen):
		return OutcomeCircuitOpen
	case errors.Is(err, ErrClosed):
		return OutcomeClosed
	case errors.Is(err, context.Canceled):
		return OutcomeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return OutcomeDeadline
	case errors.Is(err, ErrDecode):
		return OutcomeDecode
	case errors.Is(err, ErrBadResponse):
		return OutcomeBadResponse
	case errors.Is(err, ErrStatus):
		return OutcomeStatus
	case errors.Is(err, ErrSkipped):
		return OutcomeSkipped
	case errors.Is(err, ErrOverloaded):
		return OutcomeOverloaded
	}
	return OutcomeError
}

func outcomeIndex(err error) int {
	o := Outcome(err)
	for i, n := range outcomes {
		if n == o {
			return i
		}
	}
	return len(outcomes) - 1
}

// Stats is a snapshot of what a Poller holds and has done.
type Stats struct {
	// Sockets the poller holds open (0 after Close).
	Sockets int `json:"sockets"`
	// InFlight is the number of exchanges waiting for a response.
	InFlight int `json:"inFlight"`
	// Operations is the number of calls (Get, walks, ...) running now, and
	// MaxOperations their bound (WithMaxInFlight); calls past it fail at
	// once with ErrOverloaded (counted in Polls["overloaded"]).
	Operations    int `json:"operations"`
	MaxOperations int `json:"maxOperations"`
	// ReadBuffer is each socket's receive buffer, asked for and granted.
	ReadBuffer ReadBufferStats `json:"readBuffer"`
	// Sessions is the number of targets with state.
	Sessions int `json:"sessions"`
	// Goroutines the poller owns right now (0 after Close).
	Goroutines int `json:"goroutines"`
	// Polls counts finished operations (Get, walks, scheduled polls) by
	// outcome (see Outcomes).
	Polls map[string]uint64 `json:"polls"`
	// Requests is datagrams sent; Retries the ones that were retransmits;
	// Timeouts the attempts that got no valid response in time.
	Requests uint64 `json:"requests"`
	Retries  uint64 `json:"retries"`
	Timeouts uint64 `json:"timeouts"`
	// Responses is datagrams received. Of those, Late answered a request
	// already given up; Duplicate one already answered; Mismatched came from
	// another address than the request went to, or did not match its
	// request's version, community or PDU type; Unknown carried a
	// request-id never issued (or long forgotten); Malformed had no
	// readable request-id; DecodeErrors matched a request but could not be
	// decoded. None of them reached a caller.
	Responses uint64 `json:"responses"`
	// Helped counts the responses read by an exchange rather than the
	// demux goroutine, which had not read for a millisecond (a saturated
	// host's scheduler runs it late) or before a timeout was counted.
	Helped       uint64 `json:"helped"`
	Late         uint64 `json:"late"`
	Duplicate    uint64 `json:"duplicate"`
	Mismatched   uint64 `json:"mismatched"`
	Unknown      uint64 `json:"unknown"`
	Malformed    uint64 `json:"malformed"`
	DecodeErrors uint64 `json:"decodeErrors"`
	SendErrors   uint64 `json:"sendErrors"`
	ReadErrors   uint64 `json:"readErrors"`
	// V3 counts SNMPv3 engine work: discoveries, Reports, and responses
	// rejected because their MAC did not verify (never delivered).
	V3 V3Stats `json:"v3"`
	// RTT summarises round-trip times of answered requests.
	RTT RTTStats `json:"rtt"`
}

// RTTStats are round-trip time percentiles (bucket upper bounds, within
// 19% of the true value).
type RTTStats struct {
	Count uint64        `json:"count"`
	P50   time.Duration `json:"p50"`
	P90   time.Duration `json:"p90"`
	P99   time.Duration `json:"p99"`
	Max   time.Duration `json:"max"`
}

// counters are a Poller's live stats.
type counters struct {
	requests, retries, timeouts, received, late, duplicate, mismatched atomic.Uint64
	unknown, malformed, decodeErrors, sendErrors, readErrors, polls    atomic.Uint64
	helped                                                             atomic.Uint64
	inFlight, goroutines                                               atomic.Int64
	outcomes                                                           [16]atomic.Uint64
	rtt                                                                histogram
	v3                                                                 v3Counters
}

func (c *counters) outcome(err error) { c.outcomes[outcomeIndex(err)].Add(1) }

func (c *counters) snapshot() Stats {
	s := Stats{
		InFlight:     int(c.inFlight.Load()),
		Goroutines:   int(c.goroutines.Load()),
		Requests:     c.requests.Load(),
		Retries:      c.retries.Load(),
		Timeouts:     c.timeouts.Load(),
		Helped:       c.helped.Load(),
		Responses:    c.received.Load(),
		Late:         c.late.Load(),
		Duplicate:    c.duplicate.Load(),
		Mismatched:   c.mismatched.Load(),
		Unknown:      c.unknown.Load(),
		Malformed:    c.malformed.Load(),
		DecodeErrors: c.decodeErrors.Load(),
		SendErrors:   c.sendErrors.Load(),
		ReadErrors:   c.readErrors.Load(),
		Polls:        make(map[string]uint64, len(outcomes)),
		RTT:          c.rtt.summary(),
		V3:           c.v3.snapshot(),
	}
	for i, o := range outcomes {
		s.Polls[o] = c.outcomes[i].Load()
	}
	return s
}

// histogram counts durations in log buckets: bucket i holds durations up to
// histBase * 2^(i/4).
type histogram struct {
	buckets [histBuckets]atomic.Uint64
	max     atomic.Int64
}

const (
	histBase    = 10 * time.Microsecond
	histBuckets = 100 // up to about 336 s
)

func (h *histogram) observe(d time.Duration) {
	i := 0
	if d > histBase {
		i = int(math.Ceil(4 * math.Log2(float64(d)/float64(histBase))))
	}
	h.buckets[min(i, histBuckets-1)].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

func bucketBound(i int) time.Duration {
	return time.Duration(float64(histBase) * math.Exp2(float64(i)/4))
}

func (h *histogram) summary() RTTStats {
	var counts [histBuckets]uint64
	var total uint64
	for i := range counts {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	s := RTTStats{Count: total, Max: time.Duration(h.max.Load())}
	if total == 0 {
		return s
	}
	q := func(p float64) time.Duration {
		rank := uint64(math.Ceil(p * float64(total)))
		var acc uint64
		for i, c := range counts {
			acc += c
			if acc >= rank {
				return min(bucketBound(i), s.Max)
			}
		}
		return s.Max
	}
	s.P50, s.P90, s.P99 = q(0.5), q(0.9), q(0.99)
	return s
}
