//go:build darwin || freebsd

package store

import "golang.org/x/sys/unix"

// onNetwork reports whether dir lies on a network file system, and which.
func onNetwork(dir string) (bool, string) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false, ""
	}
	name := unix.ByteSliceToString(st.Fstypename[:])
	return bsdNetworkFS(name), name
}
