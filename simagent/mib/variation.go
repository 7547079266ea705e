package mib

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// Special is what a record of snmpsim's delay, error or writecache module
// does when an agent answers it, besides serving its value. simagent maps
// them to its own faults on that OID: a delay before the reply, an
// error-status, an exception, or no reply at all.
type Special struct {
	// ErrStatus, when non-zero, is the error-status (RFC 3416: genErr 5,
	// noAccess 6, ... inconsistentName 18) a request that reads the OID
	// gets, with the index of the varbind that hit it.
	ErrStatus int
	// Exception, when non-zero, is the exception the OID answers instead
	// of its value (ber.TagNoSuchObject, NoSuchInstance, EndOfMibView).
	Exception byte
	// Wait is the delay before the reply; Deviation spreads it uniformly
	// over [Wait-Deviation, Wait+Deviation); TList, when one of its
	// conditions on the wall clock holds, replaces Wait.
	Wait, Deviation time.Duration
	TList           []TimeWait
	// Delayed tells Wait, Deviation and TList apply (the delay module).
	Delayed bool
	// Broken marks a record snmpsim cannot evaluate: noSuchInstance to a
	// Get, endOfMibView to a GetNext reaching it.
	Broken bool
}

// TimeWait is one condition of the delay module's tlist: when the wall
// clock (Unix seconds) is below ('<'), equal to ('=') or above ('>')
// Unix, the delay is Wait.
type TimeWait struct {
	Op   byte
	Unix int64
	Wait time.Duration
}

// MaxSpecialWait is the longest delay a record asks for; snmpsim drops
// the reply instead (DelayAt reports drop).
const MaxSpecialWait = 99999 * time.Millisecond

// DelayAt is the record's delay for a request at now; u in [0, 1) draws
// the deviation. drop is set when the delay is past MaxSpecialWait: then
// snmpsim sends no reply.
func (sp *Special) DelayAt(now time.Time, u float64) (d time.Duration, drop bool) {
	if !sp.Delayed {
		return 0, false
	}
	d = sp.Wait
	sec := now.Unix()
	for _, op := range []byte{'=', '<', '>'} { // snmpsim's order: eq, lt, gt
		for _, tw := range sp.TList {
			if tw.Op == op && ((op == '=' && sec == tw.Unix) || (op == '<' && sec < tw.Unix) || (op == '>' && sec > tw.Unix)) {
				d = tw.Wait
				goto found
			}
		}
	}
found:
	if sp.Deviation > 0 {
		d += time.Duration((2*u - 1) * float64(sp.Deviation))
	}
	if d < 0 {
		d = 0
	}
	return d, d > MaxSpecialWait
}

// errorStatuses are the status= names snmpsim's error and writecache
// modules take (lower-cased), with their error-status; the last three
// are exceptions.
var errorStatuses = map[string]int{
	"generror": 5, "noaccess": 6, "wrongtype": 7, "wrongvalue": 10, "nocreation": 11,
	"inconsistentvalue": 12, "resourceunavailable": 13, "commitfailed": 14, "undofailed": 15,
	"authorizationerror": 16, "notwritable": 17, "inconsistentname": 18,
	"nosuchobject": -int(ber.TagNoSuchObject), "nosuchinstance": -int(ber.TagNoSuchInstance), "endofmib": -int(ber.TagEndOfMibView),
}

// setStatus applies status=NAME to sp.
func (sp *Special) setStatus(module, name string) error {
	st, ok := errorStatuses[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("%s: unknown status %q (known: %s)", module, name, strings.Join(slices.Sorted(maps.Keys(errorStatuses)), ", "))
	}
	if st < 0 {
		sp.Exception = byte(-st)
	} else {
		sp.ErrStatus = st
	}
	return nil
}

// readOp reports whether op= (default any) covers reads.
func readOp(module, op string) (bool, error) {
	switch strings.ToLower(op) {
	case "", "any", "get":
		return true, nil
	case "set":
		return false, nil
	}
	return false, fmt.Errorf("%s: bad op=%s (want get, set or any)", module, op)
}

// checkParams refuses parameters a module does not know.
func checkParams(module string, params map[string]string, known ...string) error {
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if !slices.Contains(known, k) {
			return fmt.Errorf("unknown %s parameter %q (known: %s)", module, k, strings.Join(known, ", "))
		}
	}
	return nil
}

// moduleValue decodes a module's value= or hexvalue= for tag; have is
// false when the record gives neither.
func (p *snmprecParser) moduleValue(module string, tag int, params map[string]string) (v Value, have bool, err error) {
	text, plain := params["value"]
	hex, isHex := params["hexvalue"]
	switch {
	case plain && isHex:
		return Value{}, false, fmt.Errorf("%s: give value= or hexvalue=, not both", module)
	case isHex:
		v, _, err = p.static(tag, 'x', []byte(hex))
	case plain:
		v, _, err = p.static(tag, 0, []byte(text))
	default:
		return Value{}, false, nil
	}
	return v, true, err
}

// writecache serves the module's value= (or hexvalue=) statically: agents
// are read-only, so the options about SETs (vlist, file) have no effect,
// but status= with op=get or any (the default) makes reads fail with that
// status, as snmpsim's do.
func (p *snmprecParser) writecache(tag int, val []byte) (Value, *Special, error) {
	params, err := moduleParams("writecache", val)
	if err != nil {
		return Value{}, nil, err
	}
	if err := checkParams("writecache", params, "value", "hexvalue", "op", "vlist", "status", "file"); err != nil {
		return Value{}, nil, err
	}
	v, have, err := p.moduleValue("writecache", tag, params)
	if err != nil {
		return Value{}, nil, err
	}
	if !have {
		return Value{}, nil, errors.New("writecache needs value= or hexvalue=")
	}
	sp, err := statusOnRead("writecache", params)
	return v, sp, err
}

// statusOnRead is the Special of a status= that applies to reads, or nil.
func statusOnRead(module string, params map[string]string) (*Special, error) {
	status, ok := params["status"]
	if !ok {
		return nil, nil
	}
	reads, err := readOp(module, params["op"])
	if err != nil || !reads {
		return nil, err
	}
	sp := &Special{}
	return sp, sp.setStatus(module, status)
}

// errorModule is snmpsim's error module: status= on reads (op=get or any,
// the default), value= or hexvalue= otherwise; vlist (about SETs) has no
// effect. A record with neither a read status nor a value answers
// noSuchInstance, as snmpsim does.
func (p *snmprecParser) errorModule(tag int, val []byte) (Value, *Special, error) {
	params, err := moduleParams("error", val)
	if err != nil {
		return Value{}, nil, err
	}
	if err := checkParams("error", params, "value", "hexvalue", "op", "vlist", "status"); err != nil {
		return Value{}, nil, err
	}
	v, have, err := p.moduleValue("error", tag, params)
	if err != nil {
		return Value{}, nil, err
	}
	sp, err := statusOnRead("error", params)
	if err != nil {
		return Value{}, nil, err
	}
	if !have {
		v = Value{Tag: byte(tag)}
		if sp == nil {
			sp = &Special{Exception: ber.TagNoSuchInstance}
		}
	}
	return v, sp, nil
}

// delayModule is snmpsim's delay module: the value (value=, hexvalue=)
// after wait= milliseconds (default 500), spread by deviation=, or the
// delay of the first tlist= condition on the wall clock that holds
// (eq/lt/gt:UNIXTIME:MS, checked eq, lt, gt). vlist (about SETs) has no
// effect. A delay past 99999 ms drops the reply.
func (p *snmprecParser) delayModule(tag int, val []byte) (Value, *Special, error) {
	params, err := moduleParams("delay", val)
	if err != nil {
		return Value{}, nil, err
	}
	if err := checkParams("delay", params, "value", "hexvalue", "wait", "deviation", "vlist", "tlist"); err != nil {
		return Value{}, nil, err
	}
	v, have, err := p.moduleValue("delay", tag, params)
	if err != nil {
		return Value{}, nil, err
	}
	if !have {
		return Value{}, nil, errors.New("delay needs value= or hexvalue=")
	}
	sp := &Special{Delayed: true, Wait: 500 * time.Millisecond}
	ms := func(k, s string) (time.Duration, error) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e9 {
			return 0, fmt.Errorf("delay: bad %s %q: want milliseconds", k, s)
		}
		return time.Duration(f * float64(time.Millisecond)), nil
	}
	if s, ok := params["wait"]; ok {
		if sp.Wait, err = ms("wait", s); err != nil {
			return Value{}, nil, err
		}
	}
	if s, ok := params["deviation"]; ok {
		if sp.Deviation, err = ms("deviation", s); err != nil {
			return Value{}, nil, err
		}
		sp.Deviation = max(sp.Deviation, -sp.Deviation)
	}
	if s, ok := params["tlist"]; ok {
		f := strings.Split(s, ":")
		if len(f)%3 != 0 {
			return Value{}, nil, fmt.Errorf("delay: bad tlist %q: want OP:UNIXTIME:MS triples", s)
		}
		for i := 0; i < len(f); i += 3 {
			ops := map[string]byte{"eq": '=', "lt": '<', "gt": '>'}
			op, ok := ops[f[i]]
			at, err1 := strconv.ParseInt(f[i+1], 10, 64)
			w, err2 := ms("tlist delay", f[i+2])
			if !ok || err1 != nil || err2 != nil {
				return Value{}, nil, fmt.Errorf("delay: bad tlist %q: want eq, lt or gt:UNIXTIME:MS", s)
			}
			sp.TList = append(sp.TList, TimeWait{Op: op, Unix: at, Wait: w})
		}
	}
	return v, sp, nil
}
