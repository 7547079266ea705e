package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDataSpecs(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  dataSpec
		error string
	}{
		{in: "dev.snmprec", want: dataSpec{path: "dev.snmprec"}},
		{in: "if-mib:24=600", want: dataSpec{path: "if-mib:24", count: 600}},
		{in: "recs/=30%", want: dataSpec{path: "recs/", share: 0.3}},
		{in: "dev.snmprec=0", error: `count "0": want a whole number >= 1`},
		{in: "dev.snmprec=120%", error: "want a percentage in (0, 100]"},
		{in: "=5", error: "empty file name"},
	} {
		d, err := parseDataSpec(tc.in)
		if tc.error != "" {
			require.ErrorContains(t, err, tc.error, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, d, tc.in)
	}
}

func TestDataKindsFromFlags(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.snmprec", "sub/b.snmprec"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("1.3.6.1.2.1.1.5.0|4|"+f+"\n"), 0o600))
	}
	o, err := parseFlags([]string{"--data", "if-mib:4=6", "--data", dir + "=4", "--data", "system=2", "--listen", "127.19.1.1:0", "--identity"}, io.Discard, func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, 12, o.agents, "the counts make the fleet")
	assert.True(t, o.identity.On)
	store, kinds, err := loadData(o)
	require.NoError(t, err)
	assert.Nil(t, store)
	require.Len(t, kinds, 4)
	names := []string{}
	counts := 0
	for _, k := range kinds {
		names = append(names, k.Name)
		counts += k.Count
	}
	assert.Equal(t, []string{"if-mib:4", "a", "sub/b", "system"}, names)
	assert.Equal(t, 12, counts)
	_, err = parseFlags([]string{"--max-bulk", "0"}, io.Discard, func(string) string { return "" })
	require.ErrorContains(t, err, "--max-bulk 0")
}
