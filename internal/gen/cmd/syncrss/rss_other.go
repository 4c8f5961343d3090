//go:build !linux

package main

// watchPeakRSS does not measure off Linux (there is no /proc/<pid>/status); it reports 0.
func watchPeakRSS(int) func() int64 { return func() int64 { return 0 } }
