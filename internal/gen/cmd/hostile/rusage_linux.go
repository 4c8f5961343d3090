package main

import (
	"os"
	"syscall"
)

// maxRSS is a finished process's peak resident set in MiB (the kernel's maxrss, in KiB on Linux).
func maxRSS(st *os.ProcessState) float64 {
	if st == nil {
		return 0
	}
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024
	}
	return 0
}
