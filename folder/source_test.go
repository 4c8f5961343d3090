package folder

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"obmin/internal/testenv"
)

func TestLocalDirList(t *testing.T) {
	root := t.TempDir()
	mod := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, rel := range []string{
		"import.xml",
		"webdata - 5c1e/import.xml",
		"webdata - 5c1e/OFFERS.XML",
		"webdata - 5c1e/orders-1d2e_1.xml",
		"webdata - 5c1e/import_files/ab/pic.jpg",
		"webdata - 5c1e/.import.xml.swp",
		"webdata - 5c1e/.hidden.xml",
		"webdata - 5c1e/offers.xml.tmp",
		"webdata - 5c1e/~$lock.xml",
		"webdata - 5c1e/notes.txt",
		".obmin/x.xml",
		"deep/er/Вивантаження 1.xml",
	} {
		testenv.WriteFile(t, root, rel, []byte("<a/>"), mod)
	}
	if runtime.GOOS != "windows" {
		outside := filepath.Join(t.TempDir(), "secret.xml")
		if err := os.WriteFile(outside, []byte("<a/>"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(root, "link.xml")); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LocalDir(root).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range got {
		paths = append(paths, f.Path)
		if f.Size != 4 || !f.ModTime.Equal(mod) {
			t.Errorf("%s: size %d mtime %s", f.Path, f.Size, f.ModTime)
		}
	}
	want := []string{
		"deep/er/Вивантаження 1.xml",
		"import.xml",
		"webdata - 5c1e/OFFERS.XML",
		"webdata - 5c1e/import.xml",
		"webdata - 5c1e/orders-1d2e_1.xml",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("List =\n%q\nwant\n%q", paths, want)
	}
}

func TestLocalDirListErrors(t *testing.T) {
	if _, err := LocalDir(filepath.Join(t.TempDir(), "missing")).List(context.Background()); err == nil {
		t.Error("List of a missing folder: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LocalDir(t.TempDir()).List(ctx); err == nil {
		t.Error("List with a cancelled context: no error")
	}
}

func TestLocalDirOpen(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "bas")
	testenv.WriteFile(t, root, "webdata/import.xml", []byte("каталог"), time.Now())
	testenv.WriteFile(t, base, "outside.xml", []byte("secret"), time.Now())
	if runtime.GOOS != "windows" {
		if err := os.Symlink(filepath.Join(base, "outside.xml"), filepath.Join(root, "link.xml")); err != nil {
			t.Fatal(err)
		}
	}
	src := LocalDir(root)
	tests := []struct {
		path string
		want string // "" means an error is expected
	}{
		{"webdata/import.xml", "каталог"},
		{"../outside.xml", ""},
		{"webdata/../../outside.xml", ""},
		{"/etc/passwd", ""},
		{filepath.Join(base, "outside.xml"), ""},
		{`webdata\..\..\outside.xml`, ""},
		{"C:/Windows/win.ini", ""},
		{"", ""},
		{".", ""},
		{"webdata/missing.xml", ""},
		{"link.xml", ""}, // a symbolic link out of the folder
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r, err := src.Open(context.Background(), tt.path)
			if tt.want == "" {
				if err == nil {
					r.Close()
					t.Fatalf("Open(%q): no error", tt.path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			b, err := io.ReadAll(r)
			if err != nil || string(b) != tt.want {
				t.Errorf("read %q %v, want %q", b, err, tt.want)
			}
		})
	}
	if s := src.String(); s != root {
		t.Errorf("String() = %q, want %q", s, root)
	}
}
