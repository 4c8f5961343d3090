// Package foldertest is the conformance suite of folder.Source and folder.Target: the cases every way
// of reaching BAS's folders must pass, run by the local folder (package folder) and by SFTP (package
// sftpdir) against each server it is tested with. Only tests import it.
//
// It imports the packages whose behaviour over a folder it checks: folder, drop and watch.
package foldertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"obmin/drop"
	"obmin/folder"
	"obmin/internal/testenv"
	"obmin/watch"
)

// Backend is one implementation of folder.Source and folder.Target over a folder of this machine, so that
// a case can lay out files there directly and check what was written.
type Backend struct {
	Name   string        // for messages: "local", "pkg/sftp", "openssh"
	Dir    string        // the local folder behind Source and Target
	Source folder.Source // over Dir
	Target folder.Target // over Dir/out
	// SourceAt returns a Source over another local folder below Dir, reached the same way.
	SourceAt func(dir string) folder.Source
}

// Run runs every case against a fresh backend from newBackend.
func Run(t *testing.T, newBackend func(t *testing.T) *Backend) {
	cases := []struct {
		name string
		fn   func(t *testing.T, b *Backend)
	}{
		{"list and open", testListOpen},
		{"temporary names of common writers are not listed", testTempNames},
		{"slow writer and growing file never complete", testSlowWriter},
		{"zero-length file never complete", testZeroLength},
		{"rename over an existing target", RenameOver},
		{"streamed write and read", testWriteFromOpen},
		{"delivered files are private", testDeliveredPrivate},
		{"path escapes refused", testPathEscapes},
		{"cancelled context", testCancel},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newBackend(t)) })
	}
}

// Put writes a file of the folder directly, with its mtime set unless it is zero.
func (b *Backend) Put(t *testing.T, rel, content string, mtime time.Time) {
	t.Helper()
	testenv.WriteFile(t, b.Dir, rel, []byte(content), mtime)
}

// OutFiles lists the names in the target folder, temporary files included.
func (b *Backend) OutFiles(t *testing.T) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(b.Dir, "out"))
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

func paths(files []drop.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

// CMLHead is the start of every document CML makes.
const CMLHead = "\uFEFF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<КоммерческаяИнформация ВерсияСхемы=\"2.08\">\r\n"

// CML is a whole CommerceML document around body.
func CML(body string) string {
	return CMLHead + body + "\r\n</КоммерческаяИнформация>\r\n"
}

// Big is a whole CommerceML document of about n bytes.
func Big(n int) string {
	var sb strings.Builder
	for i := 0; sb.Len() < n; i++ {
		fmt.Fprintf(&sb, "<Товар><Ид>%08d</Ид><Наименование>Книга %d</Наименование></Товар>\r\n", i, i)
	}
	return CML(sb.String())
}

func testListOpen(t *testing.T, b *Backend) {
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	b.Put(t, "webdata - 1/import.xml", CML("<Каталог/>"), at)
	b.Put(t, "webdata - 1/offers.XML", CML("<ПакетПредложений/>"), at)
	b.Put(t, "webdata - 1/import_files/ab/pic.jpg", "jpeg", at)
	b.Put(t, "readme.txt", "not xml", at)
	b.Put(t, "root.xml", CML(""), at)
	files, err := b.Source.List(ctx)
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
	r, err := b.Source.Open(ctx, "webdata - 1/import.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if s, ok := r.(io.Seeker); !ok {
		t.Error("an opened file cannot Seek: the watcher reads the whole file to find its end")
	} else if _, err := s.Seek(int64(len(CMLHead)), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimPrefix(CML("<Каталог/>"), CMLHead); string(rest) != want {
		t.Errorf("read %q, want %q", rest, want)
	}
	if _, err := b.Source.Open(ctx, "missing.xml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want not-exist", err)
	}
	// An empty or absent target file.
	if _, err := b.Target.ReadFile(ctx, "orders.xml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(absent) = %v, want not-exist", err)
	}
}

func testTempNames(t *testing.T, b *Backend) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, name := range []string{".import.xml", "~$import.xml", "import.xml.tmp", "import.tmp", "offers.xml.partial",
		".hidden/import.xml", ".import.xml.obmin-0123.tmp", "import.xml~"} {
		b.Put(t, "w/"+name, CML(""), at)
	}
	b.Put(t, "w/import.xml", CML(""), at)
	files, err := b.Source.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(files); !reflect.DeepEqual(got, []string{"w/import.xml"}) {
		t.Fatalf("List = %q, want only w/import.xml", got)
	}
	// Whatever else folder.LocalDir takes (zipped exchanges, say), an SFTP folder lists the same.
	for _, name := range []string{"w2/export.zip", "w2/EXPORT.ZIP", "w2/.export.zip", "w2/export.zip.tmp", "w2/data.json", "w2/import.xml"} {
		b.Put(t, name, "x", at)
	}
	files, err = b.Source.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sameAsLocal(t, b, files)
}

// sameAsLocal checks a listing against folder.LocalDir's of the same folder: the reference.
func sameAsLocal(t *testing.T, b *Backend, files []drop.File) {
	t.Helper()
	ref, err := folder.LocalDir(b.Dir).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(files), paths(ref); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s lists %q, folder.LocalDir lists %q", b.Name, got, want)
	}
	for i := range files {
		if files[i].Size != ref[i].Size {
			t.Errorf("%s: size %d, folder.LocalDir says %d", files[i].Path, files[i].Size, ref[i].Size)
		}
	}
}

// newWatcher is the real watch.Watcher over the backend's Source with a fake clock.
func newWatcher(t *testing.T, b *Backend) (*watch.Watcher, *testenv.Clock) {
	clock := testenv.NewClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
	w, err := watch.New(watch.Config{Source: b.Source, MinAge: 2 * time.Second, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return w, clock
}

func scan(t *testing.T, w *watch.Watcher) []string {
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

func testSlowWriter(t *testing.T, b *Backend) {
	w, clock := newWatcher(t, b)
	const f = "webdata - 1/import.xml"
	body := Big(64 << 10)
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
			b.Put(t, f, s.content, clock.Now())
		}
		clock.Add(s.after)
		if got := scan(t, w); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d: drops %q, want %q", i, got, s.want)
		}
	}
}

func testZeroLength(t *testing.T, b *Backend) {
	w, clock := newWatcher(t, b)
	b.Put(t, "w/import.xml", CML(""), clock.Now())
	b.Put(t, "w/offers.xml", "", clock.Now())
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
	b.Put(t, "w/offers.xml", CML(""), clock.Now())
	clock.Add(3 * time.Second)
	scan(t, w)
	clock.Add(3 * time.Second)
	if got := scan(t, w); !reflect.DeepEqual(got, []string{"w:2"}) {
		t.Fatalf("drops %q, want w:2", got)
	}
}

// The orders file holds receipts: obmin's account and group may read it, nobody else, whatever the
// umask (the local folder's or the SFTP server's).
func testDeliveredPrivate(t *testing.T, b *Backend) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	if err := b.Target.WriteFile(context.Background(), "orders.xml", []byte(CML(""))); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(b.Dir, "out", "orders.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != folder.DeliveredFileMode {
		t.Errorf("orders.xml is %v, want %v", fi.Mode().Perm(), os.FileMode(folder.DeliveredFileMode))
	}
}

// RenameOver writes the target file three times over and checks that each write replaces the last
// as one step, leaving no temporary file.
func RenameOver(t *testing.T, b *Backend) {
	ctx := context.Background()
	for i, data := range []string{CML("<Документ>1</Документ>"), CML("<Документ>2, longer</Документ>"), CML("")} {
		if err := b.Target.WriteFile(ctx, "orders.xml", []byte(data)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		got, err := os.ReadFile(filepath.Join(b.Dir, "out", "orders.xml"))
		if err != nil || string(got) != data {
			t.Fatalf("write %d: the file holds %q (%v), want %q", i, got, err, data)
		}
		back, err := b.Target.ReadFile(ctx, "orders.xml")
		if err != nil || string(back) != data {
			t.Fatalf("write %d: ReadFile = %q (%v)", i, back, err)
		}
		if names := b.OutFiles(t); !reflect.DeepEqual(names, []string{"orders.xml"}) {
			t.Fatalf("write %d: the folder holds %q, want only orders.xml", i, names)
		}
	}
}

func testPathEscapes(t *testing.T, b *Backend) {
	ctx := context.Background()
	b.Put(t, "secret.xml", CML("secret"), time.Time{})
	src := b.SourceAt(filepath.Join(b.Dir, "w"))
	for _, p := range []string{"../secret.xml", "/etc/passwd", "w/../../secret.xml", `..\secret.xml`, "C:/x.xml", "", ".", "a//b.xml"} {
		if r, err := src.Open(ctx, p); err == nil {
			r.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	for _, name := range []string{"../orders.xml", "/tmp/orders.xml", "a/orders.xml", `a\orders.xml`, "..", ".", ""} {
		if err := b.Target.WriteFile(ctx, name, []byte("x")); err == nil {
			t.Errorf("WriteFile(%q) succeeded", name)
		}
		if _, err := b.Target.ReadFile(ctx, name); err == nil {
			t.Errorf("ReadFile(%q) succeeded", name)
		}
	}
	if _, err := os.Stat(filepath.Join(b.Dir, "orders.xml")); err == nil {
		t.Error("a file was written outside the target folder")
	}
}

func testCancel(t *testing.T, b *Backend) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Source.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context = %v", err)
	}
	if err := b.Target.WriteFile(ctx, "orders.xml", []byte("x")); err == nil {
		t.Error("WriteFile with a cancelled context succeeded")
	}
	if _, err := b.Source.List(context.Background()); err != nil {
		t.Errorf("List after a cancelled call: %v", err)
	}
}

// testWriteFromOpen: a file written as a stream reads back the same, a stream that fails leaves the old
// file and no temporary one, and a file that is not there does not open.
func testWriteFromOpen(t *testing.T, b *Backend) {
	ctx := context.Background()
	data := Big(256 << 10)
	if err := b.Target.WriteFrom(ctx, "orders.xml", func(w io.Writer) error {
		_, err := io.WriteString(w, data)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	read := func() string {
		t.Helper()
		r, err := b.Target.Open(ctx, "orders.xml")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(got)
	}
	if got := read(); got != data {
		t.Fatalf("read back %d bytes, wrote %d", len(got), len(data))
	}
	broken := errors.New("the content could not be made")
	err := b.Target.WriteFrom(ctx, "orders.xml", func(w io.Writer) error {
		io.WriteString(w, data[:len(data)/2])
		return broken
	})
	if !errors.Is(err, broken) {
		t.Fatalf("WriteFrom of a failing stream = %v, want its error", err)
	}
	if got := read(); got != data {
		t.Fatalf("after a failed write the file holds %d bytes, want the old %d", len(got), len(data))
	}
	if names := b.OutFiles(t); !reflect.DeepEqual(names, []string{"orders.xml"}) {
		t.Fatalf("the folder holds %q, want only orders.xml", names)
	}
	if _, err := b.Target.Open(ctx, "missing.xml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want not-exist", err)
	}
}
