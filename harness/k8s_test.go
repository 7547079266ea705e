package harness

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/k8sapi"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// k8sMode is a small k8s-mode scenario: two sites, a kernel fault in the
// second phase.
const k8sMode = `version: 1
name: k8s-mode
mode: k8s
fleet:
  sites: [{agents: 2}, {agents: 2}]
  profile: if-mib:2
load:
  interval: 500ms
  ops: [{kind: get, oids: [.1.3.6.1.2.1.1.3.0]}]
phases:
  - {name: calm, duration: 1s}
  - name: faults
    duration: 1s
    kernel: [{site: 1, drop: {prob: 0.05}}]
`

// A k8s-mode scenario run without WithK8s is refused before anything
// starts, with an error that names the scenario's mode and says what
// provides k8s mode.
func TestK8sModeNeedsAProvider(t *testing.T) {
	sc := scenario(t, 0, k8sMode)
	for name, opts := range map[string][]Option{"none": nil, "nil": {WithK8s(nil)}} {
		t.Run(name, func(t *testing.T) {
			p, err := NewPoller("pollerlib", SettingsFor(sc))
			require.NoError(t, err)
			rep, err := Run(t.Context(), sc, p, opts...)
			assert.Nil(t, rep)
			require.ErrorIs(t, err, ErrBadInput)
			for _, want := range []string{"scenario k8s-mode", "mode: k8s", "harness.WithK8s(k8smode.Cluster{", "github.com/snmpchaos/snmpchaos/k8s/k8smode", "snmpchaos run --mode k8s"} {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

// failingCluster is a k8s provider whose Start fails or hands back what
// the scenario does not have, and counts the Close calls the harness
// makes on what it handed back.
type failingCluster struct {
	err     error
	sites   *k8sapi.Sites
	closed  int
	noClose bool
	env     k8sapi.Env
}

func (f *failingCluster) Start(_ context.Context, sc *scenarios.Scenario, env k8sapi.Env) (*k8sapi.Sites, error) {
	f.env = env
	if f.err != nil {
		return nil, f.err
	}
	if !f.noClose {
		f.sites.Close = func() error { f.closed++; return nil }
	}
	return f.sites, nil
}

// What a provider reports is passed on: a scenario k8s mode cannot run
// (scenarios.ErrInvalid) is bad input, any other failure is the run's; a
// provider's answer that does not fit the scenario fails the run and is
// closed once.
func TestK8sModeProviderErrors(t *testing.T) {
	sc := scenario(t, 0, k8sMode)
	run := func(t *testing.T, f *failingCluster) error {
		t.Helper()
		p, err := NewPoller("pollerlib", SettingsFor(sc))
		require.NoError(t, err)
		rep, err := Run(t.Context(), sc, p, WithK8s(f), WithSeed(9))
		assert.Nil(t, rep)
		require.Error(t, err)
		assert.Equal(t, uint64(9), f.env.Seed, "the run's seed reaches the provider")
		assert.NotNil(t, f.env.Logger)
		assert.NotNil(t, f.env.OnLink)
		return err
	}
	t.Run("invalid", func(t *testing.T) {
		err := run(t, &failingCluster{err: fmt.Errorf("%w: pods: scenario k8s-mode: fleet.kinds: not in k8s mode yet", scenarios.ErrInvalid)})
		assert.ErrorIs(t, err, ErrBadInput)
		assert.ErrorContains(t, err, "fleet.kinds")
	})
	t.Run("cluster", func(t *testing.T) {
		cause := errors.New("pods: 0 of 2 site pods ready")
		err := run(t, &failingCluster{err: cause})
		assert.ErrorIs(t, err, cause)
		assert.NotErrorIs(t, err, ErrBadInput)
		assert.ErrorContains(t, err, "scenario k8s-mode")
	})
	t.Run("sites", func(t *testing.T) {
		f := &failingCluster{sites: &k8sapi.Sites{Sites: make([]k8sapi.Site, 1), Phases: make([][]k8sapi.Fault, 2)}}
		err := run(t, f)
		assert.ErrorContains(t, err, "started 1 sites with 2 phases' faults, want 2 and 2")
		assert.Equal(t, 1, f.closed)
	})
	t.Run("no close", func(t *testing.T) {
		err := run(t, &failingCluster{sites: &k8sapi.Sites{}, noClose: true})
		assert.ErrorContains(t, err, "the k8s provider *harness.failingCluster gave no sites or no Close")
	})
	t.Run("fault site", func(t *testing.T) {
		f := &failingCluster{sites: &k8sapi.Sites{Sites: make([]k8sapi.Site, 2), Phases: [][]k8sapi.Fault{nil, {{Desc: "site 7: drop 5%", Site: 7}}}}}
		err := run(t, f)
		assert.ErrorContains(t, err, `phases[1]: the k8s provider's fault "site 7: drop 5%" is on site 7, of 2`)
		assert.Equal(t, 1, f.closed)
	})
}
