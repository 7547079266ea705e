package mib

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// valueAt returns the value the store holds at oid, failing if none.
func valueAt(t *testing.T, s *Store, oid string) *Value {
	t.Helper()
	i := s.Get(MustParseOID(oid))
	require.GreaterOrEqual(t, i, 0, "no %s in %s", oid, s.Name())
	_, v := s.At(i)
	return v
}

// requireValues checks that s holds exactly want (OID -> value).
func requireValues(t *testing.T, s *Store, want map[string]Value) {
	t.Helper()
	require.Equal(t, len(want), s.Len(), "entries in %s", s.Name())
	for oid, w := range want {
		got := valueAt(t, s, oid)
		require.Equal(t, w.Tag, got.Tag, "tag of %s", oid)
		if w.Dyn != nil {
			require.NotNil(t, got.Dyn, "%s should be dynamic", oid)
			require.Equal(t, *w.Dyn, *got.Dyn, "dynamic %s", oid)
			continue
		}
		require.Nil(t, got.Dyn, "%s should be static", oid)
		require.Equal(t, string(w.Content), string(got.Content), "content of %s", oid)
	}
}

// requireErr checks err against a wanted message part.
func requireErr(t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), want), "error %q should contain %q", err, want)
}
