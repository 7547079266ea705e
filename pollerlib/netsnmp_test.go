package pollerlib

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startSnmpd runs the real net-snmp agent on a free loopback port with a
// generated config, waits until it answers, and stops it at cleanup.
func startSnmpd(t *testing.T) Target {
	t.Helper()
	return runSnmpd(t, func(port uint16) string {
		return fmt.Sprintf("agentAddress udp:127.0.0.1:%d\nrocommunity public 127.0.0.1\nsysLocation pollerlib test\nsysContact nobody\n", port)
	}, func(addr string) Target { return Target{Addr: addr} })
}

// runSnmpd runs the real net-snmp agent on a free loopback port with the
// config conf writes for that port, waits until it answers the target
// target makes of its address, and stops it at cleanup. A port taken in
// between is tried again with another.
func runSnmpd(t *testing.T, conf func(port uint16) string, target func(addr string) Target) Target {
	t.Helper()
	bin := netsnmptest.Require(t, "snmpd")
	dir := t.TempDir()
	p := newPoller(t, WithTimeouts(200*time.Millisecond, 50*time.Millisecond, time.Second), WithRetries(0), WithBreaker(0, 0))
	for attempt := 0; ; attempt++ {
		port := freeUDPPort(t)
		confFile := filepath.Join(dir, "snmpd.conf")
		require.NoError(t, os.WriteFile(confFile, []byte(conf(port)), 0o600))
		cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", confFile, "-M", "/nonexistent", "-p", filepath.Join(dir, "snmpd.pid"))
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
		tg := target(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String())
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, err := p.Get(ctxTimeout(t, time.Second), tg, oidSysDescr)
			if err == nil {
				t.Cleanup(stop)
				return tg
			}
			select {
			case <-exited:
				if attempt < 3 { // port taken in between: try another
					break
				}
				t.Fatalf("snmpd exited: %s", out.String())
			default:
				if time.Now().After(deadline) {
					stop()
					t.Fatalf("snmpd does not answer %s: %v\n%s", tg.Version, err, out.String())
				}
				continue
			}
			break
		}
	}
}

// compareGetSystem gets .1.3.6.1.2.1.1.1.0 to .7.0 from tg with snmpget,
// run with args before the OIDs, and with p, and compares the two.
func compareGetSystem(t *testing.T, p *Poller, tg Target, args []string) {
	t.Helper()
	var oids []OID
	args = slices.Clone(args)
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
}

func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

// netsnmpVar is one varbind of net-snmp -On -Ot output, normalised.
type netsnmpVar struct {
	oid, typ string
	val      string // comparable value: bytes as hex, numbers, OIDs
}

// parseNetSNMP reads "OID = TYPE: value" lines; hex strings may go on over
// several lines.
func parseNetSNMP(t *testing.T, out string) []netsnmpVar {
	t.Helper()
	var vars []netsnmpVar
	for line := range strings.SplitSeq(out, "\n") {
		if !strings.HasPrefix(line, ".") || !strings.Contains(line, " = ") {
			if len(vars) > 0 && strings.TrimSpace(line) != "" {
				vars[len(vars)-1].val += "\n" + line
			}
			continue
		}
		oid, rest, _ := strings.Cut(line, " = ")
		typ, val, ok := strings.Cut(rest, ": ")
		switch {
		case ok:
		case rest == `""`: // an empty string is printed without its type
			typ, val = "STRING", rest
		case strings.HasPrefix(rest, "No Such Instance"):
			typ, val = "noSuchInstance", ""
		case strings.HasPrefix(rest, "No Such Object"):
			typ, val = "noSuchObject", ""
		default: // with -Ot, TimeTicks are a bare number
			_, err := strconv.ParseUint(rest, 10, 32)
			require.NoError(t, err, "unexpected net-snmp output %q", line)
			typ, val = "Timeticks", rest
		}
		vars = append(vars, netsnmpVar{oid: oid, typ: typ, val: val})
	}
	for i := range vars {
		v := &vars[i]
		switch v.typ {
		case "STRING":
			s := strings.TrimSuffix(strings.TrimPrefix(v.val, `"`), `"`)
			v.val = hex.EncodeToString([]byte(strings.ReplaceAll(s, `\"`, `"`)))
			v.typ = "STRING"
		case "Hex-STRING":
			v.val = strings.ToLower(strings.Join(strings.Fields(v.val), ""))
			v.typ = "STRING"
		case "Timeticks":
			v.val = strings.Trim(v.val, "()")
		}
	}
	return vars
}

// fromPoller renders varbinds the way parseNetSNMP normalises.
func fromPoller(vbs []Varbind) []netsnmpVar {
	out := make([]netsnmpVar, len(vbs))
	for i, v := range vbs {
		n := netsnmpVar{oid: v.OID.String(), typ: v.Type.String()}
		switch v.Type {
		case TypeNoSuchInstance, TypeNoSuchObject:
		case TypeOctetString:
			n.val = hex.EncodeToString(v.Bytes)
		case TypeObjectIdentifier:
			n.val = v.ObjectID.String()
		case TypeInteger:
			n.val = strconv.FormatInt(v.Int, 10)
		case TypeIPAddress:
			n.val = fmt.Sprint(v.Value())
		default:
			n.val = strconv.FormatUint(v.Uint, 10)
		}
		out[i] = n
	}
	return out
}

// volatile types change between two reads: compare name and type only.
var volatile = map[string]bool{"Timeticks": true, "Counter32": true, "Counter64": true, "Gauge32": true}

func compareNetSNMP(t *testing.T, want, got []netsnmpVar) {
	t.Helper()
	require.Equal(t, len(want), len(got), "varbind count")
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.oid, g.oid, "varbind %d", i)
		require.Equal(t, w.typ, g.typ, "type of %s", w.oid)
		if !volatile[w.typ] {
			assert.Equal(t, w.val, g.val, "value of %s (%s)", w.oid, w.typ)
		}
	}
}

func TestAgainstNetSNMPAgent(t *testing.T) {
	tg := startSnmpd(t)
	p := newPoller(t)
	for _, root := range []OID{oidSystem, oidInterface} {
		t.Run("bulkwalk"+root.String(), func(t *testing.T) {
			out, err := netsnmptest.Run(t, "snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Oe", "-Ot", "-t", "5", "-r", "2", tg.Addr, root.String())
			require.NoError(t, err)
			want := parseNetSNMP(t, out)
			require.NotEmpty(t, want)
			got, err := p.BulkWalkAll(ctxTimeout(t, 30*time.Second), tg, root)
			require.NoError(t, err)
			compareNetSNMP(t, want, fromPoller(got))
			v1 := tg
			v1.Version = V1
			got, err = p.WalkAll(ctxTimeout(t, 30*time.Second), v1, root)
			require.NoError(t, err)
			var want1 []netsnmpVar
			for _, w := range want {
				if w.typ != "Counter64" {
					want1 = append(want1, w)
				}
			}
			compareNetSNMP(t, want1, fromPoller(got))
		})
	}
	t.Run("get", func(t *testing.T) {
		compareGetSystem(t, p, tg, []string{"-v2c", "-c", "public", "-On", "-Oe", "-Ot", "-t", "5", "-r", "2", tg.Addr})
	})
}
