//go:build linux

package netns

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// testFamily names every run the tests make.
const testFamily = "sct"

// agentPort is the port of test fleets.
const agentPort = 1161

var (
	probeOnce sync.Once
	probeErr  error
)

// needNetns skips the test unless it runs as root on a kernel that can
// make network namespaces; under CI=true, a root that cannot is a failure.
func needNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netns tests need root (network namespaces, veth, nftables); run `sudo make netns-test`")
	}
	probeOnce.Do(func() {
		done := make(chan error, 1)
		go func() {
			// The thread ends with this goroutine, never unlocked: it may
			// be in the new namespace.
			runtime.LockOSThread()
			done <- unix.Unshare(unix.CLONE_NEWNET)
		}()
		probeErr = <-done
	})
	if probeErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI runs as root but cannot create a network namespace: %v", probeErr)
		}
		t.Skipf("cannot create a network namespace here: %v", probeErr)
	}
}

// build builds a topology of test family, closed (and checked to leave
// nothing) at cleanup.
func build(t *testing.T, cfg Config) *Topology {
	t.Helper()
	needNetns(t)
	if cfg.Family == "" {
		cfg.Family = testFamily
	}
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	top, err := Build(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		prefixes := sitePrefixes(top)
		require.NoError(t, top.Close())
		requireGone(t, top.Run(), prefixes)
	})
	return top
}

func sitePrefixes(top *Topology) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range top.Sites() {
		ps = append(ps, s.Agents())
	}
	return ps
}

// leftovers lists what of run is still there: named namespaces, links,
// nftables tables of the poller's namespace, the state file, routes to the
// given agent prefixes (any protocol), and qdiscs on links of ours.
func leftovers(t *testing.T, run string, prefixes []netip.Prefix) []string {
	t.Helper()
	pre := run + "-"
	out, err := Leftovers(pre)
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(StateDir, run+".json")); err == nil {
		out = append(out, "state file "+run+".json")
	}
	// Under the state lock, so that no other run claims addresses now: a
	// prefix this run gave back may already be another live run's (make
	// test runs beside other make tests), and its routes are not ours.
	unlock, err := lockState()
	require.NoError(t, err)
	defer unlock()
	var others []netip.Prefix
	for _, st := range readStates() {
		if st.Run != run {
			for _, s := range st.Sites {
				others = append(others, s.Agents)
			}
		}
	}
	routes, err := dumpRetry(func() ([]netlink.Route, error) {
		return netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	})
	require.NoError(t, err)
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		if d := ipnetPrefix(r.Dst); slices.ContainsFunc(others, d.Overlaps) {
			continue
		}
		for _, p := range prefixes {
			if d := ipnetPrefix(r.Dst); d.Bits() >= p.Bits() && p.Contains(d.Addr()) {
				out = append(out, "route "+r.String())
			}
		}
	}
	// Read-only cross-checks with iproute2, where it is installed.
	if ip, err := exec.LookPath("ip"); err == nil {
		for _, args := range [][]string{{"netns", "list"}, {"-o", "link", "show"}} {
			b, err := exec.Command(ip, args...).CombinedOutput()
			require.NoError(t, err, "ip %v: %s", args, b)
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, pre) {
					out = append(out, "ip "+strings.Join(args, " ")+": "+strings.TrimSpace(line))
				}
			}
		}
	}
	return out
}

func requireGone(t *testing.T, run string, prefixes []netip.Prefix) {
	t.Helper()
	require.Empty(t, leftovers(t, run, prefixes), "run %s left these behind", run)
}

// testStore is a small store: part of the system group and a 3-row table.
func testStore(t testing.TB) *mib.Store {
	t.Helper()
	b := mib.NewBuilder("test")
	add := func(oid string, v mib.Value) { b.Add(mib.MustParseOID(oid), v, "") }
	add("1.3.6.1.2.1.1.1.0", mib.String("netns test agent"))
	add("1.3.6.1.2.1.1.3.0", mib.Uptime())
	add("1.3.6.1.2.1.1.5.0", mib.String("agent"))
	for i, n := range []string{"1", "2", "3"} {
		add("1.3.6.1.2.1.2.2.1.2."+n, mib.String("eth"+n))
		add("1.3.6.1.2.1.2.2.1.10."+n, mib.Counter32(uint32(1000*(i+1))))
	}
	s, err := b.Build()
	require.NoError(t, err)
	return s
}

// startFleet starts n agents in site s, closed at cleanup (before the
// topology, cleanups running last-in first-out).
func startFleet(t *testing.T, s *Site, n int, store *mib.Store) *simagent.Fleet {
	t.Helper()
	if store == nil {
		store = testStore(t)
	}
	var f *simagent.Fleet
	err := s.Do(func() error {
		var err error
		f, err = simagent.Start(t.Context(), simagent.Config{Agents: n, Listen: s.Listen(agentPort), Store: store, Seed: 1})
		return err
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	return f
}

// snmpClient is a connected gosnmp v2c client for a.
func snmpClient(a netip.AddrPort, timeout time.Duration, retries int) (*gosnmp.GoSNMP, error) {
	g := &gosnmp.GoSNMP{
		Target:         a.Addr().String(),
		Port:           a.Port(),
		Community:      "public",
		Version:        gosnmp.Version2c,
		Timeout:        timeout,
		Retries:        retries,
		MaxOids:        gosnmp.MaxOids,
		MaxRepetitions: 20,
	}
	if err := g.Connect(); err != nil {
		return nil, err
	}
	return g, nil
}

const sysDescr = "1.3.6.1.2.1.1.1.0"

// get asks agent a for sysDescr once.
func get(a netip.AddrPort, timeout time.Duration) error {
	g, err := snmpClient(a, timeout, 0)
	if err != nil {
		return err
	}
	defer g.Conn.Close()
	p, err := g.Get([]string{sysDescr})
	if err != nil {
		return err
	}
	if len(p.Variables) != 1 || p.Variables[0].Type != gosnmp.OctetString {
		return errors.New("unexpected reply")
	}
	return nil
}

// getAll asks each address once with workers in parallel and returns how
// many failed.
func getAll(addrs []netip.AddrPort, workers int, timeout time.Duration) (failed int) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	next := make(chan netip.AddrPort)
	for range workers {
		wg.Go(func() {
			for a := range next {
				if get(a, timeout) != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	for _, a := range addrs {
		next <- a
	}
	close(next)
	wg.Wait()
	return failed
}

func agentAddrs(f *simagent.Fleet, idx ...int) []netip.AddrPort {
	out := make([]netip.AddrPort, len(idx))
	for i, k := range idx {
		out[i] = f.Addr(k)
	}
	return out
}
