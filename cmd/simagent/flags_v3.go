package main

import (
	"fmt"
	"strings"

	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// usersEnv is the environment variable with more SNMPv3 users,
// whitespace-separated, each written as --v3-user takes it.
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

// parseUsers reads the --v3-user values.
func parseUsers(raw []string) ([]usm.User, error) {
	var users []usm.User
	seen := map[string]bool{}
	for i, s := range raw {
		u, err := usm.ParseUser(s)
		if err != nil {
			return nil, fmt.Errorf("--v3-user #%d: %w", i+1, err)
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("--v3-user #%d: user %q given twice", i+1, u.Name)
		}
		seen[u.Name] = true
		users = append(users, u)
	}
	return users, nil
}

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
