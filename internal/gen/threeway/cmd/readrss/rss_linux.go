package main

import "syscall"

// peakRSSKiB is the process's peak resident set size; Linux reports ru_maxrss in KiB (getrusage(2)).
func peakRSSKiB() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Maxrss, true
}
