//go:build linux

package spool

import "golang.org/x/sys/unix"

// storeOnNetwork reports whether dir lies on a network file system, and which.
func storeOnNetwork(dir string) (bool, string) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false, ""
	}
	name, ok := linuxNetworkFS(int64(uint32(st.Type))) // 32-bit systems give f_type as a negative int32
	return ok, name
}
