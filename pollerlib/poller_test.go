package pollerlib

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	oidSystem    = MustParseOID(".1.3.6.1.2.1.1")
	oidInterface = MustParseOID(".1.3.6.1.2.1.2")
	oidIfMIB     = MustParseOID(".1.3.6.1.2.1")
	oidSysDescr  = MustParseOID(".1.3.6.1.2.1.1.1.0")
	oidSysUpTime = MustParseOID(".1.3.6.1.2.1.1.3.0")
	oidSysName   = MustParseOID(".1.3.6.1.2.1.1.5.0")
)

func TestWalksEqualAgentData(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 3})
	p := newPoller(t)
	for _, v := range []Version{V2c, V1} {
		t.Run(v.String(), func(t *testing.T) {
			tg := target(f, 2)
			tg.Version = v
			want := agentData(t, f, 2, oidIfMIB, v == V1)
			got, err := p.BulkWalkAll(ctxTimeout(t, 10*time.Second), tg, oidIfMIB)
			require.NoError(t, err)
			assert.Equal(t, want, canon(got))
			got, err = p.WalkAll(ctxTimeout(t, 10*time.Second), tg, oidIfMIB)
			require.NoError(t, err)
			assert.Equal(t, want, canon(got))
		})
	}
}

func TestGetAndGetNext(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	p := newPoller(t, WithMaxOIDs(3))
	tg := target(f, 1)
	var oids []OID
	for i := 1; i <= 4; i++ {
		for _, col := range []int{1, 2, 10} {
			oids = append(oids, MustParseOID(fmt.Sprintf(".1.3.6.1.2.1.2.2.1.%d.%d", col, i)))
		}
	}
	oids = append(oids, oidSysDescr, MustParseOID(".1.3.6.1.2.1.1.99.0"))
	got, err := p.Get(ctxTimeout(t, 5*time.Second), tg, oids...)
	require.NoError(t, err)
	require.Len(t, got, len(oids))
	data := map[string]string{}
	for _, l := range agentData(t, f, 1, oidIfMIB, false) {
		data[MustParseOID(l[:len(l)-len(l[indexSpace(l):])]).String()] = l
	}
	for i, vb := range got[:len(got)-1] {
		assert.Equal(t, data[oids[i].String()], canon([]Varbind{vb})[0])
	}
	assert.Equal(t, TypeNoSuchObject, got[len(got)-1].Type)

	next, err := p.GetNext(ctxTimeout(t, 5*time.Second), tg, oidSysDescr)
	require.NoError(t, err)
	require.Len(t, next, 1)
	assert.Equal(t, ".1.3.6.1.2.1.1.2.0", next[0].OID.String())

	bulk, err := p.GetBulk(ctxTimeout(t, 5*time.Second), tg, 1, 3, oidSysDescr, oidSystem)
	require.NoError(t, err)
	require.Len(t, bulk, 4)
	assert.Equal(t, ".1.3.6.1.2.1.1.2.0", bulk[0].OID.String())
	assert.Equal(t, ".1.3.6.1.2.1.1.1.0", bulk[1].OID.String())

	v1 := tg
	v1.Version = V1
	_, err = p.Get(ctxTimeout(t, 5*time.Second), v1, MustParseOID(".1.3.6.1.2.1.1.99.0"))
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StatusNoSuchName, se.Status)
	assert.ErrorIs(t, err, ErrStatus)
}

func indexSpace(s string) int {
	for i, c := range s {
		if c == ' ' {
			return i
		}
	}
	return len(s)
}

func TestSessionKeyNormalisedWithoutSecrets(t *testing.T) {
	p := newPoller(t)
	ctx := ctxTimeout(t, 5*time.Second)
	a, err := p.Key(ctx, Target{Addr: "127.0.0.1", Community: "s3cr3t-community"})
	require.NoError(t, err)
	b, err := p.Key(ctx, Target{Addr: "127.0.0.1:161", Community: "s3cr3t-community"})
	require.NoError(t, err)
	c, err := p.Key(ctx, Target{Addr: "127.0.0.1:161", Community: "other"})
	require.NoError(t, err)
	d, err := p.Key(ctx, Target{Addr: "127.0.0.1:161", Community: "s3cr3t-community", Version: V1})
	require.NoError(t, err)
	assert.Equal(t, a, b, "default port 161")
	assert.NotEqual(t, a, c, "community is part of the key")
	assert.NotEqual(t, a, d, "version is part of the key")
	assert.Equal(t, "127.0.0.1:161", a.Addr.String())
	assert.Equal(t, 1, len(p.byKey)-2, "aliases share one session")

	tg := Target{Addr: "127.0.0.1:9", Community: "s3cr3t-community"}
	for _, s := range []string{a.String(), fmt.Sprint(tg), fmt.Sprintf("%+v %#v %s %q", tg, tg, tg.Community, tg.Community)} {
		assert.NotContains(t, s, "s3cr3t")
	}
	_, err = p.Get(ctxTimeout(t, 50*time.Millisecond), tg, oidSysDescr)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")

	_, err = p.Key(ctx, Target{Addr: "127.0.0.1:0"})
	assert.ErrorIs(t, err, ErrBadTarget)
	_, err = p.Key(ctx, Target{Addr: "127.0.0.1", Version: Version(9)})
	assert.ErrorIs(t, err, ErrBadTarget)
}

func TestOptionsValidated(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Option
	}{
		{"sockets", WithSockets(0)},
		{"timeouts", WithTimeouts(time.Second, 2*time.Second, time.Second)},
		{"retries", WithRetries(-1)},
		{"backoff", WithBackoff(0.5, time.Second)},
		{"repetitions", WithMaxRepetitions(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.opt)
			require.Error(t, err)
			require.Nil(t, p)
		})
	}
}

func TestClosedPoller(t *testing.T) {
	p, err := New()
	require.NoError(t, err)
	require.NoError(t, p.Close(t.Context()))
	require.NoError(t, p.Close(t.Context()), "Close is idempotent")
	_, err = p.Get(t.Context(), Target{Addr: "127.0.0.1"}, oidSysDescr)
	assert.ErrorIs(t, err, ErrClosed)
	assert.True(t, errors.Is(p.Run(t.Context(), Schedule{Interval: time.Second, Poll: GetPoll(oidSysDescr), OnResult: func(PollResult) {}}), ErrClosed))
	assert.Zero(t, p.Stats().Sockets)
}
