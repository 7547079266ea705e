package scenarios

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// SNMP versions a load can use (Load.Version).
const (
	SNMPv1  SNMPVersion = "1"
	SNMPv2c SNMPVersion = "2c"
	SNMPv3  SNMPVersion = "3"
)

// SNMPVersion is the protocol version of a load: "1", "2c" or "3". In a
// file it may be written as a number (1, 3) or a string ("2c", "v3").
type SNMPVersion string

// UnmarshalJSON reads 1, 2, 3, "1", "2c", "v2c", "3", "v3", ...
func (v *SNMPVersion) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want 1, 2c or 3, got %s", b)
		}
		s = n.String()
	}
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "v") {
	case "1":
		*v = SNMPv1
	case "2", "2c":
		*v = SNMPv2c
	case "3":
		*v = SNMPv3
	default:
		return fmt.Errorf("want 1, 2c or 3, got %q", s)
	}
	return nil
}

// V3User is a fleet's SNMPv3 USM user, written in a file as
// "NAME:AUTHPROTO:AUTHPASS:PRIVPROTO:PRIVPASS" (authPriv),
// "NAME:AUTHPROTO:AUTHPASS" (authNoPriv) or "NAME" (noAuthNoPriv), as
// usm.ParseUser reads it. Its passphrases never print: it marshals as
// "NAME:AUTHPROTO:<redacted>:PRIVPROTO:<redacted>", and parse errors do
// not show them.
type V3User struct {
	usm.User
}

// UnmarshalJSON parses the user string.
func (u *V3User) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a user string like NAME:SHA:AUTHPASS:AES:PRIVPASS")
	}
	if name, _, _ := strings.Cut(s, ":"); strings.ContainsAny(name, badNameChars) {
		// Most likely a wrong separator: the "name" holds the passphrases.
		return fmt.Errorf("%w: the name (field 1) has ',', ';', '/', '|', '=' or a space: fields are separated by ':'", usm.ErrBadUser)
	}
	p, err := usm.ParseUser(s)
	if err != nil {
		return redactUserError(s, err)
	}
	u.User = p
	return nil
}

// badNameChars are not taken in a user name here.
const badNameChars = ",; \t/|="

// redactUserError keeps passphrases out of a parse error: usm.ParseUser
// never shows one, but it quotes the name, and with a wrong separator
// ("ops,SHA,secret...") the name is the whole string.
func redactUserError(s string, err error) error {
	parts := strings.Split(s, ":")
	name := parts[0]
	if len(name) > 32 || strings.ContainsAny(name, badNameChars) {
		msg := strings.ReplaceAll(err.Error(), name, "<redacted>")
		return fmt.Errorf("%s (fields are separated by ':')", msg)
	}
	return err
}

// MarshalJSON writes the user with its passphrases redacted.
func (u V3User) MarshalJSON() ([]byte, error) {
	return json.Marshal(u.String())
}

// String is the user's name and protocols, passphrases redacted.
func (u V3User) String() string {
	switch u.Level() {
	case usm.NoAuthNoPriv:
		return u.Name
	case usm.AuthNoPriv:
		return u.Name + ":" + u.Auth.String() + ":" + u.AuthPass.String()
	}
	return u.Name + ":" + u.Auth.String() + ":" + u.AuthPass.String() + ":" + u.Priv.String() + ":" + u.PrivPass.String()
}

// Users are the fleet's v3 users as usm.Users (nil without any).
func (f *Fleet) Users() []usm.User {
	if len(f.V3Users) == 0 {
		return nil
	}
	out := make([]usm.User, len(f.V3Users))
	for i, u := range f.V3Users {
		out[i] = u.User
	}
	return out
}

// User is the fleet user a v3 load polls as (false unless Version is 3
// and User names one of the fleet's users).
func (s *Scenario) User() (usm.User, bool) {
	if s.Load.Version != SNMPv3 {
		return usm.User{}, false
	}
	for _, u := range s.Fleet.V3Users {
		if u.Name == s.Load.User {
			return u.User, true
		}
	}
	return usm.User{}, false
}

// v3Defaults checks the fleet's v3 users and the load's version and user:
// the version defaults to 2c; a v3 load names one of the fleet's users
// (the only one by default).
func (s *Scenario) v3Defaults() (string, string) {
	seen := map[string]bool{}
	for i, u := range s.Fleet.V3Users {
		if seen[u.Name] {
			return "fleet.v3Users[" + strconv.Itoa(i) + "]", fmt.Sprintf("user %q given twice", u.Name)
		}
		seen[u.Name] = true
	}
	l := &s.Load
	if l.Version == "" {
		l.Version = SNMPv2c
	}
	if l.Version != SNMPv3 {
		if l.User != "" || l.Context != "" {
			p := "load.user"
			if l.User == "" {
				p = "load.context"
			}
			return p, "only for version 3 (load.version is " + string(l.Version) + ")"
		}
		return "", ""
	}
	if len(s.Fleet.V3Users) == 0 {
		return "load.version", "version 3 needs fleet.v3Users (e.g. [\"NAME:SHA:AUTHPASS:AES:PRIVPASS\"])"
	}
	if l.User == "" {
		if len(s.Fleet.V3Users) > 1 {
			return "load.user", "required with several fleet.v3Users: name one of " + s.userNames()
		}
		l.User = s.Fleet.V3Users[0].Name
	}
	if !seen[l.User] {
		return "load.user", fmt.Sprintf("%q is not one of fleet.v3Users (%s)", l.User, s.userNames())
	}
	return "", ""
}

func (s *Scenario) userNames() string {
	var n []string
	for _, u := range s.Fleet.V3Users {
		n = append(n, u.Name)
	}
	return strings.Join(n, ", ")
}
