package scenarios

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

//go:embed bundled/*.yaml
var bundled embed.FS

// ErrInvalid is wrapped by every loading error.
var ErrInvalid = errors.New("invalid scenario")

// Parse reads a scenario from data; file names it in errors.
func Parse(file string, data []byte) (*Scenario, error) { return parse(file, data, true) }

// parse is Parse; with openData false the fleet's data file is not read
// (for the fuzz test, which must not read files named by its input).
func parse(file string, data []byte, openData bool) (*Scenario, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &FieldError{File: file, Msg: fmt.Sprintf("file too large: %d bytes (at most %d)", len(data), MaxFileSize)})
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, yamlError(file, err)
	}
	if msg := checkSize(&root); msg != "" {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &FieldError{File: file, Line: 1, Msg: msg})
	}
	pos := positions{}
	if p, msg := check(&root, reflect.TypeFor[Scenario](), "", pos); msg != "" {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &FieldError{File: file, Line: pos.line(p), Path: p, Msg: msg})
	}
	var generic any
	if err := root.Decode(&generic); err != nil {
		return nil, yamlError(file, err)
	}
	b, err := json.Marshal(generic)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, file, err)
	}
	s := &Scenario{skipData: !openData}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, file, err)
	}
	s.Source = file
	if p, msg := s.defaultsAndValidate(); msg != "" {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &FieldError{File: file, Line: pos.line(p), Path: p, Msg: msg})
	}
	return s, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(file string, err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		l, _ := strconv.Atoi(m[1])
		return fmt.Errorf("%w: %w", ErrInvalid, &FieldError{File: file, Line: l, Msg: m[2]})
	}
	return fmt.Errorf("%w: %w", ErrInvalid, &FieldError{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")})
}

// LoadFile reads a scenario file.
func LoadFile(name string) (*Scenario, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	defer f.Close()
	// One byte more than allowed, so that Parse can tell a file too large.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &FieldError{File: name, Msg: fmt.Sprintf("file too large: more than %d bytes", MaxFileSize)})
	}
	return Parse(name, data)
}

// Bundled loads a bundled scenario by name.
func Bundled(name string) (*Scenario, error) {
	data, err := bundled.ReadFile("bundled/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("%w: no bundled scenario %q (have: %s)", ErrInvalid, name, strings.Join(Names(), ", "))
	}
	return Parse(name+".yaml", data)
}

// Names lists the bundled scenarios.
func Names() []string {
	ents, _ := fs.ReadDir(bundled, "bundled")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Open loads a bundled scenario by name, or else a file.
func Open(nameOrFile string) (*Scenario, error) {
	if !strings.ContainsAny(nameOrFile, "/\\") && path.Ext(nameOrFile) == "" {
		return Bundled(nameOrFile)
	}
	return LoadFile(nameOrFile)
}
