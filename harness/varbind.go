package harness

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// The three conversions below render values the same way (see Varbind), so
// a walk from any poller compares with the agent's data as strings.

// VarbindFromPDU converts a varbind decoded by gosnmp.
func VarbindFromPDU(p gosnmp.SnmpPDU) Varbind {
	v := Varbind{OID: canonicalOID(p.Name), Type: byte(p.Type)}
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
func VarbindFromPollerlib(p pollerlib.Varbind) Varbind {
	v := Varbind{OID: p.OID.String(), Type: byte(p.Type)}
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

// VarbindFromMIB converts an agent's entry. A dynamic value (v.Dyn set)
// has no fixed rendering: its Value is "". Entries of a Snapshot have
// their dynamic values resolved and render fully.
func VarbindFromMIB(oid mib.OID, v *mib.Value) Varbind {
	out := Varbind{OID: oid.String(), Type: v.Tag}
	if v.Dyn == nil {
		out.Value = renderContent(v.Tag, v.Content)
	}
	return out
}

// VarbindFromEntry converts an entry of an agent's Snapshot, whose
// dynamic values are resolved.
func VarbindFromEntry(e mib.Entry) Varbind {
	v := e.Value
	v.Dyn = nil
	return VarbindFromMIB(e.OID, &v)
}

// renderContent renders BER content octets of a value with tag.
func renderContent(tag byte, c []byte) string {
	switch tag {
	case ber.TagNull, ber.TagNoSuchObject, ber.TagNoSuchInstance, ber.TagEndOfMibView:
		return ""
	case ber.TagInteger:
		if n, err := ber.ParseInt(c); err == nil {
			return strconv.FormatInt(n, 10)
		}
		return new(big.Int).SetBytes(c).String() // out of range: best effort
	case ber.TagCounter32, ber.TagGauge32, ber.TagTimeTicks, ber.TagCounter64, 0x47:
		if n, err := ber.ParseUint(c); err == nil {
			return strconv.FormatUint(n, 10)
		}
	case ber.TagOID:
		if o, err := ber.ParseOID(nil, c); err == nil {
			return mib.OID(o).String()
		}
	case ber.TagIPAddress:
		if a, ok := netip.AddrFromSlice(c); ok {
			return a.String()
		}
	}
	return hex.EncodeToString(c)
}

// canonicalOID writes an OID with one leading dot.
func canonicalOID(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, ".") {
		return s
	}
	return "." + s
}

// String renders "OID = 0xTT: value" for evidence lines.
func (v Varbind) String() string {
	return fmt.Sprintf("%s = 0x%02x: %s", v.OID, v.Type, v.Value)
}
