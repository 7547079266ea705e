package benchutil

import "math"

// SizeSearch finds, for several subjects measured in turn, the largest size
// (of a fleet, say) each one passes: doubling from Start while any subject
// passes, every subject still passing run at each size so that they share
// one setup per size; then bisecting each subject's gap between its
// largest pass and its smallest failure, one step per subject in turn,
// until fail/pass is at most Precision or there is no time left. Bisected
// sizes are rounded (see Midpoint) so that printed figures read easily.
type SizeSearch struct {
	Start, Max int     // the first size and the largest one tried
	Precision  float64 // stop bisecting once fail/pass <= Precision (> 1)
	Subjects   int
	// Run measures subject s at size n and reports whether it passed.
	Run func(s, n int) bool
	// More reports whether there is time for another run.
	More func() bool
}

// SizeResult is what a search found for one subject: the largest size it
// passed and the smallest it failed (0 for none).
type SizeResult struct {
	Pass, Fail int
}

// Precise reports whether the bracket is as tight as precision asks, or
// cannot be tightened (no size between the two).
func (r SizeResult) Precise(precision float64) bool {
	return r.Pass > 0 && r.Fail > 0 && Midpoint(r.Pass, r.Fail, precision) == 0
}

// Do runs the search and returns one result per subject, with the number
// of runs it made.
func (q SizeSearch) Do() ([]SizeResult, int) {
	res := make([]SizeResult, q.Subjects)
	runs := 0
	run := func(s, n int) bool {
		runs++
		ok := q.Run(s, n)
		if ok && n > res[s].Pass {
			res[s].Pass = n
		}
		if !ok && (res[s].Fail == 0 || n < res[s].Fail) {
			res[s].Fail = n
		}
		return ok
	}
	alive := make([]bool, q.Subjects)
	for s := range alive {
		alive[s] = true
	}
	for n := q.Start; q.More(); n = min(n*2, q.Max) {
		anyPass := false
		for s := range alive {
			if alive[s] && q.More() {
				alive[s] = run(s, n)
				anyPass = anyPass || alive[s]
			}
		}
		if !anyPass || n >= q.Max {
			break
		}
	}
	for stepped := true; stepped; {
		stepped = false
		for s := range res {
			if !q.More() {
				return res, runs
			}
			if r := res[s]; r.Pass > 0 && r.Fail > 0 {
				if mid := Midpoint(r.Pass, r.Fail, q.Precision); mid > 0 {
					run(s, mid)
					stepped = true
				}
			}
		}
	}
	return res, runs
}

// Midpoint is the size to try between a size that passed and a larger one
// that failed: their middle rounded to a power of ten no larger than half
// the gap precision allows at pass (at 1.05: to 10,000 from 400,000, to
// 1,000 from 40,000), so that bisected sizes stay round and the rounding
// never costs the precision. It is 0 when fail/pass is already within
// precision or no whole size lies between.
func Midpoint(pass, fail int, precision float64) int {
	if pass <= 0 || fail <= pass+1 || float64(fail) <= float64(pass)*precision {
		return 0
	}
	mid := pass + (fail-pass)/2
	step := 1
	if tol := float64(pass) * (precision - 1) / 2; tol >= 10 {
		step = int(math.Pow(10, math.Floor(math.Log10(tol))))
	}
	if r := (mid + step/2) / step * step; r > pass && r < fail {
		return r
	}
	return mid
}
