//go:build !linux

package main

// peakRSSKiB is not measured off Linux (maxrss units differ between systems; Windows has no getrusage).
func peakRSSKiB() (int64, bool) { return 0, false }
