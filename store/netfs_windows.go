//go:build windows

package store

import (
	"path/filepath"

	"golang.org/x/sys/windows"
)

// onNetwork reports whether dir lies on a mapped network drive or a UNC share.
func onNetwork(dir string) (bool, string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false, ""
	}
	vol := filepath.VolumeName(abs)
	root, err := windows.UTF16PtrFromString(vol + `\`)
	if err != nil {
		return false, ""
	}
	kind, ok := windowsNetworkDrive(vol, windows.GetDriveType(root))
	return ok, kind
}
