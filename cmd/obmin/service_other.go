//go:build !windows

package main

import (
	"context"
	"errors"
	"io"
)

// errServiceWindowsOnly is `obmin service` away from Windows.
var errServiceWindowsOnly = errors.New("service: `obmin service` registers obmin with the Windows Service Control Manager and works on Windows only; " +
	"on Linux run `obmin run` under systemd: configs/obmin.service is a hardened unit to start from (docs/service.md)")

func controlService(ctx context.Context, op serviceOp, stdout io.Writer) error {
	return errServiceWindowsOnly
}

// runAsService is false away from Windows: `obmin run` is an ordinary process (systemd stops it with SIGTERM).
func runAsService(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (bool, error) {
	return false, nil
}
