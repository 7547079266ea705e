package control

import (
	"encoding/hex"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// TestV3EngineAndUSMCounters: with v3 users, /agents shows each agent's
// engine and usmStats, /stats and /metrics the fleet's USM totals; a v2c-only
// fleet shows none of them.
func TestV3EngineAndUSMCounters(t *testing.T) {
	user, err := usm.ParseUser("ops:SHA:authpass1:AES:privpass1")
	require.NoError(t, err)
	f := startFleet(t, simagent.Config{Agents: 2, Users: []usm.User{user}})
	srv := serve(t, f)

	a := f.Addr(1)
	g := &gosnmp.GoSNMP{
		Target: a.Addr().String(), Port: a.Port(), Version: gosnmp.Version3,
		Timeout: 2 * time.Second, Retries: 1, MaxOids: gosnmp.MaxOids,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{
			UserName: "ops", AuthenticationProtocol: gosnmp.SHA, AuthenticationPassphrase: "authpass1",
			PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: "privpass1",
		},
	}
	require.NoError(t, g.Connect())
	t.Cleanup(func() { _ = g.Conn.Close() })
	r, err := g.Get([]string{sysName})
	require.NoError(t, err)
	require.Equal(t, []byte("agent"), r.Variables[0].Value)

	var ag Agent
	getJSON(t, srv, "/agents/1", &ag)
	require.NotNil(t, ag.V3)
	assert.Equal(t, hex.EncodeToString(f.EngineID(1)), ag.V3.EngineID)
	assert.EqualValues(t, 1, ag.V3.Boots)
	assert.EqualValues(t, 1, ag.V3.USM.UnknownEngineIDs, "one discovery")
	assert.EqualValues(t, 1, ag.V3.USM.AuthPriv, "one authPriv Get")

	var st FleetStats
	getJSON(t, srv, "/stats", &st)
	require.NotNil(t, st.USM)
	assert.EqualValues(t, 1, st.USM.AuthPriv)

	code, body := do(t, srv, http.MethodGet, "/metrics", "", "")
	require.Equal(t, http.StatusOK, code)
	m := regexp.MustCompile(`(?m)^simagent_usm_messages_total\{counter="authPriv"\} (\d+)$`).FindStringSubmatch(body)
	require.NotNil(t, m, "authPriv series in /metrics")
	n, _ := strconv.Atoi(m[1])
	assert.Equal(t, 1, n)
	assert.NotContains(t, body, "authpass1", "no passphrase in metrics")

	plain := serve(t, startFleet(t, simagent.Config{Agents: 1}))
	ag = Agent{}
	getJSON(t, plain, "/agents/0", &ag)
	assert.Nil(t, ag.V3)
	st = FleetStats{}
	getJSON(t, plain, "/stats", &st)
	assert.Nil(t, st.USM)
	_, body = do(t, plain, http.MethodGet, "/metrics", "", "")
	assert.NotContains(t, body, "simagent_usm_messages_total{")
}
