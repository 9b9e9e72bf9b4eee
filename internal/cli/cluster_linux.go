package cli

import "syscall"

// childAttr makes a cluster's server die with the cluster: killed, it
// cannot stop its children, so the kernel does (SIGTERM, their graceful
// stop).
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }
