package mib

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// sapTags maps SimpleAgentPro's type names to snmprec tags.
var sapTags = map[string]int{
	"Counter": recCounter32, "Gauge": recGauge32, "Integer": recInteger, "IpAddress": recIPAddress,
	"ObjectID": recOID, "OctetString": recString, "TimeTicks": recTimeTicks, "Counter64": recCounter64,
}

// ParseSapwalk reads SimpleAgentPro sapwalk data, as snmpsim does: one
// "OID , TYPE , VALUE" record per line (fields split at the first two
// commas and trimmed), TYPE one of Counter, Gauge, Integer, IpAddress,
// ObjectID, OctetString (a value starting 0x is hex), TimeTicks,
// Counter64. Blank lines and # comments are skipped. Errors are
// *ParseError values naming name:line.
func ParseSapwalk(r io.Reader, name string) (*Store, error) {
	b := NewBuilder(name)
	p := snmprecParser{b: b}
	return parseRecordLines(r, name, b, p.sapRecord)
}

func (p *snmprecParser) sapRecord(text []byte, line int) error {
	f := bytes.SplitN(text, []byte(","), 3)
	if len(f) != 3 {
		return fmt.Errorf("broken record %q: want OID , TYPE , VALUE", clip(text))
	}
	arcs, err := parseOIDText(p.arcs, bytes.TrimSpace(f[0]))
	p.arcs = arcs
	if err != nil {
		return err
	}
	typ := string(bytes.TrimSpace(f[1]))
	tag, ok := sapTags[typ]
	if !ok {
		return fmt.Errorf("unknown sapwalk type %q (known: %s)", typ, strings.Join(slices.Sorted(maps.Keys(sapTags)), ", "))
	}
	val := bytes.TrimSpace(f[2])
	var enc byte
	if tag == recString && bytes.HasPrefix(val, []byte("0x")) {
		enc, val = 'x', val[2:]
	}
	v, _, err := p.static(tag, enc, val)
	if err != nil {
		return err
	}
	p.b.addLine(p.a.oid(arcs), v, line)
	return nil
}
