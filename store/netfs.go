package store

// SQLite's locks and its WAL's shared memory do not work over a network file system: two machines, or
// one machine with a stale lease, corrupt the database (sqlite.org, "SQLite Over a Network"). The state
// file is refused on one. onNetwork (per system) asks the file system; the functions here judge
// its answer, so they are tested everywhere.

// linuxNetworkMagic names the network file systems statfs(2) reports by their f_type magic number
// (linux/magic.h). FUSE is left out: it also carries local file systems such as ntfs-3g.
var linuxNetworkMagic = map[int64]string{
	0x6969:     "nfs",
	0x517B:     "smb",
	0xFF534D42: "cifs",
	0xFE534D42: "smb2",
	0x5346414F: "afs",
	0x01021997: "9p",
	0x00C36400: "ceph",
	0x73757245: "coda",
	0x564C:     "ncp",
	0x0BD00BD0: "lustre",
	0x47504653: "gpfs",
}

// linuxNetworkFS reports whether a statfs f_type is a network file system, and its name.
func linuxNetworkFS(magic int64) (string, bool) {
	name, ok := linuxNetworkMagic[magic]
	return name, ok
}

// bsdNetworkFS reports whether a statfs f_fstypename (macOS, the BSDs) is a network file system.
func bsdNetworkFS(name string) bool {
	switch name {
	case "nfs", "smbfs", "afpfs", "webdav", "cifs", "ftp", "cd9660-remote":
		return true
	}
	return false
}

// windowsDriveRemote is GetDriveTypeW's DRIVE_REMOTE: a mapped network drive or a UNC share.
const windowsDriveRemote = 4

// windowsNetworkDrive judges a volume: its name (filepath.VolumeName: "C:", `\\server\share`) and the drive
// type Windows gives its root.
func windowsNetworkDrive(volume string, driveType uint32) (string, bool) {
	switch {
	case networkVolume(volume):
		return "UNC share " + volume, true
	case driveType == windowsDriveRemote:
		return "network drive " + volume, true
	}
	return "", false
}
