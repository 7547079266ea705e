package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFleetKinds(t *testing.T) {
	withKinds := func(kinds string) string {
		return strings.Replace(good, "  agents: 10\n", "  agents: 10\n  kinds:\n"+kinds, 1)
	}
	s, err := Parse("t.yaml", []byte(withKinds("    - {profile: if-mib:4, count: 4}\n    - {profile: system}\n")))
	require.NoError(t, err)
	require.Len(t, s.Fleet.Kinds, 2)
	assert.Equal(t, "", s.Fleet.Profile, "no default profile beside kinds")
	assert.Equal(t, 0.4, s.Fleet.Kinds[0].Part())
	assert.Equal(t, "system", s.Fleet.Kinds[1].KindName())
	for _, tc := range []struct{ kinds, want string }{
		{"    - {profile: if-mib:4, count: 11}\n", "t.yaml:5: fleet.kinds: the kinds take 11 agents, fleet.agents is 10"},
		{"    - {profile: if-mib:4, count: 4}\n", "the kinds take 4 agents"},
		{"    - {profile: system, count: 2}\n    - {profile: system}\n", `fleet.kinds[1].name: "system" is fleet.kinds[0]'s name too`},
		{"    - {count: 10}\n", "fleet.kinds[0]: set profile or data"},
		{"    - {profile: system, data: x.snmprec}\n", "fleet.kinds[0].data: set profile or data, not both"},
		{"    - {profile: system, count: 5, share: 0.5}\n", "fleet.kinds[0].share: set count or share, not both"},
		{"    - {profile: nosuch:1}\n", "fleet.kinds[0].data"},
		{"    - {profile: system, colour: red}\n", "colour"},
	} {
		_, err := Parse("t.yaml", []byte(withKinds(tc.kinds)))
		require.Error(t, err, tc.kinds)
		assert.Contains(t, err.Error(), tc.want, tc.kinds)
	}
	_, err = Parse("t.yaml", []byte(strings.Replace(withKinds("    - {profile: system}\n"), "  agents: 10\n", "  agents: 10\n  profile: system\n", 1)))
	require.ErrorContains(t, err, "set kinds, or profile or data, not both")
}
