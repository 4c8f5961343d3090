package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspectExitCodes: 0 when every file is read, 1 when one is refused or broken (after listing
// everything) or there is nothing to inspect, 2 for a mistake in the command line. What inspect says is
// tested in exchange (inspect_test.go).
func TestInspectExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "import.xml")
	if err := os.WriteFile(good, []byte(`<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08"><Каталог><Ид>c1</Ид><Товары>
<Товар><Ид>b1</Ид><Артикул>A-1</Артикул><Наименование>Кобзар</Наименование></Товар>
</Товары></Каталог></КоммерческаяИнформация>
`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "notes.xml")
	if err := os.WriteFile(bad, []byte("not XML\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	cases := []struct {
		name    string
		args    []string
		code    int    // 0 for no error
		out     string // in stdout
		errText string // in the error
	}{
		{"read", []string{good}, 0, "status    read", ""},
		{"json", []string{"-json", good}, 0, `"totals": {"files":1,"read":1,"refused":0,"broken":0}`, ""},
		{"refused", []string{good, bad}, 1, "2 files: 1 read, 1 refused, 0 broken", "1 of 2 files refused or broken"},
		{"nothing", []string{empty}, 1, "", "nothing to inspect"},
		{"no path", nil, 2, "", "one or more PATHs"},
		{"bad flag", []string{"-problems", "-1", good}, 2, "", "-problems must be 0 or more"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCmd(t, nil, append([]string{"inspect"}, tc.args...)...)
			switch {
			case tc.code == 0 && err != nil:
				t.Fatalf("err %v\n%s", err, out)
			case tc.code != 0 && (err == nil || exitCode(err) != tc.code):
				t.Fatalf("err %v, want exit code %d\n%s", err, tc.code, out)
			case tc.code != 0 && !strings.Contains(err.Error(), tc.errText):
				t.Errorf("error %q lacks %q", err, tc.errText)
			}
			if !strings.Contains(out, tc.out) {
				t.Errorf("output lacks %q:\n%s", tc.out, out)
			}
		})
	}
}
