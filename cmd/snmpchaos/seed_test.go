package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestRunSeed(t *testing.T) {
	sc := &scenarios.Scenario{}
	assert.Equal(t, uint64(7), runSeed(&runOptions{seed: 7, seeded: true}, &scenarios.Scenario{Seed: 9}), "--seed wins")
	assert.Equal(t, uint64(9), runSeed(&runOptions{}, &scenarios.Scenario{Seed: 9}), "then the scenario's")
	a, b := runSeed(&runOptions{}, sc), runSeed(&runOptions{}, sc)
	assert.NotZero(t, a, "else one chosen here")
	assert.NotEqual(t, a, b)
}

// Without --seed or a scenario seed, the seed chosen is printed and is
// the report's (the fleet's and the load's) seed.
func TestRunChoosesAndPrintsTheSeed(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny")
	code, stdout, stderr := runCLI(t, t.Context(), "run", "testdata/tiny.yaml", "--out", out, "--progress", "off")
	require.Equal(t, exitOK, code, stdout+stderr)
	m := regexp.MustCompile(`seed (\d+) \(replay with --seed (\d+)\)`).FindStringSubmatch(stderr)
	require.NotNil(t, m, stderr)
	seed, err := strconv.ParseUint(m[1], 10, 64)
	require.NoError(t, err)
	assert.NotZero(t, seed)
	assert.Contains(t, stdout, "seed      "+m[1])
	assert.Equal(t, seed, requireReports(t, out).Seed)
}
