package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"obmin/drop"
	"obmin/folder"
	"obmin/internal/testenv"
	"obmin/spool"
)

const watchHead = "\uFEFF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n" +
	"<КоммерческаяИнформация xmlns=\"urn:1C.ru:commerceml_210\" ВерсияСхемы=\"2.08\" ДатаФормирования=\"2025-03-01T10:00:00\">\r\n"

// watchCML is a whole CommerceML document as BAS writes it; watchPartial is one BAS has not finished.
func watchCML(body string) string {
	return watchHead + body + "\r\n</КоммерческаяИнформация>\r\n"
}
func watchPartial(body string) string {
	return watchHead + body
}

func watchCP1251(t testing.TB, s string) string {
	t.Helper()
	b, err := charmap.Windows1251.NewEncoder().String(strings.TrimPrefix(strings.Replace(s, "UTF-8", "windows-1251", 1), "\uFEFF"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// watchFixture is a BAS export folder, a fake clock and a Watcher of that folder.
type watchFixture struct {
	root  string
	clock *testenv.Clock
	w     *Watcher
}

func newWatchFixture(t testing.TB) *watchFixture {
	t.Helper()
	f := &watchFixture{root: t.TempDir(), clock: testenv.NewClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))}
	w, err := New(Config{Source: folder.LocalDir(f.root), MinAge: 2 * time.Second, Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.w = w
	return f
}

// watchDrops renders drops as "folder:files" for comparison.
func watchDrops(drops []drop.Drop) []string {
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

func TestWatcherScan(t *testing.T) {
	full := watchCML("<Каталог><Товар><Ид>1</Ид></Товар></Каталог>")
	fuller := watchCML("<Каталог><Товар><Ид>1</Ид></Товар><Товар><Ид>2</Ид></Товар></Каталог>")
	type step struct {
		write  map[string]string // written with mtime = the clock's now + skew, before the clock moves
		skew   time.Duration
		remove []string
		after  time.Duration // then the clock moves on by this and Scan runs
		want   []string      // "folder:files" of the drops Scan returns
	}
	const w = "webdata - 5c1e"
	s := 3 * time.Second // more than MinAge
	tests := []struct {
		name  string
		steps []step
	}{
		{"a complete export is returned at the second scan, once", []step{
			{write: map[string]string{w + "/import.xml": full, w + "/offers.xml": full}, after: s},
			{after: s, want: []string{w + ":2"}},
			{after: s},
			{after: time.Hour},
		}},
		{"slow writer: a growing file is not complete", []step{
			{write: map[string]string{w + "/import.xml": watchPartial("<Каталог>")}, after: time.Second},
			{write: map[string]string{w + "/import.xml": watchPartial("<Каталог><Товар><Ид>1</Ид>")}, after: s},
			{write: map[string]string{w + "/import.xml": full}, after: time.Second},
			{after: s, want: []string{w + ":1"}},
		}},
		{"a young file waits for the minimum age", []step{
			{write: map[string]string{w + "/import.xml": full}, after: 500 * time.Millisecond},
			{after: 500 * time.Millisecond},
			{after: 500 * time.Millisecond},
			{after: 500 * time.Millisecond, want: []string{w + ":1"}},
		}},
		{"zero-length file created first, filled later", []step{
			{write: map[string]string{w + "/import.xml": ""}, after: s},
			{after: s},
			{write: map[string]string{w + "/import.xml": full}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"an empty file unchanged for GiveUpAfter: given up", []step{
			{write: map[string]string{w + "/import.xml": ""}, after: s},
			{after: s},
			{after: 4 * time.Minute},
			{after: time.Minute, want: []string{w + ":1 given up"}},
			{after: time.Hour},
			{write: map[string]string{w + "/import.xml": full}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"one empty file holds back the whole drop", []step{
			{write: map[string]string{w + "/import.xml": full, w + "/offers.xml": ""}, after: s},
			{after: s},
			{write: map[string]string{w + "/offers.xml": full}, after: s},
			{after: s, want: []string{w + ":2"}},
		}},
		{"no closing tag: waited for, given up after GiveUpAfter without a change", []step{
			{write: map[string]string{w + "/import.xml": watchPartial("<Каталог><Товар><Ид>1</Ид></Товар>")}, after: s},
			{after: s},
			{after: 4 * time.Minute},
			{after: time.Minute, want: []string{w + ":1 given up"}},
			{after: time.Hour},
		}},
		{"a change restarts the bound", []step{
			{write: map[string]string{w + "/import.xml": watchPartial("<Каталог>")}, after: 4 * time.Minute},
			{write: map[string]string{w + "/import.xml": watchPartial("<Каталог><Товар>")}, after: 2 * time.Minute},
			{after: 2 * time.Minute},
			{after: 2 * time.Minute, want: []string{w + ":1 given up"}},
		}},
		{"one unfinished file holds back the whole drop, and fails it", []step{
			{write: map[string]string{w + "/import.xml": full, w + "/offers.xml": watchPartial("<Пакет")}, after: s},
			{after: s},
			{after: 5 * time.Minute, want: []string{w + ":2 given up"}},
		}},
		{"a comment after the root element: whole", []step{
			{write: map[string]string{w + "/import.xml": full + "<!-- вивантажено з BAS -->\r\n"}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"processing instructions and white space after the root: whole", []step{
			{write: map[string]string{w + "/import.xml": full + "<?obmin done?>\r\n  <!-- x -->\t\r\n"}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"not XML: given up as soon as it settles", []step{
			{write: map[string]string{w + "/import.xml": "Звіт про вивантаження: помилка 42\r\n"}, after: s},
			{after: s, want: []string{w + ":1 given up"}},
		}},
		{"a copy not filled yet (zeros) waits", []step{
			{write: map[string]string{w + "/import.xml": "\x00\x00\x00\x00"}, after: s},
			{after: s},
			{write: map[string]string{w + "/import.xml": full}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"an inner end tag at the end is not the root's", []step{
			{write: map[string]string{w + "/import.xml": watchPartial("<Каталог><Товар><Ид>1</Ид></Товар>\r\n")}, after: s},
			{after: s},
		}},
		{"windows-1251 file with its closing tag", []step{
			{write: map[string]string{w + "/orders.xml": watchCP1251(t, full)}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"windows-1251 file without its closing tag", []step{
			{write: map[string]string{w + "/orders.xml": watchCP1251(t, watchPartial("<Документ>"))}, after: s},
			{after: s},
		}},
		{"a file whose root is not CommerceML", []step{
			{write: map[string]string{"import.xml": "<?xml version=\"1.0\"?>\n<Документы><Документ/></Документы>\n"}, after: s},
			{after: s, want: []string{":1"}},
		}},
		{"two drop folders and the root", []step{
			{write: map[string]string{"a/import.xml": full, "b/offers.xml": full, "b/import.xml": full, "import.xml": full}, after: s},
			{after: s, want: []string{":1", "a:1", "b:2"}},
		}},
		{"one folder waits while the other is ready", []step{
			{write: map[string]string{"a/import.xml": full, "b/import.xml": full}, after: s},
			{write: map[string]string{"b/import.xml": fuller}, after: s, want: []string{"a:1"}},
			{after: s, want: []string{"b:1"}},
		}},
		{"a changed drop is offered again", []step{
			{write: map[string]string{w + "/import.xml": full, w + "/offers.xml": full}, after: s},
			{after: s, want: []string{w + ":2"}},
			{write: map[string]string{w + "/offers.xml": fuller}, after: s},
			{after: s, want: []string{w + ":2"}},
			{after: s},
		}},
		{"the same bytes written again are a new export", []step{
			{write: map[string]string{w + "/import.xml": full}, after: s},
			{after: s, want: []string{w + ":1"}},
			{write: map[string]string{w + "/import.xml": full}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"what is left while BAS empties the folder is not offered", []step{
			{write: map[string]string{w + "/import.xml": full, w + "/offers.xml": full}, after: s},
			{after: s, want: []string{w + ":2"}},
			{remove: []string{w + "/import.xml"}, after: s},
			{after: s},
			{remove: []string{w + "/offers.xml"}, after: s},
			{write: map[string]string{w + "/import.xml": fuller}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"a file that joins a taken drop makes a new drop", []step{
			{write: map[string]string{w + "/import.xml": full}, after: s},
			{after: s, want: []string{w + ":1"}},
			{write: map[string]string{w + "/offers.xml": full}, after: s},
			{after: s, want: []string{w + ":2"}},
		}},
		{"a file that goes away resets the folder", []step{
			{write: map[string]string{w + "/import.xml": full, w + "/offers.xml": watchPartial("")}, after: s},
			{remove: []string{w + "/offers.xml"}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"pictures in import_files are not part of the drop", []step{
			{write: map[string]string{w + "/import.xml": full, w + "/import_files/ab/x.xml": "<half", w + "/Import_Files/y.xml": ""}, after: s},
			{after: s, want: []string{w + ":1"}},
		}},
		{"a share's clock ahead: unchanged for MinAge is enough", []step{
			{write: map[string]string{w + "/import.xml": full}, skew: time.Hour, after: time.Second},
			{after: time.Second},
			{after: time.Second, want: []string{w + ":1"}},
		}},
		{"a share's clock ahead: a file still being written waits", []step{
			{write: map[string]string{w + "/import.xml": watchPartial("<a>")}, skew: time.Hour, after: time.Second},
			{write: map[string]string{w + "/import.xml": full}, skew: time.Hour, after: s},
			{after: time.Second},
			{after: time.Second, want: []string{w + ":1"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newWatchFixture(t)
			for i, st := range tt.steps {
				for p, content := range st.write {
					testenv.WriteFile(t, f.root, p, []byte(content), f.clock.Now().Add(st.skew))
				}
				for _, p := range st.remove {
					if err := os.Remove(filepath.Join(f.root, filepath.FromSlash(p))); err != nil {
						t.Fatal(err)
					}
				}
				f.clock.Add(st.after)
				drops, err := f.w.Scan(context.Background())
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if got := watchDrops(drops); !reflect.DeepEqual(got, st.want) {
					t.Fatalf("step %d: Scan = %q, want %q", i, got, st.want)
				}
			}
		})
	}
}

func TestWatcherDropFiles(t *testing.T) {
	f := newWatchFixture(t)
	mod := f.clock.Now()
	testenv.WriteFile(t, f.root, "w/offers.xml", []byte(watchCML("")), mod)
	testenv.WriteFile(t, f.root, "w/import.xml", []byte(watchCML("<Каталог/>")), mod)
	f.w.Scan(context.Background())
	f.clock.Add(time.Minute)
	drops, err := f.w.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []drop.Drop{{Dir: "w", Files: []drop.File{
		{Path: "w/import.xml", Size: int64(len(watchCML("<Каталог/>"))), ModTime: mod},
		{Path: "w/offers.xml", Size: int64(len(watchCML(""))), ModTime: mod},
	}}}
	for i := range drops[0].Files {
		drops[0].Files[i].ModTime = drops[0].Files[i].ModTime.UTC()
	}
	if !reflect.DeepEqual(drops, want) {
		t.Errorf("Scan = %+v\nwant %+v", drops, want)
	}
}

func TestWatcherForget(t *testing.T) {
	f := newWatchFixture(t)
	testenv.WriteFile(t, f.root, "w/import.xml", []byte(watchCML("")), f.clock.Now())
	scan := func() []drop.Drop {
		t.Helper()
		f.clock.Add(3 * time.Second)
		drops, err := f.w.Scan(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return drops
	}
	scan()
	first := scan()
	if len(first) != 1 {
		t.Fatalf("drops = %v", first)
	}
	if d := scan(); len(d) != 0 {
		t.Fatalf("offered twice: %v", d)
	}
	f.w.Forget(first[0])
	if d := scan(); !reflect.DeepEqual(d, first) {
		t.Fatalf("after Forget: %v, want %v", d, first)
	}

	// Forgetting an older version of the folder does not bring back the newer one.
	testenv.WriteFile(t, f.root, "w/import.xml", []byte(watchCML("<Каталог/>")), f.clock.Now())
	scan()
	second := scan()
	if len(second) != 1 {
		t.Fatalf("changed drop: %v", second)
	}
	f.w.Forget(first[0])
	if d := scan(); len(d) != 0 {
		t.Errorf("a stale Forget re-offered %v", d)
	}
}

// watchSource wraps a Source to hide io.Seeker from what Open returns, or to fail Open.
type watchSource struct {
	folder.Source
	noSeek bool
	mu     sync.Mutex
	fail   error
}

func (s *watchSource) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	r, err := s.Source.Open(ctx, p)
	if err != nil || !s.noSeek {
		return r, err
	}
	return struct {
		io.Reader
		io.Closer
	}{r, r}, nil
}

func TestWatcherLargeFiles(t *testing.T) {
	var body strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&body, "<Товар><Ид>%d</Ид><Наименование>Книга %d</Наименование></Товар>\r\n", i, i)
	}
	tests := []struct {
		name    string
		noSeek  bool
		content string
		want    bool
	}{
		{"seekable, closed", false, watchCML(body.String()), true},
		{"seekable, not closed", false, watchPartial(body.String()), false},
		{"stream, closed", true, watchCML(body.String()), true},
		{"stream, not closed", true, watchPartial(body.String()), false},
		{"just over one window", true, watchCML(strings.Repeat(" ", drop.Window)), true},
		{"just over two windows", false, watchCML(strings.Repeat(" ", 2*drop.Window)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			clock := testenv.NewClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
			src := &watchSource{Source: folder.LocalDir(root), noSeek: tt.noSeek}
			w, err := New(Config{Source: src, Clock: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			testenv.WriteFile(t, root, "w/import.xml", []byte(tt.content), clock.Now())
			w.Scan(context.Background())
			clock.Add(time.Minute)
			drops, err := w.Scan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := len(drops) == 1; got != tt.want {
				t.Errorf("complete = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWatcherUnreadableFileIsRetried(t *testing.T) {
	root := t.TempDir()
	clock := testenv.NewClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
	src := &watchSource{Source: folder.LocalDir(root), fail: errors.New("The process cannot access the file because it is being used by another process.")}
	w, err := New(Config{Source: src, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, root, "w/import.xml", []byte(watchCML("")), clock.Now())
	for range 3 {
		clock.Add(time.Minute)
		if drops, err := w.Scan(context.Background()); err != nil || len(drops) != 0 {
			t.Fatalf("Scan with the file locked = %v, %v", drops, err)
		}
	}
	src.mu.Lock()
	src.fail = nil
	src.mu.Unlock()
	clock.Add(time.Minute)
	if drops, err := w.Scan(context.Background()); err != nil || len(drops) != 1 {
		t.Fatalf("Scan once readable = %v, %v", drops, err)
	}
}

func TestWatcherFileGrewAfterListing(t *testing.T) {
	root := t.TempDir()
	clock := testenv.NewClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
	w, err := New(Config{Source: folder.LocalDir(root), Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	content := watchCML("")
	f := drop.File{Path: "import.xml", Size: int64(len(content)) - 10}
	testenv.WriteFile(t, root, f.Path, []byte(content), clock.Now())
	readClosedOf := func(f drop.File) error {
		r, err := w.cfg.Source.Open(context.Background(), f.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		_, err = drop.JudgeFile(r, f)
		return err
	}
	if err := readClosedOf(f); err == nil || !strings.Contains(err.Error(), "grew") {
		t.Errorf("JudgeFile of a file longer than listed: %v", err)
	}
	f.Size += 20
	if err := readClosedOf(f); err == nil {
		t.Error("JudgeFile of a file shorter than listed: no error")
	}
}

func TestWatcherListError(t *testing.T) {
	w, err := New(Config{Source: folder.LocalDir(filepath.Join(t.TempDir(), "missing"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Scan(context.Background()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Scan of a missing folder: %v", err)
	}
}

func TestNewWatcher(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no source: no error")
	}
	if _, err := New(Config{Source: folder.LocalDir("."), Interval: -time.Second}); err == nil {
		t.Error("negative interval: no error")
	}
	w, err := New(Config{Source: folder.LocalDir(".")})
	if err != nil {
		t.Fatal(err)
	}
	if w.cfg.Interval != 2*time.Second || w.cfg.MinAge != 2*time.Second || w.cfg.Clock == nil || w.log == nil {
		t.Errorf("defaults: %+v", w.cfg)
	}
}

// TestWatcherDropOf200Files takes a 200-file export from BAS's folder into the spool.
func TestWatcherDropOf200Files(t *testing.T) {
	f := newWatchFixture(t)
	const n = 200
	const dir = "webdata - 5c1e"
	for i := range n {
		name := fmt.Sprintf("import%d.xml", i)
		if i == 0 {
			name = "import.xml"
		}
		testenv.WriteFile(t, f.root, dir+"/"+name, []byte(watchCML(fmt.Sprintf("<Каталог><Ид>%d</Ид></Каталог>", i))), f.clock.Now())
	}
	f.w.Scan(context.Background())
	f.clock.Add(time.Minute)
	drops, err := f.w.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := watchDrops(drops); !reflect.DeepEqual(got, []string{dir + ":200"}) {
		t.Fatalf("Scan = %q", got)
	}
	s, err := spool.OpenSpool(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := s.Ingest(context.Background(), f.w.cfg.Source, drops[0], "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 64 {
		t.Errorf("fingerprint %q", fp)
	}
	if names, err := os.ReadDir(filepath.Join(s.Dir("inbox"), "big")); err != nil || len(names) != n {
		t.Errorf("inbox/big holds %d files (%v), want %d", len(names), err, n)
	}
}

// watchBenchExport writes an export of n files of about size bytes each into root/dir.
func watchBenchExport(b *testing.B, root, dir string, n, size int, mod time.Time) int64 {
	b.Helper()
	var total int64
	body := strings.Repeat("<Товар><Ид>1</Ид></Товар>\r\n", size/40)
	for i := range n {
		content := watchCML(fmt.Sprintf("<Каталог><Ид>%d</Ид>%s</Каталог>", i, body))
		testenv.WriteFile(b, root, fmt.Sprintf("%s/import%d.xml", dir, i), []byte(content), mod)
		total += int64(len(content))
	}
	return total
}

// BenchmarkWatcherScan measures one Scan of BAS's folder holding a 200-file export: "steady" is the
// common case (the export was taken already: a listing and a comparison), "judge" the scan that finds it
// complete (closing-tag reads of every file).
func BenchmarkWatcherScan(b *testing.B) {
	root := b.TempDir()
	mod := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	watchBenchExport(b, root, "webdata - 5c1e", 200, 16<<10, mod)
	clock := testenv.NewClock(mod.Add(time.Hour))
	newScanned := func() *Watcher {
		w, err := New(Config{Source: folder.LocalDir(root), Clock: clock.Now})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Scan(context.Background()); err != nil {
			b.Fatal(err)
		}
		return w
	}
	b.Run("steady", func(b *testing.B) {
		w := newScanned()
		if drops, _ := w.Scan(context.Background()); len(drops) != 1 {
			b.Fatalf("drops = %v", drops)
		}
		b.ReportAllocs()
		for b.Loop() {
			if drops, err := w.Scan(context.Background()); err != nil || len(drops) != 0 {
				b.Fatalf("Scan = %v, %v", drops, err)
			}
		}
	})
	b.Run("judge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			w := newScanned()
			b.StartTimer()
			if drops, err := w.Scan(context.Background()); err != nil || len(drops) != 1 {
				b.Fatalf("Scan = %v, %v", drops, err)
			}
		}
	})
}
