//go:build !linux

package bench

import (
	"os"
	"syscall"
)

// childAttr is nil where there is no /proc to measure anyway: the bench
// is for Linux, this keeps the package building elsewhere.
func childAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p.
func killGroup(p *os.Process) error {
	if p == nil {
		return nil
	}
	return p.Kill()
}
