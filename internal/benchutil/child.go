package benchutil

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// childEnv names the role a re-executed test binary plays.
const childEnv = "SNMPCHAOS_BENCH_CHILD"

// resultPrefix marks the child's result line on its standard output.
const resultPrefix = "benchutil-result: "

// ChildRole is the role this process was started in by RunChild, or "".
// A test binary checks it in an init function, before testing (and goleak
// in TestMain) start, does the measurement, calls WriteResult and exits.
func ChildRole() string { return os.Getenv(childEnv) }

// WriteResult prints v as this child's result for RunChild to read.
func WriteResult(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("benchutil: child result: %w", err)
	}
	_, err = fmt.Fprintf(os.Stdout, "%s%s\n", resultPrefix, b)
	return err
}

// ReadInput decodes the input RunChild gave this child into v.
func ReadInput(v any) error {
	if err := json.NewDecoder(os.Stdin).Decode(v); err != nil {
		return fmt.Errorf("benchutil: child input: %w", err)
	}
	return nil
}

// RunChild runs this executable again in role, with args and in (when not
// nil) as its input, and decodes the result it writes into out. Measuring
// in a fresh process keeps its RSS clean of what the parent allocated, and
// the parent's CPU time clean of what the child does.
func RunChild(ctx context.Context, role string, in, out any, args ...string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("benchutil: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("benchutil: child %q input: %w", role, err)
		}
		cmd.Stdin = bytes.NewReader(b)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("benchutil: child %q: %w\nstdout:\n%s\nstderr:\n%s", role, err, stdout.Bytes(), stderr.Bytes())
	}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), resultPrefix); ok {
			if err := json.Unmarshal([]byte(line), out); err != nil {
				return fmt.Errorf("benchutil: child %q result: %w", role, err)
			}
			return nil
		}
	}
	return fmt.Errorf("benchutil: child %q wrote no result\nstderr:\n%s", role, stderr.Bytes())
}
