package store

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// The state holds every receipt: state.db and its -wal and -shm are 0600 whatever the umask, and an
// older obmin's readable files are made private when the state is opened.
func TestStateFilesPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddReceipt(ctx, ReceiptRecord{ID: "r1", Status: "DONE", Number: "CB-1", State: ReceiptStatePending}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	s.Close()

	if err := os.Chmod(path, 0o644); err != nil { // as an older obmin left it
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("an older readable state.db stays %v", fi.Mode().Perm())
	}
}

func TestNetworkFileSystems(t *testing.T) {
	for magic, want := range map[int64]string{0x6969: "nfs", 0xFF534D42: "cifs", 0xFE534D42: "smb2", 0x517B: "smb"} {
		if got, ok := linuxNetworkFS(magic); !ok || got != want {
			t.Errorf("linux f_type %#x: %q %v, want %q", magic, got, ok, want)
		}
	}
	for _, local := range []int64{0xEF53 /* ext4 */, 0x58465342 /* xfs */, 0x01021994 /* tmpfs */, 0x65735546 /* fuse */, 0x794c7630 /* overlay */} {
		if name, ok := linuxNetworkFS(local); ok {
			t.Errorf("linux f_type %#x taken for network (%s)", local, name)
		}
	}
	for name, want := range map[string]bool{"nfs": true, "smbfs": true, "afpfs": true, "webdav": true, "apfs": false, "hfs": false, "ufs": false, "zfs": false} {
		if bsdNetworkFS(name) != want {
			t.Errorf("fstypename %s: network %v", name, !want)
		}
	}
	const fixed, remote = 3, 4
	for _, tc := range []struct {
		vol  string
		typ  uint32
		want bool
	}{{"C:", fixed, false}, {"Z:", remote, true}, {`\\nas\bas`, remote, true}, {`\\nas\bas`, 0, true}, {`\\?\C:`, fixed, false}, {`\\?\UNC\nas\bas`, remote, true}} {
		if _, got := windowsNetworkDrive(tc.vol, tc.typ); got != tc.want {
			t.Errorf("volume %s, drive type %d: network %v, want %v", tc.vol, tc.typ, got, tc.want)
		}
	}
	if network, kind := onNetwork(t.TempDir()); network {
		t.Errorf("the test's own temporary folder is taken for a network share (%s)", kind)
	}
}
