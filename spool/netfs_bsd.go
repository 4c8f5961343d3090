//go:build darwin || freebsd

package spool

import "golang.org/x/sys/unix"

// storeOnNetwork reports whether dir lies on a network file system, and which.
func storeOnNetwork(dir string) (bool, string) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false, ""
	}
	name := unix.ByteSliceToString(st.Fstypename[:])
	return bsdNetworkFS(name), name
}
