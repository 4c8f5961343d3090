//go:build !(linux || windows || darwin || freebsd)

package spool

// storeOnNetwork cannot tell on this system; UNC paths are refused by name (storeDSN).
func storeOnNetwork(string) (bool, string) { return false, "" }
