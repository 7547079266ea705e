package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name string
		p    Progress
		want string
	}{
		{"load", Progress{Stage: "load", Phase: "chaos", PhaseIndex: 1, Phases: 3, Elapsed: 12 * time.Second, Planned: 30 * time.Second,
			Scheduled: 1300, Succeeded: 1234, Failed: 10, InFlight: 34, Goroutines: 180, FDs: 23, UDPSockets: 4, HeapBytes: 12 << 20},
			"12.0s/30.0s  40%  chaos 2/3  polls 1300 ok 99.20% failed 10  in flight 34  goroutines 180 fds 23 udp 4 heap 12MiB"},
		{"drain", Progress{Stage: "drain", Phase: "recovery", PhaseIndex: 2, Phases: 3, Elapsed: 31 * time.Second, Planned: 30 * time.Second},
			"31.0s/30.0s 100%  drain  polls 0 ok – failed 0  in flight 0  goroutines 0 fds 0 udp 0 heap 0MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ProgressLine(tt.p)
			assert.Equal(t, tt.want, got)
			assert.Less(t, len([]rune(got)), 120)
		})
	}
}

func TestProgressPrinterPlainWritesLines(t *testing.T) {
	var b bytes.Buffer
	pp := NewProgressPrinter(&b, false)
	pp.Update(Progress{Phase: "a", Phases: 1})
	pp.Update(Progress{Stage: "done"})
	pp.Done()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	assert.Len(t, lines, 2)
	assert.NotContains(t, b.String(), "\r")
	assert.Contains(t, lines[1], "  done  ")
}

func TestProgressPrinterTTYRewritesOneLine(t *testing.T) {
	var b bytes.Buffer
	pp := NewProgressPrinter(&b, true)
	pp.Update(Progress{Phase: "a-long-phase-name", Phases: 1, Scheduled: 123456})
	first := b.Len()
	pp.Update(Progress{Stage: "done"})
	pp.Done()
	pp.Done()
	out := b.String()
	assert.Equal(t, 2, strings.Count(out, "\r"))
	assert.Equal(t, 1, strings.Count(out, "\n"), "one newline, at the end")
	assert.True(t, strings.HasSuffix(out, "\n"))
	assert.Equal(t, first, len(out)-first-1, "the shorter line is padded over the longer one")
	assert.False(t, IsTerminal(&b))
}

func TestProgressPrinterWriteClearsTheStatusLine(t *testing.T) {
	var b bytes.Buffer
	pp := NewProgressPrinter(&b, true)
	pp.Update(Progress{Phase: "a", Phases: 1})
	line := strings.TrimPrefix(b.String(), "\r")
	_, err := pp.Write([]byte("level=WARN msg=x\n"))
	assert.NoError(t, err)
	pp.Update(Progress{Phase: "a", Phases: 1})
	pp.Done()
	want := "\r" + line + "\r" + strings.Repeat(" ", len([]rune(line))) + "\rlevel=WARN msg=x\n\r" + line + "\n"
	assert.Equal(t, want, b.String())
}

func TestProgressPrinterCutsToTheTerminalWidth(t *testing.T) {
	var b bytes.Buffer
	pp := NewProgressPrinter(&b, true)
	pp.width = 40
	pp.Update(Progress{Phase: "chaos", Phases: 3, Scheduled: 1300})
	assert.Equal(t, "\r"+cut(ProgressLine(Progress{Phase: "chaos", Phases: 3, Scheduled: 1300}), 39), b.String())
	assert.Len(t, []rune(b.String()), 40)
}
