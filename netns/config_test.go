//go:build linux

package netns

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests need no root.

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		want    Config
		wantErr string
	}{
		{name: "zero", cfg: Config{}, want: Config{Sites: 1, Family: "sc", Pool: BenchmarkRange, SiteBits: 20, MTU: 1500}},
		{name: "pool /16 sites /24", cfg: Config{Sites: 3, Pool: netip.MustParsePrefix("198.19.0.0/16"), SiteBits: 24}, want: Config{Sites: 3, Family: "sc", Pool: netip.MustParsePrefix("198.19.0.0/16"), SiteBits: 24, MTU: 1500}},
		{name: "too many sites", cfg: Config{Sites: 65}, wantErr: "sites 65"},
		{name: "bad family", cfg: Config{Family: "Snmp"}, wantErr: "family"},
		{name: "pool outside 198.18/15", cfg: Config{Pool: netip.MustParsePrefix("203.0.113.0/24")}, wantErr: "pool"},
		{name: "pool too small", cfg: Config{Pool: netip.MustParsePrefix("198.18.0.0/24"), SiteBits: 28}, wantErr: "pool"},
		{name: "site bits not longer than pool", cfg: Config{Pool: netip.MustParsePrefix("198.18.0.0/16"), SiteBits: 16}, wantErr: "site bits"},
		{name: "site bits too long", cfg: Config{SiteBits: 30}, wantErr: "site bits"},
		{name: "mtu", cfg: Config{MTU: 100}, wantErr: "MTU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			err := c.defaults()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			c.Logger = nil
			assert.Equal(t, tt.want, c)
		})
	}
}

func TestAllocate(t *testing.T) {
	pool := BenchmarkRange
	plans, err := allocate(pool, 20, 3, nil)
	require.NoError(t, err)
	want := []plan{
		{agents: netip.MustParsePrefix("198.18.0.0/20"), link: netip.MustParsePrefix("198.19.255.0/30")},
		{agents: netip.MustParsePrefix("198.18.16.0/20"), link: netip.MustParsePrefix("198.19.255.4/30")},
		{agents: netip.MustParsePrefix("198.18.32.0/20"), link: netip.MustParsePrefix("198.19.255.8/30")},
	}
	assert.Equal(t, want, plans)
	assert.Equal(t, netip.MustParseAddr("198.19.255.1"), plans[0].pollerAddr())
	assert.Equal(t, netip.MustParseAddr("198.19.255.2"), plans[0].siteAddr())

	// Taken prefixes (live runs, routes of the host) are skipped.
	taken := []netip.Prefix{netip.MustParsePrefix("198.18.0.0/20"), netip.MustParsePrefix("198.19.255.0/30"), netip.MustParsePrefix("198.18.20.0/24")}
	plans, err = allocate(pool, 20, 1, taken)
	require.NoError(t, err)
	assert.Equal(t, []plan{{agents: netip.MustParsePrefix("198.18.32.0/20"), link: netip.MustParsePrefix("198.19.255.4/30")}}, plans)

	// The last /20 holds the link nets: 31 agent prefixes in a /15.
	agents, links := candidates(pool, 20)
	assert.Len(t, agents, 31)
	assert.Len(t, links, MaxSites)
	for _, a := range agents {
		assert.False(t, a.Overlaps(linkNets(pool)), a.String())
	}
	_, err = allocate(pool, 20, 32, nil)
	require.ErrorIs(t, err, ErrNoAddresses)
}

func TestNames(t *testing.T) {
	run := runName("abc", 4194304, 36*36-1)
	assert.Equal(t, "abc-2hwcg-zz", run)
	site := siteName(run, MaxSites-1)
	assert.LessOrEqual(t, len(site), 15, "fits an interface name")
	for _, n := range []string{run, site} {
		p, ok := parseName(n)
		require.True(t, ok, n)
		assert.Equal(t, parsedName{family: "abc", run: run, pid: 4194304}, p)
	}
	for _, n := range []string{"eth0", "lo", "sc", "sc-", "sc-0-0", "sc-1-1-1-1", "SC-1-1", "sc-1-1-100", "abcd-1-1"} {
		_, ok := parseName(n)
		assert.False(t, ok, n)
	}
}

func TestSpecsValidate(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"drop 5%", DropSpec{Prob: 0.05}.Validate(), false},
		{"drop 0", DropSpec{}.Validate(), true},
		{"drop 150%", DropSpec{Prob: 1.5}.Validate(), true},
		{"drop bad direction", DropSpec{Prob: 0.1, Dir: 8}.Validate(), true},
		{"bandwidth 1Mbit", BandwidthSpec{Rate: 1e6}.Validate(), false},
		{"bandwidth too low", BandwidthSpec{Rate: 100}.Validate(), true},
		{"flap", FlapSpec{Down: time.Second, Up: time.Second}.Validate(), false},
		{"flap too fast", FlapSpec{Down: time.Millisecond, Up: time.Second}.Validate(), true},
		{"netem", NetemSpec{Delay: 10 * time.Millisecond, Loss: 0.01}.Validate(), false},
		{"netem bad loss", NetemSpec{Loss: 2}.Validate(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr {
				assert.Error(t, tt.err)
			} else {
				assert.NoError(t, tt.err)
			}
		})
	}
}

func TestFormatRate(t *testing.T) {
	for in, want := range map[uint64]string{256000: "256kbit", 1e6: "1Mbit", 1_500_000: "1.5Mbit", 1e9: "1Gbit", 999: "999bit"} {
		assert.Equal(t, want, formatRate(in))
	}
}

func TestProcStat(t *testing.T) {
	state, start, ok := procStat(1)
	if !ok {
		t.Skip("no /proc/1/stat")
	}
	assert.NotZero(t, state)
	assert.True(t, alive(1, start))
	assert.False(t, alive(1, start+1), "another process with a reused PID")
	assert.False(t, alive(0, 0))
}
