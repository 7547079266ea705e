package daemon

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/snmpchaos/snmpchaos/scenarios"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
)

// column is one exported metric: every leaf OID under the scenario's
// operations maps to (its parent OID, its last arc), exported as metric
// Name with label "index" = the last arc. The mapping needs no MIB and is
// reversible, so a scrape maps back to varbinds.
type column struct {
	Name    string
	OID     mib.OID
	Tag     byte   // the agents' type for the column's values
	Type    string // snmp_exporter's metric type
	Leaves  int
	scalars bool
}

// module is what one load operation becomes: an snmp_exporter module.
type module struct {
	Name    string
	Op      scenarios.Op
	Columns []*column
}

// exporterType is the snmp_exporter 0.21 metric type that renders a value
// of the tag exactly, or "" when there is none.
func exporterType(tag byte) string {
	switch tag {
	case ber.TagInteger, ber.TagGauge32, ber.TagTimeTicks:
		return "gauge"
	case ber.TagCounter32, ber.TagCounter64:
		return "counter"
	case ber.TagOctetString, ber.TagOpaque:
		return "OctetString" // 0x + hex: every byte, printable or not
	case ber.TagIPAddress:
		return "InetAddressIPv4"
	}
	return ""
}

func metricName(o mib.OID) string {
	return "snmpchaos_oid_" + strings.ReplaceAll(strings.TrimPrefix(o.String(), "."), ".", "_")
}

// plan maps every load operation of sc to a module over the store's data.
// An operation that covers a value snmp_exporter cannot export exactly
// (an OBJECT IDENTIFIER, say) is an error naming it.
func plan(sc *scenarios.Scenario, store *mib.Store) ([]*module, error) {
	var mods []*module
	for i, op := range sc.Load.Ops {
		m := &module{Name: "op" + strconv.Itoa(i), Op: op}
		byName := map[string]*column{}
		add := func(o mib.OID, v *mib.Value) error {
			typ := exporterType(v.Tag)
			if typ == "" {
				return fmt.Errorf("load.ops[%d] (%s %s): %s has type 0x%02x, which snmp_exporter cannot export as a number or a label: choose roots without it", i, op.Kind, opTarget(op), o, v.Tag)
			}
			parent := o[:len(o)-1]
			name := metricName(parent)
			c := byName[name]
			if c == nil {
				c = &column{Name: name, OID: slices.Clone(parent), Tag: v.Tag, Type: typ}
				byName[name] = c
				m.Columns = append(m.Columns, c)
			}
			if c.Tag != v.Tag {
				return fmt.Errorf("load.ops[%d]: column %s mixes types 0x%02x and 0x%02x", i, parent, c.Tag, v.Tag)
			}
			c.Leaves++
			return nil
		}
		switch op.Kind {
		case "get":
			for _, s := range op.OIDs {
				o, err := mib.ParseOID(s)
				if err != nil {
					return nil, fmt.Errorf("load.ops[%d].oids: %w", i, err)
				}
				j := store.Get(o)
				if j < 0 {
					return nil, fmt.Errorf("load.ops[%d].oids: %s is not in the fleet's data", i, s)
				}
				_, v := store.At(j)
				if err := add(o, v); err != nil {
					return nil, err
				}
			}
		default:
			root, err := mib.ParseOID(op.Root)
			if err != nil {
				return nil, fmt.Errorf("load.ops[%d].root: %w", i, err)
			}
			for j := store.Next(root); j >= 0 && j < store.Len(); j++ {
				o, v := store.At(j)
				if !o.HasPrefix(root) {
					break
				}
				if err := add(o, v); err != nil {
					return nil, err
				}
			}
			if len(m.Columns) == 0 {
				return nil, fmt.Errorf("load.ops[%d].root: nothing under %s in the fleet's data", i, op.Root)
			}
		}
		mods = append(mods, m)
	}
	return mods, nil
}

func opTarget(op scenarios.Op) string {
	if op.Root != "" {
		return op.Root
	}
	return strings.Join(op.OIDs, " ")
}

// Config rendering: snmp_exporter 0.21's snmp.yml, modules at the top with
// their auth inline (the auths split came in 0.23).

type yModule struct {
	Version        int       `yaml:"version"`
	Auth           yAuth     `yaml:"auth"`
	Timeout        string    `yaml:"timeout"`
	Retries        int       `yaml:"retries"`
	MaxRepetitions int       `yaml:"max_repetitions"`
	Get            []string  `yaml:"get,omitempty"`
	Walk           []string  `yaml:"walk,omitempty"`
	Metrics        []yMetric `yaml:"metrics"`
}

type yAuth struct {
	Community     string `yaml:"community,omitempty"`
	Username      string `yaml:"username,omitempty"`
	SecurityLevel string `yaml:"security_level,omitempty"`
	Password      string `yaml:"password,omitempty"`
	AuthProtocol  string `yaml:"auth_protocol,omitempty"`
	PrivProtocol  string `yaml:"priv_protocol,omitempty"`
	PrivPassword  string `yaml:"priv_password,omitempty"`
	ContextName   string `yaml:"context_name,omitempty"`
}

type yMetric struct {
	Name    string   `yaml:"name"`
	OID     string   `yaml:"oid"`
	Type    string   `yaml:"type"`
	Help    string   `yaml:"help"`
	Indexes []yIndex `yaml:"indexes"`
}

type yIndex struct {
	Labelname string `yaml:"labelname"`
	Type      string `yaml:"type"`
}

// render writes snmp.yml for the modules. It holds the community or the v3
// passphrases: the file is written 0600 and never logged.
func render(sc *scenarios.Scenario, mods []*module) ([]byte, error) {
	auth, version, err := authFor(sc)
	if err != nil {
		return nil, err
	}
	out := map[string]yModule{}
	rep := sc.Poller.MaxRepetitions
	if rep <= 0 {
		rep = 10
	}
	timeout := sc.Poller.Timeout.D()
	if timeout <= 0 {
		timeout = 2e9
	}
	for _, m := range mods {
		ym := yModule{Version: version, Auth: auth, Timeout: timeout.String(), Retries: sc.Poller.Retries, MaxRepetitions: rep}
		if m.Op.Kind == "get" {
			ym.Get = slices.Clone(m.Op.OIDs)
			for i, s := range ym.Get {
				ym.Get[i] = strings.TrimPrefix(s, ".")
			}
		} else {
			ym.Walk = []string{strings.TrimPrefix(m.Op.Root, ".")}
		}
		for _, c := range m.Columns {
			ym.Metrics = append(ym.Metrics, yMetric{Name: c.Name, OID: strings.TrimPrefix(c.OID.String(), "."), Type: c.Type,
				Help: "values under " + c.OID.String(), Indexes: []yIndex{{Labelname: "index", Type: "gauge"}}})
		}
		out[m.Name] = ym
	}
	var b bytes.Buffer
	b.WriteString("# Rendered by snmpchaos from scenario " + sc.Name + ": one module per load operation.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// authFor is the scenario's load credentials in snmp_exporter's terms.
func authFor(sc *scenarios.Scenario) (yAuth, int, error) {
	switch sc.Load.Version {
	case "1":
		return yAuth{Community: sc.Fleet.Community}, 1, nil
	case "", "2c":
		return yAuth{Community: sc.Fleet.Community}, 2, nil
	}
	users := sc.Fleet.Users()
	var u usm.User
	for _, x := range users {
		if sc.Load.User == "" || x.Name == sc.Load.User {
			u = x
			break
		}
	}
	if u.Name == "" {
		return yAuth{}, 0, fmt.Errorf("load.user %q: no such fleet.v3Users entry", sc.Load.User)
	}
	a := yAuth{Username: u.Name, ContextName: sc.Load.Context}
	switch u.Level() {
	case usm.AuthPriv:
		a.SecurityLevel = "authPriv"
	case usm.AuthNoPriv:
		a.SecurityLevel = "authNoPriv"
	default:
		a.SecurityLevel = "noAuthNoPriv"
	}
	if u.Auth != usm.NoAuth {
		a.Password, a.AuthProtocol = string(u.AuthPass), strings.ReplaceAll(u.Auth.String(), "-", "")
	}
	if u.Priv != usm.NoPriv {
		names := map[usm.PrivProtocol]string{usm.DES: "DES", usm.AES: "AES", usm.AES192: "AES192", usm.AES256: "AES256", usm.AES192C: "AES192C", usm.AES256C: "AES256C"}
		a.PrivPassword, a.PrivProtocol = string(u.PrivPass), names[u.Priv]
	}
	return a, 3, nil
}
