//go:build !linux

package main

import "os"

// childPeakRSSKiB is not measured off Linux (maxrss units differ between systems; Windows has none).
func childPeakRSSKiB(*os.ProcessState) int64 { return 0 }
