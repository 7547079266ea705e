package poller

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
)

// The negative controls: pollers broken on purpose, one way each, to prove
// that each invariant can fail and names the right culprit. Each wraps
// pollerlib so that everything except its one bug is right.

// brokenSocketLeak opens an extra UDP socket per poll and never closes it,
// while its stats (pollerlib's) say it holds none after Close: the OS view
// and the poller's view disagree.
type brokenSocketLeak struct {
	*pollerlibPoller
	mu     sync.Mutex
	leaked []*net.UDPConn
}

func newBrokenSocketLeak(s pollapi.Settings) (pollapi.Poller, error) {
	lib, err := newLib(s)
	if err != nil {
		return nil, err
	}
	b := &brokenSocketLeak{pollerlibPoller: &pollerlibPoller{lib: lib}}
	b.syncPoller = newSyncPoller("broken-socket-leak", b.poll, lib.Close)
	return b, nil
}

func (b *brokenSocketLeak) poll(ctx context.Context, p pollapi.Poll) pollapi.Result {
	// A "probe" socket per poll, bound next to the target's network.
	if c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0"))); err == nil {
		b.mu.Lock()
		b.leaked = append(b.leaked, c)
		b.mu.Unlock()
	}
	return libPoll(ctx, b.lib, p)
}

// Release closes the leaked sockets.
func (b *brokenSocketLeak) Release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.leaked {
		_ = c.Close()
	}
	b.leaked = nil
}

// errGaveUp is the broken goroutine-leak poller's own timeout.
var errGaveUp = &kindError{kind: "timeout", err: errors.New("broken-goroutine-leak: gave up waiting")}

// brokenGoroutineLeak is the classic timeout wrapper bug: the request runs
// on a goroutine that hands its result over an unbuffered channel; the
// caller gives up after half the timeout, and nobody ever receives, so the
// goroutine blocks forever, one per slow poll.
type brokenGoroutineLeak struct {
	*pollerlibPoller
	giveUp  time.Duration
	release chan struct{}
	once    sync.Once
	leaks   sync.WaitGroup
}

func newBrokenGoroutineLeak(s pollapi.Settings) (pollapi.Poller, error) {
	lib, err := newLib(s)
	if err != nil {
		return nil, err
	}
	b := &brokenGoroutineLeak{pollerlibPoller: &pollerlibPoller{lib: lib}, giveUp: max(timeout(s)/2, 50*time.Millisecond), release: make(chan struct{})}
	b.syncPoller = newSyncPoller("broken-goroutine-leak", b.poll, lib.Close)
	return b, nil
}

func (b *brokenGoroutineLeak) poll(ctx context.Context, p pollapi.Poll) pollapi.Result {
	ch := make(chan pollapi.Result) // the bug: unbuffered, and abandoned on timeout
	b.leaks.Go(func() {
		r := libPoll(ctx, b.lib, p)
		select {
		case ch <- r:
		case <-b.release:
		}
	})
	t := time.NewTimer(b.giveUp)
	defer t.Stop()
	select {
	case r := <-ch:
		return r
	case <-t.C:
		return pollapi.Result{Err: errGaveUp}
	}
}

// PollerStats leaves out the leaked goroutines, as such a poller would.
func (b *brokenGoroutineLeak) PollerStats() pollapi.PollerStats {
	return libStats(b.lib, int(b.running.Load()))
}

// Release unblocks the leaked goroutines and waits for them.
func (b *brokenGoroutineLeak) Release() {
	b.once.Do(func() { close(b.release) })
	b.leaks.Wait()
}

// brokenPartialWalk returns walks without their last varbind and calls
// them complete: the silent partial result of a walk that stops early
// (gosnmp#98 stops on tooBig and returns what it had).
type brokenPartialWalk struct {
	*pollerlibPoller
}

func newBrokenPartialWalk(s pollapi.Settings) (pollapi.Poller, error) {
	lib, err := newLib(s)
	if err != nil {
		return nil, err
	}
	b := &brokenPartialWalk{pollerlibPoller: &pollerlibPoller{lib: lib}}
	b.syncPoller = newSyncPoller("broken-partial-walk", b.poll, lib.Close)
	return b, nil
}

func (b *brokenPartialWalk) poll(ctx context.Context, p pollapi.Poll) pollapi.Result {
	r := libPoll(ctx, b.lib, p)
	if r.Err == nil && p.Op != pollapi.OpGet && len(r.Varbinds) > 0 {
		r.Varbinds = r.Varbinds[:len(r.Varbinds)-1]
	}
	return r
}

// Release does nothing: nothing leaks.
func (b *brokenPartialWalk) Release() {}

// lostEvery: the broken lost-poll poller drops polls whose ID is a
// multiple of it.
const lostEvery = 25

// brokenLostPoll never reports one poll in lostEvery: it neither runs it
// nor calls done, as a poller that drops requests from a full queue
// without telling anyone does.
type brokenLostPoll struct {
	*pollerlibPoller
}

func newBrokenLostPoll(s pollapi.Settings) (pollapi.Poller, error) {
	lib, err := newLib(s)
	if err != nil {
		return nil, err
	}
	b := &brokenLostPoll{pollerlibPoller: &pollerlibPoller{lib: lib}}
	b.syncPoller = newSyncPoller("broken-lost-poll", b.poll, lib.Close)
	return b, nil
}

// Poll drops one poll in lostEvery on the floor.
func (b *brokenLostPoll) Poll(ctx context.Context, p pollapi.Poll, done func(pollapi.Result)) {
	if p.ID%lostEvery == 0 {
		return
	}
	b.syncPoller.Poll(ctx, p, done)
}

// Release does nothing: nothing leaks.
func (b *brokenLostPoll) Release() {}
