package poller

import (
	"net/netip"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// v3User is the user v3mixed polls as in the harness's tests.
func v3User(t *testing.T) usm.User {
	t.Helper()
	u, err := usm.ParseUser("ops:SHA:authpass1:AES:privpass1")
	require.NoError(t, err)
	return u
}

func TestTargetsForEachClient(t *testing.T) {
	tg := pollapi.Target{Addr: netip.MustParseAddrPort("127.162.0.1:161"), Community: "public", Version: pollapi.VersionV3, User: v3User(t)}
	lt := libTarget(tg)
	assert.Equal(t, pollerlib.V3, lt.Version)
	assert.Equal(t, tg.User, lt.User)

	var c gosnmp.GoSNMP
	gosnmpV3(&c, tg.User, "ctx")
	assert.Equal(t, gosnmp.Version3, c.Version)
	assert.Equal(t, gosnmp.AuthPriv, c.MsgFlags)
	sp := c.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	assert.Equal(t, gosnmp.SHA, sp.AuthenticationProtocol)
	assert.Equal(t, gosnmp.AES, sp.PrivacyProtocol)
	assert.Equal(t, "ctx", c.ContextName)

	assert.Equal(t, pollerlib.V2c, libTarget(pollapi.Target{Version: pollapi.VersionV2c}).Version)
}

func TestGosnmpProtocolMapsAreComplete(t *testing.T) {
	for a := usm.NoAuth; a <= usm.SHA512; a++ {
		_, ok := gosnmpAuth[a]
		assert.True(t, ok, "auth %s", a)
	}
	for p := usm.NoPriv; p <= usm.AES256C; p++ {
		_, ok := gosnmpPriv[p]
		assert.True(t, ok, "priv %s", p)
	}
}
