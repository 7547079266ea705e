package poller

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
)

var errTooManyFiles = syscall.EMFILE

func TestPollerRegistry(t *testing.T) {
	names := Pollers()
	assert.Equal(t, "pollerlib", names[0], "the default comes first")
	assert.Subset(t, names, []string{"gosnmp", "gosnmp-leaky", "broken-socket-leak", "broken-goroutine-leak", "broken-partial-walk", "broken-lost-poll"})
	_, err := NewPoller("nope", pollapi.Settings{})
	assert.ErrorIs(t, err, ErrUnknownPoller)
	for _, k := range PollerKinds() {
		p, err := NewPoller(k.Name, pollapi.Settings{Timeout: time.Second})
		require.NoError(t, err, k.Name)
		assert.Equal(t, k.Name, p.Name())
		require.NoError(t, p.Close(t.Context()), k.Name)
		require.NoError(t, p.Close(t.Context()), "%s: Close twice", k.Name)
		r, ok := p.(pollapi.Releaser)
		assert.Equal(t, len(k.Breaks) > 0, ok, "%s: the pollers built to break release what they leak", k.Name)
		if ok {
			r.Release()
		}
	}
}

func TestSyncReportsEveryPollAndClosesAfterThem(t *testing.T) {
	release := make(chan struct{})
	closed := false
	p := Sync("test", func(ctx context.Context, p pollapi.Poll) pollapi.Result {
		if p.ID == 2 {
			<-ctx.Done() // honours cancellation
			return pollapi.Result{Err: ctx.Err()}
		}
		<-release
		return pollapi.Result{}
	}, func(context.Context) error { closed = true; return nil })
	results := make(chan pollapi.Result, 3)
	p.Poll(t.Context(), pollapi.Poll{ID: 1}, func(r pollapi.Result) { results <- r })
	p.Poll(t.Context(), pollapi.Poll{ID: 2}, func(r pollapi.Result) { results <- r })
	close(release)
	assert.NoError(t, (<-results).Err)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := p.Close(ctx) // poll 2 waits for cancellation: Close cancels it
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, (<-results).Err, context.Canceled)
	assert.True(t, closed)

	p.Poll(t.Context(), pollapi.Poll{ID: 3}, func(r pollapi.Result) { results <- r })
	assert.True(t, errors.Is((<-results).Err, ErrClosed), "polls after Close fail at once")
}
