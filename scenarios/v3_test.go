package scenarios

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

const v3good = `version: 1
name: t
fleet:
  agents: 10
  v3Users:
    - ops:SHA:authpass1:AES:privpass1
    - mon:SHA-256:authpass2
load:
  interval: 1s
  version: 3
  user: ops
  ops:
    - kind: get
      oids: [.1.3.6.1.2.1.1.3.0]
phases:
  - duration: 2s
`

func TestV3UsersAndVersion(t *testing.T) {
	s, err := Parse("t.yaml", []byte(v3good))
	require.NoError(t, err)
	require.Len(t, s.Fleet.V3Users, 2)
	assert.Equal(t, SNMPv3, s.Load.Version)
	u, ok := s.User()
	require.True(t, ok)
	assert.Equal(t, usm.User{Name: "ops", Auth: usm.SHA, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"}, u)
	assert.Equal(t, []usm.User{u, {Name: "mon", Auth: usm.SHA256, AuthPass: "authpass2"}}, s.Fleet.Users())

	// Never printed: JSON, fmt.
	b, err := json.Marshal(s)
	require.NoError(t, err)
	out := string(b) + fmt.Sprintf("%v %+v %#v", s, s.Fleet, s.Fleet.V3Users)
	for _, secret := range []string{"authpass1", "privpass1", "authpass2"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, string(b), `"ops:SHA:\u003credacted\u003e:AES:\u003credacted\u003e"`)

	// The default is 2c; one user is the default user.
	s, err = Parse("t.yaml", []byte(good))
	require.NoError(t, err)
	assert.Equal(t, SNMPv2c, s.Load.Version)
	_, ok = s.User()
	assert.False(t, ok)
	one := strings.Replace(strings.Replace(v3good, "    - mon:SHA-256:authpass2\n", "", 1), "  user: ops\n", "", 1)
	s, err = Parse("t.yaml", []byte(one))
	require.NoError(t, err)
	assert.Equal(t, "ops", s.Load.User)

	for in, want := range map[string]SNMPVersion{"1": SNMPv1, "2c": SNMPv2c, `"2c"`: SNMPv2c, "v3": SNMPv3, "3": SNMPv3} {
		s, err := Parse("t.yaml", []byte(strings.Replace(v3good, "version: 3", "version: "+in, 1)))
		if want != SNMPv3 {
			require.ErrorContains(t, err, "load.user: only for version 3", in)
			continue
		}
		require.NoError(t, err, in)
		assert.Equal(t, want, s.Load.Version, in)
	}
}

func TestV3ErrorsNameLineAndFieldButNoSecret(t *testing.T) {
	tests := []struct{ name, from, to, want string }{
		{"bad auth protocol", "ops:SHA:authpass1", "ops:SHA9:authpass1", "t.yaml:6: fleet.v3Users[0]: bad v3 user: ops: field 2 is not an auth protocol"},
		{"short passphrase", "ops:SHA:authpass1:AES:privpass1", "ops:SHA:authpass1:AES:priv", "t.yaml:6: fleet.v3Users[0]: bad v3 user: ops: priv passphrase shorter than 8"},
		{"bad priv protocol", "AES:privpass1", "AESX:privpass1", "t.yaml:6: fleet.v3Users[0]: bad v3 user: ops: field 4 is not a priv protocol"},
		{"wrong separator", "ops:SHA:authpass1:AES:privpass1", "ops,SHA,authpass1,AES,privpass1", "t.yaml:6: fleet.v3Users[0]: bad v3 user: the name (field 1) has ','"},
		{"not a string", "- mon:SHA-256:authpass2", "- {name: mon}", "t.yaml:7: fleet.v3Users[1]: want a single value"},
		{"duplicate user", "mon:SHA-256:authpass2", "ops:SHA-256:authpass2", `t.yaml:7: fleet.v3Users[1]: user "ops" given twice`},
		{"unknown load user", "user: ops", "user: nobody", `t.yaml:11: load.user: "nobody" is not one of fleet.v3Users (ops, mon)`},
		{"bad version", "version: 3", "version: 4", `t.yaml:10: load.version: want 1, 2c or 3, got "4"`},
		{"no users", "  v3Users:\n    - ops:SHA:authpass1:AES:privpass1\n    - mon:SHA-256:authpass2\n", "", "load.version: version 3 needs fleet.v3Users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(v3good, tt.from, tt.to, 1)
			require.NotEqual(t, v3good, y)
			_, err := Parse("t.yaml", []byte(y))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			for _, secret := range []string{"authpass1", "privpass1", "authpass2"} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}
