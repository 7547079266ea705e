package poller

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/internal/mibtest"
	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

func TestGosnmpHelpers(t *testing.T) {
	store := mibtest.TypesStore(t)
	u := usm.User{Name: "ops", Auth: usm.SHA256, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"}
	f, err := simagent.Start(t.Context(), simagent.Config{Agents: 1, Listen: netip.MustParseAddrPort("127.124.0.1:0"), Store: store, Users: []usm.User{u}})
	require.NoError(t, err)
	defer f.Close()
	want := make([]pollapi.Varbind, 0, store.Len())
	for i := range store.Len() {
		if _, v := store.At(i); v.Dyn == nil {
			want = append(want, invariant.VarbindFromMIB(store.At(i)))
		}
	}
	s := pollapi.Settings{Timeout: time.Second, Retries: 1, MaxRepetitions: 3}
	for _, tgt := range []pollapi.Target{
		{Addr: f.Addr(0), Version: "2c", Community: "public"},
		{Addr: f.Addr(0), Version: "3", User: u},
	} {
		c := GosnmpClient(t.Context(), tgt, s)
		assert.Equal(t, uint32(3), c.MaxRepetitions)
		require.NoError(t, c.Connect(), tgt.Version)
		r := GosnmpPoll(c, pollapi.Poll{Target: tgt, Op: pollapi.OpBulkWalk, Root: ".1.3.6.1.4.1.99"})
		require.NoError(t, r.Err, tgt.Version)
		var static []pollapi.Varbind
		for i, vb := range r.Varbinds {
			if _, v := store.At(i); v.Dyn == nil {
				static = append(static, vb)
			}
		}
		assert.Equal(t, want, static, tgt.Version)
		r = GosnmpPoll(c, pollapi.Poll{Target: tgt, Op: pollapi.OpGet, OIDs: []string{want[0].OID}})
		require.NoError(t, r.Err)
		assert.Equal(t, want[:1], r.Varbinds)
		require.NoError(t, c.Conn.Close())
	}
}
