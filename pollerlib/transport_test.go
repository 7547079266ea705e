package pollerlib

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMatchID(t *testing.T) {
	resp := func(id uint32, pdu gosnmp.PDUType) []byte {
		p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: pdu, RequestID: id,
			Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: "x"}}}
		b, err := p.MarshalMsg()
		require.NoError(t, err)
		return b
	}
	good := resp(0x12345678, gosnmp.GetResponse)
	for _, tc := range []struct {
		name   string
		pkt    []byte
		want   uint32
		wantOK bool
	}{
		{"response", good, 0x12345678, true},
		{"small id", resp(1, gosnmp.GetResponse), 1, true},
		{"max id", resp(1<<31-1, gosnmp.GetResponse), 1<<31 - 1, true},
		{"request not response", resp(5, gosnmp.GetRequest), 0, false},
		{"truncated", good[:len(good)-3], 0, false},
		{"trailing bytes", append(append([]byte(nil), good...), 0), 0, false},
		{"empty", nil, 0, false},
		{"garbage", []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 1}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := matchID(tc.pkt)
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCancelEndsRequestPromptly(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	// Bounds against a 10 s timeout: the counters show that cancel, not a
	// timeout, ended the request; the elapsed bound is half the timeout, a
	// sanity bound a loaded machine (-race, load 40) stays far below.
	p := newPoller(t, WithTimeouts(10*time.Second, 10*time.Second, 10*time.Second))
	for _, op := range []string{"get", "bulkwalk"} {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			var err error
			if op == "get" {
				_, err = p.Get(ctx, target(f, 1), oidSysDescr)
			} else {
				_, err = p.BulkWalkAll(ctx, target(f, 1), oidIfMIB)
			}
			done <- err
		}()
		eventually(t, 5*time.Second, "request in flight", func() bool { return p.Stats().InFlight == 1 })
		before := p.Stats()
		cancelled := time.Now()
		cancel()
		err := <-done
		took := time.Since(cancelled)
		require.ErrorIs(t, err, context.Canceled, op)
		after := p.Stats()
		assert.Equal(t, before.Timeouts, after.Timeouts, "%s: ended by cancel, not a timeout", op)
		assert.Equal(t, before.Retries, after.Retries, "%s: nothing resent", op)
		assert.Less(t, took, 5*time.Second, "%s returned %s after cancel, with a 10s timeout", op, took)
		t.Logf("%s returned %s after cancel", op, took)
	}
}

func TestDeadlineBoundsRetries(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	// A first timeout of 10 s against a 200 ms deadline: the deadline ends
	// the call, with one request sent and none resent; the elapsed bound is
	// half the first timeout, a sanity bound for a loaded machine.
	p := newPoller(t, WithTimeouts(10*time.Second, time.Second, 10*time.Second), WithRetries(5))
	start := time.Now()
	_, err := p.Get(ctxTimeout(t, 200*time.Millisecond), target(f, 1), oidSysDescr)
	took := time.Since(start)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	st := p.Stats()
	assert.Equal(t, uint64(1), st.Requests, "one request before the deadline")
	assert.Zero(t, st.Retries, "no retry past the deadline")
	assert.Less(t, took, 5*time.Second, "never waits past the deadline")
}

func TestCloseCancelsInFlight(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	before := socketFDs(t)
	p, err := New(WithTimeouts(10*time.Second, 10*time.Second, 10*time.Second))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := p.Get(context.Background(), target(f, 1), oidSysDescr)
		done <- err
	}()
	eventually(t, 5*time.Second, "request in flight", func() bool { return p.Stats().InFlight == 1 })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = p.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "Close reports that it cut work short")
	require.ErrorIs(t, <-done, ErrClosed)
	// Half the 10 s timeout: a sanity bound a loaded machine stays below.
	assert.Less(t, time.Since(start), 5*time.Second, "Close cut the request short")
	assert.Zero(t, p.Stats().Timeouts, "ended by Close, not a timeout")
	assert.Equal(t, before, socketFDs(t), "sockets after Close")
	assert.Zero(t, p.Stats().Goroutines)
	require.Error(t, p.Close(t.Context()), "a second Close returns the first's result")
}

// TestResponseFromOtherAddressDropped: a reply with the right request-id
// from an address the request did not go to never reaches the caller.
func TestResponseFromOtherAddressDropped(t *testing.T) {
	agent, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	require.NoError(t, err)
	defer agent.Close()
	rogue, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.2:0")))
	require.NoError(t, err)
	defer rogue.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer agent.Close()
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, src, err := agent.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			g := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
			req, err := g.SnmpDecodePacket(buf[:n])
			if err != nil {
				continue
			}
			out := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse, RequestID: req.RequestID,
				Variables: []gosnmp.SnmpPDU{{Name: req.Variables[0].Name, Type: gosnmp.OctetString, Value: "rogue"}}}
			b, _ := out.MarshalMsg()
			_, _ = rogue.WriteToUDPAddrPort(b, src)
		}
	})
	p := newPoller(t, append(fastOpts(), WithRetries(1))...)
	_, err = p.Get(ctxTimeout(t, 5*time.Second), Target{Addr: agent.LocalAddr().String()}, oidSysDescr)
	require.ErrorIs(t, err, ErrTimeout)
	eventually(t, 5*time.Second, "mismatch counted", func() bool { return p.Stats().Mismatched >= 1 })
}

func TestLateResponsesCountedAndDropped(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Delay: &simagent.Delay{Fixed: dur(150 * time.Millisecond)}})
	p := newPoller(t, WithTimeouts(30*time.Millisecond, 10*time.Millisecond, 40*time.Millisecond), WithRetries(0), WithBreaker(0, 0))
	_, err := p.Get(ctxTimeout(t, 5*time.Second), target(f, 1), oidSysDescr)
	require.ErrorIs(t, err, ErrTimeout)
	eventually(t, 5*time.Second, "late response counted", func() bool { return p.Stats().Late == 1 })
}

// TestManyTargetsFewSockets: concurrent polls of many agents share the
// poller's sockets and each caller gets its own agent's answer.
func TestManyTargetsFewSockets(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 300})
	before := socketFDs(t)
	p := newPoller(t, WithSockets(2))
	assert.Equal(t, before+2, socketFDs(t))
	var wg sync.WaitGroup
	errs := make(chan error, f.Len())
	for i := range f.Len() {
		wg.Go(func() {
			got, err := p.Get(ctxTimeout(t, 20*time.Second), target(f, i), oidSysName, oidSysUpTime)
			if err == nil {
				want := agentData(t, f, i, oidSysName, false)
				if g := canon(got[:1]); g[0] != want[0] {
					err = fmt.Errorf("agent %d: got %v, want %v", i, g, want)
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, before+2, socketFDs(t), "sockets do not grow with targets")
	st := p.Stats()
	assert.Equal(t, 300, st.Sessions)
	assert.Equal(t, 2, st.Goroutines)
	assert.Zero(t, st.Mismatched+st.Unknown, "late or duplicate only if a slow machine made us retransmit")
}

// TestNoLeaksAfterEveryFault runs walks against a fleet with every fault
// at once, closes the poller and checks sockets and goroutines.
func TestNoLeaksAfterEveryFault(t *testing.T) {
	f, clk := startFleet(t, simagent.Config{Agents: 14, Store: profileStore(t, "if-mib:1")})
	faults := []simagent.Faults{
		{},
		{Delay: &simagent.Delay{Fixed: dur(5 * time.Millisecond)}},
		{Delay: &simagent.Delay{Jitter: dur(20 * time.Millisecond)}},
		{Drop: &simagent.Drop{Prob: 0.2}},
		{Drop: &simagent.Drop{Burst: &simagent.Burst{GoodToBad: 0.1, BadToGood: 0.3, LossBad: 1}}},
		{Blackhole: &simagent.Blackhole{For: dur(time.Second)}},
		{Truncate: &simagent.Truncate{BulkVarbinds: 2}},
		{Truncate: &simagent.Truncate{MaxMsgSize: 484}},
		{Duplicate: &simagent.Duplicate{Copies: 3}},
		{WrongID: &simagent.Chance{Prob: 0.3}},
		{Garbage: &simagent.Chance{Prob: 0.3}},
		{Loop: &simagent.Loop{After: ".1.3.6.1.2.1.2.2.1.3.1", Rewind: ".1.3.6.1.2.1.1"}},
		{EndOfMib: &simagent.EndOfMib{After: ".1.3.6.1.2.1.2.2.1.3.1"}},
		{Restart: &simagent.Restart{Downtime: dur(time.Second)}},
	}
	for i, fl := range faults {
		setFaults(t, f, i, fl)
	}
	ignore := goleak.IgnoreCurrent()
	before := socketFDs(t)
	p, err := New(append(fastOpts(), WithSeed(3))...)
	require.NoError(t, err)
	var wg sync.WaitGroup
	results := make(chan error, 4*len(faults))
	for i := range faults {
		for _, bulk := range []bool{true, false} {
			wg.Go(func() {
				for range 2 {
					walk := p.WalkAll
					if bulk {
						walk = p.BulkWalkAll
					}
					_, err := walk(ctxTimeout(t, 30*time.Second), target(f, i), oidIfMIB)
					results <- err
				}
			})
		}
	}
	t0 := time.Now()
	time.AfterFunc(500*time.Millisecond, func() { clk.Advance(2 * time.Second) })
	wg.Wait()
	t.Logf("walks done after %s", time.Since(t0))
	close(results)
	for err := range results {
		if err != nil {
			assert.NotEqual(t, OutcomeError, Outcome(err), "untyped error %v", err)
		}
	}
	require.NoError(t, p.Close(ctxTimeout(t, 10*time.Second)))
	assert.Equal(t, before, socketFDs(t), "sockets back to baseline")
	assert.Zero(t, p.Stats().Goroutines)
	t.Logf("closed after %s", time.Since(t0))
	goleak.VerifyNone(t, ignore)
	t.Logf("goleak after %s", time.Since(t0))
	st := p.Stats()
	t.Logf("stats after every fault: %+v", st)
	assert.True(t, errors.Is(func() error { _, err := p.Get(t.Context(), target(f, 0), oidSysDescr); return err }(), ErrClosed))
}

// withDemuxHold keeps the poller's demux goroutines from reading until
// hold is closed, as a host too busy to schedule them would.
func withDemuxHold(hold <-chan struct{}) Option {
	return optionFunc(func(c *config) error { c.demuxHold = hold; return nil })
}

// A reply that waits in the socket while the demux goroutine does not run
// (held here from the start; on a saturated host the runtime runs it
// late) is read by the exchange whose timer fired, not counted as
// silence: each Get succeeds at its first attempt.
func TestTimeoutReadsRepliesWaitingInTheSocket(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	hold := make(chan struct{})
	p := newPoller(t, withDemuxHold(hold), WithSockets(1), WithRetries(0), WithBreaker(0, 0),
		WithTimeouts(50*time.Millisecond, 50*time.Millisecond, time.Second))
	t.Cleanup(func() { close(hold) }) // before newPoller's Close
	for i := range 2 {
		vbs, err := p.Get(t.Context(), target(f, i), MustParseOID(".1.3.6.1.2.1.1.5.0"))
		require.NoError(t, err)
		require.Len(t, vbs, 1)
	}
	st := p.Stats()
	assert.EqualValues(t, 2, st.Requests, "no retransmit")
	assert.Zero(t, st.Timeouts)
	assert.EqualValues(t, 2, st.Helped, "both replies read by their exchanges, the demux held")
	assert.EqualValues(t, 2, st.Responses)
}

// Without a reply, the read before the timeout finds nothing: the timeout
// counts, as before.
func TestTimeoutWithNothingWaitingStillTimesOut(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 1})
	setFaults(t, f, 0, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	p := newPoller(t, WithSockets(1), WithRetries(1), WithBreaker(0, 0),
		WithTimeouts(30*time.Millisecond, 30*time.Millisecond, time.Second))
	_, err := p.Get(t.Context(), target(f, 0), MustParseOID(".1.3.6.1.2.1.1.5.0"))
	require.ErrorIs(t, err, ErrTimeout)
	st := p.Stats()
	assert.EqualValues(t, 2, st.Requests)
	assert.EqualValues(t, 2, st.Timeouts)
	assert.Zero(t, st.Helped)
}

// Request-ids are random in [1, 2^31-1], never two alike in flight on a
// socket, spread over every shard of its table; after finish, a reply to
// one is late (never answered) or duplicate (answered), not unknown.
func TestRequestIDsAcrossShards(t *testing.T) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer sink.Close()
	cfg := defaults()
	cfg.sockets = 1
	cfg.local = netip.MustParseAddr("127.0.0.1")
	var st counters
	tr, err := newTransport(&cfg, &st, 7)
	require.NoError(t, err)
	defer func() { require.NoError(t, tr.close()) }()
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	seen := map[uint32]bool{}
	var shards [idShards]int
	var calls []*call
	for range 40 * idShards {
		c := tr.newCall(dst, 1)
		id, err := c.send(func(uint32) ([]byte, error) { return []byte{0}, nil }, time.Now())
		require.NoError(t, err)
		require.GreaterOrEqual(t, id, uint32(1))
		require.LessOrEqual(t, id, uint32(1<<31-1))
		require.False(t, seen[id], "id %d twice in flight", id)
		seen[id] = true
		shards[id%idShards]++
		calls = append(calls, c)
	}
	for k, n := range shards {
		assert.Equal(t, 40, n, "shard %d", k) // new ids take the shards in turn
	}
	s := tr.socks[0]
	first, second := calls[0].ids[0], calls[1].ids[0]
	sh := s.shard(second)
	sh.mu.Lock()
	sh.ids[second] = slot{c: calls[1], answered: true}
	sh.mu.Unlock()
	for _, c := range calls {
		c.finish()
	}
	retired := func(id uint32) (answered, known bool) {
		sh := s.shard(id)
		sh.mu.Lock()
		defer sh.mu.Unlock()
		answered, known = sh.retired[id]
		return answered, known
	}
	a1, known1 := retired(first)
	a2, known2 := retired(second)
	assert.True(t, known1 && known2)
	assert.False(t, a1, "never answered: a reply now is late")
	assert.True(t, a2, "answered: a reply now is a duplicate")
}
