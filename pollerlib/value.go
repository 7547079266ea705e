package pollerlib

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/gosnmp/gosnmp"
)

// Type is the SMI type of a varbind's value: its BER tag.
type Type byte

// Value types (RFC 2578) and the v2c exceptions (RFC 3416).
const (
	TypeUnknown          Type = 0x00
	TypeInteger          Type = 0x02
	TypeOctetString      Type = 0x04
	TypeNull             Type = 0x05
	TypeObjectIdentifier Type = 0x06
	TypeIPAddress        Type = 0x40
	TypeCounter32        Type = 0x41
	TypeGauge32          Type = 0x42
	TypeTimeTicks        Type = 0x43
	TypeOpaque           Type = 0x44
	TypeCounter64        Type = 0x46
	TypeUinteger32       Type = 0x47
	TypeNoSuchObject     Type = 0x80
	TypeNoSuchInstance   Type = 0x81
	TypeEndOfMibView     Type = 0x82
)

var typeNames = map[Type]string{
	TypeUnknown: "Unknown", TypeInteger: "INTEGER", TypeOctetString: "STRING",
	TypeNull: "NULL", TypeObjectIdentifier: "OID", TypeIPAddress: "IpAddress",
	TypeCounter32: "Counter32", TypeGauge32: "Gauge32", TypeTimeTicks: "Timeticks",
	TypeOpaque: "Opaque", TypeCounter64: "Counter64", TypeUinteger32: "UInteger32",
	TypeNoSuchObject: "noSuchObject", TypeNoSuchInstance: "noSuchInstance",
	TypeEndOfMibView: "endOfMibView",
}

// String names the type as net-snmp prints it.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "Type(0x" + strconv.FormatUint(uint64(t), 16) + ")"
}

// IsException reports whether t is noSuchObject, noSuchInstance or
// endOfMibView: a varbind that carries no value.
func (t Type) IsException() bool { return t >= TypeNoSuchObject && t <= TypeEndOfMibView }

// Varbind is one OID with its typed value. Exactly one value field is set,
// chosen by Type: Int for INTEGER; Uint for Counter32, Gauge32, TimeTicks,
// Counter64 and UInteger32; Bytes for OCTET STRING, Opaque and IpAddress (4
// or 16 octets); ObjectID for OBJECT IDENTIFIER. NULL and the exceptions
// carry none.
type Varbind struct {
	OID      OID
	Type     Type
	Int      int64
	Uint     uint64
	Bytes    []byte
	ObjectID OID
}

// Value returns the value as int64, uint64, []byte, netip.Addr (IpAddress),
// OID, or nil for NULL and the exceptions.
func (v Varbind) Value() any {
	switch v.Type {
	case TypeInteger:
		return v.Int
	case TypeCounter32, TypeGauge32, TypeTimeTicks, TypeCounter64, TypeUinteger32:
		return v.Uint
	case TypeOctetString, TypeOpaque:
		return v.Bytes
	case TypeIPAddress:
		a, _ := netip.AddrFromSlice(v.Bytes)
		return a
	case TypeObjectIdentifier:
		return v.ObjectID
	}
	return nil
}

// String renders the varbind as "OID = TYPE: value", close to net-snmp's
// snmpwalk -On output (strings quoted, no MIB lookups).
func (v Varbind) String() string {
	if v.Type.IsException() || v.Type == TypeNull || v.Type == TypeUnknown {
		return v.OID.String() + " = " + v.Type.String()
	}
	var val string
	switch v.Type {
	case TypeOctetString, TypeOpaque:
		val = strconv.Quote(string(v.Bytes))
	case TypeIPAddress:
		val = fmt.Sprint(v.Value())
	case TypeObjectIdentifier:
		val = v.ObjectID.String()
	case TypeInteger:
		val = strconv.FormatInt(v.Int, 10)
	default:
		val = strconv.FormatUint(v.Uint, 10)
	}
	return v.OID.String() + " = " + v.Type.String() + ": " + val
}

// fromPDU converts a varbind decoded by gosnmp.
func fromPDU(p gosnmp.SnmpPDU) (Varbind, error) {
	name, err := ParseOID(p.Name)
	if err != nil {
		return Varbind{}, err
	}
	v := Varbind{OID: name, Type: Type(p.Type)}
	bad := func() (Varbind, error) {
		return Varbind{}, fmt.Errorf("varbind %s: %s value of Go type %T", name, v.Type, p.Value)
	}
	switch p.Type {
	case gosnmp.Integer:
		n, ok := p.Value.(int)
		if !ok {
			return bad()
		}
		v.Int = int64(n)
	case gosnmp.OctetString, gosnmp.Opaque:
		b, ok := p.Value.([]byte)
		if !ok {
			return bad()
		}
		v.Bytes = b
	case gosnmp.IPAddress:
		switch s := p.Value.(type) {
		case nil:
		case string:
			a, err := netip.ParseAddr(s)
			if err != nil {
				return bad()
			}
			v.Bytes = a.AsSlice()
		default:
			return bad()
		}
	case gosnmp.ObjectIdentifier:
		s, ok := p.Value.(string)
		if !ok {
			return bad()
		}
		if v.ObjectID, err = ParseOID(s); err != nil {
			return Varbind{}, fmt.Errorf("varbind %s: %w", name, err)
		}
	case gosnmp.Counter32, gosnmp.Gauge32:
		n, ok := p.Value.(uint)
		if !ok {
			return bad()
		}
		v.Uint = uint64(n)
	case gosnmp.TimeTicks, gosnmp.Uinteger32:
		n, ok := p.Value.(uint32)
		if !ok {
			return bad()
		}
		v.Uint = uint64(n)
	case gosnmp.Counter64:
		n, ok := p.Value.(uint64)
		if !ok {
			return bad()
		}
		v.Uint = n
	case gosnmp.OpaqueFloat, gosnmp.OpaqueDouble:
		// Decoded floats inside Opaque: keep the type, render the number.
		v.Type = TypeOpaque
		v.Bytes = []byte(fmt.Sprint(p.Value))
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
	default:
		return Varbind{}, fmt.Errorf("varbind %s: unsupported type 0x%02x", name, byte(p.Type))
	}
	return v, nil
}
