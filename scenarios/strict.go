package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/snmpchaos/snmpchaos/simagent"
)

// Strict decoding with positions.
//
// sigs.k8s.io/yaml decodes through JSON and loses line numbers, and yaml.v3
// reports lines but knows only `yaml` tags, while our types (simagent.Faults
// and friends) are JSON types. So the file is parsed once into a yaml.v3 node
// tree, checked against the Go types by their JSON tags field by field (each
// scalar is decoded on its own, so a bad value is reported at its own line
// and path), and only then decoded as a whole. That small walker is written
// here because no library does both.

// positions maps a field path ("phases[1].duration") to its line.
type positions map[string]int

// line finds the line of path or of its nearest ancestor.
func (p positions) line(path string) int {
	for path != "" {
		if l, ok := p[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return p[""]
}

// FieldError is a problem with one field of a scenario file.
type FieldError struct {
	File string
	Line int
	Path string
	Msg  string
}

func (e *FieldError) Error() string {
	where := e.File
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	if e.Path == "" {
		return where + ": " + e.Msg
	}
	return where + ": " + e.Path + ": " + e.Msg
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// check walks n against type t, recording positions and reporting the
// first unknown field or badly typed value.
func check(n *yaml.Node, t reflect.Type, path string, pos positions) (string, string) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return path, "empty document"
		}
		return check(n.Content[0], t, path, pos)
	}
	if _, ok := pos[path]; !ok {
		pos[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		return check(n.Alias, t, path, pos)
	}
	if n.Tag == "!!null" {
		return "", ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		if n.Kind == yaml.ScalarNode {
			return scalar(n, t, path)
		}
		if !objectTypes[t] {
			return scalar(n, t, path)
		}
		// A type that reads itself from a mapping (a selector): its
		// fields' positions first, then its own UnmarshalJSON.
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				pos[join(path, n.Content[i].Value)] = n.Content[i].Line
			}
		}
		return viaJSON(n, t, path)
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return path, "want a mapping of fields, got " + describe(n)
		}
		fields := jsonFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			pos[p] = k.Line
			ft, ok := fields[k.Value]
			if !ok {
				return p, "unknown field (known: " + strings.Join(sortedKeys(fields), ", ") + ")"
			}
			if bp, msg := check(v, ft, p, pos); msg != "" {
				return bp, msg
			}
		}
		return "", ""
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			if secret(t) {
				return path, "want a list, got " + describeKind(n) + " (value not shown: it may hold passphrases)"
			}
			return path, "want a list, got " + describe(n)
		}
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			pos[p] = c.Line
			if bp, msg := check(c, t.Elem(), p, pos); msg != "" {
				return bp, msg
			}
		}
		return "", ""
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return path, "want a mapping, got " + describe(n)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			pos[p] = n.Content[i].Line
			if bp, msg := check(n.Content[i+1], t.Elem(), p, pos); msg != "" {
				return bp, msg
			}
		}
		return "", ""
	}
	return scalar(n, t, path)
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// objectTypes read themselves from a mapping with their UnmarshalJSON.
var objectTypes = map[reflect.Type]bool{reflect.TypeFor[simagent.Selector](): true}

// secretType is a type whose values hold passphrases: errors never show
// them (V3User's own errors redact them).
var secretType = reflect.TypeFor[V3User]()

// secret reports whether values of t hold passphrases.
func secret(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	return t == secretType
}

// viaJSON decodes the subtree n into a fresh value of type t through JSON,
// for types with their own UnmarshalJSON that read more than a scalar.
func viaJSON(n *yaml.Node, t reflect.Type, path string) (string, string) {
	var v any
	if err := n.Decode(&v); err != nil {
		return path, err.Error()
	}
	b, err := json.Marshal(v)
	if err != nil {
		var ue *json.UnsupportedValueError
		if errors.As(err, &ue) {
			return path, "want finite numbers, got " + ue.Str
		}
		return path, err.Error()
	}
	if err := json.Unmarshal(b, reflect.New(t).Interface()); err != nil {
		return path, err.Error()
	}
	return "", ""
}

// scalar decodes one scalar node into a fresh value of type t.
func scalar(n *yaml.Node, t reflect.Type, path string) (string, string) {
	if n.Kind != yaml.ScalarNode {
		return path, "want a single value, got " + describe(n)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return path, err.Error()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return path, err.Error()
	}
	if err := json.Unmarshal(b, reflect.New(t).Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if ok := asTypeError(err, &te); ok {
			if secret(t) {
				return path, fmt.Sprintf("want %s, got %s (value not shown: it may hold passphrases)", kindName(t), describeKind(n))
			}
			return path, fmt.Sprintf("want %s, got %q", kindName(t), n.Value)
		}
		return path, err.Error()
	}
	return "", ""
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	e, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = e
	}
	return ok
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// describeKind names what n is without its value.
func describeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "true or false"
	}
	return "a string"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func sortedKeys(m map[string]reflect.Type) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Bounds of a scenario file. yaml.v3 guards its own decoding against
// alias bombs, but check walks the node tree first and would expand
// every alias; so the tree's expanded size is measured without expanding
// it (each node's size once, aliases counted as what they point to) and
// refused beyond MaxNodes.
const (
	// MaxFileSize bounds a scenario file's size in bytes.
	MaxFileSize = 1 << 20
	// MaxNodes bounds a scenario's YAML nodes, aliases expanded.
	MaxNodes = 100_000
	// MaxAliases bounds the aliases (*name) a scenario may hold.
	MaxAliases = 1000
)

// checkSize measures the tree under root, aliases expanded, without
// expanding them, and reports an error beyond MaxNodes or MaxAliases.
func checkSize(root *yaml.Node) string {
	memo := map[*yaml.Node]int{}
	aliases := 0
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if n == nil {
			return 0
		}
		if v, ok := memo[n]; ok {
			if v < 0 { // on the path: an alias to its own ancestor
				return MaxNodes + 1
			}
			return v
		}
		memo[n] = -1
		total := 1
		if n.Kind == yaml.AliasNode {
			aliases++
			total += size(n.Alias)
		}
		for _, c := range n.Content {
			total += size(c)
			if total > MaxNodes {
				break
			}
		}
		total = min(total, MaxNodes+1)
		memo[n] = total
		return total
	}
	if size(root) > MaxNodes {
		return fmt.Sprintf("too large: more than %d YAML nodes with aliases expanded (aliases multiply what they point to)", MaxNodes)
	}
	if aliases > MaxAliases {
		return fmt.Sprintf("too many aliases: %d (at most %d)", aliases, MaxAliases)
	}
	return ""
}
