package sftpdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"obmin/sftpdir/sftptest"
	"obmin/spool"
)

// backend is one implementation of spool.Source and spool.Target over a local folder: the folder itself,
// or the folder served by an SFTP server on loopback.
type backend struct {
	kind string
	dir  string // the local folder behind src and tgt
	src  spool.Source
	tgt  spool.Target
	srv  *sftptest.Server // nil for the local folder
	conn *Conn            // nil for the local folder
}

const local = "local"

var kinds = []string{local, string(sftptest.PkgSFTP), string(sftptest.OpenSSH)}

// newBackend gives each case its own folder and server. The pkg/sftp server is reached with a password,
// OpenSSH's with an encrypted private key, both trusting a pinned host key fingerprint.
func newBackend(t *testing.T, kind string, mutate func(*Config)) *backend {
	t.Helper()
	dir := t.TempDir()
	b := &backend{kind: kind, dir: dir}
	if kind == local {
		b.src, b.tgt = spool.LocalDir(dir), spool.LocalTarget(filepath.Join(dir, "out"))
		return b
	}
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
	nb.src, nb.tgt = c.Source(filepath.ToSlash(b.dir)), c.Target(filepath.ToSlash(filepath.Join(b.dir, "out")))
	return &nb
}

func (b *backend) needsServer(t *testing.T) {
	if b.srv == nil {
		t.Skip("a local folder has no connection")
	}
}

// put writes a file of the folder directly, with its mtime set.
func (b *backend) put(t *testing.T, rel, content string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(b.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

// outFiles lists the names in the target folder, temporary files included.
func (b *backend) outFiles(t *testing.T) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(b.dir, "out"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func paths(files []spool.FileInfo) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

const cmlHead = "\uFEFF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<КоммерческаяИнформация ВерсияСхемы=\"2.08\">\r\n"

func cml(body string) string {
	return cmlHead + body + "\r\n</КоммерческаяИнформация>\r\n"
}

// big is a whole CommerceML document of about n bytes.
func big(n int) string {
	var sb strings.Builder
	for i := 0; sb.Len() < n; i++ {
		fmt.Fprintf(&sb, "<Товар><Ид>%08d</Ид><Наименование>Книга %d</Наименование></Товар>\r\n", i, i)
	}
	return cml(sb.String())
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestConformance runs the same cases against the local folder, pkg/sftp's server and OpenSSH's.
func TestConformance(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, b *backend)
	}{
		{"list and open", testListOpen},
		{"temporary names of common writers are not listed", testTempNames},
		{"slow writer and growing file never complete", testSlowWriter},
		{"zero-length file never complete", testZeroLength},
		{"rename over an existing target", testRenameOver},
		{"delivered files are private", testDeliveredPrivate},
		{"server differences", testServerDifferences},
		{"connection cut mid-upload", testCutUpload},
		{"connection cut mid-download", testCutDownload},
		{"server restart", testRestart},
		{"wrong host key refused", testWrongHostKey},
		{"path escapes refused", testPathEscapes},
		{"cancelled context", testCancel},
		{"bounded sessions", testSessions},
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.fn(t, newBackend(t, kind, nil)) })
			}
		})
	}
}

func testListOpen(t *testing.T, b *backend) {
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	b.put(t, "webdata - 1/import.xml", cml("<Каталог/>"), at)
	b.put(t, "webdata - 1/offers.XML", cml("<ПакетПредложений/>"), at)
	b.put(t, "webdata - 1/import_files/ab/pic.jpg", "jpeg", at)
	b.put(t, "readme.txt", "not xml", at)
	b.put(t, "root.xml", cml(""), at)
	files, err := b.src.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"root.xml", "webdata - 1/import.xml", "webdata - 1/offers.XML"}
	if got := paths(files); !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	sameAsLocal(t, b, files)
	for _, f := range files {
		if !f.ModTime.Equal(at) {
			t.Errorf("%s: mtime %s, want %s", f.Path, f.ModTime, at)
		}
	}
	r, err := b.src.Open(ctx, "webdata - 1/import.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if s, ok := r.(io.Seeker); !ok {
		t.Error("an opened file cannot Seek: the watcher reads the whole file to find its end")
	} else if _, err := s.Seek(int64(len(cmlHead)), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimPrefix(cml("<Каталог/>"), cmlHead); string(rest) != want {
		t.Errorf("read %q, want %q", rest, want)
	}
	if _, err := b.src.Open(ctx, "missing.xml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want not-exist", err)
	}
	// An empty or absent target file.
	if _, err := b.tgt.ReadFile(ctx, "orders.xml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(absent) = %v, want not-exist", err)
	}
}

func testTempNames(t *testing.T, b *backend) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, name := range []string{".import.xml", "~$import.xml", "import.xml.tmp", "import.tmp", "offers.xml.partial",
		".hidden/import.xml", ".import.xml.obmin-0123.tmp", "import.xml~"} {
		b.put(t, "w/"+name, cml(""), at)
	}
	b.put(t, "w/import.xml", cml(""), at)
	files, err := b.src.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(files); !reflect.DeepEqual(got, []string{"w/import.xml"}) {
		t.Fatalf("List = %q, want only w/import.xml", got)
	}
	// Whatever else spool.LocalDir takes (zipped exchanges, say), an SFTP folder lists the same.
	for _, name := range []string{"w2/export.zip", "w2/EXPORT.ZIP", "w2/.export.zip", "w2/export.zip.tmp", "w2/data.json", "w2/import.xml"} {
		b.put(t, name, "x", at)
	}
	files, err = b.src.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sameAsLocal(t, b, files)
}

// sameAsLocal checks a listing against spool.LocalDir's of the same folder: the reference.
func sameAsLocal(t *testing.T, b *backend, files []spool.FileInfo) {
	t.Helper()
	ref, err := spool.LocalDir(b.dir).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(files), paths(ref); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s lists %q, spool.LocalDir lists %q", b.kind, got, want)
	}
	for i := range files {
		if files[i].Size != ref[i].Size {
			t.Errorf("%s: size %d, spool.LocalDir says %d", files[i].Path, files[i].Size, ref[i].Size)
		}
	}
}

// watch is the real spool.Watcher over the backend's Source with a fake clock.
func watch(t *testing.T, b *backend) (*spool.Watcher, *fakeClock) {
	clock := &fakeClock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	w, err := spool.NewWatcher(spool.WatcherConfig{Source: b.src, MinAge: 2 * time.Second, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return w, clock
}

func scan(t *testing.T, w *spool.Watcher) []string {
	t.Helper()
	drops, err := w.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range drops {
		s := fmt.Sprintf("%s:%d", d.Dir, len(d.Files))
		if len(d.GiveUp) > 0 {
			s += " given up"
		}
		out = append(out, s)
	}
	return out
}

func testSlowWriter(t *testing.T, b *backend) {
	w, clock := watch(t, b)
	const f = "webdata - 1/import.xml"
	body := big(64 << 10)
	steps := []struct {
		content string
		after   time.Duration
		want    []string
	}{
		{content: body[:1000], after: time.Second},
		{content: body[:30000], after: 3 * time.Second},
		{content: body[:len(body)-40], after: 3 * time.Second}, // stopped growing, but its XML is not closed
		{after: 3 * time.Second},
		{after: time.Hour, want: []string{"webdata - 1:1 given up"}}, // unchanged past the bound: for failed/
		{content: body, after: time.Second},
		{after: 3 * time.Second, want: []string{"webdata - 1:1"}},
		{after: 3 * time.Second},
	}
	for i, s := range steps {
		if s.content != "" {
			b.put(t, f, s.content, clock.Now())
		}
		clock.Add(s.after)
		if got := scan(t, w); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d: drops %q, want %q", i, got, s.want)
		}
	}
}

func testZeroLength(t *testing.T, b *backend) {
	w, clock := watch(t, b)
	b.put(t, "w/import.xml", cml(""), clock.Now())
	b.put(t, "w/offers.xml", "", clock.Now())
	for _, d := range []time.Duration{3 * time.Second, 3 * time.Second, time.Minute} {
		clock.Add(d)
		if got := scan(t, w); got != nil {
			t.Fatalf("a drop with an empty file was returned: %q", got)
		}
	}
	clock.Add(time.Hour) // unchanged past the bound: given up, for failed/
	if got := scan(t, w); !reflect.DeepEqual(got, []string{"w:2 given up"}) {
		t.Fatalf("an empty file unchanged for an hour: %q", got)
	}
	b.put(t, "w/offers.xml", cml(""), clock.Now())
	clock.Add(3 * time.Second)
	scan(t, w)
	clock.Add(3 * time.Second)
	if got := scan(t, w); !reflect.DeepEqual(got, []string{"w:2"}) {
		t.Fatalf("drops %q, want w:2", got)
	}
}

// The orders file holds receipts: obmin's account and group may read it, nobody else, whatever the
// umask (the local folder's or the SFTP server's).
func testDeliveredPrivate(t *testing.T, b *backend) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	if err := b.tgt.WriteFile(context.Background(), "orders.xml", []byte(cml(""))); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(b.dir, "out", "orders.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != spool.DeliveredFileMode {
		t.Errorf("orders.xml is %v, want %v", fi.Mode().Perm(), os.FileMode(spool.DeliveredFileMode))
	}
}

func testRenameOver(t *testing.T, b *backend) {
	run := func(t *testing.T, b *backend) {
		ctx := context.Background()
		for i, data := range []string{cml("<Документ>1</Документ>"), cml("<Документ>2, longer</Документ>"), cml("")} {
			if err := b.tgt.WriteFile(ctx, "orders.xml", []byte(data)); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			got, err := os.ReadFile(filepath.Join(b.dir, "out", "orders.xml"))
			if err != nil || string(got) != data {
				t.Fatalf("write %d: the file holds %q (%v), want %q", i, got, err, data)
			}
			back, err := b.tgt.ReadFile(ctx, "orders.xml")
			if err != nil || string(back) != data {
				t.Fatalf("write %d: ReadFile = %q (%v)", i, back, err)
			}
			if names := b.outFiles(t); !reflect.DeepEqual(names, []string{"orders.xml"}) {
				t.Fatalf("write %d: the folder holds %q, want only orders.xml", i, names)
			}
		}
	}
	t.Run("as the server offers", func(t *testing.T) { run(t, b) })
	t.Run("without posix-rename", func(t *testing.T) {
		b.needsServer(t)
		run(t, b.dial(t, nil).noPosix())
	})
}

func (b *backend) noPosix() *backend {
	b.conn.noPosix = true
	return b
}

// testServerDifferences pins down where pkg/sftp's server and OpenSSH's differ, so that a suite passing
// on one cannot hide a problem of the other (docs/reliability.md §7).
func testServerDifferences(t *testing.T, b *backend) {
	b.needsServer(t)
	b.put(t, "a", "a", time.Time{})
	b.put(t, "b", "b", time.Time{})
	s, err := b.conn.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.put(nil)
	renameErr := s.sftp.Rename(filepath.Join(b.dir, "a"), filepath.Join(b.dir, "b"))
	_, posix := s.sftp.HasExtension("posix-rename@openssh.com")
	t.Logf("%s: plain rename over an existing file: %v; posix-rename: %v; fsync: %v", b.kind, renameErr, posix, s.l.fsync)
	if !posix {
		t.Error("posix-rename@openssh.com not advertised")
	}
	switch sftptest.Kind(b.kind) {
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
	b.needsServer(t)
	ctx := context.Background()
	old := []byte(cml("<Документ>old</Документ>"))
	if err := b.tgt.WriteFile(ctx, "orders.xml", old); err != nil {
		t.Fatal(err)
	}
	data := []byte(big(4 << 20))
	b.srv.CutAfter(1 << 20)
	err := b.tgt.WriteFile(ctx, "orders.xml", data)
	if err == nil {
		t.Fatal("WriteFile succeeded through a cut connection")
	}
	t.Logf("cut upload: %v", err)
	if got, _ := os.ReadFile(filepath.Join(b.dir, "out", "orders.xml")); !bytes.Equal(got, old) {
		t.Fatalf("after the cut orders.xml holds %d bytes, want the old %d", len(got), len(old))
	}
	// The next call connects again, delivers, and removes what the cut upload left.
	if err := b.tgt.WriteFile(ctx, "orders.xml", data); err != nil {
		t.Fatalf("WriteFile after the cut: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(b.dir, "out", "orders.xml")); !bytes.Equal(got, data) {
		t.Fatalf("orders.xml holds %d bytes, want %d", len(got), len(data))
	}
	if names := b.outFiles(t); !reflect.DeepEqual(names, []string{"orders.xml"}) {
		t.Fatalf("the folder holds %q, want only orders.xml", names)
	}
}

func testCutDownload(t *testing.T, b *backend) {
	b.needsServer(t)
	ctx := context.Background()
	data := big(4 << 20)
	b.put(t, "w/import.xml", data, time.Time{})
	r, err := b.src.Open(ctx, "w/import.xml")
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
	b.put(t, "out/orders.xml", data, time.Time{})
	b.srv.CutAfter(1 << 20)
	if back, err := b.tgt.ReadFile(ctx, "orders.xml"); err == nil && len(back) != len(data) {
		t.Fatalf("ReadFile returned %d of %d bytes without an error", len(back), len(data))
	}
	r, err = b.src.Open(ctx, "w/import.xml")
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
	b.needsServer(t)
	ctx := context.Background()
	b.put(t, "w/import.xml", cml(""), time.Time{})
	if _, err := b.src.List(ctx); err != nil {
		t.Fatal(err)
	}
	b.srv.Stop()
	if _, err := b.src.List(ctx); err == nil {
		t.Fatal("List succeeded with the server stopped")
	} else {
		t.Logf("server down: %v", err)
	}
	b.srv.Restart()
	eventually(t, "List after the restart", func() error {
		files, err := b.src.List(ctx)
		if err == nil && len(files) != 1 {
			err = fmt.Errorf("listed %d files", len(files))
		}
		return err
	})
	if err := b.tgt.WriteFile(ctx, "orders.xml", []byte(cml(""))); err != nil {
		t.Fatalf("WriteFile after the restart: %v", err)
	}
}

func testWrongHostKey(t *testing.T, b *backend) {
	b.needsServer(t)
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
			_, err := b.dial(t, tt.cfg).src.List(ctx)
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

func testPathEscapes(t *testing.T, b *backend) {
	ctx := context.Background()
	b.put(t, "secret.xml", cml("secret"), time.Time{})
	src := b.src
	if b.conn != nil {
		src = b.conn.Source(filepath.ToSlash(filepath.Join(b.dir, "w")))
	} else {
		src = spool.LocalDir(filepath.Join(b.dir, "w"))
	}
	for _, p := range []string{"../secret.xml", "/etc/passwd", "w/../../secret.xml", `..\secret.xml`, "C:/x.xml", "", ".", "a//b.xml"} {
		if r, err := src.Open(ctx, p); err == nil {
			r.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	for _, name := range []string{"../orders.xml", "/tmp/orders.xml", "a/orders.xml", `a\orders.xml`, "..", ".", ""} {
		if err := b.tgt.WriteFile(ctx, name, []byte("x")); err == nil {
			t.Errorf("WriteFile(%q) succeeded", name)
		}
		if _, err := b.tgt.ReadFile(ctx, name); err == nil {
			t.Errorf("ReadFile(%q) succeeded", name)
		}
	}
	if _, err := os.Stat(filepath.Join(b.dir, "orders.xml")); err == nil {
		t.Error("a file was written outside the target folder")
	}
}

func testCancel(t *testing.T, b *backend) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.src.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context = %v", err)
	}
	if err := b.tgt.WriteFile(ctx, "orders.xml", []byte("x")); err == nil {
		t.Error("WriteFile with a cancelled context succeeded")
	}
	if _, err := b.src.List(context.Background()); err != nil {
		t.Errorf("List after a cancelled call: %v", err)
	}
}

func testSessions(t *testing.T, b *backend) {
	b.needsServer(t)
	nb := b.dial(t, func(c *Config) { c.MaxSessions = 2 })
	nb.put(t, "a.xml", cml(""), time.Time{})
	ctx := context.Background()
	var open []io.ReadCloser
	for range 2 {
		r, err := nb.src.Open(ctx, "a.xml")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, r)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := nb.src.List(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third session while two files are open: %v, want to wait for a free one", err)
	}
	open[0].Close()
	if _, err := nb.src.List(ctx); err != nil {
		t.Fatalf("List after a file was closed: %v", err)
	}
	open[1].Close()
}
