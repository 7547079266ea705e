package main

import (
	"io"
	"strings"
	"testing"

	"github.com/snmpchaos/snmpchaos/snmp/usm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestV3UserFlags(t *testing.T) {
	o, err := parseFlags([]string{"--v3-user", "ro", "--v3-user", "ops:SHA-256:authpass1:AES-256:privpass1", "--v3-user", "mon:md5:authpass2"}, io.Discard, noEnv)
	require.NoError(t, err)
	require.Len(t, o.users, 3)
	assert.Equal(t, usm.User{Name: "ops", Auth: usm.SHA256, AuthPass: "authpass1", Priv: usm.AES256, PrivPass: "privpass1"}, o.users[1])
	assert.Equal(t, usm.AuthNoPriv, o.users[2].Level())
	for _, bad := range [][]string{
		{"--v3-user", "ops:authpass1:SHA"},
		{"--v3-user", "ops:SHA:short"},
		{"--v3-user", "ops:SHA:authpass1", "--v3-user", "ops:MD5:authpass1"},
		{"--v3-user", "ops:SHA:authpass1:privpass1:AES"},
	} {
		_, err := parseFlags(bad, io.Discard, noEnv)
		require.Error(t, err, strings.Join(bad, " "))
		assert.Contains(t, err.Error(), "--v3-user")
		assert.NotContains(t, err.Error(), "authpass1", "errors never show a passphrase")
		assert.NotContains(t, err.Error(), "privpass1", "errors never show a passphrase")
	}
	var help strings.Builder
	_, err = parseFlags([]string{"--help"}, &help, noEnv)
	require.ErrorIs(t, err, errHelp)
	assert.Contains(t, help.String(), "--v3-user")
	assert.Contains(t, help.String(), "AES-256-C")
}

// noEnv is an environment with nothing set.
func noEnv(string) string { return "" }

func TestV3UsersFromTheEnvironment(t *testing.T) {
	env := func(k string) string {
		if k == usersEnv {
			return "ops:SHA:authpass1:AES:privpass1\nmon:MD5:authpass2"
		}
		return ""
	}
	o, err := parseFlags([]string{"--v3-user", "ro"}, io.Discard, env)
	require.NoError(t, err)
	require.Len(t, o.users, 3)
	assert.Equal(t, "ops", o.users[1].Name)
	assert.Equal(t, "mon", o.users[2].Name)

	bad := func(k string) string {
		if k == usersEnv {
			return "ops:SHA:pw7"
		}
		return ""
	}
	_, err = parseFlags(nil, io.Discard, bad)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pw7")
}
