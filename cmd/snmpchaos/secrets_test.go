package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Issue 15, finding 3: no v3 passphrase appears in any output, log,
// report or error. Every bundled scenario is validated and listed, and the
// bundled v3 scenario runs its short profile with debug logs; its
// passphrases are then looked for in stdout, stderr and every report file.
func TestFinding3NoPassphraseInAnyOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a scenario's short profile (14s)")
	}
	var secrets []string
	var v3 []string
	for _, name := range scenarios.Names() {
		sc, err := scenarios.Bundled(name)
		require.NoError(t, err)
		for _, u := range sc.Fleet.Users() {
			for _, p := range []string{string(u.AuthPass), string(u.PrivPass)} {
				if p != "" {
					secrets = append(secrets, p)
				}
			}
		}
		if len(sc.Fleet.V3Users) > 0 {
			v3 = append(v3, name)
		}
	}
	require.NotEmpty(t, secrets, "a bundled scenario has v3 users")
	noSecret := func(what, s string) {
		t.Helper()
		for _, p := range secrets {
			assert.NotContains(t, s, p, "%s shows a passphrase", what)
		}
	}

	code, stdout, stderr := runCLI(t, t.Context(), append([]string{"validate"}, scenarios.Names()...)...)
	require.Equal(t, exitOK, code, stderr)
	noSecret("validate", stdout+stderr)
	code, stdout, stderr = runCLI(t, t.Context(), "list")
	require.Equal(t, exitOK, code, stderr)
	noSecret("list", stdout+stderr)

	for _, name := range v3 {
		out := t.TempDir()
		code, stdout, stderr := runCLI(t, t.Context(), "run", name, "--short", "--out", out, "--progress", "lines", "--log-level", "debug")
		assert.Contains(t, []int{exitOK, exitFail}, code, "the run was carried out; stderr: %s", stderr)
		noSecret(name+" stdout", stdout)
		noSecret(name+" stderr", stderr)
		n := 0
		require.NoError(t, filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n++
			noSecret(name+" report "+filepath.Base(p), string(b))
			return nil
		}))
		assert.GreaterOrEqual(t, n, 4, "report.txt, report.json, report.html, junit.xml")
	}

	// A scenario file whose users are mistyped: the errors name the field.
	dir := t.TempDir()
	for what, users := range map[string]string{
		"a string instead of a list": `"ops:SHA:Zq7AuthSecretX1:AES:Zq7PrivSecretX2"`,
		"a wrong separator":          `["ops,SHA,Zq7AuthSecretX1,AES,Zq7PrivSecretX2"]`,
		"a short passphrase":         `["ops:SHA:Zq7:AES:Zq7PrivSecretX2"]`,
		"an unknown protocol":        `["ops:SHAX:Zq7AuthSecretX1:AES:Zq7PrivSecretX2"]`,
	} {
		f := filepath.Join(dir, "v3.yaml")
		src := "version: 1\nname: t\nfleet:\n  agents: 2\n  listen: 127.16.203.50:0\n  v3Users: " + users +
			"\nload:\n  interval: 1s\n  ops:\n    - kind: get\n      oids: [.1.3.6.1.2.1.1.3.0]\nphases:\n  - duration: 1s\n"
		require.NoError(t, os.WriteFile(f, []byte(src), 0o644))
		for _, cmd := range []string{"validate", "run"} {
			code, stdout, stderr := runCLI(t, t.Context(), cmd, f)
			assert.Equal(t, exitUsage, code, "%s %s", cmd, what)
			assert.Contains(t, stderr, "v3.yaml:6: fleet.v3Users", "%s %s", cmd, what)
			for _, s := range []string{"Zq7AuthSecretX1", "Zq7PrivSecretX2", ":Zq7:"} {
				assert.NotContains(t, stdout+stderr, s, "%s %s", cmd, what)
			}
			assert.False(t, strings.Contains(stderr, "Zq7"), "%s %s: %s", cmd, what, stderr)
		}
	}
}
