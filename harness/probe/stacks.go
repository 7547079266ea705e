package probe

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
)

// GoroutineDump is the goroutines of the process at one moment, grouped
// by signature: the function the goroutine started in and the function
// that created it. A signature does not change while a goroutine runs, so
// comparing counts per signature before and after a run finds the
// goroutines the run left behind, whatever they are blocked on.
type GoroutineDump struct {
	count map[string]int
	// example is one full stack per signature.
	example map[string]string
}

// DumpGoroutines takes every goroutine's stack (this stops the world
// briefly: use it for the baseline and the final reading only).
func DumpGoroutines() GoroutineDump {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return ParseGoroutines(string(buf))
}

// ParseGoroutines reads the text runtime.Stack(_, true) writes.
func ParseGoroutines(text string) GoroutineDump {
	d := GoroutineDump{count: map[string]int{}, example: map[string]string{}}
	for block := range strings.SplitSeq(strings.TrimSpace(text), "\n\n") {
		if !strings.HasPrefix(block, "goroutine ") {
			continue
		}
		sig := stackSignature(block)
		d.count[sig]++
		if _, ok := d.example[sig]; !ok {
			d.example[sig] = block
		}
	}
	return d
}

// stackSignature is "entry function <- creator" for one goroutine block.
// The entry is the outermost frame that is not a launcher such as
// sync.(*WaitGroup).Go, so that goroutines started the same way by
// different code keep apart.
func stackSignature(block string) string {
	lines := strings.Split(block, "\n")
	entry, creator := "", ""
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "...") {
			continue
		}
		if c, ok := strings.CutPrefix(l, "created by "); ok {
			if i := strings.Index(c, " in goroutine "); i >= 0 {
				c = c[:i]
			}
			creator = c
			break
		}
		if f := funcName(l); entry == "" || !isLauncher(f) {
			entry = f
		}
	}
	if creator == "" {
		return entry
	}
	return entry + " <- " + creator
}

// isLauncher reports whether f only starts the function a goroutine runs.
func isLauncher(f string) bool {
	return strings.HasPrefix(f, "sync.(*WaitGroup).Go") ||
		strings.HasPrefix(f, "golang.org/x/sync/errgroup.(*Group).") ||
		strings.HasPrefix(f, "context.AfterFunc")
}

// funcName strips the argument list off a stack frame line.
func funcName(l string) string {
	if strings.HasSuffix(l, ")") {
		if i := strings.LastIndex(l, "("); i > 0 {
			return l[:i]
		}
	}
	return l
}

// ExcessGoroutines lists the goroutines of after beyond those of before,
// by signature, each with a stack trimmed to maxLines lines; at most
// limit signatures, the biggest groups first.
func ExcessGoroutines(before, after GoroutineDump, limit, maxLines int) []string {
	type group struct {
		sig string
		n   int
	}
	var gs []group
	for sig, n := range after.count {
		if extra := n - before.count[sig]; extra > 0 {
			gs = append(gs, group{sig, extra})
		}
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].n != gs[j].n {
			return gs[i].n > gs[j].n
		}
		return gs[i].sig < gs[j].sig
	})
	var out []string
	for i, g := range gs {
		if i == limit {
			out = append(out, fmt.Sprintf("... and %d more kinds of goroutine", len(gs)-limit))
			break
		}
		stack := strings.Split(after.example[g.sig], "\n")
		if len(stack) > maxLines {
			stack = append(stack[:maxLines], "\t...")
		}
		out = append(out, fmt.Sprintf("%d more than at baseline: %s\n%s", g.n, g.sig, strings.Join(stack, "\n")))
	}
	return out
}
