package pollapi

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

func TestVarbindString(t *testing.T) {
	assert.Equal(t, ".1.3.6.1.2.1.1.3.0 = 0x43: 12345", Varbind{OID: ".1.3.6.1.2.1.1.3.0", Type: 0x43, Value: "12345"}.String())
	assert.Equal(t, ".1.3.6 = 0x05: ", Varbind{OID: ".1.3.6", Type: 0x05}.String(), "NULL renders empty")
}

// A target marshals into reports and logs without its secrets.
func TestTargetKeepsItsSecrets(t *testing.T) {
	u, err := usm.ParseUser("ops:SHA:authpass1:AES:privpass1")
	require.NoError(t, err)
	tg := Target{Index: 3, Addr: netip.MustParseAddrPort("127.0.0.4:161"), Community: "s3cret", Version: VersionV3, User: u, Context: "ctx"}
	b, err := json.Marshal(tg)
	require.NoError(t, err)
	assert.JSONEq(t, `{"index": 3, "addr": "127.0.0.4:161", "version": "3"}`, string(b))
	for _, s := range []string{string(b), fmt.Sprintf("%v %+v", tg, tg)} {
		assert.NotContains(t, s, "authpass1")
		assert.NotContains(t, s, "privpass1")
	}
}
