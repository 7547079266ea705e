package fleet

import "syscall"

// childAttr puts a child in its own process group and has the kernel send
// it SIGTERM when the thread that started it exits (PR_SET_PDEATHSIG).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
