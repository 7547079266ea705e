package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// usersEnv is the environment variable with more SNMPv3 users,
// whitespace-separated, each written as --v3-user takes it: unlike
// --v3-user, it does not show in ps.
const usersEnv = "SIMAGENT_V3_USERS"

// v3UserFlags collects repeated --v3-user values as given; parseUsers
// reads them after the flag package is done, so that no error message
// (the flag package quotes bad values) can show a passphrase.
type v3UserFlags []string

// String names the users only.
func (u *v3UserFlags) String() string {
	var names []string
	for _, x := range *u {
		n, _, _ := strings.Cut(x, ":")
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

// Set records one --v3-user value.
func (u *v3UserFlags) Set(s string) error {
	*u = append(*u, s)
	return nil
}

// maxUsersFile bounds the --v3-users-file read.
const maxUsersFile = 1 << 20

// userSource is one user as given, and where, for errors that never
// show the value.
type userSource struct {
	where string
	text  string
}

// parseUsers reads the --v3-user values.
func parseUsers(raw []string) ([]usm.User, error) {
	var src []userSource
	for i, s := range raw {
		src = append(src, userSource{fmt.Sprintf("--v3-user #%d", i+1), s})
	}
	return parseUserSources(src)
}

// loadUsers reads the users of --v3-user, --v3-users-file and $usersEnv,
// in that order; a name may be given once in all. No error shows a
// passphrase (usm.ParseUser never quotes one; a line is named by number).
func loadUsers(raw []string, file string, getenv func(string) string) ([]usm.User, error) {
	var src []userSource
	for i, s := range raw {
		src = append(src, userSource{fmt.Sprintf("--v3-user #%d", i+1), s})
	}
	if file != "" {
		lines, err := readUsersFile(file)
		if err != nil {
			return nil, err
		}
		src = append(src, lines...)
	}
	if env := getenv(usersEnv); env != "" {
		for i, f := range strings.Fields(env) {
			src = append(src, userSource{fmt.Sprintf("$%s entry %d", usersEnv, i+1), f})
		}
	}
	return parseUserSources(src)
}

// readUsersFile reads one user a line; blank lines and lines starting
// with # are skipped.
func readUsersFile(name string) ([]userSource, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("--v3-users-file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUsersFile+1))
	if err != nil {
		return nil, fmt.Errorf("--v3-users-file %s: %w", name, err)
	}
	if len(b) > maxUsersFile {
		return nil, fmt.Errorf("--v3-users-file %s: larger than %d bytes", name, maxUsersFile)
	}
	var out []userSource
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxUsersFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, userSource{fmt.Sprintf("--v3-users-file %s:%d", name, n), line})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--v3-users-file %s: no users", name)
	}
	return out, nil
}

func parseUserSources(src []userSource) ([]usm.User, error) {
	var users []usm.User
	seen := map[string]bool{}
	for _, s := range src {
		u, err := usm.ParseUser(s.text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.where, redact(err, s.text))
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("%s: user %q given twice", s.where, u.Name)
		}
		seen[u.Name] = true
		users = append(users, u)
	}
	return users, nil
}

// redact removes from err any field of text but its first (the name) and
// protocols: usm.ParseUser quotes the name, which with a wrong separator
// ("ops,SHA,secret") is the whole string.
func redact(err error, text string) error {
	msg := err.Error()
	name, _, _ := strings.Cut(text, ":")
	if len(name) > 32 || strings.ContainsAny(name, ",; \t/|=") {
		msg = strings.ReplaceAll(msg, name, "<redacted>")
	}
	for i, f := range strings.Split(text, ":") {
		if (i == 2 || i == 4) && len(f) >= 3 {
			msg = strings.ReplaceAll(msg, f, "<redacted>")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error whose text had a passphrase taken out; it
// still unwraps to the original for errors.Is.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// v3UserHelp documents --v3-user for --help.
const v3UserHelp = `SNMPv3 users (--v3-user, repeatable; every agent knows every user):
  NAME                                     noAuthNoPriv
  NAME:AUTHPROTO:AUTHPASS                  authNoPriv
  NAME:AUTHPROTO:AUTHPASS:PRIVPROTO:PRIVPASS  authPriv
  AUTHPROTO: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512
  PRIVPROTO: DES, AES, AES-192, AES-256 (Blumenthal key extension, as
             net-snmp), AES-192-C, AES-256-C (Reeder, as Cisco)
  Passphrases: at least 8 characters, no ':'. Each agent has its own engine
  ID (stable for a --seed), engineBoots 1 (+1 on restart and engine-reboot)
  and engineTime from its start; any contextName serves the same data.
  Example: --v3-user ops:SHA-256:authpass1:AES:privpass1
  $SIMAGENT_V3_USERS adds users written the same way, separated by
  whitespace: passphrases there stay off the command line.`
