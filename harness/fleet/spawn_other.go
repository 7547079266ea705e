//go:build !linux

package fleet

import "syscall"

// childAttr puts a child in its own process group; without
// PR_SET_PDEATHSIG the stdin pipe alone stops it when the harness dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
