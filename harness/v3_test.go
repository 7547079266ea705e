package harness

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// v3mixed is a small v3 authPriv run with an engine reboot and a clock
// step past the time window, gets and walks. Phases with expectations last
// 3s: with 1s, a loaded machine under -race could finish no poll inside one.
// The load is light for its bounds (20 polls a second, 64 in flight
// allowed) and each poll has 3s: a loaded machine under -race slows polls
// down, and neither the open-loop load nor the deadline must turn that
// into failures; the verdict is about v3, not speed.
const v3mixed = `version: 1
name: v3mixed
fleet:
  agents: 20
  listen: LISTEN
  v3Users: ["ops:SHA:authpass1:AES:privpass1", "mon:SHA-256:authpass2"]
poller:
  timeout: 1s
load:
  interval: 1s
  deadline: 10s
  concurrency: 64
  version: 3
  user: ops
  ops:
    - {kind: get, weight: 2, oids: [.1.3.6.1.2.1.1.3.0, .1.3.6.1.2.1.2.2.1.10.1]}
    - {kind: bulkwalk, root: .1.3.6.1.2.1.2.2.1.10}
    - {kind: walk, root: .1.3.6.1.2.1.1}
phases:
  - {name: warmup, duration: 2s}
  - {name: steady, duration: 3s, expect: {minSuccess: 0.95}}
  # A poll counts in the phase it started in: without this buffer the
  # steady phase's last polls would meet the reboots and clock steps.
  - {name: buffer, duration: 1s}
  - name: reboot
    duration: 1s
    faults:
      - selector: {range: {from: 0, to: 9}}
        faults: {engineReboot: {}}
      - selector: {range: {from: 10, to: 19}}
        faults: {timeDrift: {offset: 10m}}
  - {name: after, duration: 3s, expect: {minSuccess: 0.95, recovery: true}}
invariants:
  # Not a test of cancellation: a loaded machine under -race can hold a
  # v3 poll past its deadline for a second.
  maxCancelLatency: 5s
`

func TestRunV3Passes(t *testing.T) {
	sc := scenario(t, 160, v3mixed)
	rep := runPoller(t, sc, "pollerlib")
	assert.True(t, rep.Pass, "every invariant holds for pollerlib over v3")
	assert.Positive(t, rep.Polls.WalksChecked, "v3 walks are checked against the agents' data")
}

// gosnmp derives v3 keys (a megabyte of hashing per passphrase and
// engine, AES key extension included) under a process-wide lock, without
// looking at the context: under -race on a loaded machine its first polls
// queue behind each other for seconds, AES's key extension once per
// engine. So it polls as the authNoPriv user (one key derivation in all),
// and only the verdicts that do not depend on speed are asserted for it:
// its v3 walks are whole, every poll is accounted for and it leaves no
// socket behind (given time to drain).
func TestRunV3GosnmpIsCorrect(t *testing.T) {
	sc := scenario(t, 161, strings.Replace(v3mixed, "  user: ops\n", "  user: mon\n", 1))
	rep := runPoller(t, sc, "gosnmp", WithDrainTimeout(time.Minute))
	for _, name := range []string{invariant.WalksComplete, invariant.PollsAccounted, invariant.ConnectionsClosed} {
		assert.True(t, invariantOf(t, rep, name).Pass, "%s holds for gosnmp over v3", name)
	}
	assert.Positive(t, rep.Polls.WalksChecked, "v3 walks are checked against the agents' data")
}

func TestTargetsCarryTheLoadsProtocol(t *testing.T) {
	sc := scenario(t, 162, v3mixed)
	tg := withProtocol(Target{Addr: netip.MustParseAddrPort("127.162.0.1:161"), Community: "public"}, sc)
	assert.Equal(t, VersionV3, tg.Version)
	assert.Equal(t, "ops", tg.User.Name)
	assert.Equal(t, usm.AuthPriv, tg.User.Level())

	b, err := json.Marshal(tg)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "authpass1")
	assert.NotContains(t, fmt.Sprintf("%+v %#v", tg, tg), "privpass1")

	v2 := scenario(t, 163, strings.Replace(strings.Replace(v3mixed, "version: 3", "version: 2c", 1), "  user: ops\n", "", 1))
	assert.Equal(t, VersionV2c, withProtocol(Target{}, v2).Version)
}
