//go:build !(linux || windows || darwin || freebsd)

package store

// onNetwork cannot tell on this system; UNC paths are refused by name (dataSourceName).
func onNetwork(string) (bool, string) { return false, "" }
