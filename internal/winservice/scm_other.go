//go:build !windows

package winservice

import (
	"context"
	"errors"
	"io"
)

// ErrWindowsOnly is what Control says away from Windows.
var ErrWindowsOnly = errors.New("service: `obmin service` registers obmin with the Windows Service Control Manager and works on Windows only; " +
	"on Linux run `obmin run` under systemd: configs/obmin.service is a hardened unit to start from (docs/service.md)")

func Control(ctx context.Context, op Op, stdout io.Writer) error {
	return ErrWindowsOnly
}

// RunAsService is false away from Windows: `obmin run` is an ordinary process (systemd stops it with SIGTERM).
func RunAsService(ctx context.Context, run func(context.Context) error) (bool, error) {
	return false, nil
}
