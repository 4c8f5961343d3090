package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"obmin/internal/gen/threeway/readers"
)

// TestEveryMethod runs the program as scripts/bench does: generate once, read with each method.
func TestEveryMethod(t *testing.T) {
	for _, kind := range []string{"catalog", "offers"} {
		path := filepath.Join(t.TempDir(), kind+".xml")
		if err := run([]string{"-write", path, "-n", "300", "-kind", kind}, nil); err != nil {
			t.Fatal(err)
		}
		for _, m := range readers.Methods {
			t.Run(kind+"/"+m.Name, func(t *testing.T) {
				var out bytes.Buffer
				if err := run([]string{"-method", m.Name, "-file", path, "-n", "300", "-kind", kind}, &out); err != nil {
					t.Fatal(err)
				}
				rss := `[0-9.]+`
				if runtime.GOOS != "linux" {
					rss = "n/a"
				}
				want := regexp.MustCompile(`^method=` + m.Name + ` kind=` + kind + ` n=300 bytes=[0-9]+ seconds=[0-9.]+ mb_s=[0-9.]+ goods_s=[0-9]+ peak_rss_mib=` + rss + "\n$")
				if !want.MatchString(out.String()) {
					t.Errorf("output %q does not match %s", out.String(), want)
				}
			})
		}
	}
}

func TestErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "import.xml")
	if err := run([]string{"-write", path, "-n", "10"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-method", "sax", "-file", path, "-n", "10"}, `unknown method "sax"`},
		{[]string{"-method", "obmin", "-file", path, "-n", "11"}, "read 10 goods"},
		{[]string{"-method", "obmin", "-file", path + ".missing"}, "no such file"},
		{[]string{"-write", path, "-kind", "orders"}, `-kind "orders"`},
	} {
		err := run(tc.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestTemporaryFile: without -file the program generates its own input and removes it.
func TestTemporaryFile(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-method", "token", "-n", "20"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "method=token kind=catalog n=20 ") {
		t.Errorf("output %q", out.String())
	}
}
