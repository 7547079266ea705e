package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A mixed fleet from fleet.kinds: three device kinds of different sizes,
// walked with pollerlib; walks-complete compares each agent's walk with its
// own kind's data, so every invariant holds.
const mixedKinds = `version: 1
name: mixed-kinds
fleet:
  agents: 30
  listen: LISTEN
  kinds:
    - {profile: if-mib:8, share: 0.5}
    - {profile: system, count: 9, name: server}
    - {profile: if-mib:2, name: small}
poller:
  timeout: 1s
  retries: 2
load:
  interval: 500ms
  concurrency: 16
  jitter: 1
  ops:
    - {kind: bulkwalk, weight: 2, root: .1.3.6.1.2.1}
    - {kind: walk, weight: 1, root: .1.3.6.1.2.1.1}
phases:
  - name: calm
    duration: 2s
    expect: {minSuccess: 0.95}
`

func TestRunMixedKindsPasses(t *testing.T) {
	sc := scenario(t, 186, mixedKinds)
	assert.Equal(t, 0.3, sc.Fleet.Kinds[1].Part(), "a count is a share of fleet.agents, so the short profile keeps the mix")
	rep := runPoller(t, sc, "pollerlib")
	assert.True(t, rep.Pass, "pollerlib passes every invariant on a mixed fleet")
	assert.True(t, invariantOf(t, rep, InvWalksComplete).Pass)
}
