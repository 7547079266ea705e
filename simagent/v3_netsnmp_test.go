package simagent

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SNMPv3 against net-snmp 5.9's tools: every auth protocol at authNoPriv
// and every auth × priv protocol pair at authPriv that both support
// (net-snmp has no Reeder AES-192-C/AES-256-C), with snmpget and
// snmpbulkwalk, must print exactly the agent's data; wrong passphrases and
// unknown users fail as net-snmp reports them.

// v3Addr is a test address of the v3 tests, 127.22.x.1.
func v3Addr(x int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 22, byte(x), 1}), 0)
}

var (
	netsnmpAuths = []usm.AuthProtocol{usm.MD5, usm.SHA, usm.SHA224, usm.SHA256, usm.SHA384, usm.SHA512}
	netsnmpPrivs = []usm.PrivProtocol{usm.DES, usm.AES, usm.AES192, usm.AES256}
)

// v3TestUsers is one user per protocol combination, named after it.
func v3TestUsers() []usm.User {
	users := []usm.User{{Name: "plain"}}
	for _, a := range netsnmpAuths {
		users = append(users, usm.User{Name: "u-" + a.String(), Auth: a, AuthPass: usm.Secret("auth-" + a.String())})
		for _, p := range netsnmpPrivs {
			users = append(users, usm.User{Name: "u-" + a.String() + "-" + p.String(), Auth: a, AuthPass: usm.Secret("auth-" + a.String()),
				Priv: p, PrivPass: usm.Secret("priv-" + p.String() + a.String())})
		}
	}
	return users
}

// v3Args are net-snmp's options for user u, with its passphrases, and no
// persistent state (so no cached engine boots/time between runs).
func v3Args(t testing.TB, u usm.User) []string {
	dir := t.TempDir()
	args := []string{"-v3", "-u", u.Name, "-r", "1", "-t", "3", "-Le",
		"--persistentDir=" + dir, "--noPersistentLoad=1", "--noPersistentSave=1"}
	switch u.Level() {
	case usm.NoAuthNoPriv:
		return append(args, "-l", "noAuthNoPriv")
	case usm.AuthNoPriv:
		return append(args, "-l", "authNoPriv", "-a", u.Auth.String(), "-A", string(u.AuthPass))
	}
	return append(args, "-l", "authPriv", "-a", u.Auth.String(), "-A", string(u.AuthPass), "-x", u.Priv.String(), "-X", string(u.PrivPass))
}

func TestV3NetSNMPGetsExactlyTheData(t *testing.T) {
	netsnmptest.Require(t, "snmpbulkwalk")
	users := v3TestUsers()
	clk := newFakeClock()
	f := startFleet(t, Config{Listen: v3Addr(1), Agents: 2, Seed: 5, Users: users, Clock: clk.Now})
	clk.Advance(3 * time.Hour)
	addr := f.Addr(1).String() // a shared-socket agent, by its own address
	snap := f.Snapshot(1)
	var oids []string
	for _, e := range snap {
		oids = append(oids, e.OID.String())
	}
	wantGet := renderWalk(t, snap, true)
	wantWalk := walkToEnd(t, snap, "2c", true)
	for _, u := range users {
		t.Run(strings.ReplaceAll(u.Name, "-", ""), func(t *testing.T) {
			t.Parallel()
			args := append(v3Args(t, u), numericOut...)
			out, err := netsnmptest.Run(t, "snmpget", withAgent(args, addr, oids...)...)
			require.NoError(t, err)
			assertLines(t, wantGet, outputLines(out), "snmpget "+u.String())
			out, err = netsnmptest.Run(t, "snmpbulkwalk", withAgent(append(args, "-Cr7"), addr, ".1.3")...)
			require.NoError(t, err)
			assertLines(t, wantWalk, outputLines(out), "snmpbulkwalk "+u.String())
		})
	}
	t.Cleanup(func() { // after the parallel subtests

		st := f.USMStats(1)
		if st.AuthPriv == 0 || st.AuthNoPriv == 0 || st.NoAuthNoPriv == 0 || st.UnknownEngineIDs == 0 {
			t.Errorf("usm stats %+v: want messages at every level and discovery reports", st)
		}
		if st.WrongDigests+st.DecryptionErrors+st.UnknownUserNames+st.NotInTimeWindows != 0 {
			t.Errorf("usm stats %+v: errors with right credentials", st)
		}
	})
}

func TestV3NetSNMPWrongCredentialsFail(t *testing.T) {
	netsnmptest.Require(t, "snmpget")
	users := []usm.User{
		{Name: "ops", Auth: usm.SHA, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"},
		{Name: "ro", Auth: usm.MD5, AuthPass: "authpass2"},
	}
	f := startFleet(t, Config{Listen: v3Addr(2), Seed: 6, Users: users, Clock: frozen()})
	addr := f.Addr(0).String()
	for _, tc := range []struct {
		name string
		user usm.User
		want string // in stderr
		stat func(usm.Stats) uint64
	}{
		{"wrong auth passphrase", usm.User{Name: "ops", Auth: usm.SHA, AuthPass: "wrongpass", Priv: usm.AES, PrivPass: "privpass1"},
			"Authentication failure", func(s usm.Stats) uint64 { return s.WrongDigests }},
		{"wrong auth protocol", usm.User{Name: "ops", Auth: usm.MD5, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"},
			"Authentication failure", func(s usm.Stats) uint64 { return s.WrongDigests }},
		{"wrong priv passphrase", usm.User{Name: "ops", Auth: usm.SHA, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "wrongpass"},
			"Decryption error", func(s usm.Stats) uint64 { return s.DecryptionErrors }},
		{"unknown user", usm.User{Name: "nobody", Auth: usm.SHA, AuthPass: "authpass1"},
			"Unknown user name", func(s usm.Stats) uint64 { return s.UnknownUserNames }},
		{"level above the user's", usm.User{Name: "ro", Auth: usm.MD5, AuthPass: "authpass2", Priv: usm.DES, PrivPass: "privpass2"},
			"Unsupported security level", func(s usm.Stats) uint64 { return s.UnsupportedSecLevels }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.stat(f.USMStats(0))
			out, err := netsnmptest.Run(t, "snmpget", withAgent(v3Args(t, tc.user), addr, ".1.3.6.1.2.1.1.1.0")...)
			var te *netsnmptest.ToolError
			require.True(t, errors.As(err, &te), "want a failing tool, got %v, output %q", err, out)
			assert.Contains(t, te.Stderr, tc.want)
			assert.Empty(t, out)
			assert.Greater(t, tc.stat(f.USMStats(0)), before)
		})
	}
}

// TestV3NetSNMPAcrossEngineFaults checks that net-snmp gets data after an
// engine reboot and a time drift, and none during a Report storm.
func TestV3NetSNMPAcrossEngineFaults(t *testing.T) {
	netsnmptest.Require(t, "snmpget")
	u := usm.User{Name: "ops", Auth: usm.SHA256, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"}
	f := startFleet(t, Config{Listen: v3Addr(3), Seed: 6, Users: []usm.User{u}, Store: testStore(t), Clock: frozen()})
	get := func() (string, error) {
		return netsnmptest.Run(t, "snmpget", withAgent(append(v3Args(t, u), "-On"), f.Addr(0).String(), ".1.3.6.1.2.1.1.5.0")...)
	}
	want := ".1.3.6.1.2.1.1.5.0 = STRING: \"agent\"\n"
	for _, spec := range []string{"engine-reboot", "time-drift=-1h", "time-drift=10m", "report-storm=1h", "none"} {
		faults, err := ParseFaultSpec(spec)
		require.NoError(t, err)
		_, err = f.SetFaults(Selector{All: true}, faults)
		require.NoError(t, err)
		out, err := get()
		if strings.HasPrefix(spec, "report-storm") {
			require.Error(t, err, spec)
			continue
		}
		require.NoError(t, err, spec)
		assert.Equal(t, want, out, spec)
	}
	boots, _ := f.EngineTime(0)
	assert.Equal(t, uint32(2), boots)
	assert.NotZero(t, f.USMStats(0).UnknownEngineIDs)
}

func TestV3EngineIDs(t *testing.T) {
	f := startFleet(t, Config{Listen: v3Addr(4), Agents: 3, Seed: 9, Users: []usm.User{{Name: "x"}}, Store: testStore(t)})
	g := startFleet(t, Config{Listen: v3Addr(5), Agents: 3, Seed: 9, Users: []usm.User{{Name: "x"}}, Store: testStore(t)})
	seen := map[string]bool{}
	for i := range 3 {
		id := f.EngineID(i)
		assert.Equal(t, id, g.EngineID(i), "same seed, same engine ID")
		assert.False(t, seen[string(id)], "engine IDs are unique in a fleet")
		seen[string(id)] = true
		assert.Equal(t, fmt.Sprintf("%x", id[:5]), "80007ed905")
	}
	h := startFleet(t, Config{Listen: v3Addr(6), Seed: 10, Users: []usm.User{{Name: "x"}}, Store: testStore(t)})
	assert.NotEqual(t, f.EngineID(0), h.EngineID(0))
	none := startFleet(t, Config{Listen: v3Addr(7), Store: testStore(t)})
	assert.Nil(t, none.EngineID(0))
}
