package netsnmptest

import (
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/proctest"
)

// SnmpsimExamples is where Debian's snmpsim package puts its example
// recordings.
const SnmpsimExamples = "/usr/share/doc/snmpsim/examples/data"

// Snmpsim is a real snmpsim (Debian's snmpsimd) started by a test on
// 127.0.0.1, serving a copy of a data directory: each recording under a
// community named after its path without the extension, as snmpsim does.
type Snmpsim struct {
	// Addr is host:port of the simulator.
	Addr string
	// Data is the served copy of the data directory (decompressed).
	Data string
}

// StartSnmpsim copies dir (decompressing .gz files, which snmpsim does not
// read) and serves it with snmpsimd until the test ends (stopped by PID).
// It waits until snmpsimd answers a v2c Get with the community probe.
func StartSnmpsim(t testing.TB, dir, probe string) *Snmpsim {
	t.Helper()
	bin := Require(t, "snmpsimd")
	Require(t, "snmpget")
	root := t.TempDir()
	data, cache := filepath.Join(root, "data"), filepath.Join(root, "cache")
	if err := copyDecompressed(dir, data); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	// snmpsimd refuses to run as root: it drops to nobody, who must read
	// the data and write the cache.
	_ = os.Chmod(filepath.Dir(root), 0o755) // the test's temporary directory
	for _, d := range []string{root, data, cache} {
		_ = os.Chmod(d, 0o777)
	}
	_ = filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			_ = os.Chmod(p, map[bool]fs.FileMode{true: 0o755, false: 0o644}[d.IsDir()])
		}
		return nil
	})
	var out proctest.Output
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		s := &Snmpsim{Addr: fmt.Sprintf("127.0.0.1:%d", port), Data: data}
		args := []string{"--data-dir=" + data, "--cache-dir=" + cache, "--agent-udpv4-endpoint=" + s.Addr}
		if os.Geteuid() == 0 {
			args = append(args, "--process-user=nobody", "--process-group=nogroup")
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// snmpsimd indexes every recording first.
		if serve(t, "snmpsimd", cmd, &out, s.Addr, probe, ".1.3.6.1.2.1.1.1.0", attempt >= 3, 3*time.Minute, 100*time.Millisecond) {
			return s
		}
	}
}

// copyDecompressed copies the tree src to dst, gunzipping *.gz files.
func copyDecompressed(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		var r io.Reader = in
		if strings.HasSuffix(p, ".gz") {
			z, err := gzip.NewReader(in)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			defer z.Close()
			r, to = z, strings.TrimSuffix(to, ".gz")
		}
		f, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, io.LimitReader(r, 1<<30)); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}
