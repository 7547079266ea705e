package pollerlib

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/benchutil"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
	"github.com/stretchr/testify/require"
)

// BenchmarkV3GetVsV2c polls a 10-OID Get of every agent of a 1,000-agent
// fleet 20 times over, at v2c and at v3 authPriv (SHA, AES-128) in the same
// run and with the same concurrency, after one warm-up round each (v3:
// discovery and key localisation per agent). Target: v3 >= 0.4x v2c.
func BenchmarkV3GetVsV2c(b *testing.B) {
	const agents, rounds, workers = 1000, 20, 64
	u := usm.User{Name: "bench", Auth: usm.SHA, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"}
	f, err := simagent.Start(b.Context(), simagent.Config{
		Agents: agents, Listen: netip.MustParseAddrPort("127.22.200.1:0"),
		Store: profileStore(b, "if-mib:2"), Seed: 42, Users: []usm.User{u},
	})
	require.NoError(b, err)
	b.Cleanup(func() { _ = f.Close() })
	var oids []OID
	for _, s := range []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.3.0", ".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.2.1.0",
		".1.3.6.1.2.1.2.2.1.2.1", ".1.3.6.1.2.1.2.2.1.10.1", ".1.3.6.1.2.1.2.2.1.16.1", ".1.3.6.1.2.1.2.2.1.10.2", ".1.3.6.1.2.1.2.2.1.16.2"} {
		oids = append(oids, MustParseOID(s))
	}
	run := func(v Version) side {
		tg := func(i int) Target {
			t := Target{Addr: f.Addr(i % agents).String(), Version: v}
			if v == V3 {
				t.User = u
			}
			return t
		}
		return drive(workers, agents*rounds, func() (func(int) error, func()) {
			p, err := New(WithSockets(2))
			require.NoError(b, err)
			for i := range agents { // warm-up, not measured by rate below
				_, err := p.Get(context.Background(), tg(i), oids...)
				require.NoError(b, err)
			}
			return func(i int) error {
				vbs, err := p.Get(context.Background(), tg(i), oids...)
				if err == nil && len(vbs) != len(oids) {
					err = fmt.Errorf("%d varbinds", len(vbs))
				}
				return err
			}, func() { require.NoError(b, p.Close(context.Background())) }
		})
	}
	var v2, v3 side
	for b.Loop() {
		v2 = run(V2c)
		v3 = run(V3)
	}
	ratio := v3.rate() / v2.rate()
	b.ReportMetric(v2.rate(), "v2c-polls/s")
	b.ReportMetric(v3.rate(), "v3-authPriv-polls/s")
	b.ReportMetric(ratio, "v3/v2c")
	b.Logf("10-OID Get x %d agents x %d rounds, %d workers: v2c %.0f polls/s (%d errors, p50 %s, p99 %s), v3 authPriv SHA/AES-128 %.0f polls/s (%d errors, p50 %s, p99 %s)",
		agents, rounds, workers, v2.rate(), v2.errors, pct(v2.latencies, 0.5).Round(time.Microsecond), pct(v2.latencies, 0.99).Round(time.Microsecond),
		v3.rate(), v3.errors, pct(v3.latencies, 0.5).Round(time.Microsecond), pct(v3.latencies, 0.99).Round(time.Microsecond))
	b.Log(benchutil.Verdict("pollerlib v3 authPriv Get polls/s vs v2c", ratio >= 0.4 && v3.errors == 0, "%.2fx (target >= 0.4x)", ratio))
}
