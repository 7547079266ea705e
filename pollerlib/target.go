package pollerlib

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// Version is an SNMP protocol version.
type Version uint8

// Supported versions. For V3 (USM), the user's credentials and the
// context join the session key's hash and the msgID is the transport's
// match key (see v3.go).
const (
	V2c Version = iota // the default
	V1
	V3
)

// String is "v1" or "v2c".
func (v Version) String() string {
	switch v {
	case V1:
		return "v1"
	case V2c:
		return "v2c"
	case V3:
		return "v3"
	}
	return "v" + strconv.Itoa(int(v)) + "?"
}

func (v Version) gosnmp() gosnmp.SnmpVersion {
	switch v {
	case V1:
		return gosnmp.Version1
	case V3:
		return gosnmp.Version3
	}
	return gosnmp.Version2c
}

// Secret is a credential (a community, a v3 passphrase): usm.Secret, which
// never prints; every fmt verb, String and MarshalText show "<redacted>".
type Secret = usm.Secret

// Target is an agent to poll.
type Target struct {
	// Addr is "host", "host:port" or "[v6]:port"; the port defaults to 161.
	// A host name is resolved once, when the target's session is created.
	Addr string
	// Version is V2c (the zero value) or V1.
	Version Version
	// Community defaults to "public" (v1, v2c).
	Community Secret
	// User is the SNMPv3 USM user (V3). Its passphrases never print.
	User usm.User
	// Context is the SNMPv3 contextName (V3; default empty).
	Context string
}

// String names the target by address and version only.
func (t Target) String() string { return t.Addr + "/" + t.Version.String() }

func (t Target) community() string {
	if t.Community == "" {
		return "public"
	}
	return string(t.Community)
}

// SessionKey identifies a target's session: the resolved address, the
// version and a salted hash of the credentials. Two targets with the same
// key share RTT estimate, breaker and degrade state. It holds no secret.
type SessionKey struct {
	Addr    netip.AddrPort
	Version Version
	// Cred is an HMAC-SHA256 of the credentials under a key random to the
	// Poller, truncated: equal within a poller, meaningless outside it.
	Cred [8]byte
}

// String is "127.0.0.1:161/v2c/1f2e3d4c5b6a7980".
func (k SessionKey) String() string {
	return k.Addr.String() + "/" + k.Version.String() + "/" + hex.EncodeToString(k.Cred[:])
}

// communityID is a v1/v2c Target as given, before resolution: the
// sessions cache key.
type communityID struct {
	addr      string
	community string
	version   Version
}

// targetID is a v3 Target as given, before resolution: the sessions cache
// key.
type targetID struct {
	addr    string
	version Version
	user    usm.User
	context string
}

// resolve normalises t's address: IP literal or name, default port 161,
// IPv4-mapped IPv6 unmapped.
func resolve(ctx context.Context, addr string) (netip.AddrPort, error) {
	host, port := addr, "161"
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil || pn == 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: address %q: bad port %q", ErrBadTarget, addr, port)
	}
	if host == "" {
		return netip.AddrPort{}, fmt.Errorf("%w: address %q: no host", ErrBadTarget, addr)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil || len(ips) == 0 {
			return netip.AddrPort{}, fmt.Errorf("%w: address %q: %w", ErrBadTarget, addr, lerr)
		}
		ip = ips[0]
		for _, a := range ips {
			if a.Unmap().Is4() {
				ip = a
				break
			}
		}
	}
	return netip.AddrPortFrom(ip.Unmap().WithZone(ip.Zone()), uint16(pn)), nil
}

// credHash is the salted hash of a target's credentials.
func credHash(salt []byte, v Version, community string) [8]byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte{byte(v)})
	m.Write([]byte(community))
	var out [8]byte
	copy(out[:], m.Sum(nil))
	return out
}
