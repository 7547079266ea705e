package simagent

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// Faults is what an agent does wrong. The zero value is a healthy agent.
// Faults are data: they marshal to JSON and YAML, are applied to agents
// through a Selector, and can be replaced while the fleet runs.
type Faults struct {
	Delay       *Delay       `json:"delay,omitempty"`
	Drop        *Drop        `json:"drop,omitempty"`
	Blackhole   *Blackhole   `json:"blackhole,omitempty"`
	Truncate    *Truncate    `json:"truncate,omitempty"`
	Duplicate   *Duplicate   `json:"duplicate,omitempty"`
	WrongID     *Chance      `json:"wrongRequestID,omitempty"`
	Garbage     *Chance      `json:"garbage,omitempty"`
	Loop        *Loop        `json:"loop,omitempty"`
	EndOfMib    *EndOfMib    `json:"endOfMib,omitempty"`
	ErrorStatus *ErrorStatus `json:"errorStatus,omitempty"`
	Restart     *Restart     `json:"restart,omitempty"`
	// SNMPv3 engine faults (faults_v3.go).
	EngineReboot *EngineReboot `json:"engineReboot,omitempty"`
	TimeDrift    *TimeDrift    `json:"timeDrift,omitempty"`
	ReportStorm  *ReportStorm  `json:"reportStorm,omitempty"`
}

// Delay holds replies back. A delayed reply never holds up other agents or
// other requests to the same agent.
type Delay struct {
	// Fixed is added to every reply.
	Fixed Duration `json:"fixed,omitempty"`
	// Jitter is the scale of a random extra delay drawn from Dist.
	Jitter Duration `json:"jitter,omitempty"`
	// Dist is "uniform" (default: [0, Jitter)), "normal" (|N(0, Jitter)|) or
	// "pareto" (shape 1.5, scale Jitter: mostly small, a heavy tail).
	Dist string `json:"dist,omitempty"`
	// Max caps the total delay (0: no cap).
	Max Duration `json:"max,omitempty"`
	// Prefixes slows replies that carry an OID in a subtree (a slow
	// subtree); the largest matching extra applies.
	Prefixes []PrefixDelay `json:"prefixes,omitempty"`
}

// PrefixDelay delays replies touching a subtree.
type PrefixDelay struct {
	OID   string   `json:"oid"`
	Delay Duration `json:"delay"`
}

// Drop makes requests go unanswered.
type Drop struct {
	// Prob drops each request independently with this probability.
	Prob float64 `json:"prob,omitempty"`
	// EveryNth drops every Nth request to the agent.
	EveryNth int `json:"everyNth,omitempty"`
	// Burst drops in bursts (Gilbert-Elliott two-state model).
	Burst *Burst `json:"burst,omitempty"`
}

// Burst is a Gilbert-Elliott loss model: a good and a bad state with a loss
// probability each, and per-request transition probabilities.
type Burst struct {
	GoodToBad float64 `json:"goodToBad"`
	BadToGood float64 `json:"badToGood"`
	LossGood  float64 `json:"lossGood,omitempty"`
	LossBad   float64 `json:"lossBad"`
}

// Blackhole silences an agent from the moment the fault is applied, for For
// (0: until the fault is replaced).
type Blackhole struct {
	For Duration `json:"for,omitempty"`
}

// Truncate makes replies short or broken.
type Truncate struct {
	// BulkVarbinds cuts GetBulk responses to at most this many varbinds.
	BulkVarbinds int `json:"bulkVarbinds,omitempty"`
	// MaxMsgSize lowers the agent's maximum message size: GetBulk responses
	// shrink to fit, Get/GetNext responses that cannot fit get tooBig.
	MaxMsgSize int `json:"maxMsgSize,omitempty"`
	// CutBytes cuts every reply datagram after this many bytes (malformed
	// BER on the wire).
	CutBytes int `json:"cutBytes,omitempty"`
}

// Duplicate sends extra copies of replies.
type Duplicate struct {
	// Copies extra copies of each reply (default 1).
	Copies int `json:"copies,omitempty"`
	// Prob of duplicating a reply (default 1).
	Prob float64 `json:"prob,omitempty"`
}

// Chance is a fault that hits each reply with probability Prob.
type Chance struct {
	Prob float64 `json:"prob"`
}

// Loop makes GetNext/GetBulk go back: when the next OID would lie beyond
// After, the agent answers Rewind instead (default: After itself), so OIDs
// stop increasing, as broken agents do.
type Loop struct {
	After  string `json:"after"`
	Rewind string `json:"rewind,omitempty"`
}

// EndOfMib ends the MIB view early: lookups beyond After answer
// endOfMibView (v1: noSuchName).
type EndOfMib struct {
	After string `json:"after"`
}

// ErrorStatus answers with an error-status instead of data.
type ErrorStatus struct {
	// Status is a name (genErr, tooBig, noSuchName, badValue, readOnly,
	// noAccess, resourceUnavailable, ...) or a number.
	Status string `json:"status"`
	// Prob of answering with the error (default 1).
	Prob float64 `json:"prob,omitempty"`
}

// Restart restarts the agent when applied: silent for Downtime, then back
// with sysUpTime and counters reset.
type Restart struct {
	Downtime Duration `json:"downtime,omitempty"`
}

// ErrBadFault is wrapped by every fault validation error.
var ErrBadFault = errors.New("bad fault")

func badFault(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadFault, field, fmt.Sprintf(format, args...))
}

func checkProb(field string, p float64) error {
	if p < 0 || p > 1 || p != p {
		return badFault(field, "probability %v not in [0, 1]", p)
	}
	return nil
}

func checkDur(field string, d Duration) error {
	if d < 0 {
		return badFault(field, "negative duration %s", d)
	}
	return nil
}

// MaxDelay bounds every delay of a Delay fault (fixed, jitter, max, a
// prefix's), and the total delay of a reply: a held reply costs memory
// until it is sent.
const MaxDelay = Duration(time.Hour)

// checkDelay checks one delay: not negative, at most MaxDelay.
func checkDelay(field string, d Duration) error {
	if err := checkDur(field, d); err != nil {
		return err
	}
	if d > MaxDelay {
		return badFault(field, "delay %s over the bound of %s (simagent.MaxDelay)", d, MaxDelay)
	}
	return nil
}

// Validate checks every field and names the first bad one.
func (f *Faults) Validate() error {
	_, err := compile(f)
	return err
}

// errorStatusNames maps RFC 3416 error-status names to values.
var errorStatusNames = []string{
	"noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr",
	"noAccess", "wrongType", "wrongLength", "wrongEncoding", "wrongValue",
	"noCreation", "inconsistentValue", "resourceUnavailable", "commitFailed",
	"undoFailed", "authorizationError", "notWritable", "inconsistentName",
}

// ParseErrorStatus reads an error-status name (case-insensitive) or number.
func ParseErrorStatus(s string) (int, error) {
	for i, n := range errorStatusNames {
		if strings.EqualFold(n, s) {
			return i, nil
		}
	}
	var v int
	if _, err := fmt.Sscanf(s, "%d", &v); err == nil && fmt.Sprint(v) == s && v >= 0 && v <= 18 {
		return v, nil
	}
	return 0, fmt.Errorf("unknown error-status %q (want one of %s, or 0-18)", s, strings.Join(errorStatusNames, ", "))
}

func parseFaultOID(field, s string) (mib.OID, error) {
	o, err := mib.ParseOID(s)
	if err != nil {
		return nil, badFault(field, "%v", err)
	}
	return o, nil
}
