package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFleetHomes(t *testing.T) {
	with := func(fleet string) string {
		return strings.Replace(good, "fleet:\n  agents: 10\n", "fleet:\n  agents: 10\n"+fleet, 1)
	}
	s, err := Parse("t.yaml", []byte(with("  processes: 2\n")))
	require.NoError(t, err)
	assert.Equal(t, 2, s.Fleet.Processes)
	assert.False(t, s.Fleet.IsRemote())

	s, err = Parse("t.yaml", []byte(with("  remote: [http://192.0.2.5:8161, https://agents.example:8443]\n")))
	require.NoError(t, err)
	assert.True(t, s.Fleet.IsRemote())
	assert.Equal(t, []string{"http://192.0.2.5:8161", "https://agents.example:8443"}, s.Fleet.Remote)

	for _, tc := range []struct{ name, fleet, want string }{
		{"too many processes", "  processes: 11\n", "fleet.processes: 11 processes for 10 agents"},
		{"negative processes", "  processes: -1\n", "fleet.processes: must be in [0, 64]"},
		{"both", "  processes: 2\n  remote: [http://127.0.0.1:1]\n", "fleet.remote: give fleet.remote"},
		{"not a URL", "  remote: [127.0.0.1:8161]\n", "fleet.remote[0]:"},
		{"query", "  remote: [\"http://h:1/?token=x\"]\n", "fleet.remote[0]:"},
		{"twice", "  remote: [http://h:1, http://h:1]\n", "fleet.remote[1]: http://h:1 given twice"},
	} {
		_, err := Parse("t.yaml", []byte(with(tc.fleet)))
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
}
