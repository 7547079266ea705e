package simagent

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The same SNMPv3 users on snmpd (createUser, and rouser at the user's own
// level) and on simagent: every request gets the same outcome.

var accessUsers = []usm.User{
	{Name: "ops", Auth: usm.SHA, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"},
	{Name: "mon", Auth: usm.SHA, AuthPass: "authpass2"},
	{Name: "open"},
}

func snmpdUsersConf(users []usm.User) string {
	var b strings.Builder
	for _, u := range users {
		switch u.Level() {
		case usm.AuthPriv:
			fmt.Fprintf(&b, "createUser %s %s %s %s %s\nrouser %s priv\n", u.Name, u.Auth, string(u.AuthPass), u.Priv, string(u.PrivPass), u.Name)
		case usm.AuthNoPriv:
			fmt.Fprintf(&b, "createUser %s %s %s\nrouser %s auth\n", u.Name, u.Auth, string(u.AuthPass), u.Name)
		default:
			fmt.Fprintf(&b, "createUser %s\nrouser %s noauth\n", u.Name, u.Name)
		}
	}
	return b.String()
}

// v3Outcome runs snmpget as user u at level (its passphrases as far as
// the level needs them) and reduces the result to what it says: the
// value, or the error net-snmp reports.
func v3Outcome(t *testing.T, addr string, u usm.User, level usm.Level, oid string) string {
	t.Helper()
	lu := u
	switch level {
	case usm.NoAuthNoPriv:
		lu.Auth, lu.Priv = usm.NoAuth, usm.NoPriv
	case usm.AuthNoPriv:
		lu.Priv = usm.NoPriv
	}
	out, err := netsnmptest.Run(t, "snmpget", withAgent(append(v3Args(t, lu), "-On"), addr, oid)...)
	if err != nil {
		var te *netsnmptest.ToolError
		require.ErrorAs(t, err, &te)
		var msg []string
		for _, l := range strings.Split(out+"\n"+te.Stderr, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Created directory") {
				msg = append(msg, l)
			}
		}
		return "error: " + strings.Join(msg, " ")
	}
	_, v, _ := strings.Cut(strings.TrimSpace(out), " = ")
	return v
}

func TestV3AccessLevelsMatchSnmpd(t *testing.T) {
	sd := netsnmptest.StartSnmpd(t, "rocommunity public 127.0.0.1\n"+snmpdUsersConf(accessUsers))
	_, store := snmpdRecording(t, "")
	f := startFleet(t, Config{Listen: v3Addr(40), Store: store, Users: accessUsers})
	const sysName = ".1.3.6.1.2.1.1.5.0"
	for _, u := range accessUsers {
		for _, level := range []usm.Level{usm.NoAuthNoPriv, usm.AuthNoPriv, usm.AuthPriv} {
			if level > u.Level() {
				continue // the tool cannot ask without the passphrases
			}
			want := v3Outcome(t, sd.Addr, u, level, sysName)
			got := v3Outcome(t, f.Addr(0).String(), u, level, sysName)
			if level < u.Level() {
				assert.Contains(t, want, "authorizationError", "snmpd: %s at %s", u.Name, level)
				assert.Equal(t, want, got, "%s at %s", u.Name, level)
			} else {
				assert.NotContains(t, want, "error", "snmpd: %s at its level", u.Name)
				assert.NotContains(t, got, "error", "simagent: %s at its level", u.Name)
			}
		}
	}
	nobody := usm.User{Name: "nobody"}
	assert.Equal(t, v3Outcome(t, sd.Addr, nobody, usm.NoAuthNoPriv, sysName), v3Outcome(t, f.Addr(0).String(), nobody, usm.NoAuthNoPriv, sysName))
}

// TestV3WithoutUsersAnswersAsSnmpd: with no v3 users at all, snmpd still
// answers discovery and then unknownUserName; so does simagent.
func TestV3WithoutUsersAnswersAsSnmpd(t *testing.T) {
	sd, store := snmpdRecording(t, "")
	f := startFleet(t, Config{Listen: v3Addr(41), Store: store})
	for _, u := range accessUsers {
		want := v3Outcome(t, sd.Addr, u, u.Level(), ".1.3.6.1.2.1.1.5.0")
		got := v3Outcome(t, f.Addr(0).String(), u, u.Level(), ".1.3.6.1.2.1.1.5.0")
		assert.Contains(t, want, "Unknown user name", "snmpd, %s", u.Name)
		assert.Equal(t, want, got, "%s", u.Name)
	}
	assert.Positive(t, f.USMStats(0).UnknownUserNames)
	assert.Positive(t, f.USMStats(0).UnknownEngineIDs, "discovery answered")
}

// engineView is what an agent says about its engine: in its snmpEngine
// objects (read with v2c) and in its v3 messages (discovered by gosnmp).
type engineView struct {
	servedID, discoveredID []byte
	servedBoots            int
	discoveredBoots        uint32
	servedTime             int
	discoveredTime         uint32
	unknownUsersBefore     uint
	unknownUsersAfter      uint
}

func readEngine(t *testing.T, ap netip.AddrPort) engineView {
	t.Helper()
	v2 := &gosnmp.GoSNMP{Target: ap.Addr().String(), Port: ap.Port(), Community: "public", Version: gosnmp.Version2c, Timeout: 5 * time.Second, Retries: 2}
	require.NoError(t, v2.Connect())
	defer v2.Conn.Close()
	const usmUnknownUsers = ".1.3.6.1.6.3.15.1.1.3.0"
	var v engineView
	r, err := v2.Get([]string{".1.3.6.1.6.3.10.2.1.1.0", ".1.3.6.1.6.3.10.2.1.2.0", ".1.3.6.1.6.3.10.2.1.3.0", usmUnknownUsers})
	require.NoError(t, err)
	require.Len(t, r.Variables, 4)
	v.servedID, _ = r.Variables[0].Value.([]byte)
	v.servedBoots, _ = r.Variables[1].Value.(int)
	v.servedTime, _ = r.Variables[2].Value.(int)
	v.unknownUsersBefore, _ = r.Variables[3].Value.(uint)
	v3 := &gosnmp.GoSNMP{Target: ap.Addr().String(), Port: ap.Port(), Version: gosnmp.Version3, Timeout: 5 * time.Second, Retries: 2,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.NoAuthNoPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: "nobody-here"}}
	require.NoError(t, v3.Connect())
	defer v3.Conn.Close()
	_, _ = v3.Get([]string{".1.3.6.1.2.1.1.5.0"}) // unknownUserName: counted
	sp := v3.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	v.discoveredID = []byte(sp.AuthoritativeEngineID)
	v.discoveredBoots, v.discoveredTime = sp.AuthoritativeEngineBoots, sp.AuthoritativeEngineTime
	r, err = v2.Get([]string{usmUnknownUsers})
	require.NoError(t, err)
	v.unknownUsersAfter, _ = r.Variables[0].Value.(uint)
	return v
}

// TestEngineObjectsAreTheLiveEngines: served from a recording of snmpd,
// simagent's snmpEngineID, boots, time and usmStats are its own engine's,
// as snmpd's are its own: what the objects say matches the v3 messages,
// and the counters move.
func TestEngineObjectsAreTheLiveEngines(t *testing.T) {
	sd, store := snmpdRecording(t, "")
	f := startFleet(t, Config{Listen: v3Addr(42), Agents: 2, Store: store, Seed: 9})
	for name, ap := range map[string]netip.AddrPort{"snmpd": netip.MustParseAddrPort(sd.Addr), "simagent": f.Addr(1)} {
		v := readEngine(t, ap)
		assert.NotEmpty(t, v.servedID, name)
		assert.Equal(t, v.discoveredID, v.servedID, "%s: snmpEngineID.0 is the engine's ID", name)
		assert.EqualValues(t, v.discoveredBoots, v.servedBoots, "%s: snmpEngineBoots", name)
		assert.InDelta(t, float64(v.discoveredTime), float64(v.servedTime), 5, "%s: snmpEngineTime", name)
		assert.Greater(t, v.unknownUsersAfter, v.unknownUsersBefore, "%s: usmStatsUnknownUserNames counts", name)
	}
	other := readEngine(t, f.Addr(0))
	assert.False(t, bytes.Equal(other.servedID, f.EngineIDOf(1)), "agents serve their own engine IDs")
	assert.Equal(t, f.EngineIDOf(0), other.servedID)
}
