package sftpdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"obmin/folder"
	"obmin/folder/foldertest"
	"obmin/sftpdir/sftptest"
)

// backend is a folder served by an SFTP server on loopback, reached through a Conn: the conformance
// suite's Backend plus the server and the connection, for the cases only a server has.
type backend struct {
	foldertest.Backend
	srv  *sftptest.Server
	conn *Conn
}

var kinds = []string{string(sftptest.PkgSFTP), string(sftptest.OpenSSH)}

// newBackend gives each case its own folder and server. The pkg/sftp server is reached with a password,
// OpenSSH's with an encrypted private key, both trusting a pinned host key fingerprint.
func newBackend(t *testing.T, kind string, mutate func(*Config)) *backend {
	t.Helper()
	dir := t.TempDir()
	b := &backend{Backend: foldertest.Backend{Name: kind, Dir: dir}}
	b.srv = sftptest.Start(t, sftptest.Kind(kind), dir)
	return b.dial(t, mutate)
}

// dial makes a new Conn to the backend's server, with the test defaults changed by mutate.
func (b *backend) dial(t *testing.T, mutate func(*Config)) *backend {
	t.Helper()
	cfg := Config{
		Address: b.srv.Addr, User: sftptest.User, HostKeyFingerprint: b.srv.Fingerprint(),
		DialTimeout: 5 * time.Second, KeepAlive: time.Second, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	}
	if b.srv.Kind == sftptest.OpenSSH {
		cfg.PrivateKey = b.srv.ClientKey
	} else {
		cfg.Password = sftptest.Password
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	nb := *b
	nb.conn = c
	// Absolute paths: pkg/sftp's server and OpenSSH's both accept them.
	nb.Source, nb.Target = c.Source(filepath.ToSlash(b.Dir)), c.Target(filepath.ToSlash(filepath.Join(b.Dir, "out")))
	nb.SourceAt = func(dir string) folder.Source { return c.Source(filepath.ToSlash(dir)) }
	return &nb
}

// TestConformance runs the conformance suite of folder.Source and folder.Target (package foldertest,
// which the local folder runs too) against pkg/sftp's server and OpenSSH's, then the cases only a server
// has: connections cut, restarts, host keys, sessions.
func TestConformance(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, b *backend)
	}{
		{"rename over an existing target without posix-rename", func(t *testing.T, b *backend) {
			foldertest.RenameOver(t, &b.dial(t, nil).noPosix().Backend)
		}},
		{"server differences", testServerDifferences},
		{"connection cut mid-upload", testCutUpload},
		{"connection cut mid-download", testCutDownload},
		{"server restart", testRestart},
		{"wrong host key refused", testWrongHostKey},
		{"bounded sessions", testSessions},
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			foldertest.Run(t, func(t *testing.T) *foldertest.Backend { return &newBackend(t, kind, nil).Backend })
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.fn(t, newBackend(t, kind, nil)) })
			}
		})
	}
}

func (b *backend) noPosix() *backend {
	b.conn.noPosix = true
	return b
}

// testServerDifferences pins down where pkg/sftp's server and OpenSSH's differ, so that a suite passing
// on one cannot hide a problem of the other (docs/reliability.md §7).
func testServerDifferences(t *testing.T, b *backend) {
	b.Put(t, "a", "a", time.Time{})
	b.Put(t, "b", "b", time.Time{})
	s, err := b.conn.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.put(nil)
	renameErr := s.sftp.Rename(filepath.Join(b.Dir, "a"), filepath.Join(b.Dir, "b"))
	_, posix := s.sftp.HasExtension("posix-rename@openssh.com")
	t.Logf("%s: plain rename over an existing file: %v; posix-rename: %v; fsync: %v", b.Name, renameErr, posix, s.l.fsync)
	if !posix {
		t.Error("posix-rename@openssh.com not advertised")
	}
	switch sftptest.Kind(b.Name) {
	case sftptest.PkgSFTP:
		if renameErr != nil || s.l.fsync {
			t.Errorf("pkg/sftp's server: want a plain rename that overwrites and no fsync@openssh.com; got %v, fsync %v", renameErr, s.l.fsync)
		}
	case sftptest.OpenSSH:
		if renameErr == nil || !s.l.fsync {
			t.Errorf("OpenSSH: want a plain rename over an existing file refused and fsync@openssh.com; got %v, fsync %v", renameErr, s.l.fsync)
		}
	}
}

func testCutUpload(t *testing.T, b *backend) {
	ctx := context.Background()
	old := []byte(foldertest.CML("<Документ>old</Документ>"))
	if err := b.Target.WriteFile(ctx, "orders.xml", old); err != nil {
		t.Fatal(err)
	}
	data := []byte(foldertest.Big(4 << 20))
	b.srv.CutAfter(1 << 20)
	err := b.Target.WriteFile(ctx, "orders.xml", data)
	if err == nil {
		t.Fatal("WriteFile succeeded through a cut connection")
	}
	t.Logf("cut upload: %v", err)
	if got, _ := os.ReadFile(filepath.Join(b.Dir, "out", "orders.xml")); !bytes.Equal(got, old) {
		t.Fatalf("after the cut orders.xml holds %d bytes, want the old %d", len(got), len(old))
	}
	// The next call connects again, delivers, and removes what the cut upload left.
	if err := b.Target.WriteFile(ctx, "orders.xml", data); err != nil {
		t.Fatalf("WriteFile after the cut: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(b.Dir, "out", "orders.xml")); !bytes.Equal(got, data) {
		t.Fatalf("orders.xml holds %d bytes, want %d", len(got), len(data))
	}
	if names := b.OutFiles(t); !reflect.DeepEqual(names, []string{"orders.xml"}) {
		t.Fatalf("the folder holds %q, want only orders.xml", names)
	}
}

func testCutDownload(t *testing.T, b *backend) {
	ctx := context.Background()
	data := foldertest.Big(4 << 20)
	b.Put(t, "w/import.xml", data, time.Time{})
	r, err := b.Source.Open(ctx, "w/import.xml")
	if err != nil {
		t.Fatal(err)
	}
	b.srv.CutAfter(1 << 20)
	got, err := io.ReadAll(r)
	r.Close()
	if err == nil {
		t.Fatalf("read %d of %d bytes through a cut connection without an error", len(got), len(data))
	}
	t.Logf("cut download after %d bytes: %v", len(got), err)
	// Target.ReadFile through a cut: an error, never a short file.
	b.Put(t, "out/orders.xml", data, time.Time{})
	b.srv.CutAfter(1 << 20)
	if back, err := b.Target.ReadFile(ctx, "orders.xml"); err == nil && len(back) != len(data) {
		t.Fatalf("ReadFile returned %d of %d bytes without an error", len(back), len(data))
	}
	r, err = b.Source.Open(ctx, "w/import.xml")
	if err != nil {
		t.Fatalf("Open after the cut: %v", err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || string(got) != data {
		t.Fatalf("read after the cut: %d bytes, %v", len(got), err)
	}
}

// eventually polls f until it succeeds or a deadline passes.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testRestart(t *testing.T, b *backend) {
	ctx := context.Background()
	b.Put(t, "w/import.xml", foldertest.CML(""), time.Time{})
	if _, err := b.Source.List(ctx); err != nil {
		t.Fatal(err)
	}
	b.srv.Stop()
	if _, err := b.Source.List(ctx); err == nil {
		t.Fatal("List succeeded with the server stopped")
	} else {
		t.Logf("server down: %v", err)
	}
	b.srv.Restart()
	eventually(t, "List after the restart", func() error {
		files, err := b.Source.List(ctx)
		if err == nil && len(files) != 1 {
			err = fmt.Errorf("listed %d files", len(files))
		}
		return err
	})
	if err := b.Target.WriteFile(ctx, "orders.xml", []byte(foldertest.CML(""))); err != nil {
		t.Fatalf("WriteFile after the restart: %v", err)
	}
}

func testWrongHostKey(t *testing.T, b *backend) {
	ctx := context.Background()
	other := sftptest.NewHostKey(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	write := func(s string) {
		if err := os.WriteFile(kh, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	seen := b.srv.Fingerprint()
	_, port, _ := net.SplitHostPort(b.srv.Addr)
	otherKey := string(ssh.MarshalAuthorizedKey(other.PublicKey()))
	tests := []struct {
		name    string
		cfg     func(*Config)
		known   string
		wantErr string // "" = connects
	}{
		{"pinned fingerprint of another key", func(c *Config) { c.HostKeyFingerprint = ssh.FingerprintSHA256(other.PublicKey()) }, "", seen},
		{"known_hosts with another key for the host", func(c *Config) { c.HostKeyFingerprint, c.KnownHostsFile = "", kh }, "[127.0.0.1]:" + port + " " + otherKey, "HOST KEY MISMATCH"},
		{"host missing from known_hosts", func(c *Config) { c.HostKeyFingerprint, c.KnownHostsFile = "", kh }, "[127.0.0.2]:" + port + " " + otherKey, "is not in"},
		{"known_hosts with the right key", func(c *Config) { c.HostKeyFingerprint, c.KnownHostsFile = "", kh }, b.srv.KnownHostsLine(), ""},
		{"insecure mode", func(c *Config) { c.HostKeyFingerprint, c.InsecureIgnoreHostKey = "", true }, "", ""},
		{"encrypted private key", func(c *Config) {
			c.Password, c.PrivateKey, c.Passphrase = "", sftptest.EncryptedClientKey(t), sftptest.ClientKeyPassphrase
		}, "", ""},
		{"wrong password", func(c *Config) { c.Password, c.PrivateKey = "wrong", nil }, "", "unable to authenticate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(tt.known)
			_, err := b.dial(t, tt.cfg).Source.List(ctx)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("List: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("List = %v, want an error with %q", err, tt.wantErr)
			case err != nil && tt.wantErr != "unable to authenticate" && !strings.Contains(err.Error(), seen):
				t.Fatalf("the error does not name the fingerprint seen (%s): %v", seen, err)
			}
			if err != nil {
				t.Logf("refused: %v", err)
			}
		})
	}
}

func testSessions(t *testing.T, b *backend) {
	nb := b.dial(t, func(c *Config) { c.MaxSessions = 2 })
	nb.Put(t, "a.xml", foldertest.CML(""), time.Time{})
	ctx := context.Background()
	var open []io.ReadCloser
	for range 2 {
		r, err := nb.Source.Open(ctx, "a.xml")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, r)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := nb.Source.List(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third session while two files are open: %v, want to wait for a free one", err)
	}
	open[0].Close()
	if _, err := nb.Source.List(ctx); err != nil {
		t.Fatalf("List after a file was closed: %v", err)
	}
	open[1].Close()
}
