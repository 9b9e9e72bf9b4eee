//go:build !linux

package cli

import "syscall"

// childAttr: outside Linux, a killed cluster leaves its servers to be
// stopped by hand (Ctrl-C stops them).
func childAttr() *syscall.SysProcAttr { return nil }
