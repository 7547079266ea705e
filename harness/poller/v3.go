package poller

import (
	"github.com/gosnmp/gosnmp"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// libTarget is p's target for pollerlib.
func libTarget(t pollapi.Target) pollerlib.Target {
	lt := pollerlib.Target{Addr: t.Addr.String(), Community: pollerlib.Secret(t.Community)}
	switch t.Version {
	case pollapi.VersionV1:
		lt.Version = pollerlib.V1
	case pollapi.VersionV3:
		lt.Version, lt.User, lt.Context, lt.Community = pollerlib.V3, t.User, t.Context, ""
	}
	return lt
}

// gosnmpAuth and gosnmpPriv map usm's protocols to gosnmp's.
var (
	gosnmpAuth = map[usm.AuthProtocol]gosnmp.SnmpV3AuthProtocol{
		usm.NoAuth: gosnmp.NoAuth, usm.MD5: gosnmp.MD5, usm.SHA: gosnmp.SHA, usm.SHA224: gosnmp.SHA224,
		usm.SHA256: gosnmp.SHA256, usm.SHA384: gosnmp.SHA384, usm.SHA512: gosnmp.SHA512,
	}
	gosnmpPriv = map[usm.PrivProtocol]gosnmp.SnmpV3PrivProtocol{
		usm.NoPriv: gosnmp.NoPriv, usm.DES: gosnmp.DES, usm.AES: gosnmp.AES, usm.AES192: gosnmp.AES192,
		usm.AES256: gosnmp.AES256, usm.AES192C: gosnmp.AES192C, usm.AES256C: gosnmp.AES256C,
	}
)

// gosnmpV3 sets c up for SNMPv3 with user u and context name ctxName, as
// a gosnmp user would: USM, the user's level, and gosnmp's own engine
// discovery on the first request of each connection.
func gosnmpV3(c *gosnmp.GoSNMP, u usm.User, ctxName string) {
	c.Version = gosnmp.Version3
	c.Community = ""
	c.SecurityModel = gosnmp.UserSecurityModel
	c.ContextName = ctxName
	switch u.Level() {
	case usm.AuthPriv:
		c.MsgFlags = gosnmp.AuthPriv
	case usm.AuthNoPriv:
		c.MsgFlags = gosnmp.AuthNoPriv
	default:
		c.MsgFlags = gosnmp.NoAuthNoPriv
	}
	c.SecurityParameters = &gosnmp.UsmSecurityParameters{
		UserName:                 u.Name,
		AuthenticationProtocol:   gosnmpAuth[u.Auth],
		AuthenticationPassphrase: string(u.AuthPass),
		PrivacyProtocol:          gosnmpPriv[u.Priv],
		PrivacyPassphrase:        string(u.PrivPass),
	}
}
