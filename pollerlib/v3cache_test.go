package pollerlib

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// Issue 15 (a sibling of finding 4): engine IDs come from the agents, and
// an agent that reports a new one each time must not grow the key cache
// without bound.
func TestV3KeyCacheBounded(t *testing.T) {
	c := &v3Cache{max: 16}
	u := usm.User{Name: "ops", Auth: usm.SHA, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"}
	first := c.localized(u, []byte("engine-0"))
	require.NotNil(t, first)
	assert.Same(t, first, c.localized(u, []byte("engine-0")), "cached")
	for i := range 100 {
		k := c.localized(u, fmt.Appendf(nil, "engine-%d", i))
		require.NotNil(t, k)
		assert.LessOrEqual(t, len(c.keys), 16)
	}
	assert.Len(t, c.keys, 16)
	again := c.localized(u, []byte("engine-0"))
	assert.Equal(t, first.EngineID, again.EngineID, "an evicted key is localised again")
	assert.Len(t, c.keys, 16)
}
