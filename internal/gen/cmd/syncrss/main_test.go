package main

import (
	"os"
	"runtime"
	"testing"

	"obmin/checkbox/emulator"
)

// TestKind sorts the calls of a sync as the printed line counts them.
func TestKind(t *testing.T) {
	for _, tc := range []struct {
		method, path, want string
	}{
		{"POST", "/api/v1/goods/import/upload", "upload"},
		{"GET", "/api/v1/goods/import/task_status/0b9c2f7e-2c55-4d8f-9a7e-2f0b1b0e7a11", "poll"},
		{"POST", "/api/v1/goods/import/apply_changes/0b9c2f7e-2c55-4d8f-9a7e-2f0b1b0e7a11", "apply"},
		{"GET", "/api/v1/goods", "page"},
		{"GET", "/api/v1/goods/by-code/KN-0000001", "lookup"},
		{"PUT", "/api/v1/goods/0b9c2f7e-2c55-4d8f-9a7e-2f0b1b0e7a11", "write"},
		{"POST", "/api/v1/goods", "write"},
		{"POST", "/api/v1/goods/leftovers-by-id", "leftovers"},
		{"GET", "/api/v1/receipts/search", "receipts"},
		{"GET", "/api/v1/cash-registers", "receipts"},
		{"POST", "/api/v1/cashier/signin", "other"},
	} {
		if got := kind(emulator.Call{Method: tc.method, Path: tc.path}); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestWatchPeakRSS reads this process's own high-water mark.
func TestWatchPeakRSS(t *testing.T) {
	peak := watchPeakRSS(os.Getpid())()
	if runtime.GOOS == "linux" && peak <= 0 {
		t.Errorf("peak RSS %d KiB", peak)
	}
}
