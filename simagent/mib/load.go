package mib

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
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
	formatSapwalk        // SimpleAgentPro's OID , TYPE , VALUE
)

// recordingSuffixes are the file names LoadFile reads, each also
// gzip-compressed (.gz), as snmpsim's data directories hold them.
var recordingSuffixes = []string{".snmprec", ".snmpwalk", ".walk", ".sapwalk", ".txt"}

// IsRecording reports whether a file name is one LoadFile reads by its
// suffix (Recordings lists those).
func IsRecording(name string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), ".gz")
	for _, s := range recordingSuffixes {
		if strings.HasSuffix(name, s) && s != ".txt" {
			return true
		}
	}
	return false
}

// formatOf tells the format of a file from its name: .snmprec is snmprec;
// .walk, .snmpwalk and .txt are snmpwalk output; else from the first line
// that is neither blank nor a # comment (OID|TAG|VALUE or OID = VALUE).
func formatOf(path string, data []byte) format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".snmprec":
		return formatSnmprec
	case ".walk", ".snmpwalk", ".txt":
		return formatWalk
	case ".sapwalk":
		return formatSapwalk
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

// LoadFile reads a recorded data file, snmpsim .snmprec, snmpwalk output
// or SimpleAgentPro .sapwalk, gzip-compressed when its name ends in .gz
// (as snmpsim's examples are), choosing the parser with formatOf. Errors name the file (and
// the line, as *ParseError).
func LoadFile(path string) (*Store, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	switch formatOf(strings.TrimSuffix(path, ".gz"), data) {
	case formatSnmprec:
		return ParseSnmprecAsSnmpsim(bytes.NewReader(data), path)
	case formatWalk:
		return ParseWalk(bytes.NewReader(data), path)
	case formatSapwalk:
		return ParseSapwalk(bytes.NewReader(data), path)
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

// MaxFileSize bounds a data file LoadFile reads (decompressed).
const MaxFileSize = 256 << 20

// readBounded reads a regular file of at most MaxFileSize bytes (once
// decompressed, for a .gz): a device or FIFO named as a data file
// (/dev/zero) would never end.
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
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("mib: %s: %w", path, err)
		}
		defer z.Close()
		r = z
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("mib: %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("mib: %s: larger than %d bytes", path, MaxFileSize)
	}
	return data, nil
}

// maxRecordings bounds the recordings one directory may hold.
const maxRecordings = 10000

// Recordings lists the recordings under dir, recursively, in name order:
// the files IsRecording accepts, as in snmpsim's data directory (one
// recording per simulated device). Hidden files and directories are
// skipped.
func Recordings(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && IsRecording(d.Name()) {
			if len(out) == maxRecordings {
				return fmt.Errorf("more than %d recordings", maxRecordings)
			}
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mib: recordings in %s: %w", dir, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("mib: %s holds no recordings (%s, optionally .gz)", dir, strings.Join(recordingSuffixes[:4], ", "))
	}
	return out, nil
}
