//go:build !windows

package main

import (
	"errors"
	"strings"
	"testing"

	"obmin/internal/winservice"
)

// TestServiceCommandOffWindows: away from Windows, `obmin service` says what it is for and where to look.
func TestServiceCommandOffWindows(t *testing.T) {
	for _, action := range []string{"install", "uninstall", "start", "stop", "status"} {
		_, _, err := runCmd(t, nil, "service", action, "-config", "no-such.yaml")
		if !errors.Is(err, winservice.ErrWindowsOnly) || exitCode(err) != 1 {
			t.Fatalf("service %s: %v", action, err)
		}
		for _, want := range []string{"Windows only", "systemd", "configs/obmin.service", "docs/service.md"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message lacks %q: %v", want, err)
			}
		}
	}
	// A mistake in the command line is still a usage error.
	if _, _, err := runCmd(t, nil, "service", "restart"); exitCode(err) != 2 {
		t.Errorf("unknown action: %v", err)
	}
}
