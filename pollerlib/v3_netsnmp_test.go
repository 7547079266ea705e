package pollerlib

import (
	"fmt"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
	"github.com/stretchr/testify/require"
)

// startSnmpdV3 runs net-snmp's agent with a v3 user (createUser) on a free
// loopback port, its persistent state in a temporary directory, and returns
// a V3 target for it.
func startSnmpdV3(t *testing.T, u usm.User) Target {
	t.Helper()
	return runSnmpd(t, func(port uint16) string {
		return fmt.Sprintf("agentAddress udp:127.0.0.1:%d\ncreateUser %s %s \"%s\" %s \"%s\"\nrouser %s priv\nsysLocation pollerlib v3 test\nsysContact nobody\n",
			port, u.Name, u.Auth, string(u.AuthPass), u.Priv, string(u.PrivPass), u.Name)
	}, func(addr string) Target { return Target{Addr: addr, Version: V3, User: u} })
}

func TestV3AgainstNetSNMPAgent(t *testing.T) {
	u := usm.User{Name: "poller", Auth: usm.SHA, AuthPass: "authsecret1", Priv: usm.AES, PrivPass: "privsecret1"}
	tg := startSnmpdV3(t, u)
	p := newPoller(t)
	tool := []string{"-v3", "-l", "authPriv", "-u", u.Name, "-a", "SHA", "-A", string(u.AuthPass), "-x", "AES", "-X", string(u.PrivPass),
		"-On", "-Oe", "-Ot", "-t", "5", "-r", "2", "-Le", "--persistentDir=" + t.TempDir(), "--noPersistentLoad=1", "--noPersistentSave=1", tg.Addr}
	for _, root := range []OID{oidSystem, oidInterface} {
		t.Run("bulkwalk"+root.String(), func(t *testing.T) {
			out, err := netsnmptest.Run(t, "snmpbulkwalk", append(tool, root.String())...)
			require.NoError(t, err)
			want := parseNetSNMP(t, out)
			require.NotEmpty(t, want)
			got, err := p.BulkWalkAll(ctxTimeout(t, 30*time.Second), tg, root)
			require.NoError(t, err)
			compareNetSNMP(t, want, fromPoller(got))
		})
	}
	t.Run("get", func(t *testing.T) {
		compareGetSystem(t, p, tg, tool)
	})
	st := p.Stats().V3
	require.Equal(t, uint64(1), st.Discoveries, "%+v", st)
	require.Zero(t, st.BadMAC)
}
