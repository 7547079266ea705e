//go:build linux

package netns

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// StateDir holds one state file per live run, <run>.json, and the lock
// that serialises Build, Close and Cleanup across processes.
const StateDir = "/run/snmpchaos"

// runState is what a run records about itself before it creates anything,
// so a later run can tell whether it lives and remove what it left.
type runState struct {
	Run   string      `json:"run"`
	PID   int         `json:"pid"`
	Start uint64      `json:"start"` // the owner's start time, clock ticks since boot
	Sites []siteState `json:"sites"`
}

type siteState struct {
	Name   string       `json:"name"`
	Agents netip.Prefix `json:"agents"`
	Link   netip.Prefix `json:"link"`
}

func (st runState) alive() bool { return alive(st.PID, st.Start) }

// lockState takes the state directory's lock; call the returned function
// to release it.
func lockState() (unlock func(), err error) {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("netns: state directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(StateDir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("netns: state lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("netns: state lock: %w", err)
	}
	return func() { _ = f.Close() }, nil // closing releases the lock
}

// readStates reads every state file. Unreadable files are skipped: a
// state file is advice, and names and routes are checked on their own.
func readStates() []runState {
	ents, err := os.ReadDir(StateDir)
	if err != nil {
		return nil
	}
	var out []runState
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		if _, ok := parseName(name); !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(StateDir, e.Name()))
		if err != nil {
			continue
		}
		var st runState
		if json.Unmarshal(b, &st) != nil || st.Run != name {
			// A torn or foreign file still names a run: keep the name so
			// its owner is judged by the PID in it.
			p, _ := parseName(name)
			st = runState{Run: name, PID: p.pid}
		}
		out = append(out, st)
	}
	return out
}

// writeState writes st atomically.
func writeState(st runState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(StateDir, st.Run+".json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("netns: state file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("netns: state file: %w", err)
	}
	return nil
}

// removeState removes run's state file and any torn temporary one; a
// missing file is fine.
func removeState(run string) error {
	var errs []error
	for _, name := range []string{run + ".json", run + ".json.tmp"} {
		if err := os.Remove(filepath.Join(StateDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
