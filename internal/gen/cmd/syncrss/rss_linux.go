package main

import (
	"os"
	"syscall"
)

// childPeakRSSKiB is the finished child's peak resident set size; Linux reports ru_maxrss in KiB
// (getrusage(2), wait4(2)).
func childPeakRSSKiB(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}
