package safezip

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type zentry struct {
	name string
	body string
	mode fs.FileMode // 0 = plain file
	size int         // when >0, body is size zero bytes (compresses to almost nothing)
}

func writeZip(t *testing.T, entries []zentry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if e.size > 0 {
			chunk := make([]byte, 64<<10)
			for left := e.size; left > 0; left -= len(chunk) {
				if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
					t.Fatal(err)
				}
			}
		} else if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "in.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// listTree returns every path under dir (slash-separated), files and folders.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return nil
		}
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExtract(t *testing.T) {
	small := Limits{MaxFiles: 3, MaxTotal: 1000, MaxFile: 600}
	tests := []struct {
		name    string
		entries []zentry
		lim     Limits
		want    []string // returned paths; nil with wantErr
		wantErr error
	}{
		{"plain files and folders", []zentry{
			{name: "import.xml", body: "<a/>"},
			{name: "import_files/", mode: fs.ModeDir | 0o755},
			{name: "import_files/ab/photo.jpg", body: "jpg"},
			{name: `win\offers.xml`, body: "<b/>"},
			{name: "./rests.xml", body: "r"},
		}, Limits{MaxFiles: 4, MaxTotal: 100, MaxFile: 10}, []string{"import.xml", "import_files/ab/photo.jpg", "win/offers.xml", "rests.xml"}, nil},
		{"dot-dot", []zentry{{name: "ok.xml", body: "x"}, {name: "../x", body: "x"}}, small, nil, ErrUnsafe},
		{"dot-dot inside", []zentry{{name: "a/../../x", body: "x"}}, small, nil, ErrUnsafe},
		{"absolute", []zentry{{name: "/etc/passwd", body: "x"}}, small, nil, ErrUnsafe},
		{"drive letter", []zentry{{name: `C:\x`, body: "x"}}, small, nil, ErrUnsafe},
		{"backslash dot-dot", []zentry{{name: `..\x`, body: "x"}}, small, nil, ErrUnsafe},
		{"symlink", []zentry{{name: "link", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}}, small, nil, ErrUnsafe},
		{"duplicate", []zentry{{name: "a.xml", body: "1"}, {name: "a.xml", body: "2"}}, small, nil, ErrUnsafe},
		{"duplicate by case", []zentry{{name: "A.xml", body: "1"}, {name: "a.XML", body: "2"}}, small, nil, ErrUnsafe},
		{"too many files", []zentry{{name: "1", body: "1"}, {name: "2", body: "2"}, {name: "3", body: "3"}, {name: "4", body: "4"}}, small, nil, ErrLimit},
		{"folders do not count as files", []zentry{{name: "d1/", mode: fs.ModeDir}, {name: "d2/", mode: fs.ModeDir},
			{name: "d3/", mode: fs.ModeDir}, {name: "d1/a", body: "1"}}, small, []string{"d1/a"}, nil},
		{"one file too big", []zentry{{name: "big", size: 601}}, small, nil, ErrLimit},
		{"total too big", []zentry{{name: "a", size: 500}, {name: "b", size: 501}}, small, nil, ErrLimit},
		{"exactly at the limits", []zentry{{name: "a", size: 500}, {name: "b", size: 500}}, small, []string{"a", "b"}, nil},
		{"zip bomb", []zentry{{name: "bomb.xml", size: 8 << 20}}, Limits{MaxFiles: 1, MaxTotal: 1 << 20, MaxFile: 1 << 20}, nil, ErrLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zp := writeZip(t, tc.entries)
			dest := filepath.Join(t.TempDir(), "out")
			got, err := Extract(context.Background(), zp, dest, tc.lim)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), zp) {
					t.Errorf("error %q does not name the archive", err)
				}
				if left := listTree(t, dest); len(left) != 0 {
					t.Errorf("refused archive left %v in dest", left)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, rel := range got {
				if _, err := os.Stat(filepath.Join(dest, filepath.FromSlash(rel))); err != nil {
					t.Errorf("%s: %v", rel, err)
				}
			}
			for _, p := range listTree(t, dest) {
				if strings.Contains(p, ".unzip-") {
					t.Errorf("staging left behind: %s", p)
				}
			}
		})
	}
}

func TestExtractContent(t *testing.T) {
	zp := writeZip(t, []zentry{{name: "dir/import.xml", body: "<КоммерческаяИнформация/>"}})
	dest := t.TempDir()
	if _, err := Extract(context.Background(), zp, dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dest, "dir", "import.xml"))
	if err != nil || string(b) != "<КоммерческаяИнформация/>" {
		t.Fatalf("content %q, %v", b, err)
	}
}

func TestExtractCancelled(t *testing.T) {
	zp := writeZip(t, []zentry{{name: "a", body: "1"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Extract(ctx, zp, t.TempDir(), Limits{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestExtractNotZip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.zip")
	if err := os.WriteFile(p, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Extract(context.Background(), p, t.TempDir(), Limits{}); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v", err)
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "import.xml", want: "import.xml"},
		{in: `import_files\a1\b.jpg`, want: "import_files/a1/b.jpg"},
		{in: "./a//b", want: "a/b"},
		{in: "", want: ""},
		{in: "../a", bad: true},
		{in: `a\..\..\b`, bad: true},
		{in: "/tmp/x.xml", bad: true},
		{in: `\\server\share\x`, bad: true},
		{in: `C:\1C\import.xml`, bad: true},
		{in: "c:import.xml", bad: true},
		{in: "a\x00b", bad: true},
		{in: "name.", bad: true},
		{in: "a?.xml", bad: true},
	}
	for _, tc := range tests {
		got, err := CleanName(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrUnsafe) {
				t.Errorf("CleanName(%q) = %q, %v; want ErrUnsafe", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
