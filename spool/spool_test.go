package spool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"obmin/drop"
	"obmin/folder"
	"obmin/internal/golden"
	"obmin/internal/testenv"
)

// kyiv stands in for the machine's zone: a fixed +02:00, so results do not depend on where tests run.
var kyiv = time.FixedZone("EET", 2*60*60)

// testT0 is the tests' "now": 1 March 2025, 00:30 in Kyiv, still 28 February in UTC.
var testT0 = time.Date(2025, 3, 1, 0, 30, 0, 0, kyiv)

// testSpool opens a spool in a temporary folder with a fixed clock and zone.
func testSpool(t testing.TB) *Spool {
	t.Helper()
	s, err := OpenSpool(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return testT0.UTC() }
	s.loc = kyiv
	return s
}

// sourceOf writes files into a fresh source folder and returns it with the drop of folder dir.
func sourceOf(t testing.TB, dir string, files map[string]string, mod time.Time) (folder.Source, drop.Drop) {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		testenv.WriteFile(t, root, pathJoin(dir, name), []byte(content), mod)
	}
	src := folder.LocalDir(root)
	list, err := src.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return src, drop.Drop{Dir: dir, Files: list}
}

func pathJoin(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// dirTree lists every file under dir as "rel/path=content" lines, for comparisons.
func dirTree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case p == dir:
		case e.IsDir():
			out = append(out, rel+"/")
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, rel+"="+string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenSpool(t *testing.T) {
	root := filepath.Join(t.TempDir(), "spool")
	// What a crash leaves: a half-copied drop in tmp/, atomicfile.WriteFile temporaries.
	leftovers := map[string]string{
		"tmp/20250301-1/import.xml":        "<half",
		"tmp/stray.txt":                    "x",
		".status.txt.123456.tmp":           "x",
		"outbox/.orders.xml.987.tmp":       "x",
		"failed/.d1.error.txt.5.tmp":       "x",
		"outbox/orders.xml":                "keep",
		"inbox/d2/import.xml":              "keep",
		"failed/d1/import.xml":             "keep",
		"failed/d1.error.txt":              "keep",
		"done/2025-02-28/d0/import.xml":    "keep",
		"status.txt":                       "keep",
		"processing/d3/offers.xml":         "keep",
		"processing/d3/.not-ours.tmp":      "keep", // inside a drop: not touched
		"outbox/.obmin-looking-name.tmp/x": "keep", // a folder, not a temporary file
	}
	for rel, content := range leftovers {
		testenv.WriteFile(t, root, rel, []byte(content), time.Now())
	}
	s, err := OpenSpool(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"inbox", "processing", "done", "failed", "outbox", "tmp"} {
		if fi, err := os.Stat(s.Dir(name)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", name, err)
		}
	}
	got := dirTree(t, root)
	want := []string{
		"done/", "done/2025-02-28/", "done/2025-02-28/d0/", "done/2025-02-28/d0/import.xml=keep",
		"failed/", "failed/d1/", "failed/d1/import.xml=keep", "failed/d1.error.txt=keep",
		"inbox/", "inbox/d2/", "inbox/d2/import.xml=keep",
		"outbox/", "outbox/.obmin-looking-name.tmp/", "outbox/.obmin-looking-name.tmp/x=keep", "outbox/orders.xml=keep",
		"held/", "processing/", "processing/d3/", "processing/d3/.not-ours.tmp=keep", "processing/d3/offers.xml=keep",
		"status.txt=keep",
		"tmp/",
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after OpenSpool:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !filepath.IsAbs(s.Root) {
		t.Errorf("Root %q is not absolute", s.Root)
	}
	// Opening again is harmless.
	if _, err := OpenSpool(root); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSpoolErrors(t *testing.T) {
	if _, err := OpenSpool(""); err == nil {
		t.Error("empty root: no error")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSpool(file); err == nil {
		t.Error("root is a file: no error")
	}
}

func TestSpoolDirUnknownPanics(t *testing.T) {
	s := testSpool(t)
	defer func() {
		if recover() == nil {
			t.Error("Dir(\"../etc\") did not panic")
		}
	}()
	s.Dir("../etc")
}

// fingerprintOf is the documented fingerprint, computed independently of Ingest.
func fingerprintOf(files map[string]string) string {
	var lines []string
	for name, content := range files {
		sum := sha256.Sum256([]byte(content))
		lines = append(lines, fmt.Sprintf("%s\x00%d\x00%s\n", name, len(content), hex.EncodeToString(sum[:])))
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestIngest(t *testing.T) {
	export := map[string]string{
		"import.xml": "<КоммерческаяИнформация>каталог</КоммерческаяИнформация>",
		"offers.xml": "<КоммерческаяИнформация>пропозиції</КоммерческаяИнформация>",
	}
	changed := map[string]string{
		"import.xml": export["import.xml"],
		"offers.xml": "<КоммерческаяИнформация>нові ціни</КоммерческаяИнформация>",
	}
	t1 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		dir   string
		files map[string]string
		mod   time.Time
		same  bool // same fingerprint as the first case
	}{
		{name: "BAS export folder", dir: "webdata - 5c1e", files: export, mod: t1, same: true},
		{name: "same content, other mtime and folder", dir: "elsewhere/deeper", files: export, mod: t1.Add(time.Hour), same: true},
		{name: "same content at the root", dir: "", files: export, mod: t1, same: true},
		{name: "one file changed", dir: "webdata - 5c1e", files: changed, mod: t1},
		{name: "Cyrillic name with spaces", dir: "", files: map[string]string{"Вивантаження ї є ґ 1.xml": "<a/>"}, mod: t1},
	}
	first := fingerprintOf(export)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpool(t)
			src, d := sourceOf(t, tt.dir, tt.files, tt.mod)
			id := fmt.Sprintf("drop-%d", i)
			fp, err := s.Ingest(context.Background(), src, d, id)
			if err != nil {
				t.Fatal(err)
			}
			if want := fingerprintOf(tt.files); fp != want {
				t.Errorf("fingerprint %s, want %s", fp, want)
			}
			if (fp == first) != tt.same {
				t.Errorf("fingerprint equal to the first export's: %v, want %v", fp == first, tt.same)
			}
			var want []string
			for name, content := range tt.files {
				want = append(want, name+"="+content)
			}
			sort.Strings(want)
			if got := dirTree(t, filepath.Join(s.Dir("inbox"), id)); !reflect.DeepEqual(got, want) {
				t.Errorf("inbox/%s holds %q, want %q", id, got, want)
			}
			if got := dirTree(t, s.Dir("tmp")); len(got) != 0 {
				t.Errorf("tmp/ not empty: %q", got)
			}
			if ids, err := s.Pending(); err != nil || !reflect.DeepEqual(ids, []string{id}) {
				t.Errorf("Pending = %q, %v", ids, err)
			}
			// The source is only read.
			if got, err := src.List(context.Background()); err != nil || !reflect.DeepEqual(got, d.Files) {
				t.Errorf("source changed: %v %v", got, err)
			}
		})
	}
}

func TestIngestRejects(t *testing.T) {
	mod := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	file := func(p string) drop.File { return drop.File{Path: p, Size: 4, ModTime: mod} }
	tests := []struct {
		name    string
		id      string
		drop    drop.Drop
		wantErr string
	}{
		{name: "parent path", drop: drop.Drop{Files: []drop.File{file("../x.xml")}}, wantErr: "not a relative path"},
		{name: "parent path in a folder", drop: drop.Drop{Dir: "..", Files: []drop.File{file("../x.xml")}}, wantErr: "not a relative path"},
		{name: "absolute path", drop: drop.Drop{Dir: "/etc", Files: []drop.File{file("/etc/x.xml")}}, wantErr: "not a relative path"},
		{name: "backslash", drop: drop.Drop{Files: []drop.File{file(`a\..\x.xml`)}}, wantErr: "not a relative path"},
		{name: "drive letter", drop: drop.Drop{Files: []drop.File{file("C:x.xml")}}, wantErr: "not a relative path"},
		{name: "file outside the drop's folder", drop: drop.Drop{Dir: "a", Files: []drop.File{file("b/x.xml")}}, wantErr: "not directly in"},
		{name: "file in a subfolder", drop: drop.Drop{Dir: "a", Files: []drop.File{file("a/b/x.xml")}}, wantErr: "not directly in"},
		{name: "odd character", drop: drop.Drop{Files: []drop.File{file("import*.xml")}}, wantErr: "not allowed"},
		{name: "quote", drop: drop.Drop{Files: []drop.File{file(`im"port.xml`)}}, wantErr: "not allowed"},
		{name: "control character", drop: drop.Drop{Files: []drop.File{file("imp\x01ort.xml")}}, wantErr: "not allowed"},
		{name: "Latin-1 letter", drop: drop.Drop{Files: []drop.File{file("caf\u00e9.xml")}}, wantErr: "not allowed"},
		{name: "hidden name", drop: drop.Drop{Files: []drop.File{file(".import.xml")}}, wantErr: "starts with"},
		{name: "trailing dot", drop: drop.Drop{Files: []drop.File{file("import.xml.")}}, wantErr: "ends with"},
		{name: "Windows device name", drop: drop.Drop{Files: []drop.File{file("con.xml")}}, wantErr: "reserved"},
		{name: "Windows device name COM1", drop: drop.Drop{Files: []drop.File{file("COM1.xml")}}, wantErr: "reserved"},
		{name: "names equal ignoring case", drop: drop.Drop{Files: []drop.File{file("import.xml"), file("IMPORT.xml")}}, wantErr: "same name"},
		{name: "Cyrillic names equal ignoring case", drop: drop.Drop{Files: []drop.File{file("Ціни.xml"), file("ціни.xml")}}, wantErr: "same name"},
		{name: "same file twice", drop: drop.Drop{Files: []drop.File{file("import.xml"), file("import.xml")}}, wantErr: "same name"},
		{name: "no files", drop: drop.Drop{}, wantErr: "no files"},
		{name: "id with a path", id: "../escape", drop: drop.Drop{Files: []drop.File{file("import.xml")}}, wantErr: "drop id"},
		{name: "id with a separator", id: "a/b", drop: drop.Drop{Files: []drop.File{file("import.xml")}}, wantErr: "drop id"},
		{name: "empty id", id: "-", drop: drop.Drop{Files: []drop.File{file("import.xml")}}, wantErr: "drop id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpool(t)
			src := &countingSource{Source: folder.LocalDir(t.TempDir())}
			id := tt.id
			switch id {
			case "":
				id = "drop-1"
			case "-":
				id = ""
			}
			_, err := s.Ingest(context.Background(), src, tt.drop, id)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			// A fault of the drop is ErrBadDrop (the agent rejects it into failed/); a bad id is obmin's own.
			if bad := tt.id == ""; errors.Is(err, ErrBadDrop) != bad {
				t.Errorf("errors.Is(%v, ErrBadDrop) = %v, want %v", err, !bad, bad)
			}
			if src.opened != 0 {
				t.Errorf("opened %d files of a drop it rejects", src.opened)
			}
			assertEmpty(t, s, "inbox", "tmp")
		})
	}
}

// assertEmpty fails unless the named spool folders are empty.
func assertEmpty(t *testing.T, s *Spool, names ...string) {
	t.Helper()
	for _, name := range names {
		if got := dirTree(t, s.Dir(name)); len(got) != 0 {
			t.Errorf("%s/ holds %q", name, got)
		}
	}
}

// countingSource counts Open calls and can fail the n-th one (1-based).
type countingSource struct {
	folder.Source
	opened int
	failAt int
}

func (s *countingSource) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	s.opened++
	if s.opened == s.failAt {
		return nil, fmt.Errorf("open %s: connection reset", p)
	}
	return s.Source.Open(ctx, p)
}

func TestIngestIsAtomic(t *testing.T) {
	files := map[string]string{}
	for i := range 5 {
		files[fmt.Sprintf("import%d.xml", i)] = strings.Repeat("<x/>", 1000)
	}
	mod := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		prepare func(src *countingSource, d *drop.Drop, ctx *context.Context)
		wantErr string
	}{
		{
			name:    "source fails mid-drop",
			prepare: func(src *countingSource, d *drop.Drop, ctx *context.Context) { src.failAt = 3 },
			wantErr: "connection reset",
		},
		{
			name: "file grew after listing",
			prepare: func(src *countingSource, d *drop.Drop, ctx *context.Context) {
				d.Files[4].Size--
			},
			wantErr: "changed while it was copied",
		},
		{
			name: "file shrank after listing",
			prepare: func(src *countingSource, d *drop.Drop, ctx *context.Context) {
				d.Files[2].Size++
			},
			wantErr: "changed while it was copied",
		},
		{
			name: "file vanished",
			prepare: func(src *countingSource, d *drop.Drop, ctx *context.Context) {
				d.Files = append(d.Files, drop.File{Path: "gone.xml", Size: 1, ModTime: mod})
			},
			wantErr: "gone.xml",
		},
		{
			name: "cancelled",
			prepare: func(src *countingSource, d *drop.Drop, ctx *context.Context) {
				c, cancel := context.WithCancel(*ctx)
				cancel()
				*ctx = c
			},
			wantErr: "context canceled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpool(t)
			ls, d := sourceOf(t, "", files, mod)
			src := &countingSource{Source: ls}
			ctx := context.Background()
			tt.prepare(src, &d, &ctx)
			_, err := s.Ingest(ctx, src, d, "drop-1")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			assertEmpty(t, s, "inbox", "tmp")
			// The same id can be taken again once the source is well.
			_, d = sourceOf(t, "", files, mod)
			if _, err := s.Ingest(context.Background(), ls, d, "drop-1"); err != nil {
				t.Errorf("second try: %v", err)
			}
		})
	}
}

func TestIngestNeverOverwrites(t *testing.T) {
	s := testSpool(t)
	src, d := sourceOf(t, "", map[string]string{"import.xml": "<new/>"}, time.Now())
	testenv.WriteFile(t, s.Dir("inbox"), "drop-1/import.xml", []byte("<old/>"), time.Now())
	_, err := s.Ingest(context.Background(), src, d, "drop-1")
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("err = %v, want fs.ErrExist", err)
	}
	if got := dirTree(t, s.Dir("inbox")); !reflect.DeepEqual(got, []string{"drop-1/", "drop-1/import.xml=<old/>"}) {
		t.Errorf("inbox = %q", got)
	}
	assertEmpty(t, s, "tmp")
}

// ingested puts a drop with one file into inbox/ under id.
func ingested(t *testing.T, s *Spool, id string) {
	t.Helper()
	src, d := sourceOf(t, "", map[string]string{"import.xml": "<a>" + id + "</a>"}, time.Now())
	if _, err := s.Ingest(context.Background(), src, d, id); err != nil {
		t.Fatal(err)
	}
}

func TestClaimDoneFail(t *testing.T) {
	s := testSpool(t)
	ingested(t, s, "d1")
	ingested(t, s, "d2")
	ingested(t, s, "d3")

	dir, err := s.Claim("d1")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.Dir("processing"), "d1"); dir != want {
		t.Errorf("Claim dir %s, want %s", dir, want)
	}
	if got := dirTree(t, dir); !reflect.DeepEqual(got, []string{"import.xml=<a>d1</a>"}) {
		t.Errorf("processing/d1 = %q", got)
	}
	if ids, _ := s.InProcessing(); !reflect.DeepEqual(ids, []string{"d1"}) {
		t.Errorf("InProcessing = %q", ids)
	}

	// Kyiv's date, not UTC's (testT0 is still 28 February in UTC).
	dir, err = s.Done("d1")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.Dir("done"), "2025-03-01", "d1"); dir != want {
		t.Errorf("Done dir %s, want %s", dir, want)
	}

	if _, err := s.Claim("d2"); err != nil {
		t.Fatal(err)
	}
	reason := "offers.xml, рядок 17, елемент Предложение/Цены: ціна «12,5О» не є числом\nдругий рядок"
	dir, err = s.Fail("d2", reason)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.Dir("failed"), "d2"); dir != want {
		t.Errorf("Fail dir %s, want %s", dir, want)
	}
	note, err := os.ReadFile(filepath.Join(s.Dir("failed"), "d2.error.txt"))
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "spool_error.golden.txt"), note)

	// A drop that never left inbox/ can fail too.
	if _, err := s.Fail("d3", "not CommerceML"); err != nil {
		t.Fatal(err)
	}

	want := []string{
		"done/", "done/2025-03-01/", "done/2025-03-01/d1/", "done/2025-03-01/d1/import.xml=<a>d1</a>",
		"failed/", "failed/d2/", "failed/d2/import.xml=<a>d2</a>", "failed/d2.error.txt=" + string(note),
		"failed/d3/", "failed/d3/import.xml=<a>d3</a>", "failed/d3.error.txt=" + errorText(testT0, "d3", "not CommerceML"),
		"held/", "inbox/", "outbox/", "processing/", "tmp/",
	}
	got := dirTree(t, s.Root)
	sort.Strings(want)
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spool:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	counts, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"inbox": 0, "processing": 0, "done": 1, "failed": 2}; !reflect.DeepEqual(counts, want) {
		t.Errorf("Counts = %v, want %v", counts, want)
	}
}

func TestSpoolErrorText(t *testing.T) {
	text := errorText(testT0, "d9", "  рядок 1\r\nрядок 2\n")
	if !strings.HasPrefix(text, "\uFEFF") {
		t.Error("no BOM")
	}
	if strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\n") {
		t.Errorf("bare LF in %q", text)
	}
	for _, want := range []string{"01.03.2025 00:30:00", "d9", "рядок 1\r\nрядок 2\r\n"} { // Kyiv time, the one format staff read
		if !strings.Contains(text, want) {
			t.Errorf("%q lacks %q", text, want)
		}
	}
}

func TestSpoolMovesNeverOverwrite(t *testing.T) {
	tests := []struct {
		name   string
		occupy string // the destination that already exists, relative to the root
		move   func(s *Spool) error
		stays  string // where the drop must still be
	}{
		{"claim", "processing/d1/x", func(s *Spool) error { _, err := s.Claim("d1"); return err }, "inbox/d1"},
		{"done", "done/2025-03-01/d1/x", func(s *Spool) error {
			if _, err := s.Claim("d1"); err != nil {
				return err
			}
			_, err := s.Done("d1")
			return err
		}, "processing/d1"},
		{"fail: folder", "failed/d1/x", func(s *Spool) error { _, err := s.Fail("d1", "r"); return err }, "inbox/d1"},
		{"fail: reason file", "failed/d1.error.txt", func(s *Spool) error { _, err := s.Fail("d1", "r"); return err }, "inbox/d1"},
		// Even an empty folder is never replaced (POSIX rename would replace it silently).
		{"claim onto an empty folder", "processing/d1/", func(s *Spool) error { _, err := s.Claim("d1"); return err }, "inbox/d1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpool(t)
			ingested(t, s, "d1")
			occupied := filepath.Join(s.Root, filepath.FromSlash(tt.occupy))
			if strings.HasSuffix(tt.occupy, "/") {
				if err := os.MkdirAll(occupied, 0o755); err != nil {
					t.Fatal(err)
				}
			} else {
				testenv.WriteFile(t, s.Root, tt.occupy, []byte("someone else's"), time.Now())
			}
			err := tt.move(s)
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("err = %v, want fs.ErrExist", err)
			}
			if got := dirTree(t, filepath.Join(s.Root, tt.stays)); !reflect.DeepEqual(got, []string{"import.xml=<a>d1</a>"}) {
				t.Errorf("%s = %q", tt.stays, got)
			}
			if !strings.HasSuffix(tt.occupy, "/") {
				if b, err := os.ReadFile(occupied); err != nil || string(b) != "someone else's" {
					t.Errorf("%s overwritten: %q %v", tt.occupy, b, err)
				}
			}
		})
	}
}

func TestSpoolMissingAndBadIDs(t *testing.T) {
	s := testSpool(t)
	if _, err := s.Claim("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Claim missing: %v", err)
	}
	if _, err := s.Done("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Done missing: %v", err)
	}
	if _, err := s.Fail("nope", "r"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Fail missing: %v", err)
	}
	if err := s.Discard("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Discard missing: %v", err)
	}
	for _, id := range []string{"", "..", "../inbox", "a/b", `a\b`} {
		if _, err := s.Claim(id); err == nil {
			t.Errorf("Claim(%q): no error", id)
		}
		if _, err := s.Done(id); err == nil {
			t.Errorf("Done(%q): no error", id)
		}
		if _, err := s.Fail(id, "r"); err == nil {
			t.Errorf("Fail(%q): no error", id)
		}
		if err := s.Discard(id); err == nil {
			t.Errorf("Discard(%q): no error", id)
		}
	}
	assertEmpty(t, s, "failed", "done")
}

func TestDiscard(t *testing.T) {
	s := testSpool(t)
	ingested(t, s, "dup")
	ingested(t, s, "other")
	if err := s.Discard("dup"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.Pending(); !reflect.DeepEqual(ids, []string{"other"}) {
		t.Errorf("Pending = %q", ids)
	}
	if err := s.Discard("dup"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Discard: %v", err)
	}
	// A copy still in tmp/ (the caller decided before the rename) goes too.
	testenv.WriteFile(t, s.Dir("tmp"), "half/import.xml", []byte("x"), time.Now())
	if err := s.Discard("half"); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, s, "tmp")
}

func TestPendingOrder(t *testing.T) {
	s := testSpool(t)
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, d := range []struct {
		id  string
		mod time.Time
	}{
		{"c", base}, {"a", base.Add(2 * time.Minute)}, {"b", base}, {"z", base.Add(-time.Hour)},
	} {
		p := filepath.Join(s.Dir("inbox"), d.id)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, d.mod, d.mod); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WriteFile(t, s.Dir("inbox"), "stray.txt", nil, base)
	if err := os.Mkdir(filepath.Join(s.Dir("inbox"), ".hidden"), 0o755); err != nil {
		t.Fatal(err)
	}
	ids, err := s.Pending()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"z", "b", "c", "a"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("Pending = %q, want %q", ids, want)
	}
	if ids, err := s.InProcessing(); err != nil || len(ids) != 0 {
		t.Errorf("InProcessing = %q, %v", ids, err)
	}
}

func TestRetain(t *testing.T) {
	s := testSpool(t) // now: 2025-03-01 00:30 Kyiv
	for _, rel := range []string{
		"done/2025-01-15/a/import.xml",
		"done/2025-02-26/b/import.xml",
		"done/2025-02-27/c/import.xml",
		"done/2025-02-28/d/import.xml",
		"done/2025-03-01/e/import.xml",
		"done/notes/x.txt",
		"done/2025-2-1/f/import.xml",
		"done/2025-02-20.txt",
		"failed/2025-01-01/g/import.xml",
		"failed/old/import.xml",
	} {
		testenv.WriteFile(t, s.Root, rel, []byte("x"), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	// keep 2 days: the cutoff is 2025-02-27 00:30, so days that ended by then go.
	removed, err := s.Retain(context.Background(), 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 2 {
		t.Errorf("removed %d date folders, want 2", removed)
	}
	days := testenv.DirNames(t, s.Dir("done"))
	want := []string{"2025-02-20.txt", "2025-02-27", "2025-02-28", "2025-03-01", "2025-2-1", "notes"}
	if !reflect.DeepEqual(days, want) {
		t.Errorf("done/ holds %q, want %q", days, want)
	}
	if got := dirTree(t, s.Dir("failed")); len(got) != 5 {
		t.Errorf("failed/ touched: %q", got)
	}

	if _, err := s.Retain(context.Background(), 0); err == nil {
		t.Error("keep 0: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Retain(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestCountsEmpty(t *testing.T) {
	s := testSpool(t)
	counts, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"inbox": 0, "processing": 0, "done": 0, "failed": 0}; !reflect.DeepEqual(counts, want) {
		t.Errorf("Counts = %v", counts)
	}
}

// BenchmarkIngest copies a 200-file export of about 3 MB into the spool (copy, SHA-256, fsync per file,
// rename) and discards it again.
func BenchmarkIngest(b *testing.B) {
	root := b.TempDir()
	mod := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	total := benchExport(b, root, "webdata - 5c1e", 200, 16<<10, mod)
	src := folder.LocalDir(root)
	files, err := src.List(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	d := drop.Drop{Dir: "webdata - 5c1e", Files: files}
	s := testSpool(b)
	b.SetBytes(total)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("bench-%d", i)
		if _, err := s.Ingest(context.Background(), src, d, id); err != nil {
			b.Fatal(err)
		}
		if err := s.Discard(id); err != nil {
			b.Fatal(err)
		}
	}
}

// benchExport writes an export of n CommerceML files of about size bytes into root/dir.
func benchExport(b *testing.B, root, dir string, n, size int, mod time.Time) int64 {
	b.Helper()
	var total int64
	body := strings.Repeat("<Товар><Ид>1</Ид></Товар>\r\n", size/40)
	for i := range n {
		content := "<КоммерческаяИнформация>" + fmt.Sprintf("<Каталог><Ид>%d</Ид>%s</Каталог>", i, body) + "</КоммерческаяИнформация>\r\n"
		testenv.WriteFile(b, root, fmt.Sprintf("%s/import%d.xml", dir, i), []byte(content), mod)
		total += int64(len(content))
	}
	return total
}
