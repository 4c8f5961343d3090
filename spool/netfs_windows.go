//go:build windows

package spool

import (
	"path/filepath"

	"golang.org/x/sys/windows"
)

// storeOnNetwork reports whether dir lies on a mapped network drive or a UNC share.
func storeOnNetwork(dir string) (bool, string) {
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
