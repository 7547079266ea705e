package simagent

import (
	"container/heap"
	"net/netip"
	"sync"
	"time"
)

// pending is a reply waiting for its time.
type pending struct {
	due   time.Time
	sock  *socket
	dst   netip.AddrPort
	src   netip.Addr
	data  []byte
	agent *agent
	seq   uint64
}

type pendingHeap []*pending

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(*pending)) }
func (h *pendingHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return p
}

// delayCoalesce is how late the queue's timer may fire so that replies due
// close together go out together: one wake-up and one batched send for
// all of them instead of one each. A reply is never sent early, and at
// most this much late.
const delayCoalesce = time.Millisecond

// Bounds of the delay queue (Config.MaxPending, Config.MaxPendingBytes).
const (
	// DefaultMaxPending is Config.MaxPending's default, in replies.
	DefaultMaxPending = 65536
	// DefaultMaxPendingBytes is Config.MaxPendingBytes's default.
	DefaultMaxPendingBytes = 64 << 20
)

// delayQueue sends delayed replies from one goroutine, whatever their
// number: a min-heap ordered by due time and a single timer. Replies are
// held, never the goroutines that produced them. It holds at most max
// replies of at most maxBytes bytes in all; push refuses more (the caller
// counts a DropQueueFull).
type delayQueue struct {
	mu       sync.Mutex
	h        pendingHeap
	bytes    int
	max      int
	maxBytes int
	seq      uint64
	wake     chan struct{}
	done     chan struct{}
	exited   chan struct{}
	send     func([]*pending) // the replies now due, in order
	now      func() time.Time
}

func newDelayQueue(send func([]*pending), max, maxBytes int) *delayQueue {
	q := &delayQueue{
		max:      max,
		maxBytes: maxBytes,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
		send:     send,
	}
	go q.run()
	return q
}

// push queues p; false when the queue is full (p is not queued).
func (q *delayQueue) push(p *pending) bool {
	q.mu.Lock()
	if len(q.h) >= q.max || q.bytes+len(p.data) > q.maxBytes {
		q.mu.Unlock()
		return false
	}
	q.bytes += len(p.data)
	q.seq++
	p.seq = q.seq
	heap.Push(&q.h, p)
	first := q.h[0] == p
	q.mu.Unlock()
	if first {
		q.poke()
	}
	return true
}

// poke wakes the queue's goroutine.
func (q *delayQueue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// release makes the replies of the agents match picks due now, so that
// replies held by a delay fault go out (and free their memory) when the
// agents' faults change, instead of waiting out the old delay. It returns
// how many it released.
func (q *delayQueue) release(match func(*agent) bool) int {
	q.mu.Lock()
	now := time.Now()
	n := 0
	for _, p := range q.h {
		if match(p.agent) && p.due.After(now) {
			p.due = now
			n++
		}
	}
	if n > 0 {
		heap.Init(&q.h)
	}
	q.mu.Unlock()
	if n > 0 {
		q.poke()
	}
	return n
}

func (q *delayQueue) run() {
	defer close(q.exited)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var due []*pending
	for {
		q.mu.Lock()
		now := time.Now()
		for len(q.h) > 0 && !q.h[0].due.After(now) {
			p := heap.Pop(&q.h).(*pending)
			q.bytes -= len(p.data)
			due = append(due, p)
		}
		wait := time.Hour
		if len(q.h) > 0 {
			wait = q.h[0].due.Sub(now) + delayCoalesce
		}
		q.mu.Unlock()
		if len(due) > 0 {
			q.send(due)
		}
		clear(due)
		due = due[:0]
		t.Reset(wait)
		select {
		case <-q.done:
			return
		case <-q.wake:
		case <-t.C:
		}
	}
}

// close stops the queue and returns the replies it still held.
func (q *delayQueue) close() []*pending {
	close(q.done)
	<-q.exited
	q.mu.Lock()
	defer q.mu.Unlock()
	left := q.h
	q.h = nil
	q.bytes = 0
	return left
}

// len is the number of replies waiting.
func (q *delayQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.h)
}
