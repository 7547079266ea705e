package pollerlib

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/snmpchaos/snmpchaos/simagent/usm"
	"github.com/stretchr/testify/require"
)

// startSnmpdV3 runs net-snmp's agent with a v3 user (createUser) on a free
// loopback port, its persistent state in a temporary directory, and returns
// a V3 target for it.
func startSnmpdV3(t *testing.T, u usm.User) Target {
	t.Helper()
	bin := netsnmptest.Require(t, "snmpd")
	dir := t.TempDir()
	p := newPoller(t, WithTimeouts(200*time.Millisecond, 50*time.Millisecond, time.Second), WithRetries(0), WithBreaker(0, 0))
	for attempt := 0; ; attempt++ {
		port := freeUDPPort(t)
		conf := filepath.Join(dir, "snmpd.conf")
		require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil,
			"agentAddress udp:127.0.0.1:%d\ncreateUser %s %s \"%s\" %s \"%s\"\nrouser %s priv\nsysLocation pollerlib v3 test\nsysContact nobody\n",
			port, u.Name, u.Auth, string(u.AuthPass), u.Priv, string(u.PrivPass), u.Name), 0o600))
		cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", conf, "-M", "/nonexistent", "-p", filepath.Join(dir, "snmpd.pid"))
		cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+dir, "HOME="+dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill() // our own child, by PID
			<-exited
		}
		tg := Target{Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String(), Version: V3, User: u}
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, err := p.Get(ctxTimeout(t, time.Second), tg, oidSysDescr)
			if err == nil {
				t.Cleanup(stop)
				return tg
			}
			select {
			case <-exited:
				if attempt < 3 {
					break
				}
				t.Fatalf("snmpd exited: %s", out.String())
			default:
				if time.Now().After(deadline) {
					stop()
					t.Fatalf("snmpd does not answer v3: %v\n%s", err, out.String())
				}
				continue
			}
			break
		}
	}
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
		var oids []OID
		args := append([]string(nil), tool...)
		for i := 1; i <= 7; i++ {
			o := MustParseOID(fmt.Sprintf(".1.3.6.1.2.1.1.%d.0", i))
			oids = append(oids, o)
			args = append(args, o.String())
		}
		out, err := netsnmptest.Run(t, "snmpget", args...)
		require.NoError(t, err)
		got, err := p.Get(ctxTimeout(t, 10*time.Second), tg, oids...)
		require.NoError(t, err)
		compareNetSNMP(t, parseNetSNMP(t, out), fromPoller(got))
	})
	st := p.Stats().V3
	require.Equal(t, uint64(1), st.Discoveries, "%+v", st)
	require.Zero(t, st.BadMAC)
}
