package poller

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"

	"github.com/gosnmp/gosnmp"

	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// The three conversions below render values the same way (see Varbind), so
// a walk from any poller compares with the agent's data as strings.

// VarbindFromPDU converts a varbind decoded by gosnmp.
func VarbindFromPDU(p gosnmp.SnmpPDU) pollapi.Varbind {
	v := pollapi.Varbind{OID: canonicalOID(p.Name), Type: byte(p.Type)}
	switch p.Type {
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		return v
	case gosnmp.OctetString, gosnmp.Opaque, gosnmp.BitString, gosnmp.NsapAddress:
		if b, ok := p.Value.([]byte); ok {
			v.Value = hex.EncodeToString(b)
			return v
		}
	case gosnmp.ObjectIdentifier:
		if s, ok := p.Value.(string); ok {
			v.Value = canonicalOID(s)
			return v
		}
	case gosnmp.IPAddress:
		if s, ok := p.Value.(string); ok {
			v.Value = s
			return v
		}
	case gosnmp.OpaqueFloat, gosnmp.OpaqueDouble:
		// gosnmp decodes floats inside Opaque: keep the Opaque type.
		v.Type = ber.TagOpaque
		v.Value = fmt.Sprint(p.Value)
		return v
	case gosnmp.Integer, gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Uinteger32:
		if n := gosnmp.ToBigInt(p.Value); n != nil {
			v.Value = n.String()
			return v
		}
	}
	v.Value = fmt.Sprint(p.Value)
	return v
}

// VarbindFromPollerlib converts a pollerlib varbind.
func VarbindFromPollerlib(p pollerlib.Varbind) pollapi.Varbind {
	v := pollapi.Varbind{OID: p.OID.String(), Type: byte(p.Type)}
	switch p.Type {
	case pollerlib.TypeInteger:
		v.Value = strconv.FormatInt(p.Int, 10)
	case pollerlib.TypeCounter32, pollerlib.TypeGauge32, pollerlib.TypeTimeTicks, pollerlib.TypeCounter64, pollerlib.TypeUinteger32:
		v.Value = strconv.FormatUint(p.Uint, 10)
	case pollerlib.TypeOctetString, pollerlib.TypeOpaque:
		v.Value = hex.EncodeToString(p.Bytes)
	case pollerlib.TypeIPAddress:
		if a, ok := netip.AddrFromSlice(p.Bytes); ok {
			v.Value = a.String()
		}
	case pollerlib.TypeObjectIdentifier:
		v.Value = p.ObjectID.String()
	}
	return v
}

// canonicalOID writes an OID with one leading dot.
func canonicalOID(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, ".") {
		return s
	}
	return "." + s
}
