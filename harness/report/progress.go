package report

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Progress is a status snapshot of a running scenario, for a progress line.
type Progress struct {
	Scenario string `json:"scenario"`
	Poller   string `json:"poller"`
	// Stage is "load" while phases run, then "drain", "close", "settle" and
	// "done".
	Stage string `json:"stage"`
	// Phase is the current phase's name and PhaseIndex its index (from 0);
	// Phases is how many there are.
	Phase      string `json:"phase"`
	PhaseIndex int    `json:"phaseIndex"`
	Phases     int    `json:"phases"`
	// Elapsed is the time since the run started; Planned the load's planned
	// duration (the sum of the phases).
	Elapsed time.Duration `json:"elapsed"`
	Planned time.Duration `json:"planned"`
	// Polls so far.
	Scheduled int `json:"scheduled"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	InFlight  int `json:"inFlight"`
	Skipped   int `json:"skipped"`
	// The latest probe reading.
	Goroutines int    `json:"goroutines"`
	FDs        int    `json:"fds"`
	UDPSockets int    `json:"udpSockets"`
	HeapBytes  uint64 `json:"heapBytes"`
}

// ProgressPrinter prints Progress snapshots as status lines: rewritten in
// place with a carriage return on a terminal, one plain line each otherwise
// (CI logs). Pass its Update to WithProgress, write other output for the
// same stream through it, and call Done when Run returns.
type ProgressPrinter struct {
	w     io.Writer
	tty   bool
	width int // the terminal's columns, 0 if unknown; longer lines are cut

	mu      sync.Mutex
	lastLen int  // runes of the line on screen (tty)
	open    bool // a tty line without its newline yet
}

// NewProgressPrinter prints to w; tty selects in-place updates (see
// IsTerminal).
func NewProgressPrinter(w io.Writer, tty bool) *ProgressPrinter {
	pp := &ProgressPrinter{w: w, tty: tty}
	if tty {
		pp.width = termWidth(w)
	}
	return pp
}

// Update prints one status line for p. It is safe to call from any
// goroutine; write errors are ignored, as a status line is best effort.
func (pp *ProgressPrinter) Update(p Progress) {
	line := ProgressLine(p)
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if !pp.tty {
		_, _ = fmt.Fprintln(pp.w, line)
		return
	}
	if pp.width > 1 {
		line = cut(line, pp.width-1) // a wrapped line could not be rewritten in place
	}
	n := len([]rune(line))
	pad := ""
	if n < pp.lastLen {
		pad = strings.Repeat(" ", pp.lastLen-n)
	}
	_, _ = fmt.Fprintf(pp.w, "\r%s%s", line, pad)
	pp.lastLen, pp.open = n, true
}

// Write writes b (log lines, say) on a line of its own: on a terminal it
// clears the status line first, and the next Update draws it again below.
func (pp *ProgressPrinter) Write(b []byte) (int, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.open {
		if _, err := fmt.Fprintf(pp.w, "\r%s\r", strings.Repeat(" ", pp.lastLen)); err != nil {
			return 0, err
		}
		pp.open, pp.lastLen = false, 0
	}
	return pp.w.Write(b)
}

// Done ends the status line on a terminal so that later output starts on a
// line of its own. It may be called more than once.
func (pp *ProgressPrinter) Done() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.open {
		_, _ = io.WriteString(pp.w, "\n")
		pp.open, pp.lastLen = false, 0
	}
}

// ProgressLine renders p in one line of about 100 columns, e.g.
// "12.0s/30.0s  40%  chaos 2/3  polls 1234 ok 99.2% failed 10  in flight 34
// goroutines 180 fds 23 udp 4 heap 12MiB". The most telling figures come
// first, so that a line cut to a narrow terminal keeps them.
func ProgressLine(p Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s", secs1(p.Elapsed), secs1(p.Planned))
	if p.Planned > 0 {
		fmt.Fprintf(&b, " %3d%%", min(100, int(100*p.Elapsed/p.Planned)))
	}
	switch {
	case p.Stage == "" || p.Stage == "load":
		fmt.Fprintf(&b, "  %s %d/%d", p.Phase, p.PhaseIndex+1, p.Phases)
	default:
		fmt.Fprintf(&b, "  %s", p.Stage)
	}
	done := p.Succeeded + p.Failed
	fmt.Fprintf(&b, "  polls %d ok %s failed %d  in flight %d", p.Scheduled, successPct(p.Succeeded, done), p.Failed, p.InFlight)
	fmt.Fprintf(&b, "  goroutines %d fds %d udp %d heap %dMiB", p.Goroutines, p.FDs, p.UDPSockets, p.HeapBytes>>20)
	return b.String()
}

func secs1(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// IsTerminal reports whether w is a terminal (a character device), where a
// status line can be rewritten in place.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}
