//go:build linux

package store

import "golang.org/x/sys/unix"

// onNetwork reports whether dir lies on a network file system, and which.
func onNetwork(dir string) (bool, string) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false, ""
	}
	name, ok := linuxNetworkFS(int64(uint32(st.Type))) // 32-bit systems give f_type as a negative int32
	return ok, name
}
