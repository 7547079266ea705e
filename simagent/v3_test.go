package simagent

import (
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gosnmp's v3 client covers what net-snmp lacks: the Reeder AES-192-C and
// AES-256-C key extension (Cisco's), next to the other protocols.
func TestV3GosnmpClient(t *testing.T) {
	users := []usm.User{
		{Name: "c192", Auth: usm.SHA, AuthPass: "authpass1", Priv: usm.AES192C, PrivPass: "privpass1"},
		{Name: "c256", Auth: usm.SHA256, AuthPass: "authpass1", Priv: usm.AES256C, PrivPass: "privpass1"},
		{Name: "b256", Auth: usm.MD5, AuthPass: "authpass1", Priv: usm.AES256, PrivPass: "privpass1"},
		{Name: "des", Auth: usm.SHA512, AuthPass: "authpass1", Priv: usm.DES, PrivPass: "privpass1"},
	}
	f := startFleet(t, Config{Listen: v3Addr(10), Seed: 3, Users: users, Clock: frozen()})
	priv := map[usm.PrivProtocol]gosnmp.SnmpV3PrivProtocol{usm.AES192C: gosnmp.AES192C, usm.AES256C: gosnmp.AES256C, usm.AES256: gosnmp.AES256, usm.DES: gosnmp.DES}
	auth := map[usm.AuthProtocol]gosnmp.SnmpV3AuthProtocol{usm.SHA: gosnmp.SHA, usm.SHA256: gosnmp.SHA256, usm.MD5: gosnmp.MD5, usm.SHA512: gosnmp.SHA512}
	for _, u := range users {
		t.Run(u.Name, func(t *testing.T) {
			a := f.Addr(0)
			g := &gosnmp.GoSNMP{Target: a.Addr().String(), Port: a.Port(), Version: gosnmp.Version3,
				Timeout: 2 * time.Second, Retries: 1, MaxOids: gosnmp.MaxOids, MaxRepetitions: 2,
				SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthPriv, ContextName: "any-context",
				SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: u.Name,
					AuthenticationProtocol: auth[u.Auth], AuthenticationPassphrase: string(u.AuthPass),
					PrivacyProtocol: priv[u.Priv], PrivacyPassphrase: string(u.PrivPass)}}
			require.NoError(t, g.Connect())
			t.Cleanup(func() { _ = g.Conn.Close() })
			r, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
			require.NoError(t, err)
			require.Len(t, r.Variables, 1)
			assert.Equal(t, []byte("agent"), r.Variables[0].Value)
			res, err := g.BulkWalkAll(".1.3.6.1.2.1.2.2.1.2")
			require.NoError(t, err)
			assert.Len(t, res, 3)
		})
	}
	st := f.USMStats(0)
	assert.Equal(t, uint64(0), st.WrongDigests+st.DecryptionErrors)
	assert.NotZero(t, st.AuthPriv)
}

func TestV3ConfigRejectsBadUsers(t *testing.T) {
	for _, users := range [][]usm.User{
		{{Name: "a", Auth: usm.SHA, AuthPass: "short"}},
		{{Name: "a"}, {Name: "a"}},
		{{Name: "a", Priv: usm.AES, PrivPass: "privpass1"}},
	} {
		err := Config{Store: testStore(t), Users: users}.Validate()
		require.ErrorIs(t, err, ErrConfig)
		assert.NotContains(t, err.Error(), "privpass1")
	}
}

func TestV3EngineClockFollowsFaults(t *testing.T) {
	clk := newFakeClock()
	f := startFleet(t, Config{Listen: v3Addr(11), Seed: 3, Users: []usm.User{{Name: "x"}}, Clock: clk.Now})
	clk.Advance(100 * time.Second)
	boots, et := f.EngineTime(0)
	assert.Equal(t, [2]uint32{1, 100}, [2]uint32{boots, et})
	apply := func(spec string) {
		t.Helper()
		fs, err := ParseFaultSpec(spec)
		require.NoError(t, err)
		_, err = f.SetFaults(Selector{All: true}, fs)
		require.NoError(t, err)
	}
	apply("time-drift=300s")
	boots, et = f.EngineTime(0)
	assert.Equal(t, [2]uint32{1, 400}, [2]uint32{boots, et})
	apply("engine-reboot")
	clk.Advance(7 * time.Second)
	boots, et = f.EngineTime(0)
	assert.Equal(t, [2]uint32{2, 7}, [2]uint32{boots, et})
	apply("restart=10s")
	clk.Advance(15 * time.Second)
	boots, et = f.EngineTime(0)
	assert.Equal(t, [2]uint32{3, 5}, [2]uint32{boots, et})
}

func TestV3FaultSpecRoundTrip(t *testing.T) {
	for _, s := range []string{"engine-reboot", "time-drift=-3m20s", "report-storm", "report-storm=30s", "drop=0.1,engine-reboot=3,time-drift=5m0s,report-storm=1m0s"} {
		f, err := ParseFaultSpec(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, FormatFaultSpec(f))
	}
	for _, s := range []string{"engine-reboot=x", "engine-reboot=1001", "time-drift=x", "time-drift", "report-storm=-1s"} {
		_, err := ParseFaultSpec(s)
		require.ErrorIs(t, err, ErrBadFault, s)
	}
}
