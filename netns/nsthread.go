//go:build linux

package netns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netnsDir is where named network namespaces are bind-mounted, as
// iproute2's `ip netns` does.
const netnsDir = "/run/netns"

// inNamespace runs fn on a new goroutine locked to its OS thread, with
// that thread switched into target, and waits for it. The thread is
// switched back and unlocked afterwards; if switching back fails it stays
// locked, so the runtime ends it with the goroutine rather than reuse a
// thread in the wrong namespace. A panic in fn is raised again in the
// caller. The caller's own thread is never switched.
func inNamespace(target vnetns.NsHandle, fn func() error) error {
	type result struct {
		err      error
		panicked bool
		val      any
		stack    []byte
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() { done <- r }()
		runtime.LockOSThread()
		orig, err := vnetns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			r.err = fmt.Errorf("netns: current namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := vnetns.Set(target); err != nil {
			runtime.UnlockOSThread()
			r.err = fmt.Errorf("netns: enter namespace: %w", err)
			return
		}
		defer func() {
			if err := vnetns.Set(orig); err != nil {
				// Stay locked: the thread dies with this goroutine.
				r.err = errors.Join(r.err, fmt.Errorf("netns: leave namespace: %w", err))
				return
			}
			runtime.UnlockOSThread()
		}()
		returned := false
		defer func() {
			if v := recover(); v != nil {
				r.panicked, r.val, r.stack = true, v, debug.Stack()
			} else if !returned {
				r.err = errors.New("netns: the function run in the namespace exited its goroutine (runtime.Goexit, t.FailNow?)")
			}
		}()
		r.err = fn()
		returned = true
	}()
	r := <-done
	if r.panicked {
		panic(fmt.Sprintf("%v\n\n[in network namespace] %s", r.val, r.stack))
	}
	return r.err
}

// currentNamespace opens the namespace of the calling goroutine's thread.
func currentNamespace() (vnetns.NsHandle, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	h, err := vnetns.Get()
	if err != nil {
		return vnetns.None(), fmt.Errorf("netns: current namespace: %w", err)
	}
	return h, nil
}

// createNamed creates the named network namespace name and returns a
// handle to it, without switching the caller's thread.
func createNamed(name string) (vnetns.NsHandle, error) {
	var h vnetns.NsHandle = vnetns.None()
	cur, err := currentNamespace()
	if err != nil {
		return h, err
	}
	defer cur.Close()
	err = inNamespace(cur, func() error {
		// NewNamed unshares this (locked) thread into the new namespace;
		// inNamespace switches it back to cur afterwards.
		n, err := vnetns.NewNamed(name)
		if err != nil {
			return fmt.Errorf("netns: create namespace %s: %w", name, err)
		}
		h = n
		return nil
	})
	if err != nil && h.IsOpen() {
		_ = h.Close()
		_ = deleteNamed(name)
	}
	return h, err
}

// deleteNamed removes the named namespace name: unmounts and removes its
// file. The namespace itself ends when nothing holds it any more. A
// missing name is fine.
func deleteNamed(name string) error {
	path := filepath.Join(netnsDir, name)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("netns: unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("netns: remove %s: %w", path, err)
	}
	return nil
}

// listNamed lists the named namespaces.
func listNamed() ([]string, error) {
	ents, err := os.ReadDir(netnsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out, nil
}
