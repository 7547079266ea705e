package mib

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// snmpsim's numeric variation module. Its parameters: initial (default
// min), min (0), max (2^32-1, 2^64-1 for Counter64), rate (1), scale,
// offset, deviation, function, atime, cumulative, wrap. snmpsim computes
// on every read, from t = seconds since it started (since the epoch with
// atime):
//
//	v = initial + function(rate*t)*scale + offset + noise(deviation)
//
// then clamps v to [min, max] (above max: v mod max + min with wrap, else
// max). simagent does the same, deterministically: t is the agent's age
// (restarts start it again), function is any of Python's math functions
// snmpsim names (function=pow%<time>%2: <time> is rate*t), and the noise
// is uniform in [-deviation, deviation), drawn per agent and per whole
// second from the agent's seed, so a read repeated within a second
// answers the same.
//
// cumulative: snmpsim adds the formula's value to the previous read's, so
// what a poller sees depends on how often it polls. simagent makes it
// what the recordings mean by it, a counter: it rises by
// rate*scale + offset*rate a second (the identity function), or, with
// function=sin or cos, by the integral of scale*f(rate*t) + offset*rate
// (a rate that swings around offset*rate); noise (at most the slowest
// second's rise, so the counter never falls) is added on top. Other
// functions are not supported with cumulative (an error wrapping
// ErrUnsupported). The simple cases (no function, deviation, atime or
// cumulative, rising) stay a DynCounter.

// Numeric is a value of snmpsim's numeric module beyond a plain counter.
type Numeric struct {
	Tag                     byte
	Initial, Min, Max       float64
	Rate, Scale, Offset     float64
	Deviation               float64
	Wrap, Atime, Cumulative bool
	// Fn is the function's name ("" for the identity) and Args its
	// arguments, NaN standing for <time>.
	Fn   string
	Args []float64
	fn1  func(float64) float64
	fn2  func(float64, float64) float64
}

var numFuncs1 = map[string]func(float64) float64{
	"sin": math.Sin, "cos": math.Cos, "tan": math.Tan, "asin": math.Asin, "acos": math.Acos, "atan": math.Atan,
	"sinh": math.Sinh, "cosh": math.Cosh, "tanh": math.Tanh, "exp": math.Exp, "expm1": math.Expm1,
	"log": math.Log, "log10": math.Log10, "log2": math.Log2, "log1p": math.Log1p, "sqrt": math.Sqrt,
	"fabs": math.Abs, "ceil": math.Ceil, "floor": math.Floor, "trunc": math.Trunc,
}

var numFuncs2 = map[string]func(float64, float64) float64{
	"pow": math.Pow, "atan2": math.Atan2, "hypot": math.Hypot, "fmod": math.Mod, "copysign": math.Copysign,
	"log": func(x, b float64) float64 { return math.Log(x) / math.Log(b) },
}

// numericValue maps a numeric record to a value (see above). A value that
// cannot move is returned static.
func numericValue(tag int, enc byte, val []byte) (Value, error) {
	var hi uint64
	switch tag {
	case recInteger:
		hi = math.MaxInt32
	case recCounter32, recGauge32, recTimeTicks:
		hi = math.MaxUint32
	case recCounter64:
		hi = math.MaxUint64
	default:
		return Value{}, fmt.Errorf("variation module \"numeric\" needs TAG 2, 65, 66, 67 or 70, not %d", tag)
	}
	if enc != 0 {
		return Value{}, fmt.Errorf("variation module \"numeric\" takes no %c suffix on its TAG", enc)
	}
	params, err := moduleParams("numeric", val)
	if err != nil {
		return Value{}, err
	}
	n := Numeric{Tag: byte(tag), Max: float64(hi), Rate: 1, Scale: 1}
	lo, top := uint64(0), hi
	var initial uint64
	haveInitial := false
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v := params[k]
		var err error
		switch k {
		case "min":
			lo, err = numUint(k, v, hi)
		case "max":
			top, err = numUint(k, v, hi)
		case "initial":
			initial, err = numUint(k, v, hi)
			haveInitial = true
		case "rate":
			n.Rate, err = numFloat(k, v)
		case "scale":
			n.Scale, err = numFloat(k, v)
		case "offset":
			n.Offset, err = numFloat(k, v)
		case "deviation":
			n.Deviation, err = numFloat(k, v)
			n.Deviation = math.Abs(n.Deviation)
		case "wrap":
			n.Wrap = v != "0" && !strings.EqualFold(v, "false")
		case "atime":
			n.Atime = v != "0" && !strings.EqualFold(v, "false")
		case "cumulative":
			n.Cumulative = v != "0" && !strings.EqualFold(v, "false")
		case "function":
			err = n.parseFunction(v)
		default:
			err = fmt.Errorf("unknown numeric parameter %q (supported: initial, min, max, rate, scale, offset, deviation, function, atime, cumulative, wrap)", k)
		}
		if err != nil {
			return Value{}, err
		}
	}
	if top < lo {
		return Value{}, fmt.Errorf("numeric: max %d is below min %d", top, lo)
	}
	if !haveInitial {
		initial = lo
	}
	n.Min, n.Max, n.Initial = float64(lo), float64(top), float64(initial)
	if n.Cumulative && n.Fn != "" && n.Fn != "sin" && n.Fn != "cos" {
		return Value{}, fmt.Errorf("numeric: cumulative with function=%s is %w (cumulative takes sin, cos or no function)", n.Fn, ErrUnsupported)
	}
	speed := n.Rate * n.Scale
	simple := n.Fn == "" && n.Deviation == 0 && !n.Atime && !n.Cumulative && speed >= 0
	if !simple {
		return Value{Tag: byte(tag), Dyn: &Dynamic{Kind: DynNumeric, Num: &n}}, nil
	}
	if n.Offset != 0 {
		f := float64(initial) + n.Offset
		if f < 0 || f > float64(hi) {
			return Value{}, fmt.Errorf("numeric: initial+offset %v out of range [0, %d]", f, hi)
		}
		initial = uint64(f)
	}
	if top == lo || speed == 0 {
		d := Dynamic{Min: lo, Max: top, Wrap: n.Wrap}
		return Value{Tag: byte(tag), Content: ber.AppendUint(nil, d.bound(initial))}, nil
	}
	bits := uint8(32)
	if tag == recCounter64 {
		bits = 64
	}
	return Value{Tag: byte(tag), Dyn: &Dynamic{
		Kind: DynCounter, Initial: initial, Rate: speed, Bits: bits, Min: lo, Max: top, Wrap: n.Wrap,
	}}, nil
}

// parseFunction reads function=NAME[%ARG...] (snmpsim's '%'-separated
// arguments, <time> standing for rate*t).
func (n *Numeric) parseFunction(v string) error {
	parts := strings.Split(v, "%")
	n.Fn = parts[0]
	for _, a := range parts[1:] {
		if a == "<time>" {
			n.Args = append(n.Args, math.NaN())
			continue
		}
		f, err := strconv.ParseFloat(a, 64)
		if err != nil {
			return fmt.Errorf("bad numeric function argument %q in function=%s: want a number or <time>", a, v)
		}
		n.Args = append(n.Args, f)
	}
	switch len(n.Args) {
	case 0, 1:
		n.fn1 = numFuncs1[n.Fn]
	case 2:
		n.fn2 = numFuncs2[n.Fn]
	}
	if n.fn1 == nil && n.fn2 == nil {
		return fmt.Errorf("unknown numeric function=%s (one argument: %s; two: %s)", v,
			strings.Join(slices.Sorted(maps.Keys(numFuncs1)), ", "), strings.Join(slices.Sorted(maps.Keys(numFuncs2)), ", "))
	}
	return nil
}

// f is the function at x = rate*t.
func (n *Numeric) f(x float64) float64 {
	arg := func(i int) float64 {
		if i >= len(n.Args) || math.IsNaN(n.Args[i]) {
			return x
		}
		return n.Args[i]
	}
	switch {
	case n.fn2 != nil:
		return n.fn2(arg(0), arg(1))
	case n.fn1 != nil:
		return n.fn1(arg(0))
	}
	return x
}

// At is the value at age for an agent's seed; now is the wall clock for
// atime (the zero time: age stands in).
func (n *Numeric) At(age time.Duration, now time.Time, seed uint64) float64 {
	t := max(age.Seconds(), 0)
	if n.Atime && !now.IsZero() {
		t = float64(now.UnixNano()) / 1e9
	}
	sec := uint64(int64(t))
	var v float64
	if !n.Cumulative {
		v = n.f(n.Rate*t)*n.Scale + n.Offset
		if n.Deviation > 0 {
			v += n.Deviation * (2*unitFloat(seed^mix64(sec)) - 1)
		}
	} else {
		x := n.Rate * t
		floor := n.Offset * n.Rate // the slowest second's rise
		switch n.Fn {
		case "sin":
			v = n.Scale*(1-math.Cos(x))/nonZero(n.Rate) + floor*t
			floor -= math.Abs(n.Scale)
		case "cos":
			v = n.Scale*math.Sin(x)/nonZero(n.Rate) + floor*t
			floor -= math.Abs(n.Scale)
		default:
			floor += n.Rate * n.Scale
			v = floor * t
		}
		if a := math.Min(n.Deviation, floor); a > 0 {
			v += a * unitFloat(seed^mix64(sec))
		}
		v = math.Max(v, 0)
	}
	v += n.Initial
	switch {
	case v < n.Min:
		v = n.Min
	case v > n.Max && n.Wrap && n.Max > 0:
		v = math.Mod(v, n.Max) + n.Min
	case v > n.Max:
		v = n.Max
	}
	return v
}

func nonZero(f float64) float64 {
	if f == 0 {
		return 1
	}
	return f
}

// appendNumeric appends the content octets of n's value.
func (n *Numeric) appendContent(b []byte, age time.Duration, now time.Time, seed uint64) []byte {
	v := n.At(age, now, seed)
	if n.Tag == ber.TagInteger {
		return ber.AppendInt(b, int64(math.Max(math.Min(v, math.MaxInt32), math.MinInt32)))
	}
	if v >= float64(math.MaxUint64) {
		return ber.AppendUint(b, math.MaxUint64)
	}
	return ber.AppendUint(b, uint64(math.Max(v, 0)))
}

// numUint parses a non-negative whole parameter up to hi (floats allowed,
// as snmpsim reads them with float()).
func numUint(k, v string, hi uint64) (uint64, error) {
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > hi {
			return 0, fmt.Errorf("numeric parameter %s=%s out of range [0, %d]", k, v, hi)
		}
		return n, nil
	}
	f, err := numFloat(k, v)
	if err != nil {
		return 0, err
	}
	if f < 0 || f > float64(hi) {
		return 0, fmt.Errorf("numeric parameter %s=%s out of range [0, %d]", k, v, hi)
	}
	if f >= float64(hi) {
		return hi, nil
	}
	return uint64(f), nil
}

func numFloat(k, v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("bad numeric parameter %s=%q: want a number", k, v)
	}
	return f, nil
}
