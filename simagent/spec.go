package simagent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// FaultSpecGrammar documents the compact fault spec read by ParseFaultSpec,
// for --help texts and the README.
const FaultSpecGrammar = `Fault spec: comma-separated terms KEY=VALUE (spaces around terms are
ignored). The empty spec or "none" means no faults. Every key may appear
once, except slow. DUR is a Go duration (20ms, 1.5s, 1m), P a probability
in [0, 1], N a whole number >= 0, OID a dotted numeric OID.

  delay=DUR            fixed delay added to every reply
  jitter=DUR           scale of a random extra delay drawn from dist
  dist=D               jitter distribution: uniform (default, [0, jitter)),
                       normal (|N(0, jitter)|) or pareto (heavy tail)
  maxdelay=DUR         cap on the total delay
  slow=OID:DUR         extra delay for replies carrying an OID under OID
                       (repeatable; the largest matching extra applies)
  drop=P               drop each request with probability P
  drop-every=N         drop every Nth request
  burst=GB/BG/LB[/LG]  Gilbert-Elliott burst loss: P(good->bad),
                       P(bad->good), loss in bad state [, loss in good state]
  blackhole[=DUR]      answer nothing, for DUR or until replaced
  bulk-cut=N           cut GetBulk responses to at most N varbinds
  maxmsg=N             lower the agent's max message size (64-65507)
  cut-bytes=N          cut every reply datagram after N bytes
  dup[=N]              send N extra copies of each reply (default 1)
  dup-prob=P           duplicate a reply with probability P (needs dup)
  wrong-id=P           answer with a wrong request-id, probability P
  garbage=P            replace a reply with random bytes, probability P
  loop=OID             GetNext/GetBulk beyond OID go back (OIDs stop
                       increasing)
  loop-rewind=OID      where a loop goes back to (default: the loop OID;
                       needs loop)
  eom=OID              endOfMibView (v1: noSuchName) beyond OID
  error=STATUS         answer with an error-status (genErr, tooBig,
                       noSuchName, ... or 0-18)
  error-prob=P         probability of the error-status (default 1; needs
                       error)
  restart[=DUR]        restart the agent when applied: silent for DUR,
                       then sysUpTime and counters start again (and the
                       SNMPv3 engine reboots)
  engine-reboot[=N]    reboot the SNMPv3 engine when applied: engineBoots
                       +N (default 1), engineTime from 0
  time-drift=DUR       step the SNMPv3 engineTime by DUR (may be negative,
                       e.g. -200s)
  report-storm[=DUR]   answer every SNMPv3 request with an unknownEngineID
                       Report, for DUR or until replaced

Example: drop=0.05,delay=20ms,jitter=10ms,dist=pareto,slow=1.3.6.1.2.1.2.2:500ms`

// SpecError is a bad term of a fault spec. It wraps ErrBadFault.
type SpecError struct {
	// Pos is the term's position, from 1 (0: the spec as a whole).
	Pos int
	// Term is the term as written.
	Term string
	// Key is the term's key.
	Key string
	// Err says what is wrong.
	Err error
}

// Error names the term, its position and the key.
func (e *SpecError) Error() string {
	if e.Pos == 0 {
		return fmt.Sprintf("fault spec: %v", e.Err)
	}
	return fmt.Sprintf("fault spec term %d %q: %s: %v", e.Pos, e.Term, e.Key, e.Err)
}

// Unwrap returns ErrBadFault and the underlying error.
func (e *SpecError) Unwrap() []error { return []error{ErrBadFault, e.Err} }

// specKeys lists the keys in the order FormatFaultSpec writes them.
var specKeys = []string{
	"delay", "jitter", "dist", "maxdelay", "slow",
	"drop", "drop-every", "burst",
	"blackhole",
	"bulk-cut", "maxmsg", "cut-bytes",
	"dup", "dup-prob",
	"wrong-id", "garbage",
	"loop", "loop-rewind", "eom",
	"error", "error-prob",
	"restart",
	"engine-reboot", "time-drift", "report-storm",
}

// flagKeys may be written without a value.
var flagKeys = map[string]bool{"blackhole": true, "dup": true, "restart": true, "engine-reboot": true, "report-storm": true}

// ParseFaultSpec reads a compact fault spec, the one-line form of Faults
// used by flags and the control API, e.g. "drop=0.05,delay=20ms,jitter=10ms":
//
//	spec = "" | "none" | term { "," term }
//	term = key [ "=" value ]
//
// Spaces around terms, keys and values are ignored. Each key may appear
// once, except slow; order does not matter. DUR is a Go duration (20ms,
// 1.5s), P a probability in [0, 1], N a whole number >= 0, OID a dotted
// numeric OID (a leading dot is allowed).
//
//	term                 meaning                   Faults field
//	delay=DUR            fixed delay               Delay.Fixed
//	jitter=DUR           random extra delay scale  Delay.Jitter
//	dist=uniform|normal|pareto                     Delay.Dist
//	maxdelay=DUR         cap on the total delay    Delay.Max
//	slow=OID:DUR         delay under a subtree     Delay.Prefixes (repeatable)
//	drop=P               drop probability          Drop.Prob
//	drop-every=N         drop every Nth request    Drop.EveryNth
//	burst=GB/BG/LB[/LG]  Gilbert-Elliott loss      Drop.Burst (GoodToBad, BadToGood, LossBad, LossGood)
//	blackhole[=DUR]      answer nothing            Blackhole.For (none: until replaced)
//	bulk-cut=N           GetBulk varbinds cap      Truncate.BulkVarbinds
//	maxmsg=N             max message size 64-65507 Truncate.MaxMsgSize
//	cut-bytes=N          cut datagrams after N     Truncate.CutBytes
//	dup[=N]              extra copies (default 1)  Duplicate.Copies
//	dup-prob=P           needs dup                 Duplicate.Prob
//	wrong-id=P           wrong request-id          WrongID.Prob
//	garbage=P            random bytes for a reply  Garbage.Prob
//	loop=OID             OIDs go back beyond OID   Loop.After
//	loop-rewind=OID      needs loop                Loop.Rewind
//	eom=OID              endOfMibView beyond OID   EndOfMib.After
//	error=STATUS         genErr, tooBig, ... or N  ErrorStatus.Status
//	error-prob=P         needs error               ErrorStatus.Prob
//	restart[=DUR]        restart, DUR downtime     Restart.Downtime
//	engine-reboot[=N]    v3 engineBoots+N          EngineReboot.Boots (default 1)
//	time-drift=DUR       v3 engineTime step (±)    TimeDrift.Offset
//	report-storm[=DUR]   v3 unknownEngineID storm  ReportStorm.For (none: until replaced)
//
// The result is checked with Faults.Validate. Errors are *SpecError values
// naming the term, its position, the key and the bad value; they wrap
// ErrBadFault. FaultSpecGrammar holds the same for --help texts.
func ParseFaultSpec(s string) (Faults, error) {
	var f Faults
	t := strings.TrimSpace(s)
	if t == "" || t == "none" {
		return f, nil
	}
	seen := map[string]int{}     // key → position of its first term
	terms := map[string]string{} // key → its first term
	for i, term := range strings.Split(t, ",") {
		term = strings.TrimSpace(term)
		k, v, hasVal := strings.Cut(term, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		e := &SpecError{Pos: i + 1, Term: term, Key: k}
		switch {
		case term == "":
			e.Key = "term"
			e.Err = errors.New("empty term (stray comma?)")
			return Faults{}, e
		case term == "none":
			e.Err = errors.New(`"none" cannot be combined with other terms`)
			return Faults{}, e
		case !isSpecKey(k):
			e.Err = fmt.Errorf("unknown key (want one of %s)", strings.Join(specKeys, ", "))
			return Faults{}, e
		case !hasVal && !flagKeys[k]:
			e.Err = errors.New("missing =VALUE")
			return Faults{}, e
		case hasVal && v == "":
			e.Err = errors.New("empty value")
			return Faults{}, e
		}
		if p, dup := seen[k]; dup && k != "slow" {
			e.Err = fmt.Errorf("given twice (first as term %d)", p)
			return Faults{}, e
		}
		seen[k], terms[k] = i+1, term
		if err := setSpecKey(&f, k, v); err != nil {
			e.Err = err
			return Faults{}, e
		}
	}
	for _, dep := range [][2]string{{"dup-prob", "dup"}, {"loop-rewind", "loop"}, {"error-prob", "error"}} {
		if p, ok := seen[dep[0]]; ok && seen[dep[1]] == 0 {
			return Faults{}, &SpecError{Pos: p, Term: terms[dep[0]], Key: dep[0], Err: fmt.Errorf("needs %s", dep[1])}
		}
	}
	if err := f.Validate(); err != nil {
		return Faults{}, &SpecError{Err: err}
	}
	return f, nil
}

func isSpecKey(k string) bool {
	for _, s := range specKeys {
		if s == k {
			return true
		}
	}
	return false
}

// setSpecKey applies one term. Every value is checked here so that errors
// name the term; Validate runs over the whole result afterwards.
func setSpecKey(f *Faults, k, v string) error {
	delay := func() *Delay {
		if f.Delay == nil {
			f.Delay = &Delay{}
		}
		return f.Delay
	}
	drop := func() *Drop {
		if f.Drop == nil {
			f.Drop = &Drop{}
		}
		return f.Drop
	}
	trunc := func() *Truncate {
		if f.Truncate == nil {
			f.Truncate = &Truncate{}
		}
		return f.Truncate
	}
	dup := func() *Duplicate {
		if f.Duplicate == nil {
			f.Duplicate = &Duplicate{}
		}
		return f.Duplicate
	}
	var err error
	switch k {
	case "delay":
		delay().Fixed, err = specDur(v)
	case "jitter":
		delay().Jitter, err = specDur(v)
	case "dist":
		if v != "uniform" && v != "normal" && v != "pareto" {
			return fmt.Errorf("%q is not uniform, normal or pareto", v)
		}
		delay().Dist = v
	case "maxdelay":
		delay().Max, err = specDur(v)
	case "slow":
		err = setSlow(delay(), v)
	case "drop":
		drop().Prob, err = specProb(v)
	case "drop-every":
		drop().EveryNth, err = specInt(v)
	case "burst":
		drop().Burst, err = specBurst(v)
	case "blackhole":
		f.Blackhole = &Blackhole{}
		if v != "" {
			f.Blackhole.For, err = specDur(v)
		}
	case "bulk-cut":
		trunc().BulkVarbinds, err = specInt(v)
	case "maxmsg":
		var n int
		if n, err = specInt(v); err == nil && (n < 64 || n > maxUDPPayload) {
			err = fmt.Errorf("%d not in [64, %d]", n, maxUDPPayload)
		}
		trunc().MaxMsgSize = n
	case "cut-bytes":
		trunc().CutBytes, err = specInt(v)
	case "dup":
		if v != "" {
			dup().Copies, err = specInt(v)
		}
		dup()
	case "dup-prob":
		dup().Prob, err = specProb(v)
	case "wrong-id":
		f.WrongID, err = specChance(v)
	case "garbage":
		f.Garbage, err = specChance(v)
	case "loop":
		err = specOID(v)
		f.Loop = cmpOr(f.Loop, &Loop{})
		f.Loop.After = v
	case "loop-rewind":
		err = specOID(v)
		f.Loop = cmpOr(f.Loop, &Loop{})
		f.Loop.Rewind = v
	case "eom":
		err = specOID(v)
		f.EndOfMib = &EndOfMib{After: v}
	case "error":
		_, err = ParseErrorStatus(v)
		f.ErrorStatus = cmpOr(f.ErrorStatus, &ErrorStatus{})
		f.ErrorStatus.Status = v
	case "error-prob":
		f.ErrorStatus = cmpOr(f.ErrorStatus, &ErrorStatus{})
		f.ErrorStatus.Prob, err = specProb(v)
	case "restart":
		f.Restart = &Restart{}
		if v != "" {
			f.Restart.Downtime, err = specDur(v)
		}
	default:
		err = setSpecKeyV3(f, k, v)
	}
	return err
}

func cmpOr[T any](p, def *T) *T {
	if p != nil {
		return p
	}
	return def
}

func setSlow(d *Delay, v string) error {
	o, ds, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("%q: want OID:DURATION", v)
	}
	if err := specOID(o); err != nil {
		return err
	}
	dur, err := specDur(ds)
	if err != nil {
		return err
	}
	d.Prefixes = append(d.Prefixes, PrefixDelay{OID: o, Delay: dur})
	return nil
}

func specDur(v string) (Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 20ms: %w", v, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %s", v)
	}
	return Duration(d), nil
}

func specProb(v string) (float64, error) {
	p, err := strconv.ParseFloat(v, 64)
	if err != nil || p < 0 || p > 1 || p != p {
		return 0, fmt.Errorf("%q is not a probability in [0, 1]", v)
	}
	return p, nil
}

func specChance(v string) (*Chance, error) {
	p, err := specProb(v)
	return &Chance{Prob: p}, err
}

func specInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number >= 0", v)
	}
	return n, nil
}

func specOID(v string) error {
	if _, err := mib.ParseOID(v); err != nil {
		return fmt.Errorf("bad OID: %w", err)
	}
	return nil
}

func specBurst(v string) (*Burst, error) {
	parts := strings.Split(v, "/")
	if len(parts) != 3 && len(parts) != 4 {
		return nil, fmt.Errorf("%q: want GOODTOBAD/BADTOGOOD/LOSSBAD[/LOSSGOOD]", v)
	}
	var ps [4]float64
	for i, s := range parts {
		p, err := specProb(s)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", i+1, err)
		}
		ps[i] = p
	}
	return &Burst{GoodToBad: ps[0], BadToGood: ps[1], LossBad: ps[2], LossGood: ps[3]}, nil
}

// FormatFaultSpec writes f in the compact form ParseFaultSpec reads, keys in
// the order of FaultSpecGrammar; the zero Faults is "none". For any valid
// f, ParseFaultSpec(FormatFaultSpec(f)) equals f.
func FormatFaultSpec(f Faults) string {
	var t []string
	add := func(k, v string) { t = append(t, k+"="+v) }
	prob := func(p float64) string { return strconv.FormatFloat(p, 'g', -1, 64) }
	if d := f.Delay; d != nil {
		if d.Fixed != 0 || (d.Jitter == 0 && d.Dist == "" && d.Max == 0 && len(d.Prefixes) == 0) {
			add("delay", d.Fixed.String())
		}
		if d.Jitter != 0 {
			add("jitter", d.Jitter.String())
		}
		if d.Dist != "" {
			add("dist", d.Dist)
		}
		if d.Max != 0 {
			add("maxdelay", d.Max.String())
		}
		for _, p := range d.Prefixes {
			add("slow", p.OID+":"+p.Delay.String())
		}
	}
	if d := f.Drop; d != nil {
		if d.Prob != 0 || (d.EveryNth == 0 && d.Burst == nil) {
			add("drop", prob(d.Prob))
		}
		if d.EveryNth != 0 {
			add("drop-every", strconv.Itoa(d.EveryNth))
		}
		if b := d.Burst; b != nil {
			v := prob(b.GoodToBad) + "/" + prob(b.BadToGood) + "/" + prob(b.LossBad)
			if b.LossGood != 0 {
				v += "/" + prob(b.LossGood)
			}
			add("burst", v)
		}
	}
	if b := f.Blackhole; b != nil {
		if b.For == 0 {
			t = append(t, "blackhole")
		} else {
			add("blackhole", b.For.String())
		}
	}
	if tr := f.Truncate; tr != nil {
		if tr.BulkVarbinds != 0 || (tr.MaxMsgSize == 0 && tr.CutBytes == 0) {
			add("bulk-cut", strconv.Itoa(tr.BulkVarbinds))
		}
		if tr.MaxMsgSize != 0 {
			add("maxmsg", strconv.Itoa(tr.MaxMsgSize))
		}
		if tr.CutBytes != 0 {
			add("cut-bytes", strconv.Itoa(tr.CutBytes))
		}
	}
	if d := f.Duplicate; d != nil {
		if d.Copies == 0 {
			t = append(t, "dup")
		} else {
			add("dup", strconv.Itoa(d.Copies))
		}
		if d.Prob != 0 {
			add("dup-prob", prob(d.Prob))
		}
	}
	if c := f.WrongID; c != nil {
		add("wrong-id", prob(c.Prob))
	}
	if c := f.Garbage; c != nil {
		add("garbage", prob(c.Prob))
	}
	if l := f.Loop; l != nil {
		add("loop", l.After)
		if l.Rewind != "" {
			add("loop-rewind", l.Rewind)
		}
	}
	if e := f.EndOfMib; e != nil {
		add("eom", e.After)
	}
	if e := f.ErrorStatus; e != nil {
		add("error", e.Status)
		if e.Prob != 0 {
			add("error-prob", prob(e.Prob))
		}
	}
	if r := f.Restart; r != nil {
		if r.Downtime == 0 {
			t = append(t, "restart")
		} else {
			add("restart", r.Downtime.String())
		}
	}
	t = formatSpecV3(f, t)
	if len(t) == 0 {
		return "none"
	}
	return strings.Join(t, ",")
}
