package mib

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// format is a recorded data file format.
type format int

const (
	formatUnknown format = iota
	formatEmpty          // only blank lines and comments
	formatSnmprec        // snmpsim's OID|TAG|VALUE
	formatWalk           // net-snmp snmpwalk output with numeric OIDs
)

// formatOf tells the format of a file from its name: .snmprec is snmprec;
// .walk, .snmpwalk and .txt are snmpwalk output; else from the first line
// that is neither blank nor a # comment (OID|TAG|VALUE or OID = VALUE).
func formatOf(path string, data []byte) format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".snmprec":
		return formatSnmprec
	case ".walk", ".snmpwalk", ".txt":
		return formatWalk
	}
	for line := range bytes.SplitSeq(trimBOM(data), []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		if i := bytes.IndexByte(t, '|'); i > 0 && isNumericOID(bytes.TrimSpace(t[:i])) {
			return formatSnmprec
		}
		if bytes.Contains(t, []byte(" = ")) || bytes.HasSuffix(t, []byte(" =")) {
			return formatWalk
		}
		return formatUnknown
	}
	return formatEmpty
}

// LoadFile reads a recorded data file, snmpsim .snmprec or snmpwalk
// output, choosing the parser with formatOf. Errors name the file (and
// the line, as *ParseError).
func LoadFile(path string) (*Store, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	switch formatOf(path, data) {
	case formatSnmprec:
		return ParseSnmprec(bytes.NewReader(data), path)
	case formatWalk:
		return ParseWalk(bytes.NewReader(data), path)
	case formatEmpty:
		return NewBuilder(path).Build() // no OIDs at all
	}
	return nil, fmt.Errorf("mib: %s: cannot tell the format: want .snmprec (OID|TAG|VALUE lines) or snmpwalk -On output (OID = TYPE: VALUE lines)", path)
}

// Open returns the store a spec names: a synthetic profile (see Profiles:
// "if-mib:N", "system") or else a data file for LoadFile. To load a file
// whose name is also a profile name, give its path as ./name.
func Open(spec string) (*Store, error) {
	if isProfile(spec) {
		return Profile(spec)
	}
	return LoadFile(spec)
}

// MaxFileSize bounds a data file LoadFile reads.
const MaxFileSize = 256 << 20

// readBounded reads a regular file of at most MaxFileSize bytes: a device
// or FIFO named as a data file (/dev/zero) would never end.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mib: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("mib: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("mib: %s: not a regular file (%s)", path, st.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("mib: %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("mib: %s: larger than %d bytes", path, MaxFileSize)
	}
	return data, nil
}
