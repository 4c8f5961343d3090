//go:build windows

package winservice

import (
	"syscall"
	"testing"
)

// TestEscapeWindowsArgMatchesSyscall: the quoting tested on every OS is the one mgr.CreateService applies.
func TestEscapeWindowsArgMatchesSyscall(t *testing.T) {
	for _, s := range []string{"", "run", `C:\Program Files\obmin\obmin.exe`, `C:\obmin\obmin.yaml`, `a"b`, `a\"b c`, `trailing\ `, "tab\there", `\\server\share\obmin.yaml`} {
		if got, want := escapeWindowsArg(s), syscall.EscapeArg(s); got != want {
			t.Errorf("escapeWindowsArg(%q) = %s, syscall.EscapeArg: %s", s, got, want)
		}
	}
}
