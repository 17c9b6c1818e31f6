package main

import "syscall"

// becomeSubreaper makes this test process the parent of the plutos that
// ipsec setup start leaves behind (their parent exits), so that the test
// can reap them: a container's init may not.
func becomeSubreaper() {
	const prSetChildSubreaper = 36
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// reap collects pid if it has exited and is our child.
func reap(pid int) {
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
}
