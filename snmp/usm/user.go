package usm

import (
	"errors"
	"fmt"
	"strings"
)

// Secret is a passphrase. It never prints: every fmt verb, String and
// MarshalText show "<redacted>".
type Secret string

const redacted = "<redacted>"

// String hides the secret.
func (Secret) String() string { return redacted }

// GoString hides the secret.
func (Secret) GoString() string { return redacted }

// Format hides the secret for every verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalText hides the secret in JSON, YAML and logs.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// AuthProtocol is a USM authentication protocol.
type AuthProtocol uint8

// Authentication protocols: HMAC-MD5-96 and HMAC-SHA-96 (RFC 3414), and
// HMAC-SHA-2 (RFC 7860).
const (
	NoAuth AuthProtocol = iota
	MD5
	SHA
	SHA224
	SHA256
	SHA384
	SHA512
)

var authNames = []string{"none", "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"}

// String is the net-snmp name: MD5, SHA, SHA-224, ..., or "none".
func (p AuthProtocol) String() string {
	if int(p) < len(authNames) {
		return authNames[p]
	}
	return fmt.Sprintf("AuthProtocol(%d)", uint8(p))
}

// MACLen is the length of the truncated MAC in msgAuthenticationParameters.
func (p AuthProtocol) MACLen() int {
	return [...]int{0, 12, 12, 16, 24, 32, 48}[p]
}

// ParseAuthProtocol reads MD5, SHA (or SHA1, SHA-1), SHA-224, SHA-256,
// SHA-384, SHA-512 (dash optional, any case), or none.
func ParseAuthProtocol(s string) (AuthProtocol, error) {
	n := strings.ToUpper(strings.ReplaceAll(s, "-", ""))
	switch n {
	case "NONE", "NOAUTH":
		return NoAuth, nil
	case "MD5":
		return MD5, nil
	case "SHA", "SHA1":
		return SHA, nil
	case "SHA224":
		return SHA224, nil
	case "SHA256":
		return SHA256, nil
	case "SHA384":
		return SHA384, nil
	case "SHA512":
		return SHA512, nil
	}
	return 0, fmt.Errorf("unknown auth protocol %q (want MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512)", s)
}

// PrivProtocol is a USM privacy protocol.
type PrivProtocol uint8

// Privacy protocols. AES192 and AES256 extend short localised keys as
// draft-blumenthal-aes-usm does (net-snmp's AES-192 and AES-256, gosnmp's
// AES192 and AES256); AES192C and AES256C as draft-reeder-snmpv3-usm-3desede
// does (Cisco's, gosnmp's AES192C and AES256C).
const (
	NoPriv PrivProtocol = iota
	DES
	AES
	AES192
	AES256
	AES192C
	AES256C
)

var privNames = []string{"none", "DES", "AES", "AES-192", "AES-256", "AES-192-C", "AES-256-C"}

// String is the net-snmp name (DES, AES, AES-192, AES-256), AES-192-C or
// AES-256-C for the Reeder variants, or "none".
func (p PrivProtocol) String() string {
	if int(p) < len(privNames) {
		return privNames[p]
	}
	return fmt.Sprintf("PrivProtocol(%d)", uint8(p))
}

// KeyLen is the length of the localised privacy key the cipher needs (for
// DES: 8 bytes of key and 8 of pre-IV).
func (p PrivProtocol) KeyLen() int {
	return [...]int{0, 16, 16, 24, 32, 24, 32}[p]
}

// ParsePrivProtocol reads DES, AES (or AES128, AES-128), AES-192, AES-256,
// AES-192-C, AES-256-C (dashes optional, any case), or none.
func ParsePrivProtocol(s string) (PrivProtocol, error) {
	n := strings.ToUpper(strings.ReplaceAll(s, "-", ""))
	switch n {
	case "NONE", "NOPRIV":
		return NoPriv, nil
	case "DES":
		return DES, nil
	case "AES", "AES128":
		return AES, nil
	case "AES192":
		return AES192, nil
	case "AES256":
		return AES256, nil
	case "AES192C":
		return AES192C, nil
	case "AES256C":
		return AES256C, nil
	}
	return 0, fmt.Errorf("unknown priv protocol %q (want DES, AES, AES-192, AES-256, AES-192-C or AES-256-C)", s)
}

// Level is a security level.
type Level uint8

// Security levels, as the low bits of msgFlags.
const (
	NoAuthNoPriv Level = 0
	AuthNoPriv   Level = 1
	AuthPriv     Level = 3
)

// String is noAuthNoPriv, authNoPriv or authPriv.
func (l Level) String() string {
	switch l {
	case NoAuthNoPriv:
		return "noAuthNoPriv"
	case AuthNoPriv:
		return "authNoPriv"
	case AuthPriv:
		return "authPriv"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// User is a USM user: a name and its protocols and passphrases.
type User struct {
	Name     string       `json:"name"`
	Auth     AuthProtocol `json:"auth,omitempty"`
	AuthPass Secret       `json:"authPass,omitempty"`
	Priv     PrivProtocol `json:"priv,omitempty"`
	PrivPass Secret       `json:"privPass,omitempty"`
}

// MinPassLen is the shortest passphrase accepted, as in net-snmp.
const MinPassLen = 8

// ErrBadUser is wrapped by every user validation error.
var ErrBadUser = errors.New("bad v3 user")

// Level is the highest security level the user supports.
func (u User) Level() Level {
	switch {
	case u.Auth == NoAuth:
		return NoAuthNoPriv
	case u.Priv == NoPriv:
		return AuthNoPriv
	}
	return AuthPriv
}

// String names the user and protocols, never the passphrases.
func (u User) String() string {
	return u.Name + ":" + u.Auth.String() + ":" + u.Priv.String()
}

// Validate checks the name, protocols and passphrase lengths.
func (u User) Validate() error {
	switch {
	case u.Name == "" || len(u.Name) > 32:
		return fmt.Errorf("%w: name %q: want 1 to 32 bytes", ErrBadUser, u.Name)
	case u.Auth > SHA512:
		return fmt.Errorf("%w: %s: unknown auth protocol %d", ErrBadUser, u.Name, u.Auth)
	case u.Priv > AES256C:
		return fmt.Errorf("%w: %s: unknown priv protocol %d", ErrBadUser, u.Name, u.Priv)
	case u.Auth == NoAuth && u.Priv != NoPriv:
		return fmt.Errorf("%w: %s: privacy needs authentication", ErrBadUser, u.Name)
	case u.Auth != NoAuth && len(u.AuthPass) < MinPassLen:
		return fmt.Errorf("%w: %s: auth passphrase shorter than %d characters", ErrBadUser, u.Name, MinPassLen)
	case u.Priv != NoPriv && len(u.PrivPass) < MinPassLen:
		return fmt.Errorf("%w: %s: priv passphrase shorter than %d characters", ErrBadUser, u.Name, MinPassLen)
	case u.Auth == NoAuth && u.AuthPass != "", u.Priv == NoPriv && u.PrivPass != "":
		return fmt.Errorf("%w: %s: passphrase given without its protocol", ErrBadUser, u.Name)
	}
	return nil
}

// ParseUser reads NAME (noAuthNoPriv), NAME:AUTHPROTO:AUTHPASS
// (authNoPriv) or NAME:AUTHPROTO:AUTHPASS:PRIVPROTO:PRIVPASS (authPriv).
// Passphrases may not contain ':'. Errors never show a passphrase.
func ParseUser(s string) (User, error) {
	parts := strings.Split(s, ":")
	var u User
	u.Name = parts[0]
	switch len(parts) {
	case 1:
	case 3, 5:
		var err error
		// Errors do not quote the field: a misplaced passphrase would show.
		if u.Auth, err = ParseAuthProtocol(parts[1]); err != nil {
			return User{}, fmt.Errorf("%w: %s: field 2 is not an auth protocol (want MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512)", ErrBadUser, u.Name)
		}
		u.AuthPass = Secret(parts[2])
		if len(parts) == 5 {
			if u.Priv, err = ParsePrivProtocol(parts[3]); err != nil {
				return User{}, fmt.Errorf("%w: %s: field 4 is not a priv protocol (want DES, AES, AES-192, AES-256, AES-192-C or AES-256-C)", ErrBadUser, u.Name)
			}
			u.PrivPass = Secret(parts[4])
		}
	default:
		return User{}, fmt.Errorf("%w: %q has %d fields: want NAME, NAME:AUTHPROTO:AUTHPASS or NAME:AUTHPROTO:AUTHPASS:PRIVPROTO:PRIVPASS", ErrBadUser, u.Name, len(parts))
	}
	if u.Auth == NoAuth && len(parts) > 1 {
		return User{}, fmt.Errorf("%w: %s: auth protocol none with a passphrase: give the name alone", ErrBadUser, u.Name)
	}
	if err := u.Validate(); err != nil {
		return User{}, err
	}
	return u, nil
}
