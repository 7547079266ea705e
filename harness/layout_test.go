package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/snmpchaos/snmpchaos/harness/invariant"
)

// harness/poller names the invariants its negative controls break without
// importing the checks: every name must be a registered invariant, and
// each invariant a poller can break on its own has a control.
func TestPollerKindsBreakRegisteredInvariants(t *testing.T) {
	registered := map[string]bool{}
	for _, inv := range invariant.All() {
		registered[inv.Name] = true
	}
	broken := map[string]bool{}
	for _, k := range PollerKinds() {
		for _, name := range k.Breaks {
			assert.True(t, registered[name], "%s breaks %q, which is no registered invariant", k.Name, name)
			broken[name] = true
		}
	}
	for _, name := range []string{InvConnectionsClosed, InvGoroutinesBounded, InvFDsStable, InvPollsAccounted, InvWalksComplete} {
		assert.True(t, broken[name], "no negative control breaks %s", name)
	}
}
