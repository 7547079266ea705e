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

// delayQueue sends delayed replies from one goroutine, whatever their
// number: a min-heap ordered by due time and a single timer. Replies are
// held, never the goroutines that produced them.
type delayQueue struct {
	mu     sync.Mutex
	h      pendingHeap
	seq    uint64
	wake   chan struct{}
	done   chan struct{}
	exited chan struct{}
	send   func([]*pending) // the replies now due, in order
	now    func() time.Time
}

func newDelayQueue(send func([]*pending)) *delayQueue {
	q := &delayQueue{
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		send:   send,
	}
	go q.run()
	return q
}

func (q *delayQueue) push(p *pending) {
	q.mu.Lock()
	q.seq++
	p.seq = q.seq
	heap.Push(&q.h, p)
	first := q.h[0] == p
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
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
			due = append(due, heap.Pop(&q.h).(*pending))
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
	return left
}

// len is the number of replies waiting.
func (q *delayQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.h)
}
