//go:build !linux

package main

import "os"

// maxRSS: only Linux gives a child's peak resident set here; scripts/hardening runs on Linux only.
func maxRSS(*os.ProcessState) float64 { return 0 }
